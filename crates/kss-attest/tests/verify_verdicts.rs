//! The verdict table: real quotes and collateral from `testdata/`, with the results that
//! `testdata/SOURCES.md` records (dcap-qvl 0.7.0 and the source projects' own tests).

use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::{trust_root_key, Outcome, Verdict, Verifier};

#[path = "../src/tests/fixtures.rs"]
mod fixtures;

use fixtures::{any_status, failed, read};

fn collateral(rel: &str) -> Collateral {
    Collateral::from_dcap_qvl_json(&read(rel), rel).expect("collateral parses")
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn phala_sgx_quote_at_pinned_time() {
    let q = read("phala-dcap-qvl/sgx_quote");
    let col = collateral("phala-dcap-qvl/sgx_quote_collateral.json");
    let v = Verifier::new(any_status()).verify(&q, &col, 1_752_919_277);
    assert!(v.accepted, "{:?}", failed(&v));
    assert_eq!(
        v.tcb_status,
        Some(TcbStatus::ConfigurationAndSWHardeningNeeded)
    );
    assert_eq!(v.advisory_ids, ids(&["INTEL-SA-00289", "INTEL-SA-00615"]));
    assert_eq!(v.qe_tcb_status, Some(TcbStatus::UpToDate));
    // The default policy accepts only UpToDate: the status is reported but rejected.
    let d = Verifier::default().verify(&q, &col, 1_752_919_277);
    assert!(!d.accepted);
    assert_eq!(
        d.tcb_status,
        Some(TcbStatus::ConfigurationAndSWHardeningNeeded)
    );
    let f = d.first_failure().expect("a failure");
    assert_eq!(f.name, "policy.tcb_status");
}

#[test]
fn phala_sgx_quote_before_tcb_info_issue_date() {
    let q = read("phala-dcap-qvl/sgx_quote");
    let col = collateral("phala-dcap-qvl/sgx_quote_collateral.json");
    let v = Verifier::new(any_status()).verify(&q, &col, 1_750_320_802);
    assert!(!v.accepted);
    let c = v
        .check(kss_attest::verify::CheckId::TcbInfoValidity)
        .expect("check present");
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.reason.contains("issue date") && c.reason.contains("future"),
        "{}",
        c.reason
    );
}

#[test]
fn phala_sgx_quote_with_2023_collateral() {
    let q = read("phala-dcap-qvl/sgx_quote");
    let col = collateral("phala-dcap-qvl/sgx_quote_collateral_2023.json");
    let verifier = Verifier::new(any_status());
    for at in [1_700_527_166, 1_702_000_000, 1_703_116_000] {
        let v = verifier.verify(&q, &col, at);
        assert!(v.accepted, "at {at}: {:?}", failed(&v));
        assert_eq!(
            v.tcb_status,
            Some(TcbStatus::ConfigurationAndSWHardeningNeeded)
        );
        assert_eq!(v.advisory_ids, ids(&["INTEL-SA-00289", "INTEL-SA-00615"]));
    }
    // Before the issue dates (the old test's time): rejected.
    let v = verifier.verify(&q, &col, 1_699_301_000);
    assert!(!v.accepted);
    assert!(failed(&v).iter().any(|f| f.contains("future")));
}

#[test]
fn automata_debug_enclave() {
    let q = read("automata-dcap-rs/quote_sgx.bin");
    let col = collateral("automata-dcap-rs/DERIVED_quote_sgx_collateral.dcap-qvl.json");
    let v = Verifier::new(any_status()).verify(&q, &col, 1_724_962_800);
    assert!(!v.accepted);
    assert_eq!(failed(&v).len(), 1, "{:?}", failed(&v));
    assert_eq!(
        v.first_failure().map(|c| c.name.as_str()),
        Some("policy.debug")
    );
    let v = Verifier::new(any_status().with_allow_debug(true)).verify(&q, &col, 1_724_962_800);
    assert!(v.accepted, "{:?}", failed(&v));
    assert_eq!(
        v.tcb_status,
        Some(TcbStatus::ConfigurationAndSWHardeningNeeded)
    );
    assert_eq!(v.advisory_ids, ids(&["INTEL-SA-00289", "INTEL-SA-00615"]));
    assert_eq!(v.qe_tcb_status, Some(TcbStatus::UpToDate));
}

#[test]
fn teekit_tlsn_quotes_out_of_date() {
    let col = collateral("teekit-qvl/DERIVED_tlsn_collateral_2025-06.dcap-qvl.json");
    let verifier = Verifier::new(any_status());
    for f in ["sgx-tlsn-quote9.dat", "sgx-tlsn-quotedev.dat"] {
        let q = read(&format!("teekit-qvl/{f}"));
        for at in [1_750_330_000, 1_751_000_000, 1_751_587_000] {
            let v = verifier.verify(&q, &col, at);
            assert!(v.accepted, "{f} at {at}: {:?}", failed(&v));
            assert_eq!(v.tcb_status, Some(TcbStatus::OutOfDate), "{f}");
            assert_eq!(
                v.advisory_ids,
                ids(&[
                    "INTEL-SA-01153",
                    "INTEL-SA-00219",
                    "INTEL-SA-00289",
                    "INTEL-SA-00334",
                    "INTEL-SA-00615"
                ]),
                "{f}"
            );
        }
    }
}

