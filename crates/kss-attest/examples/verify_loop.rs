//! Profiling aid: `cargo run --release -p kss-attest --example verify_loop -- kss|warm|qvl|both N`.
use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::Verifier;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/");
const AT: u64 = 1_752_919_277;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("kss");
    let n: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let quote = std::fs::read(format!("{TD}phala-dcap-qvl/sgx_quote")).unwrap();
    let json = std::fs::read(format!("{TD}phala-dcap-qvl/sgx_quote_collateral.json")).unwrap();
    let qvl: dcap_qvl::QuoteCollateralV3 = serde_json::from_slice(&json).unwrap();
    let col = Collateral::from_dcap_qvl_json(&json, "phala").unwrap();
    let policy = Policy::default().with_accepted_tcb_statuses(vec![
        TcbStatus::UpToDate,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
    ]);
    if which == "both" {
        // Alternate batches so both see the same machine conditions; report the median and
        // best batch of each.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..n / 50 {
            let t = std::time::Instant::now();
            for _ in 0..50 {
                assert!(dcap_qvl::verify::verify(&quote, &qvl, AT).is_ok());
            }
            a.push(t.elapsed().as_secs_f64() * 1e6 / 50.0);
            let t = std::time::Instant::now();
            for _ in 0..50 {
                assert!(
                    Verifier::new(policy.clone())
                        .verify(&quote, &col, AT)
                        .accepted
                );
            }
            b.push(t.elapsed().as_secs_f64() * 1e6 / 50.0);
        }
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (ma, mb) = (a[a.len() / 2], b[b.len() / 2]);
        println!(
            "dcap-qvl median {ma:.1} µs (best {:.1}); kss cold median {mb:.1} µs (best {:.1}); kss/qvl speed {:.3}",
            a[0], b[0], ma / mb
        );
        return;
    }
    let warm = Verifier::new(policy.clone());
    let t = std::time::Instant::now();
    let mut ok = 0;
    for _ in 0..n {
        ok += match which {
            "qvl" => dcap_qvl::verify::verify(&quote, &qvl, AT).is_ok() as u32,
            "warm" => warm.verify(&quote, &col, AT).accepted as u32,
            _ => {
                Verifier::new(policy.clone())
                    .verify(&quote, &col, AT)
                    .accepted as u32
            }
        };
    }
    let el = t.elapsed();
    println!(
        "{which}: {ok}/{n} accepted, {:.1} µs each",
        el.as_secs_f64() * 1e6 / f64::from(n)
    );
}
