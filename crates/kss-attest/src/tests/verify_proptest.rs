//! Parsers of untrusted collateral, policies and times never panic on random or truncated
//! input; the verifier never panics on random quotes; the verifier is shareable across threads.

use crate::collateral::json_slice::{compact, top_level_value};
use crate::collateral::Collateral;
use crate::dcap_time::parse_time;
use crate::policy::Policy;
use crate::tcb::{QeIdentity, TcbInfo};
use crate::verify::Verifier;
use crate::x509util::{parse_pem_certs, Cert, Crl};
use proptest::prelude::*;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Collateral::from_dcap_qvl_json(&bytes, "r");
        let _ = top_level_value(&bytes, "tcbInfo");
        let _ = compact(&bytes);
        let _ = Crl::parse(&bytes, "r");
        let _ = Cert::from_der(&bytes, "r");
        let _ = parse_pem_certs(&bytes, "r");
        let _ = TcbInfo::from_json(&text);
        let _ = QeIdentity::from_json(&text);
        let _ = Policy::from_json(&text, "r");
        let _ = parse_time(&text, "r");
    }

    #[test]
    fn truncated_collateral_never_panics(cut in 0usize..20_000) {
        let full = read("phala-dcap-qvl/sgx_quote_collateral.json");
        let part = &full[..cut.min(full.len())];
        let _ = Collateral::from_dcap_qvl_json(part, "t");
        let _ = top_level_value(part, "tcb_info");
        let json: serde_json::Value = serde_json::from_slice(&full).expect("json");
        let tcb = json["tcb_info"].as_str().expect("s");
        let _ = TcbInfo::from_json(&tcb[..cut.min(tcb.len())]);
        let crl = hex::decode(json["pck_crl"].as_str().expect("s")).expect("hex");
        let _ = Crl::parse(&crl[..cut.min(crl.len())], "t");
    }

    #[test]
    fn truncated_quotes_are_rejected(cut in 0usize..4600) {
        let q = read("phala-dcap-qvl/sgx_quote");
        let col = Collateral::from_dcap_qvl_json(&read("phala-dcap-qvl/sgx_quote_collateral.json"), "c").expect("c");
        let v = Verifier::default().verify(&q[..cut], &col, 1_752_919_277);
        prop_assert!(!v.accepted);
    }
}

#[test]
fn verifier_is_send_sync_and_caches() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Verifier>();
    let q = read("phala-dcap-qvl/sgx_quote");
    let col =
        Collateral::from_dcap_qvl_json(&read("phala-dcap-qvl/sgx_quote_collateral.json"), "c")
            .expect("c");
    let verifier = Verifier::default();
    let first = verifier.verify(&q, &col, 1_752_919_277);
    let cached = verifier.cache_len();
    assert!(
        cached >= 5,
        "PCK chain, CRLs, TCB info, QE identity cached: {cached}"
    );
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| verifier.verify(&q, &col, 1_752_919_277)))
            .collect();
        for h in handles {
            assert_eq!(h.join().expect("thread"), first);
        }
    });
    assert_eq!(
        verifier.cache_len(),
        cached,
        "warm verifications add nothing"
    );
    // Past the end of validity, cached entries are not used and the verdict still rejects.
    let late = verifier.verify(&q, &col, 1_800_000_000);
    assert!(!late.accepted);
    assert_eq!(Verifier::default().verify(&q, &col, 1_800_000_000), late);
}
