//! What a quote needs from the service: its platform's FMSPC and the CA that issued its PCK
//! certificate, both read from the PCK certificate chain (the quote's own, or one given for
//! quotes whose certification data does not carry it).

use crate::piece::Piece;
use kss_attest::collateral::PckCa;
use kss_attest::pck::{parse_sgx_extension, PckError, SGX_EXTENSION_OID};
use kss_attest::quote::{Quote, QuoteError};
use kss_attest::x509util::{parse_pem_certs, pem_block_texts, Cert, X509Error};

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
    /// The PCK chain does not parse.
    #[error("PCK chain: {0}")]
    Chain(#[source] X509Error),
    /// No certificate of the chain carries a well-formed SGX extension.
    #[error("PCK chain: no PCK certificate with an SGX extension: {0}")]
    Extension(#[source] PckError),
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

    /// The needs of a PCK chain (PEM, any order). Certificates are decoded one by one until
    /// the PCK certificate (the one with the SGX extension; normally the first).
    pub fn of_pck_chain(pem: &[u8]) -> Result<Need, NeedError> {
        let pem = pem.strip_suffix(&[0]).unwrap_or(pem);
        let text = std::str::from_utf8(pem).map_err(|_| {
            NeedError::Chain(X509Error::Pem {
                what: "PCK chain".into(),
                reason: "not UTF-8 text".into(),
            })
        })?;
        let blocks = pem_block_texts(text, "PCK chain").map_err(NeedError::Chain)?;
        let mut certs = Vec::new();
        let mut last_err = PckError::NotPck;
        for (i, block) in blocks.iter().enumerate() {
            if block.label != "CERTIFICATE" {
                continue;
            }
            let der = block.decode("PCK chain", i + 1).map_err(NeedError::Chain)?;
            let cert = Cert::from_der(&der, &format!("PCK chain, certificate {}", i + 1))
                .map_err(NeedError::Chain)?;
            let ext = match cert.extension(&SGX_EXTENSION_OID).map(parse_sgx_extension) {
                Some(Ok(ext)) => ext,
                Some(Err(e)) => {
                    last_err = e;
                    certs.push(cert);
                    continue;
                }
                None => {
                    certs.push(cert);
                    continue;
                }
            };
            let issuer = cert.issuer_der();
            let ca = if contains(issuer, b"Platform") {
                PckCa::Platform
            } else if contains(issuer, b"Processor") {
                PckCa::Processor
            } else {
                let all = parse_pem_certs(pem, "PCK chain").unwrap_or_default();
                let issuer = all
                    .iter()
                    .find(|c| c.subject_der() == issuer)
                    .map_or_else(|| hex::encode(issuer), |c| c.subject_text());
                return Err(NeedError::UnknownCa { issuer });
            };
            return Ok(Need {
                fmspc: ext.fmspc,
                ca,
            });
        }
        if certs.is_empty() {
            return Err(NeedError::Chain(X509Error::Empty {
                what: "PCK chain".into(),
            }));
        }
        Err(NeedError::Extension(last_err))
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
