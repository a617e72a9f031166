//! PCK SGX-extension parsing against published expectations, and the JSON rendering of quotes
//! (keys, byte orders, {high, low} IDs).

use kss_attest::json::{quote_json, report_body_json, ByteOrder};
use kss_attest::pck::{
    encode_sgx_extension, parse_pem_chain, parse_sgx_extension, pck_leaf_of_chain, PckError,
    PemChainError, PlatformConfiguration,
};
use kss_attest::quote::Quote;
use kss_attest::PemProblem;
use serde_json::json;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn load(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}/{rel}")).unwrap()
}

#[test]
fn automata_extension() {
    // dcap-rs test: pceid 0000, pcesvn 11, compsvn[0] = 4.
    let ext = parse_sgx_extension(&load("automata-dcap-rs/sgx_x509_extension.der")).unwrap();
    assert_eq!(ext.pce_id, [0, 0]);
    assert_eq!(ext.tcb.pce_svn, 11);
    assert_eq!(ext.tcb.comp_svn[0], 4);
    assert_eq!(hex::encode(ext.ppid), "75bae7ff017bc728267a13965b9961f7");
    // A platform-CA PCK: it also carries a platform instance ID.
    assert_eq!(
        ext.platform_instance_id.map(hex::encode).as_deref(),
        Some("00ef03f080dac2760185e43179406ec6")
    );
}

