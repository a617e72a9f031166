//! The cost of collateral from the disk cache against collateral given in memory, on the
//! phala SGX quote + collateral at 1752919277 (accepted, ConfigurationAndSWHardeningNeeded).
//!
//! Run: `cargo bench -p kss-collateral --bench cached`
//!
//! - `cold in memory`: a new `Verifier` per quote, collateral already in memory (what
//!   `kss verify --collateral FILE` does after reading the file).
//! - `cold from cache`: a new `PccsSource` (offline) and a new `Verifier` per quote: the quote
//!   parsed once, its needs read from its PCK certificate through the verifier's certificate
//!   cache (which the verification then reuses), the four pieces read from the cache
//!   directory, then the same verification.
//! - `warm in memory` / `warm from cache`: one `Verifier` (and one `PccsSource`) reused, as a
//!   long-running service would.
//!
//! After criterion's groups, an interleaved run (batches of each in turn, median batch) prints
//! the ratios, which the VM's drift between criterion groups does not skew.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::tcb::TcbStatus;
use kss_attest::{Quote, Verifier, INTEL_SGX_ROOT_CA_PUBLIC_KEY};
use kss_collateral::cache::{DiskCache, Entry};
use kss_collateral::source::roots_id;
use kss_collateral::validate::check;
use kss_collateral::{Endpoint, Need, PccsSource, Piece, SourceConfig};
use std::path::Path;
use std::time::Instant;

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

