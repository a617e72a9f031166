//! Collateral forms and collateral-level negatives: raw PCS directories, Intel's QVL sample data
//! with its test root, oasis-core (no CRLs), wrong chains, tampered TCB info / QE identity and
//! pretty-printed PCS files.

use crate::collateral::{Collateral, SignedForm, SignedJson};
use crate::policy::Policy;
use crate::tcb::TcbStatus;
use crate::verify::{trust_root_key, Outcome, Verdict, Verifier};
use crate::x509util::{parse_pem_certs, verify_p256_der, verify_p256_fixed};
use std::path::Path;

#[path = "fixtures.rs"]
mod fixtures;

use fixtures::{any_status, failed, read};

fn outcome(v: &Verdict, name: &str) -> Option<Outcome> {
    v.check(name.parse().expect("a check name"))
        .map(|c| c.outcome)
}

fn put(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("write");
}

/// The phala dcap-qvl collateral written out as raw PCS files gives the same verdict.
#[test]
fn pcs_directory_matches_dcap_qvl_json() {
    let json: serde_json::Value =
        serde_json::from_slice(&read("phala-dcap-qvl/sgx_quote_collateral.json")).expect("json");
    let s = |k: &str| json[k].as_str().expect("string").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    put(
        d,
        "tcb_info.json",
        format!(
            "{{\"tcbInfo\":{},\"signature\":\"{}\"}}",
            s("tcb_info"),
            s("tcb_info_signature")
        )
        .as_bytes(),
    );
    put(
        d,
        "tcb_info_issuer_chain.pem",
        s("tcb_info_issuer_chain").as_bytes(),
    );
    put(
        d,
        "qe_identity.json",
        format!(
            "{{\"enclaveIdentity\":{},\"signature\":\"{}\"}}",
            s("qe_identity"),
            s("qe_identity_signature")
        )
        .as_bytes(),
    );
    put(d, "pck_crl.der", &hex::decode(s("pck_crl")).expect("hex"));
    put(
        d,
        "pck_crl_issuer_chain.pem",
        s("pck_crl_issuer_chain").as_bytes(),
    );
    put(
        d,
        "root_ca_crl.der",
        &hex::decode(s("root_ca_crl")).expect("hex"),
    );
    let col = Collateral::from_path(d).expect("reads dir");
    let q = read("phala-dcap-qvl/sgx_quote");
    let v = Verifier::new(any_status()).verify(&q, &col, 1_752_919_277);
    assert!(v.accepted, "{:?}", failed(&v));
    assert_eq!(
        v.tcb_status,
        Some(TcbStatus::ConfigurationAndSWHardeningNeeded)
    );
    assert_eq!(v.advisory_ids, vec!["INTEL-SA-00289", "INTEL-SA-00615"]);
}

fn intel_sample_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let s = "intel-qvl-sampledata/";
    put(d, "tcb_info.json", &read(&format!("{s}tcbInfo.json")));
    put(
        d,
        "tcb_info_issuer_chain.pem",
        &read(&format!("{s}tcbSignChain.pem")),
    );
    put(d, "qe_identity.json", &read(&format!("{s}qeIdentity.json")));
    put(
        d,
        "pck_crl.der",
        &read(&format!("{s}intermediateCaCrl.der")),
    );
    put(
        d,
        "pck_crl_issuer_chain.pem",
        &read(&format!("{s}pckSignChain.pem")),
    );
    put(d, "root_ca_crl.der", &read(&format!("{s}rootCaCrl.der")));
    let mut chain = read(&format!("{s}pckCert.pem"));
    chain.extend(read(&format!("{s}pckSignChain.pem")));
    put(d, "pck_chain.pem", &chain);
    dir
}

