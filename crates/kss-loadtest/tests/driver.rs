//! The load driver end to end: the `kss-loadtest` binary against a real `kss serve` (in process,
//! on 127.0.0.1:0, plain HTTP and HTTPS), with the fixture quote. Every run is short (1 s);
//! the assertions are on what the driver reports in its JSON summary and its exit status.

use kss_serve::{AppState, CollateralConfig, ServeConfig, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
/// The time SOURCES.md pins for the phala sample: its collateral is valid then.
const PHALA_AT: u64 = 1_752_919_277;
const LENIENT: &str =
    r#"{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}"#;

fn testdata(p: &str) -> PathBuf {
    Path::new(TESTDATA).join(p)
}

/// A running service; stops when dropped (its runtime is shut down).
struct Service {
    _rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    addr: std::net::SocketAddr,
}

impl Service {
    /// Starts a service with a `lenient` policy (accepts the fixture's TCB status); with
    /// `tls`, HTTPS with a certificate for 127.0.0.1 and `localhost` issued by `ca.pem` in
    /// the service's directory.
    fn start(tls: bool) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("signing-key.pem");
        kss_serve::token::write_new_key(&key).unwrap();
        let pdir = dir.path().join("policies");
        std::fs::create_dir_all(&pdir).unwrap();
        std::fs::write(pdir.join("lenient.json"), LENIENT).unwrap();
        let mut config = ServeConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            key,
            pdir,
            CollateralConfig::Fixed(testdata("phala-dcap-qvl/sgx_quote_collateral.json")),
        );
        config.at = Some(PHALA_AT);
        let acceptor = tls.then(|| tls_files(dir.path()));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(AppState::new(&config).unwrap());
        let server = rt
            .block_on(Server::bind(config.listen, state, acceptor))
            .unwrap();
        let addr = server.local_addr().unwrap();
        rt.spawn(server.serve(std::future::pending::<()>()));
        Service { _rt: rt, dir, addr }
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.addr)
    }
}

/// Writes a CA (`ca.pem`) and a server certificate for 127.0.0.1 and localhost issued by it
/// into `dir`, and returns the service's acceptor.
fn tls_files(dir: &Path) -> tokio_rustls::TlsAcceptor {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    let key = dir.join("server.key");
    std::fs::write(&key, server_key.serialize_pem()).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    kss_serve::server::tls_acceptor(&dir.join("server.pem"), &key).unwrap()
}

/// Runs the driver for 1 s on 2 connections with `args`; its exit status, its standard
/// output and error, and its summary (`Null` when it wrote none).
fn drive(svc: &Service, args: &[&str]) -> (i32, String, Value) {
    let summary = svc.dir.path().join("summary.json");
    let _ = std::fs::remove_file(&summary);
    let out = Command::new(env!("CARGO_BIN_EXE_kss-loadtest"))
        .args(["--duration", "1", "--connections", "2", "--threads", "1"])
        .arg("--summary")
        .arg(&summary)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let s = std::fs::read(&summary)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), text, s)
}

fn quote() -> String {
    testdata("phala-dcap-qvl/sgx_quote").display().to_string()
}

/// What every attesting run must show: answers, none failed, every one counted under
/// `verdict`, every sampled token checked and valid, with one key id.
fn assert_clean(s: &Value, verdict: &str, text: &str) {
    let ok = s["ok"].as_u64().unwrap();
    assert!(ok > 0, "{text}");
    assert_eq!(s["failed"], 0, "{text}");
    assert_eq!(s["requests"], ok, "{text}");
    assert_eq!(s["verdicts"][verdict]["count"], ok, "{text}");
    assert_eq!(s["verdicts"].as_object().unwrap().len(), 1, "{text}");
    let check = &s["tokens"]["check"];
    assert!(check["checked"].as_u64().unwrap() > 0, "{text}");
    assert_eq!(check["valid"], check["checked"], "{text}");
    assert_eq!(check["checked"], s["tokens"]["sampled"], "{text}");
    assert_eq!(
        check["distinct_kids"].as_array().unwrap().len(),
        1,
        "{text}"
    );
    assert_eq!(s["pass"], true, "{text}");
}

