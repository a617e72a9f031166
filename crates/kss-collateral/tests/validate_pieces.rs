//! The checks a fetched piece passes before it is used or cached, on the real fixtures.

use kss_attest::collateral::PckCa;
use kss_attest::{trust_root_key, INTEL_SGX_ROOT_CA_PUBLIC_KEY};
use kss_collateral::need::Need;
use kss_collateral::validate::{check, Problem};
use kss_collateral::Piece;

const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
const ROOTS: [[u8; 65]; 1] = [INTEL_SGX_ROOT_CA_PUBLIC_KEY];
const PHALA_FMSPC: [u8; 6] = [0x00, 0xA0, 0x67, 0x11, 0x00, 0x00];

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

struct Served {
    tcb: Vec<u8>,
    tcb_chain: String,
    qe: Vec<u8>,
    qe_chain: String,
    pck_crl: Vec<u8>,
    pck_crl_chain: String,
    root_crl_hex: String,
}

fn phala() -> Served {
    let v: serde_json::Value =
        serde_json::from_slice(&read("phala-dcap-qvl/sgx_quote_collateral.json")).unwrap();
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    Served {
        tcb: format!(
            r#"{{"tcbInfo":{},"signature":"{}"}}"#,
            s("tcb_info"),
            s("tcb_info_signature")
        )
        .into_bytes(),
        tcb_chain: s("tcb_info_issuer_chain"),
        qe: format!(
            r#"{{"enclaveIdentity":{},"signature":"{}"}}"#,
            s("qe_identity"),
            s("qe_identity_signature")
        )
        .into_bytes(),
        qe_chain: s("qe_identity_issuer_chain"),
        pck_crl: hex::decode(s("pck_crl")).unwrap(),
        pck_crl_chain: s("pck_crl_issuer_chain"),
        root_crl_hex: s("root_ca_crl"),
    }
}

/// `body` with one changed digit (in the signed value).
fn tampered(body: &[u8]) -> Vec<u8> {
    let mut t = body.to_vec();
    let i = t.iter().position(u8::is_ascii_digit).unwrap();
    t[i] = if t[i] == b'9' { b'0' } else { t[i] + 1 };
    t
}

