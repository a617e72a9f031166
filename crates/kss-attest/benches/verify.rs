//! Full DCAP verification throughput, side by side with the published `dcap-qvl` crate, on the
//! phala SGX quote + collateral at 1752919277 (both verifiers accept it with
//! ConfigurationAndSWHardeningNeeded).
//!
//! Run: `cargo bench -p kss-attest --bench verify`
//!
//! - `dcap-qvl`: `dcap_qvl::verify::verify` (collateral deserialized once, outside the loop).
//! - `kss cold`: a new `Verifier` for every quote (nothing cached).
//! - `kss warm`: one `Verifier` reused (collateral checks cached).
//! - `kss warm 2 threads`: two threads share one warm `Verifier`; time per verification is
//!   wall time / total verifications, so throughput = 1 / time.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::Verifier;
use std::time::{Duration, Instant};

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
const AT: u64 = 1_752_919_277;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn policy() -> Policy {
    Policy::default().with_accepted_tcb_statuses(vec![
        TcbStatus::UpToDate,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
    ])
}

fn bench(c: &mut Criterion) {
    let quote = read("phala-dcap-qvl/sgx_quote");
    let json = read("phala-dcap-qvl/sgx_quote_collateral.json");
    let qvl_col: dcap_qvl::QuoteCollateralV3 =
        serde_json::from_slice(&json).expect("dcap-qvl collateral");
    let col = Collateral::from_dcap_qvl_json(&json, "phala").expect("kss collateral");

    // Both must accept before anything is timed.
    let r = dcap_qvl::verify::verify(&quote, &qvl_col, AT).expect("dcap-qvl accepts");
    assert_eq!(r.status, "ConfigurationAndSWHardeningNeeded");
    let warm = Verifier::new(policy());
    assert!(warm.verify(&quote, &col, AT).accepted);

    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("dcap-qvl", |b| {
        b.iter(|| dcap_qvl::verify::verify(&quote, &qvl_col, AT).is_ok())
    });
    g.bench_function("kss cold", |b| {
        b.iter(|| Verifier::new(policy()).verify(&quote, &col, AT).accepted)
    });
    g.bench_function("kss warm", |b| {
        b.iter(|| warm.verify(&quote, &col, AT).accepted)
    });
    g.bench_function("kss warm 2 threads", |b| {
        b.iter_custom(|iters| {
            let per = iters.div_ceil(2);
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..per {
                            assert!(warm.verify(&quote, &col, AT).accepted);
                        }
                    });
                }
            });
            let el = start.elapsed();
            // Report time per verification over both threads.
            Duration::from_nanos((el.as_nanos() * u128::from(iters) / u128::from(per * 2)) as u64)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
