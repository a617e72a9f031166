//! SIGSTRUCT (1808 bytes): the enclave signature structure checked by EINIT.

use crate::attributes::{Attributes, MiscSelect};
use crate::bytes::{arr, put, u16_at, u32_at};
use crate::error::{check_len, LayoutError};
use crate::ids::Id128;

/// Field offsets within the SIGSTRUCT.
pub mod offsets {
    /// HEADER (16), signed.
    pub const HEADER: usize = 0;
    /// VENDOR (u32), signed.
    pub const VENDOR: usize = 16;
    /// DATE (u32, BCD yyyymmdd), signed.
    pub const DATE: usize = 20;
    /// HEADER2 (16), signed.
    pub const HEADER2: usize = 24;
    /// SWDEFINED (u32), signed.
    pub const SW_DEFINED: usize = 40;
    /// Reserved (84), signed.
    pub const RESERVED1: usize = 44;
    /// MODULUS (384, little-endian).
    pub const MODULUS: usize = 128;
    /// EXPONENT (u32).
    pub const EXPONENT: usize = 512;
    /// SIGNATURE (384, little-endian).
    pub const SIGNATURE: usize = 516;
    /// MISCSELECT (u32), signed.
    pub const MISC_SELECT: usize = 900;
    /// MISCMASK (u32), signed.
    pub const MISC_MASK: usize = 904;
    /// CET_ATTRIBUTES (u8), signed.
    pub const CET_ATTRIBUTES: usize = 908;
    /// CET_ATTRIBUTES_MASK (u8), signed.
    pub const CET_ATTRIBUTES_MASK: usize = 909;
    /// Reserved (2), signed.
    pub const RESERVED2: usize = 910;
    /// ISVFAMILYID (16), signed. KSS.
    pub const ISV_FAMILY_ID: usize = 912;
    /// ATTRIBUTES (16), signed.
    pub const ATTRIBUTES: usize = 928;
    /// ATTRIBUTEMASK (16), signed.
    pub const ATTRIBUTE_MASK: usize = 944;
    /// ENCLAVEHASH (32), signed.
    pub const ENCLAVE_HASH: usize = 960;
    /// Reserved (16), signed.
    pub const RESERVED3: usize = 992;
    /// ISVEXTPRODID (16), signed. KSS.
    pub const ISV_EXT_PROD_ID: usize = 1008;
    /// ISVPRODID (u16), signed.
    pub const ISV_PROD_ID: usize = 1024;
    /// ISVSVN (u16), signed.
    pub const ISV_SVN: usize = 1026;
    /// Reserved (12), not signed.
    pub const RESERVED4: usize = 1028;
    /// Q1 (384, little-endian).
    pub const Q1: usize = 1040;
    /// Q2 (384, little-endian).
    pub const Q2: usize = 1424;
    /// First signed range: `[0, 128)`.
    pub const SIGNED_HEADER: core::ops::Range<usize> = 0..128;
    /// Second signed range: `[900, 1028)`.
    pub const SIGNED_BODY: core::ops::Range<usize> = 900..1028;
}

/// Size of an RSA-3072 number.
pub const RSA_BYTES: usize = 384;

/// The enclave signature structure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sigstruct {
    /// HEADER; must be [`Sigstruct::HEADER`].
    pub header: [u8; 16],
    /// 0 for non-Intel enclaves, 0x8086 for Intel.
    pub vendor: u32,
    /// BCD date yyyymmdd, e.g. 0x20160109.
    pub date: u32,
    /// HEADER2; must be [`Sigstruct::HEADER2`].
    pub header2: [u8; 16],
    /// SWDEFINED (the SDK's `hw_version`).
    pub sw_defined: u32,
    /// Reserved, must be zero.
    pub reserved1: [u8; 84],
    /// RSA modulus, little-endian.
    pub modulus: [u8; RSA_BYTES],
    /// RSA public exponent; must be 3.
    pub exponent: u32,
    /// RSA signature, little-endian.
    pub signature: [u8; RSA_BYTES],
    /// Expected MISCSELECT.
    pub misc_select: MiscSelect,
    /// Mask applied to MISCSELECT before comparing.
    pub misc_mask: u32,
    /// CET attributes (keep 0).
    pub cet_attributes: u8,
    /// CET attributes mask (keep 0).
    pub cet_attributes_mask: u8,
    /// Reserved, must be zero.
    pub reserved2: [u8; 2],
    /// ISVFAMILYID (KSS).
    pub isv_family_id: Id128,
    /// Expected ATTRIBUTES.
    pub attributes: Attributes,
    /// Mask applied to ATTRIBUTES before comparing.
    pub attribute_mask: Attributes,
    /// Expected MRENCLAVE.
    pub enclave_hash: [u8; 32],
    /// Reserved, must be zero.
    pub reserved3: [u8; 16],
    /// ISVEXTPRODID (KSS).
    pub isv_ext_prod_id: Id128,
    /// ISVPRODID.
    pub isv_prod_id: u16,
    /// ISVSVN.
    pub isv_svn: u16,
    /// Reserved, must be zero.
    pub reserved4: [u8; 12],
    /// Q1 = floor(S² / N), little-endian.
    pub q1: [u8; RSA_BYTES],
    /// Q2 = floor((S³ − Q1·S·N) / N), little-endian.
    pub q2: [u8; RSA_BYTES],
}

