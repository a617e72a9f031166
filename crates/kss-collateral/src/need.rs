//! What a quote needs from the service: its platform's FMSPC and the CA that issued its PCK
//! certificate, both read from the PCK certificate chain (the quote's own, or one given for
//! quotes whose certification data does not carry it).

use crate::piece::Piece;
use kss_attest::collateral::PckCa;
use kss_attest::pck::{pck_leaf_of_chain, sgx_extension_of_cert, PckError};
use kss_attest::quote::{Quote, QuoteError};
use x509_cert::der::Decode;
use x509_cert::Certificate;

/// The collateral a quote needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        let pem = pck_chain
            .or(q.pck_chain_pem())
            .ok_or(NeedError::NoPckChain {
                cert_type: q.signature.certification.cert_type,
            })?;
        Need::of_pck_chain(pem)
    }

    /// The needs of a PCK chain (PEM, any order): the first certificate with an SGX
    /// extension is the PCK certificate.
    pub fn of_pck_chain(pem: &[u8]) -> Result<Need, NeedError> {
        // Quotes put the PCK certificate first: decode that one alone, and the whole chain
        // only when it is not the PCK certificate.
        let (cert, ext) = match first_certificate(pem)
            .and_then(|c| sgx_extension_of_cert(&c).ok().map(|e| (c, e)))
        {
            Some(found) => found,
            None => pck_leaf_of_chain(pem).map_err(NeedError::Pck)?,
        };
        let issuer = cert.tbs_certificate.issuer.to_string();
        let ca = if issuer.contains("Platform") {
            PckCa::Platform
        } else if issuer.contains("Processor") {
            PckCa::Processor
        } else {
            return Err(NeedError::UnknownCa { issuer });
        };
        Ok(Need {
            fmspc: ext.fmspc,
            ca,
        })
    }
}

/// The first `CERTIFICATE` block of PEM text, decoded.
fn first_certificate(pem: &[u8]) -> Option<Certificate> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem.strip_suffix(&[0]).unwrap_or(pem)).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + text[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = text[start..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Certificate::from_der(&der).ok()
}
