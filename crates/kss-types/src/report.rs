//! REPORT (432 bytes) and its 384-byte body, as produced by EREPORT and embedded in DCAP quotes.

use crate::attributes::{Attributes, MiscSelect};
use crate::ids::{ConfigId, CpuSvn, Id128};

crate::layout::layout! {
    /// The 384-byte REPORT body: the enclave identity that local and remote attestation carry.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct ReportBody("REPORT body", 384, mod offsets) {
        /// CPUSVN of the platform.
        pub cpu_svn: CpuSvn => CPU_SVN,
        /// MISCSELECT of the enclave.
        pub misc_select: MiscSelect => MISC_SELECT,
        /// Bytes 20..32, reserved (byte 20 is CET_ATTRIBUTES on newer CPUs).
        pub reserved1: [u8; 12] => RESERVED1,
        /// ISVEXTPRODID (KSS).
        pub isv_ext_prod_id: Id128 => ISV_EXT_PROD_ID,
        /// ATTRIBUTES of the enclave.
        pub attributes: Attributes => ATTRIBUTES,
        /// MRENCLAVE.
        pub mr_enclave: [u8; 32] => MR_ENCLAVE,
        /// Bytes 96..128, reserved.
        pub reserved2: [u8; 32] => RESERVED2,
        /// MRSIGNER.
        pub mr_signer: [u8; 32] => MR_SIGNER,
        /// Bytes 160..192, reserved.
        pub reserved3: [u8; 32] => RESERVED3,
        /// CONFIGID (KSS).
        pub config_id: ConfigId => CONFIG_ID,
        /// ISVPRODID.
        pub isv_prod_id: u16 => ISV_PROD_ID,
        /// ISVSVN.
        pub isv_svn: u16 => ISV_SVN,
        /// CONFIGSVN (KSS).
        pub config_svn: u16 => CONFIG_SVN,
        /// Bytes 262..304, reserved.
        pub reserved4: [u8; 42] => RESERVED4,
        /// ISVFAMILYID (KSS).
        pub isv_family_id: Id128 => ISV_FAMILY_ID,
        /// REPORTDATA chosen by the enclave.
        pub report_data: [u8; 64] => REPORT_DATA,
    }
}

impl Default for ReportBody {
    fn default() -> Self {
        Self::ZEROED
    }
}

crate::layout::layout! {
    /// The full 432-byte REPORT: body, KEYID and the CMAC over the body.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Report("REPORT", 432, mod report_offsets) {
        /// The report body (bytes 0..384; what the MAC covers).
        pub body: ReportBody => BODY,
        /// KEYID used to derive the report key.
        pub key_id: [u8; 32] => KEY_ID,
        /// AES-128-CMAC over the body with the target's report key.
        pub mac: [u8; 16] => MAC,
    }
}

impl Default for Report {
    fn default() -> Self {
        Self::ZEROED
    }
}
