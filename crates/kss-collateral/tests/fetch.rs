//! `PccsSource` and `Client` against the in-test PCCS of the CLI tests (real fixtures, real
//! headers, every request counted with the instant it arrived): one fetch per piece for many
//! concurrent callers, `Retry-After`, and cache files that cannot be read.

#[path = "../../kss-cli/tests/support/pccs.rs"]
mod pccs;

use kss_attest::INTEL_SGX_ROOT_CA_PUBLIC_KEY;
use kss_collateral::client::{Client, ClientConfig};
use kss_collateral::{Endpoint, ErrorKind, FetchError, Need, Origin, PccsSource, Piece};
use kss_collateral::{SourceConfig, Sourced};
use pccs::{Fixture, Pccs};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
/// Within every piece of the phala 2025 collateral.
const AT: u64 = 1_752_919_277;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn server() -> Pccs {
    Pccs::start(Fixture::from_dcap_qvl(
        &read("phala-dcap-qvl/sgx_quote_collateral.json"),
        "00A067110000",
        "processor",
    ))
}

fn need() -> Need {
    Need::of_quote(&read("phala-dcap-qvl/sgx_quote"), None).expect("need")
}

fn config(pccs: &Pccs, cache: Option<&Path>) -> SourceConfig {
    let mut c = SourceConfig::new(Endpoint::parse(&pccs.url()).expect("url"));
    c.cache_dir = cache.map(Path::to_path_buf);
    c.roots = vec![INTEL_SGX_ROOT_CA_PUBLIC_KEY];
    c
}

/// The four request paths of the phala quote's pieces, sorted.
fn four_paths() -> Vec<String> {
    let mut v: Vec<String> = [
        "/sgx/certification/v4/tcb?fmspc=00A067110000",
        "/sgx/certification/v4/qe/identity",
        "/sgx/certification/v4/pckcrl?ca=processor&encoding=der",
        "/sgx/certification/v4/rootcacrl",
    ]
    .map(String::from)
    .to_vec();
    v.sort();
    v
}

fn sorted_requests(p: &Pccs) -> Vec<String> {
    let mut v = p.requests();
    v.sort();
    v
}

/// Waits (at most a minute) until the server has seen `n` requests.
fn wait_for_requests(p: &Pccs, n: usize) {
    let start = Instant::now();
    while p.count() < n && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Holds the server's answers until `n` requests arrived and the callers had time to join
/// them, then releases them.
fn release_after(p: &Pccs, n: usize) {
    wait_for_requests(p, n);
    // The other callers are past the barrier; give them time to find the fetches in flight
    // (a late one would show up as a fifth request and fail the test, not pass it).
    std::thread::sleep(Duration::from_millis(500));
    p.release();
}

/// `n` threads call `collateral_blocking` on one source at once.
fn concurrently(src: &Arc<PccsSource>, n: usize) -> Vec<Result<Sourced, FetchError>> {
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (src, barrier) = (src.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                src.collateral_blocking(&need(), AT)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

#[test]
fn concurrent_callers_on_an_empty_cache_send_one_request_per_piece() {
    let pccs = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let src = Arc::new(PccsSource::new(config(&pccs, Some(dir.path()))));
    pccs.hold();
    let results = std::thread::scope(|s| {
        let r = s.spawn(|| concurrently(&src, 8));
        release_after(&pccs, 4);
        r.join().expect("callers")
    });
    let first = results[0].as_ref().expect("collateral");
    for r in &results {
        let r = r.as_ref().expect("collateral");
        assert_eq!(r.collateral.tcb_info, first.collateral.tcb_info);
        assert_eq!(r.collateral.pck_crl, first.collateral.pck_crl);
        assert_eq!(r.collateral.root_ca_crl, first.collateral.root_ca_crl);
        assert!(r.origins.iter().all(|(_, o)| *o == Origin::Network));
    }
    assert_eq!(sorted_requests(&pccs), four_paths());
    // Later callers are served from memory: still four requests.
    src.collateral_blocking(&need(), AT).expect("again");
    assert_eq!(pccs.count(), 4);
}

/// A two-thread runtime for async callers.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn concurrent_async_callers_without_a_disk_cache_share_one_fetch() {
    let pccs = server();
    let src = Arc::new(PccsSource::new(config(&pccs, None)));
    pccs.hold();
    let rt = runtime();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let src = src.clone();
            rt.spawn(async move { src.collateral(&need(), AT).await.map(|s| s.origins) })
        })
        .collect();
    release_after(&pccs, 4);
    for t in tasks {
        let origins = rt.block_on(t).expect("task").expect("collateral");
        assert_eq!(origins.len(), 4);
    }
    assert_eq!(sorted_requests(&pccs), four_paths());
}

