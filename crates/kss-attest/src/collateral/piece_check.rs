//! The checks one piece of collateral passes before a cache keeps it (e.g. a piece fetched from
//! Intel PCS or a PCCS): it parses, it is the piece asked for, its signature verifies with the
//! key of its issuer chain's leaf (or, for the Root CA CRL, a trusted root), and the chain leads
//! to a trusted root. Validity in time is not checked: the verifier does that at its
//! verification time; [`Window`] gives the piece's own dates to decide when to fetch it again.

use super::pcs_dir::split_pcs_response;
use super::{CollateralError, PckCa, SignedJson};
use crate::tcb::TcbError;
use crate::tcb::{QeIdentity, TcbInfo};
use crate::x509util::{build_chain_by, crl_der, parse_pem_certs, Cert, Crl, P256Key, X509Error};

/// When a piece is valid: issueDate (TCB info, QE identity) or thisUpdate (CRLs) to nextUpdate,
/// Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// issueDate or thisUpdate.
    pub issued: u64,
    /// nextUpdate.
    pub next_update: u64,
}

/// Why a piece failed its checks. Shows as the text of its cause.
#[derive(Debug, thiserror::Error)]
pub enum PieceProblem {
    /// It is not a well-formed piece of this kind.
    #[error("{0}")]
    Malformed(#[source] Malformed),
    /// It is well formed, but its signature or chain does not verify, or it is another piece.
    #[error("{0}")]
    Rejected(#[source] Rejection),
}

/// Why a piece is not a well-formed piece of its kind.
#[derive(Debug, thiserror::Error)]
pub enum Malformed {
    /// The response body is not UTF-8.
    #[error("the body is not UTF-8 JSON")]
    NotUtf8,
    /// The response came without the issuer chain the piece needs.
    #[error("no issuer chain")]
    NoIssuerChain,
    /// The response is not a signed PCS response, or its signed value is not UTF-8.
    #[error("{0}")]
    Response(#[source] CollateralError),
    /// An issuer chain or CRL does not parse.
    #[error("{0}")]
    X509(#[source] X509Error),
    /// The TCB info or QE identity does not parse.
    #[error("{0}")]
    Tcb(#[source] TcbError),
}

/// Why a well-formed piece is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// The issuer chain does not lead to a trusted root.
    #[error("{what} does not lead to a trusted root: {source}")]
    Untrusted {
        /// Which chain.
        what: String,
        /// Why the chain could not be built.
        #[source]
        source: X509Error,
    },
    /// The signature of a TCB info or QE identity does not verify.
    #[error("the signature does not verify with the key of \"{signer}\": the body was altered or not signed by it")]
    Signature {
        /// The subject of the issuer chain's leaf.
        signer: String,
    },
    /// A TCB info of another FMSPC.
    #[error(
        "it is the TCB info of FMSPC {}, not {}",
        hex::encode_upper(got),
        hex::encode_upper(want)
    )]
    OtherFmspc {
        /// The FMSPC of the piece.
        got: [u8; 6],
        /// The FMSPC asked for.
        want: [u8; 6],
    },
    /// A TCB info of another TEE (e.g. TDX).
    #[error("it is a {id:?} TCB info, not an SGX one")]
    NotSgx {
        /// Its `id`.
        id: String,
    },
    /// The identity of another enclave than the SGX QE.
    #[error("it is the identity of {id:?}, not of the SGX quoting enclave (\"QE\")")]
    NotQe {
        /// Its `id`.
        id: String,
    },
    /// The signature of a PCK CRL does not verify with its issuer chain's leaf.
    #[error("the CRL signature does not verify with the key of \"{signer}\"")]
    CrlSignature {
        /// The subject of the issuer chain's leaf.
        signer: String,
    },
    /// A PCK CRL of the other PCK CA.
    #[error("it is issued by \"{subject}\", not by the PCK {want} CA")]
    OtherCa {
        /// The subject of the issuer chain's leaf.
        subject: String,
        /// `Processor` or `Platform`.
        want: &'static str,
    },
    /// A Root CA CRL not signed by a trusted root.
    #[error("the CRL (issuer \"{issuer}\") is not signed by a trusted root")]
    RootCrlUntrusted {
        /// The CRL's issuer.
        issuer: String,
    },
}

impl From<Malformed> for PieceProblem {
    fn from(m: Malformed) -> Self {
        PieceProblem::Malformed(m)
    }
}

impl From<Rejection> for PieceProblem {
    fn from(r: Rejection) -> Self {
        PieceProblem::Rejected(r)
    }
}

/// The leaf of a PEM issuer chain that leads to one of `roots`.
fn chain_leaf(pem: &[u8], what: &str, roots: &[P256Key]) -> Result<Cert, PieceProblem> {
    let mut certs = parse_pem_certs(pem, what).map_err(Malformed::X509)?;
    let refs: Vec<&Cert> = certs.iter().collect();
    let idx = build_chain_by(&refs, roots, &|c: &Cert, k: &P256Key| c.is_signed_by(k)).map_err(
        |source| Rejection::Untrusted {
            what: what.to_string(),
            source,
        },
    )?;
    let leaf = idx.first().copied().unwrap_or(0);
    Ok(certs.swap_remove(leaf))
}

/// Splits a PCS response `{"<key>":{..},"signature":".."}` and checks the signature with the
/// issuer chain's leaf.
fn signed(
    response: &[u8],
    keys: &[&str],
    name: &str,
    issuer_chain: &[u8],
    roots: &[P256Key],
) -> Result<SignedJson, PieceProblem> {
    if std::str::from_utf8(response).is_err() {
        return Err(Malformed::NotUtf8.into());
    }
    let s = split_pcs_response(response, keys, name).map_err(Malformed::Response)?;
    let leaf = chain_leaf(issuer_chain, "the issuer chain", roots)?;
    if s.signed_form(&leaf.public_key).is_none() {
        return Err(Rejection::Signature {
            signer: leaf.subject_text(),
        }
        .into());
    }
    Ok(s)
}

/// Checks a TCB info response (`{"tcbInfo":..,"signature":..}`, exact bytes) for `fmspc`.
pub fn check_tcb_info(
    response: &[u8],
    issuer_chain: &[u8],
    fmspc: [u8; 6],
    roots: &[P256Key],
) -> Result<Window, PieceProblem> {
    let s = signed(response, &["tcbInfo"], "TCB info", issuer_chain, roots)?;
    let text = s.text().map_err(Malformed::Response)?;
    let info = TcbInfo::from_json(text).map_err(Malformed::Tcb)?;
    if info.fmspc != fmspc {
        return Err(Rejection::OtherFmspc {
            got: info.fmspc,
            want: fmspc,
        }
        .into());
    }
    if !matches!(info.id.as_deref(), None | Some("SGX")) {
        return Err(Rejection::NotSgx {
            id: info.id.unwrap_or_default(),
        }
        .into());
    }
    Ok(Window {
        issued: info.issue_date,
        next_update: info.next_update,
    })
}

/// Checks a QE identity response (`{"enclaveIdentity":..,"signature":..}`): the SGX QE's.
pub fn check_qe_identity(
    response: &[u8],
    issuer_chain: &[u8],
    roots: &[P256Key],
) -> Result<Window, PieceProblem> {
    let s = signed(
        response,
        &["enclaveIdentity", "qeIdentity"],
        "QE identity",
        issuer_chain,
        roots,
    )?;
    let text = s.text().map_err(Malformed::Response)?;
    let id = QeIdentity::from_json(text).map_err(Malformed::Tcb)?;
    if id.id != "QE" {
        return Err(Rejection::NotQe { id: id.id }.into());
    }
    Ok(Window {
        issued: id.issue_date,
        next_update: id.next_update,
    })
}

fn parse_crl(bytes: &[u8], what: &str) -> Result<(Vec<u8>, Crl), PieceProblem> {
    let der = crl_der(bytes, what).map_err(Malformed::X509)?;
    let crl = Crl::from_der(&der, what).map_err(Malformed::X509)?;
    Ok((der, crl))
}

/// Checks the CRL of the PCK CA `ca` (DER, PEM or hex) with its issuer chain; returns its DER.
pub fn check_pck_crl(
    crl: &[u8],
    issuer_chain: &[u8],
    ca: PckCa,
    roots: &[P256Key],
) -> Result<(Vec<u8>, Window), PieceProblem> {
    let (der, crl) = parse_crl(crl, "PCK CRL")?;
    let leaf = chain_leaf(issuer_chain, "the PCK CRL issuer chain", roots)?;
    if !crl.is_signed_by(&leaf.public_key) {
        return Err(Rejection::CrlSignature {
            signer: leaf.subject_text(),
        }
        .into());
    }
    let subject = leaf.subject_text();
    let want = match ca {
        PckCa::Processor => "Processor",
        PckCa::Platform => "Platform",
    };
    if !subject.contains(want) {
        return Err(Rejection::OtherCa { subject, want }.into());
    }
    let w = Window {
        issued: crl.this_update,
        next_update: crl.next_update,
    };
    Ok((der, w))
}

/// Checks the Intel SGX Root CA CRL (DER, PEM or hex): signed by one of `roots`; returns its DER.
pub fn check_root_ca_crl(crl: &[u8], roots: &[P256Key]) -> Result<(Vec<u8>, Window), PieceProblem> {
    let (der, crl) = parse_crl(crl, "Root CA CRL")?;
    if !roots.iter().any(|r| crl.is_signed_by(r)) {
        return Err(Rejection::RootCrlUntrusted {
            issuer: crl.issuer_text(),
        }
        .into());
    }
    let w = Window {
        issued: crl.this_update,
        next_update: crl.next_update,
    };
    Ok((der, w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn problems_keep_their_cause() {
        let p = check_tcb_info(b"\xff", b"", [0; 6], &[]).unwrap_err();
        assert!(matches!(p, PieceProblem::Malformed(Malformed::NotUtf8)));
        assert_eq!(p.to_string(), "the body is not UTF-8 JSON");
        let p = check_root_ca_crl(b"not a crl", &[]).unwrap_err();
        assert_eq!(
            p.to_string(),
            "Root CA CRL: not valid DER: neither DER, PEM nor hex: Odd number of digits"
        );
        let cause = p.source().and_then(|m| m.source());
        let x509 = cause.and_then(|e| e.downcast_ref::<X509Error>());
        assert_eq!(x509.map(ToString::to_string), Some(p.to_string()));
        let p = check_qe_identity(b"{}", b"", &[]).unwrap_err();
        let split = p.source().and_then(|m| m.source());
        assert!(split.is_some_and(|e| e.is::<CollateralError>()), "{p:?}");
    }
}
