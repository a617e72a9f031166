//! Where seal keys come from: the enclave's own identity and its `EGETKEY`.

use kss_types::{KeyRequest, ReportBody};
use zeroize::Zeroizing;

/// The cause of an unavailable key source: whatever the implementation failed with (an I/O
/// error, a protocol error of the enclave service, ...), kept whole.
pub type UnavailableCause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a [`KeySource`] could not give a key or a self report. The variants mirror the
/// `EGETKEY` outcomes (SDM status codes and #GP) plus "no enclave to ask".
#[derive(Debug, thiserror::Error)]
pub enum KeySourceError {
    /// SGX_INVALID_CPUSVN: the requested CPUSVN is above the platform's or not one it knows.
    #[error("EGETKEY returned SGX_INVALID_CPUSVN: the requested CPUSVN is newer than this platform's TCB or unknown")]
    InvalidCpuSvn,
    /// SGX_INVALID_ISVSVN: the requested ISVSVN or CONFIGSVN is above the enclave's.
    #[error("EGETKEY returned SGX_INVALID_ISVSVN: the requested ISVSVN or CONFIGSVN is above the enclave's")]
    InvalidIsvSvn,
    /// SGX_INVALID_KEYNAME or SGX_INVALID_ATTRIBUTE: this enclave may not derive that key.
    #[error("EGETKEY refused key name {key_name}: unknown, or not allowed for this enclave's attributes")]
    InvalidKeyName {
        /// The KEYNAME requested.
        key_name: u16,
    },
    /// The request breaks an architectural rule that makes hardware raise #GP: reserved bits or
    /// bytes set, KSS policy bits or a CONFIGSVN on an enclave without ATTRIBUTES.KSS.
    #[error("EGETKEY rejected the request (#GP): {reason}")]
    InvalidRequest {
        /// Which rule, with the offending value, in the enclave's words: a remote enclave sends
        /// it as text over its protocol, so text is all a client has.
        reason: String,
    },
    /// No enclave or device to ask (not running, driver error, ...).
    #[error("key source unavailable: {source}")]
    Unavailable {
        /// What failed.
        #[source]
        source: UnavailableCause,
    },
}

impl KeySourceError {
    /// [`KeySourceError::Unavailable`] with `cause`.
    pub fn unavailable(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable {
            source: Box::new(cause),
        }
    }
}

/// The two enclave operations sealing needs. Implemented by the enclave simulator (and by test
/// doubles); `kss-seal` never depends on a particular implementation.
pub trait KeySource {
    /// The enclave's own identity, as `EREPORT` for itself gives it (`sgx_self_report`):
    /// CPUSVN, ISVSVN, CONFIGSVN, ATTRIBUTES (with the KSS bit), MRENCLAVE, MRSIGNER, ...
    fn self_report(&self) -> Result<ReportBody, KeySourceError>;

    /// `EGETKEY`: derives the 128-bit key for `request` with this enclave's identity.
    fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeySourceError>;
}

impl<T: KeySource + ?Sized> KeySource for &T {
    fn self_report(&self) -> Result<ReportBody, KeySourceError> {
        (**self).self_report()
    }

    fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeySourceError> {
        (**self).get_key(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_keeps_its_cause() {
        let e = KeySourceError::unavailable(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no socket",
        ));
        assert_eq!(e.to_string(), "key source unavailable: no socket");
        let cause = std::error::Error::source(&e).expect("a source");
        let io = cause
            .downcast_ref::<std::io::Error>()
            .expect("the io::Error itself");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }
}
