//! Checks of REPORTDATA against what the verifier expects: exact bytes, a prefix, or the hash
//! of runtime data (a key or nonce the enclave bound into its report).

use super::check_id::CheckId;
use super::verdict::Check;
use kss_types::ReportBody;
use sha2::{Digest, Sha256, Sha512};

/// The hash that binds runtime data into REPORTDATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuntimeDataHash {
    /// SHA-256: REPORTDATA starts with the 32-byte digest.
    #[default]
    Sha256,
    /// SHA-512: REPORTDATA is the 64-byte digest.
    Sha512,
}

impl RuntimeDataHash {
    /// `"sha256"` or `"sha512"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// One expectation on REPORTDATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportDataExpectation {
    /// REPORTDATA is exactly these 64 bytes (`report_data.exact`).
    Exact([u8; 64]),
    /// REPORTDATA starts with these 1 to 63 bytes (`report_data.prefix`).
    Prefix(Vec<u8>),
    /// REPORTDATA starts with the hash of this runtime data (`report_data.runtime_data`).
    RuntimeData {
        /// The runtime data (e.g. a public key or a nonce).
        data: Vec<u8>,
        /// The hash that binds it.
        hash: RuntimeDataHash,
    },
}

impl ReportDataExpectation {
    /// Hex bytes: 64 bytes is [`Self::Exact`], fewer is [`Self::Prefix`].
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match bytes.len() {
            64 => bytes.try_into().ok().map(Self::Exact),
            1..=63 => Some(Self::Prefix(bytes.to_vec())),
            _ => None,
        }
    }

    /// The check of `body` against this expectation.
    pub fn check(&self, body: &ReportBody) -> Check {
        let rd = &body.report_data;
        match self {
            Self::Exact(want) => Check::from_bool(
                CheckId::ReportDataExact,
                rd == want,
                format!(
                    "REPORTDATA is {}, expected {}",
                    hex::encode(rd),
                    hex::encode(want)
                ),
            ),
            Self::Prefix(p) => Check::from_bool(
                CheckId::ReportDataPrefix,
                rd.starts_with(p),
                format!(
                    "REPORTDATA starts with {}, expected {}",
                    hex::encode(&rd[..p.len().min(64)]),
                    hex::encode(p)
                ),
            ),
            Self::RuntimeData { data, hash } => {
                let d = hash.digest(data);
                Check::from_bool(
                    CheckId::ReportDataRuntimeData,
                    rd.starts_with(&d),
                    format!(
                        "REPORTDATA starts with {}, the {} of the runtime data ({} bytes) is {}",
                        hex::encode(&rd[..d.len()]),
                        hash.as_str(),
                        data.len(),
                        hex::encode(&d)
                    ),
                )
            }
        }
    }
}
