//! Quote parsing throughput, side by side with the published `dcap-qvl` parser, and simulated
//! quote generation rate with 1 and 2 threads.
//!
//! Run: `cargo bench -p kss-attest --bench quote`
//!
//! - `parse/kss`: `kss_attest::quote::Quote::parse` (strict, owned result) on phala `sgx_quote`.
//! - `parse/dcap-qvl`: `dcap_qvl::quote::Quote::parse` on the same bytes.
//! - `parse/kss+pck`: parse plus decoding the PEM chain and the PCK leaf's SGX extension.
//! - `sim_quote/1 thread`, `sim_quote/2 threads`: `SimQuotingEnclave::quote` (two ECDSA P-256
//!   signatures per quote); for 2 threads the time is wall time / total quotes, so
//!   quotes per second = 1 / time.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use kss_attest::pck::pck_leaf_of_chain;
use kss_attest::quote::Quote;
use kss_sim_qe::SimQuotingEnclave;
use kss_types::ReportBody;
use std::time::{Duration, Instant};

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

fn parse(c: &mut Criterion) {
    let bytes = std::fs::read(format!("{TD}phala-dcap-qvl/sgx_quote")).expect("sgx_quote");
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("kss", |b| {
        b.iter(|| Quote::parse(black_box(&bytes)).expect("parses"))
    });
    g.bench_function("dcap-qvl", |b| {
        b.iter(|| dcap_qvl::quote::Quote::parse(black_box(&bytes)).expect("parses"))
    });
    g.bench_function("kss+pck", |b| {
        b.iter(|| {
            let q = Quote::parse(black_box(&bytes)).expect("parses");
            pck_leaf_of_chain(q.pck_chain_pem().expect("chain")).expect("pck")
        })
    });
    g.finish();
}

fn sim_quote(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let qe = SimQuotingEnclave::load_or_create(&tmp.path().join("sim-ca")).expect("sim CA");
    let body = ReportBody::default();
    let mut g = c.benchmark_group("sim_quote");
    g.throughput(Throughput::Elements(1));
    g.bench_function("1 thread", |b| {
        b.iter(|| qe.quote(black_box(&body)).expect("quote"))
    });
    g.bench_function("2 threads", |b| {
        b.iter_custom(|iters| {
            let per = iters.div_ceil(2);
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..per {
                            black_box(qe.quote(&body).expect("quote"));
                        }
                    });
                }
            });
            // Normalise to `iters` quotes.
            let elapsed = start.elapsed();
            Duration::from_secs_f64(elapsed.as_secs_f64() * iters as f64 / (2 * per) as f64)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = parse, sim_quote
}
criterion_main!(benches);
