//! `kss verify` and `kss collateral` with collateral from an in-test PCCS (`support/pccs.rs`)
//! that serves the real fixtures with the real headers and counts requests.

mod support {
    pub mod env;
    pub mod pccs;
}

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::env::{testdata, text};
use support::pccs::{Fixture, Mode, Pccs};

const PHALA_QUOTE: &str = "phala-dcap-qvl/sgx_quote";
const PHALA_COLLATERAL: &str = "phala-dcap-qvl/sgx_quote_collateral.json";
const PHALA_2023: &str = "phala-dcap-qvl/sgx_quote_collateral_2023.json";
const PHALA_FMSPC: &str = "00A067110000";
/// Within every piece of the phala 2025 collateral.
const PHALA_AT: &str = "1752919277";
/// Within every piece of the phala 2023 collateral.
const PHALA_2023_AT: &str = "1702000000";

fn read(path: &str) -> Vec<u8> {
    std::fs::read(testdata(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn phala(col: &str) -> Fixture {
    Fixture::from_dcap_qvl(&read(col), PHALA_FMSPC, "processor")
}

/// A scratch directory with a cache dir, a policy accepting any TCB status but Revoked, and
/// `KSS_HOME`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("policy.json"),
            r#"{"accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"],
                "allow_debug": true}"#,
        )
        .expect("policy");
        Scratch { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().expect("utf-8").into()
    }

    fn cache(&self) -> String {
        self.path("cache")
    }

    fn policy(&self) -> String {
        self.path("policy.json")
    }

    fn cache_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.cache())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn kss_cmd(args: &[&str], home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kss"));
    c.args(args).env("KSS_HOME", home).env("NO_COLOR", "1");
    // Loopback only: no proxy from the environment, no PCCS URL from it either.
    for v in [
        "KSS_PCCS_URL",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    c
}

fn kss(args: &[&str], home: &Path) -> Output {
    kss_cmd(args, home).output().expect("run kss")
}

/// The command `kss verify QUOTE --pccs URL --cache-dir C --at AT --policy P [extra]`.
fn verify_cmd(s: &Scratch, quote: &str, url: &str, at: &str, extra: &[&str]) -> Command {
    let (cache, policy) = (s.cache(), s.policy());
    let mut args = vec![
        "verify",
        quote,
        "--pccs",
        url,
        "--cache-dir",
        &cache,
        "--at",
        at,
        "--policy",
        &policy,
    ];
    args.extend_from_slice(extra);
    kss_cmd(&args, s.dir.path())
}

/// Runs [`verify_cmd`].
fn verify(s: &Scratch, quote: &str, url: &str, at: &str, extra: &[&str]) -> Output {
    verify_cmd(s, quote, url, at, extra)
        .output()
        .expect("run kss")
}

fn assert_status(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// A port nothing listens on.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn first_verification_fetches_the_second_fetches_nothing() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    let q = testdata(PHALA_QUOTE);
    let o = verify(&s, &q, &pccs.url(), PHALA_AT, &[]);
    assert_status(&o, 0);
    assert!(text(&o.stdout).contains("ACCEPTED"));
    let mut reqs = pccs.requests();
    reqs.sort();
    assert_eq!(
        reqs,
        [
            "/sgx/certification/v4/pckcrl?ca=processor&encoding=der",
            "/sgx/certification/v4/qe/identity",
            "/sgx/certification/v4/rootcacrl",
            "/sgx/certification/v4/tcb?fmspc=00A067110000",
        ]
    );
    assert_eq!(
        s.cache_files(),
        [
            "need-00A067110000-processor.bundle",
            "pckcrl-processor.json",
            "qe-identity.json",
            "rootcacrl.json",
            "tcb-00A067110000.json"
        ]
    );
    // Again, in a new process, with the URL in its full form: everything from the cache.
    let full = format!("{}/sgx/certification/v4/", pccs.url());
    let o = verify(&s, &q, &full, PHALA_AT, &[]);
    assert_status(&o, 0);
    assert_eq!(pccs.count(), 4);

    // `cache list` shows the pieces with their windows; `cache clear` empties it.
    let o = kss(
        &["collateral", "cache", "list", "--cache-dir", &s.cache()],
        s.dir.path(),
    );
    assert_status(&o, 0);
    let out = text(&o.stdout);
    for want in [
        "tcb-info     00A067110000  2025-06-19T10:56:11Z  2025-07-19T10:56:11Z",
        "qe-identity",
        "pck-crl      processor",
        "root-ca-crl",
    ] {
        assert!(out.contains(want), "{want} in\n{out}");
    }
    let o = kss(
        &["collateral", "cache", "clear", "--cache-dir", &s.cache()],
        s.dir.path(),
    );
    assert_status(&o, 0);
    assert!(text(&o.stdout).contains("removed 4"));
    assert!(s.cache_files().is_empty());
}

#[test]
fn a_later_time_past_next_update_fetches_again() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_2023));
    let q = testdata(PHALA_QUOTE);
    assert_status(&verify(&s, &q, &pccs.url(), PHALA_2023_AT, &[]), 0);
    assert_eq!(pccs.count(), 4);
    // The service now has the 2025 collateral. At a 2025 time the 2023 pieces are expired,
    // except the Root CA CRL (2023-04 to 2024-04: expired too): all four are fetched again.
    pccs.set_fixture(phala(PHALA_COLLATERAL));
    let o = verify(&s, &q, &pccs.url(), PHALA_AT, &["--json"]);
    assert_status(&o, 0);
    assert_eq!(pccs.count(), 8);
    // And once more at the same time: nothing is fetched.
    assert_status(&verify(&s, &q, &pccs.url(), PHALA_AT, &[]), 0);
    assert_eq!(pccs.count(), 8);
}

