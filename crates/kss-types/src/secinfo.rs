//! SECINFO (64 bytes): page type and permissions of an EPC page.

/// EPC page types (SECINFO flags bits 15:8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PageType {
    /// SGX Enclave Control Structure.
    Secs = 0,
    /// Thread Control Structure.
    Tcs = 1,
    /// Regular page.
    Reg = 2,
    /// Version array.
    Va = 3,
    /// Page being trimmed.
    Trim = 4,
}

impl PageType {
    /// Decodes a page type byte.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Secs,
            1 => Self::Tcs,
            2 => Self::Reg,
            3 => Self::Va,
            4 => Self::Trim,
            _ => return None,
        })
    }
}

/// SECINFO.FLAGS: permission and EDMM-state bits, and the page type in bits 15:8 (see
/// [`SecinfoFlags::page_type`]). Other bits are kept as they are (EADD rejects them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SecinfoFlags(pub u64);

bitflags::bitflags! {
    impl SecinfoFlags: u64 {
        /// Readable.
        const R = 0x1;
        /// Writable.
        const W = 0x2;
        /// Executable.
        const X = 0x4;
        /// EDMM: page pending EACCEPT.
        const PENDING = 0x8;
        /// EDMM: page modified.
        const MODIFIED = 0x10;
        /// EDMM: permission restriction pending.
        const PR = 0x20;
        const _ = !0;
    }
}

impl SecinfoFlags {
    /// Mask of the permission bits.
    pub const RWX: Self = Self(0x7);
    /// Mask of the page-type byte (bits 15:8).
    pub const PAGE_TYPE: Self = Self(0xFF00);
    /// Bits defined by the architecture (permissions, EDMM state, page type).
    pub const DEFINED: Self = Self(0x3F | 0xFF00);

    /// A TCS page (flags 0x100, no permissions).
    pub const TCS: Self = Self::new(PageType::Tcs, Self::empty());
    /// A readable, writable regular page (0x203).
    pub const REG_RW: Self = Self::new(PageType::Reg, Self::R.union(Self::W));
    /// A readable, executable regular page (0x205).
    pub const REG_RX: Self = Self::new(PageType::Reg, Self::R.union(Self::X));
    /// A read-only regular page (0x201).
    pub const REG_R: Self = Self::new(PageType::Reg, Self::R);

    /// Flags for `page_type` with permission bits `perms` (only R/W/X are taken).
    pub const fn new(page_type: PageType, perms: Self) -> Self {
        Self(((page_type as u64) << 8) | perms.intersection(Self::RWX).0)
    }

    /// The page-type byte (bits 15:8), decoded if known.
    pub fn page_type(self) -> Option<PageType> {
        PageType::from_u8(((self.0 >> 8) & 0xFF) as u8)
    }

    /// The R/W/X bits.
    pub const fn permissions(self) -> Self {
        self.intersection(Self::RWX)
    }

    /// Why EADD (as the Linux driver checks it, `sgx_validate_secinfo`) refuses these flags, or
    /// `None` if it accepts them. Checked in this order: the page type is REG or TCS; no bit
    /// outside R/W/X and the page type is set (EDMM state bits included); a TCS page has no
    /// R/W/X bit (the CPU would clear them, so the measurement would not match); W comes with R.
    pub const fn eadd_problem(self) -> Option<EaddFlagsProblem> {
        let page_type = (self.0 >> 8) & 0xFF;
        let tcs = page_type == PageType::Tcs as u64;
        let problem = if page_type != PageType::Reg as u64 && !tcs {
            EaddFlagsProblem::PageType
        } else if !self.difference(Self::RWX.union(Self::PAGE_TYPE)).is_empty() {
            EaddFlagsProblem::ReservedBits
        } else if tcs && !self.permissions().is_empty() {
            EaddFlagsProblem::TcsPermissions
        } else if self.contains(Self::W) && !self.contains(Self::R) {
            EaddFlagsProblem::WriteWithoutRead
        } else {
            return None;
        };
        Some(problem)
    }
}

/// Why EADD refuses a SECINFO.FLAGS value (see [`SecinfoFlags::eadd_problem`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EaddFlagsProblem {
    /// The page type (bits 15:8) is not REG or TCS.
    PageType,
    /// A reserved or EDMM-state (PENDING/MODIFIED/PR) bit is set.
    ReservedBits,
    /// A TCS page has an R/W/X bit.
    TcsPermissions,
    /// W is set without R.
    WriteWithoutRead,
}

impl EaddFlagsProblem {
    /// The rule broken, as a sentence fragment.
    pub const fn rule(self) -> &'static str {
        match self {
            Self::PageType => "SECINFO page type must be REG (2) or TCS (1)",
            Self::ReservedBits => "SECINFO.FLAGS reserved and EDMM-state bits must be zero",
            Self::TcsPermissions => "a TCS page must have no R/W/X permission bits",
            Self::WriteWithoutRead => "a writable page must also be readable (W without R)",
        }
    }
}

crate::layout::layout! {
    /// SECINFO: `flags` u64 at +0, then 56 reserved bytes that must be zero.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Secinfo("SECINFO", 64, mod offsets) {
        /// Page type and permissions.
        pub flags: SecinfoFlags => FLAGS,
        /// Bytes 8..64, reserved (must be zero).
        pub reserved: [u8; 56] => RESERVED,
    }
}

impl Secinfo {
    /// A SECINFO with the given flags and zero reserved bytes.
    pub const fn new(flags: SecinfoFlags) -> Self {
        Self {
            flags,
            ..Self::ZEROED
        }
    }
}

crate::layout::newtype_field!(SecinfoFlags => u64);
