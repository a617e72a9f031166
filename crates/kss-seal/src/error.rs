//! The one error type of the crate.

use crate::key_source::KeySourceError;
use kss_types::{CpuSvn, KeyPolicy, UnknownPolicyName};
use std::path::PathBuf;

/// Why sealing, unsealing, parsing or writing a sealed blob failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The blob is shorter than the fixed `sgx_sealed_data_t` header.
    #[error("sealed blob is {len} bytes, shorter than the {need}-byte sgx_sealed_data_t header")]
    Truncated {
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// The blob's length differs from what its header declares.
    #[error(
        "sealed blob is {actual} bytes but its header declares {declared} (560 + payload_size)"
    )]
    LengthMismatch {
        /// 560 + payload_size.
        declared: u64,
        /// Bytes given.
        actual: usize,
    },
    /// The KEYREQUEST inside the blob cannot be read.
    #[error("sealed blob field key_request is {0}, expected 512 bytes")]
    KeyRequest(#[source] kss_types::LayoutError),
    /// A header field of the blob has a value the format does not allow.
    #[error("sealed blob field {field} is {value}, expected {expected}")]
    Format {
        /// Field name, e.g. `key_request.key_name`.
        field: &'static str,
        /// The value found.
        value: String,
        /// What the format requires.
        expected: &'static str,
    },
    /// The key policy breaks an SDK sealing rule.
    #[error("invalid seal key policy {policy:#06x} ({}): {reason}", policy_names(KeyPolicy(*policy)))]
    InvalidPolicy {
        /// The raw policy bits.
        policy: u16,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The attribute mask leaves out INIT or DEBUG (the SDK requires both).
    #[error("invalid seal attribute mask flags {flags:#018x}: it must include INIT (0x1) and DEBUG (0x2)")]
    InvalidAttributeMask {
        /// The mask flags given.
        flags: u64,
    },
    /// A policy text is neither a preset nor a list of policy names.
    #[error("unknown seal policy '{text}': {problem}")]
    UnknownPolicy {
        /// The text given.
        text: String,
        /// What was wrong and what is accepted.
        problem: PolicyTextProblem,
    },
    /// Sealing an empty plaintext (the SDK refuses it; use [`crate::mac_aad`] to only MAC data).
    #[error("nothing to seal: the plaintext is empty (the SDK requires at least 1 byte; use the AAD-only MAC mode to protect data without encrypting it)")]
    EmptyPlaintext,
    /// MAC-only mode with no data to MAC.
    #[error("nothing to MAC: the additional authenticated data is empty")]
    EmptyAad,
    /// The blob would not fit the u32 sizes of `sgx_sealed_data_t`.
    #[error("sealed blob would be {size} bytes (560 + {text_len} encrypted + {aad_len} AAD), more than the u32 limit {max} of sgx_sealed_data_t")]
    TooLarge {
        /// Total size that was asked for.
        size: u64,
        /// Plaintext length.
        text_len: u64,
        /// AAD length.
        aad_len: u64,
        /// Largest allowed total.
        max: u64,
    },
    /// The tag does not verify: the blob was changed, or this enclave derives a different seal key
    /// (other signer, enclave, CONFIGID, family, product or attributes than the policy binds).
    #[error("MAC mismatch: the sealed blob (policy {}) was modified, or this enclave's identity does not match what the policy binds (signer/enclave/CONFIGID/family/product/attributes)", policy_names(*policy))]
    MacMismatch {
        /// The policy stored in the blob.
        policy: KeyPolicy,
    },
    /// The blob was sealed at a higher ISVSVN or CONFIGSVN than this enclave has.
    #[error("sealed at {field} {sealed}, but this enclave has {field} {current} < {sealed}: only an enclave at {field} {sealed} or above can unseal it")]
    SvnTooLow {
        /// `ISVSVN` or `CONFIGSVN`.
        field: &'static str,
        /// The SVN stored in the blob's key request.
        sealed: u16,
        /// The enclave's own SVN.
        current: u16,
    },
    /// The blob was sealed at a CPUSVN this platform cannot derive keys for.
    #[error("sealed at CPUSVN {}, which this platform cannot derive (its TCB is older or the value is unknown; platform CPUSVN {})", to_hex(&sealed.0), current.map_or_else(|| "unknown".to_string(), |c| to_hex(&c.0)))]
    CpuSvnTooNew {
        /// The stored CPUSVN.
        sealed: CpuSvn,
        /// The platform's CPUSVN, if the key source could tell.
        current: Option<CpuSvn>,
    },
    /// The key source failed in a way that is not about this blob.
    #[error(transparent)]
    KeySource(#[from] KeySourceError),
    /// Writing a file (a sealed blob, or an unsealed secret) failed.
    #[error("cannot write '{path}': {source}")]
    Io {
        /// The destination.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Why a policy text is not a policy (see [`crate::parse_policy`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyTextProblem {
    /// A name that is not a key policy name.
    #[error("{}; or use default or a preset: enclave, signer, config, family, product", UnknownPolicyName(.0))]
    UnknownName(String),
    /// No names at all.
    #[error("the policy is empty; expected default, a preset or a list like mrsigner,configid")]
    Empty,
}

impl SealError {
    pub(crate) fn invalid_policy(policy: KeyPolicy, reason: &'static str) -> Self {
        Self::InvalidPolicy {
            policy: policy.0,
            reason,
        }
    }
}

/// `mrsigner,configid`, or `none` for the empty policy.
pub(crate) fn policy_names(policy: KeyPolicy) -> String {
    let s = policy.to_string();
    if s.is_empty() {
        "none".to_string()
    } else {
        s
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