#[test]
fn a_down_server_with_a_valid_cache_still_verifies() {
    let s = Scratch::new();
    let q = testdata(PHALA_QUOTE);
    {
        let pccs = Pccs::start(phala(PHALA_COLLATERAL));
        assert_status(&verify(&s, &q, &pccs.url(), PHALA_AT, &[]), 0);
    }
    let o = verify(&s, &q, &dead_url(), PHALA_AT, &[]);
    assert_status(&o, 0);
    // --offline never touches the network, even with a URL that answers nothing.
    let o = verify(&s, &q, &dead_url(), PHALA_AT, &["--offline"]);
    assert_status(&o, 0);
}

#[test]
fn a_down_server_without_a_cache_exits_3_naming_url_and_piece() {
    let s = Scratch::new();
    let url = dead_url();
    let t = Instant::now();
    let o = verify(&s, &testdata(PHALA_QUOTE), &url, PHALA_AT, &[]);
    assert_status(&o, 3);
    let err = text(&o.stderr);
    assert!(err.contains(&url) && err.contains("cannot reach"), "{err}");
    assert!(
        [
            "TCB info (FMSPC 00A067110000)",
            "QE identity",
            "PCK CRL",
            "Root CA CRL"
        ]
        .iter()
        .any(|p| err.contains(p)),
        "{err}"
    );
    assert!(!o.stdout.windows(8).any(|w| w == b"ACCEPTED"));
    // Two retries with backoff (0.25 s, 0.5 s), not more.
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());

    // --offline with an empty cache: exit 3 as well, naming the piece.
    let o = verify(&s, &testdata(PHALA_QUOTE), &url, PHALA_AT, &["--offline"]);
    assert_status(&o, 3);
    assert!(text(&o.stderr).contains("no cached copy valid at 2025-07-19T10:01:17Z"));
}

#[test]
fn a_tampered_tcb_info_is_rejected_and_not_cached() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    pccs.set_mode(Mode::TamperTcb);
    let q = testdata(PHALA_QUOTE);
    let o = verify(&s, &q, &pccs.url(), PHALA_AT, &[]);
    assert_status(&o, 1);
    let err = text(&o.stderr);
    assert!(
        err.contains("TCB info (FMSPC 00A067110000)")
            && err.contains("rejected")
            && err.contains("signature"),
        "{err}"
    );
    assert!(!s.cache_files().iter().any(|f| f.starts_with("tcb-")));
    // The honest answer is fetched (and only the TCB info: the rest was good and cached).
    pccs.set_mode(Mode::Normal);
    let before = pccs.count();
    assert_status(&verify(&s, &q, &pccs.url(), PHALA_AT, &[]), 0);
    assert_eq!(
        pccs.requests()[before..],
        ["/sgx/certification/v4/tcb?fmspc=00A067110000"]
    );
}

