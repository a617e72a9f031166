//! ATTRIBUTES (16 bytes) and MISCSELECT (u32).

use core::fmt;

/// The `flags` half of ATTRIBUTES. Bits without a name are kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct AttributeFlags(pub u64);

bitflags::bitflags! {
    impl AttributeFlags: u64 {
        /// Set by EINIT; must be 0 at ECREATE.
        const INIT = 0x1;
        /// Debug enclave: its memory can be read by the host.
        const DEBUG = 0x2;
        /// 64-bit enclave.
        const MODE64BIT = 0x4;
        /// May request the provisioning key.
        const PROVISION_KEY = 0x10;
        /// May request the EINITTOKEN key (launch enclave only).
        const EINITTOKEN_KEY = 0x20;
        /// CET enabled.
        const CET = 0x40;
        /// Key Separation and Sharing: enables CONFIGID/CONFIGSVN, ISVFAMILYID/ISVEXTPRODID and
        /// the KSS key policies.
        const KSS = 0x80;
        /// AEX-Notify.
        const AEX_NOTIFY = 0x400;
        const _ = !0;
    }
}

impl AttributeFlags {
    /// Bits the Intel SDK sign tool leaves out of ATTRIBUTEMASK ("non-check bits").
    pub const SDK_NON_CHECK: Self = Self(0x00FF_0000_0000_0000);

    /// Named flags and their names as the SDK spells them, in bit order.
    pub const NAMES: &'static [(Self, &'static str)] = &[
        (Self::INIT, "INIT"),
        (Self::DEBUG, "DEBUG"),
        (Self::MODE64BIT, "MODE64BIT"),
        (Self::PROVISION_KEY, "PROVISIONKEY"),
        (Self::EINITTOKEN_KEY, "EINITTOKENKEY"),
        (Self::CET, "CET"),
        (Self::KSS, "KSS"),
        (Self::AEX_NOTIFY, "AEXNOTIFY"),
    ];

    /// `self` with the bits of `other` set ([`AttributeFlags::union`]).
    pub const fn with(self, other: Self) -> Self {
        self.union(other)
    }

    /// `self` with the bits of `other` cleared ([`AttributeFlags::difference`]).
    pub const fn without(self, other: Self) -> Self {
        self.difference(other)
    }
}

impl fmt::Display for AttributeFlags {
    /// Writes `0x87 (INIT|DEBUG|MODE64BIT|KSS)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)?;
        let mut first = true;
        let mut known = 0u64;
        for (flag, name) in Self::NAMES {
            known |= flag.0;
            if self.contains(*flag) {
                f.write_str(if first { " (" } else { "|" })?;
                f.write_str(name)?;
                first = false;
            }
        }
        let unknown = self.0 & !known;
        if unknown != 0 {
            f.write_str(if first { " (" } else { "|" })?;
            write!(f, "{unknown:#x}")?;
            first = false;
        }
        if !first {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// XFRM bit constants.
pub mod xfrm {
    /// x87 state (mandatory).
    pub const X87: u64 = 0x1;
    /// SSE state (mandatory).
    pub const SSE: u64 = 0x2;
    /// x87 | SSE, the minimum legal XFRM.
    pub const LEGACY: u64 = 0x3;
    /// AVX (with legacy).
    pub const AVX: u64 = 0x6;
    /// AVX-512 (with AVX and legacy).
    pub const AVX512: u64 = 0xE6;
    /// Protection keys.
    pub const PKRU: u64 = 0x200;
    /// AMX tile state.
    pub const AMX: u64 = 0x60000;
}

crate::layout::layout! {
    /// SGX ATTRIBUTES: `flags` u64 at +0, `xfrm` u64 at +8.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Attributes("ATTRIBUTES", 16, mod offsets) {
        /// Enclave attribute flags.
        pub flags: AttributeFlags => FLAGS,
        /// Extended features request mask (XCR0 bits).
        pub xfrm: u64 => XFRM,
    }
}

impl Attributes {
    /// Builds attributes from raw values.
    pub const fn new(flags: u64, xfrm: u64) -> Self {
        Self {
            flags: AttributeFlags(flags),
            xfrm,
        }
    }

    /// Bitwise AND over both halves (attributes & mask).
    pub const fn masked(self, mask: Attributes) -> Attributes {
        Attributes {
            flags: AttributeFlags(self.flags.0 & mask.flags.0),
            xfrm: self.xfrm & mask.xfrm,
        }
    }
}

/// MISCSELECT: which extra state the CPU saves in the SSA on an exit. Bits without a name are
/// kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MiscSelect(pub u32);

bitflags::bitflags! {
    impl MiscSelect: u32 {
        /// Report page-fault and #GP information in the SSA.
        const EXINFO = 0x1;
        const _ = !0;
    }
}

crate::layout::newtype_field!(AttributeFlags => u64, MiscSelect => u32);