#[test]
fn every_verdict_and_the_sampled_tokens_are_checked() {
    let svc = Service::start(false);
    let url = svc.url("http", "/v1/attest");
    let jwks = svc.url("http", "/.well-known/jwks.json");
    let q = quote();
    let base = [
        "--url",
        &url,
        "--quote",
        &q,
        "--jwks-url",
        &jwks,
        "--nonce-every",
        "3",
        "--token-every",
        "1",
        "--max-failures",
        "0",
    ];

    // The lenient policy accepts the fixture: every token `warning` or `affirming`, every
    // token carrying the nonce that was sent.
    let mut args = base.to_vec();
    args.extend(["--policy-id", "lenient", "--expect", "accepted"]);
    let (code, text, s) = drive(&svc, &args);
    assert_eq!(code, 0, "{text}");
    assert_clean(&s, "accepted", &text);

    // The default policy rejects it: the tokens say so too.
    let mut args = base.to_vec();
    args.extend(["--expect", "rejected"]);
    let (code, text, s) = drive(&svc, &args);
    assert_eq!(code, 0, "{text}");
    assert_clean(&s, "rejected", &text);

    // Fewer checked tokens than --min-tokens fails the run, and says so.
    let mut args = base.to_vec();
    args.extend(["--policy-id", "lenient", "--min-tokens", "100000000"]);
    let (code, text, s) = drive(&svc, &args);
    assert_eq!(code, 1, "{text}");
    assert_eq!(
        s["problems"],
        serde_json::json!([format!(
            "only {} tokens checked against the JWKS, at least 100000000 required",
            s["tokens"]["check"]["checked"]
        )]),
        "{text}"
    );

    // A verdict other than the expected one fails the run (exit 1) and says how many.
    let mut args = base.to_vec();
    args.extend(["--policy-id", "lenient", "--expect", "rejected"]);
    let (code, text, s) = drive(&svc, &args);
    assert_eq!(code, 1, "{text}");
    assert_eq!(s["pass"], false);
    let problem = s["problems"][0].as_str().unwrap();
    assert_eq!(
        problem,
        format!("{} verdicts were not `rejected`", s["ok"]),
        "{text}"
    );
}

#[test]
fn get_endpoints_and_bad_bodies() {
    let svc = Service::start(false);
    let url = svc.url("http", "/healthz");
    let (code, text, s) = drive(&svc, &["--url", &url, "--get"]);
    assert_eq!(code, 0, "{text}");
    assert!(s["ok"].as_u64().unwrap() > 0, "{text}");
    assert_eq!(s["verdicts"]["answered"]["count"], s["ok"], "{text}");
    assert_eq!(s["failed"], 0, "{text}");

    // A body the service refuses: every request fails with its status, and the answer is kept.
    let body = svc.dir.path().join("bad.json");
    std::fs::write(&body, r#"{"quote": "not base64!"}"#).unwrap();
    let url = svc.url("http", "/v1/attest");
    let b = body.display().to_string();
    let (code, text, s) = drive(&svc, &["--url", &url, "--body", &b, "--max-failures", "0"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(s["ok"], 0, "{text}");
    assert_eq!(s["failures"]["http_400"], s["requests"], "{text}");
    assert!(s["failure_bodies"][0]
        .as_str()
        .unwrap()
        .starts_with("HTTP 400: "));

    // Not loopback, or https without a CA: refused before any request (exit 2).
    let (code, text, _) = drive(&svc, &["--url", "http://192.0.2.1/v1/attest", "--get"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("not a loopback address"), "{text}");
}

#[test]
fn https_targets_with_the_ca() {
    let svc = Service::start(true);
    let url = svc.url("https", "/v1/attest");
    let jwks = svc.url("https", "/.well-known/jwks.json");
    let ca = svc.dir.path().join("ca.pem").display().to_string();
    let q = quote();
    let (code, text, s) = drive(
        &svc,
        &[
            "--url",
            &url,
            "--quote",
            &q,
            "--policy-id",
            "lenient",
            "--ca-cert",
            &ca,
            "--jwks-url",
            &jwks,
            "--expect",
            "accepted",
            "--max-failures",
            "0",
            "--nonce-every",
            "5",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_clean(&s, "accepted", &text);

    let (code, text, _) = drive(&svc, &["--url", &url, "--quote", &q]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("an https:// URL needs --ca-cert PEM"),
        "{text}"
    );

    // A CA that did not issue the server's certificate: every connection fails.
    let other = tempfile::tempdir().unwrap();
    tls_files(other.path());
    let other_ca = other.path().join("ca.pem").display().to_string();
    let (code, text, s) = drive(
        &svc,
        &[
            "--url",
            &url,
            "--quote",
            &q,
            "--ca-cert",
            &other_ca,
            "--max-failures",
            "0",
        ],
    );
    assert_eq!(code, 1, "{text}");
    assert_eq!(s["ok"], 0, "{text}");
    assert_eq!(s["failures"]["connect_error"], s["requests"], "{text}");
}