#[test]
fn concurrent_callers_share_a_failed_fetch() {
    let pccs = server();
    let mut cfg = config(&pccs, None);
    cfg.client.retries = 0;
    let src = Arc::new(PccsSource::new(cfg));
    pccs.hold();
    pccs.answer_next(4, 503, &[]);
    let results = std::thread::scope(|s| {
        let r = s.spawn(|| concurrently(&src, 6));
        release_after(&pccs, 4);
        r.join().expect("callers")
    });
    for r in results {
        let e = r.expect_err("503");
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(e.to_string().contains("answered HTTP 503"), "{e}");
    }
    assert_eq!(sorted_requests(&pccs), four_paths());
    // Failures are not kept: the next call fetches (and gets the pieces).
    src.collateral_blocking(&need(), AT)
        .expect("after the 503s");
    assert_eq!(pccs.count(), 8);
}

#[test]
fn a_waiting_caller_takes_the_lead_when_the_leader_goes_away() {
    let pccs = server();
    let src = Arc::new(PccsSource::new(config(&pccs, None)));
    pccs.hold();
    let rt = runtime();
    let spawn = || {
        let src = src.clone();
        rt.spawn(async move { src.collateral(&need(), AT).await })
    };
    // The leader's four requests are in flight (held); the second caller joins them.
    let leader = spawn();
    wait_for_requests(&pccs, 4);
    let waiter = spawn();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(pccs.count(), 4, "the waiter joined the leader's fetches");
    // The leader goes away unfinished: the waiter fetches every piece itself.
    leader.abort();
    assert!(rt.block_on(leader).expect_err("aborted").is_cancelled());
    wait_for_requests(&pccs, 8);
    pccs.release();
    let got = rt
        .block_on(waiter)
        .expect("task")
        .expect("the waiter got the collateral");
    assert_eq!(got.origins.len(), 4);
    assert!(got.origins.iter().all(|(_, o)| *o == Origin::Network));
    let mut twice: Vec<String> = four_paths()
        .into_iter()
        .flat_map(|p| [p.clone(), p])
        .collect();
    twice.sort();
    assert_eq!(sorted_requests(&pccs), twice);
}

fn client(pccs: &Pccs, timeout: Duration) -> Client {
    let config = ClientConfig {
        timeout,
        ..ClientConfig::default()
    };
    Client::new(Endpoint::parse(&pccs.url()).expect("url"), config).expect("client")
}

fn fetch(c: &Client, piece: Piece) -> Result<(), FetchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(c.fetch(&piece))
        .map(|_| ())
}

/// The time between the first and the second request.
fn gap(p: &Pccs) -> Duration {
    let r = p.requests_at();
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0].0, r[1].0);
    r[1].1 - r[0].1
}

#[test]
fn retry_after_in_seconds_is_waited_for() {
    let pccs = server();
    pccs.answer_next(1, 503, &[("Retry-After", "2")]);
    fetch(&client(&pccs, Duration::from_secs(30)), Piece::QeIdentity).expect("second attempt");
    // The default backoff would have retried after 0.25 s.
    let g = gap(&pccs);
    assert!(g >= Duration::from_millis(1950), "retried after {g:?}");

    let pccs = server();
    pccs.answer_next(1, 429, &[("Retry-After", "1")]);
    fetch(&client(&pccs, Duration::from_secs(30)), Piece::RootCaCrl).expect("second attempt");
    let g = gap(&pccs);
    assert!(g >= Duration::from_millis(950), "retried after {g:?}");
}

#[test]
fn retry_after_as_an_http_date_is_waited_for() {
    let pccs = server();
    // Whole seconds: at least 2 s from now.
    let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3));
    pccs.answer_next(1, 503, &[("Retry-After", when.as_str())]);
    fetch(&client(&pccs, Duration::from_secs(30)), Piece::QeIdentity).expect("second attempt");
    let g = gap(&pccs);
    assert!(g >= Duration::from_millis(1900), "retried after {g:?}");
}

