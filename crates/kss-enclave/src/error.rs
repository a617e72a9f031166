//! Errors of the modelled SGX instructions and of the loaders.

use core::fmt;

/// The SGX instruction leaf an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// ENCLS\[ECREATE\].
    Ecreate,
    /// ENCLS\[EADD\].
    Eadd,
    /// ENCLS\[EEXTEND\].
    Eextend,
    /// ENCLS\[EINIT\].
    Einit,
    /// ENCLU\[EREPORT\].
    Ereport,
    /// ENCLU\[EGETKEY\].
    Egetkey,
}

impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Leaf::Ecreate => "ECREATE",
            Leaf::Eadd => "EADD",
            Leaf::Eextend => "EEXTEND",
            Leaf::Einit => "EINIT",
            Leaf::Ereport => "EREPORT",
            Leaf::Egetkey => "EGETKEY",
        })
    }
}

/// Architectural error codes that EINIT and EGETKEY return in RAX (SDM; Fortanix `ErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    /// SGX_INVALID_SIG_STRUCT.
    InvalidSigStruct = 1,
    /// SGX_INVALID_ATTRIBUTE.
    InvalidAttribute = 2,
    /// SGX_INVALID_MEASUREMENT.
    InvalidMeasurement = 4,
    /// SGX_INVALID_SIGNATURE.
    InvalidSignature = 8,
    /// SGX_INVALID_EINITTOKEN.
    InvalidEinitToken = 16,
    /// SGX_INVALID_CPUSVN.
    InvalidCpuSvn = 32,
    /// SGX_INVALID_ISVSVN.
    InvalidIsvSvn = 64,
    /// SGX_UNMASKED_EVENT.
    UnmaskedEvent = 128,
    /// SGX_INVALID_KEYNAME.
    InvalidKeyName = 256,
}

impl ErrorCode {
    /// The numeric value returned in RAX.
    pub const fn value(self) -> u32 {
        self as u32
    }

    /// The SDM name, e.g. `SGX_INVALID_MEASUREMENT`.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidSigStruct => "SGX_INVALID_SIG_STRUCT",
            ErrorCode::InvalidAttribute => "SGX_INVALID_ATTRIBUTE",
            ErrorCode::InvalidMeasurement => "SGX_INVALID_MEASUREMENT",
            ErrorCode::InvalidSignature => "SGX_INVALID_SIGNATURE",
            ErrorCode::InvalidEinitToken => "SGX_INVALID_EINITTOKEN",
            ErrorCode::InvalidCpuSvn => "SGX_INVALID_CPUSVN",
            ErrorCode::InvalidIsvSvn => "SGX_INVALID_ISVSVN",
            ErrorCode::UnmaskedEvent => "SGX_UNMASKED_EVENT",
            ErrorCode::InvalidKeyName => "SGX_INVALID_KEYNAME",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.value())
    }
}

/// The outcome of a modelled SGX instruction that did not succeed.
///
/// `Fault` is what hardware signals with an exception (#GP(0) or #PF): the instruction did not
/// execute. `Status` is an error code returned in RAX (EINIT, EGETKEY). `Unsupported` is an
/// operation this backend cannot perform (for example EREPORT on the hardware backend, which
/// needs code running inside the enclave).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SgxError {
    /// The instruction faulted (#GP(0)); `rule` names the check that tripped.
    #[error("{leaf}: #GP(0): {rule}: {detail}")]
    Fault {
        /// Instruction.
        leaf: Leaf,
        /// The rule, in the words of the SDM / `docs/sgx-reference.md`.
        rule: &'static str,
        /// The offending values.
        detail: String,
    },
    /// The instruction returned an architectural error code.
    #[error("{leaf} returned {code}: {detail}")]
    Status {
        /// Instruction.
        leaf: Leaf,
        /// Error code in RAX.
        code: ErrorCode,
        /// The offending values.
        detail: String,
        /// Why SIGSTRUCT's signature does not verify, for EINIT's `SGX_INVALID_SIGNATURE`
        /// (`detail` is its text).
        #[source]
        signature: Option<kss_sign::VerifyError>,
    },
    /// A REPORT's MAC does not verify under the verifying enclave's REPORT key (local
    /// attestation failed).
    #[error("REPORT MAC mismatch: {detail}")]
    ReportMacMismatch {
        /// Which report, and what the mismatch means.
        detail: String,
    },
    /// The backend cannot perform this operation.
    #[error("{leaf} is not available on this backend: {reason}")]
    Unsupported {
        /// Instruction.
        leaf: Leaf,
        /// Why.
        reason: String,
    },
}

impl SgxError {
    /// The architectural error code, if the instruction returned one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            SgxError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for a modelled #GP(0).
    pub fn is_fault(&self) -> bool {
        matches!(self, SgxError::Fault { .. })
    }

    pub(crate) fn fault(leaf: Leaf, rule: &'static str, detail: impl Into<String>) -> Self {
        SgxError::Fault {
            leaf,
            rule,
            detail: detail.into(),
        }
    }

    pub(crate) fn status(leaf: Leaf, code: ErrorCode, detail: impl Into<String>) -> Self {
        SgxError::Status {
            leaf,
            code,
            detail: detail.into(),
            signature: None,
        }
    }

    /// EINIT's `SGX_INVALID_SIGNATURE`, with why the signature does not verify as its source.
    pub(crate) fn invalid_signature(why: kss_sign::VerifyError) -> Self {
        SgxError::Status {
            leaf: Leaf::Einit,
            code: ErrorCode::InvalidSignature,
            detail: why.to_string(),
            signature: Some(why),
        }
    }
}

/// Error of `EGETKEY` (an alias: key requests fail exactly like the instruction).
pub type KeyError = SgxError;
