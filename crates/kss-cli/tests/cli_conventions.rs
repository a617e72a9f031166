//! Issue 16 through the real binary: REPORTDATA checks in `kss verify`, JSON errors, and the
//! conventions of `docs/cli.md` (names, times, exit statuses).

mod support {
    pub mod env;
}

use std::path::Path;
use std::process::Output;
use support::env::{kss, testdata, text, write};

const PHALA_QUOTE: &str = "phala-dcap-qvl/sgx_quote";
const PHALA_COLLATERAL: &str = "phala-dcap-qvl/sgx_quote_collateral.json";
const PHALA_AT: &str = "1752919277";
/// REPORTDATA of the phala sample: "Hello, world!" then zeros.
const PHALA_REPORT_DATA: &str = "48656c6c6f2c20776f726c6421000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

fn policy(dir: &Path, extra: &str) -> String {
    write(
        dir,
        "policy.json",
        format!(
            r#"{{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]{extra}}}"#
        )
        .as_bytes(),
    )
}

fn verify_json(extra: &[&str]) -> (Output, serde_json::Value) {
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    let mut args = vec!["verify", &q, "--collateral", &c, "--at", PHALA_AT, "--json"];
    args.extend_from_slice(extra);
    let o = kss(&args);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", text(&o.stdout), text(&o.stderr)));
    (o, v)
}

fn check<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {v}"))
}