#[test]
fn an_unknown_fmspc_is_a_404_exit_3() {
    let s = Scratch::new();
    // Collateral for another platform only.
    let pccs = Pccs::start(Fixture::from_dcap_qvl(
        &read("teekit-qvl/DERIVED_tlsn_collateral_2025-06.dcap-qvl.json"),
        "00906ED50000",
        "processor",
    ));
    let o = verify(&s, &testdata(PHALA_QUOTE), &pccs.url(), PHALA_AT, &[]);
    assert_status(&o, 3);
    let err = text(&o.stderr);
    assert!(
        err.contains("TCB info (FMSPC 00A067110000)")
            && err.contains("HTTP 404")
            && err.contains("/tcb?fmspc=00A067110000"),
        "{err}"
    );
}

#[test]
fn server_errors_are_retried_then_exit_3() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    pccs.set_mode(Mode::Status(503));
    let o = verify(&s, &testdata(PHALA_QUOTE), &pccs.url(), PHALA_AT, &[]);
    assert_status(&o, 3);
    assert!(text(&o.stderr).contains("HTTP 503"), "{}", text(&o.stderr));
    // Four pieces, three attempts each.
    assert_eq!(pccs.count(), 12);
}

#[test]
fn a_missing_issuer_chain_header_is_named() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    pccs.set_mode(Mode::NoTcbChainHeader);
    let o = verify(&s, &testdata(PHALA_QUOTE), &pccs.url(), PHALA_AT, &[]);
    assert_status(&o, 2);
    let err = text(&o.stderr);
    assert!(
        err.contains("TCB info (FMSPC 00A067110000)") && err.contains("TCB-Info-Issuer-Chain"),
        "{err}"
    );
    // The v3 header name is accepted.
    pccs.set_mode(Mode::V3HeaderNames);
    assert_status(
        &verify(&s, &testdata(PHALA_QUOTE), &pccs.url(), PHALA_AT, &[]),
        0,
    );
}

#[test]
fn a_slow_server_hits_the_timeout() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    pccs.set_mode(Mode::Slow(Duration::from_secs(5)));
    let t = Instant::now();
    let o = verify(
        &s,
        &testdata(PHALA_QUOTE),
        &pccs.url(),
        PHALA_AT,
        &["--timeout", "0.5"],
    );
    assert_status(&o, 3);
    assert!(
        text(&o.stderr).contains("did not answer within 0.5 s"),
        "{}",
        text(&o.stderr)
    );
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[test]
fn eight_concurrent_verifications_on_an_empty_cache() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    let q = testdata(PHALA_QUOTE);
    let url = pccs.url();
    let children: Vec<_> = (0..8)
        .map(|_| {
            verify_cmd(&s, &q, &url, PHALA_AT, &[])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        assert_status(&c.wait_with_output().expect("wait"), 0);
    }
    // Exactly the four pieces, each a well-formed entry, and their bundle; no temporary files
    // left.
    assert_eq!(
        s.cache_files(),
        [
            "need-00A067110000-processor.bundle",
            "pckcrl-processor.json",
            "qe-identity.json",
            "rootcacrl.json",
            "tcb-00A067110000.json"
        ]
    );
    let o = kss(
        &["collateral", "cache", "list", "--cache-dir", &s.cache()],
        s.dir.path(),
    );
    assert!(
        !text(&o.stdout).contains("unreadable"),
        "{}",
        text(&o.stdout)
    );
    // And they serve a verification without the service.
    drop(pccs);
    assert_status(&verify(&s, &q, &dead_url(), PHALA_AT, &["--offline"]), 0);
}

