//! Collateral written as dcap-qvl's `QuoteCollateralV3` JSON, the file form that
//! `kss verify --collateral` reads: PEM issuer chains, CRLs as hex of DER, the TCB info and QE
//! identity bodies as exact strings, signatures as hex `r || s`.

use kss_attest::collateral::Collateral;

/// Renders `collateral` as dcap-qvl JSON. `Err` names a piece that is missing or not a CRL.
pub fn to_json(collateral: &Collateral) -> Result<String, String> {
    let text = |b: &[u8], what: &str| {
        String::from_utf8(b.to_vec()).map_err(|_| format!("{what}: not UTF-8"))
    };
    let crl = |b: &Option<Vec<u8>>, what: &str| {
        b.as_deref()
            .ok_or_else(|| format!("{what}: missing"))
            .and_then(|b| crl_to_der(b).ok_or_else(|| format!("{what}: not a DER or hex CRL")))
            .map(hex::encode)
    };
    let chain = |b: &Option<Vec<u8>>, what: &str| {
        b.as_deref()
            .ok_or_else(|| format!("{what}: missing"))
            .and_then(|b| text(b, what))
    };
    let c = collateral;
    let json = QuoteCollateralJson {
        pck_crl_issuer_chain: chain(&c.pck_crl_issuer_chain, "PCK CRL issuer chain")?,
        root_ca_crl: crl(&c.root_ca_crl, "Root CA CRL")?,
        pck_crl: crl(&c.pck_crl, "PCK CRL")?,
        tcb_info_issuer_chain: text(&c.tcb_info_issuer_chain, "TCB info issuer chain")?,
        tcb_info: text(&c.tcb_info.body, "TCB info")?,
        tcb_info_signature: hex::encode(&c.tcb_info.signature),
        qe_identity_issuer_chain: text(&c.qe_identity_issuer_chain, "QE identity issuer chain")?,
        qe_identity: text(&c.qe_identity.body, "QE identity")?,
        qe_identity_signature: hex::encode(&c.qe_identity.signature),
    };
    let mut out = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out)
}

/// dcap-qvl's `QuoteCollateralV3` JSON, its fields in dcap-qvl's order.
#[derive(serde::Serialize)]
struct QuoteCollateralJson {
    pck_crl_issuer_chain: String,
    root_ca_crl: String,
    pck_crl: String,
    tcb_info_issuer_chain: String,
    tcb_info: String,
    tcb_info_signature: String,
    qe_identity_issuer_chain: String,
    qe_identity: String,
    qe_identity_signature: String,
}

/// The DER of a CRL given as DER or hex text of DER (what a cache and dcap-qvl JSON hold).
fn crl_to_der(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.first() == Some(&0x30) {
        return Some(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).ok()?.trim();
    hex::decode(text).ok().filter(|d| d.first() == Some(&0x30))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phala() -> Collateral {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/phala-dcap-qvl/sgx_quote_collateral.json"
        );
        Collateral::from_path(std::path::Path::new(path)).expect("the phala collateral")
    }

    /// The exact bytes: the keys in dcap-qvl's order, pretty-printed, a final newline.
    #[test]
    fn the_json_bytes() {
        let c = phala();
        let s = |b: &[u8]| serde_json::to_string(std::str::from_utf8(b).unwrap()).unwrap();
        let crl = |b: &Option<Vec<u8>>| hex::encode(crl_to_der(b.as_deref().unwrap()).unwrap());
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
  "qe_identity_signature": "{}"
}}
"#,
            s(c.pck_crl_issuer_chain.as_deref().unwrap()),
            crl(&c.root_ca_crl),
            crl(&c.pck_crl),
            s(&c.tcb_info_issuer_chain),
            s(&c.tcb_info.body),
            hex::encode(&c.tcb_info.signature),
            s(&c.qe_identity_issuer_chain),
            s(&c.qe_identity.body),
            hex::encode(&c.qe_identity.signature),
        );
        assert_eq!(to_json(&c).unwrap(), expected);
    }

    #[test]
    fn a_missing_piece_is_named() {
        let mut c = phala();
        c.pck_crl = None;
        assert_eq!(to_json(&c).unwrap_err(), "PCK CRL: missing");
    }
}
