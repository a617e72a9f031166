//! The checks a piece passes before it is used or cached: it parses, it is the piece asked for,
//! its signature verifies with the key of its issuer chain's leaf, and that chain leads to a
//! trusted root. Time windows are not checked here: the verifier checks them at its
//! verification time, and the cache reads them from the piece.

use crate::piece::Piece;
use kss_attest::collateral::pcs_dir::split_pcs_response;
use kss_attest::collateral::piece_check::{
    check_pck_crl, check_qe_identity, check_root_ca_crl, check_tcb_info, Malformed, PieceProblem,
    Window,
};
use kss_attest::collateral::SignedJson;
use kss_attest::P256Key;

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

/// Why a piece failed its checks: the piece checks' own problem (malformed or rejected, with
/// its typed cause as source).
pub type Problem = PieceProblem;

impl Checked {
    /// The signed JSON of a TCB info or QE identity body. Splitting it out can only find the
    /// body malformed (the signature was checked by [`check`]).
    pub fn signed_json(&self) -> Result<SignedJson, Malformed> {
        let keys: &[&str] = match self.piece {
            Piece::TcbInfo { .. } => &["tcbInfo"],
            _ => &["enclaveIdentity", "qeIdentity"],
        };
        split_pcs_response(&self.body, keys, &self.piece.to_string()).map_err(Malformed::Response)
    }
}

/// Checks a piece as served: `body` and its issuer chain (PEM) against `roots`.
pub fn check(
    piece: &Piece,
    body: &[u8],
    issuer_chain: Option<&str>,
    roots: &[P256Key],
) -> Result<Checked, Problem> {
    let chain = || {
        issuer_chain
            .map(str::as_bytes)
            .ok_or(Problem::Malformed(Malformed::NoIssuerChain))
    };
    let done = |body: &[u8], w: Window| Checked {
        piece: *piece,
        body: body.to_vec(),
        issuer_chain: issuer_chain.map(str::to_string),
        issued: w.issued,
        next_update: w.next_update,
    };
    match piece {
        Piece::TcbInfo { fmspc } => {
            let w = check_tcb_info(body, chain()?, *fmspc, roots)?;
            Ok(done(body, w))
        }
        Piece::QeIdentity => {
            let w = check_qe_identity(body, chain()?, roots)?;
            Ok(done(body, w))
        }
        Piece::PckCrl { ca } => {
            let (der, w) = check_pck_crl(body, chain()?, *ca, roots)?;
            Ok(done(&der, w))
        }
        Piece::RootCaCrl => {
            let (der, w) = check_root_ca_crl(body, roots)?;
            let mut c = done(&der, w);
            c.issuer_chain = None;
            Ok(c)
        }
    }
}
