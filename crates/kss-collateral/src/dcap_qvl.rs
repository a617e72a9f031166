//! Collateral written as dcap-qvl's `QuoteCollateralV3` JSON, the file form that
//! `kss verify --collateral` reads: PEM issuer chains, CRLs as hex of DER, the TCB info and QE
//! identity bodies as exact strings, signatures as hex `r || s`.

use kss_attest::collateral::Collateral;

/// Why collateral cannot be written as dcap-qvl JSON. Names the piece.
#[derive(Debug, thiserror::Error)]
pub enum DcapQvlJsonError {
    /// A piece dcap-qvl's format requires is absent (e.g. the PCK CRL).
    #[error("{what}: missing")]
    Missing {
        /// The piece.
        what: &'static str,
    },
    /// An issuer chain, TCB info or QE identity is not text.
    #[error("{what}: not UTF-8")]
    NotUtf8 {
        /// The piece.
        what: &'static str,
        /// The decoder's error.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// A CRL that is neither DER nor hex text of DER.
    #[error("{what}: not a DER or hex CRL")]
    NotCrl {
        /// The piece.
        what: &'static str,
    },
    /// The JSON encoder failed (not expected for these string fields).
    #[error("{0}")]
    Json(#[source] serde_json::Error),
}

/// Renders `collateral` as dcap-qvl JSON. `Err` names a piece that is missing or not a CRL.
pub fn to_json(collateral: &Collateral) -> Result<String, DcapQvlJsonError> {
    let text = |b: &[u8], what: &'static str| {
        String::from_utf8(b.to_vec()).map_err(|source| DcapQvlJsonError::NotUtf8 { what, source })
    };
    let crl = |b: &Option<Vec<u8>>, what: &'static str| {
        let b = b.as_deref().ok_or(DcapQvlJsonError::Missing { what })?;
        crl_to_der(b)
            .map(hex::encode)
            .ok_or(DcapQvlJsonError::NotCrl { what })
    };
    let chain = |b: &Option<Vec<u8>>, what: &'static str| {
        let b = b.as_deref().ok_or(DcapQvlJsonError::Missing { what })?;
        text(b, what)
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
    let mut out = serde_json::to_string_pretty(&json).map_err(DcapQvlJsonError::Json)?;
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
        let e = to_json(&c).unwrap_err();
        assert!(
            matches!(e, DcapQvlJsonError::Missing { what: "PCK CRL" }),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "PCK CRL: missing");
    }

    #[test]
    fn a_bad_crl_and_a_non_text_body_are_named_and_keep_the_cause() {
        let mut c = phala();
        c.root_ca_crl = Some(b"zz".to_vec());
        assert_eq!(
            to_json(&c).unwrap_err().to_string(),
            "Root CA CRL: not a DER or hex CRL"
        );
        let mut c = phala();
        c.tcb_info.body = vec![0xff, 0xfe];
        let e = to_json(&c).unwrap_err();
        assert_eq!(e.to_string(), "TCB info: not UTF-8");
        let cause = std::error::Error::source(&e).expect("a cause");
        assert!(
            cause.downcast_ref::<std::string::FromUtf8Error>().is_some(),
            "{cause}"
        );
    }
}
