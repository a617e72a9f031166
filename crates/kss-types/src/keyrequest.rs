//! KEYREQUEST (512 bytes), key names and key policies for EGETKEY.

use crate::attributes::Attributes;
use crate::bytes::{arr, put, u16_at, u32_at};
use crate::error::{check_len, LayoutError};
use crate::ids::CpuSvn;
use core::fmt;

/// Field offsets within KEYREQUEST.
pub mod offsets {
    /// KEYNAME (u16).
    pub const KEY_NAME: usize = 0;
    /// KEYPOLICY (u16).
    pub const KEY_POLICY: usize = 2;
    /// ISVSVN (u16).
    pub const ISV_SVN: usize = 4;
    /// Reserved (2), must be zero.
    pub const RESERVED1: usize = 6;
    /// CPUSVN (16).
    pub const CPU_SVN: usize = 8;
    /// ATTRIBUTEMASK (16).
    pub const ATTRIBUTE_MASK: usize = 24;
    /// KEYID (32).
    pub const KEY_ID: usize = 40;
    /// MISCMASK (u32).
    pub const MISC_MASK: usize = 72;
    /// CONFIGSVN (u16), KSS.
    pub const CONFIG_SVN: usize = 76;
    /// Reserved (434), must be zero.
    pub const RESERVED2: usize = 78;
}

/// EGETKEY key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum KeyName {
    /// Launch (EINITTOKEN) key.
    EinitToken = 0,
    /// Provisioning key.
    Provision = 1,
    /// Provisioning seal key.
    ProvisionSeal = 2,
    /// Report key.
    Report = 3,
    /// Seal key.
    Seal = 4,
}

impl KeyName {
    /// Decodes a KEYNAME value.
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            0 => Self::EinitToken,
            1 => Self::Provision,
            2 => Self::ProvisionSeal,
            3 => Self::Report,
            4 => Self::Seal,
            _ => return None,
        })
    }
}

/// KEYPOLICY bits: which identity values are mixed into a derived key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyPolicy(pub u16);

impl KeyPolicy {
    /// Bind to MRENCLAVE.
    pub const MRENCLAVE: Self = Self(0x1);
    /// Bind to MRSIGNER.
    pub const MRSIGNER: Self = Self(0x2);
    /// Do not bind to ISVPRODID (KSS): share keys across products of one signer.
    pub const NOISVPRODID: Self = Self(0x4);
    /// Bind to CONFIGID and the requested CONFIGSVN (KSS).
    pub const CONFIGID: Self = Self(0x8);
    /// Bind to ISVFAMILYID (KSS).
    pub const ISVFAMILYID: Self = Self(0x10);
    /// Bind to ISVEXTPRODID (KSS).
    pub const ISVEXTPRODID: Self = Self(0x20);
    /// Every defined bit; bits 6..16 are reserved.
    pub const ALL: Self = Self(0x3F);
    /// The bits that need ATTRIBUTES.KSS (0x3C).
    pub const KSS_BITS: Self = Self(0x3C);

    /// Policy bits and their names, as used on the command line.
    pub const NAMES: &'static [(Self, &'static str)] = &[
        (Self::MRENCLAVE, "mrenclave"),
        (Self::MRSIGNER, "mrsigner"),
        (Self::NOISVPRODID, "noisvprodid"),
        (Self::CONFIGID, "configid"),
        (Self::ISVFAMILYID, "isvfamilyid"),
        (Self::ISVEXTPRODID, "isvextprodid"),
    ];

    /// True if every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any bit of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Union of two policies.
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Bits outside [`KeyPolicy::ALL`].
    pub const fn reserved_bits(self) -> u16 {
        self.0 & !Self::ALL.0
    }

    /// Parses a comma-separated list of names such as `mrsigner,configid` (case-insensitive,
    /// spaces around names ignored). An empty list is the empty policy.
    pub fn parse_list(list: &str) -> Result<Self, UnknownPolicyName<'_>> {
        let mut policy = Self(0);
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let bit = Self::NAMES
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name))
                .map(|(b, _)| *b)
                .ok_or(UnknownPolicyName(name))?;
            policy = policy.with(bit);
        }
        Ok(policy)
    }
}

