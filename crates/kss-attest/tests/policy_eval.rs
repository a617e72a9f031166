//! Policy layer alone: each field on constructed report bodies, JSON parsing, SIGSTRUCT starting
//! policies and converters.

use kss_attest::policy::convert::{from_intel, from_trustee};
use kss_attest::policy::{Policy, PolicyError, TcbFacts};
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::Outcome;
use kss_types::{AttributeFlags, Attributes, ConfigId, Id128, ReportBody, Sigstruct};

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

fn body() -> ReportBody {
    let mut cfg = [0u8; 64];
    cfg[..4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let flags =
        AttributeFlags::INIT.bits() | AttributeFlags::MODE64BIT.bits() | AttributeFlags::KSS.bits();
    ReportBody {
        attributes: Attributes::new(flags, 3),
        mr_enclave: [0x11; 32],
        mr_signer: [0x22; 32],
        isv_prod_id: 7,
        isv_svn: 5,
        config_svn: 3,
        isv_family_id: Id128::from_high_low(3, 4),
        isv_ext_prod_id: Id128::from_high_low(1, 2),
        config_id: ConfigId(cfg),
        ..Default::default()
    }
}

fn outcome(p: &Policy, b: &ReportBody, name: &str) -> Option<Outcome> {
    p.evaluate_identity(b)
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.outcome)
}

#[test]
fn config_svn_below_at_above_minimum() {
    let p = Policy::default().with_min_config_svn(3);
    for (svn, want) in [(2, Outcome::Fail), (3, Outcome::Pass), (4, Outcome::Pass)] {
        let mut b = body();
        b.config_svn = svn;
        assert_eq!(
            outcome(&p, &b, "policy.config_svn"),
            Some(want),
            "CONFIGSVN {svn}"
        );
    }
}

#[test]
fn config_id_exact_and_zero_padded() {
    let p = Policy::from_json(r#"{"config_id": "DEADBEEF"}"#, "t").expect("parses");
    assert_eq!(
        outcome(&p, &body(), "policy.config_id"),
        Some(Outcome::Pass)
    );
    let mut wrong = body();
    wrong.config_id.0[63] = 1;
    assert_eq!(outcome(&p, &wrong, "policy.config_id"), Some(Outcome::Fail));
    let p = Policy::from_json(r#"{"config_id": "deadbeee"}"#, "t").expect("parses");
    assert_eq!(
        outcome(&p, &body(), "policy.config_id"),
        Some(Outcome::Fail)
    );
    let too_long = format!("{{\"config_id\": \"{}\"}}", "00".repeat(65));
    assert!(
        matches!(Policy::from_json(&too_long, "t"), Err(PolicyError::Value { key, .. }) if key == "config_id")
    );
}

#[test]
fn identity_fields() {
    let b = body();
    let h = |x: u8| hex::encode([x; 32]);
    let p = Policy::from_json(
        &format!(
            r#"{{"mr_enclave": ["{}", "{}"], "mr_signer": ["{}"], "isv_prod_id": 7, "min_isv_svn": 5,
                "isv_family_id": {{"high": "0x3", "low": 4}}, "isv_ext_prod_id": "0x02000000000000000100000000000000"}}"#,
            h(0x99),
            h(0x11),
            h(0x22).to_uppercase()
        ),
        "t",
    )
    .expect("parses");
    let checks = p.evaluate_identity(&b);
    assert!(
        checks.iter().all(|c| c.outcome == Outcome::Pass),
        "{checks:?}"
    );
    assert_eq!(checks.len(), 7);
    let mut x = b.clone();
    x.mr_enclave = [0x12; 32];
    assert_eq!(outcome(&p, &x, "policy.mr_enclave"), Some(Outcome::Fail));
    let mut x = b.clone();
    x.mr_signer = [0x23; 32];
    assert_eq!(outcome(&p, &x, "policy.mr_signer"), Some(Outcome::Fail));
    let mut x = b.clone();
    x.isv_prod_id = 8;
    assert_eq!(outcome(&p, &x, "policy.isv_prod_id"), Some(Outcome::Fail));
    let mut x = b.clone();
    x.isv_svn = 4;
    assert_eq!(outcome(&p, &x, "policy.isv_svn"), Some(Outcome::Fail));
    let mut x = b.clone();
    x.isv_family_id = Id128::from_high_low(4, 3);
    assert_eq!(outcome(&p, &x, "policy.isv_family_id"), Some(Outcome::Fail));
    let mut x = b.clone();
    x.isv_ext_prod_id = Id128::from_high_low(2, 1);
    assert_eq!(
        outcome(&p, &x, "policy.isv_ext_prod_id"),
        Some(Outcome::Fail)
    );
}

