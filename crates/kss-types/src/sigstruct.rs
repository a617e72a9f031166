//! SIGSTRUCT (1808 bytes): the enclave signature structure checked by EINIT.

use crate::attributes::{Attributes, MiscSelect};
use crate::ids::Id128;

/// Size of an RSA-3072 number.
pub const RSA_BYTES: usize = 384;

crate::layout::layout! {
    /// The enclave signature structure.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Sigstruct("SIGSTRUCT", 1808, mod offsets) {
        /// HEADER; must be [`Sigstruct::HEADER`]. Signed.
        pub header: [u8; 16] => HEADER,
        /// 0 for non-Intel enclaves, 0x8086 for Intel. Signed.
        pub vendor: u32 => VENDOR,
        /// BCD date yyyymmdd, e.g. 0x20160109. Signed.
        pub date: u32 => DATE,
        /// HEADER2; must be [`Sigstruct::HEADER2`]. Signed.
        pub header2: [u8; 16] => HEADER2,
        /// SWDEFINED (the SDK's `hw_version`). Signed.
        pub sw_defined: u32 => SW_DEFINED,
        /// Reserved, must be zero. Signed.
        pub reserved1: [u8; 84] => RESERVED1,
        /// RSA modulus, little-endian.
        pub modulus: [u8; RSA_BYTES] => MODULUS,
        /// RSA public exponent; must be 3.
        pub exponent: u32 => EXPONENT,
        /// RSA signature, little-endian.
        pub signature: [u8; RSA_BYTES] => SIGNATURE,
        /// Expected MISCSELECT. Signed.
        pub misc_select: MiscSelect => MISC_SELECT,
        /// Mask applied to MISCSELECT before comparing. Signed.
        pub misc_mask: u32 => MISC_MASK,
        /// CET attributes (keep 0). Signed.
        pub cet_attributes: u8 => CET_ATTRIBUTES,
        /// CET attributes mask (keep 0). Signed.
        pub cet_attributes_mask: u8 => CET_ATTRIBUTES_MASK,
        /// Reserved, must be zero. Signed.
        pub reserved2: [u8; 2] => RESERVED2,
        /// ISVFAMILYID (KSS). Signed.
        pub isv_family_id: Id128 => ISV_FAMILY_ID,
        /// Expected ATTRIBUTES. Signed.
        pub attributes: Attributes => ATTRIBUTES,
        /// Mask applied to ATTRIBUTES before comparing. Signed.
        pub attribute_mask: Attributes => ATTRIBUTE_MASK,
        /// Expected MRENCLAVE. Signed.
        pub enclave_hash: [u8; 32] => ENCLAVE_HASH,
        /// Reserved, must be zero. Signed.
        pub reserved3: [u8; 16] => RESERVED3,
        /// ISVEXTPRODID (KSS). Signed.
        pub isv_ext_prod_id: Id128 => ISV_EXT_PROD_ID,
        /// ISVPRODID. Signed.
        pub isv_prod_id: u16 => ISV_PROD_ID,
        /// ISVSVN. Signed.
        pub isv_svn: u16 => ISV_SVN,
        /// Reserved, must be zero. Not signed.
        pub reserved4: [u8; 12] => RESERVED4,
        /// Q1 = floor(S² / N), little-endian.
        pub q1: [u8; RSA_BYTES] => Q1,
        /// Q2 = floor((S³ − Q1·S·N) / N), little-endian.
        pub q2: [u8; RSA_BYTES] => Q2,
    }
}

/// First signed range: `[0, 128)`, HEADER up to MODULUS.
pub const SIGNED_HEADER: core::ops::Range<usize> = offsets::HEADER..offsets::MODULUS;
/// Second signed range: `[900, 1028)`, MISCSELECT up to the last reserved field.
pub const SIGNED_BODY: core::ops::Range<usize> = offsets::MISC_SELECT..offsets::RESERVED4;

impl Sigstruct {
    /// The fixed HEADER bytes.
    pub const HEADER: [u8; 16] = [6, 0, 0, 0, 0xE1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
    /// The fixed HEADER2 bytes.
    pub const HEADER2: [u8; 16] = [1, 1, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 1, 0, 0, 0];
    /// VENDOR value of Intel-signed enclaves.
    pub const VENDOR_INTEL: u32 = 0x8086;

    /// An unsigned SIGSTRUCT with the fixed headers, exponent 3 and every other field zero.
    pub fn unsigned() -> Self {
        Self {
            header: Self::HEADER,
            header2: Self::HEADER2,
            exponent: 3,
            ..Self::ZEROED
        }
    }

    /// The 256 signed bytes: `SIGSTRUCT[0..128] || SIGSTRUCT[900..1028]`.
    pub fn signed_message(&self) -> [u8; 256] {
        let b = self.to_bytes();
        let mut m = [0u8; 256];
        m[..128].copy_from_slice(&b[SIGNED_HEADER]);
        m[128..].copy_from_slice(&b[SIGNED_BODY]);
        m
    }

    /// Names the first structural problem EINIT would reject with SGX_INVALID_SIG_STRUCT:
    /// wrong headers, vendor, exponent, or non-zero reserved bytes. `None` if well-formed.
    pub fn structure_problem(&self) -> Option<&'static str> {
        if self.header != Self::HEADER {
            Some("HEADER is not 06000000E100000000000100 00000000")
        } else if self.header2 != Self::HEADER2 {
            Some("HEADER2 is not 01010000600000006000000001000000")
        } else if self.vendor != 0 && self.vendor != Self::VENDOR_INTEL {
            Some("VENDOR must be 0 or 0x8086")
        } else if self.exponent != 3 {
            Some("EXPONENT must be 3")
        } else if self.reserved1 != [0; 84]
            || self.reserved2 != [0; 2]
            || self.reserved3 != [0; 16]
            || self.reserved4 != [0; 12]
        {
            Some("a reserved field is not zero")
        } else {
            None
        }
    }
}
