//! End-to-end tests of `kss new`, `kss build`, `kss run` and `kss enclave`, as a user runs them.

use sha2::Digest;
use std::path::PathBuf;
use std::process::Output;

mod support {
    pub mod env;
}

use support::env::{json, script, Env, KSS};

impl Env {
    /// A new instance with the given metadata edits and a workload script.
    fn instance(&self, name: &str, meta: serde_json::Value) -> PathBuf {
        self.ok(&["new", name]);
        let dir = self.path(name);
        let p = dir.join("Occlum.json");
        let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        for (k, v) in meta.as_object().unwrap() {
            c["metadata"][k] = v.clone();
        }
        c["resource_limits"]["max_num_of_threads"] = 2.into();
        std::fs::write(&p, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
        std::fs::copy(KSS, dir.join("image/bin/kss")).unwrap();
        script(
            &dir.join("image/bin/identity"),
            "#!/bin/sh\nexec kss enclave identity --json\n",
        );
        script(&dir.join("image/bin/exit7"), "#!/bin/sh\nexit 7\n");
        dir
    }
}

fn build_json(env: &Env, name: &str) -> serde_json::Value {
    json(&env.ok(&["build", name, "--json"]))
}

#[test]
fn new_refuses_a_non_empty_directory() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("full")).unwrap();
    std::fs::write(env.path("full/x"), b"x").unwrap();
    let err = env.fails(&["new", "full"], 2);
    assert!(err.contains("not empty"), "{err}");
    assert!(!env.path("full/Occlum.json").exists());
}

