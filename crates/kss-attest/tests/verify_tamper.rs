//! Tamper suite: every single-byte change in the signed parts of a real quote and in the signed
//! collateral bodies is rejected. One warm verifier is reused, so only what changed is
//! re-checked.

use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::quote::Quote;
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::{Outcome, Verifier};

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
const AT: u64 = 1_752_919_277;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn setup() -> (Vec<u8>, Collateral, Verifier) {
    let q = read("phala-dcap-qvl/sgx_quote");
    let col =
        Collateral::from_dcap_qvl_json(&read("phala-dcap-qvl/sgx_quote_collateral.json"), "phala")
            .expect("collateral");
    let v = Verifier::new(
        Policy::default()
            .with_accepted_tcb_statuses(vec![TcbStatus::ConfigurationAndSWHardeningNeeded]),
    );
    assert!(v.verify(&q, &col, AT).accepted, "baseline accepted");
    (q, col, v)
}

#[test]
fn every_signed_quote_byte_matters() {
    let (q, col, verifier) = setup();
    let parsed = Quote::parse(&q).expect("parses");
    let auth_len = parsed.signature.qe_auth_data.len();
    assert_eq!(auth_len, 32);
    // header + body, ISV signature, attestation key, QE report, QE report signature, auth data.
    let ranges = [
        0..432,
        436..500,
        500..564,
        564..948,
        948..1012,
        1014..1014 + auth_len,
    ];
    let mut tested = 0;
    for r in ranges {
        for pos in r {
            for flip in [0x01u8, 0x80] {
                let mut t = q.clone();
                t[pos] ^= flip;
                let v = verifier.verify(&t, &col, AT);
                assert!(!v.accepted, "byte {pos} ^ {flip:#x} was accepted");
                tested += 1;
            }
        }
    }
    assert_eq!(tested, 2 * (432 + 64 + 64 + 384 + 64 + 32));
    // The verifier still accepts the original afterwards (nothing bad was cached).
    assert!(verifier.verify(&q, &col, AT).accepted);
}

#[test]
fn every_signed_collateral_byte_matters() {
    let (q, col, verifier) = setup();
    for pos in 0..col.tcb_info.body.len() {
        let mut c = col.clone();
        c.tcb_info.body[pos] ^= 0x01;
        let v = verifier.verify(&q, &c, AT);
        assert!(!v.accepted, "tcb_info byte {pos} change accepted");
        assert_eq!(
            v.check(kss_attest::verify::CheckId::TcbInfoSignature)
                .map(|c| c.outcome),
            Some(Outcome::Fail),
            "tcb_info byte {pos}"
        );
    }
    for pos in 0..col.qe_identity.body.len() {
        let mut c = col.clone();
        c.qe_identity.body[pos] ^= 0x01;
        let v = verifier.verify(&q, &c, AT);
        assert_eq!(
            v.check(kss_attest::verify::CheckId::QeIdentitySignature)
                .map(|c| c.outcome),
            Some(Outcome::Fail),
            "qe_identity byte {pos}"
        );
    }
    for pos in 0..64 {
        let mut c = col.clone();
        c.tcb_info.signature[pos] ^= 0x01;
        assert!(!verifier.verify(&q, &c, AT).accepted, "tcb sig byte {pos}");
        let mut c = col.clone();
        c.qe_identity.signature[pos] ^= 0x01;
        assert!(!verifier.verify(&q, &c, AT).accepted, "qe sig byte {pos}");
    }
    assert!(verifier.verify(&q, &col, AT).accepted);
}

#[test]
fn tampered_crls_are_rejected() {
    let (q, col, verifier) = setup();
    // Flip one byte in each CRL's signed part (hex DER in this collateral: flip a hex digit).
    for which in ["root", "pck"] {
        let mut c = col.clone();
        let crl = if which == "root" {
            c.root_ca_crl.as_mut()
        } else {
            c.pck_crl.as_mut()
        };
        let crl = crl.expect("present");
        // Byte 60 of the hex text is inside TBSCertList (issuer name).
        crl[60] = if crl[60] == b'0' { b'1' } else { b'0' };
        let v = verifier.verify(&q, &c, AT);
        assert!(!v.accepted, "{which} CRL change accepted");
    }
}