/// Intel's synthetic QVL sample: UpToDate with its test root, rejected with the Intel root.
#[test]
fn intel_qvl_sample_needs_its_test_root() {
    let dir = intel_sample_dir();
    let col = Collateral::from_path(dir.path()).expect("reads dir");
    let q = read("intel-qvl-sampledata/quote.dat");
    let root =
        trust_root_key(&read("intel-qvl-sampledata/trustedRootCaCert.pem"), "root").expect("root");
    let at = 1_700_000_000;
    let v = Verifier::with_trust_roots(vec![root], Policy::default()).verify(&q, &col, at);
    assert!(v.accepted, "{:?}", failed(&v));
    assert_eq!(v.tcb_status, Some(TcbStatus::UpToDate));
    assert_eq!(v.qe_tcb_status, Some(TcbStatus::UpToDate));
    let v = Verifier::default().verify(&q, &col, at);
    assert!(!v.accepted);
    assert_eq!(outcome(&v, "pck.chain"), Some(Outcome::Fail));
    assert_eq!(outcome(&v, "tcb_info.signature"), Some(Outcome::Fail));
    assert_eq!(outcome(&v, "crl.root"), Some(Outcome::Fail));
}

fn oasis_dir(chain: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    put(
        d,
        "tcb_info.json",
        &read("oasis-core/tcb_info_v3_fmspc_00606A000000.json"),
    );
    put(
        d,
        "tcb_info_issuer_chain.pem",
        &read(&format!("oasis-core/{chain}")),
    );
    put(
        d,
        "qe_identity.json",
        &read("oasis-core/qe_identity_v2.json"),
    );
    dir
}

/// oasis-core's quote with raw PCS TCB info and QE identity but no CRLs: the TCB and QE levels
/// match `testdata/SOURCES.md`, but a strict verifier rejects for the missing CRLs.
#[test]
fn oasis_without_crls_is_rejected_strictly() {
    let dir = oasis_dir("tcb_info_v3_fmspc_00606A000000_certs.pem");
    let col = Collateral::from_path(dir.path()).expect("reads dir");
    let q = read("oasis-core/quote_v3_ecdsa_p256_pck_chain.bin");
    let v = Verifier::new(any_status().with_allow_debug(true)).verify(&q, &col, 1_671_497_404);
    assert!(!v.accepted);
    let f = failed(&v);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(outcome(&v, "crl.root"), Some(Outcome::Fail));
    assert_eq!(outcome(&v, "crl.pck"), Some(Outcome::Fail));
    assert_eq!(v.platform_tcb_status, Some(TcbStatus::SWHardeningNeeded));
    assert_eq!(v.advisory_ids, vec!["INTEL-SA-00615", "INTEL-SA-00657"]);
    assert_eq!(v.qe_tcb_status, Some(TcbStatus::UpToDate));
    // oasis-core's own negatives at other times.
    for (at, check) in [
        (1_891_163_522, "pck.validity"),
        (1_670_238_720, "pck.validity"),
        (1_671_194_735, "qe_identity.validity"),
        (1_673_786_737, "qe_identity.validity"),
    ] {
        let v = Verifier::new(any_status()).verify(&q, &col, at);
        assert_eq!(
            outcome(&v, check),
            Some(Outcome::Fail),
            "at {at}: {:?}",
            failed(&v)
        );
    }
}

#[test]
fn oasis_wrong_tcb_chain_is_rejected() {
    let dir = oasis_dir("tcb_info_v3_fmspc_00606A000000_certs_bad.pem");
    let col = Collateral::from_path(dir.path()).expect("reads dir");
    let q = read("oasis-core/quote_v3_ecdsa_p256_pck_chain.bin");
    let v = Verifier::new(any_status()).verify(&q, &col, 1_671_497_404);
    assert!(!v.accepted);
    assert_eq!(outcome(&v, "tcb_info.signature"), Some(Outcome::Fail));
}

/// oasis-core's one-byte changes: tcbInfo index 16 → 'x', QE identity index 22 changed.
#[test]
fn oasis_one_byte_changes_break_signatures() {
    let dir = oasis_dir("tcb_info_v3_fmspc_00606A000000_certs.pem");
    let good = Collateral::from_path(dir.path()).expect("reads dir");
    let q = read("oasis-core/quote_v3_ecdsa_p256_pck_chain.bin");
    let verifier = Verifier::new(any_status());
    let mut col = good.clone();
    col.tcb_info.body[16] = b'x';
    let v = verifier.verify(&q, &col, 1_671_497_404);
    assert_eq!(outcome(&v, "tcb_info.signature"), Some(Outcome::Fail));
    let mut col = good.clone();
    col.qe_identity.body[22] ^= 0x01;
    let v = verifier.verify(&q, &col, 1_671_497_404);
    assert_eq!(outcome(&v, "qe_identity.signature"), Some(Outcome::Fail));
}