impl fmt::Display for KeyPolicy {
    /// Writes the comma-separated names (`mrsigner,configid`), plus `0x..` for reserved bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (bit, name) in Self::NAMES {
            if self.contains(*bit) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        let reserved = self.reserved_bits();
        if reserved != 0 {
            if !first {
                f.write_str(",")?;
            }
            write!(f, "{reserved:#x}")?;
        }
        Ok(())
    }
}

/// A policy name that is not one of [`KeyPolicy::NAMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownPolicyName<'a>(pub &'a str);

impl fmt::Display for UnknownPolicyName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown key policy name '{}' (expected mrenclave, mrsigner, noisvprodid, configid, isvfamilyid or isvextprodid)",
            self.0
        )
    }
}

/// The EGETKEY request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRequest {
    /// KEYNAME (raw; see [`KeyName`]).
    pub key_name: u16,
    /// KEYPOLICY.
    pub key_policy: KeyPolicy,
    /// ISVSVN to derive for (at most the enclave's).
    pub isv_svn: u16,
    /// Bytes 6..8, reserved.
    pub reserved1: u16,
    /// CPUSVN to derive for (at most the platform's).
    pub cpu_svn: CpuSvn,
    /// Which ATTRIBUTES bits are mixed in.
    pub attribute_mask: Attributes,
    /// KEYID (random per sealed blob).
    pub key_id: [u8; 32],
    /// Which MISCSELECT bits are mixed in.
    pub misc_mask: u32,
    /// CONFIGSVN to derive for (KSS; at most the enclave's).
    pub config_svn: u16,
    /// Bytes 78..512, reserved.
    pub reserved2: [u8; 434],
}

impl Default for KeyRequest {
    fn default() -> Self {
        Self {
            key_name: 0,
            key_policy: KeyPolicy(0),
            isv_svn: 0,
            reserved1: 0,
            cpu_svn: CpuSvn::default(),
            attribute_mask: Attributes::default(),
            key_id: [0; 32],
            misc_mask: 0,
            config_svn: 0,
            reserved2: [0; 434],
        }
    }
}

impl KeyRequest {
    /// Encoded size.
    pub const SIZE: usize = 512;

    /// True if both reserved areas are zero.
    pub fn reserved_is_zero(&self) -> bool {
        self.reserved1 == 0 && self.reserved2.iter().all(|b| *b == 0)
    }

    /// Parses exactly 512 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, LayoutError> {
        use offsets::*;
        check_len("KEYREQUEST", b, Self::SIZE)?;
        Ok(Self {
            key_name: u16_at(b, KEY_NAME),
            key_policy: KeyPolicy(u16_at(b, KEY_POLICY)),
            isv_svn: u16_at(b, ISV_SVN),
            reserved1: u16_at(b, RESERVED1),
            cpu_svn: CpuSvn(arr(b, CPU_SVN)),
            attribute_mask: Attributes::read(b, ATTRIBUTE_MASK),
            key_id: arr(b, KEY_ID),
            misc_mask: u32_at(b, MISC_MASK),
            config_svn: u16_at(b, CONFIG_SVN),
            reserved2: arr(b, RESERVED2),
        })
    }

    /// Encodes to 512 bytes.
    pub fn to_bytes(&self) -> [u8; 512] {
        use offsets::*;
        let mut b = [0u8; 512];
        put(&mut b, KEY_NAME, &self.key_name.to_le_bytes());
        put(&mut b, KEY_POLICY, &self.key_policy.0.to_le_bytes());
        put(&mut b, ISV_SVN, &self.isv_svn.to_le_bytes());
        put(&mut b, RESERVED1, &self.reserved1.to_le_bytes());
        put(&mut b, CPU_SVN, &self.cpu_svn.0);
        self.attribute_mask.write(&mut b, ATTRIBUTE_MASK);
        put(&mut b, KEY_ID, &self.key_id);
        put(&mut b, MISC_MASK, &self.misc_mask.to_le_bytes());
        put(&mut b, CONFIG_SVN, &self.config_svn.to_le_bytes());
        put(&mut b, RESERVED2, &self.reserved2);
        b
    }
}
