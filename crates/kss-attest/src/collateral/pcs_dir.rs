//! A directory of raw Intel PCS responses, one file per piece.
//!
//! | file | content | required |
//! |---|---|---|
//! | `tcb_info.json` | PCS `GET /sgx/certification/v3|v4/tcb` body: `{"tcbInfo":{..},"signature":"hex"}` | yes |
//! | `tcb_info_issuer_chain.pem` | its `TCB-Info-Issuer-Chain` header, URL-decoded (signing cert, root) | yes |
//! | `qe_identity.json` | PCS `GET /sgx/certification/v3|v4/qe/identity` body: `{"enclaveIdentity":{..},"signature":"hex"}` (`"qeIdentity"` accepted) | yes |
//! | `qe_identity_issuer_chain.pem` | its `SGX-Enclave-Identity-Issuer-Chain` header | no: defaults to `tcb_info_issuer_chain.pem` (the same TCB signing cert) |
//! | `pck_crl.der` or `pck_crl.pem` | PCK CRL of the PCK's CA (`/pckcrl?ca=processor|platform`) | strict verification fails without it |
//! | `pck_crl_issuer_chain.pem` | its `SGX-PCK-CRL-Issuer-Chain` header | as above |
//! | `root_ca_crl.der` or `root_ca_crl.pem` | Intel SGX Root CA CRL | as above |
//! | `pck_chain.pem` | PCK certificate chain, for quotes whose certification data lacks it | no |
//!
//! The signature is checked over the exact bytes of the `tcbInfo` / `enclaveIdentity` value
//! as it appears in the file; if that fails, over its compact re-serialization (see
//! [`super::SignedJson::signed_form`]).

use super::json_slice::top_level_value;
use super::{hex_signature, Collateral, CollateralError, SignedJson};
use std::path::Path;

/// `tcb_info.json`: the TCB info response.
pub const TCB_INFO: &str = "tcb_info.json";
/// `tcb_info_issuer_chain.pem`: the TCB info issuer chain.
pub const TCB_INFO_ISSUER_CHAIN: &str = "tcb_info_issuer_chain.pem";
/// `qe_identity.json`: the QE identity response.
pub const QE_IDENTITY: &str = "qe_identity.json";
/// `qe_identity_issuer_chain.pem`: the QE identity issuer chain.
pub const QE_IDENTITY_ISSUER_CHAIN: &str = "qe_identity_issuer_chain.pem";
/// `pck_crl.der`: the PCK CRL as DER (`pck_crl.pem` and `pck_crl.crl` are read too).
pub const PCK_CRL_DER: &str = "pck_crl.der";
/// `pck_crl_issuer_chain.pem`: the PCK CRL issuer chain.
pub const PCK_CRL_ISSUER_CHAIN: &str = "pck_crl_issuer_chain.pem";
/// `root_ca_crl.der`: the root CA CRL as DER (`root_ca_crl.pem` and `root_ca_crl.crl` are
/// read too).
pub const ROOT_CA_CRL_DER: &str = "root_ca_crl.der";
/// `pck_chain.pem`: the PCK certificate chain.
pub const PCK_CHAIN: &str = "pck_chain.pem";

/// The file names read from a collateral directory, in the order of the table above.
pub const FILES: &[&str] = &[
    TCB_INFO,
    TCB_INFO_ISSUER_CHAIN,
    QE_IDENTITY,
    QE_IDENTITY_ISSUER_CHAIN,
    "pck_crl.der|pck_crl.pem",
    PCK_CRL_ISSUER_CHAIN,
    "root_ca_crl.der|root_ca_crl.pem",
    PCK_CHAIN,
];

fn read_opt(dir: &Path, names: &[&str]) -> Result<Option<Vec<u8>>, CollateralError> {
    for n in names {
        let p = dir.join(n);
        if p.exists() {
            return kss_io::read_bounded(&p, kss_io::limits::COLLATERAL)
                .map(Some)
                .map_err(|source| CollateralError::Io { path: p, source });
        }
    }
    Ok(None)
}

fn read_req(dir: &Path, name: &str, what: &str) -> Result<Vec<u8>, CollateralError> {
    read_opt(dir, &[name])?.ok_or_else(|| CollateralError::Missing {
        source_name: dir.display().to_string(),
        what: what.to_string(),
        looked_for: name.to_string(),
    })
}

/// Splits a PCS response `{"<key>":{..},"signature":"hex"}` into the signed body (exact bytes)
/// and the signature.
pub fn split_pcs_response(
    bytes: &[u8],
    keys: &[&str],
    name: &str,
) -> Result<SignedJson, CollateralError> {
    let body = keys
        .iter()
        .find_map(|k| top_level_value(bytes, k))
        .ok_or_else(|| CollateralError::Field {
            source_name: name.to_string(),
            field: keys.join(" or "),
            reason: "no such top-level key in a JSON object".into(),
        })?;
    let sig = top_level_value(bytes, "signature")
        .and_then(|s| s.strip_prefix(b"\"")?.strip_suffix(b"\""))
        .ok_or_else(|| CollateralError::Field {
            source_name: name.to_string(),
            field: "signature".into(),
            reason: "missing or not a string".into(),
        })?;
    let sig = std::str::from_utf8(sig).map_err(|_| CollateralError::Field {
        source_name: name.to_string(),
        field: "signature".into(),
        reason: "not UTF-8".into(),
    })?;
    Ok(SignedJson {
        body: body.to_vec(),
        signature: hex_signature(sig, name, "signature")?,
    })
}

/// Reads the directory.
pub fn read(dir: &Path) -> Result<Collateral, CollateralError> {
    let name = |f: &str| dir.join(f).display().to_string();
    let tcb = read_req(dir, TCB_INFO, "TCB info")?;
    let tcb_info = split_pcs_response(&tcb, &["tcbInfo"], &name(TCB_INFO))?;
    let tcb_chain = read_req(dir, TCB_INFO_ISSUER_CHAIN, "TCB info issuer chain")?;
    let qe = read_req(dir, QE_IDENTITY, "QE identity")?;
    let qe_identity =
        split_pcs_response(&qe, &["enclaveIdentity", "qeIdentity"], &name(QE_IDENTITY))?;
    let qe_chain = read_opt(dir, &[QE_IDENTITY_ISSUER_CHAIN])?.unwrap_or(tcb_chain.clone());
    Ok(Collateral {
        tcb_info,
        tcb_info_issuer_chain: tcb_chain,
        qe_identity,
        qe_identity_issuer_chain: qe_chain,
        pck_crl: read_opt(dir, &[PCK_CRL_DER, "pck_crl.pem", "pck_crl.crl"])?,
        pck_crl_issuer_chain: read_opt(dir, &[PCK_CRL_ISSUER_CHAIN])?,
        root_ca_crl: read_opt(
            dir,
            &[ROOT_CA_CRL_DER, "root_ca_crl.pem", "root_ca_crl.crl"],
        )?,
        pck_chain: read_opt(dir, &[PCK_CHAIN])?,
    })
}
