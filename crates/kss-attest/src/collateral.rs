//! DCAP collateral: the TCB info, QE identity, CRLs and their issuer chains that a verifier
//! needs besides the quote.
//!
//! Two on-disk forms are read:
//! - dcap-qvl's `QuoteCollateralV3` JSON ([`Collateral::from_dcap_qvl_json`]);
//! - a directory of raw Intel PCS responses ([`Collateral::from_pcs_dir`], file names in
//!   [`pcs_dir::FILES`]).
//!
//! Where collateral comes from is behind [`CollateralSource`] (implemented by
//! [`InMemoryCollateral`], [`DcapQvlFile`] and [`PcsDirectory`]), so fetching from Intel PCS or
//! a PCCS can be added later without touching the verifier.

pub(crate) mod dcap_qvl;
pub(crate) mod json_slice;
pub mod pcs_dir;
pub mod piece_check;

use crate::x509util::{verify_p256_fixed, P256Key};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A signed JSON body (TCB info or QE identity) with its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedJson {
    /// The body exactly as served (the bytes Intel signed).
    pub body: Vec<u8>,
    /// ECDSA P-256 signature, raw `r || s` (64 bytes).
    pub signature: Vec<u8>,
}

impl SignedJson {
    /// The byte strings to try when checking the signature: the exact body first, then its
    /// compact re-serialization (whitespace outside strings removed, key order kept) when that
    /// differs. Pretty-printed copies of PCS responses (e.g. teekit's sample TCB infos) only
    /// verify over the compact form.
    pub fn signed_candidates(&self) -> Vec<Vec<u8>> {
        std::iter::once(self.body.clone())
            .chain(self.compact_if_different())
            .collect()
    }

    /// Which of [`SignedJson::signed_candidates`] `key` signed, trying the exact body first and
    /// building the compact form only when that fails (so the common case copies nothing).
    /// `None`: neither.
    pub fn signed_form(&self, key: &P256Key) -> Option<SignedForm> {
        if verify_p256_fixed(key, &self.body, &self.signature) {
            return Some(SignedForm::Exact);
        }
        self.compact_if_different()
            .filter(|c| verify_p256_fixed(key, c, &self.signature))
            .map(|_| SignedForm::Compact)
    }

    fn compact_if_different(&self) -> Option<Vec<u8>> {
        let compact = json_slice::compact(&self.body);
        (compact != self.body).then_some(compact)
    }

    /// The body as text.
    pub fn text(&self) -> Result<&str, CollateralError> {
        std::str::from_utf8(&self.body).map_err(|_| CollateralError::Field {
            source_name: "collateral".into(),
            field: "signed JSON body".into(),
            reason: "not UTF-8".into(),
        })
    }
}

/// The form of a [`SignedJson`] body that its signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedForm {
    /// The body exactly as served.
    Exact,
    /// Its compact re-serialization (the file was re-formatted after it was served).
    Compact,
}

/// Everything besides the quote that a strict DCAP verification of an SGX quote needs.
/// CRLs are optional only so that a missing one can be reported as a failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collateral {
    /// TCB info (`tcbInfo` body) and signature.
    pub tcb_info: SignedJson,
    /// PEM chain of the TCB signing certificate (signing cert, root).
    pub tcb_info_issuer_chain: Vec<u8>,
    /// QE identity (`enclaveIdentity` body) and signature.
    pub qe_identity: SignedJson,
    /// PEM chain of the QE identity signer.
    pub qe_identity_issuer_chain: Vec<u8>,
    /// CRL of the PCK's CA (Processor or Platform CA), DER/PEM/hex.
    pub pck_crl: Option<Vec<u8>>,
    /// PEM chain of the PCK CRL issuer (the PCK CA, root).
    pub pck_crl_issuer_chain: Option<Vec<u8>>,
    /// CRL of the Intel SGX Root CA, DER/PEM/hex.
    pub root_ca_crl: Option<Vec<u8>>,
    /// PCK certificate chain (PEM) for quotes whose certification data does not carry it
    /// (types 1–4). Not part of dcap-qvl's format.
    pub pck_chain: Option<Vec<u8>>,
}

