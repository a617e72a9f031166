//! One rendering of a REPORT body across commands, the mark of simulated quotes, and the text of
//! a rejected verdict, through the real binary.
//!
//! - `kss enclave identity`, `kss enclave verify-report`, `kss quote inspect` and `kss verify`
//!   print the same body with the same lines (text), and `identity --json` is the quote's
//!   `report_body`;
//! - a quote whose PCK chain ends in a kss simulation root is marked "simulated (kss sim CA)"
//!   (text and JSON), an Intel one is not;
//! - verifying a simulated quote without `--trust-root` is rejected with a hint at
//!   `kss sim-ca export`, and a rejected verdict says "not established" once.

mod support {
    pub mod env;
}

use support::env::{json, script, Env, KSS, TESTDATA};

/// A test directory whose `kss` finds the binary under test as `$KSS_TEST_BIN` (the image's
/// `/bin/kss` runs it) and no PCCS from the environment.
fn env() -> Env {
    Env::new()
        .with_var("KSS_TEST_BIN", KSS)
        .without_var("KSS_PCCS_URL")
}

impl Env {
    /// A KSS instance whose image runs the binary under test as `/bin/kss`.
    fn kss_instance(&self, name: &str) {
        self.ok(&["new", name]);
        let p = self.path(name).join("Occlum.json");
        let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        c["metadata"]["enable_kss"] = true.into();
        c["metadata"]["family_id"] = serde_json::json!({"high": "0x3", "low": "0x4"});
        c["metadata"]["ext_prod_id"] = serde_json::json!({"high": "0x1", "low": "0x2"});
        c["resource_limits"]["max_num_of_threads"] = 2.into();
        std::fs::write(&p, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
        script(
            &self.path(name).join("image/bin/kss"),
            "#!/bin/sh\nexec \"$KSS_TEST_BIN\" \"$@\"\n",
        );
        self.ok(&["build", name]);
    }

    /// `kss enclave ARGS` inside `kss run NAME --config-id-hex c0ffee --config-svn 7`.
    fn enclave(&self, name: &str, args: &[&str]) -> String {
        let mut a = vec![
            "run",
            "-q",
            name,
            "--config-id-hex",
            "c0ffee",
            "--config-svn",
            "7",
            "--",
            "/bin/kss",
            "enclave",
        ];
        a.extend_from_slice(args);
        self.ok(&a)
    }
}

/// The lines of the report body that follows the line `title` (up to the next line that starts
/// in column 0), without the title itself.
fn body_after(text: &str, title: &str) -> String {
    let mut lines = text.lines().skip_while(|l| *l != title);
    assert_eq!(lines.next(), Some(title), "no {title:?} in:\n{text}");
    let body: Vec<&str> = lines.take_while(|l| l.starts_with(' ')).collect();
    assert_eq!(body.len(), 16, "a report body is 16 lines: {body:#?}");
    body.join("\n")
}

#[test]
fn every_command_renders_a_report_body_the_same_way() {
    let env = env();
    env.kss_instance("app");
    let identity = env.enclave("app", &["identity"]);
    let identity_json = json(&env.enclave("app", &["identity", "--json"]));
    env.enclave("app", &["quote", "--out", "q.bin"]);
    env.enclave("app", &["report", "--out", "r.bin"]);
    let verified = env.enclave("app", &["verify-report", "r.bin"]);
    let inspect = env.ok(&["quote", "inspect", "q.bin"]);
    let inspect_json = json(&env.ok(&["quote", "inspect", "q.bin", "--json"]));

    let from_identity = body_after(&identity, "Enclave identity (this enclave's REPORT body):");
    let from_report = body_after(&verified, "REPORT body:");
    let from_quote = body_after(&inspect, "ISV enclave report:");
    assert_eq!(from_identity, from_quote);
    assert_eq!(from_identity, from_report);
    // The agreed format, line by line where it matters.
    for line in [
        "    misc_select      0x0",
        "    attributes       flags 0x85 [INIT|MODE64BIT|KSS], xfrm 0x3",
        "  KSS fields (ATTRIBUTES.KSS set):",
        "  * config_id        c0ffee0000000000000000000000000000000000000000000000000000000000",
        "  * config_svn       7",
        "  * isv_family_id    04000000000000000300000000000000  (high 0x0000000000000003, low 0x0000000000000004)",
        "  * isv_ext_prod_id  02000000000000000100000000000000  (high 0x0000000000000001, low 0x0000000000000002)",
        "    debug            no",
    ] {
        assert!(
            from_identity.lines().any(|l| l == line),
            "{line:?} missing from:\n{from_identity}"
        );
    }
    // JSON: the same object through both commands, with the same values as the text.
    assert_eq!(identity_json, inspect_json["report_body"]);
    assert_eq!(identity_json["config_svn"], 7);
    assert_eq!(identity_json["attributes"]["flags"], "0x85");
    assert!(from_identity.contains(&format!(
        "    mr_enclave       {}",
        identity_json["mr_enclave"].as_str().unwrap()
    )));

    // kss verify shows the body with the same lines, and the simulated quote is marked.
    env.ok(&["sim-ca", "export", "ca"]);
    let verdict = env.ok(&[
        "verify",
        "q.bin",
        "--collateral",
        "ca/collateral.json",
        "--trust-root",
        "ca/root.pem",
    ]);
    assert_eq!(body_after(&verdict, "ISV enclave report:"), from_quote);
    assert!(verdict.starts_with("q.bin: ACCEPTED\n"), "{verdict}");
    assert!(verdict.contains(
        "\nquote:        simulated (kss sim CA): its PCK chain ends in a kss simulation root\n"
    ));
}

#[test]
fn simulated_quotes_are_marked_and_their_rejection_points_at_sim_ca_export() {
    let env = env();
    env.kss_instance("app");
    env.enclave("app", &["quote", "--out", "q.bin"]);
    let text = env.ok(&["quote", "inspect", "q.bin"]);
    assert!(
        text.starts_with("DCAP quote v3: SGX, simulated (kss sim CA)\n"),
        "{text}"
    );
    // The vendor ID is Intel's, but it is not shown as a plain Intel platform.
    assert!(!text.contains("(Intel)\n"), "{text}");
    assert!(text.contains(
        "    qe_vendor_id     939a7233f79c4ca9940a0db3957f0607 (Intel's ID, reused by kss's simulated QE)\n"
    ));
    let j = json(&env.ok(&["quote", "inspect", "q.bin", "--json"]));
    assert_eq!(j["simulated"], true);

    env.ok(&["sim-ca", "export", "ca"]);
    let o = env.kss(&["verify", "q.bin", "--collateral", "ca/collateral.json"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(out.starts_with("q.bin: REJECTED\n"), "{out}");
    assert!(out.contains("\nTCB status:   not established\n"), "{out}");
    assert_eq!(out.matches("not established").count(), 1, "{out}");
    assert!(
        err.starts_with("kss: error: quote rejected: PCK chain: "),
        "{err}"
    );
    assert!(err.contains("(pck.chain)\n"), "{err}");
    assert!(
        err.contains("\nkss: hint: this quote is simulated (kss sim CA): its PCK chain ends in a kss simulation root, which is never trusted by default. To verify it as a simulation, write that root and matching collateral with `kss sim-ca export DIR`, then pass `--trust-root DIR/root.pem --collateral DIR/collateral.json`\n"),
        "{err}"
    );
    // With an explicit root that does not match, the rejection stands but the hint is not
    // about a missing --trust-root.
    let o = env.kss(&[
        "verify",
        "q.bin",
        "--collateral",
        "ca/collateral.json",
        "--trust-root",
        &format!("{TESTDATA}/intel-sgx-root-ca/Intel_SGX_Provisioning_Certification_RootCA.pem"),
    ]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("kss sim-ca export"), "{err}");
}

#[test]
fn intel_quotes_are_not_marked_and_a_rejection_says_not_established_once() {
    let env = env();
    let q = format!("{TESTDATA}/phala-dcap-qvl/sgx_quote");
    let c = format!("{TESTDATA}/phala-dcap-qvl/sgx_quote_collateral.json");
    let text = env.ok(&["quote", "inspect", &q]);
    assert!(text.starts_with("DCAP quote v3: SGX\n"), "{text}");
    assert!(!text.contains("simulated"), "{text}");
    assert!(text.contains("    qe_vendor_id     939a7233f79c4ca9940a0db3957f0607 (Intel)\n"));
    assert_eq!(
        json(&env.ok(&["quote", "inspect", &q, "--json"]))["simulated"],
        false
    );

    // Trusting another root: the chain fails, no TCB status is reached.
    let o = env.kss(&[
        "verify",
        &q,
        "--collateral",
        &c,
        "--at",
        "1752919277",
        "--trust-root",
        &format!("{TESTDATA}/intel-qvl-sampledata/trustedRootCaCert.pem"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(out.contains("\nTCB status:   not established\n"), "{out}");
    assert_eq!(out.matches("not established").count(), 1, "{out}");
    assert!(!out.contains("simulated"), "{out}");
    assert!(!err.contains("sim-ca"), "{err}");
    // The body in the verdict is the body of quote inspect, line for line.
    assert_eq!(
        body_after(&out, "ISV enclave report:"),
        body_after(&text, "ISV enclave report:")
    );
}
