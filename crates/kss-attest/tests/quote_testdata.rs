//! Every quote in `testdata/` parses to the values recorded in EXPECTED_FIELDS.json
//! (produced by an independent Python parser and cross-checked with dcap-qvl).

use kss_attest::pck::{parse_pem_chain, pck_leaf_of_chain, sgx_extension_of_cert};
use kss_attest::quote::{Quote, QuoteBody, QuoteError};
use serde_json::Value;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn read(rel: &str) -> Vec<u8> {
    let path = format!("{TESTDATA}/{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn expected() -> serde_json::Map<String, Value> {
    let text = read("EXPECTED_FIELDS.json");
    match serde_json::from_slice(&text).expect("EXPECTED_FIELDS.json is JSON") {
        Value::Object(m) => m,
        _ => panic!("EXPECTED_FIELDS.json is not an object"),
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string {key}"))
}

fn n(v: &Value, key: &str) -> u64 {
    v.get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("missing number {key}"))
}

fn check_sgx_report(name: &str, body: &kss_types::ReportBody, e: &Value) {
    let ctx = |f: &str| format!("{name}: isv report {f}");
    assert_eq!(
        hex::encode(body.cpu_svn.0),
        s(e, "cpusvn"),
        "{}",
        ctx("cpusvn")
    );
    assert_eq!(
        u64::from(body.misc_select.0),
        n(e, "miscselect"),
        "{}",
        ctx("misc")
    );
    assert_eq!(
        hex::encode(body.isv_ext_prod_id.0),
        s(e, "isv_ext_prod_id"),
        "{}",
        ctx("isv_ext_prod_id")
    );
    assert_eq!(
        hex::encode(body.attributes.to_bytes()),
        s(e, "attributes"),
        "{}",
        ctx("attributes")
    );
    assert_eq!(
        hex::encode(body.mr_enclave),
        s(e, "mrenclave"),
        "{}",
        ctx("mre")
    );
    assert_eq!(
        hex::encode(body.mr_signer),
        s(e, "mrsigner"),
        "{}",
        ctx("mrs")
    );
    assert_eq!(
        hex::encode(body.config_id.0),
        s(e, "config_id"),
        "{}",
        ctx("cid")
    );
    assert_eq!(
        u64::from(body.isv_prod_id),
        n(e, "isv_prod_id"),
        "{}",
        ctx("prod")
    );
    assert_eq!(u64::from(body.isv_svn), n(e, "isv_svn"), "{}", ctx("svn"));
    assert_eq!(
        u64::from(body.config_svn),
        n(e, "config_svn"),
        "{}",
        ctx("csvn")
    );
    assert_eq!(
        hex::encode(body.isv_family_id.0),
        s(e, "isv_family_id"),
        "{}",
        ctx("family")
    );
    assert_eq!(
        hex::encode(body.report_data),
        s(e, "report_data"),
        "{}",
        ctx("rd")
    );
    assert_eq!(
        format!("{:#x}", body.attributes.flags.0),
        s(e, "attributes_flags"),
        "{}",
        ctx("flags")
    );
    assert_eq!(
        format!("{:#x}", body.attributes.xfrm),
        s(e, "attributes_xfrm"),
        "{}",
        ctx("xfrm")
    );
    let kss = body
        .attributes
        .flags
        .contains(kss_types::AttributeFlags::KSS);
    assert_eq!(
        Some(kss),
        e["kss_attribute_bit"].as_bool(),
        "{}",
        ctx("kss")
    );
    let debug = body
        .attributes
        .flags
        .contains(kss_types::AttributeFlags::DEBUG);
    assert_eq!(Some(debug), e["debug"].as_bool(), "{}", ctx("debug"));
}

fn check_qe_report(name: &str, q: &Quote, e: &Value) {
    let qe = &q.signature.qe_report;
    assert_eq!(
        hex::encode(qe.mr_enclave),
        s(e, "mrenclave"),
        "{name} qe mre"
    );
    assert_eq!(hex::encode(qe.mr_signer), s(e, "mrsigner"), "{name} qe mrs");
    assert_eq!(
        u64::from(qe.isv_prod_id),
        n(e, "isv_prod_id"),
        "{name} qe prod"
    );
    assert_eq!(u64::from(qe.isv_svn), n(e, "isv_svn"), "{name} qe svn");
    assert_eq!(
        u64::from(qe.misc_select.0),
        n(e, "miscselect"),
        "{name} qe misc"
    );
    assert_eq!(
        hex::encode(qe.attributes.to_bytes()),
        s(e, "attributes"),
        "{name} qe attr"
    );
    assert_eq!(
        hex::encode(qe.cpu_svn.0),
        s(e, "cpusvn"),
        "{name} qe cpusvn"
    );
    assert_eq!(&q.signature.qe_report_raw[..], &qe.to_bytes()[..]);
}

fn check_pck(name: &str, q: &Quote, e: &Value) {
    let pem = q
        .pck_chain_pem()
        .unwrap_or_else(|| panic!("{name}: no PCK chain"));
    let (_, ext) = pck_leaf_of_chain(pem).unwrap_or_else(|err| panic!("{name}: {err}"));
    assert_eq!(hex::encode(ext.fmspc), s(e, "fmspc"), "{name} fmspc");
    assert_eq!(hex::encode(ext.pce_id), s(e, "pceid"), "{name} pceid");
    assert_eq!(u64::from(ext.tcb.pce_svn), n(e, "pcesvn"), "{name} pcesvn");
    assert_eq!(u64::from(ext.sgx_type), n(e, "sgx_type"), "{name} sgx_type");
    assert_eq!(hex::encode(ext.ppid), s(e, "ppid"), "{name} ppid");
    let comps: Vec<u64> = e["cpusvn"]
        .as_array()
        .expect("cpusvn list")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let mine: Vec<u64> = ext.tcb.comp_svn.iter().map(|&b| u64::from(b)).collect();
    assert_eq!(mine, comps, "{name} tcb comp svns");
    // In every real PCK certificate the CPUSVN entry repeats the 16 component SVNs.
    assert_eq!(ext.tcb.cpu_svn, ext.tcb.comp_svn, "{name} cpusvn entry");
}

#[test]
fn every_quote_matches_expected_fields() {
    let all = expected();
    assert_eq!(all.len(), 18, "EXPECTED_FIELDS.json lists 18 quotes");
    let mut sgx = 0;
    let mut tdx = 0;
    for (name, e) in &all {
        let bytes = read(name);
        assert_eq!(bytes.len() as u64, n(e, "file_len"), "{name} file_len");
        let quote_len = n(e, "quote_len_without_trailing") as usize;
        let strict = Quote::parse(&bytes);
        let q = if quote_len == bytes.len() {
            strict.unwrap_or_else(|err| panic!("{name}: {err}"))
        } else {
            assert_eq!(
                strict.unwrap_err(),
                QuoteError::TrailingBytes {
                    quote_len,
                    input_len: bytes.len(),
                    trailing: bytes.len() - quote_len
                },
                "{name}: strict parse must reject trailing bytes"
            );
            let q =
                Quote::parse_allow_trailing(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
            // The trimmed quote re-parses strictly to the same value.
            assert_eq!(Quote::parse(q.raw()).as_ref(), Ok(&q), "{name} re-parse");
            q
        };
        assert_eq!(q.raw().len(), quote_len, "{name} quote length");
        assert_eq!(q.raw(), &bytes[..quote_len]);
        let h = &q.header;
        assert_eq!(u64::from(h.version), n(e, "version"), "{name} version");
        assert_eq!(
            u64::from(h.att_key_type),
            n(e, "att_key_type"),
            "{name} akt"
        );
        assert_eq!(format!("{:#x}", h.tee_type), s(e, "tee_type"), "{name} tee");
        assert_eq!(u64::from(h.qe_svn), n(e, "qe_svn"), "{name} qe_svn");
        assert_eq!(u64::from(h.pce_svn), n(e, "pce_svn"), "{name} pce_svn");
        assert_eq!(
            hex::encode(h.qe_vendor_id),
            s(e, "qe_vendor_id"),
            "{name} vid"
        );
        assert_eq!(
            hex::encode(h.user_data),
            s(e, "user_data"),
            "{name} user_data"
        );
        let sig_len = quote_len - q.signature_data_offset();
        assert_eq!(sig_len as u64, n(e, "sig_len"), "{name} sig_len");
        assert_eq!(
            u64::from(q.signature.certification.cert_type),
            n(e, "cert_type"),
            "{name} cert_type"
        );
        assert_eq!(
            q.signature.outer_cert_type.map(u64::from),
            e.get("outer_cert_type").and_then(Value::as_u64),
            "{name} outer cert type"
        );
        match &q.body {
            QuoteBody::Sgx(body) => {
                sgx += 1;
                check_sgx_report(name, body, &e["isv_enclave_report"]);
                assert_eq!(q.signed_bytes(), &bytes[..432], "{name} signed region");
                assert!(e.get("td_report").is_none(), "{name} must be TDX");
            }
            QuoteBody::Td10(td) | QuoteBody::Td15(td) => {
                tdx += 1;
                let te = &e["td_report"];
                assert_eq!(hex::encode(td.mr_td), s(te, "mrtd"), "{name} mrtd");
                let body_len = if matches!(q.body, QuoteBody::Td15(_)) {
                    648
                } else {
                    584
                };
                assert_eq!(body_len, n(te, "tdx_body_len"), "{name} td body len");
                assert!(q.report_body().is_none());
            }
        }
        check_qe_report(name, &q, &e["qe_report"]);
        if let Some(pe) = e.get("pck_extension") {
            check_pck(name, &q, pe);
        } else {
            assert!(q.pck_chain_pem().is_none(), "{name}: unexpected PCK chain");
        }
    }
    assert_eq!((sgx, tdx), (12, 6));
}

#[test]
fn tdx_v5_uses_the_body_descriptor() {
    let bytes = read("phala-dcap-qvl/tdx_quote_outdated");
    let q = Quote::parse(&bytes).expect("v5 TDX quote parses");
    assert_eq!(q.header.version, 5);
    assert!(matches!(q.body, QuoteBody::Td15(_)));
    // header 48 + descriptor 6 + TD 1.5 body 648
    assert_eq!(q.signed_bytes().len(), 48 + 6 + 648);
}

#[test]
fn raw_tcb_quote_carries_encrypted_ppid() {
    // Fortanix dcap-ql test: certification data type 3 = RSA-3072 encrypted PPID (384 bytes)
    // followed by CPUSVN (16), PCESVN (2) and PCEID (2).
    let q = Quote::parse(&read("fortanix-rust-sgx/dcap-ql/quote_raw_tcb.bin")).expect("parses");
    let data = &q.signature.certification.data;
    assert_eq!(data.len(), 384 + 16 + 2 + 2);
    assert_eq!(
        hex::encode(&data[384..400]),
        "05050205ff8001000000000000000000"
    );
    assert_eq!(u16::from_le_bytes([data[400], data[401]]), 6, "pcesvn");
    assert_eq!(u16::from_le_bytes([data[402], data[403]]), 0, "pceid");
    let ppid = read("fortanix-rust-sgx/dcap-ql/encrypted_ppid.bin");
    assert_eq!(&data[..384], &ppid[..]);
}

#[test]
fn corrupted_quote_parses_but_differs_only_in_the_isv_signature() {
    let good = Quote::parse(&read("fortanix-rust-sgx/dcap-ql/quote_pck_cert_chain.bin")).unwrap();
    let bad = Quote::parse(&read(
        "fortanix-rust-sgx/dcap-ql/quote_pck_cert_chain_corrupted.bin",
    ))
    .unwrap();
    assert_ne!(good.signature.isv_signature, bad.signature.isv_signature);
    assert_eq!(good.body, bad.body);
    assert_eq!(good.signature.qe_report, bad.signature.qe_report);
    assert_eq!(good.signature.certification, bad.signature.certification);
}

#[test]
fn fortanix_chain_is_ordered_pck_root_processor() {
    let q = Quote::parse(&read("fortanix-rust-sgx/dcap-ql/quote_pck_cert_chain.bin")).unwrap();
    let certs = parse_pem_chain(q.pck_chain_pem().unwrap()).unwrap();
    assert_eq!(certs.len(), 3);
    assert!(sgx_extension_of_cert(&certs[0]).is_ok());
    let subj = |i: usize| certs[i].tbs_certificate.subject.to_string();
    assert!(subj(1).contains("Intel SGX Root CA"), "{}", subj(1));
    assert!(
        subj(2).contains("Intel SGX PCK Processor CA"),
        "{}",
        subj(2)
    );
}

/// The Occlum quote is the only real quote with non-zero KSS fields (`testdata/SOURCES.md` §5).
/// Its values were read with this parser at the offsets of `docs/sgx-reference.md` §12
/// (ISVEXTPRODID at 80, CONFIGID at 240, CONFIGSVN at 308, ISVFAMILYID at 352) and
/// cross-checked byte by byte against the raw file below.
#[test]
fn occlum_kss_quote_fields() {
    let bytes = read("aggregion-occlum-sgx-quote/quote.raw");
    let q = Quote::parse(&bytes).expect("Occlum quote parses");
    let body = q.report_body().expect("SGX");
    assert!(body
        .attributes
        .flags
        .contains(kss_types::AttributeFlags::KSS));
    // Independent read of the raw bytes at the absolute offsets.
    assert_eq!(&body.isv_ext_prod_id.0[..], &bytes[80..96]);
    assert_eq!(&body.config_id.0[..], &bytes[240..304]);
    assert_eq!(
        body.config_svn,
        u16::from_le_bytes([bytes[308], bytes[309]])
    );
    assert_eq!(&body.isv_family_id.0[..], &bytes[352..368]);
    assert!(!body.isv_family_id.is_zero());
    assert!(!body.isv_ext_prod_id.is_zero());
    assert!(!body.config_id.is_zero());
    // Enclave.xml convention (`docs/sgx-reference.md` §9.1, `testdata/SOURCES.md` §9):
    // _L = bytes 0..8 LE, _H = bytes 8..16 LE.
    // Read that way both IDs are small round values; read big-endian they would not be.
    assert_eq!(
        hex::encode(body.isv_family_id.0),
        "34250000000000002334000000000000"
    );
    assert_eq!(
        (body.isv_family_id.high(), body.isv_family_id.low()),
        (0x3423, 0x2534)
    );
    assert_eq!(
        hex::encode(body.isv_ext_prod_id.0),
        "52344200000000003254030000000000"
    );
    assert_eq!(
        (body.isv_ext_prod_id.high(), body.isv_ext_prod_id.low()),
        (0x35432, 0x423452)
    );
    assert_eq!(
        hex::encode(body.config_id.0),
        "55a1d46ddc4434985dc2ab821c7606fb2b54aea54f795923ef3fea0e3a37d254439ab1fdae2899fb55189a4f1c3cf6738e7dbde4a55e8f2b75f620561fb543a3"
    );
    assert_eq!(body.config_svn, 0);
    assert_eq!((body.isv_prod_id, body.isv_svn), (4000, 5000));
    assert_eq!(body.attributes.flags.0, 0x85, "INIT|MODE64BIT|KSS");
    eprintln!(
        "occlum: family {} (high {:#x} low {:#x}) ext_prod {} (high {:#x} low {:#x}) config_id {} config_svn {} attributes {:#x}/{:#x} mrenclave {} mrsigner {} prod {} svn {}",
        hex::encode(body.isv_family_id.0),
        body.isv_family_id.high(),
        body.isv_family_id.low(),
        hex::encode(body.isv_ext_prod_id.0),
        body.isv_ext_prod_id.high(),
        body.isv_ext_prod_id.low(),
        hex::encode(body.config_id.0),
        body.config_svn,
        body.attributes.flags.0,
        body.attributes.xfrm,
        hex::encode(body.mr_enclave),
        hex::encode(body.mr_signer),
        body.isv_prod_id,
        body.isv_svn,
    );
}