#[test]
fn build_writes_a_consistent_signed_enclave() {
    let env = Env::new();
    env.instance(
        "app",
        serde_json::json!({"enable_kss": true, "product_id": 9, "version_number": 4,
        "family_id": {"high": "0x3", "low": "0x4"}, "ext_prod_id": {"high": "0x1", "low": "0x2"}}),
    );
    let b = build_json(&env, "app");
    let sgxs = std::fs::read(env.path("app/build/enclave.sgxs")).unwrap();
    assert_eq!(
        b["mr_enclave"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(&sgxs)),
        "SHA-256(SGXS) = MRENCLAVE"
    );
    assert_eq!(
        env.ok(&["measure", "app/build/enclave.sgxs"]).trim(),
        b["mr_enclave"].as_str().unwrap()
    );
    let sig = json(&env.ok(&["inspect", "sigstruct", "app/build/enclave.sig", "--json"]));
    assert_eq!(sig["signature_valid"], true);
    assert_eq!(sig["enclave_hash"], b["mr_enclave"]);
    assert_eq!(sig["mr_signer"], b["mr_signer"]);
    // sig1.key.pem is the SDK sample key: its well-known MRSIGNER.
    assert_eq!(
        b["mr_signer"],
        "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"
    );
    assert_eq!(sig["isv_prod_id"], 9);
    assert_eq!(sig["isv_svn"], 4);
    assert_eq!(sig["isv_family_id"], "04000000000000000300000000000000");
    assert_eq!(sig["isv_ext_prod_id"], "02000000000000000100000000000000");
    assert_eq!(sig["attributes"]["flags"], "0x84");
    let mask = u64::from_str_radix(
        sig["attribute_mask"]["flags"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    assert_eq!(mask & 0x80, 0x80, "KSS in the mask");
    assert_eq!(mask & 0x2, 0, "debuggable: DEBUG not in the mask");
    let xml = std::fs::read_to_string(env.path("app/build/Enclave.xml")).unwrap();
    let v = kss_instance::enclave_xml::validate(&xml).unwrap();
    assert!(
        v.contains(&("ISVFAMILYID_H".to_string(), 3))
            && v.contains(&("ISVEXTPRODID_L".to_string(), 2))
    );
    // Rebuilding an unchanged instance keeps the SIGSTRUCT byte for byte.
    let before = std::fs::read(env.path("app/build/enclave.sig")).unwrap();
    let again = build_json(&env, "app");
    assert_eq!(again["resigned"], false);
    assert_eq!(
        std::fs::read(env.path("app/build/enclave.sig")).unwrap(),
        before
    );
}

#[test]
fn editing_config_or_image_changes_mrenclave() {
    let env = Env::new();
    let dir = env.instance("app", serde_json::json!({}));
    let m0 = build_json(&env, "app")["mr_enclave"].clone();
    std::fs::write(dir.join("image/data.txt"), b"one").unwrap();
    let m1 = build_json(&env, "app")["mr_enclave"].clone();
    std::fs::write(dir.join("image/data.txt"), b"two").unwrap();
    let m2 = build_json(&env, "app")["mr_enclave"].clone();
    let mut c = std::fs::read_to_string(dir.join("Occlum.json")).unwrap();
    c.push(' ');
    std::fs::write(dir.join("Occlum.json"), c).unwrap();
    let m3 = build_json(&env, "app")["mr_enclave"].clone();
    assert!(
        m0 != m1 && m1 != m2 && m2 != m3 && m0 != m2,
        "{m0} {m1} {m2} {m3}"
    );
}

#[test]
fn build_errors_leave_no_output() {
    let env = Env::new();
    env.instance("prod", serde_json::json!({"debuggable": false}));
    let err = env.fails(&["build", "prod"], 2);
    assert!(err.contains("--key"), "{err}");
    assert!(!env.path("prod/build/enclave.sgxs").exists());

    env.instance(
        "bad",
        serde_json::json!({"enable_kss": true, "family_id": {"high": "0xnothex", "low": "0"}}),
    );
    let err = env.fails(&["build", "bad"], 2);
    assert!(
        err.contains("metadata.family_id.high") && err.contains("0xnothex"),
        "{err}"
    );
    assert!(
        !env.path("bad/build").exists()
            || std::fs::read_dir(env.path("bad/build")).unwrap().count() == 0
    );

    std::fs::write(
        env.path("notakey.pem"),
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = env.fails(&["build", "prod", "--sign-key", "notakey.pem"], 2);
    assert!(err.contains("notakey.pem"), "{err}");
    let leftovers: Vec<_> = std::fs::read_dir(env.path("prod/build"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        !env.path("prod/build/enclave.sig").exists(),
        "{leftovers:?}"
    );
}

#[test]
fn run_launches_with_the_kss_configuration() {
    let env = Env::new();
    env.instance(
        "app",
        serde_json::json!({"enable_kss": true,
        "family_id": {"high": "0x3", "low": "0x4"}, "ext_prod_id": {"high": "0x1", "low": "0x2"}}),
    );
    let b = build_json(&env, "app");
    let raw: Vec<u8> = (0u8..64).collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
    let wrapped = format!("{}\n{}", &b64[..76], &b64[76..]);
    let out = env.ok(&[
        "run",
        "app",
        "--config-id",
        &wrapped,
        "--config-svn",
        "0x12ab",
        "--",
        "/bin/identity",
    ]);
    let id = json(&out);
    assert_eq!(id["config_id"], hex::encode(&raw));
    assert_eq!(id["config_svn"], 0x12ab);
    assert_eq!(id["mr_enclave"], b["mr_enclave"]);
    assert_eq!(id["mr_signer"], b["mr_signer"]);
    assert_eq!(id["isv_family_id"], "04000000000000000300000000000000");
    assert_eq!(id["isv_ext_prod_id"], "02000000000000000100000000000000");

    // A short ID is zero-padded; no ID at all gives zeros.
    let id = json(&env.ok(&[
        "run",
        "app",
        "--config-id-hex",
        "0xabcd",
        "--",
        "/bin/identity",
    ]));
    assert_eq!(
        id["config_id"].as_str().unwrap(),
        format!("abcd{}", "0".repeat(124))
    );
    assert_eq!(id["config_svn"], 0);

    // The workload's exit status is passed through.
    assert_eq!(
        env.kss(&["run", "app", "--", "/bin/exit7"]).status.code(),
        Some(7)
    );
}

#[test]
fn run_is_fail_closed() {
    let env = Env::new();
    env.instance("app", serde_json::json!({"enable_kss": true}));
    env.instance("nokss", serde_json::json!({}));
    env.ok(&["build", "app"]);
    env.ok(&["build", "nokss"]);
    use base64::Engine;
    let long = base64::engine::general_purpose::STANDARD.encode([1u8; 65]);
    let e = env.fails(
        &["run", "app", "--config-id", &long, "--", "/bin/exit7"],
        121,
    );
    assert!(
        e.contains("65 bytes") && e.contains("nothing was launched"),
        "{e}"
    );
    let e = env.fails(
        &["run", "app", "--config-id", "!!!", "--", "/bin/exit7"],
        121,
    );
    assert!(e.contains("base64"), "{e}");
    let e = env.fails(&["run", "app", "--config-id", "", "--", "/bin/exit7"], 121);
    assert!(e.contains("empty"), "{e}");
    let e = env.fails(
        &["run", "app", "--config-svn", "65536", "--", "/bin/exit7"],
        121,
    );
    assert!(e.contains("65536"), "{e}");
    let e = env.fails(
        &["run", "nokss", "--config-id-hex", "01", "--", "/bin/exit7"],
        121,
    );
    assert!(e.contains("enable_kss"), "{e}");
    let e = env.fails(&["run", "app", "--", "/bin/missing"], 127);
    assert!(e.contains("not found"), "{e}");
    let e = env.fails(&["run", "app", "--", "../../etc/passwd"], 127);
    assert!(e.contains("inside the image"), "{e}");
    // A changed image makes the build stale.
    std::fs::write(env.path("app/image/new.txt"), b"x").unwrap();
    let e = env.fails(&["run", "app", "--", "/bin/exit7"], 122);
    assert!(e.contains("image/") && e.contains("kss build"), "{e}");
    // Not built at all.
    env.instance("fresh", serde_json::json!({}));
    env.fails(&["run", "fresh", "--", "/bin/exit7"], 122);
    // No SGX here: hardware mode fails cleanly.
    let e = env.fails(&["run", "nokss", "--mode", "hw", "--", "/bin/exit7"], 124);
    assert!(e.contains("hardware mode unavailable"), "{e}");
}

#[test]
fn enclave_commands_need_kss_run() {
    let env = Env::new();
    let e = env.fails(&["enclave", "identity"], 3);
    assert!(e.contains("KSS_ENCLAVE_SOCKET"), "{e}");
}

#[test]
fn config_id_binding_one_enclave_many_apps() {
    let env = Env::new();
    let meta = serde_json::json!({"enable_kss": true, "config_binding": "config_id",
        "family_id": {"high": "0x0", "low": "0x7"}});
    let a = env.instance("app-a", meta.clone());
    let b = env.instance("app-b", meta);
    std::fs::write(a.join("image/app.conf"), b"mode = a\n").unwrap();
    std::fs::write(b.join("image/app.conf"), b"mode = b\n").unwrap();
    let ba = json(&env.ok(&["build", "app-a", "--json", "--date", "20261127"]));
    let bb = json(&env.ok(&["build", "app-b", "--json", "--date", "20261127"]));
    assert_eq!(ba["mr_enclave"], bb["mr_enclave"], "two apps, one enclave");
    assert_eq!(
        std::fs::read(a.join("build/enclave.sgxs")).unwrap(),
        std::fs::read(b.join("build/enclave.sgxs")).unwrap()
    );
    assert_eq!(
        std::fs::read(a.join("build/enclave.sig")).unwrap(),
        std::fs::read(b.join("build/enclave.sig")).unwrap()
    );
    assert!(
        ba["image_digest"].is_null(),
        "the image is not part of the enclave"
    );

    let ca = json(&env.ok(&["config-id", "app-a", "--json"]));
    let cb = json(&env.ok(&["config-id", "app-b", "--json"]));
    assert_ne!(ca["config_id"], cb["config_id"]);
    let ia = json(&env.ok(&["run", "app-a", "--config-svn", "2", "--", "/bin/identity"]));
    let ib = json(&env.ok(&["run", "app-b", "--", "/bin/identity"]));
    assert_eq!(
        ia["config_id"], ca["config_id"],
        "kss run uses exactly the computed CONFIGID"
    );
    assert_eq!(ib["config_id"], cb["config_id"]);
    assert_eq!(ia["config_svn"], 2);
    assert_eq!(ia["mr_enclave"], ib["mr_enclave"]);

    // An explicit config ID is refused in this mode.
    let e = env.fails(
        &[
            "run",
            "app-a",
            "--config-id-hex",
            "01",
            "--",
            "/bin/identity",
        ],
        121,
    );
    assert!(e.contains("config_binding"), "{e}");

    // One byte of one image file changes CONFIGID; the rebuild re-signs and re-measures nothing.
    let sig_before = std::fs::read(a.join("build/enclave.sig")).unwrap();
    std::fs::write(a.join("image/app.conf"), b"mode = A\n").unwrap();
    let again = json(&env.ok(&["build", "app-a", "--json"]));
    assert_eq!(again["resigned"], false);
    assert_eq!(again["remeasured"], false);
    assert_eq!(
        std::fs::read(a.join("build/enclave.sig")).unwrap(),
        sig_before
    );
    let ca2 = json(&env.ok(&["config-id", "app-a", "--json"]));
    assert_ne!(ca2["config_id"], ca["config_id"]);
    let ia2 = json(&env.ok(&["run", "app-a", "--", "/bin/identity"]));
    assert_eq!(ia2["config_id"], ca2["config_id"]);
}

#[test]
fn sealing_across_configsvn_upgrades_from_the_cli() {
    let env = Env::new();
    env.instance("app", serde_json::json!({"enable_kss": true}));
    env.ok(&["build", "app"]);
    std::fs::write(env.path("secret.txt"), b"the database password").unwrap();
    let p = |s: &str| env.path(s).to_string_lossy().into_owned();
    let at = |svn: &str, id: &str, args: &[&str]| -> Output {
        let mut a = vec![
            "run",
            "-q",
            "app",
            "--config-id-hex",
            id,
            "--config-svn",
            svn,
            "--",
            "/bin/kss",
            "enclave",
        ];
        a.extend_from_slice(args);
        env.kss(&a)
    };
    let ok = |o: Output| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(at(
        "5",
        "c0ffee",
        &["seal", &p("secret.txt"), &p("v5.sealed")],
    ));
    let info = json(&env.ok(&["inspect", "sealed", "v5.sealed", "--json"]));
    assert_eq!(info["config_svn"], 5);
    // The SDK default policy of a KSS enclave: MRSIGNER|CONFIGID|ISVFAMILYID|ISVEXTPRODID.
    assert_eq!(info["key_policy"]["bits"], "0x003a");
    assert!(
        !String::from_utf8_lossy(&std::fs::read(env.path("v5.sealed")).unwrap())
            .contains("database")
    );

    ok(at(
        "6",
        "c0ffee",
        &["unseal", &p("v5.sealed"), &p("out6.txt")],
    ));
    assert_eq!(
        std::fs::read(env.path("out6.txt")).unwrap(),
        b"the database password"
    );
    let down = at("4", "c0ffee", &["unseal", &p("v5.sealed"), &p("out4.txt")]);
    assert_eq!(
        down.status.code(),
        Some(1),
        "a lower CONFIGSVN cannot unseal"
    );
    assert!(!env.path("out4.txt").exists());
    let other = at("5", "beef", &["unseal", &p("v5.sealed"), &p("outx.txt")]);
    assert_eq!(
        other.status.code(),
        Some(1),
        "another CONFIGID cannot unseal"
    );

    ok(at(
        "6",
        "c0ffee",
        &["reseal", &p("v5.sealed"), &p("v5.sealed")],
    ));
    assert_eq!(
        json(&env.ok(&["inspect", "sealed", "v5.sealed", "--json"]))["config_svn"],
        6
    );
    assert_eq!(
        at("5", "c0ffee", &["unseal", &p("v5.sealed"), &p("o.txt")])
            .status
            .code(),
        Some(1)
    );
    ok(at(
        "7",
        "c0ffee",
        &["unseal", &p("v5.sealed"), &p("o7.txt")],
    ));
    assert_eq!(
        std::fs::read(env.path("o7.txt")).unwrap(),
        b"the database password"
    );

    // Keys and local attestation through the CLI.
    let k1 = at("5", "c0ffee", &["key", "--name", "seal"]);
    let k2 = at(
        "5",
        "c0ffee",
        &[
            "key",
            "--name",
            "seal",
            "--policy",
            "mrsigner,configid,isvfamilyid,isvextprodid",
        ],
    );
    assert_eq!(
        k1.stdout, k2.stdout,
        "the default policy of a KSS enclave is 0x3A"
    );
    assert_eq!(String::from_utf8_lossy(&k1.stdout).trim().len(), 32);
    let too_high = at(
        "5",
        "c0ffee",
        &["key", "--name", "seal", "--config-svn", "6"],
    );
    assert_eq!(too_high.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&too_high.stderr).contains("ISVSVN"),
        "{}",
        String::from_utf8_lossy(&too_high.stderr)
    );
    ok(at(
        "5",
        "c0ffee",
        &["report", "--report-data", "0x01", "--out", &p("r.bin")],
    ));
    ok(at("5", "c0ffee", &["verify-report", &p("r.bin")]));
    assert_eq!(
        at("6", "c0ffee", &["verify-report", &p("r.bin")])
            .status
            .code(),
        Some(1),
        "a report for another CONFIGSVN's enclave fails its MAC"
    );
}

#[test]
fn debug_launches() {
    let env = Env::new();
    env.instance("dbg", serde_json::json!({}));
    env.ok(&["build", "dbg"]);
    let id = json(&env.ok(&["run", "dbg", "--debug", "--", "/bin/identity"]));
    assert_eq!(id["attributes"]["flags"], "0x7", "INIT|DEBUG|MODE64BIT");
    let id = json(&env.ok(&["run", "dbg", "--", "/bin/identity"]));
    assert_eq!(
        id["attributes"]["flags"], "0x5",
        "production launch by default"
    );
    // A production-signed enclave refuses a debug launch.
    env.instance("prod", serde_json::json!({"debuggable": false}));
    std::fs::copy(env.path("home/dev-signing-key.pem"), env.path("key.pem")).unwrap();
    env.ok(&["build", "prod", "--sign-key", "key.pem"]);
    let e = env.fails(&["run", "prod", "--debug", "--", "/bin/identity"], 121);
    assert!(e.contains("production"), "{e}");
}

#[test]
fn quote_inspect_and_verify_a_simulated_quote() {
    let env = Env::new();
    env.instance(
        "app",
        serde_json::json!({"enable_kss": true, "product_id": 3,
        "family_id": {"high": "0x3", "low": "0x4"}, "ext_prod_id": {"high": "0x1", "low": "0x2"}}),
    );
    env.ok(&["build", "app"]);
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
        "0x1234",
        "--out",
        &q,
    ]);
    let inspected = json(&env.ok(&["quote", "inspect", "quote.bin", "--json"]));
    assert_eq!(inspected["version"], 3);
    assert_eq!(inspected["certification_data_type"], 5);
    let body = &inspected["report_body"];
    assert_eq!(body["config_svn"], 0x12ab);
    assert_eq!(
        body["config_id"].as_str().unwrap(),
        format!("c0ffee{}", "0".repeat(122))
    );
    assert_eq!(body["isv_family_id"], "04000000000000000300000000000000");
    assert_eq!(body["isv_ext_prod_id"], "02000000000000000100000000000000");
    assert_eq!(body["isv_prod_id"], 3);
    assert!(body["report_data"]
        .as_str()
        .unwrap()
        .starts_with("1234000000"));
    // Intel's reversed-hex convention.
    let intel = json(&env.ok(&[
        "quote",
        "inspect",
        "quote.bin",
        "--json",
        "--byte-order",
        "intel",
    ]));
    assert_eq!(
        intel["report_body"]["isv_family_id"],
        "00000000000000030000000000000004"
    );

    env.ok(&["sim-ca", "export", "ca"]);
    let v = json(&env.ok(&[
        "verify",
        "quote.bin",
        "--collateral",
        "ca/collateral.json",
        "--trust-root",
        "ca/root.pem",
        "--json",
    ]));
    assert_eq!(v["accepted"], true, "{v}");
    assert_eq!(v["tcb_status"], "UpToDate");
    assert_eq!(v["report_body"]["config_svn"], 0x12ab);
    // Never accepted without the explicit simulation root.
    let o = env.kss(&[
        "verify",
        "quote.bin",
        "--collateral",
        "ca/collateral.json",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["accepted"], false);
    // A tampered quote is rejected.
    let mut bytes = std::fs::read(env.path("quote.bin")).unwrap();
    bytes[48 + 260] ^= 1; // CONFIGSVN
    std::fs::write(env.path("tampered.bin"), &bytes).unwrap();
    assert_eq!(
        env.kss(&[
            "verify",
            "tampered.bin",
            "--collateral",
            "ca/collateral.json",
            "--trust-root",
            "ca/root.pem"
        ])
        .status
        .code(),
        Some(1)
    );
}

/// Issue "config binding", must show: two apps on one enclave verify against their own
/// `from-instance` policies and not against each other's; a one-byte image change makes the old
/// policy reject the new quote; and the upgrade path (v1 seals, migrates, v2 reads and reseals,
/// v1 cannot read v2's data).
#[test]
fn config_id_binding_attestation_and_upgrade() {
    let env = Env::new();
    let meta = serde_json::json!({"enable_kss": true, "config_binding": "config_id"});
    let a = env.instance("app-a", meta.clone());
    let b = env.instance("app-b", meta);
    std::fs::write(a.join("image/app.conf"), b"name = a\n").unwrap();
    std::fs::write(b.join("image/app.conf"), b"name = b\n").unwrap();
    env.ok(&["build", "app-a"]);
    env.ok(&["build", "app-b"]);
    env.ok(&["sim-ca", "export", "ca"]);
    let p = |s: &str| env.path(s).to_string_lossy().into_owned();
    let quote = |app: &str, out: &str| {
        env.ok(&[
            "run",
            "-q",
            app,
            "--config-svn",
            "1",
            "--",
            "/bin/kss",
            "enclave",
            "quote",
            "--out",
            &p(out),
        ])
    };
    quote("app-a", "qa.bin");
    quote("app-b", "qb.bin");
    std::fs::write(
        env.path("pa.json"),
        env.ok(&["policy", "from-instance", "app-a"]),
    )
    .unwrap();
    std::fs::write(
        env.path("pb.json"),
        env.ok(&["policy", "from-instance", "app-b"]),
    )
    .unwrap();
    let verify = |q: &str, pol: &str| {
        env.kss(&[
            "verify",
            q,
            "--collateral",
            "ca/collateral.json",
            "--trust-root",
            "ca/root.pem",
            "--policy",
            pol,
        ])
        .status
        .code()
    };
    assert_eq!(verify("qa.bin", "pa.json"), Some(0));
    assert_eq!(verify("qb.bin", "pb.json"), Some(0));
    assert_eq!(
        verify("qa.bin", "pb.json"),
        Some(1),
        "app A's quote fails app B's policy"
    );
    assert_eq!(verify("qb.bin", "pa.json"), Some(1));
    let qa = json(&env.ok(&["quote", "inspect", "qa.bin", "--json"]));
    let qb = json(&env.ok(&["quote", "inspect", "qb.bin", "--json"]));
    assert_eq!(
        qa["report_body"]["mr_enclave"],
        qb["report_body"]["mr_enclave"]
    );
    assert_ne!(
        qa["report_body"]["config_id"],
        qb["report_body"]["config_id"]
    );

    // One byte of one file: new CONFIGID, and the old policy rejects the new quote.
    std::fs::write(a.join("image/app.conf"), b"name = A\n").unwrap();
    quote("app-a", "qa2.bin");
    assert_eq!(verify("qa2.bin", "pa.json"), Some(1));
    let out = env.kss(&[
        "verify",
        "qa2.bin",
        "--collateral",
        "ca/collateral.json",
        "--trust-root",
        "ca/root.pem",
        "--policy",
        "pa.json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.to_lowercase().contains("config"),
        "names the failed check: {err}"
    );
    std::fs::write(a.join("image/app.conf"), b"name = a\n").unwrap();

    // Upgrade: v1 seals (default policy binds CONFIGID), migrates to the signer policy at
    // upgrade time; v2 (new image, CONFIGSVN 2) reads the migration blob and reseals under its
    // own CONFIGID; v1 cannot read v2's blob.
    std::fs::write(env.path("data.txt"), b"app a state").unwrap();
    let at = |svn: &str, args: &[&str]| {
        let mut v = vec![
            "run",
            "-q",
            "app-a",
            "--config-svn",
            svn,
            "--",
            "/bin/kss",
            "enclave",
        ];
        v.extend_from_slice(args);
        env.kss(&v)
    };
    let ok = |o: Output| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(at("1", &["seal", &p("data.txt"), &p("v1.sealed")]));
    ok(at(
        "1",
        &[
            "reseal",
            "--policy",
            "signer",
            &p("v1.sealed"),
            &p("migrate.sealed"),
        ],
    ));
    std::fs::write(a.join("image/app.conf"), b"name = a, version 2\n").unwrap();
    let v2_direct = at("2", &["unseal", &p("v1.sealed"), &p("x.txt")]);
    assert_eq!(
        v2_direct.status.code(),
        Some(1),
        "v1's CONFIGID-bound blob is not readable by v2"
    );
    ok(at(
        "2",
        &[
            "reseal",
            &p("migrate.sealed"),
            &p("v2.sealed"),
            "--policy",
            "mrsigner,configid",
        ],
    ));
    ok(at("2", &["unseal", &p("v2.sealed"), &p("v2.txt")]));
    assert_eq!(std::fs::read(env.path("v2.txt")).unwrap(), b"app a state");
    std::fs::write(a.join("image/app.conf"), b"name = a\n").unwrap();
    let v1_reads_v2 = at("1", &["unseal", &p("v2.sealed"), &p("y.txt")]);
    assert_eq!(
        v1_reads_v2.status.code(),
        Some(1),
        "v1 cannot read v2's data"
    );
    assert!(!env.path("y.txt").exists());
}

/// An explicit `--date` is honoured on a rebuild: a SIGSTRUCT with another date is re-signed
/// (the enclave itself is kept), one with that date is kept byte for byte, and a rebuild without
/// `--date` keeps whatever date the SIGSTRUCT has. In both binding modes.
#[test]
fn explicit_date_is_honoured_on_rebuild() {
    for (name, meta) in [
        ("mre", serde_json::json!({"enable_kss": true})),
        (
            "cid",
            serde_json::json!({"enable_kss": true, "config_binding": "config_id"}),
        ),
    ] {
        let env = Env::new();
        env.instance(name, meta);
        let sig_path = format!("{name}/build/enclave.sig");
        let date = |env: &Env| {
            json(&env.ok(&["inspect", "sigstruct", &sig_path, "--json"]))["date"].clone()
        };
        let first = build_json(&env, name);
        let b = json(&env.ok(&["build", name, "--date", "2021-03-04", "--json"]));
        assert_eq!(b["resigned"], true, "{name}: another date re-signs");
        assert_eq!(b["mr_enclave"], first["mr_enclave"], "{name}");
        assert_eq!(date(&env), "0x20210304", "{name}");
        let signed = std::fs::read(env.path(&sig_path)).unwrap();
        for args in [
            &["build", name, "--date", "20210304", "--json"][..],
            &["build", name, "--json"][..],
        ] {
            let again = json(&env.ok(args));
            assert_eq!(again["resigned"], false, "{name} {args:?}");
            assert_eq!(std::fs::read(env.path(&sig_path)).unwrap(), signed);
        }
    }
}

/// `kss run` refuses an instance that was never built or changed since its build (exit 122),
/// naming what changed and how to fix it; in CONFIGID mode only the enclave parameters count.
#[test]
fn run_refuses_a_missing_or_stale_build() {
    let env = Env::new();
    let dir = env.instance("app", serde_json::json!({"enable_kss": true}));
    let run = ["run", "app", "--", "/bin/identity"];
    let e = env.fails(&run, 122);
    assert!(
        e.contains("is not built") && e.contains("kss-build.json") && e.contains("first"),
        "{e}"
    );
    build_json(&env, "app");
    env.ok(&run);
    std::fs::write(dir.join("image/extra.txt"), b"new file").unwrap();
    let e = env.fails(&run, 122);
    assert!(e.contains("image/ changed") && e.contains("again"), "{e}");
    build_json(&env, "app");
    let cfg = dir.join("Occlum.json");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push('\n');
    std::fs::write(&cfg, &text).unwrap();
    let e = env.fails(&run, 122);
    assert!(e.contains("Occlum.json changed"), "{e}");
    std::fs::write(env.path("app/build/kss-build.json"), b"{not json").unwrap();
    let e = env.fails(&run, 122);
    assert!(
        e.contains("kss-build.json") && e.contains("key must be a string"),
        "names the file and the JSON error: {e}"
    );
    assert!(!e.contains("is not built"), "{e}");

    let dir = env.instance(
        "cid",
        serde_json::json!({"enable_kss": true, "config_binding": "config_id"}),
    );
    let run = ["run", "cid", "--", "/bin/identity"];
    build_json(&env, "cid");
    std::fs::write(dir.join("image/extra.txt"), b"bound through CONFIGID").unwrap();
    env.ok(&run);
    let cfg = dir.join("Occlum.json");
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    c["metadata"]["version_number"] = 9.into();
    std::fs::write(&cfg, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
    let e = env.fails(&run, 122);
    assert!(e.contains("enclave parameters"), "{e}");
}
