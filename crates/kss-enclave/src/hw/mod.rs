//! Hardware mode through the Linux in-kernel SGX driver (`/dev/sgx_enclave`, Linux 5.11+).
//!
//! [`HwBackend`] does ECREATE, EADD/EEXTEND and EINIT through the driver's ioctls, with
//! CONFIGID/CONFIGSVN in the SECS. Running code inside the enclave (EENTER through the vDSO,
//! and with it EREPORT and EGETKEY) needs an enclave runtime and is out of scope: the
//! [`crate::Enclave`] methods that model ENCLU instructions return
//! [`crate::SgxError::Unsupported`]. See `docs/hardware.md`.
//!
//! The only module of kss allowed to use `unsafe` (CPUID, mmap/munmap, ioctl); every block has
//! a `// SAFETY:` comment.
#![allow(unsafe_code)]

mod cpuid;
pub mod ioctl;
mod loader;
mod platform;

pub use cpuid::{CpuidRegs, SgxCpuInfo};
pub use loader::{HwBackend, HwBuilder, HwEnclave};
pub use platform::{HwProblem, Platform, DEV_SGX_ENCLAVE, DEV_SGX_PROVISION};

use std::io;

/// What makes an enclave need KSS ([`HwError::KssUnsupported`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KssNeed {
    /// Its SIGSTRUCT sets ATTRIBUTES.KSS.
    #[error("its SIGSTRUCT sets ATTRIBUTES.KSS")]
    Attribute,
    /// A non-zero launch configuration was given.
    #[error("a launch configuration was given (CONFIGSVN {config_svn}, CONFIGID {})", if *.config_id_zero { "zero" } else { "nonzero" })]
    LaunchConfig {
        /// The CONFIGSVN given.
        config_svn: u16,
        /// Whether the CONFIGID given is all zero.
        config_id_zero: bool,
    },
}

/// Why the hardware backend failed.
#[derive(Debug, thiserror::Error)]
pub enum HwError {
    /// The machine cannot run enclaves (no SGX, no FLC, no driver).
    #[error("hardware mode unavailable: {}", HwProblem::join(problems))]
    Unavailable {
        /// Every problem found.
        problems: Vec<HwProblem>,
    },
    /// The enclave needs KSS but the CPU does not enumerate it.
    #[error("the enclave needs KSS ({why}) but this CPU does not support KSS (CPUID.(12H,1).EAX[7] = 0); use simulation mode or a KSS-capable CPU (Ice Lake server or later)")]
    KssUnsupported {
        /// What in the enclave needs KSS.
        why: KssNeed,
    },
    /// The enclave asks for ATTRIBUTES the CPU cannot set.
    #[error("the enclave's ATTRIBUTES.flags {requested:#x} include bits {missing:#x} that this CPU does not allow (CPUID.(12H,1) allows {allowed:#x})")]
    AttributesUnsupported {
        /// Requested flags.
        requested: u64,
        /// Allowed flags.
        allowed: u64,
        /// Requested but not allowed.
        missing: u64,
    },
    /// Opening a device failed.
    #[error("cannot open {path}: {source}")]
    Open {
        /// Device path.
        path: &'static str,
        /// OS error.
        #[source]
        source: io::Error,
    },
    /// mmap of the enclave range failed.
    #[error("cannot reserve {size:#x} bytes of address space for the enclave: {source}")]
    Reserve {
        /// Bytes requested.
        size: u64,
        /// OS error.
        #[source]
        source: io::Error,
    },
    /// An ioctl failed.
    #[error("{ioctl} failed: {source}{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    Ioctl {
        /// ioctl name.
        ioctl: &'static str,
        /// OS error.
        #[source]
        source: io::Error,
        /// What that errno means for this ioctl.
        hint: Option<&'static str>,
    },
    /// The Linux driver measures a page completely or not at all.
    #[error("page at offset {offset:#x} is partially measured (EEXTENDed chunks {chunks:#06x}); the Linux driver only measures all 16 chunks of a page or none")]
    PartialMeasurement {
        /// Page offset.
        offset: u64,
        /// Bitmap of measured chunks.
        chunks: u16,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kss_need_reads_as_the_value_given() {
        let e = HwError::KssUnsupported {
            why: KssNeed::LaunchConfig {
                config_svn: 3,
                config_id_zero: false,
            },
        };
        assert!(
            e.to_string().starts_with(
                "the enclave needs KSS (a launch configuration was given (CONFIGSVN 3, CONFIGID \
                 nonzero)) but this CPU does not support KSS"
            ),
            "{e}"
        );
        assert_eq!(
            KssNeed::Attribute.to_string(),
            "its SIGSTRUCT sets ATTRIBUTES.KSS"
        );
    }
}
