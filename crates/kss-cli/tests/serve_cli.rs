//! `kss serve`, `kss attest` and `kss token verify` through the real binary on a loopback port:
//! a simulated KSS quote from `kss run` and the real phala quote give the same verdict as
//! `kss verify --json`; tokens verify against the JWKS (URL and file) with the nonce; SIGHUP
//! reloads policies (a bad one is refused); SIGTERM drains and exits 0; a readable key or a bad
//! policy refuses to start.

mod support {
    pub mod env;
    pub mod pccs;
}

use sha2::Digest;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::env::{json, Env, KSS, TESTDATA};
use support::pccs::{Fixture, Pccs};

const PHALA_AT: &str = "1752919277";

/// A test directory with an empty `policies/` for `kss serve --policy-dir`.
fn serve_env() -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.path("policies")).unwrap();
    env
}

impl Env {
    fn policy(&self, id: &str, text: &str) {
        std::fs::write(self.path(&format!("policies/{id}.json")), text).unwrap();
    }
}

/// A running `kss serve` child.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start(env: &Env, extra: &[&str]) -> Self {
        env.ok(&["token", "keygen", "--out", "key.pem"]);
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--signing-key",
            "key.pem",
            "--policy-dir",
            "policies",
            "--log-level",
            "warn",
        ];
        args.extend_from_slice(extra);
        let mut child = env
            .cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(env.path("serve.log")).unwrap(),
            ))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("kss serve: listening on ") else {
            let _ = child.kill();
            panic!(
                "kss serve did not start: {line:?}; log: {}",
                std::fs::read_to_string(env.path("serve.log")).unwrap_or_default()
            );
        };
        Serve {
            url: url.to_string(),
            child,
        }
    }

    fn signal(&self, sig: &str) {
        let s = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(s.success());
    }

    /// SIGTERM, then the exit status (bounded wait).
    fn stop(mut self) -> Option<i32> {
        self.signal("TERM");
        for _ in 0..200 {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("kss serve did not exit within 10 s of SIGTERM");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn pretty(v: &serde_json::Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).unwrap())
}