#[test]
fn report_data_exact_and_prefix_are_named_checks() {
    let d = tempfile::tempdir().unwrap();
    let p = policy(d.path(), "");
    let (o, v) = verify_json(&["--policy", &p, "--report-data", PHALA_REPORT_DATA]);
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(check(&v, "report_data.exact")["outcome"], "pass");

    // "Hello" is a prefix; "Bye" is not, and the reason shows both.
    let (o, v) = verify_json(&["--policy", &p, "--report-data", "48656c6c6f"]);
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(check(&v, "report_data.prefix")["outcome"], "pass");
    let (o, v) = verify_json(&["--policy", &p, "--report-data", "427965"]);
    assert_eq!(o.status.code(), Some(1));
    let c = check(&v, "report_data.prefix");
    assert_eq!(c["outcome"], "fail");
    assert!(
        c["reason"].as_str().unwrap().contains("expected 427965"),
        "{c}"
    );

    // Text form names the failed check.
    let (q, col) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    let o = kss(&[
        "verify",
        &q,
        "--collateral",
        &col,
        "--at",
        PHALA_AT,
        "--policy",
        &p,
        "--report-data",
        &"00".repeat(64),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("report_data.exact"),
        "{}",
        text(&o.stderr)
    );

    // Bad hex: exit 2, names the option and the accepted forms.
    let o = kss(&["verify", &q, "--collateral", &col, "--report-data", "zz"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--report-data: 'zz' is not valid: expected 1 to 64 bytes"));
}

#[test]
fn runtime_data_hash_must_open_report_data() {
    let d = tempfile::tempdir().unwrap();
    let p = policy(d.path(), "");
    let rt = write(d.path(), "key.pub", b"Hello, world!");
    for hash in ["sha256", "sha512"] {
        let (o, v) = verify_json(&[
            "--policy",
            &p,
            "--runtime-data",
            &rt,
            "--runtime-data-hash",
            hash,
        ]);
        assert_eq!(o.status.code(), Some(1), "{v}");
        let c = check(&v, "report_data.runtime_data");
        assert_eq!(c["outcome"], "fail");
        assert!(c["reason"].as_str().unwrap().contains(hash), "{c}");
    }
    // Without --runtime-data-hash either digest may open REPORTDATA, as in `kss serve`: the
    // reason names both; with it, only the one asked for.
    let (o, v) = verify_json(&["--policy", &p, "--runtime-data", &rt]);
    assert_eq!(o.status.code(), Some(1), "{v}");
    let reason = check(&v, "report_data.runtime_data")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("SHA-256(runtime_data) = 315f5bdb76d078c43b8ac0064e4a0164612b1fce77c869345bfc94c75894edd3")
            && reason.contains("nor with SHA-512(runtime_data)"),
        "{reason}"
    );
    let (_, v) = verify_json(&[
        "--policy",
        &p,
        "--runtime-data",
        &rt,
        "--runtime-data-hash",
        "sha256",
    ]);
    let reason = check(&v, "report_data.runtime_data")["reason"].to_string();
    assert!(
        !reason.to_lowercase().contains("sha512") && !reason.contains("SHA-512"),
        "{reason}"
    );
    // A missing runtime data file is bad input naming the file.
    let (o, v) = verify_json(&["--policy", &p, "--runtime-data", "/nonexistent/rt.bin"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(v["error"]["kind"], "input");
    assert_eq!(v["error"]["input"], "/nonexistent/rt.bin");
}

/// `kss config-id --json`: an error names the instance directory, or the file in it, that it is
/// about. (`kss run` and `kss serve` have no `--json`; their errors' inputs are pinned by unit
/// tests in `src/cmd/run.rs` and `src/cmd/serve.rs`.)
#[test]
fn config_id_json_errors_name_the_instance_or_its_occlum_json() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("missing");
    let missing = missing.to_str().unwrap();
    let o = kss(&["config-id", missing, "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON error");
    assert_eq!(v["error"]["kind"], "input");
    assert_eq!(v["error"]["input"], missing);
    assert_eq!(
        text(&o.stderr),
        format!(
            "kss: error: '{missing}' does not exist; create an instance with `kss new DIR` or point at one\n"
        )
    );
    let inst = d.path().join("app");
    let inst = inst.to_str().unwrap();
    assert_eq!(kss(&["new", inst]).status.code(), Some(0));
    std::fs::write(format!("{inst}/Occlum.json"), b"{").unwrap();
    let o = kss(&["config-id", inst, "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON error");
    assert_eq!(v["error"]["input"], format!("{inst}/Occlum.json"));
}

#[test]
fn policy_report_data_prefix() {
    let d = tempfile::tempdir().unwrap();
    let p = policy(d.path(), r#", "report_data_prefix": "48656c6c6f""#);
    let (o, v) = verify_json(&["--policy", &p]);
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(check(&v, "policy.report_data_prefix")["outcome"], "pass");
    let p = policy(d.path(), r#", "report_data_prefix": "ff""#);
    let (o, v) = verify_json(&["--policy", &p]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(check(&v, "policy.report_data_prefix")["outcome"], "fail");
    let p = policy(d.path(), r#", "report_data_prefix": "xyz""#);
    let (o, v) = verify_json(&["--policy", &p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("report_data_prefix"));
}

#[test]
fn json_errors_go_to_stdout_with_the_same_status() {
    let o = kss(&["quote", "inspect", "/nonexistent/q.bin", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON error on stdout");
    assert_eq!(v["error"]["kind"], "input");
    assert_eq!(v["error"]["input"], "/nonexistent/q.bin");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/q.bin"));
    assert!(
        text(&o.stderr).contains("kss: error:"),
        "text stays on stderr"
    );
    // Without --json stdout stays empty.
    let o = kss(&["quote", "inspect", "/nonexistent/q.bin"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

#[test]
fn one_name_per_concept_and_missing_files_are_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let inst = d.path().join("app");
    let inst = inst.to_str().unwrap();
    let o = kss(&["new", inst]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // `build --key` like `sign --key`; the old `--sign-key` still parses. Both name the file.
    for flag in ["--key", "--sign-key"] {
        let o = kss(&["build", inst, flag, "/nonexistent/missing.pem"]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("/nonexistent/missing.pem"),
            "{}",
            text(&o.stderr)
        );
        assert!(
            text(&o.stderr).contains("kss keygen"),
            "{}",
            text(&o.stderr)
        );
    }
    let o = kss(&[
        "sign",
        "--key",
        "/nonexistent/missing.pem",
        "--enclave-hash",
        &"00".repeat(32),
        "--out",
        "/nonexistent/x.sig",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));

    // `sim-ca export --at` takes RFC 3339 like `verify --at`; `--now` is the old name.
    let ca = d.path().join("ca");
    let out = d.path().join("out");
    let o = kss(&[
        "sim-ca",
        "export",
        out.to_str().unwrap(),
        "--sim-ca-dir",
        ca.to_str().unwrap(),
        "--at",
        "2025-07-19T10:01:17Z",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = kss(&[
        "sim-ca",
        "export",
        out.to_str().unwrap(),
        "--sim-ca-dir",
        ca.to_str().unwrap(),
        "--now",
        "1752919277",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Exporting onto an existing file is bad input (exit 2) naming it.
    let file = write(d.path(), "afile", b"x");
    let o = kss(&[
        "sim-ca",
        "export",
        &file,
        "--sim-ca-dir",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains(&file));

    // `policy from-instance --config-id-file` like `kss run --config-id-file`.
    let o = kss(&[
        "policy",
        "from-instance",
        inst,
        "--config-id-file",
        "/nonexistent/cfg.bin",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        !text(&o.stderr).contains("unexpected argument"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn policy_json_errors_name_the_key_in_words() {
    let d = tempfile::tempdir().unwrap();
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    for (body, want) in [
        (
            format!(r#"{{"mr_enclave": "{}"}}"#, "ab".repeat(32)),
            "key \"mr_enclave\": expected a list (JSON array), found the string",
        ),
        (
            r#"{"min_config_svn": 70000}"#.to_string(),
            "key \"min_config_svn\": expected an integer from 0 to 65535, found the number 70000",
        ),
    ] {
        let p = write(d.path(), "p.json", body.as_bytes());
        let o = kss(&["verify", &q, "--collateral", &c, "--policy", &p]);
        assert_eq!(o.status.code(), Some(2));
        let err = text(&o.stderr);
        assert!(err.contains(want) && err.contains("p.json"), "{err}");
    }
}

#[test]
fn occlum_json_typo_in_metadata_is_an_error_and_the_template_builds_quietly() {
    let d = tempfile::tempdir().unwrap();
    let inst = d.path().join("app");
    let inst = inst.to_str().unwrap();
    assert_eq!(kss(&["new", inst]).status.code(), Some(0));
    let o = kss(&["build", inst]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        !text(&o.stderr).contains("not used by kss"),
        "{}",
        text(&o.stderr)
    );
    let cfg = Path::new(inst).join("Occlum.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    v["metadata"]["enable_ksss"] = serde_json::json!(true);
    std::fs::write(&cfg, serde_json::to_vec(&v).unwrap()).unwrap();
    let o = kss(&["build", inst]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("metadata.enable_ksss (did you mean metadata.enable_kss?)"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn completions_for_every_shell_know_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = kss(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", text(&o.stderr));
        let script = text(&o.stdout);
        for word in ["verify", "sim-ca", "completions", "runtime-data-hash"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let o = kss(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("possible values: bash, elvish, fish, powershell, zsh"));
}

#[test]
fn man_pages_for_kss_and_every_subcommand() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("man1");
    let o = kss(&["man", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let page = |name: &str| {
        std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let top = page("kss.1");
    let version = format!("kss {}", env!("CARGO_PKG_VERSION"));
    assert!(
        top.contains(".TH kss 1 ") && top.contains(&version),
        "{top}"
    );
    assert!(top.contains("kss\\-verify(1)"), "{top}");
    let verify = page("kss-verify.1");
    assert!(verify.contains(".TH kss-verify 1 "), "{verify}");
    for opt in [
        "\\-\\-runtime\\-data\\-hash",
        "\\-\\-report\\-data",
        "\\-\\-at",
    ] {
        assert!(verify.contains(opt), "kss-verify.1 lacks {opt}");
    }
    let export = page("kss-sim-ca-export.1");
    assert!(export.contains(".TH kss-sim-ca-export 1 "), "{export}");
    assert!(export.contains("root_ca_crl.der"), "{export}");
    // Every listed file is a man page; nothing else (no temp files) is left.
    let n = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(n, text(&o.stdout).lines().count());
    assert!(n > 30, "{n} pages");

    // Without --out: kss.1 on stdout. Onto an existing file: exit 2 naming it.
    let o = kss(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains(".TH kss 1 "));
    let file = write(d.path(), "afile", b"x");
    let o = kss(&["man", "--out", &file]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains(&file));
}

#[test]
fn help_lists_exported_files_and_defaults_once() {
    let o = kss(&["sim-ca", "export", "--help"]);
    let help = text(&o.stdout);
    for f in [
        "root.pem",
        "collateral.json",
        "tcb_info.json",
        "qe_identity_issuer_chain.pem",
        "pck_crl.der",
        "root_ca_crl.der",
        "pck_chain.pem",
    ] {
        assert!(help.contains(f), "{f}: {help}");
    }
    assert!(!help.contains("root_ca.crl"), "{help}");
    let o = kss(&["build", "--help"]);
    let help = text(&o.stdout);
    assert!(!help.contains("default: the current directory"), "{help}");
    assert_eq!(help.matches("[default: .]").count(), 1, "{help}");
}

/// Percent-encodes as a PCS response header value does (what `curl -D` saves).
fn url_encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

#[test]
fn collateral_directory_under_intel_pcs_names() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("pcs");
    std::fs::create_dir(&dir).unwrap();
    let s = "intel-qvl-sampledata/";
    let read = |f: &str| std::fs::read(testdata(&format!("{s}{f}"))).unwrap();
    for f in [
        "tcbInfo.json",
        "tcbSignChain.pem",
        "qeIdentity.json",
        "intermediateCaCrl.der",
        "pckSignChain.pem",
        "rootCaCrl.der",
    ] {
        std::fs::write(dir.join(f), read(f)).unwrap();
    }
    let mut chain = read("pckCert.pem");
    chain.extend(read("pckSignChain.pem"));
    std::fs::write(dir.join("pckCertChain.pem"), chain).unwrap();
    let (q, root) = (
        testdata(&format!("{s}quote.dat")),
        testdata(&format!("{s}trustedRootCaCert.pem")),
    );
    let dirs = dir.to_str().unwrap();
    let verify = || {
        kss(&[
            "verify",
            &q,
            "--collateral",
            dirs,
            "--trust-root",
            &root,
            "--at",
            "1700000000",
        ])
    };
    let o = verify();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("ACCEPTED"), "{}", text(&o.stdout));

    // The TCB issuer chain as saved from the response header: named after it, URL-encoded.
    std::fs::remove_file(dir.join("tcbSignChain.pem")).unwrap();
    std::fs::write(
        dir.join("TCB-Info-Issuer-Chain"),
        url_encode(&read("tcbSignChain.pem")),
    )
    .unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

    // The same piece under two names: refused, naming both.
    std::fs::write(dir.join("tcb_info.json"), read("tcbInfo.json")).unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr)
            .contains("TCB info: found under several names (tcb_info.json, tcbInfo.json)"),
        "{}",
        text(&o.stderr)
    );

    // A missing piece: every name looked for.
    std::fs::remove_file(dir.join("tcb_info.json")).unwrap();
    std::fs::remove_file(dir.join("tcbInfo.json")).unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(&format!(
            "{dirs}: missing TCB info (looked for tcb_info.json, tcbInfo.json, tcbinfo.json, tcb.json)"
        )),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn collateral_json_errors_name_the_key_in_words() {
    let d = tempfile::tempdir().unwrap();
    let q = testdata(PHALA_QUOTE);
    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(testdata(PHALA_COLLATERAL)).unwrap()).unwrap();
    // dcap-rs style: the TCB info as an object instead of the signed text.
    let mut dcap_rs = good.clone();
    let tcb: serde_json::Value = serde_json::from_str(good["tcb_info"].as_str().unwrap()).unwrap();
    dcap_rs["tcb_info"] = tcb;
    let mut no_crl = good.clone();
    no_crl.as_object_mut().unwrap().remove("pck_crl");
    let mut number = good.clone();
    number["qe_identity_signature"] = serde_json::json!(42);
    for (doc, want) in [
        (
            dcap_rs,
            "key \"tcb_info\": expected a string (the exact signed TCB info JSON text), found an object (JSON {...}); this looks like another tool's collateral layout (e.g. dcap-rs)",
        ),
        (
            no_crl,
            "key \"pck_crl\": missing (a dcap-qvl QuoteCollateralV3 file has the string keys pck_crl_issuer_chain, root_ca_crl, pck_crl,",
        ),
        (
            number,
            "key \"qe_identity_signature\": expected a string (hex r || s), found the number 42",
        ),
        (
            serde_json::json!(["not", "an", "object"]),
            "the document: expected an object (dcap-qvl QuoteCollateralV3 JSON), found a list (JSON array)",
        ),
    ] {
        let c = write(d.path(), "c.json", &serde_json::to_vec(&doc).unwrap());
        let o = kss(&["verify", &q, "--collateral", &c, "--json"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains(&format!("{c}: {want}")), "{err}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["error"]["input"], c.as_str());
    }
}

/// Every command with an input file: a missing one is exit 2 naming it; with `--json` the
/// same status and `{"error": {"kind": "input", "input": FILE, ...}}` on stdout.
#[test]
fn a_missing_input_file_is_exit_2_naming_it_in_every_command() {
    let d = tempfile::tempdir().unwrap();
    let m = "/nonexistent/missing.bin";
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    let out = d.path().join("out").to_str().unwrap().to_string();
    let hash = "00".repeat(32);
    // (arguments, whether the command has --json)
    let table: Vec<(Vec<&str>, bool)> = vec![
        (vec!["measure", m], true),
        (
            vec!["sign", "--key", m, "--enclave-hash", &hash, "--out", &out],
            false,
        ),
        (vec!["inspect", "sigstruct", m], true),
        (vec!["inspect", "sealed", m], true),
        (vec!["quote", "inspect", m], true),
        (vec!["verify", m, "--collateral", &c], true),
        (vec!["verify", &q, "--collateral", m], true),
        (vec!["verify", &q, "--collateral", &c, "--policy", m], true),
        (
            vec!["verify", &q, "--collateral", &c, "--trust-root", m],
            true,
        ),
        (
            vec!["verify", &q, "--collateral", &c, "--pck-chain", m],
            true,
        ),
        (
            vec!["verify", &q, "--collateral", &c, "--runtime-data", m],
            true,
        ),
        (vec!["policy", "from-sigstruct", m], false),
        (vec!["policy", "convert", "--from", "intel", m], false),
        (vec!["policy", "check", m], false),
        (vec!["collateral", "fetch", m, "--out", &out], false),
        (vec!["attest", m, "--server", "http://127.0.0.1:1"], true),
        (vec!["token", "verify", m, "--jwks", m], true),
        (
            vec![
                "serve",
                "--signing-key",
                m,
                "--policy-dir",
                &out,
                "--collateral",
                &c,
            ],
            false,
        ),
        (vec!["build", "/nonexistent/inst", "--key", m], true),
    ];
    for (args, has_json) in table {
        let o = kss(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(m), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
        if !has_json {
            continue;
        }
        let mut with_json = args.clone();
        with_json.push("--json");
        let o = kss(&with_json);
        assert_eq!(o.status.code(), Some(2), "{with_json:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{with_json:?}: no JSON error ({e}): {}", text(&o.stdout)));
        assert_eq!(v["error"]["kind"], "input", "{with_json:?}: {v}");
        assert_eq!(v["error"]["input"], m, "{with_json:?}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(m),
            "{with_json:?}: {v}"
        );
    }
}

#[test]
fn small_messages_say_what_is_wrong() {
    let d = tempfile::tempdir().unwrap();
    let inst = d.path().join("app");
    let inst = inst.to_str().unwrap();
    assert_eq!(kss(&["new", inst]).status.code(), Some(0));
    assert_eq!(kss(&["build", inst]).status.code(), Some(0));
    let err = |args: &[&str], status: i32| {
        let o = kss(args);
        assert_eq!(
            o.status.code(),
            Some(status),
            "{args:?}: {}",
            text(&o.stderr)
        );
        text(&o.stderr)
    };
    // A negative CONFIGSVN is answered by the range check, not the parser's "-- -1" tip.
    let e = err(&["run", inst, "--config-svn", "-1", "--", "/bin/true"], 121);
    assert!(
        e.contains("--config-svn: '-1' is not a number from 0 to 65535"),
        "{e}"
    );
    assert!(!e.contains("-- -1"), "{e}");
    // Bad base64: the character and its position.
    let e = err(
        &["run", inst, "--config-id", "ab*c", "--", "/bin/true"],
        121,
    );
    assert!(
        e.contains("character '*' at position 3 is not base64"),
        "{e}"
    );
    // A directory that does not exist.
    let missing = d.path().join("nosuchdir");
    let e = err(&["build", missing.to_str().unwrap()], 2);
    assert!(
        e.contains(&format!("'{}' does not exist", missing.display())),
        "{e}"
    );
    // A key that is neither PEM nor DER: one sentence, no ASN.1 dump.
    let key = write(d.path(), "k.pem", b"hello\n");
    let hash = "00".repeat(32);
    let out = d.path().join("x.sig");
    let e = err(
        &[
            "sign",
            "--key",
            &key,
            "--enclave-hash",
            &hash,
            "--out",
            out.to_str().unwrap(),
        ],
        2,
    );
    assert!(e.contains("not an RSA private key: expected PEM"), "{e}");
    assert!(!e.contains("ASN.1"), "{e}");
    // A plain date for --at: the accepted forms, with the date completed.
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    let e = err(&["verify", &q, "--collateral", &c, "--at", "2025-07-19"], 2);
    assert!(e.contains("a date alone is not a time"), "{e}");
    assert!(e.contains("2025-07-19T00:00:00Z"), "{e}");
    // A write into a missing directory names the directory, not a temporary file.
    let nodir = d.path().join("nodir");
    let key = testdata("fortanix-rust-sgx/enclave-runner-dummy.key");
    let sig = nodir.join("x.sig");
    let e = err(
        &[
            "sign",
            "--key",
            &key,
            "--enclave-hash",
            &hash,
            "--out",
            sig.to_str().unwrap(),
        ],
        3,
    );
    assert!(
        e.contains(&format!("{}: directory does not exist", nodir.display())),
        "{e}"
    );
    assert!(!e.contains(".kss-"), "{e}");
}

#[test]
fn argument_errors_with_json_are_json_too() {
    let o = kss(&["verify", "q.bin", "--json", "--no-such-option"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON error");
    assert_eq!(v["error"]["kind"], "input");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unexpected argument '--no-such-option'"),
        "{v}"
    );
    assert!(text(&o.stderr).contains("--no-such-option"));
    // --help stays help, with nothing extra on stdout.
    let o = kss(&["verify", "--json", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).starts_with("Verify a DCAP quote"));
}

/// Every time option goes through one parser: the same forms, the same message.
#[test]
fn one_time_syntax_in_every_command() {
    let d = tempfile::tempdir().unwrap();
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    let (out, cache, key, ca) = (p("out"), p("cache"), p("none.pem"), p("ca"));
    let dir = d.path().to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["verify", &q, "--collateral", &c],
        vec![
            "collateral",
            "fetch",
            &q,
            "--out",
            &out,
            "--offline",
            "--cache-dir",
            &cache,
        ],
        vec![
            "serve",
            "--signing-key",
            &key,
            "--policy-dir",
            dir,
            "--collateral",
            &c,
        ],
        vec!["sim-ca", "export", &out, "--sim-ca-dir", &ca],
    ];
    for args in commands {
        let mut bad = args.clone();
        bad.extend(["--at", "2025-07-19"]);
        let o = kss(&bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(
            text(&o.stderr).contains(
                "--at: \"2025-07-19\" is not a time (a date alone is not a time: expected Unix \
                 seconds or RFC 3339 with a time of day and a zone, e.g. 2025-07-19T00:00:00Z)"
            ),
            "{bad:?}: {}",
            text(&o.stderr)
        );
    }
    // Both forms name the same instant: verify accepts the sample at either.
    for at in [
        PHALA_AT,
        "2025-07-19T10:01:17Z",
        "2025-07-19T12:01:17+02:00",
    ] {
        let o = kss(&[
            "verify",
            &q,
            "--collateral",
            &c,
            "--at",
            at,
            "--policy",
            &policy(d.path(), ""),
        ]);
        assert_eq!(o.status.code(), Some(0), "{at}: {}", text(&o.stderr));
        assert!(
            text(&o.stdout).contains("2025-07-19T10:01:17Z (1752919277)"),
            "{}",
            text(&o.stdout)
        );
    }
}

/// Runs kss with `args`, which must fail as bad input (status 2), and returns its stdout.
fn input_error_stdout(args: &[&str]) -> String {
    let o = kss(args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    text(&o.stdout)
}

/// The exact bytes of the JSON error object on stdout: key order, pretty-printing and `null`
/// for an absent input or hint, for an error of a command and for one that clap reports.
#[test]
fn json_error_bytes() {
    let quote = testdata(PHALA_QUOTE);
    let command = [
        "verify",
        &quote,
        "--collateral",
        "/nonexistent/c.json",
        "--json",
    ];
    assert_eq!(
        input_error_stdout(&command),
        r#"{
  "error": {
    "kind": "input",
    "message": "/nonexistent/c.json: cannot read: No such file or directory (os error 2)",
    "input": "/nonexistent/c.json",
    "hint": "see `kss verify --help` for the collateral forms"
  }
}
"#
    );
    assert_eq!(
        input_error_stdout(&["--json", "frobnicate"]),
        r#"{
  "error": {
    "kind": "input",
    "message": "unexpected argument '--json' found",
    "input": null,
    "hint": null
  }
}
"#
    );
}