fn rejected(r: Result<kss_collateral::validate::Checked, Problem>) -> String {
    match r {
        Err(Problem::Rejected(why)) => why.to_string(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn the_real_pieces_pass_with_their_windows() {
    let p = phala();
    let tcb = Piece::TcbInfo { fmspc: PHALA_FMSPC };
    let c = check(&tcb, &p.tcb, Some(&p.tcb_chain), &ROOTS).unwrap();
    assert_eq!(c.body, p.tcb, "kept byte-exact");
    assert_eq!((c.issued, c.next_update), (1_750_330_571, 1_752_922_571));
    let c = check(&Piece::QeIdentity, &p.qe, Some(&p.qe_chain), &ROOTS).unwrap();
    assert_eq!(c.next_update, 1_752_919_278);
    let pck = Piece::PckCrl {
        ca: PckCa::Processor,
    };
    let c = check(&pck, &p.pck_crl, Some(&p.pck_crl_chain), &ROOTS).unwrap();
    assert_eq!(c.next_update, 1_752_920_598);
    // The Root CA CRL as a PCCS serves it (hex text) is stored as DER.
    let c = check(&Piece::RootCaCrl, p.root_crl_hex.as_bytes(), None, &ROOTS).unwrap();
    assert_eq!(c.body, hex::decode(&p.root_crl_hex).unwrap());
}

#[test]
fn wrong_pieces_are_rejected() {
    let p = phala();
    // The TCB info of another FMSPC.
    let why = rejected(check(
        &Piece::TcbInfo { fmspc: [0; 6] },
        &p.tcb,
        Some(&p.tcb_chain),
        &ROOTS,
    ));
    assert!(
        why.contains("FMSPC 00A067110000, not 000000000000"),
        "{why}"
    );
    // The Processor CA's CRL asked for as the Platform CA's.
    let why = rejected(check(
        &Piece::PckCrl {
            ca: PckCa::Platform,
        },
        &p.pck_crl,
        Some(&p.pck_crl_chain),
        &ROOTS,
    ));
    assert!(why.contains("not by the PCK Platform CA"), "{why}");
    // A PCK CRL with the TCB signing chain: not its signer.
    let why = rejected(check(
        &Piece::PckCrl {
            ca: PckCa::Processor,
        },
        &p.pck_crl,
        Some(&p.tcb_chain),
        &ROOTS,
    ));
    assert!(why.contains("signature"), "{why}");
    // Another trust root: the chains lead nowhere, the root CRL is not its.
    let test_root = trust_root_key(
        &read("intel-qvl-sampledata/trustedRootCaCert.pem"),
        "test root",
    )
    .unwrap();
    let why = rejected(check(
        &Piece::QeIdentity,
        &p.qe,
        Some(&p.qe_chain),
        &[test_root],
    ));
    assert!(why.contains("trusted root"), "{why}");
    let why = rejected(check(
        &Piece::RootCaCrl,
        p.root_crl_hex.as_bytes(),
        None,
        &[test_root],
    ));
    assert!(why.contains("not signed by a trusted root"), "{why}");
    // One changed byte in the signed value.
    let tampered = tampered(&p.qe);
    let why = rejected(check(
        &Piece::QeIdentity,
        &tampered,
        Some(&p.qe_chain),
        &ROOTS,
    ));
    assert!(why.contains("altered"), "{why}");
}

#[test]
fn malformed_pieces_are_named_malformed() {
    let p = phala();
    for (piece, body) in [
        (
            Piece::TcbInfo { fmspc: PHALA_FMSPC },
            &b"<html>busy</html>"[..],
        ),
        (Piece::QeIdentity, &b"{\"enclaveIdentity\":{}}"[..]),
        (Piece::RootCaCrl, &b"not a crl"[..]),
    ] {
        let r = check(&piece, body, Some(&p.tcb_chain), &ROOTS);
        assert!(matches!(r, Err(Problem::Malformed(_))), "{piece}: {r:?}");
    }
    let r = check(&Piece::QeIdentity, &p.qe, Some("no pem here"), &ROOTS);
    assert!(matches!(r, Err(Problem::Malformed(_))), "{r:?}");
}

#[test]
fn needs_are_read_from_the_pck_certificate() {
    let n = Need::of_quote(&read("phala-dcap-qvl/sgx_quote"), None).unwrap();
    assert_eq!(
        n,
        Need {
            fmspc: PHALA_FMSPC,
            ca: PckCa::Processor
        }
    );
    // Platform CA (oasis quote, FMSPC 00606A000000).
    let n = Need::of_quote(&read("oasis-core/quote_v3_ecdsa_p256_pck_chain.bin"), None).unwrap();
    assert_eq!(n.ca, PckCa::Platform);
    assert_eq!(n.fmspc, [0x00, 0x60, 0x6A, 0, 0, 0]);
    // A quote without a PCK chain needs one given.
    let q = read("intel-qvl-sampledata/quote.dat");
    let e = Need::of_quote(&q, None).unwrap_err().to_string();
    assert!(e.contains("no PCK certificate chain"), "{e}");
    let mut chain = read("intel-qvl-sampledata/pckCert.pem");
    chain.extend(read("intel-qvl-sampledata/pckSignChain.pem"));
    let n = Need::of_quote(&q, Some(&chain)).unwrap();
    assert_eq!(n.fmspc, [0x00, 0x70, 0x7F, 0, 0, 0]);
    assert_eq!(n.ca, PckCa::Processor);
    // Through a verifier's certificate cache: the same needs, twice (the second from memory).
    let v = kss_attest::Verifier::default();
    let parsed = kss_attest::Quote::parse_allow_trailing(&q).unwrap();
    for _ in 0..2 {
        assert_eq!(
            Need::of_parsed_quote(&v, &parsed, Some(&chain), 1_752_919_277).unwrap(),
            n
        );
    }
    let phala = kss_attest::Quote::parse(&read("phala-dcap-qvl/sgx_quote")).unwrap();
    assert_eq!(
        Need::of_parsed_quote(&v, &phala, None, 1_752_919_277).unwrap(),
        Need {
            fmspc: PHALA_FMSPC,
            ca: PckCa::Processor
        }
    );
}

/// The text of a failed check.
fn problem_text(r: Result<kss_collateral::validate::Checked, Problem>) -> String {
    match r {
        Err(Problem::Rejected(why)) => format!("rejected: {why}"),
        Err(Problem::Malformed(why)) => format!("malformed: {why}"),
        Ok(c) => panic!("expected a problem, got {c:?}"),
    }
}

#[test]
fn problems_have_their_exact_text() {
    let p = phala();
    let test_root = trust_root_key(
        &read("intel-qvl-sampledata/trustedRootCaCert.pem"),
        "test root",
    )
    .unwrap();
    let tcb = Piece::TcbInfo { fmspc: PHALA_FMSPC };
    let processor = Piece::PckCrl {
        ca: PckCa::Processor,
    };
    let texts = [
        problem_text(check(
            &Piece::TcbInfo { fmspc: [0; 6] },
            &p.tcb,
            Some(&p.tcb_chain),
            &ROOTS,
        )),
        problem_text(check(
            &Piece::PckCrl {
                ca: PckCa::Platform,
            },
            &p.pck_crl,
            Some(&p.pck_crl_chain),
            &ROOTS,
        )),
        problem_text(check(&processor, &p.pck_crl, Some(&p.tcb_chain), &ROOTS)),
        problem_text(check(
            &Piece::QeIdentity,
            &p.qe,
            Some(&p.qe_chain),
            &[test_root],
        )),
        problem_text(check(
            &Piece::RootCaCrl,
            p.root_crl_hex.as_bytes(),
            None,
            &[test_root],
        )),
        problem_text(check(
            &tcb,
            b"<html>busy</html>",
            Some(&p.tcb_chain),
            &ROOTS,
        )),
        problem_text(check(&tcb, b"\xff\xfe", Some(&p.tcb_chain), &ROOTS)),
        problem_text(check(
            &Piece::QeIdentity,
            b"{\"enclaveIdentity\":{}}",
            Some(&p.qe_chain),
            &ROOTS,
        )),
        problem_text(check(&Piece::RootCaCrl, b"not a crl", None, &ROOTS)),
        problem_text(check(
            &Piece::QeIdentity,
            &p.qe,
            Some("no pem here"),
            &ROOTS,
        )),
        problem_text(check(&Piece::QeIdentity, &p.qe, None, &ROOTS)),
    ];
    let tampered = tampered(&p.qe);
    let altered = problem_text(check(
        &Piece::QeIdentity,
        &tampered,
        Some(&p.qe_chain),
        &ROOTS,
    ));
    let intel = "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX";
    assert_eq!(
        texts,
        [
            "rejected: it is the TCB info of FMSPC 00A067110000, not 000000000000".to_string(),
            format!("rejected: it is issued by \"{intel} PCK Processor CA\", not by the PCK Platform CA"),
            format!("rejected: the CRL signature does not verify with the key of \"{intel} TCB Signing\""),
            format!("rejected: the issuer chain does not lead to a trusted root: certificate chain: \"{intel} Root CA\" is not signed by any certificate in the chain or any trusted root"),
            format!("rejected: the CRL (issuer \"{intel} Root CA\") is not signed by a trusted root"),
            "malformed: TCB info: tcbInfo: no such top-level key in a JSON object".to_string(),
            "malformed: the body is not UTF-8 JSON".to_string(),
            "malformed: QE identity: signature: missing or not a string".to_string(),
            "malformed: Root CA CRL: not valid DER: neither DER, PEM nor hex: Odd number of digits".to_string(),
            "malformed: the issuer chain: no certificate".to_string(),
            "malformed: no issuer chain".to_string(),
        ]
    );
    assert_eq!(
        altered,
        format!("rejected: the signature does not verify with the key of \"{intel} TCB Signing\": the body was altered or not signed by it")
    );
}