/// Collateral that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CollateralError {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A required piece is missing.
    #[error("{source_name}: missing {what} (looked for {looked_for})")]
    Missing {
        /// Which collateral.
        source_name: String,
        /// The piece.
        what: String,
        /// Where it was looked for.
        looked_for: String,
    },
    /// A field has a bad value.
    #[error("{source_name}: {field}: {reason}")]
    Field {
        /// Which collateral.
        source_name: String,
        /// The field.
        field: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A piece whose content another check refused (e.g. a fetched piece that is malformed
    /// or does not verify); that check's error is the source.
    #[error("{source_name}: {field}: {source}")]
    Content {
        /// Which collateral.
        source_name: String,
        /// The piece or field.
        field: String,
        /// What is wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A JSON document (or field) that does not parse.
    #[error("{source_name}: {field}: {source}")]
    Json {
        /// Which collateral.
        source_name: String,
        /// The document or field.
        field: String,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A field that should be hex but is not.
    #[error("{source_name}: {field}: not hex: {source}")]
    Hex {
        /// Which collateral.
        source_name: String,
        /// The field.
        field: String,
        /// The decoder's error.
        source: hex::FromHexError,
    },
    /// A source could not provide collateral (e.g. a network or cache failure).
    #[error("{what}: collateral not available: {source}")]
    Unavailable {
        /// What was asked for, and from where.
        what: String,
        /// Why it is not available.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Whether a [`CollateralError`] is the environment's or the content's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollateralErrorKind {
    /// The collateral could not be obtained (missing file or piece, unreachable service):
    /// retrying elsewhere or later may help.
    NotAvailable,
    /// The collateral was obtained but is malformed.
    BadContent,
}

impl CollateralError {
    /// Whether this is the environment's ("not available") or the content's fault.
    pub fn kind(&self) -> CollateralErrorKind {
        match self {
            Self::Io { .. } | Self::Missing { .. } | Self::Unavailable { .. } => {
                CollateralErrorKind::NotAvailable
            }
            Self::Field { .. } | Self::Content { .. } | Self::Json { .. } | Self::Hex { .. } => {
                CollateralErrorKind::BadContent
            }
        }
    }
}

impl Collateral {
    /// Reads collateral from `path`: a directory of raw PCS files or a dcap-qvl JSON file.
    pub fn from_path(path: &Path) -> Result<Self, CollateralError> {
        if path.is_dir() {
            Self::from_pcs_dir(path)
        } else {
            let bytes =
                kss_io::read_bounded(path, kss_io::limits::COLLATERAL).map_err(|source| {
                    CollateralError::Io {
                        path: path.to_path_buf(),
                        source,
                    }
                })?;
            Self::from_dcap_qvl_json(&bytes, &path.display().to_string())
        }
    }

    /// Parses dcap-qvl's `QuoteCollateralV3` JSON; `name` names it in errors.
    pub fn from_dcap_qvl_json(bytes: &[u8], name: &str) -> Result<Self, CollateralError> {
        dcap_qvl::parse(bytes, name)
    }

    /// Reads a directory of raw Intel PCS responses (see [`pcs_dir::FILES`]).
    pub fn from_pcs_dir(dir: &Path) -> Result<Self, CollateralError> {
        pcs_dir::read(dir)
    }
}

/// Which CA issued a PCK certificate (selects the PCK CRL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PckCa {
    /// Intel SGX PCK Processor CA.
    Processor,
    /// Intel SGX PCK Platform CA.
    Platform,
}

/// The TEE a quote is from (selects the TCB info and QE identity flavour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TeeType {
    /// Intel SGX.
    Sgx,
    /// Intel TDX.
    Tdx,
}

/// What a quote needs from a [`CollateralSource`]: the platform (FMSPC, PCE ID), the CA that
/// issued its PCK certificate (which PCK CRL), the TEE type, and the verification time (a
/// source may hand out collateral valid then, or its newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CollateralNeed {
    /// FMSPC from the PCK certificate.
    pub fmspc: [u8; 6],
    /// PCEID from the PCK certificate.
    pub pce_id: [u8; 2],
    /// The PCK's issuing CA.
    pub ca: PckCa,
    /// The quote's TEE.
    pub tee: TeeType,
    /// The verification time (Unix seconds).
    pub at: u64,
}

/// A place collateral comes from: a file, a directory, memory now; Intel PCS or a PCCS (with an
/// on-disk cache) later. The verifier asks for what a quote needs and never sees where it came
/// from. Errors tell "not available" (the environment: missing file, network) from "bad
/// content" with [`CollateralError::kind`].
pub trait CollateralSource: Send + Sync {
    /// Returns the collateral for a quote with these needs.
    fn collateral(&self, need: &CollateralNeed) -> Result<Arc<Collateral>, CollateralError>;
}

/// A fixed collateral bundle held in memory, whatever the quote.
#[derive(Debug, Clone)]
pub struct InMemoryCollateral(pub Arc<Collateral>);

impl CollateralSource for InMemoryCollateral {
    fn collateral(&self, _need: &CollateralNeed) -> Result<Arc<Collateral>, CollateralError> {
        Ok(self.0.clone())
    }
}

/// dcap-qvl's `QuoteCollateralV3` JSON file, read on every request (so it can be replaced
/// while a verifier runs).
#[derive(Debug, Clone)]
pub struct DcapQvlFile(pub PathBuf);

impl CollateralSource for DcapQvlFile {
    fn collateral(&self, _need: &CollateralNeed) -> Result<Arc<Collateral>, CollateralError> {
        let bytes =
            kss_io::read_bounded(&self.0, kss_io::limits::COLLATERAL).map_err(|source| {
                CollateralError::Io {
                    path: self.0.clone(),
                    source,
                }
            })?;
        Collateral::from_dcap_qvl_json(&bytes, &self.0.display().to_string()).map(Arc::new)
    }
}

/// A directory of raw Intel PCS responses (see [`pcs_dir::FILES`]), read on every request.
#[derive(Debug, Clone)]
pub struct PcsDirectory(pub PathBuf);

impl CollateralSource for PcsDirectory {
    fn collateral(&self, _need: &CollateralNeed) -> Result<Arc<Collateral>, CollateralError> {
        Collateral::from_pcs_dir(&self.0).map(Arc::new)
    }
}

/// Decodes a hex signature (`r || s`), naming the field in errors.
pub(crate) fn hex_signature(
    text: &str,
    source_name: &str,
    field: &str,
) -> Result<Vec<u8>, CollateralError> {
    let sig = hex::decode(text.trim()).map_err(|source| CollateralError::Hex {
        source_name: source_name.to_string(),
        field: field.to_string(),
        source,
    })?;
    if sig.len() != 64 {
        return Err(CollateralError::Field {
            source_name: source_name.to_string(),
            field: field.to_string(),
            reason: format!("{} bytes, expected 64 (r || s of ECDSA P-256)", sig.len()),
        });
    }
    Ok(sig)
}
