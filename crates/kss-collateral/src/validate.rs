//! The checks a piece passes before it is used or cached: it parses, it is the piece asked for,
//! its signature verifies with the key of its issuer chain's leaf, and that chain leads to a
//! trusted root. Time windows are not checked here: the verifier checks them at its
//! verification time, and the cache reads them from the piece.

use crate::piece::Piece;
use kss_attest::collateral::pcs_dir::split_pcs_response;
use kss_attest::collateral::{PckCa, SignedJson};
use kss_attest::tcb::{QeIdentity, TcbInfo};
use kss_attest::x509util::{build_chain, parse_pem_certs, Cert, Crl, P256Key};

/// A piece that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Which piece.
    pub piece: Piece,
    /// TCB info / QE identity: the whole response body as served (`{"tcbInfo":..,
    /// "signature":".."}`), byte-exact. CRLs: the DER.
    pub body: Vec<u8>,
    /// The PEM issuer chain (`None` for the Root CA CRL).
    pub issuer_chain: Option<String>,
    /// issueDate (TCB info, QE identity) or thisUpdate (CRLs), Unix seconds.
    pub issued: u64,
    /// nextUpdate, Unix seconds.
    pub next_update: u64,
}

/// Why a piece failed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// It is not a well-formed piece of this kind.
    Malformed(String),
    /// It is well formed but its signature or chain does not verify, or it is another piece.
    Rejected(String),
}

impl Checked {
    /// The signed JSON of a TCB info or QE identity body.
    pub fn signed_json(&self) -> Result<SignedJson, Problem> {
        let keys: &[&str] = match self.piece {
            Piece::TcbInfo { .. } => &["tcbInfo"],
            _ => &["enclaveIdentity", "qeIdentity"],
        };
        split_pcs_response(&self.body, keys, &self.piece.to_string())
            .map_err(|e| Problem::Malformed(e.to_string()))
    }
}

/// Checks a piece as served: `body` and its issuer chain (PEM) against `roots`.
pub fn check(
    piece: &Piece,
    body: &[u8],
    issuer_chain: Option<&str>,
    roots: &[P256Key],
) -> Result<Checked, Problem> {
    let chain_leaf = |what: &str| -> Result<Cert, Problem> {
        let pem = issuer_chain.ok_or_else(|| Problem::Malformed(format!("no {what}")))?;
        let mut certs =
            parse_pem_certs(pem.as_bytes(), what).map_err(|e| Problem::Malformed(e.to_string()))?;
        let idx = build_chain(&certs, roots).map_err(|e| {
            Problem::Rejected(format!("{what} does not lead to a trusted root: {e}"))
        })?;
        let leaf = idx.first().copied().unwrap_or(0);
        Ok(certs.swap_remove(leaf))
    };
    match piece {
        Piece::TcbInfo { fmspc } => {
            let signed = signed_piece(piece, body, &["tcbInfo"], chain_leaf)?;
            let text = signed
                .text()
                .map_err(|e| Problem::Malformed(e.to_string()))?;
            let info = TcbInfo::from_json(text).map_err(|e| Problem::Malformed(e.to_string()))?;
            if info.fmspc != *fmspc {
                return Err(Problem::Rejected(format!(
                    "it is the TCB info of FMSPC {}, not {}",
                    hex::encode_upper(info.fmspc),
                    hex::encode_upper(fmspc)
                )));
            }
            if !matches!(info.id.as_deref(), None | Some("SGX")) {
                return Err(Problem::Rejected(format!(
                    "it is a {:?} TCB info, not an SGX one",
                    info.id.as_deref().unwrap_or_default()
                )));
            }
            Ok(done(
                piece,
                body,
                issuer_chain,
                info.issue_date,
                info.next_update,
            ))
        }
        Piece::QeIdentity => {
            let signed = signed_piece(piece, body, &["enclaveIdentity", "qeIdentity"], chain_leaf)?;
            let text = signed
                .text()
                .map_err(|e| Problem::Malformed(e.to_string()))?;
            let id = QeIdentity::from_json(text).map_err(|e| Problem::Malformed(e.to_string()))?;
            if id.id != "QE" {
                return Err(Problem::Rejected(format!(
                    "it is the identity of {:?}, not of the SGX quoting enclave (\"QE\")",
                    id.id
                )));
            }
            Ok(done(
                piece,
                body,
                issuer_chain,
                id.issue_date,
                id.next_update,
            ))
        }
        Piece::PckCrl { ca } => {
            let (der, crl) = parse_crl(piece, body)?;
            let leaf = chain_leaf("the PCK CRL issuer chain")?;
            if !crl.is_signed_by(&leaf.public_key) {
                return Err(Problem::Rejected(format!(
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
                return Err(Problem::Rejected(format!(
                    "it is issued by \"{subject}\", not by the PCK {want} CA"
                )));
            }
            Ok(done(
                piece,
                &der,
                issuer_chain,
                crl.this_update,
                crl.next_update,
            ))
        }
        Piece::RootCaCrl => {
            let (der, crl) = parse_crl(piece, body)?;
            if !roots.iter().any(|r| crl.is_signed_by(r)) {
                return Err(Problem::Rejected(format!(
                    "the CRL (issuer \"{}\") is not signed by a trusted root",
                    crl.issuer_text()
                )));
            }
            Ok(done(piece, &der, None, crl.this_update, crl.next_update))
        }
    }
}

fn done(piece: &Piece, body: &[u8], chain: Option<&str>, issued: u64, next: u64) -> Checked {
    Checked {
        piece: *piece,
        body: body.to_vec(),
        issuer_chain: chain.map(str::to_string),
        issued,
        next_update: next,
    }
}

fn signed_piece(
    piece: &Piece,
    body: &[u8],
    keys: &[&str],
    chain_leaf: impl Fn(&str) -> Result<Cert, Problem>,
) -> Result<SignedJson, Problem> {
    if std::str::from_utf8(body).is_err() {
        return Err(Problem::Malformed("the body is not UTF-8 JSON".into()));
    }
    let signed = split_pcs_response(body, keys, &piece.to_string())
        .map_err(|e| Problem::Malformed(e.to_string()))?;
    let leaf = chain_leaf("the issuer chain")?;
    if signed.signed_form(&leaf.public_key).is_none() {
        return Err(Problem::Rejected(format!(
            "the signature does not verify with the key of \"{}\": the body was altered or not signed by it",
            leaf.subject_text()
        )));
    }
    Ok(signed)
}

/// A CRL as DER, PEM or hex of DER (a PCCS serves the Root CA CRL as hex text), parsed.
fn parse_crl(piece: &Piece, body: &[u8]) -> Result<(Vec<u8>, Crl), Problem> {
    let what = piece.to_string();
    let der = crl_to_der(body)
        .ok_or_else(|| Problem::Malformed("not a CRL in DER, PEM or hex of DER".into()))?;
    let crl = Crl::from_der(&der, &what).map_err(|e| Problem::Malformed(e.to_string()))?;
    Ok((der, crl))
}

/// The DER of a CRL given as DER, PEM (`X509 CRL`) or hex text of DER.
pub fn crl_to_der(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.first() == Some(&0x30) {
        return Some(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).ok()?.trim();
    if text.starts_with("-----BEGIN") {
        let mut blocks = kss_attest::x509util::pem_blocks(text, "CRL").ok()?;
        return (blocks.len() == 1).then(|| blocks.remove(0).1);
    }
    hex::decode(text).ok().filter(|d| d.first() == Some(&0x30))
}