/// Fortanix wrappers carry a DER signature and the CA chain; the corrupted copies (issueDate
/// "3000-…") must fail the signature check, the originals pass it.
#[test]
fn fortanix_corrupted_tcb_info_and_qe_identity_fail() {
    for (file, body_key) in [
        ("00906ea10000.tcb", "raw_tcb_info"),
        ("qe3_identity.id", "raw_enclave_identity"),
    ] {
        for (dir, expect) in [("", true), ("corrupted/", false)] {
            let rel = format!("fortanix-rust-sgx/pcs/{dir}{file}");
            let w: serde_json::Value = serde_json::from_slice(&read(&rel)).expect("json");
            let body = w[body_key].as_str().expect("body");
            let sig: Vec<u8> = w["signature"]
                .as_array()
                .expect("sig")
                .iter()
                .map(|b| b.as_u64().expect("byte") as u8)
                .collect();
            let chain: String = w["ca_chain"]
                .as_array()
                .expect("chain")
                .iter()
                .map(|c| c.as_str().expect("pem").to_string())
                .collect();
            let certs = parse_pem_certs(chain.as_bytes(), "ca_chain").expect("certs");
            let signer = certs
                .iter()
                .find(|c| !c.is_self_issued())
                .expect("signing cert");
            assert_eq!(
                verify_p256_der(&signer.public_key, body.as_bytes(), &sig),
                expect,
                "{rel}"
            );
        }
    }
}

/// teekit's pretty-printed TCB infos verify only over their compact form; the raw compact one
/// verifies directly. The signer is the TCB signing cert of the phala collateral.
#[test]
fn pretty_printed_pcs_files_verify_over_compact_form() {
    let json: serde_json::Value =
        serde_json::from_slice(&read("phala-dcap-qvl/sgx_quote_collateral.json")).expect("json");
    let chain = json["tcb_info_issuer_chain"].as_str().expect("chain");
    let certs = parse_pem_certs(chain.as_bytes(), "chain").expect("certs");
    let signer = certs.iter().find(|c| !c.is_self_issued()).expect("signer");
    for (f, pretty) in [
        ("tcbInfo-sgx-30606a000000.json", true),
        ("tcbInfo-sgx-90c06f000000.json", true),
        ("tcbInfo-sgx-00906ed50000.json", false),
    ] {
        let raw = read(&format!("teekit-qvl/sampleTcbInfos/{f}"));
        let piece =
            crate::collateral::pcs_dir::split_pcs_response(&raw, &["tcbInfo"], f).expect("splits");
        let c = piece.signed_candidates();
        assert_eq!(c.len(), if pretty { 2 } else { 1 }, "{f}");
        assert_eq!(
            verify_p256_fixed(&signer.public_key, &piece.body, &piece.signature),
            !pretty,
            "{f}: raw slice"
        );
        assert!(
            c.iter()
                .any(|b| verify_p256_fixed(&signer.public_key, b, &piece.signature)),
            "{f}: some candidate verifies"
        );
        let form = if pretty {
            SignedForm::Compact
        } else {
            SignedForm::Exact
        };
        assert_eq!(piece.signed_form(&signer.public_key), Some(form), "{f}");
    }
    // A compact body has exactly one candidate: itself.
    let s = SignedJson {
        body: b"{\"a\":1}".to_vec(),
        signature: vec![0; 64],
    };
    assert_eq!(s.signed_candidates(), vec![b"{\"a\":1}".to_vec()]);
}

