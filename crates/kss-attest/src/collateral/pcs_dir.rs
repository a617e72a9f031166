//! A directory of raw Intel PCS responses, one file per piece.
//!
//! Each piece is found under kss's own name (first in each list of [`NAMES`]) or under the
//! names Intel's PCS documentation, its QVL sample data and common tools save them as
//! (`tcbInfo.json`, `tcbSignChain.pem`, the response header's name `TCB-Info-Issuer-Chain`, …).
//! Issuer chains saved straight from a response header (URL-encoded) are decoded.
//! A directory holding the same piece under two names is refused (which one is meant is not
//! clear); a missing required piece is reported with every name looked for.
//!
//! | piece | kss's name | content | required |
//! |---|---|---|---|
//! | TCB info | `tcb_info.json` | PCS `GET /sgx/certification/v3|v4/tcb` body: `{"tcbInfo":{..},"signature":"hex"}` | yes |
//! | TCB info issuer chain | `tcb_info_issuer_chain.pem` | its `TCB-Info-Issuer-Chain` header, URL-decoded (signing cert, root) | yes |
//! | QE identity | `qe_identity.json` | PCS `GET /sgx/certification/v3|v4/qe/identity` body: `{"enclaveIdentity":{..},"signature":"hex"}` (`"qeIdentity"` accepted) | yes |
//! | QE identity issuer chain | `qe_identity_issuer_chain.pem` | its `SGX-Enclave-Identity-Issuer-Chain` header | no: defaults to the TCB info issuer chain (the same TCB signing cert) |
//! | PCK CRL | `pck_crl.der` or `pck_crl.pem` | PCK CRL of the PCK's CA (`/pckcrl?ca=processor|platform`) | strict verification fails without it |
//! | PCK CRL issuer chain | `pck_crl_issuer_chain.pem` | its `SGX-PCK-CRL-Issuer-Chain` header | as above |
//! | Root CA CRL | `root_ca_crl.der` or `root_ca_crl.pem` | Intel SGX Root CA CRL | as above |
//! | PCK chain | `pck_chain.pem` | PCK certificate chain, for quotes whose certification data lacks it | no |
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

/// The file names read from a collateral directory (kss's own names), in the order of the
/// table above. Every name accepted for each piece is in [`NAMES`].
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

/// One piece of a collateral directory: what it is called in messages and the file names it
/// may have, kss's own first.
#[derive(Debug, Clone, Copy)]
pub struct Piece {
    /// The piece in words (e.g. "TCB info").
    pub what: &'static str,
    /// Accepted file names, kss's own first, then Intel PCS / QVL names.
    pub names: &'static [&'static str],
}

/// TCB info.
pub const TCB_INFO_PIECE: Piece = Piece {
    what: "TCB info",
    names: &[TCB_INFO, "tcbInfo.json", "tcbinfo.json", "tcb.json"],
};
/// TCB info issuer chain.
pub const TCB_INFO_ISSUER_CHAIN_PIECE: Piece = Piece {
    what: "TCB info issuer chain",
    names: &[
        TCB_INFO_ISSUER_CHAIN,
        "tcbSignChain.pem",
        "tcbInfoIssuerChain.pem",
        "TCB-Info-Issuer-Chain",
        "TCB-Info-Issuer-Chain.pem",
    ],
};
/// QE identity.
pub const QE_IDENTITY_PIECE: Piece = Piece {
    what: "QE identity",
    names: &[
        QE_IDENTITY,
        "qeIdentity.json",
        "qeidentity.json",
        "enclaveIdentity.json",
    ],
};
/// QE identity issuer chain.
pub const QE_IDENTITY_ISSUER_CHAIN_PIECE: Piece = Piece {
    what: "QE identity issuer chain",
    names: &[
        QE_IDENTITY_ISSUER_CHAIN,
        "qeIdentitySignChain.pem",
        "qeIdentityIssuerChain.pem",
        "SGX-Enclave-Identity-Issuer-Chain",
        "SGX-Enclave-Identity-Issuer-Chain.pem",
    ],
};
/// PCK CRL.
pub const PCK_CRL_PIECE: Piece = Piece {
    what: "PCK CRL",
    names: &[
        PCK_CRL_DER,
        "pck_crl.pem",
        "pck_crl.crl",
        "pckCrl.der",
        "pckCrl.pem",
        "pckCrl.crl",
        "intermediateCaCrl.der",
        "intermediateCaCrl.pem",
    ],
};
/// PCK CRL issuer chain.
pub const PCK_CRL_ISSUER_CHAIN_PIECE: Piece = Piece {
    what: "PCK CRL issuer chain",
    names: &[
        PCK_CRL_ISSUER_CHAIN,
        "pckCrlIssuerChain.pem",
        "pckSignChain.pem",
        "SGX-PCK-CRL-Issuer-Chain",
        "SGX-PCK-CRL-Issuer-Chain.pem",
    ],
};
/// Intel SGX Root CA CRL.
pub const ROOT_CA_CRL_PIECE: Piece = Piece {
    what: "Root CA CRL",
    names: &[
        ROOT_CA_CRL_DER,
        "root_ca_crl.pem",
        "root_ca_crl.crl",
        "rootCaCrl.der",
        "rootCaCrl.pem",
        "rootCaCrl.crl",
    ],
};
/// PCK certificate chain.
pub const PCK_CHAIN_PIECE: Piece = Piece {
    what: "PCK certificate chain",
    names: &[PCK_CHAIN, "pckCertChain.pem", "pck_cert_chain.pem"],
};

