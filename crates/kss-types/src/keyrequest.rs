//! KEYREQUEST (512 bytes), key names and key policies for EGETKEY.

use crate::attributes::Attributes;
use crate::ids::CpuSvn;
use core::fmt;

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

/// KEYPOLICY bits: which identity values are mixed into a derived key. Reserved bits are kept
/// as they are (EGETKEY rejects them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyPolicy(pub u16);

bitflags::bitflags! {
    impl KeyPolicy: u16 {
        /// Bind to MRENCLAVE.
        const MRENCLAVE = 0x1;
        /// Bind to MRSIGNER.
        const MRSIGNER = 0x2;
        /// Do not bind to ISVPRODID (KSS): share keys across products of one signer.
        const NOISVPRODID = 0x4;
        /// Bind to CONFIGID and the requested CONFIGSVN (KSS).
        const CONFIGID = 0x8;
        /// Bind to ISVFAMILYID (KSS).
        const ISVFAMILYID = 0x10;
        /// Bind to ISVEXTPRODID (KSS).
        const ISVEXTPRODID = 0x20;
        const _ = !0;
    }
}

impl KeyPolicy {
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

    /// Union of two policies ([`KeyPolicy::union`]).
    pub const fn with(self, other: Self) -> Self {
        self.union(other)
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

crate::layout::layout! {
    /// The EGETKEY request.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct KeyRequest("KEYREQUEST", 512, mod offsets) {
        /// KEYNAME (raw; see [`KeyName`]).
        pub key_name: u16 => KEY_NAME,
        /// KEYPOLICY.
        pub key_policy: KeyPolicy => KEY_POLICY,
        /// ISVSVN to derive for (at most the enclave's).
        pub isv_svn: u16 => ISV_SVN,
        /// Bytes 6..8, reserved (must be zero).
        pub reserved1: u16 => RESERVED1,
        /// CPUSVN to derive for (at most the platform's).
        pub cpu_svn: CpuSvn => CPU_SVN,
        /// Which ATTRIBUTES bits are mixed in.
        pub attribute_mask: Attributes => ATTRIBUTE_MASK,
        /// KEYID (random per sealed blob).
        pub key_id: [u8; 32] => KEY_ID,
        /// Which MISCSELECT bits are mixed in.
        pub misc_mask: u32 => MISC_MASK,
        /// CONFIGSVN to derive for (KSS; at most the enclave's).
        pub config_svn: u16 => CONFIG_SVN,
        /// Bytes 78..512, reserved (must be zero).
        pub reserved2: [u8; 434] => RESERVED2,
    }
}

impl Default for KeyRequest {
    fn default() -> Self {
        Self::ZEROED
    }
}

impl KeyRequest {
    /// True if both reserved areas are zero.
    pub fn reserved_is_zero(&self) -> bool {
        self.reserved1 == 0 && self.reserved2.iter().all(|b| *b == 0)
    }
}

crate::layout::newtype_field!(KeyPolicy => u16);
