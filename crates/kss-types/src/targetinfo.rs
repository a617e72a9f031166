//! TARGETINFO (512 bytes): names the enclave a REPORT is for.

use crate::attributes::{Attributes, MiscSelect};
use crate::ids::ConfigId;
use crate::report::ReportBody;
use crate::secs::Secs;

crate::layout::layout! {
    /// The target of EREPORT. For a KSS target, CONFIGID and CONFIGSVN must be the target's, or
    /// its report key (and so the MAC) will not match.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct TargetInfo("TARGETINFO", 512, mod offsets) {
        /// MRENCLAVE of the target.
        pub measurement: [u8; 32] => MEASUREMENT,
        /// ATTRIBUTES of the target.
        pub attributes: Attributes => ATTRIBUTES,
        /// Bytes 48..50, reserved (newer SDMs: byte 48 is CET_ATTRIBUTES).
        pub reserved1: [u8; 2] => RESERVED1,
        /// CONFIGSVN of the target (KSS).
        pub config_svn: u16 => CONFIG_SVN,
        /// MISCSELECT of the target.
        pub misc_select: MiscSelect => MISC_SELECT,
        /// Bytes 56..64, reserved.
        pub reserved2: [u8; 8] => RESERVED2,
        /// CONFIGID of the target (KSS).
        pub config_id: ConfigId => CONFIG_ID,
        /// Bytes 128..512, reserved.
        pub reserved3: [u8; 384] => RESERVED3,
    }
}

impl Default for TargetInfo {
    fn default() -> Self {
        Self::ZEROED
    }
}

impl TargetInfo {
    /// The TARGETINFO that names the enclave described by `body`, including its CONFIGID and
    /// CONFIGSVN (which Fortanix's `From<Report>` drops).
    pub fn for_report(body: &ReportBody) -> Self {
        Self {
            measurement: body.mr_enclave,
            attributes: body.attributes,
            config_svn: body.config_svn,
            misc_select: body.misc_select,
            config_id: body.config_id,
            ..Self::default()
        }
    }

    /// The TARGETINFO that names the enclave with this (initialized) SECS, CONFIGID and
    /// CONFIGSVN included, as the SDK's uRTS builds it.
    pub fn for_secs(secs: &Secs) -> Self {
        Self {
            measurement: secs.mr_enclave,
            attributes: secs.attributes,
            config_svn: secs.config_svn,
            misc_select: secs.misc_select,
            config_id: secs.config_id,
            ..Self::default()
        }
    }
}