#[test]
fn simulated_kss_quote_through_the_service() {
    let env = serve_env();
    // A KSS instance, launched with a CONFIGID/CONFIGSVN; its quote binds runtime data.
    env.ok(&["new", "app"]);
    let occlum = env.path("app/Occlum.json");
    let mut c = json(&std::fs::read_to_string(&occlum).unwrap());
    c["metadata"]["enable_kss"] = true.into();
    c["metadata"]["family_id"] = serde_json::json!({"high": "0x3", "low": "0x4"});
    c["resource_limits"]["max_num_of_threads"] = 2.into();
    std::fs::write(&occlum, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
    std::fs::copy(KSS, env.path("app/image/bin/kss")).unwrap();
    env.ok(&["build", "app"]);
    std::fs::write(env.path("runtime.bin"), b"the workload's public key").unwrap();
    let digest = hex::encode(sha2::Sha256::digest(b"the workload's public key"));
    let q = env.path("quote.bin").to_string_lossy().into_owned();
    env.ok(&[
        "run",
        "-q",
        "app",
        "--config-id-hex",
        "c0ffee",
        "--config-svn",
        "0x12ab",
        "--",
        "/bin/kss",
        "enclave",
        "quote",
        "--report-data",
        &format!("0x{digest}"),
        "--out",
        &q,
    ]);
    let now = kss_now();
    env.ok(&["sim-ca", "export", "ca", "--now", &now.to_string()]);
    let at = (now + 60).to_string();
    let policy = env.ok(&[
        "policy",
        "from-instance",
        "app",
        "--config-id-hex",
        "c0ffee",
        "--min-config-svn",
        "0x12ab",
    ]);
    env.policy("app", &policy);
    let serve = Serve::start(
        &env,
        &[
            "--collateral",
            "ca/collateral.json",
            "--trust-root",
            "ca/root.pem",
            "--at",
            &at,
        ],
    );

    // The service's verdict is kss verify's, byte for byte.
    let answer = json(&env.ok(&[
        "attest",
        "quote.bin",
        "--server",
        &serve.url,
        "--policy",
        "app",
        "--json",
        "--token-out",
        "tok",
    ]));
    let local = env.ok(&[
        "verify",
        "quote.bin",
        "--collateral",
        "ca/collateral.json",
        "--trust-root",
        "ca/root.pem",
        "--policy",
        "policies/app.json",
        "--at",
        &at,
        "--json",
    ]);
    assert_eq!(pretty(&answer["verdict"]), local);
    assert_eq!(answer["verdict"]["accepted"], true);
    let claims = json(&env.ok(&[
        "token",
        "verify",
        "tok",
        "--jwks",
        &format!("{}/.well-known/jwks.json", serve.url),
        "--json",
    ]));
    assert_eq!(claims["submods"]["sgx"]["ear.status"], "affirming");
    assert_eq!(
        claims["submods"]["sgx"]["ear.veraison.annotated-evidence"]["report_body"]["config_svn"],
        0x12ab
    );

    // Runtime data, with a nonce: the token carries the nonce; a JWKS file works as well.
    let text = env.ok(&[
        "attest",
        "quote.bin",
        "--server",
        &serve.url,
        "--policy",
        "app",
        "--nonce",
        "--runtime-data",
        "runtime.bin",
        "--token-out",
        "tok2",
    ]);
    assert!(
        text.contains("ACCEPTED") && text.contains("SHA-256(runtime_data)"),
        "{text}"
    );
    // The service's report body and TCB status are shown as kss verify shows them: the same
    // renderer, line for line.
    let local_text = env.ok(&[
        "verify",
        "quote.bin",
        "--collateral",
        "ca/collateral.json",
        "--trust-root",
        "ca/root.pem",
        "--policy",
        "policies/app.json",
        "--at",
        &at,
    ]);
    let from = |t: &str, start: &str| -> Vec<String> {
        let mut lines = t.lines().skip_while(|l| !l.starts_with(start));
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("no {start:?} in {t}"));
        std::iter::once(first)
            .chain(lines.take_while(|l| l.starts_with(' ')))
            .map(str::to_string)
            .collect()
    };
    let body = from(&text, "ISV enclave report:");
    assert_eq!(body.len(), 17, "{text}");
    assert!(
        body.contains(&"  * config_svn       4779".to_string()),
        "{text}"
    );
    assert_eq!(body, from(&local_text, "ISV enclave report:"));
    assert_eq!(
        from(&text, "TCB status:"),
        ["TCB status:   UpToDate (platform UpToDate, QE UpToDate)"]
    );
    assert_eq!(from(&text, "TCB status:"), from(&local_text, "TCB status:"));
    let jwks = env.ok(&[
        "token",
        "verify",
        "tok2",
        "--jwks",
        &format!("{}/.well-known/jwks.json", serve.url),
        "--json",
    ]);
    let nonce = json(&jwks)["eat_nonce"].as_str().unwrap().to_string();
    let o = env.kss(&[
        "attest",
        "quote.bin",
        "--server",
        &serve.url,
        "--policy",
        "app",
        "--json",
    ]);
    assert!(o.status.success());
    // A JWKS saved to a file; the nonce must match.
    let key = std::fs::read_to_string(env.path("key.pem")).unwrap();
    assert!(key.contains("PRIVATE KEY"));
    let jwks_doc = {
        let (_s, body) = http_get(&serve.url, "/.well-known/jwks.json");
        assert!(!body.contains("\"d\""), "no private part in the JWKS");
        body
    };
    std::fs::write(env.path("jwks.json"), &jwks_doc).unwrap();
    env.ok(&[
        "token",
        "verify",
        "tok2",
        "--jwks",
        "jwks.json",
        "--nonce",
        &nonce,
    ]);
    let o = env.kss(&[
        "token",
        "verify",
        "tok2",
        "--jwks",
        "jwks.json",
        "--nonce",
        "another",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // A token altered in one byte of its claims does not verify.
    let tok = std::fs::read_to_string(env.path("tok2")).unwrap();
    let mut parts: Vec<String> = tok.trim().split('.').map(String::from).collect();
    parts[1] = parts[1].replacen('e', "f", 1);
    std::fs::write(env.path("tok3"), parts.join(".")).unwrap();
    assert_eq!(
        env.kss(&["token", "verify", "tok3", "--jwks", "jwks.json"])
            .status
            .code(),
        Some(1)
    );
    // Other runtime data: rejected, with that reason.
    std::fs::write(env.path("other.bin"), b"something else").unwrap();
    let o = env.kss(&[
        "attest",
        "quote.bin",
        "--server",
        &serve.url,
        "--policy",
        "app",
        "--runtime-data",
        "other.bin",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("report_data.runtime_data"));

    // SIGHUP: a new policy takes effect; a broken one is refused and the old set stays.
    env.policy("newer", r#"{"min_config_svn": 4780}"#);
    serve.signal("HUP");
    wait_for_policy(&serve.url, "newer");
    let o = env.kss(&[
        "attest",
        "quote.bin",
        "--server",
        &serve.url,
        "--policy",
        "newer",
    ]);
    assert_eq!(o.status.code(), Some(1), "CONFIGSVN 0x12ab < 4780");
    env.policy("broken", r#"{"min_config_svn": -1}"#);
    env.policy("later", r#"{}"#);
    serve.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    let o = env.kss(&[
        "attest",
        "quote.bin",
        "--server",
        &serve.url,
        "--policy",
        "later",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "404: the refused set never took effect"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("404"));
    let o = env.kss(&[
        "attest",
        "quote.bin",
        "--server",
        &serve.url,
        "--policy",
        "newer",
    ]);
    assert_eq!(o.status.code(), Some(1), "the old set is still in force");
    let (_, metrics) = http_get(&serve.url, "/metrics");
    assert!(
        metrics.contains("kss_policy_reload_errors_total 1"),
        "{metrics}"
    );

    assert_eq!(serve.stop(), Some(0), "SIGTERM: clean exit");
    let log = std::fs::read_to_string(env.path("serve.log")).unwrap();
    assert!(
        log.contains("broken.json"),
        "the refusal is logged with its error: {log}"
    );
    // Neither the key nor quote bytes reach the log.
    assert!(!log.contains("PRIVATE KEY"));
    let quote_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(env.path("quote.bin")).unwrap())
    };
    assert!(!log.contains(&quote_b64[..40]));
}

#[test]
fn real_quote_service_verdict_equals_kss_verify() {
    let env = serve_env();
    let col = format!("{TESTDATA}/phala-dcap-qvl/sgx_quote_collateral.json");
    let quote = format!("{TESTDATA}/phala-dcap-qvl/sgx_quote");
    env.policy(
        "lenient",
        r#"{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}"#,
    );
    let serve = Serve::start(
        &env,
        &["--collateral", &col, "--at", "2025-07-19T10:01:17Z"],
    );
    for (policy, file, code) in [
        ("default", None, 1),
        ("lenient", Some("policies/lenient.json"), 0),
    ] {
        let o = env.kss(&[
            "attest", &quote, "--server", &serve.url, "--policy", policy, "--json",
        ]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let answer = json(&String::from_utf8_lossy(&o.stdout));
        let mut args = vec![
            "verify",
            &quote,
            "--collateral",
            &col,
            "--at",
            PHALA_AT,
            "--json",
        ];
        if let Some(f) = file {
            args.extend(["--policy", f]);
        }
        let local = env.kss(&args);
        assert_eq!(local.status.code(), Some(code));
        assert_eq!(
            pretty(&answer["verdict"]),
            String::from_utf8_lossy(&local.stdout)
        );
    }
    // Unreachable service: exit 3.
    let o = env.kss(&["attest", &quote, "--server", "http://127.0.0.1:1"]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(serve.stop(), Some(0));
}

#[test]
fn refuses_to_start_with_a_readable_key_or_a_bad_policy() {
    use std::os::unix::fs::PermissionsExt;
    let env = serve_env();
    env.ok(&["token", "keygen", "--out", "key.pem"]);
    let col = format!("{TESTDATA}/phala-dcap-qvl/sgx_quote_collateral.json");
    let serve = |env: &Env| {
        env.kss(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--signing-key",
            "key.pem",
            "--policy-dir",
            "policies",
            "--collateral",
            &col,
        ])
    };
    std::fs::set_permissions(env.path("key.pem"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = serve(&env);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("chmod 600") && !err.contains("PRIVATE"),
        "{err}"
    );
    std::fs::set_permissions(env.path("key.pem"), std::fs::Permissions::from_mode(0o600)).unwrap();
    env.policy("bad", r#"{"mr_enclave": ["zz"]}"#);
    let o = serve(&env);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.json") && err.contains("mr_enclave"),
        "{err}"
    );
}

/// `kss serve --pccs`: collateral per quote from an in-test PCCS (the fixtures with real headers,
/// requests counted), through `kss_collateral::PccsSource` on the verification threads. Same
/// verdict as with `--collateral`; the second attestation makes no PCCS request (memory cache);
/// with the PCCS stopped a third one still succeeds, and so does one on a new service that has
/// only the disk cache.
#[test]
fn pccs_collateral_through_the_service_and_its_cache() {
    let col = format!("{TESTDATA}/phala-dcap-qvl/sgx_quote_collateral.json");
    let quote = format!("{TESTDATA}/phala-dcap-qvl/sgx_quote");
    let lenient = r#"{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}"#;
    let attest = |env: &Env, url: &str| {
        let o = env.kss(&[
            "attest", &quote, "--server", url, "--policy", "lenient", "--json",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        json(&String::from_utf8_lossy(&o.stdout))["verdict"].clone()
    };

    // The verdict with fixed collateral.
    let fixed_env = serve_env();
    fixed_env.policy("lenient", lenient);
    let fixed = Serve::start(&fixed_env, &["--collateral", &col, "--at", PHALA_AT]);
    let expected = attest(&fixed_env, &fixed.url);
    assert_eq!(expected["accepted"], true);
    assert_eq!(fixed.stop(), Some(0));

    let env = serve_env();
    env.policy("lenient", lenient);
    let cache = env.path("cache").display().to_string();
    let pccs = Pccs::start(Fixture::from_dcap_qvl(
        &std::fs::read(&col).unwrap(),
        "00A067110000",
        "processor",
    ));
    let pccs_url = pccs.url();
    let serve = Serve::start(
        &env,
        &["--pccs", &pccs_url, "--cache-dir", &cache, "--at", PHALA_AT],
    );
    assert_eq!(http_get(&serve.url, "/readyz").0, 200);
    assert_eq!(attest(&env, &serve.url), expected);
    let fetched = pccs.count();
    assert!(fetched >= 4, "{:?}", pccs.requests());
    assert_eq!(attest(&env, &serve.url), expected);
    assert_eq!(pccs.count(), fetched, "{:?}", pccs.requests());
    let (_, metrics) = http_get(&serve.url, "/metrics");
    for line in [
        "kss_collateral_cache_misses_total 1\n",
        "kss_collateral_cache_hits_total 1\n",
        "kss_collateral_fetch_errors_total 0\n",
    ] {
        assert!(metrics.contains(line), "{line}: {metrics}");
    }
    // The PCCS stopped: still served (from the source's memory).
    drop(pccs);
    assert_eq!(attest(&env, &serve.url), expected);
    assert_eq!(serve.stop(), Some(0));

    // A new service with the PCCS gone: the pieces come from the disk cache.
    let env2 = serve_env();
    env2.policy("lenient", lenient);
    let serve = Serve::start(
        &env2,
        &["--pccs", &pccs_url, "--cache-dir", &cache, "--at", PHALA_AT],
    );
    assert_eq!(attest(&env2, &serve.url), expected);
    let (_, metrics) = http_get(&serve.url, "/metrics");
    assert!(
        metrics.contains("kss_collateral_cache_hits_total 1\n")
            && metrics.contains("kss_collateral_fetch_errors_total 0\n"),
        "{metrics}"
    );
    assert_eq!(serve.stop(), Some(0));
}

fn kss_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A plain HTTP GET over a std TcpStream (the test does not need an HTTP client crate).
fn http_get(url: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn wait_for_policy(url: &str, id: &str) {
    for _ in 0..100 {
        if http_get(url, &format!("/v1/policies/{id}")).0 == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("policy {id} never appeared after SIGHUP");
}
