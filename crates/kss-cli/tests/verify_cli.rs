//! `kss verify` through the real binary, as a user runs it: the verdict table of
//! `testdata/` (exit status, the first failed check in words, the JSON verdict), both
//! collateral forms, padded quotes, and bad input.

mod support {
    pub mod env;
}

use std::path::Path;
use std::process::Output;
use support::env::{kss, testdata, text, write};

const PHALA_QUOTE: &str = "phala-dcap-qvl/sgx_quote";
const PHALA_COLLATERAL: &str = "phala-dcap-qvl/sgx_quote_collateral.json";
/// The time `testdata/SOURCES.md` §1 pins for the phala sample (2025-07-19T10:01:17Z).
const PHALA_AT: &str = "1752919277";

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&o.stdout)))
}

/// `kss verify QUOTE --collateral COL --at AT [extra...]`.
fn verify(quote: &str, collateral: &str, at: &str, extra: &[&str]) -> Output {
    let mut args = vec!["verify", quote, "--collateral", collateral, "--at", at];
    args.extend_from_slice(extra);
    kss(&args)
}

/// A policy file accepting any TCB status but Revoked, plus `extra` keys.
fn any_status_policy(dir: &Path, extra: &str) -> String {
    write(
        dir,
        "policy.json",
        format!(
            r#"{{"accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]{extra}}}"#
        )
        .as_bytes(),
    )
}