/// Fills `dir` with the pieces of dcap-qvl JSON collateral, checked as fetched ones are.
fn seed(dir: &Path, json: &[u8], need: &Need) {
    let v: serde_json::Value = serde_json::from_slice(json).expect("json");
    let s = |k: &str| v[k].as_str().expect(k).to_string();
    let signed = |key: &str, body: &str, sig: &str| {
        format!(r#"{{"{key}":{body},"signature":"{sig}"}}"#).into_bytes()
    };
    let cache = DiskCache::new(dir);
    let roots = [INTEL_SGX_ROOT_CA_PUBLIC_KEY];
    for piece in need.pieces() {
        let (body, chain) = match piece {
            Piece::TcbInfo { .. } => (
                signed("tcbInfo", &s("tcb_info"), &s("tcb_info_signature")),
                Some(s("tcb_info_issuer_chain")),
            ),
            Piece::QeIdentity => (
                signed(
                    "enclaveIdentity",
                    &s("qe_identity"),
                    &s("qe_identity_signature"),
                ),
                Some(s("qe_identity_issuer_chain")),
            ),
            Piece::PckCrl { .. } => (
                hex::decode(s("pck_crl")).expect("hex"),
                Some(s("pck_crl_issuer_chain")),
            ),
            Piece::RootCaCrl => (hex::decode(s("root_ca_crl")).expect("hex"), None),
        };
        let checked = check(&piece, &body, chain.as_deref(), &roots).expect("piece checks");
        cache
            .write(&Entry::new(checked, "seed".into(), AT, roots_id(&roots)).expect("entry"))
            .expect("write");
    }
}

fn offline_source(dir: &Path) -> PccsSource {
    let mut cfg = SourceConfig::new(Endpoint::intel_pcs());
    cfg.cache_dir = Some(dir.to_path_buf());
    cfg.offline = true;
    PccsSource::new(cfg)
}

/// What `kss verify` does on a warm cache: the quote parsed once, its needs read through the
/// verifier's certificate cache, the collateral from the source (memory, else disk).
fn from_cache(quote: &[u8], source: &PccsSource, verifier: &Verifier) -> bool {
    let q = Quote::parse(quote).expect("quote");
    let need = Need::of_parsed_quote(verifier, &q, None, AT).expect("need");
    let col = source
        .cached_shared(&need, AT)
        .expect("cache")
        .expect("cached");
    verifier.verify_quote(&q, &col, AT).accepted
}

fn bench(c: &mut Criterion) {
    let quote = read("phala-dcap-qvl/sgx_quote");
    let json = read("phala-dcap-qvl/sgx_quote_collateral.json");
    let col = Collateral::from_dcap_qvl_json(&json, "phala").expect("collateral");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cache");
    let need = Need::of_quote(&quote, None).expect("need");
    seed(&dir, &json, &need);

    // Both accept, with the same verdict, before anything is timed.
    let a = Verifier::new(policy()).verify(&quote, &col, AT);
    let src = offline_source(&dir);
    let cached = src.collateral_blocking(&need, AT).expect("cached");
    let b = Verifier::new(policy()).verify(&quote, &cached.collateral, AT);
    assert!(a.accepted && b.accepted);
    assert_eq!(a.checks, b.checks);

    let cold_mem = || Verifier::new(policy()).verify(&quote, &col, AT).accepted;
    let cold_cache = || from_cache(&quote, &offline_source(&dir), &Verifier::new(policy()));
    let warm = Verifier::new(policy());
    let warm_src = offline_source(&dir);
    let warm_mem = || warm.verify(&quote, &col, AT).accepted;
    let warm_cache = || from_cache(&quote, &warm_src, &warm);

    let mut g = c.benchmark_group("collateral");
    g.throughput(Throughput::Elements(1));
    g.bench_function("cold in memory", |b| b.iter(cold_mem));
    g.bench_function("cold from cache", |b| b.iter(cold_cache));
    g.bench_function("warm in memory", |b| b.iter(warm_mem));
    g.bench_function("warm from cache", |b| b.iter(warm_cache));
    g.finish();

    interleaved("cold", &cold_mem, &cold_cache, 40, 50);
    interleaved("warm", &warm_mem, &warm_cache, 40, 500);
    // Where the difference goes.
    let t = Instant::now();
    for _ in 0..2000 {
        std::hint::black_box(Need::of_quote(&quote, None).expect("need"));
    }
    println!(
        "of which: needs from the PCK certificate (shallow, no verifier) {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 2000.0
    );
    let q = Quote::parse(&quote).expect("quote");
    let t = Instant::now();
    for _ in 0..20000 {
        std::hint::black_box(Need::of_parsed_quote(&warm, &q, None, AT).expect("need"));
    }
    println!(
        "of which: needs through a warm verifier {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / 20000.0
    );
    let t = Instant::now();
    for _ in 0..2000 {
        std::hint::black_box(offline_source(&dir).cached(&need, AT).expect("cached"));
    }
    println!(
        "of which: four pieces from the disk cache {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 2000.0
    );
    let files: Vec<_> = need
        .pieces()
        .iter()
        .map(|p| dir.join(p.file_name()))
        .collect();
    let t = Instant::now();
    for _ in 0..2000 {
        for f in &files {
            std::hint::black_box(std::fs::read(f).expect("read"));
        }
    }
    println!(
        "of which: reading the four files {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 2000.0
    );
    let cache = DiskCache::new(&dir);
    let t = Instant::now();
    for _ in 0..2000 {
        for p in need.pieces() {
            std::hint::black_box(cache.read(&p).expect("read"));
        }
    }
    println!(
        "of which: reading and decoding the four entries {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 2000.0
    );
    let t = Instant::now();
    for _ in 0..20000 {
        std::hint::black_box(warm_src.cached(&need, AT).expect("cached"));
    }
    println!(
        "of which: four pieces from memory, copied {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 20000.0
    );
    let t = Instant::now();
    for _ in 0..20000 {
        std::hint::black_box(warm_src.cached_shared(&need, AT).expect("cached"));
    }
    println!(
        "of which: assembled collateral from memory (shared) {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / 20000.0
    );
}

/// Batches of `n` of each in turn, `rounds` times; prints the median batch of each and the
/// ratio.
fn interleaved(
    name: &str,
    mem: &dyn Fn() -> bool,
    cache: &dyn Fn() -> bool,
    rounds: usize,
    n: usize,
) {
    let mut tm = Vec::with_capacity(rounds);
    let mut tc = Vec::with_capacity(rounds);
    let batch = |f: &dyn Fn() -> bool| {
        let t = Instant::now();
        for _ in 0..n {
            assert!(std::hint::black_box(f()));
        }
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    };
    for _ in 0..rounds {
        tm.push(batch(mem));
        tc.push(batch(cache));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (m, c) = (median(&mut tm), median(&mut tc));
    println!(
        "interleaved {name}: in memory {m:.1} µs, from cache {c:.1} µs, ratio {:.3}",
        c / m
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