/// The verifier takes a re-formatted (pretty-printed) TCB info and QE identity: their
/// signatures verify over the compact form, and the verdict says so.
#[test]
fn verifier_accepts_reformatted_tcb_info_and_qe_identity() {
    let mut col =
        Collateral::from_dcap_qvl_json(&read("phala-dcap-qvl/sgx_quote_collateral.json"), "phala")
            .expect("collateral");
    for piece in [&mut col.tcb_info, &mut col.qe_identity] {
        let v: serde_json::Value = serde_json::from_slice(&piece.body).expect("json");
        let pretty = serde_json::to_vec_pretty(&v).expect("pretty");
        assert_ne!(pretty, piece.body);
        assert_eq!(crate::collateral::json_slice::compact(&pretty), piece.body);
        piece.body = pretty;
    }
    let v =
        Verifier::new(any_status()).verify(&read("phala-dcap-qvl/sgx_quote"), &col, 1_752_919_277);
    assert!(v.accepted, "{:?}", failed(&v));
    let tcb = v
        .check(crate::verify::CheckId::TcbInfoSignature)
        .expect("check");
    assert!(tcb.reason.contains("compact form"), "{}", tcb.reason);
    assert_eq!(outcome(&v, "qe_identity.signature"), Some(Outcome::Pass));
}

/// TCB info v2 and v3 level matching on the values `testdata/SOURCES.md` records.
#[test]
fn tcb_level_matching_v2_and_v3() {
    use crate::tcb::{PlatformTcb, TcbInfo};
    let comps = |v: &[u8]| {
        let mut c = [0u8; 16];
        c[..v.len()].copy_from_slice(v);
        c
    };
    // Fortanix 00906ea10000.tcb: TCB info v2 (no advisories); PCK TCB [14,14,2,4,1,128,7],
    // PCESVN 10 → first level, SWHardeningNeeded.
    let w: serde_json::Value =
        serde_json::from_slice(&read("fortanix-rust-sgx/pcs/00906ea10000.tcb")).expect("json");
    let v2 = TcbInfo::from_json(w["raw_tcb_info"].as_str().expect("s")).expect("v2 parses");
    assert_eq!((v2.version, v2.id.as_deref()), (2, None));
    assert_eq!(v2.fmspc, [0x00, 0x90, 0x6e, 0xa1, 0x00, 0x00]);
    let p = PlatformTcb {
        sgx_components: comps(&[14, 14, 2, 4, 1, 128, 7]),
        pce_svn: 10,
    };
    let level = v2.match_level(&p).expect("a level");
    assert_eq!(level.status, TcbStatus::SWHardeningNeeded);
    assert!(level.advisory_ids.is_empty());
    assert!(std::ptr::eq(level, &v2.levels[0]));
    // Fortanix tcb-json/tcb-sgx.json (v3): [6,6,10,10,5,255,0,2,0..] with PCESVN 14 → UpToDate.
    let raw = read("fortanix-rust-sgx/pcs/tcb-json/tcb-sgx.json");
    let piece =
        crate::collateral::pcs_dir::split_pcs_response(&raw, &["tcbInfo"], "sgx").expect("splits");
    let v3 = TcbInfo::from_json(piece.text().expect("utf8")).expect("v3 parses");
    let p = PlatformTcb {
        sgx_components: comps(&[6, 6, 10, 10, 5, 255, 0, 2]),
        pce_svn: 14,
    };
    assert_eq!(
        v3.match_level(&p).map(|l| l.status.clone()),
        Some(TcbStatus::UpToDate)
    );
    // A platform below every level matches nothing.
    let low = PlatformTcb {
        sgx_components: [0; 16],
        pce_svn: 0,
    };
    assert!(v3.match_level(&low).is_none());
    // dcap-rs' pretty-printed v2 TCB info parses too.
    let raw = read("automata-dcap-rs/tcb_info_v2.json");
    let piece =
        crate::collateral::pcs_dir::split_pcs_response(&raw, &["tcbInfo"], "v2").expect("splits");
    let t = TcbInfo::from_json(piece.text().expect("utf8")).expect("parses");
    assert_eq!(t.tcb_evaluation_data_number, 16);
}