#[test]
fn phala_quote_default_policy_rejects_on_tcb_status_and_names_it() {
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    let o = verify(&q, &c, PHALA_AT, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(out.contains("REJECTED"), "{out}");
    assert!(
        err.contains("TCB status is ConfigurationAndSWHardeningNeeded")
            && err.contains("policy.tcb_status"),
        "{err}"
    );

    // The same verdict as JSON, with the RFC 3339 form of the same time.
    let o = verify(&q, &c, "2025-07-19T10:01:17Z", &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["accepted"], false);
    assert_eq!(v["tcb_status"], "ConfigurationAndSWHardeningNeeded");
    assert_eq!(
        v["advisory_ids"],
        serde_json::json!(["INTEL-SA-00289", "INTEL-SA-00615"])
    );
    assert_eq!(v["qe_tcb_status"], "UpToDate");
    let checks = v["checks"].as_array().expect("checks");
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c["outcome"] != "pass")
        .map(|c| c["name"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(failed, ["policy.tcb_status"], "{v}");
    assert!(checks
        .iter()
        .all(|c| c["reason"].as_str().is_some_and(|r| !r.is_empty())));
    for name in [
        "quote.isv_signature",
        "pck.chain",
        "crl.pck",
        "tcb_info.level",
        "qe_identity.level",
    ] {
        assert!(checks.iter().any(|c| c["name"] == name), "{name} reported");
    }

    // report_body has the very keys and values of `kss quote inspect --json`.
    let inspect = json(&kss(&["quote", "inspect", &q, "--json"]));
    assert_eq!(v["report_body"], inspect["report_body"]);
    assert_eq!(
        v["report_body"]["mr_enclave"],
        "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
    );
}

#[test]
fn phala_quote_accepted_by_a_policy_accepting_its_status_in_both_collateral_forms() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let policy = any_status_policy(tmp.path(), "");
    let q = testdata(PHALA_QUOTE);
    let o = verify(
        &q,
        &testdata(PHALA_COLLATERAL),
        PHALA_AT,
        &["--policy", &policy],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("ACCEPTED"));

    // The same collateral as a directory of raw PCS files.
    let col: serde_json::Value =
        serde_json::from_slice(&std::fs::read(testdata(PHALA_COLLATERAL)).expect("read"))
            .expect("json");
    let s = |k: &str| col[k].as_str().expect(k).to_string();
    let dir = tmp.path().join("pcs");
    std::fs::create_dir(&dir).expect("mkdir");
    let signed = |body_key: &str, body: &str, sig: &str| {
        format!(r#"{{"{body_key}":{body},"signature":"{sig}"}}"#)
    };
    write(
        &dir,
        "tcb_info.json",
        signed("tcbInfo", &s("tcb_info"), &s("tcb_info_signature")).as_bytes(),
    );
    write(
        &dir,
        "tcb_info_issuer_chain.pem",
        s("tcb_info_issuer_chain").as_bytes(),
    );
    write(
        &dir,
        "qe_identity.json",
        signed(
            "enclaveIdentity",
            &s("qe_identity"),
            &s("qe_identity_signature"),
        )
        .as_bytes(),
    );
    write(
        &dir,
        "pck_crl_issuer_chain.pem",
        s("pck_crl_issuer_chain").as_bytes(),
    );
    write(
        &dir,
        "pck_crl.der",
        &hex::decode(s("pck_crl")).expect("hex"),
    );
    write(
        &dir,
        "root_ca_crl.der",
        &hex::decode(s("root_ca_crl")).expect("hex"),
    );
    let o = verify(
        &q,
        dir.to_str().expect("utf-8"),
        PHALA_AT,
        &["--policy", &policy, "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert_eq!(json(&o)["tcb_status"], "ConfigurationAndSWHardeningNeeded");

    // Without the root CA CRL a strict verifier rejects.
    std::fs::remove_file(dir.join("root_ca_crl.der")).expect("rm");
    let o = verify(
        &q,
        dir.to_str().expect("utf-8"),
        PHALA_AT,
        &["--policy", &policy],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("no Intel SGX Root CA CRL") && err.contains("crl.root"),
        "{err}"
    );
}

/// Asserts a rejection (exit 1) whose message on stderr contains `reason`.
fn rejected_for(o: &Output, reason: &str) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(reason), "expected {reason:?} in: {err}");
}

#[test]
fn negative_cases_are_rejected_with_their_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let policy = any_status_policy(tmp.path(), "");
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));

    // Issue date in the future.
    let o = verify(&q, &c, "1750320802", &["--policy", &policy]);
    rejected_for(&o, "future");
    // Expired collateral.
    let o = verify(&q, &c, "1752922572", &["--policy", &policy]);
    rejected_for(&o, "expired");
    // Another trust root.
    let o = verify(
        &q,
        &c,
        PHALA_AT,
        &[
            "--policy",
            &policy,
            "--trust-root",
            &testdata("intel-qvl-sampledata/trustedRootCaCert.pem"),
        ],
    );
    rejected_for(&o, "pck.chain");
    // One flipped bit in the signed enclave report (CONFIGSVN).
    let mut bytes = std::fs::read(&q).expect("read");
    bytes[48 + 260] ^= 1;
    let tampered = write(tmp.path(), "tampered", &bytes);
    let o = verify(&tampered, &c, PHALA_AT, &["--policy", &policy]);
    rejected_for(&o, "quote.isv_signature");

    // A debug enclave: rejected by default, accepted when the policy allows debug.
    let aq = testdata("automata-dcap-rs/quote_sgx.bin");
    let ac = testdata("automata-dcap-rs/DERIVED_quote_sgx_collateral.dcap-qvl.json");
    let o = verify(&aq, &ac, "1724962800", &["--policy", &policy]);
    rejected_for(&o, "policy.debug");
    let debug_policy = any_status_policy(tmp.path(), r#", "allow_debug": true"#);
    let o = verify(&aq, &ac, "1724962800", &["--policy", &debug_policy]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn padded_quote_needs_allow_trailing_and_then_verifies_the_same() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let policy = any_status_policy(tmp.path(), "");
    let mut bytes = std::fs::read(testdata(PHALA_QUOTE)).expect("read");
    bytes.extend_from_slice(&[0; 96]);
    let padded = write(tmp.path(), "padded", &bytes);
    let c = testdata(PHALA_COLLATERAL);
    let o = verify(&padded, &c, PHALA_AT, &["--policy", &policy]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("96 trailing bytes") && err.contains("--allow-trailing"),
        "{err}"
    );
    let o = verify(
        &padded,
        &c,
        PHALA_AT,
        &["--policy", &policy, "--allow-trailing", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let plain = verify(
        &testdata(PHALA_QUOTE),
        &c,
        PHALA_AT,
        &["--policy", &policy, "--json"],
    );
    assert_eq!(json(&o), json(&plain));
}

#[test]
fn bad_input_is_exit_2_and_names_the_input() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (q, c) = (testdata(PHALA_QUOTE), testdata(PHALA_COLLATERAL));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                tmp.path().join("missing").display().to_string(),
                c.clone(),
                PHALA_AT.into(),
            ],
            "missing",
        ),
        (
            vec![
                q.clone(),
                tmp.path().join("nocol").display().to_string(),
                PHALA_AT.into(),
            ],
            "nocol",
        ),
        (
            vec![q.clone(), c.clone(), "2025-02-30T00:00:00Z".into()],
            "--at",
        ),
        (vec![q.clone(), c.clone(), "yesterday".into()], "--at"),
        (
            vec![q.clone(), q.clone(), PHALA_AT.into()],
            "QuoteCollateralV3 JSON",
        ),
    ];
    for (args, named) in cases {
        let o = verify(&args[0], &args[1], &args[2], &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(named),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "no verdict on bad input");
    }
    // A policy with a typo, and one listing Revoked.
    for (body, named) in [
        (r#"{"min_config_sv": 1}"#, "min_config_sv"),
        (r#"{"accepted_tcb_statuses": ["Revoked"]}"#, "Revoked"),
    ] {
        let p = write(tmp.path(), "bad-policy.json", body.as_bytes());
        let o = verify(&q, &c, PHALA_AT, &["--policy", &p]);
        assert_eq!(o.status.code(), Some(2), "{body}");
        assert!(text(&o.stderr).contains(named), "{}", text(&o.stderr));
    }
}
