//! dcap-qvl's `QuoteCollateralV3` JSON: PEM issuer chains, CRLs as hex DER, TCB info and QE
//! identity as exact JSON strings, signatures as hex `r || s`.

use super::{hex_signature, Collateral, CollateralError, SignedJson};
use serde::Deserialize;

#[derive(Deserialize)]
struct Raw {
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

/// Parses the JSON text; `name` names the input in errors.
pub fn parse(bytes: &[u8], name: &str) -> Result<Collateral, CollateralError> {
    let raw: Raw = serde_json::from_slice(bytes).map_err(|source| CollateralError::Json {
        source_name: name.to_string(),
        field: "dcap-qvl QuoteCollateralV3 JSON".into(),
        source,
    })?;
    Ok(Collateral {
        tcb_info: SignedJson {
            body: raw.tcb_info.into_bytes(),
            signature: hex_signature(&raw.tcb_info_signature, name, "tcb_info_signature")?,
        },
        tcb_info_issuer_chain: raw.tcb_info_issuer_chain.into_bytes(),
        qe_identity: SignedJson {
            body: raw.qe_identity.into_bytes(),
            signature: hex_signature(&raw.qe_identity_signature, name, "qe_identity_signature")?,
        },
        qe_identity_issuer_chain: raw.qe_identity_issuer_chain.into_bytes(),
        pck_crl: Some(raw.pck_crl.into_bytes()),
        pck_crl_issuer_chain: Some(raw.pck_crl_issuer_chain.into_bytes()),
        root_ca_crl: Some(raw.root_ca_crl.into_bytes()),
        pck_chain: None,
    })
}