#[test]
fn debug_enclaves_need_allow_debug() {
    let mut b = body();
    b.attributes.flags = b.attributes.flags.with(AttributeFlags::DEBUG);
    assert_eq!(
        outcome(&Policy::default(), &b, "policy.debug"),
        Some(Outcome::Fail)
    );
    let p = Policy::from_json(r#"{"allow_debug": true}"#, "t").expect("parses");
    assert_eq!(outcome(&p, &b, "policy.debug"), Some(Outcome::Pass));
    assert_eq!(
        outcome(&Policy::default(), &body(), "policy.debug"),
        Some(Outcome::Pass)
    );
}

#[test]
fn tcb_statuses_advisories_and_age() {
    let adv = vec!["INTEL-SA-00289".to_string(), "INTEL-SA-00615".to_string()];
    let st = TcbStatus::ConfigurationAndSWHardeningNeeded;
    let facts = TcbFacts {
        tcb_status: Some(&st),
        advisory_ids: &adv,
        qe_tcb_status: Some(&TcbStatus::UpToDate),
        collateral_oldest_issue: Some(1_000_000),
        at: 1_000_000 + 10 * 86_400,
    };
    let find = |p: &Policy, n: &str| {
        p.evaluate_tcb(&facts)
            .into_iter()
            .find(|c| c.name == n)
            .map(|c| c.outcome)
    };
    assert_eq!(
        find(&Policy::default(), "policy.tcb_status"),
        Some(Outcome::Fail)
    );
    let p = Policy::from_json(
        r#"{"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"],
            "allowed_advisory_ids": ["intel-sa-00289", "INTEL-SA-00615"],
            "accepted_qe_tcb_statuses": ["UpToDate"], "max_collateral_age_days": 10}"#,
        "t",
    )
    .expect("parses");
    for n in [
        "policy.tcb_status",
        "policy.advisory_ids",
        "policy.qe_tcb_status",
        "policy.collateral_age",
    ] {
        assert_eq!(find(&p, n), Some(Outcome::Pass), "{n}");
    }
    let p = Policy::from_json(
        r#"{"allowed_advisory_ids": ["INTEL-SA-00615"], "max_collateral_age_days": 9}"#,
        "t",
    )
    .expect("parses");
    assert_eq!(find(&p, "policy.advisory_ids"), Some(Outcome::Fail));
    assert_eq!(find(&p, "policy.collateral_age"), Some(Outcome::Fail));
    // Absent allowed_advisory_ids: no restriction, no check.
    assert_eq!(find(&Policy::default(), "policy.advisory_ids"), None);
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    match Policy::from_json(r#"{"min_config_sv": 3}"#, "p.json") {
        Err(PolicyError::Json { source, .. }) => {
            let reason = source.to_string();
            assert!(reason.contains("min_config_sv"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    match Policy::from_json(r#"{"mr_enclave": ["abcd"]}"#, "p.json") {
        Err(e @ PolicyError::Value { .. }) => {
            let m = e.to_string();
            assert!(
                m.contains("mr_enclave") && m.contains("abcd") && m.contains("32 bytes"),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(Policy::from_json(r#"{"accepted_tcb_statuses": ["Fine"]}"#, "p").is_err());
    assert!(Policy::from_json(r#"{"isv_family_id": "0011"}"#, "p").is_err());
}

/// `Revoked` can never be accepted (verification fails a revoked TCB whatever the policy), so a
/// policy listing it is an error that says so, in kss policies and in converted Intel ones.
#[test]
fn revoked_in_a_policy_is_an_error() {
    for key in ["accepted_tcb_statuses", "accepted_qe_tcb_statuses"] {
        let text = format!(r#"{{"{key}": ["UpToDate", "Revoked"]}}"#);
        let m = Policy::from_json(&text, "p.json")
            .expect_err(key)
            .to_string();
        assert!(m.contains(key) && m.contains("Revoked never is"), "{m}");
    }
    let intel = r#"{"policy_array": [{"environment": {"class_id": "3123ec35-8d38-4ea5-87a5-d6c48b567570"},
        "reference": {"accepted_tcb_status": ["UpToDate", "Revoked"]}}]}"#;
    let m = kss_attest::policy::convert::from_intel(intel, "intel.json")
        .expect_err("Revoked")
        .to_string();
    assert!(m.contains("Revoked never is"), "{m}");
}

#[test]
fn json_round_trip() {
    let p = Policy::default()
        .with_mr_signer([0xab; 32])
        .with_isv_family_id(Id128::from_high_low(3, 4))
        .with_config_id(ConfigId([7; 64]))
        .with_min_config_svn(2)
        .with_allowed_advisory_ids(vec!["INTEL-SA-00615".into()])
        .with_max_collateral_age_days(30);
    let text = p.to_json().to_string();
    assert_eq!(Policy::from_json(&text, "rt").expect("parses"), p);
}

#[test]
fn from_sigstruct_sample_key() {
    let bytes = std::fs::read(format!(
        "{TD}fortanix-rust-sgx/sgxs-sign/sig1.sigstruct.bin"
    ))
    .expect("read");
    let sig = Sigstruct::from_bytes(&bytes).expect("sigstruct");
    let p = Policy::from_sigstruct(&sig);
    // MRSIGNER of the SDK sample key, per `testdata/SOURCES.md` §3.1.
    assert_eq!(
        p.mr_signer,
        Some(vec![<[u8; 32]>::try_from(
            hex::decode("83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e")
                .expect("hex")
        )
        .expect("32")])
    );
    assert_eq!(
        p.mr_enclave.as_ref().map(|v| hex::encode(v[0])),
        Some("c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d".to_string())
    );
    assert_eq!((p.isv_prod_id, p.min_isv_svn), (Some(0), Some(0)));
    assert_eq!(p.isv_family_id, None, "KSS bit not set: no family ID");
    assert!(!p.allow_debug);
    assert_eq!(p.accepted_tcb_statuses, vec![TcbStatus::UpToDate]);
}

#[test]
fn intel_qal_policy_converts() {
    let text = r##"{"policy_array":[
      {"environment":{"class_id":"bef7cb8c-31aa-42c1-854c-10db005d5c41","description":"x"},
       "reference":{"#NOTE":"c","sgx_miscselect":"00000000","sgx_miscselect_mask":"FFFFFFFF",
         "sgx_attributes":"00000000000000030000000000000005","sgx_attributes_mask":"FFFFFFFFFFFFFF1BFF00FFFFFFFFFFFD",
         "sgx_isvprodid":7,"sgx_isvsvn_min":5,
         "sgx_isvfamilyid":"00000000000000030000000000000004",
         "sgx_isvextprodid":"00000000000000010000000000000002",
         "sgx_configid":"EFBEADDE","sgx_configsvn_min":3,
         "sgx_mrsigner":"2222222222222222222222222222222222222222222222222222222222222222"}},
      {"environment":{"class_id":"3123ec35-8d38-4ea5-87a5-d6c48b567570"},
       "reference":{"allow_dynamic_plaform":true,"accepted_tcb_status":["UpToDate","SWHardeningNeeded"],"collateral_grace_period":0}}]}"##;
    let p = from_intel(text, "intel.json").expect("converts");
    assert_eq!(p.isv_family_id, Some(Id128::from_high_low(3, 4)));
    assert_eq!(p.isv_ext_prod_id, Some(Id128::from_high_low(1, 2)));
    assert_eq!(p.min_config_svn, Some(3));
    // Intel's sample mask ends in FD: DEBUG is not checked, so debug enclaves are allowed.
    assert!(p.allow_debug, "sample mask leaves DEBUG unchecked");
    let strict = text.replace("FF00FFFFFFFFFFFD", "FF00FFFFFFFFFFFF");
    assert!(
        !from_intel(&strict, "x").expect("converts").allow_debug,
        "mask checks DEBUG, value clear"
    );
    assert_eq!(
        p.accepted_tcb_statuses,
        vec![TcbStatus::UpToDate, TcbStatus::SWHardeningNeeded]
    );
    let checks = p.evaluate_identity(&body());
    assert!(
        checks.iter().all(|c| c.outcome == Outcome::Pass),
        "{checks:?}"
    );
    assert!(from_intel(r#"{"policy_array":[{"environment":{"class_id":"bef7cb8c-31aa-42c1-854c-10db005d5c41"},"reference":{"sgx_bogus":1}}]}"#, "x").is_err());
}

#[test]
fn trustee_claims_convert() {
    let text = r#"{"sgx.body.mr_enclave": "1111111111111111111111111111111111111111111111111111111111111111",
        "sgx.body.isv_prod_id": "0700", "sgx.body.isv_svn": "0500", "sgx.body.config_svn": "0300",
        "sgx.body.isv_family_id": "04000000000000000300000000000000",
        "sgx.body.config_id": "deadbeef"}"#;
    let p = from_trustee(text, "claims.json").expect("converts");
    assert_eq!(p.min_config_svn, Some(3), "little-endian 0300 is 3");
    assert_eq!(p.isv_prod_id, Some(7));
    assert_eq!(p.isv_family_id, Some(Id128::from_high_low(3, 4)));
    let checks = p.evaluate_identity(&body());
    assert!(
        checks.iter().all(|c| c.outcome == Outcome::Pass),
        "{checks:?}"
    );
    let mut b = body();
    b.config_svn = 2;
    assert!(p
        .evaluate_identity(&b)
        .iter()
        .any(|c| c.outcome == Outcome::Fail));
    assert!(from_trustee(r#"{"sgx.body.unknown": "00"}"#, "x").is_err());
}
