//! The exact bytes of the JSON files of the simulation: `platform.json` in the CA directory and
//! the dcap-qvl `collateral.json` (key order, pretty-printing, value types). Keys and serial
//! numbers are random, so those values are taken from the file and everything else is fixed.

use kss_sim_qe::SimQuotingEnclave;

/// `s` as a JSON string literal.
fn lit(s: &serde_json::Value) -> String {
    serde_json::to_string(s.as_str().expect("a string")).unwrap()
}

#[test]
fn platform_json_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    SimQuotingEnclave::load_or_create(&dir).unwrap();
    let text = std::fs::read_to_string(dir.join("platform.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = format!(
        r#"{{
  "format": "kss-sim-ca/1",
  "qe_id": {qe_id},
  "ppid": {ppid},
  "fmspc": "004b53530000",
  "pce_id": "0000",
  "pce_svn": 13,
  "comp_svn": "0a0a0202030100050000000000000000",
  "qe_mr_enclave": "9117d9250516098ef8a070a7775fb25085ace35c967cb436cdbc6572811e9715",
  "qe_mr_signer": "7e9115e0d547e016a3d40b8b02d3f223bf4d180c78b034794255e4b6666f60f8",
  "qe_isv_prod_id": 1,
  "qe_isv_svn": 8,
  "created": {created}
}}"#,
        qe_id = lit(&v["qe_id"]),
        ppid = lit(&v["ppid"]),
        created = v["created"].as_u64().expect("a number"),
    );
    assert_eq!(text, expected);
    // And it loads back.
    SimQuotingEnclave::load_or_create(&dir).unwrap();
}

#[test]
fn collateral_json_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let qe = SimQuotingEnclave::load_or_create(&tmp.path().join("ca")).unwrap();
    let c = qe.collateral(1_700_000_000).unwrap();
    let v: serde_json::Value = serde_json::from_str(&c.collateral_json).unwrap();
    let s = |t: &str| serde_json::to_string(t).unwrap();
    let expected = format!(
        r#"{{
  "pck_crl_issuer_chain": {},
  "root_ca_crl": "{}",
  "pck_crl": "{}",
  "tcb_info_issuer_chain": {},
  "tcb_info": {},
  "tcb_info_signature": "{}",
  "qe_identity_issuer_chain": {},
  "qe_identity": {},
  "qe_identity_signature": "{}",
  "pck_certificate_chain": {}
}}"#,
        s(&c.pck_crl_issuer_chain),
        hex::encode(&c.root_crl_der),
        hex::encode(&c.pck_crl_der),
        s(&c.tcb_info_issuer_chain),
        s(&c.tcb_info),
        c.tcb_info_signature,
        s(&c.tcb_info_issuer_chain),
        s(&c.qe_identity),
        c.qe_identity_signature,
        lit(&v["pck_certificate_chain"]),
    );
    assert_eq!(c.collateral_json, expected);
}