#[test]
fn a_retry_after_beyond_the_timeout_is_not_retried_early() {
    let pccs = server();
    pccs.answer_next(3, 503, &[("Retry-After", "120")]);
    let e = fetch(&client(&pccs, Duration::from_secs(5)), Piece::QeIdentity).expect_err("503");
    assert_eq!(pccs.count(), 1);
    assert_eq!(
        e.to_string(),
        format!(
            "QE identity: {}/sgx/certification/v4/qe/identity answered HTTP 503 \
             (Retry-After: 120 s, not retried: longer than the 5 s this client waits)",
            pccs.url()
        )
    );
}

#[test]
fn an_oversized_or_endless_cache_file_is_named_and_fetched_again() {
    let pccs = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let tcb = dir.path().join("tcb-00A067110000.json");
    // An endless file where the TCB info entry should be.
    std::os::unix::fs::symlink("/dev/zero", &tcb).expect("symlink");
    // Offline: a clear error naming the file and the limit.
    let mut offline = config(&pccs, Some(dir.path()));
    offline.offline = true;
    let e = PccsSource::new(offline)
        .collateral_blocking(&need(), AT)
        .expect_err("offline");
    assert_eq!(e.kind(), ErrorKind::Local);
    let text = e.to_string();
    assert!(
        text.contains(&tcb.display().to_string()) && text.contains("8388608-byte limit"),
        "{text}"
    );
    assert_eq!(pccs.count(), 0);
    // Online: fetched again, with a warning naming the file; the entry replaces it.
    let s = PccsSource::new(config(&pccs, Some(dir.path())))
        .collateral_blocking(&need(), AT)
        .expect("fetched");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(
        s.warnings[0].contains(&tcb.display().to_string())
            && s.warnings[0].contains("8388608-byte limit"),
        "{:?}",
        s.warnings
    );
    assert!(!tcb.symlink_metadata().expect("entry").is_symlink());
    // A large sparse file is refused by its size, without reading it.
    let f = std::fs::File::create(&tcb).expect("create");
    f.set_len(1 << 40).expect("sparse");
    let cache = kss_collateral::cache::DiskCache::new(dir.path());
    let e = cache
        .read(&Piece::TcbInfo {
            fmspc: need().fmspc,
        })
        .expect_err("too large");
    assert!(e.to_string().contains("8388608-byte limit"), "{e}");
}

#[test]
fn a_body_over_the_size_limit_is_named() {
    let pccs = server();
    let config = ClientConfig {
        max_body: 1000,
        ..ClientConfig::default()
    };
    let c = Client::new(Endpoint::parse(&pccs.url()).expect("url"), config).expect("client");
    let e = fetch(
        &c,
        Piece::TcbInfo {
            fmspc: need().fmspc,
        },
    )
    .expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::Malformed);
    assert_eq!(
        e.to_string(),
        format!(
            "TCB info (FMSPC 00A067110000): the answer of {}/sgx/certification/v4/tcb?fmspc=00A067110000 \
             is over the size limit of 1000 bytes",
            pccs.url()
        )
    );
}

#[test]
fn a_malformed_body_is_named_and_not_cached() {
    let pccs = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = pccs::url_encode("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    // Whichever piece asks first gets `{}` with an issuer chain header of every name.
    pccs.answer_next(
        1,
        200,
        &[
            ("TCB-Info-Issuer-Chain", chain.as_str()),
            ("SGX-Enclave-Identity-Issuer-Chain", chain.as_str()),
            ("SGX-PCK-CRL-Issuer-Chain", chain.as_str()),
        ],
    );
    let mut cfg = config(&pccs, Some(dir.path()));
    cfg.client.retries = 0;
    let e = PccsSource::new(cfg)
        .collateral_blocking(&need(), AT)
        .expect_err("malformed");
    assert_eq!(e.kind(), ErrorKind::Malformed, "{e}");
    let piece = e.piece().expect("names the piece");
    assert!(e.to_string().contains("is malformed"), "{e}");
    assert!(!dir.path().join(piece.file_name()).exists());
}