/// Every piece, in the order of the table above.
pub const NAMES: &[Piece] = &[
    TCB_INFO_PIECE,
    TCB_INFO_ISSUER_CHAIN_PIECE,
    QE_IDENTITY_PIECE,
    QE_IDENTITY_ISSUER_CHAIN_PIECE,
    PCK_CRL_PIECE,
    PCK_CRL_ISSUER_CHAIN_PIECE,
    ROOT_CA_CRL_PIECE,
    PCK_CHAIN_PIECE,
];

/// The piece under whichever of its names is present; `None` when none is. Two names present
/// is an error naming both.
fn read_opt(dir: &Path, piece: &Piece) -> Result<Option<(Vec<u8>, String)>, CollateralError> {
    let present: Vec<&str> = piece
        .names
        .iter()
        .copied()
        .filter(|n| dir.join(n).is_file())
        .collect();
    match present.as_slice() {
        [] => Ok(None),
        [one] => {
            let p = dir.join(one);
            let bytes = kss_io::read_bounded(&p, kss_io::limits::COLLATERAL).map_err(|source| {
                CollateralError::Io {
                    path: p.clone(),
                    source,
                }
            })?;
            Ok(Some((bytes, p.display().to_string())))
        }
        several => Err(CollateralError::Field {
            source_name: dir.display().to_string(),
            field: piece.what.to_string(),
            reason: format!(
                "found under several names ({}); keep one",
                several.join(", ")
            ),
        }),
    }
}

/// An issuer chain saved straight from a PCS response header is URL-encoded
/// (`-----BEGIN%20CERTIFICATE-----%0A…`); decode it. Anything else is returned as it is.
fn header_decoded(bytes: Vec<u8>) -> Vec<u8> {
    let t = bytes.trim_ascii_start();
    if !t.starts_with(b"-----BEGIN%20") {
        return bytes;
    }
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let hex = t
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (t[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// An issuer chain piece, URL-decoded when it was saved from a response header.
fn read_chain(dir: &Path, piece: &Piece) -> Result<Option<Vec<u8>>, CollateralError> {
    Ok(read_opt(dir, piece)?.map(|(b, _)| header_decoded(b)))
}

fn read_req(dir: &Path, piece: &Piece) -> Result<(Vec<u8>, String), CollateralError> {
    read_opt(dir, piece)?.ok_or_else(|| CollateralError::Missing {
        source_name: dir.display().to_string(),
        what: piece.what.to_string(),
        looked_for: piece.names.join(", "),
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
    let bytes = |p: &Piece| Ok::<_, CollateralError>(read_opt(dir, p)?.map(|(b, _)| b));
    let (tcb, tcb_name) = read_req(dir, &TCB_INFO_PIECE)?;
    let tcb_info = split_pcs_response(&tcb, &["tcbInfo"], &tcb_name)?;
    let (tcb_chain, _) = read_req(dir, &TCB_INFO_ISSUER_CHAIN_PIECE)?;
    let tcb_chain = header_decoded(tcb_chain);
    let (qe, qe_name) = read_req(dir, &QE_IDENTITY_PIECE)?;
    let qe_identity = split_pcs_response(&qe, &["enclaveIdentity", "qeIdentity"], &qe_name)?;
    let qe_chain = read_chain(dir, &QE_IDENTITY_ISSUER_CHAIN_PIECE)?.unwrap_or(tcb_chain.clone());
    Ok(Collateral {
        tcb_info,
        tcb_info_issuer_chain: tcb_chain,
        qe_identity,
        qe_identity_issuer_chain: qe_chain,
        pck_crl: bytes(&PCK_CRL_PIECE)?,
        pck_crl_issuer_chain: read_chain(dir, &PCK_CRL_ISSUER_CHAIN_PIECE)?,
        root_ca_crl: bytes(&ROOT_CA_CRL_PIECE)?,
        pck_chain: bytes(&PCK_CHAIN_PIECE)?,
    })
}

#[cfg(test)]
mod tests {
    use super::header_decoded;

    #[test]
    fn header_chains_are_url_decoded() {
        assert_eq!(
            header_decoded(b"-----BEGIN%20CERTIFICATE-----%0AMIIC%2Bw%3D%3D%0A".to_vec()),
            b"-----BEGIN CERTIFICATE-----\nMIIC+w==\n".to_vec()
        );
        let pem = b"-----BEGIN CERTIFICATE-----\nMIIC%\n".to_vec();
        assert_eq!(header_decoded(pem.clone()), pem);
        // A stray '%' at the end is kept, not a panic.
        assert_eq!(
            header_decoded(b"-----BEGIN%20X%".to_vec()),
            b"-----BEGIN X%".to_vec()
        );
    }
}