impl Sigstruct {
    /// Encoded size.
    pub const SIZE: usize = 1808;
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
            vendor: 0,
            date: 0,
            header2: Self::HEADER2,
            sw_defined: 0,
            reserved1: [0; 84],
            modulus: [0; RSA_BYTES],
            exponent: 3,
            signature: [0; RSA_BYTES],
            misc_select: MiscSelect(0),
            misc_mask: 0,
            cet_attributes: 0,
            cet_attributes_mask: 0,
            reserved2: [0; 2],
            isv_family_id: Id128::ZERO,
            attributes: Attributes::default(),
            attribute_mask: Attributes::default(),
            enclave_hash: [0; 32],
            reserved3: [0; 16],
            isv_ext_prod_id: Id128::ZERO,
            isv_prod_id: 0,
            isv_svn: 0,
            reserved4: [0; 12],
            q1: [0; RSA_BYTES],
            q2: [0; RSA_BYTES],
        }
    }

    /// The 256 signed bytes: `SIGSTRUCT[0..128] || SIGSTRUCT[900..1028]`.
    pub fn signed_message(&self) -> [u8; 256] {
        let b = self.to_bytes();
        let mut m = [0u8; 256];
        m[..128].copy_from_slice(&b[offsets::SIGNED_HEADER]);
        m[128..].copy_from_slice(&b[offsets::SIGNED_BODY]);
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

    /// Parses exactly 1808 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LayoutError> {
        use offsets::*;
        check_len("SIGSTRUCT", b, Self::SIZE)?;
        Ok(Self {
            header: arr(b, HEADER),
            vendor: u32_at(b, VENDOR),
            date: u32_at(b, DATE),
            header2: arr(b, HEADER2),
            sw_defined: u32_at(b, SW_DEFINED),
            reserved1: arr(b, RESERVED1),
            modulus: arr(b, MODULUS),
            exponent: u32_at(b, EXPONENT),
            signature: arr(b, SIGNATURE),
            misc_select: MiscSelect(u32_at(b, MISC_SELECT)),
            misc_mask: u32_at(b, MISC_MASK),
            cet_attributes: b[CET_ATTRIBUTES],
            cet_attributes_mask: b[CET_ATTRIBUTES_MASK],
            reserved2: arr(b, RESERVED2),
            isv_family_id: Id128(arr(b, ISV_FAMILY_ID)),
            attributes: Attributes::read(b, ATTRIBUTES),
            attribute_mask: Attributes::read(b, ATTRIBUTE_MASK),
            enclave_hash: arr(b, ENCLAVE_HASH),
            reserved3: arr(b, RESERVED3),
            isv_ext_prod_id: Id128(arr(b, ISV_EXT_PROD_ID)),
            isv_prod_id: u16_at(b, ISV_PROD_ID),
            isv_svn: u16_at(b, ISV_SVN),
            reserved4: arr(b, RESERVED4),
            q1: arr(b, Q1),
            q2: arr(b, Q2),
        })
    }

    /// Encodes to 1808 bytes.
    pub fn to_bytes(&self) -> [u8; 1808] {
        use offsets::*;
        let mut b = [0u8; 1808];
        put(&mut b, HEADER, &self.header);
        put(&mut b, VENDOR, &self.vendor.to_le_bytes());
        put(&mut b, DATE, &self.date.to_le_bytes());
        put(&mut b, HEADER2, &self.header2);
        put(&mut b, SW_DEFINED, &self.sw_defined.to_le_bytes());
        put(&mut b, RESERVED1, &self.reserved1);
        put(&mut b, MODULUS, &self.modulus);
        put(&mut b, EXPONENT, &self.exponent.to_le_bytes());
        put(&mut b, SIGNATURE, &self.signature);
        put(&mut b, MISC_SELECT, &self.misc_select.0.to_le_bytes());
        put(&mut b, MISC_MASK, &self.misc_mask.to_le_bytes());
        b[CET_ATTRIBUTES] = self.cet_attributes;
        b[CET_ATTRIBUTES_MASK] = self.cet_attributes_mask;
        put(&mut b, RESERVED2, &self.reserved2);
        put(&mut b, ISV_FAMILY_ID, &self.isv_family_id.0);
        self.attributes.write(&mut b, ATTRIBUTES);
        self.attribute_mask.write(&mut b, ATTRIBUTE_MASK);
        put(&mut b, ENCLAVE_HASH, &self.enclave_hash);
        put(&mut b, RESERVED3, &self.reserved3);
        put(&mut b, ISV_EXT_PROD_ID, &self.isv_ext_prod_id.0);
        put(&mut b, ISV_PROD_ID, &self.isv_prod_id.to_le_bytes());
        put(&mut b, ISV_SVN, &self.isv_svn.to_le_bytes());
        put(&mut b, RESERVED4, &self.reserved4);
        put(&mut b, Q1, &self.q1);
        put(&mut b, Q2, &self.q2);
        b
    }
}
