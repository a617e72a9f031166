//! TARGETINFO (512 bytes): names the enclave a REPORT is for.

use crate::attributes::{Attributes, MiscSelect};
use crate::bytes::{arr, put, u16_at, u32_at};
use crate::error::{check_len, LayoutError};
use crate::ids::ConfigId;
use crate::report::ReportBody;
use crate::secs::Secs;

/// Field offsets within TARGETINFO.
pub mod offsets {
    /// MEASUREMENT: the target's MRENCLAVE (32).
    pub const MEASUREMENT: usize = 0;
    /// ATTRIBUTES (16).
    pub const ATTRIBUTES: usize = 32;
    /// Reserved (2; newer SDMs: byte 48 is CET_ATTRIBUTES).
    pub const RESERVED1: usize = 48;
    /// CONFIGSVN (u16), KSS.
    pub const CONFIG_SVN: usize = 50;
    /// MISCSELECT (u32).
    pub const MISC_SELECT: usize = 52;
    /// Reserved (8).
    pub const RESERVED2: usize = 56;
    /// CONFIGID (64), KSS.
    pub const CONFIG_ID: usize = 64;
    /// Reserved (384).
    pub const RESERVED3: usize = 128;
}

/// The target of EREPORT. For a KSS target, CONFIGID and CONFIGSVN must be the target's, or its
/// report key (and so the MAC) will not match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetInfo {
    /// MRENCLAVE of the target.
    pub measurement: [u8; 32],
    /// ATTRIBUTES of the target.
    pub attributes: Attributes,
    /// Bytes 48..50, reserved.
    pub reserved1: [u8; 2],
    /// CONFIGSVN of the target (KSS).
    pub config_svn: u16,
    /// MISCSELECT of the target.
    pub misc_select: MiscSelect,
    /// Bytes 56..64, reserved.
    pub reserved2: [u8; 8],
    /// CONFIGID of the target (KSS).
    pub config_id: ConfigId,
    /// Bytes 128..512, reserved.
    pub reserved3: [u8; 384],
}

impl Default for TargetInfo {
    fn default() -> Self {
        Self {
            measurement: [0; 32],
            attributes: Attributes::default(),
            reserved1: [0; 2],
            config_svn: 0,
            misc_select: MiscSelect(0),
            reserved2: [0; 8],
            config_id: ConfigId::ZERO,
            reserved3: [0; 384],
        }
    }
}

impl TargetInfo {
    /// Encoded size.
    pub const SIZE: usize = 512;

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

    /// Parses exactly 512 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LayoutError> {
        use offsets::*;
        check_len("TARGETINFO", b, Self::SIZE)?;
        Ok(Self {
            measurement: arr(b, MEASUREMENT),
            attributes: Attributes::read(b, ATTRIBUTES),
            reserved1: arr(b, RESERVED1),
            config_svn: u16_at(b, CONFIG_SVN),
            misc_select: MiscSelect(u32_at(b, MISC_SELECT)),
            reserved2: arr(b, RESERVED2),
            config_id: ConfigId(arr(b, CONFIG_ID)),
            reserved3: arr(b, RESERVED3),
        })
    }

    /// Encodes to 512 bytes.
    pub fn to_bytes(&self) -> [u8; 512] {
        use offsets::*;
        let mut b = [0u8; 512];
        put(&mut b, MEASUREMENT, &self.measurement);
        self.attributes.write(&mut b, ATTRIBUTES);
        put(&mut b, RESERVED1, &self.reserved1);
        put(&mut b, CONFIG_SVN, &self.config_svn.to_le_bytes());
        put(&mut b, MISC_SELECT, &self.misc_select.0.to_le_bytes());
        put(&mut b, RESERVED2, &self.reserved2);
        put(&mut b, CONFIG_ID, &self.config_id.0);
        put(&mut b, RESERVED3, &self.reserved3);
        b
    }
}