#[test]
fn fortanix_platform_extension() {
    // Fortanix pcs test: Platform CA / Scalable PCK with instance ID and configuration.
    let der = load("fortanix-rust-sgx/pcs/DERIVED_sgx_extension_platform_cert.der");
    let ext = parse_sgx_extension(&der).unwrap();
    assert_eq!(hex::encode(ext.ppid), "3f545fc38af1107f31ed41547783bcd7");
    assert_eq!(
        ext.tcb.comp_svn,
        [3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(ext.tcb.pce_svn, 10);
    assert_eq!(hex::encode(ext.fmspc), "10606a000000");
    assert_eq!(ext.sgx_type, 1);
    assert_eq!(ext.sgx_type_name(), "Scalable");
    assert_eq!(
        ext.platform_instance_id.map(hex::encode).as_deref(),
        Some("5e5a84633cb1ddad3d79b9bea4030092")
    );
    assert_eq!(
        ext.configuration,
        Some(PlatformConfiguration {
            dynamic_platform: Some(true),
            cached_keys: Some(true),
            smt_enabled: Some(true),
        })
    );
    // Our encoder reproduces Intel's DER byte for byte.
    assert_eq!(encode_sgx_extension(&ext).unwrap(), der);
    let automata = load("automata-dcap-rs/sgx_x509_extension.der");
    let e2 = parse_sgx_extension(&automata).unwrap();
    assert_eq!(encode_sgx_extension(&e2).unwrap(), automata);
}

#[test]
fn occlum_pck_is_a_platform_ca_pck() {
    let q = Quote::parse(&load("aggregion-occlum-sgx-quote/quote.raw")).unwrap();
    let (cert, ext) = pck_leaf_of_chain(q.pck_chain_pem().unwrap()).unwrap();
    assert!(cert
        .tbs_certificate
        .issuer
        .to_string()
        .contains("Platform CA"));
    assert!(ext.platform_instance_id.is_some());
}

#[test]
fn non_pck_and_garbage_are_errors() {
    assert!(matches!(
        parse_sgx_extension(&[0x30, 0x00]),
        Err(PckError::Missing { name: "PPID", .. })
    ));
    assert!(matches!(
        parse_sgx_extension(&[0x04, 0x00]),
        Err(PckError::BadValue { .. })
    ));
    let root = load("intel-sgx-root-ca/Intel_SGX_Provisioning_Certification_RootCA.pem");
    assert_eq!(pck_leaf_of_chain(&root).unwrap_err(), PckError::NotPck);
}

/// A TCB entry that is not a SEQUENCE (here a SET with the same content) is rejected.
#[test]
fn tcb_entry_must_be_a_sequence() {
    let mut der = load("automata-dcap-rs/sgx_x509_extension.der");
    // OID 1.2.840.113741.1.13.1.2 (TCB) followed by the SEQUENCE tag of its value.
    let tcb: &[u8] = &[
        0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x02, 0x30,
    ];
    let at = der.windows(tcb.len()).position(|w| w == tcb).unwrap() + tcb.len() - 1;
    der[at] = 0x31;
    assert!(matches!(
        parse_sgx_extension(&der),
        Err(PckError::BadValue { name: "TCB", .. })
    ));
}

/// PEM chains as quote producers write them: 76-character lines, CRLF, text between blocks,
/// other block types and a trailing NUL.
#[test]
fn pem_chain_tolerance() {
    let pem = load("intel-sgx-root-ca/Intel_SGX_Provisioning_Certification_RootCA.pem");
    let want = parse_pem_chain(&pem).unwrap();
    assert_eq!(want.len(), 1);
    let text = String::from_utf8(pem).unwrap();
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let block = format!(
        "-----BEGIN CERTIFICATE-----\r\n{}\r\n-----END CERTIFICATE-----\r\n",
        lines.join("\r\n")
    );
    let messy = format!(
        "leaf:\r\n{block}some text\n-----BEGIN OTHER-----\n!!\n-----END OTHER-----\n{block}\0"
    );
    let got = parse_pem_chain(messy.as_bytes()).unwrap();
    assert_eq!(got, [want[0].clone(), want[0].clone()]);
    assert_eq!(
        parse_pem_chain(b"no pem here"),
        Err(PckError::Pem(PemChainError::NoCertificate))
    );
    let unterminated = parse_pem_chain(b"-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err();
    assert_eq!(
        unterminated,
        PckError::Pem(PemChainError::Pem(PemProblem::NoEnd {
            label: "CERTIFICATE".into()
        }))
    );
    assert_eq!(
        unterminated.to_string(),
        "PCK certificate chain: no \"-----END CERTIFICATE-----\" line"
    );
    let bad_base64 =
        parse_pem_chain(b"-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n")
            .unwrap_err();
    assert_eq!(
        bad_base64.to_string(),
        "PCK certificate chain: block 1 (CERTIFICATE): Invalid symbol 42, offset 1."
    );
    // The cause is kept: PckError -> PemChainError -> the base64 decoder's error.
    let pem_chain = std::error::Error::source(&bad_base64).expect("a PEM chain error");
    let decoder = pem_chain.source().expect("the base64 error");
    assert_eq!(
        decoder.downcast_ref::<base64::DecodeError>(),
        Some(&base64::DecodeError::InvalidByte(1, b'*'))
    );
}

#[test]
fn report_body_json_keys_and_byte_orders() {
    let q = Quote::parse(&load("aggregion-occlum-sgx-quote/quote.raw")).unwrap();
    let body = q.report_body().unwrap();
    let stored = report_body_json(body, ByteOrder::Stored);
    let mut keys: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "attributes",
            "config_id",
            "config_svn",
            "cpu_svn",
            "debug",
            "isv_ext_prod_id",
            "isv_ext_prod_id_high_low",
            "isv_family_id",
            "isv_family_id_high_low",
            "isv_prod_id",
            "isv_svn",
            "kss",
            "misc_select",
            "mr_enclave",
            "mr_signer",
            "report_data"
        ]
    );
    assert_eq!(stored["isv_family_id"], "34250000000000002334000000000000");
    assert_eq!(
        stored["isv_family_id_high_low"],
        json!({"high": "0x0000000000003423", "low": "0x0000000000002534"})
    );
    assert_eq!(
        stored["isv_ext_prod_id_high_low"],
        json!({"high": "0x0000000000035432", "low": "0x0000000000423452"})
    );
    assert_eq!(stored["attributes"]["flags"], "0x85");
    assert_eq!(stored["attributes"]["xfrm"], "0xe7");
    assert_eq!(
        stored["attributes"]["flag_names"],
        json!(["INIT", "MODE64BIT", "KSS"])
    );
    assert_eq!(stored["kss"], true);
    assert_eq!(stored["debug"], false);
    assert_eq!(stored["isv_prod_id"], 4000);
    assert_eq!(stored["isv_svn"], 5000);
    assert_eq!(stored["misc_select"], "0x1"); // EXINFO
    assert_eq!(
        stored["mr_enclave"],
        "9c90fd81f6e9fe64b46b14f0623523a52d6a5678482988c408f6adffe6301e2c"
    );

    let intel = report_body_json(body, ByteOrder::Intel);
    assert_eq!(intel["isv_family_id"], "00000000000034230000000000002534");
    assert_eq!(
        intel["mr_enclave"],
        "2c1e30e6ffadf608c488294878566a2da5233562f0146bb464fee9f681fd909c"
    );
    // {high, low} and numbers do not depend on the byte order.
    assert_eq!(
        intel["isv_family_id_high_low"],
        stored["isv_family_id_high_low"]
    );
    assert_eq!(intel["attributes"], stored["attributes"]);
}

#[test]
fn quote_json_top_level() {
    let q = Quote::parse(&load("phala-dcap-qvl/sgx_quote")).unwrap();
    let v = quote_json(&q, ByteOrder::Stored);
    for k in [
        "version",
        "att_key_type",
        "tee_type",
        "qe_svn",
        "pce_svn",
        "qe_vendor_id",
        "user_data",
        "report_body",
        "qe_report_body",
        "certification_data_type",
        "tee",
        "attestation_key",
        "qe_auth_data",
        "pck",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["tee"], "SGX");
    assert_eq!(v["version"], 3);
    assert_eq!(v["tee_type"], 0);
    assert_eq!(v["qe_svn"], 10);
    assert_eq!(v["pce_svn"], 15);
    assert_eq!(v["qe_vendor_id"], "939a7233f79c4ca9940a0db3957f0607");
    assert_eq!(v["certification_data_type"], 5);
    assert_eq!(v["outer_certification_data_type"], serde_json::Value::Null);
    assert_eq!(v["pck"]["fmspc"], "00a067110000");
    assert_eq!(v["pck"]["pce_svn"], 13);
    assert_eq!(
        v["pck"]["tcb_comp_svn"],
        json!([11, 11, 2, 2, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        v["qe_report_body"]["mr_signer"],
        "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff"
    );
    assert_eq!(
        v["report_body"]["report_data"].as_str().unwrap()[..26],
        *"48656c6c6f2c20776f726c6421"
    );

    let tdx = Quote::parse(&load("oasis-core/quote_v4_tdx_ecdsa_p256.bin")).unwrap();
    let t = quote_json(&tdx, ByteOrder::Stored);
    assert_eq!(t["tee"], "TDX");
    assert_eq!(t["tee_type"], 0x81);
    assert_eq!(t["report_body"], serde_json::Value::Null);
    assert_eq!(
        t["td_report"]["mr_td"],
        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"
    );
    assert_eq!(t["outer_certification_data_type"], 6);
}
