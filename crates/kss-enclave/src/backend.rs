//! The backend-neutral interface: [`Backend`] builds enclaves, [`Enclave`] is a running one.

use crate::error::{KeyError, SgxError};
use crate::loader::LoadError;
use kss_types::{
    Attributes, KeyRequest, KssConfig, MiscSelect, Report, SecinfoFlags, Secs, Sigstruct,
    TargetInfo,
};
use std::fmt;
use zeroize::Zeroizing;

/// An initialized enclave, shareable between threads (`Arc<dyn Enclave>`).
///
/// `report`, `verify_report` and `get_key` model ENCLU instructions executed *inside* the
/// enclave. The simulator answers them; the hardware backend cannot without an enclave runtime
/// and returns [`SgxError::Unsupported`].
pub trait Enclave: Send + Sync + fmt::Debug {
    /// `"sim"` or `"hw"`.
    fn backend_name(&self) -> &'static str;

    /// The SECS after EINIT: MRENCLAVE, MRSIGNER, ATTRIBUTES (INIT set), ISVPRODID, ISVSVN,
    /// CONFIGID, CONFIGSVN, ISVFAMILYID and ISVEXTPRODID.
    fn secs(&self) -> &Secs;

    /// The TARGETINFO that names this enclave (with its CONFIGID and CONFIGSVN), for another
    /// enclave's EREPORT.
    fn target_info(&self) -> TargetInfo {
        TargetInfo::for_secs(self.secs())
    }

    /// EREPORT: a REPORT of this enclave with `report_data`, MACed for `target`.
    fn report(&self, target: &TargetInfo, report_data: &[u8; 64]) -> Result<Report, SgxError>;

    /// Local attestation: `Ok` if `report` was made on this platform for this enclave as the
    /// target (its MAC verifies under this enclave's REPORT key).
    fn verify_report(&self, report: &Report) -> Result<(), SgxError>;

    /// EGETKEY: derives the key `request` names, under the enclave's identity.
    fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeyError>;
}

/// What the launcher chooses for a new enclave before ECREATE. BASEADDR is chosen by the
/// backend (the simulator uses a fixed aligned address, the hardware backend reserves one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnclaveParams {
    /// SECS.SIZE: a power of two ≥ 8192 (from the SGXS ECREATE record).
    pub size: u64,
    /// SECS.SSAFRAMESIZE in pages (from the SGXS ECREATE record).
    pub ssa_frame_size: u32,
    /// SECS.ATTRIBUTES (INIT clear).
    pub attributes: Attributes,
    /// SECS.MISCSELECT.
    pub misc_select: MiscSelect,
    /// SECS.CONFIGID and SECS.CONFIGSVN (KSS).
    pub kss: KssConfig,
}

impl EnclaveParams {
    /// Parameters the way the Intel SDK loader derives them: ATTRIBUTES and MISCSELECT from the
    /// SIGSTRUCT (INIT cleared), size and SSA frame size from the SGXS ECREATE record, and the
    /// launch-time KSS configuration.
    pub fn from_sigstruct(size: u64, ssa_frame_size: u32, sig: &Sigstruct, kss: KssConfig) -> Self {
        let mut attributes = sig.attributes;
        attributes.flags = attributes.flags.without(kss_types::AttributeFlags::INIT);
        Self {
            size,
            ssa_frame_size,
            attributes,
            misc_select: sig.misc_select,
            kss,
        }
    }

    /// The SECS these parameters describe, at `base_addr`; every other field zero.
    pub fn secs(&self, base_addr: u64) -> Secs {
        Secs {
            size: self.size,
            base_addr,
            ssa_frame_size: self.ssa_frame_size,
            misc_select: self.misc_select,
            attributes: self.attributes,
            config_id: self.kss.config_id,
            config_svn: self.kss.config_svn,
            ..Secs::default()
        }
    }
}

/// One page to add: EADD, then EEXTEND of the chunks in `measured_chunks`, in ascending order.
#[derive(Debug, Clone, Copy)]
pub struct PageSpec<'a> {
    /// Offset of the page from BASEADDR (4 KiB-aligned).
    pub offset: u64,
    /// SECINFO flags (page type and permissions).
    pub secinfo: SecinfoFlags,
    /// Page content; `None` means all zeros.
    pub data: Option<&'a [u8; 4096]>,
    /// Bit `i` set: the 256-byte chunk `i` is EEXTENDed. `0xFFFF` = fully measured.
    pub measured_chunks: u16,
}

/// Builds enclaves: ECREATE in [`Backend::create`], EADD/EEXTEND in
/// [`EnclaveBuilder::add_page`], EINIT in [`EnclaveBuilder::init`].
pub trait Backend {
    /// The enclave under construction.
    type Builder: EnclaveBuilder;

    /// `"sim"` or `"hw"`.
    fn name(&self) -> &'static str;

    /// ECREATE with `params` (plus a backend-chosen BASEADDR).
    fn create(&self, params: &EnclaveParams) -> Result<Self::Builder, LoadError>;
}

/// An enclave between ECREATE and EINIT.
pub trait EnclaveBuilder {
    /// The initialized enclave.
    type Enclave: Enclave + 'static;

    /// EADD of one page and EEXTEND of its measured chunks.
    fn add_page(&mut self, page: &PageSpec<'_>) -> Result<(), LoadError>;

    /// EINIT with `sig`.
    fn init(self, sig: &Sigstruct) -> Result<Self::Enclave, LoadError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_from_sigstruct_take_attributes_and_clear_init() {
        let mut sig = Sigstruct::unsigned();
        sig.attributes = Attributes::new(0x87, 0xE7);
        sig.misc_select = MiscSelect(1);
        let kss = KssConfig {
            config_svn: 4,
            ..KssConfig::default()
        };
        let p = EnclaveParams::from_sigstruct(0x4000, 2, &sig, kss);
        assert_eq!(p.attributes, Attributes::new(0x86, 0xE7));
        let secs = p.secs(0x8000);
        assert_eq!(
            (secs.size, secs.base_addr, secs.ssa_frame_size),
            (0x4000, 0x8000, 2)
        );
        assert_eq!(secs.misc_select, MiscSelect(1));
        assert_eq!(secs.config_svn, 4);
        assert!(secs.reserved_is_zero());
    }
}
