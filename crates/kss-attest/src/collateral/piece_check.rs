//! The checks one piece of collateral passes before a cache keeps it (e.g. a piece fetched from
//! Intel PCS or a PCCS): it parses, it is the piece asked for, its signature verifies with the
//! key of its issuer chain's leaf (or, for the Root CA CRL, a trusted root), and the chain leads
//! to a trusted root. Validity in time is not checked: the verifier does that at its
//! verification time; [`Window`] gives the piece's own dates to decide when to fetch it again.

use super::pcs_dir::split_pcs_response;
use super::{PckCa, SignedJson};
use crate::tcb::{QeIdentity, TcbInfo};
use crate::x509util::{build_chain_by, crl_der, parse_pem_certs, Cert, Crl, P256Key};

/// When a piece is valid: issueDate (TCB info, QE identity) or thisUpdate (CRLs) to nextUpdate,
/// Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// issueDate or thisUpdate.
    pub issued: u64,
    /// nextUpdate.
    pub next_update: u64,
}

/// Why a piece failed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PieceProblem {
    /// It is not a well-formed piece of this kind.
    Malformed(String),
    /// It is well formed, but its signature or chain does not verify, or it is another piece.
    Rejected(String),
}

/// The leaf of a PEM issuer chain that leads to one of `roots`.
fn chain_leaf(pem: &[u8], what: &str, roots: &[P256Key]) -> Result<Cert, PieceProblem> {
    let mut certs =
        parse_pem_certs(pem, what).map_err(|e| PieceProblem::Malformed(e.to_string()))?;
    let refs: Vec<&Cert> = certs.iter().collect();
    let idx =
        build_chain_by(&refs, roots, &|c: &Cert, k: &P256Key| c.is_signed_by(k)).map_err(|e| {
            PieceProblem::Rejected(format!("{what} does not lead to a trusted root: {e}"))
        })?;
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
        return Err(PieceProblem::Malformed("the body is not UTF-8 JSON".into()));
    }
    let s = split_pcs_response(response, keys, name)
        .map_err(|e| PieceProblem::Malformed(e.to_string()))?;
    let leaf = chain_leaf(issuer_chain, "the issuer chain", roots)?;
    if s.signed_form(&leaf.public_key).is_none() {
        return Err(PieceProblem::Rejected(format!(
            "the signature does not verify with the key of \"{}\": the body was altered or not signed by it",
            leaf.subject_text()
        )));
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
    let text = s
        .text()
        .map_err(|e| PieceProblem::Malformed(e.to_string()))?;
    let info = TcbInfo::from_json(text).map_err(|e| PieceProblem::Malformed(e.to_string()))?;
    if info.fmspc != fmspc {
        return Err(PieceProblem::Rejected(format!(
            "it is the TCB info of FMSPC {}, not {}",
            hex::encode_upper(info.fmspc),
            hex::encode_upper(fmspc)
        )));
    }
    if !matches!(info.id.as_deref(), None | Some("SGX")) {
        return Err(PieceProblem::Rejected(format!(
            "it is a {:?} TCB info, not an SGX one",
            info.id.as_deref().unwrap_or_default()
        )));
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
    let text = s
        .text()
        .map_err(|e| PieceProblem::Malformed(e.to_string()))?;
    let id = QeIdentity::from_json(text).map_err(|e| PieceProblem::Malformed(e.to_string()))?;
    if id.id != "QE" {
        return Err(PieceProblem::Rejected(format!(
            "it is the identity of {:?}, not of the SGX quoting enclave (\"QE\")",
            id.id
        )));
    }
    Ok(Window {
        issued: id.issue_date,
        next_update: id.next_update,
    })
}

fn parse_crl(bytes: &[u8], what: &str) -> Result<(Vec<u8>, Crl), PieceProblem> {
    let der = crl_der(bytes, what).map_err(|e| PieceProblem::Malformed(e.to_string()))?;
    let crl = Crl::from_der(&der, what).map_err(|e| PieceProblem::Malformed(e.to_string()))?;
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
        return Err(PieceProblem::Rejected(format!(
            "the CRL signature does not verify with the key of \"{}\"",
            leaf.subject_text()
        )));
    }
    let subject = leaf.subject_text();
    let want = match ca {
        PckCa::Processor => "Processor",
        PckCa::Platform => "Platform",
    };
    if !subject.contains(want) {
        return Err(PieceProblem::Rejected(format!(
            "it is issued by \"{subject}\", not by the PCK {want} CA"
        )));
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
        return Err(PieceProblem::Rejected(format!(
            "the CRL (issuer \"{}\") is not signed by a trusted root",
            crl.issuer_text()
        )));
    }
    let w = Window {
        issued: crl.this_update,
        next_update: crl.next_update,
    };
    Ok((der, w))
}
