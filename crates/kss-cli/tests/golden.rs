//! Golden outputs: stdout, stderr and exit status of representative `kss` invocations, replayed
//! and compared byte for byte with `tests/golden/*.txt`.
//!
//! Only genuinely variable parts are normalised: the temporary directory (`$TMP`), the
//! random parts of sealed blobs (nonces, key ids), and the key order of JSON output. The last
//! depends on the build: `cargo test --workspace` unifies serde_json's `preserve_order` feature
//! (enabled by a kss-attest dev-dependency) into the `kss` binary, `cargo test -p kss` does not.
//! So JSON output is compared with its keys sorted, and each Occlum.json is written here with
//! sorted keys (its bytes are measured into MRENCLAVE). To re-record after an intended output change:
//! `KSS_GOLDEN_UPDATE=1 cargo test -p kss --test golden`, then review the diff.

// A path of its own: next to golden.rs is the directory golden/ (the recorded outputs), where
// rustfmt would look for the module.
#[path = "support/env.rs"]
mod env;

use env::{script, Env, KSS, TESTDATA};
use std::path::{Path, PathBuf};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
const DATE: &str = "20261127";

struct Session {
    env: Env,
    transcript: String,
}

impl Session {
    /// A test directory whose `kss` runs without `KSS_LOG` and colour, and finds the binary
    /// under test as `$KSS_GOLDEN_BIN`.
    fn new() -> Self {
        Session {
            env: Env::new()
                .without_var("KSS_LOG")
                .with_var("NO_COLOR", "1")
                .with_var("KSS_GOLDEN_BIN", KSS),
            transcript: String::new(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.env.path(p)
    }

    fn root(&self) -> String {
        self.env.root().to_string_lossy().into_owned()
    }

    /// Runs `kss args` in the session directory and appends it to the transcript.
    fn kss(&mut self, args: &[&str]) -> i32 {
        let o = self.env.kss(args);
        let code = o.status.code().unwrap_or(-1);
        let root = self.root();
        let norm = |b: &[u8]| {
            normalise(&sort_json_text(
                &String::from_utf8_lossy(b)
                    .replace(&root, "$TMP")
                    .replace(TESTDATA, "$TESTDATA"),
            ))
        };
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.replace(&root, "$TMP").replace(TESTDATA, "$TESTDATA"))
            .collect();
        self.transcript.push_str(&format!(
            "$ kss {}\n[exit {code}]\n--- stdout\n{}--- stderr\n{}=====\n",
            shown.join(" "),
            norm(&o.stdout),
            norm(&o.stderr)
        ));
        code
    }

    /// An instance with the given metadata edits and workload scripts.
    fn instance(&mut self, name: &str, meta: serde_json::Value) {
        assert_eq!(self.kss(&["new", name]), 0);
        let dir = self.path(name);
        let p = dir.join("Occlum.json");
        let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        for (k, v) in meta.as_object().unwrap() {
            c["metadata"][k] = v.clone();
        }
        c["resource_limits"]["max_num_of_threads"] = 2.into();
        std::fs::write(&p, serde_json::to_vec_pretty(&sorted(&c)).unwrap()).unwrap();
        // The workload's `kss` runs the binary under test, but the image holds only this
        // script: the image digest, MRENCLAVE and CONFIGID do not change with the binary.
        script(
            &dir.join("image/bin/kss"),
            "#!/bin/sh\nexec \"$KSS_GOLDEN_BIN\" \"$@\"\n",
        );
        script(
            &dir.join("image/bin/identity"),
            "#!/bin/sh\nexec kss enclave identity\n",
        );
        script(
            &dir.join("image/bin/identity-json"),
            "#!/bin/sh\nexec kss enclave identity --json\n",
        );
        script(&dir.join("image/bin/exit7"), "#!/bin/sh\nexit 7\n");
    }

    fn check(self, name: &str) {
        let file = Path::new(GOLDEN).join(format!("{name}.txt"));
        if std::env::var_os("KSS_GOLDEN_UPDATE").is_some() {
            std::fs::write(&file, &self.transcript).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!("{}: {e} (record with KSS_GOLDEN_UPDATE=1)", file.display())
        });
        if want != self.transcript {
            let got = file.with_extension("actual");
            std::fs::write(&got, &self.transcript).unwrap();
            let first = want
                .lines()
                .zip(self.transcript.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(want.lines().count().min(self.transcript.lines().count()));
            panic!(
                "{name}: output differs from {} at line {} (actual output in {})",
                file.display(),
                first + 1,
                got.display()
            );
        }
    }
}

/// `v` with the keys of every object in sorted order, whatever serde_json's map type.
fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A whole JSON document (pretty-printed, as the CLI prints it) with its keys sorted; any
/// other text unchanged.
fn sort_json_text(text: &str) -> String {
    if !text.starts_with('{') {
        return text.to_string();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => format!("{}\n", serde_json::to_string_pretty(&sorted(&v)).unwrap()),
        Err(_) => text.to_string(),
    }
}

/// Masks the values of fields that are random by design (sealed-blob nonces and key ids).
fn normalise(text: &str) -> String {
    const RANDOM: [&str; 5] = ["key_id", "nonce", "iv", "key id", "KEYID"];
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let field = RANDOM.iter().find(|f| {
            trimmed.starts_with(&format!("\"{f}\":"))
                || trimmed.starts_with(&format!("{f}:"))
                || trimmed.starts_with(&format!("{f} "))
        });
        match field {
            Some(_) => {
                let cut = line.find(':').map(|i| i + 1).unwrap_or(line.len());
                out.push_str(&line[..cut]);
                out.push_str(" <random>");
                if line.ends_with(",\n") {
                    out.push(',');
                }
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

#[test]
fn golden_build_measure_sign_inspect() {
    let mut s = Session::new();
    s.instance(
        "app",
        serde_json::json!({"enable_kss": true, "product_id": 9, "version_number": 4,
        "family_id": {"high": "0x3", "low": "0x4"}, "ext_prod_id": {"high": "0x1", "low": "0x2"}}),
    );
    s.kss(&["build", "app", "--date", DATE]);
    s.kss(&["build", "app", "--date", DATE, "--json"]);
    s.kss(&["build", "app", "--date", DATE]);
    s.kss(&["measure", "app/build/enclave.sgxs"]);
    s.kss(&["measure", "app/build/enclave.sgxs", "--json"]);
    s.kss(&["inspect", "sigstruct", "app/build/enclave.sig"]);
    s.kss(&["inspect", "sigstruct", "app/build/enclave.sig", "--json"]);
    s.kss(&["config-id", "app"]);
    let key = format!("{TESTDATA}/fortanix-rust-sgx/sgxs-sign/sig1.key.pem");
    let sgxs = format!("{TESTDATA}/fortanix-rust-sgx/sgx_detect/test_enclave.sgxs");
    s.kss(&[
        "sign",
        "--key",
        &key,
        "--sgxs",
        &sgxs,
        "--out",
        "t.sig",
        "--isv-prod-id",
        "65535",
        "--disable-debug",
        "--date",
        "2016-12-14",
    ]);
    s.kss(&[
        "sign",
        "--key",
        &key,
        "--enclave-hash",
        &"ab".repeat(32),
        "--date",
        "20160109",
        "--attributes",
        "0x4/0xfffffffffffffffd",
        "--xfrm",
        "0x3/0xffffffffffffff1b",
        "--family-id",
        "0x1122334455667788/0x99aabbccddeeff00",
        "--ext-prod-id",
        "42",
        "--out",
        "h.sig",
        "--json",
    ]);
    s.kss(&["inspect", "sigstruct", "h.sig"]);
    s.kss(&["measure", &sgxs]);
    // Error cases.
    std::fs::write(s.path("short.sgxs"), [0u8; 10]).unwrap();
    s.kss(&["measure", "short.sgxs"]);
    s.kss(&["measure", "missing.sgxs"]);
    s.kss(&["inspect", "sigstruct", "short.sgxs"]);
    s.kss(&[
        "sign",
        "--key",
        "missing.pem",
        "--enclave-hash",
        &"ab".repeat(32),
        "--out",
        "x.sig",
    ]);
    s.kss(&[
        "sign",
        "--key",
        &key,
        "--enclave-hash",
        "abc",
        "--out",
        "x.sig",
    ]);
    std::fs::create_dir_all(s.path("full")).unwrap();
    std::fs::write(s.path("full/x"), b"x").unwrap();
    s.kss(&["new", "full"]);
    s.instance("prod", serde_json::json!({"debuggable": false}));
    s.kss(&["build", "prod", "--date", DATE]);
    s.kss(&["build", "prod", "--sign-key", "notakey.pem", "--date", DATE]);
    s.kss(&["config-id", "prod"]);
    s.kss(&["build", "missing", "--date", DATE]);
    s.check("build_measure_sign_inspect");
}

#[test]
fn golden_run_and_enclave_operations() {
    let mut s = Session::new();
    s.instance(
        "app",
        serde_json::json!({"enable_kss": true,
        "family_id": {"high": "0x3", "low": "0x4"}, "ext_prod_id": {"high": "0x1", "low": "0x2"}}),
    );
    s.instance("nokss", serde_json::json!({}));
    s.kss(&["build", "app", "--date", DATE]);
    s.kss(&["build", "nokss", "--date", DATE]);
    std::fs::write(s.path("secret.txt"), b"the database password").unwrap();
    let run = |s: &mut Session, svn: &str, args: &[&str]| {
        let mut a = vec![
            "run",
            "-q",
            "app",
            "--config-id-hex",
            "c0ffee",
            "--config-svn",
            svn,
            "--",
            "/bin/kss",
            "enclave",
        ];
        a.extend_from_slice(args);
        s.kss(&a)
    };
    s.kss(&[
        "run",
        "app",
        "--config-id-hex",
        "c0ffee",
        "--config-svn",
        "5",
        "--",
        "/bin/identity",
    ]);
    s.kss(&["run", "app", "--", "/bin/identity-json"]);
    s.kss(&["run", "nokss", "--", "/bin/identity"]);
    s.kss(&["run", "app", "--", "/bin/exit7"]);
    run(&mut s, "5", &["identity", "--json"]);
    run(
        &mut s,
        "5",
        &["report", "--report-data", "0x01", "--out", "r.bin"],
    );
    run(&mut s, "5", &["verify-report", "r.bin"]);
    run(&mut s, "6", &["verify-report", "r.bin"]);
    run(&mut s, "5", &["key", "--name", "seal"]);
    run(&mut s, "5", &["key", "--name", "seal", "--config-svn", "4"]);
    run(&mut s, "5", &["key", "--name", "seal", "--config-svn", "6"]);
    run(&mut s, "5", &["seal", "secret.txt", "v5.sealed"]);
    s.kss(&["inspect", "sealed", "v5.sealed"]);
    s.kss(&["inspect", "sealed", "v5.sealed", "--json"]);
    run(&mut s, "6", &["unseal", "v5.sealed", "out6.txt"]);
    run(&mut s, "4", &["unseal", "v5.sealed", "out4.txt"]);
    run(&mut s, "6", &["reseal", "v5.sealed", "v6.sealed"]);
    s.kss(&["inspect", "sealed", "v6.sealed"]);
    s.kss(&["inspect", "sealed", "secret.txt"]);
    // Error cases, each with its exit status.
    s.kss(&[
        "run",
        "app",
        "--config-id",
        &"AQ".repeat(44),
        "--",
        "/bin/exit7",
    ]);
    s.kss(&["run", "app", "--config-id", "!!!", "--", "/bin/exit7"]);
    s.kss(&["run", "app", "--config-id", "", "--", "/bin/exit7"]);
    s.kss(&["run", "app", "--config-svn", "65536", "--", "/bin/exit7"]);
    s.kss(&["run", "nokss", "--config-id-hex", "01", "--", "/bin/exit7"]);
    s.kss(&["run", "app", "--", "/bin/missing"]);
    s.kss(&["run", "app", "--", "../../etc/passwd"]);
    s.kss(&["run", "nokss", "--mode", "hw", "--", "/bin/exit7"]);
    s.kss(&["run", "nokss", "--debug", "--", "/bin/exit7"]);
    s.kss(&["enclave", "identity"]);
    std::fs::write(s.path("app/image/new.txt"), b"x").unwrap();
    s.kss(&["run", "app", "--", "/bin/exit7"]);
    s.instance("fresh", serde_json::json!({}));
    s.kss(&["run", "fresh", "--", "/bin/exit7"]);
    s.kss(&["run", "missing", "--", "/bin/exit7"]);
    s.check("run_and_enclave_operations");
}

#[test]
fn golden_detect() {
    // The golden output is this machine's (no SGX); elsewhere the answer differs by design.
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if Path::new("/dev/sgx_enclave").exists() || cpu.split_whitespace().any(|w| w == "sgx") {
        eprintln!("skipped: this machine reports SGX");
        return;
    }
    let mut s = Session::new();
    s.kss(&["detect"]);
    s.kss(&["detect", "--json"]);
    s.check("detect");
}

#[test]
fn golden_help() {
    let mut s = Session::new();
    for c in [
        "new",
        "build",
        "run",
        "measure",
        "sign",
        "keygen",
        "config-id",
        "detect",
    ] {
        s.kss(&[c, "--help"]);
    }
    s.kss(&["inspect", "sigstruct", "--help"]);
    s.kss(&["inspect", "sealed", "--help"]);
    s.kss(&["enclave", "--help"]);
    s.kss(&["enclave", "seal", "--help"]);
    s.kss(&["run"]);
    s.kss(&["build", "--bogus"]);
    s.check("help");
}
