//! What a quote needs from the service: its platform's FMSPC and the CA that issued its PCK
//! certificate, both read from the PCK certificate chain (the quote's own, or one given for
//! quotes whose certification data does not carry it).

use crate::piece::Piece;
use kss_attest::collateral::PckCa;
use kss_attest::pck::{pck_need_of_chain, PckError, PckNeed};
use kss_attest::quote::{Quote, QuoteError};
use kss_attest::Verifier;

/// The collateral a quote needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Need {
    /// FMSPC from the PCK certificate's SGX extension.
    pub fmspc: [u8; 6],
    /// The CA that issued the PCK certificate.
    pub ca: PckCa,
}

/// Why a quote's needs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NeedError {
    /// The quote does not parse.
    #[error("the quote does not parse: {0}")]
    Quote(#[source] QuoteError),
    /// The quote carries no PCK chain and none was given.
    #[error("the quote carries no PCK certificate chain (certification data type {cert_type}): give the PCK chain to know which collateral it needs")]
    NoPckChain {
        /// The quote's certification data type.
        cert_type: u16,
    },
    /// The PCK chain does not parse, or no certificate of it carries a well-formed SGX
    /// extension.
    #[error("PCK chain: {0}")]
    Pck(#[source] PckError),
    /// The PCK certificate's issuer is neither PCK CA.
    #[error("the PCK certificate's issuer \"{issuer}\" is neither the PCK Processor CA nor the PCK Platform CA")]
    UnknownCa {
        /// The issuer as found.
        issuer: String,
    },
}

impl Need {
    /// The pieces, in a fixed order: TCB info, QE identity, PCK CRL, Root CA CRL.
    pub fn pieces(&self) -> [Piece; 4] {
        [
            Piece::TcbInfo { fmspc: self.fmspc },
            Piece::QeIdentity,
            Piece::PckCrl { ca: self.ca },
            Piece::RootCaCrl,
        ]
    }

    /// The needs of a quote (raw bytes), from its PCK chain or else `pck_chain` (PEM).
    pub fn of_quote(quote: &[u8], pck_chain: Option<&[u8]>) -> Result<Need, NeedError> {
        let q = Quote::parse_allow_trailing(quote).map_err(NeedError::Quote)?;
        Need::of_pck_chain(chain_of(&q, pck_chain)?)
    }

    /// The needs of a parsed quote, from its PCK chain or else `pck_chain` (PEM), read through
    /// `verifier`'s certificate cache: the verification of the quote that follows reuses the
    /// parsed certificates, and a verifier that saw the chain before answers from memory.
    pub fn of_parsed_quote(
        verifier: &Verifier,
        quote: &Quote,
        pck_chain: Option<&[u8]>,
        at: u64,
    ) -> Result<Need, NeedError> {
        let pem = chain_of(quote, pck_chain)?;
        verifier
            .pck_need(pem, at)
            .map(Need::from)
            .map_err(NeedError::from)
    }

    /// The needs of a PCK chain (PEM, any order): the first certificate with an SGX
    /// extension is the PCK certificate. A shallow DER read of the certificates, nothing
    /// verified.
    pub fn of_pck_chain(pem: &[u8]) -> Result<Need, NeedError> {
        pck_need_of_chain(pem)
            .map(Need::from)
            .map_err(NeedError::from)
    }
}

impl From<PckNeed> for Need {
    fn from(n: PckNeed) -> Self {
        Need {
            fmspc: n.fmspc,
            ca: n.ca,
        }
    }
}

impl From<PckError> for NeedError {
    fn from(e: PckError) -> Self {
        match e {
            PckError::UnknownCa { issuer } => NeedError::UnknownCa { issuer },
            other => NeedError::Pck(other),
        }
    }
}

/// `pck_chain` when given, else the quote's own PCK chain.
fn chain_of<'a>(q: &'a Quote, pck_chain: Option<&'a [u8]>) -> Result<&'a [u8], NeedError> {
    pck_chain
        .or(q.pck_chain_pem())
        .ok_or(NeedError::NoPckChain {
            cert_type: q.signature.certification.cert_type,
        })
}
