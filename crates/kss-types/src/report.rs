//! REPORT (432 bytes) and its 384-byte body, as produced by EREPORT and embedded in DCAP quotes.

use crate::attributes::{Attributes, MiscSelect};
use crate::bytes::{arr, put, u16_at, u32_at};
use crate::error::{check_len, LayoutError};
use crate::ids::{ConfigId, CpuSvn, Id128};

/// Field offsets within the REPORT body (and the full REPORT).
pub mod offsets {
    /// CPUSVN (16).
    pub const CPU_SVN: usize = 0;
    /// MISCSELECT (u32).
    pub const MISC_SELECT: usize = 16;
    /// Reserved (12; byte 20 is CET_ATTRIBUTES on newer CPUs).
    pub const RESERVED1: usize = 20;
    /// ISVEXTPRODID (16), KSS.
    pub const ISV_EXT_PROD_ID: usize = 32;
    /// ATTRIBUTES (16).
    pub const ATTRIBUTES: usize = 48;
    /// MRENCLAVE (32).
    pub const MR_ENCLAVE: usize = 64;
    /// Reserved (32).
    pub const RESERVED2: usize = 96;
    /// MRSIGNER (32).
    pub const MR_SIGNER: usize = 128;
    /// Reserved (32).
    pub const RESERVED3: usize = 160;
    /// CONFIGID (64), KSS.
    pub const CONFIG_ID: usize = 192;
    /// ISVPRODID (u16).
    pub const ISV_PROD_ID: usize = 256;
    /// ISVSVN (u16).
    pub const ISV_SVN: usize = 258;
    /// CONFIGSVN (u16), KSS.
    pub const CONFIG_SVN: usize = 260;
    /// Reserved (42).
    pub const RESERVED4: usize = 262;
    /// ISVFAMILYID (16), KSS.
    pub const ISV_FAMILY_ID: usize = 304;
    /// REPORTDATA (64).
    pub const REPORT_DATA: usize = 320;
    /// KEYID (32), full REPORT only.
    pub const KEY_ID: usize = 384;
    /// MAC (16), full REPORT only.
    pub const MAC: usize = 416;
}

/// The 384-byte REPORT body: the enclave identity that local and remote attestation carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportBody {
    /// CPUSVN of the platform.
    pub cpu_svn: CpuSvn,
    /// MISCSELECT of the enclave.
    pub misc_select: MiscSelect,
    /// Bytes 20..32, reserved.
    pub reserved1: [u8; 12],
    /// ISVEXTPRODID (KSS).
    pub isv_ext_prod_id: Id128,
    /// ATTRIBUTES of the enclave.
    pub attributes: Attributes,
    /// MRENCLAVE.
    pub mr_enclave: [u8; 32],
    /// Bytes 96..128, reserved.
    pub reserved2: [u8; 32],
    /// MRSIGNER.
    pub mr_signer: [u8; 32],
    /// Bytes 160..192, reserved.
    pub reserved3: [u8; 32],
    /// CONFIGID (KSS).
    pub config_id: ConfigId,
    /// ISVPRODID.
    pub isv_prod_id: u16,
    /// ISVSVN.
    pub isv_svn: u16,
    /// CONFIGSVN (KSS).
    pub config_svn: u16,
    /// Bytes 262..304, reserved.
    pub reserved4: [u8; 42],
    /// ISVFAMILYID (KSS).
    pub isv_family_id: Id128,
    /// REPORTDATA chosen by the enclave.
    pub report_data: [u8; 64],
}

impl Default for ReportBody {
    fn default() -> Self {
        Self {
            cpu_svn: CpuSvn::default(),
            misc_select: MiscSelect(0),
            reserved1: [0; 12],
            isv_ext_prod_id: Id128::ZERO,
            attributes: Attributes::default(),
            mr_enclave: [0; 32],
            reserved2: [0; 32],
            mr_signer: [0; 32],
            reserved3: [0; 32],
            config_id: ConfigId::ZERO,
            isv_prod_id: 0,
            isv_svn: 0,
            config_svn: 0,
            reserved4: [0; 42],
            isv_family_id: Id128::ZERO,
            report_data: [0; 64],
        }
    }
}