#[test]
fn corrupted_quote_signature_fails() {
    // Bytes 437..440 sit inside the ISV signature. No full collateral exists for this 2020 quote,
    // so the signature check itself is asserted.
    let q = read("fortanix-rust-sgx/dcap-ql/quote_pck_cert_chain_corrupted.bin");
    let col = collateral("phala-dcap-qvl/sgx_quote_collateral.json");
    let v = Verifier::new(any_status()).verify(&q, &col, 1_591_358_400);
    assert_eq!(
        v.check(kss_attest::verify::CheckId::QuoteIsvSignature)
            .map(|c| c.outcome),
        Some(Outcome::Fail)
    );
    assert!(!v.accepted);
    // The uncorrupted quote passes the same checks, and its chain (PCK, Root, CA order, legacy
    // root certificate) is accepted.
    let good = read("fortanix-rust-sgx/dcap-ql/quote_pck_cert_chain.bin");
    let v = Verifier::new(any_status()).verify(&good, &col, 1_591_358_400);
    for name in [
        "quote.isv_signature",
        "qe.report_data_binding",
        "pck.chain",
        "qe.report_signature",
    ] {
        assert_eq!(
            v.check(name.parse().expect("a check name"))
                .map(|c| c.outcome),
            Some(Outcome::Pass),
            "{name}: {:?}",
            v.check(name.parse().expect("a check name"))
        );
    }
}

#[test]
fn wrong_trust_root_rejects() {
    let q = read("phala-dcap-qvl/sgx_quote");
    let col = collateral("phala-dcap-qvl/sgx_quote_collateral.json");
    let test_root =
        trust_root_key(&read("intel-qvl-sampledata/trustedRootCaCert.pem"), "root").expect("root");
    let v =
        Verifier::with_trust_roots(vec![test_root], any_status()).verify(&q, &col, 1_752_919_277);
    assert!(!v.accepted);
    assert_eq!(
        v.first_failure().map(|c| c.name.as_str()),
        Some("pck.chain")
    );
}

#[test]
fn expired_collateral_rejects() {
    let q = read("phala-dcap-qvl/sgx_quote");
    let col = collateral("phala-dcap-qvl/sgx_quote_collateral.json");
    // One second after the TCB info / QE identity / CRL nextUpdate.
    let v = Verifier::new(any_status()).verify(&q, &col, 1_752_922_572);
    assert!(!v.accepted);
    assert!(
        failed(&v).iter().any(|f| f.contains("expired")),
        "{:?}",
        failed(&v)
    );
}

#[test]
fn both_root_issuances_are_trusted_by_key() {
    for f in [
        "intel-sgx-root-ca/Intel_SGX_Provisioning_Certification_RootCA.cer",
        "intel-sgx-root-ca/Intel_SGX_Provisioning_Certification_RootCA.pem",
        "intel-sgx-root-ca/Intel_SGX_Root_CA_legacy_2018-2033.der",
    ] {
        assert_eq!(
            trust_root_key(&read(f), f).expect("parses"),
            kss_attest::verify::INTEL_SGX_ROOT_CA_PUBLIC_KEY,
            "{f}"
        );
    }
}

/// A `CollateralSource` is asked for the PCK's FMSPC, PCEID and CA (and the TEE type and time),
/// then verification proceeds as with fixed collateral.
#[test]
fn collateral_source_gets_the_pck_identity() {
    use kss_attest::collateral::{
        CollateralError, CollateralNeed, CollateralSource, PckCa, TeeType,
    };
    use std::sync::{Arc, Mutex};
    struct Recording(Collateral, Mutex<Vec<CollateralNeed>>);
    impl CollateralSource for Recording {
        fn collateral(&self, r: &CollateralNeed) -> Result<Arc<Collateral>, CollateralError> {
            self.1.lock().expect("lock").push(*r);
            Ok(Arc::new(self.0.clone()))
        }
    }
    let src = Recording(
        collateral("phala-dcap-qvl/sgx_quote_collateral.json"),
        Mutex::new(Vec::new()),
    );
    let q = kss_attest::quote::Quote::parse(&read("phala-dcap-qvl/sgx_quote")).expect("quote");
    let v = Verifier::new(any_status())
        .verify_with_source(&q, &src, 1_752_919_277)
        .expect("source answers");
    assert!(v.accepted, "{:?}", failed(&v));
    let reqs = src.1.lock().expect("lock");
    assert_eq!(
        reqs.as_slice(),
        &[CollateralNeed {
            fmspc: [0x00, 0xA0, 0x67, 0x11, 0x00, 0x00],
            pce_id: [0, 0],
            ca: PckCa::Processor,
            tee: TeeType::Sgx,
            at: 1_752_919_277,
        }]
    );
}