/// A test CA and a server certificate for 127.0.0.1 signed by it.
fn test_tls() -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "kss test PCCS CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("leaf");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    (ca_cert.pem(), Arc::new(config))
}

#[test]
fn https_with_a_test_ca() {
    let s = Scratch::new();
    let (ca_pem, tls) = test_tls();
    let ca = s.path("pccs-ca.pem");
    std::fs::write(&ca, ca_pem).expect("write");
    let pccs = Pccs::start_tls(phala(PHALA_COLLATERAL), tls);
    assert!(pccs.url().starts_with("https://"));
    let q = testdata(PHALA_QUOTE);
    // Not trusted by the system's roots: exit 3.
    let o = verify(&s, &q, &pccs.url(), PHALA_AT, &["--no-cache"]);
    assert_status(&o, 3);
    let o = verify(&s, &q, &pccs.url(), PHALA_AT, &["--pccs-ca", &ca]);
    assert_status(&o, 0);
    // The four pieces and their bundle.
    assert_eq!(s.cache_files().len(), 5);
}

#[test]
fn the_pccs_url_comes_from_the_environment() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    let (cache, policy) = (s.cache(), s.policy());
    let o = kss_cmd(
        &[
            "verify",
            &testdata(PHALA_QUOTE),
            "--cache-dir",
            &cache,
            "--at",
            PHALA_AT,
            "--policy",
            &policy,
        ],
        s.dir.path(),
    )
    .env("KSS_PCCS_URL", pccs.url())
    .output()
    .expect("run");
    assert_status(&o, 0);
    assert_eq!(pccs.count(), 4);
}

#[test]
fn the_default_cache_is_in_the_kss_home() {
    let s = Scratch::new();
    let pccs = Pccs::start(phala(PHALA_COLLATERAL));
    let policy = s.policy();
    let o = kss(
        &[
            "verify",
            &testdata(PHALA_QUOTE),
            "--pccs",
            &pccs.url(),
            "--at",
            PHALA_AT,
            "--policy",
            &policy,
        ],
        s.dir.path(),
    );
    assert_status(&o, 0);
    assert!(s
        .dir
        .path()
        .join("collateral-cache/qe-identity.json")
        .exists());
    // --no-cache neither reads nor writes it.
    let o = kss(
        &[
            "verify",
            &testdata(PHALA_QUOTE),
            "--pccs",
            &pccs.url(),
            "--at",
            PHALA_AT,
            "--policy",
            &policy,
            "--no-cache",
        ],
        s.dir.path(),
    );
    assert_status(&o, 0);
    assert_eq!(pccs.count(), 8);
}