impl ReportBody {
    /// Encoded size.
    pub const SIZE: usize = 384;

    /// Parses exactly 384 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LayoutError> {
        use offsets::*;
        check_len("REPORT body", b, Self::SIZE)?;
        Ok(Self {
            cpu_svn: CpuSvn(arr(b, CPU_SVN)),
            misc_select: MiscSelect(u32_at(b, MISC_SELECT)),
            reserved1: arr(b, RESERVED1),
            isv_ext_prod_id: Id128(arr(b, ISV_EXT_PROD_ID)),
            attributes: Attributes::read(b, ATTRIBUTES),
            mr_enclave: arr(b, MR_ENCLAVE),
            reserved2: arr(b, RESERVED2),
            mr_signer: arr(b, MR_SIGNER),
            reserved3: arr(b, RESERVED3),
            config_id: ConfigId(arr(b, CONFIG_ID)),
            isv_prod_id: u16_at(b, ISV_PROD_ID),
            isv_svn: u16_at(b, ISV_SVN),
            config_svn: u16_at(b, CONFIG_SVN),
            reserved4: arr(b, RESERVED4),
            isv_family_id: Id128(arr(b, ISV_FAMILY_ID)),
            report_data: arr(b, REPORT_DATA),
        })
    }

    /// Encodes to 384 bytes.
    pub fn to_bytes(&self) -> [u8; 384] {
        let mut b = [0u8; 384];
        self.write(&mut b);
        b
    }

    fn write(&self, b: &mut [u8]) {
        use offsets::*;
        put(b, CPU_SVN, &self.cpu_svn.0);
        put(b, MISC_SELECT, &self.misc_select.0.to_le_bytes());
        put(b, RESERVED1, &self.reserved1);
        put(b, ISV_EXT_PROD_ID, &self.isv_ext_prod_id.0);
        self.attributes.write(b, ATTRIBUTES);
        put(b, MR_ENCLAVE, &self.mr_enclave);
        put(b, RESERVED2, &self.reserved2);
        put(b, MR_SIGNER, &self.mr_signer);
        put(b, RESERVED3, &self.reserved3);
        put(b, CONFIG_ID, &self.config_id.0);
        put(b, ISV_PROD_ID, &self.isv_prod_id.to_le_bytes());
        put(b, ISV_SVN, &self.isv_svn.to_le_bytes());
        put(b, CONFIG_SVN, &self.config_svn.to_le_bytes());
        put(b, RESERVED4, &self.reserved4);
        put(b, ISV_FAMILY_ID, &self.isv_family_id.0);
        put(b, REPORT_DATA, &self.report_data);
    }
}

/// The full 432-byte REPORT: body, KEYID and the CMAC over the body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Report {
    /// The report body (bytes 0..384; what the MAC covers).
    pub body: ReportBody,
    /// KEYID used to derive the report key.
    pub key_id: [u8; 32],
    /// AES-128-CMAC over the body with the target's report key.
    pub mac: [u8; 16],
}

impl Report {
    /// Encoded size.
    pub const SIZE: usize = 432;

    /// Parses exactly 432 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LayoutError> {
        check_len("REPORT", b, Self::SIZE)?;
        Ok(Self {
            body: ReportBody::from_bytes(&b[..ReportBody::SIZE])?,
            key_id: arr(b, offsets::KEY_ID),
            mac: arr(b, offsets::MAC),
        })
    }

    /// Encodes to 432 bytes.
    pub fn to_bytes(&self) -> [u8; 432] {
        let mut b = [0u8; 432];
        self.body.write(&mut b[..ReportBody::SIZE]);
        put(&mut b, offsets::KEY_ID, &self.key_id);
        put(&mut b, offsets::MAC, &self.mac);
        b
    }
}
