//! Side-by-side verification throughput that is robust to a noisy machine, plus loops to
//! profile.
//!
//! ```text
//! cargo run --release -p kss-attest --example verify_loop -- both [N]   # interleaved comparison
//! cargo run --release -p kss-attest --example verify_loop -- kss|warm|qvl [N]   # one loop (perf)
//! ```
//!
//! `both` alternates batches of 50 verifications of the phala SGX quote (at 1752919277, where
//! both verifiers accept it) by dcap-qvl 0.7.1, a cold kss `Verifier` (new each time) and a warm
//! one, so all three see the same machine conditions, and reports each one's median batch.
//! Criterion (`cargo bench -p kss-attest --bench verify`) runs the groups one after another, so
//! a machine that slows down during one group skews its ratios; this does not.

use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::Verifier;
use std::time::Instant;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
const AT: u64 = 1_752_919_277;
const BATCH: u32 = 50;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Median of per-verification times (µs).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs `f` `BATCH` times; returns µs per call.
fn batch(mut f: impl FnMut() -> bool) -> f64 {
    let t = Instant::now();
    for _ in 0..BATCH {
        assert!(f(), "verification must accept");
    }
    t.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("both");
    let n: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4000);
    let quote = read("phala-dcap-qvl/sgx_quote");
    let json = read("phala-dcap-qvl/sgx_quote_collateral.json");
    let qvl: dcap_qvl::QuoteCollateralV3 = serde_json::from_slice(&json).expect("collateral");
    let col = Collateral::from_dcap_qvl_json(&json, "phala").expect("collateral");
    let policy = Policy::default().with_accepted_tcb_statuses(vec![
        TcbStatus::UpToDate,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
    ]);
    let warm = Verifier::new(policy.clone());
    let mut run_qvl = || dcap_qvl::verify::verify(&quote, &qvl, AT).is_ok();
    let mut run_cold = || {
        Verifier::new(policy.clone())
            .verify(&quote, &col, AT)
            .accepted
    };
    let mut run_warm = || warm.verify(&quote, &col, AT).accepted;

    if which == "both" {
        let (mut q, mut c, mut w) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..(n / BATCH).max(1) {
            q.push(batch(&mut run_qvl));
            c.push(batch(&mut run_cold));
            w.push(batch(&mut run_warm));
        }
        let (q, c, w) = (median(q), median(c), median(w));
        println!(
            "median of {} interleaved batches of {BATCH}:",
            (n / BATCH).max(1)
        );
        println!(
            "  dcap-qvl 0.7.1  {q:8.1} µs  {:6.0} verifications/s",
            1e6 / q
        );
        println!(
            "  kss cold        {c:8.1} µs  {:6.0} verifications/s  {:.2}x dcap-qvl",
            1e6 / c,
            q / c
        );
        println!(
            "  kss warm        {w:8.1} µs  {:6.0} verifications/s  {:.2}x dcap-qvl",
            1e6 / w,
            q / w
        );
        return;
    }
    let f: &mut dyn FnMut() -> bool = match which {
        "qvl" => &mut run_qvl,
        "warm" => &mut run_warm,
        _ => &mut run_cold,
    };
    let t = Instant::now();
    for _ in 0..n {
        assert!(f());
    }
    let each = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{which}: {n} verifications, {each:.1} µs each");
}