/// Every fixture quote with matching collateral: the verdict (exit status and JSON) with the
/// collateral fetched equals the verdict with the same collateral as a file, and
/// `kss collateral fetch` writes a file that gives the same verdict again.
#[test]
fn fetched_collateral_gives_the_verdict_of_the_file() {
    struct Case {
        quote: &'static str,
        collateral: &'static str,
        fmspc: &'static str,
        at: &'static str,
    }
    let cases = [
        Case {
            quote: PHALA_QUOTE,
            collateral: PHALA_COLLATERAL,
            fmspc: PHALA_FMSPC,
            at: PHALA_AT,
        },
        Case {
            quote: PHALA_QUOTE,
            collateral: PHALA_2023,
            fmspc: PHALA_FMSPC,
            at: PHALA_2023_AT,
        },
        Case {
            quote: "automata-dcap-rs/quote_sgx.bin",
            collateral: "automata-dcap-rs/DERIVED_quote_sgx_collateral.dcap-qvl.json",
            fmspc: PHALA_FMSPC,
            at: "1724962800",
        },
        Case {
            quote: "teekit-qvl/sgx-tlsn-quote9.dat",
            collateral: "teekit-qvl/DERIVED_tlsn_collateral_2025-06.dcap-qvl.json",
            fmspc: "00906ED50000",
            at: "1751000000",
        },
        Case {
            quote: "teekit-qvl/sgx-tlsn-quotedev.dat",
            collateral: "teekit-qvl/DERIVED_tlsn_collateral_2025-06.dcap-qvl.json",
            fmspc: "00906ED50000",
            at: "1751000000",
        },
    ];
    for c in &cases {
        let s = Scratch::new();
        let pccs = Pccs::start(Fixture::from_dcap_qvl(
            &read(c.collateral),
            c.fmspc,
            "processor",
        ));
        let q = testdata(c.quote);
        let policy = s.policy();
        for extra in [&[][..], &["--policy", &policy][..]] {
            let mut file_args = vec!["verify", &q, "--at", c.at, "--json", "--collateral"];
            let col = testdata(c.collateral);
            file_args.push(&col);
            file_args.extend_from_slice(extra);
            let from_file = kss(&file_args, s.dir.path());
            let mut fetched_args = vec!["--json"];
            fetched_args.extend_from_slice(extra);
            let (cache, url) = (s.cache(), pccs.url());
            let mut args = vec![
                "verify",
                &q,
                "--at",
                c.at,
                "--pccs",
                &url,
                "--cache-dir",
                &cache,
            ];
            args.extend_from_slice(&fetched_args);
            let fetched = kss(&args, s.dir.path());
            assert_eq!(
                fetched.status.code(),
                from_file.status.code(),
                "{}: {}",
                c.quote,
                text(&fetched.stderr)
            );
            assert!(!from_file.stdout.is_empty(), "{}", text(&from_file.stderr));
            assert_eq!(
                text(&fetched.stdout),
                text(&from_file.stdout),
                "{}",
                c.quote
            );
        }
        // `kss collateral fetch` (from the cache now) writes a file with the same verdict.
        let out = s.path("fetched.json");
        let cache = s.cache();
        let o = kss(
            &[
                "collateral",
                "fetch",
                &q,
                "--pccs",
                &pccs.url(),
                "--cache-dir",
                &cache,
                "--offline",
                "--at",
                c.at,
                "--out",
                &out,
            ],
            s.dir.path(),
        );
        assert_status(&o, 0);
        let a = kss(
            &["verify", &q, "--at", c.at, "--json", "--collateral", &out],
            s.dir.path(),
        );
        let b = kss(
            &[
                "verify",
                &q,
                "--at",
                c.at,
                "--json",
                "--collateral",
                &testdata(c.collateral),
            ],
            s.dir.path(),
        );
        assert_eq!(a.status.code(), b.status.code(), "{}", c.quote);
        assert_eq!(text(&a.stdout), text(&b.stdout), "{}", c.quote);
    }
}

#[test]
fn collateral_and_pccs_options_conflict() {
    let s = Scratch::new();
    let o = kss(
        &[
            "verify",
            &testdata(PHALA_QUOTE),
            "--collateral",
            &testdata(PHALA_COLLATERAL),
            "--pccs",
            "http://127.0.0.1:1",
        ],
        s.dir.path(),
    );
    assert_status(&o, 2);
    let o = kss(
        &["verify", &testdata(PHALA_QUOTE), "--pccs", "ftp://x"],
        s.dir.path(),
    );
    assert_status(&o, 2);
    assert!(text(&o.stderr).contains("--pccs"), "{}", text(&o.stderr));
}

/// `HTTP_PROXY` is used: the PCCS URL names a port nothing listens on, the in-test server acts
/// as the proxy (it serves absolute-form requests) and sees every request with the full URL.
#[test]
fn requests_go_through_the_proxy_of_the_environment() {
    let s = Scratch::new();
    let proxy = Pccs::start(phala(PHALA_COLLATERAL));
    let url = dead_url();
    let o = verify_cmd(&s, &testdata(PHALA_QUOTE), &url, PHALA_AT, &[])
        .env("HTTP_PROXY", proxy.url())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("run kss");
    assert_status(&o, 0);
    let reqs = proxy.requests();
    assert_eq!(reqs.len(), 4, "{reqs:?}");
    assert!(
        reqs.iter()
            .all(|r| r.starts_with(&format!("{url}/sgx/certification/v4/"))),
        "{reqs:?}"
    );
}
