//! The simulated CPU: what it enumerates (CPUID leaf 0x12), its CPUSVN and its launch-enclave key
//! hash.

use kss_types::{xfrm, AttributeFlags, Attributes, CpuSvn};

/// The three CPUSVN values of the Intel SDK simulator (`docs/sgx-reference.md` §7.3), ordered from
/// oldest to newest TCB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum SimCpuSvn {
    /// An older TCB: keys for DEFAULT or UPGRADED cannot be derived.
    Downgraded,
    /// The normal simulated TCB.
    #[default]
    Default,
    /// A newer TCB: keys for every simulated CPUSVN can be derived.
    Upgraded,
}

impl SimCpuSvn {
    /// SDK-sim DEFAULT_CPUSVN.
    pub const DEFAULT_BYTES: [u8; 16] = [
        0x48, 0x20, 0xf3, 0x37, 0x6a, 0xe6, 0xb2, 0xf2, 0x03, 0x4d, 0x3b, 0x7a, 0x4b, 0x48, 0xa7,
        0x78,
    ];
    /// SDK-sim UPGRADED_CPUSVN.
    pub const UPGRADED_BYTES: [u8; 16] = [
        0x53, 0x39, 0xae, 0x8c, 0x93, 0xae, 0x8f, 0x3c, 0xe4, 0x32, 0xdb, 0x92, 0x4d, 0x0f, 0x07,
        0x33,
    ];
    /// SDK-sim DOWNGRADED_CPUSVN.
    pub const DOWNGRADED_BYTES: [u8; 16] = [
        0x64, 0xea, 0x4f, 0x3f, 0xa0, 0x03, 0x0c, 0x36, 0x38, 0x3c, 0x32, 0x2d, 0x4f, 0x3a, 0x8d,
        0x4f,
    ];

    /// The 16 CPUSVN bytes of this mode.
    pub const fn cpu_svn(self) -> CpuSvn {
        CpuSvn(match self {
            SimCpuSvn::Downgraded => Self::DOWNGRADED_BYTES,
            SimCpuSvn::Default => Self::DEFAULT_BYTES,
            SimCpuSvn::Upgraded => Self::UPGRADED_BYTES,
        })
    }

    /// The mode whose CPUSVN is `svn`, if any.
    pub fn from_cpu_svn(svn: &CpuSvn) -> Option<Self> {
        [Self::Downgraded, Self::Default, Self::Upgraded]
            .into_iter()
            .find(|m| m.cpu_svn() == *svn)
    }

    /// Lower-case name: `downgraded`, `default` or `upgraded`.
    pub const fn name(self) -> &'static str {
        match self {
            SimCpuSvn::Downgraded => "downgraded",
            SimCpuSvn::Default => "default",
            SimCpuSvn::Upgraded => "upgraded",
        }
    }

    /// Parses `downgraded`, `default` or `upgraded` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Downgraded, Self::Default, Self::Upgraded]
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl core::fmt::Display for SimCpuSvn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A CPUSVN mode name that is not `downgraded`, `default` or `upgraded`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown simulated CPUSVN '{0}' (expected downgraded, default or upgraded)")]
pub struct UnknownCpuSvnMode(pub String);

impl core::str::FromStr for SimCpuSvn {
    type Err = UnknownCpuSvnMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownCpuSvnMode(s.to_string()))
    }
}

/// The capabilities of the simulated CPU: the `CR_SGX_ATTRIBUTES_MASK` (CPUID.(12H,1)), the
/// supported MISCSELECT bits (CPUID.(12H,0).EBX), the maximum enclave size, the CPUSVN mode and
/// IA32_SGXLEPUBKEYHASH.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimCpu {
    /// ATTRIBUTES bits that ECREATE accepts (flags: CPUID.(12H,1).EAX/EBX; xfrm: ECX/EDX).
    pub attributes_mask: Attributes,
    /// MISCSELECT bits that ECREATE accepts.
    pub misc_select_mask: u32,
    /// log2 of the largest enclave SIZE (CPUID.(12H,0).EDX\[15:8\]).
    pub max_enclave_size_bits: u8,
    /// Which simulated CPUSVN the CPU has.
    pub cpu_svn: SimCpuSvn,
    /// IA32_SGXLEPUBKEYHASH: EINIT of an enclave with EINITTOKEN_KEY needs MRSIGNER equal to it.
    /// With flexible launch control the Linux kernel writes the enclave's own MRSIGNER here
    /// before EINIT; the simulator keeps a fixed value (default: all zeros) so the rule can trip.
    pub le_pubkey_hash: [u8; 32],
}

impl SimCpu {
    /// Flags a KSS-capable simulated CPU allows: DEBUG, MODE64BIT, PROVISIONKEY,
    /// EINITTOKEN_KEY, KSS and AEXNOTIFY.
    pub const FLAGS_WITH_KSS: AttributeFlags = AttributeFlags(
        AttributeFlags::DEBUG.0
            | AttributeFlags::MODE64BIT.0
            | AttributeFlags::PROVISION_KEY.0
            | AttributeFlags::EINITTOKEN_KEY.0
            | AttributeFlags::KSS.0
            | AttributeFlags::AEX_NOTIFY.0,
    );
    /// XFRM bits the simulated CPU allows: x87, SSE, AVX, AVX-512, PKRU and AMX.
    pub const XFRM_SUPPORTED: u64 =
        xfrm::LEGACY | xfrm::AVX | xfrm::AVX512 | xfrm::PKRU | xfrm::AMX;
    /// Default log2 of the largest enclave (2^47 bytes, like recent server parts).
    pub const DEFAULT_MAX_ENCLAVE_SIZE_BITS: u8 = 47;

    /// A CPU with KSS (the default).
    pub fn with_kss() -> Self {
        Self {
            attributes_mask: Attributes {
                flags: Self::FLAGS_WITH_KSS,
                xfrm: Self::XFRM_SUPPORTED,
            },
            misc_select_mask: 0x1,
            max_enclave_size_bits: Self::DEFAULT_MAX_ENCLAVE_SIZE_BITS,
            cpu_svn: SimCpuSvn::Default,
            le_pubkey_hash: [0; 32],
        }
    }

    /// A CPU without KSS: ECREATE of an enclave with ATTRIBUTES.KSS faults, as on such hardware.
    pub fn without_kss() -> Self {
        let mut cpu = Self::with_kss();
        cpu.attributes_mask.flags = cpu.attributes_mask.flags.without(AttributeFlags::KSS);
        cpu
    }

    /// This CPU with another CPUSVN mode.
    pub fn with_cpu_svn(mut self, mode: SimCpuSvn) -> Self {
        self.cpu_svn = mode;
        self
    }

    /// True if ATTRIBUTES.KSS may be set.
    pub fn supports_kss(&self) -> bool {
        self.attributes_mask.flags.contains(AttributeFlags::KSS)
    }
}

impl Default for SimCpu {
    fn default() -> Self {
        Self::with_kss()
    }
}

/// Bytes of the SSA GPR area (`ssa_gpr_t` in the SDK).
pub const SSA_GPR_SIZE: u64 = 184;
/// Bytes of the MISC area when MISCSELECT.EXINFO is set (EXINFO is 16 bytes).
pub const SSA_EXINFO_SIZE: u64 = 16;

/// Size of the standard-format XSAVE area for `xfrm`: the end of the highest enabled state
/// component (offsets of the non-compacted format from CPUID.(0DH,i) on current CPUs).
///
/// | component | bits | offset | size |
/// |---|---|---|---|
/// | x87 + SSE (legacy area + XSAVE header) | 0–1 | 0 | 576 |
/// | AVX (YMM_Hi128) | 2 | 576 | 256 |
/// | AVX-512 opmask, ZMM_Hi256, Hi16_ZMM | 5–7 | 1088 | 1600 |
/// | PKRU | 9 | 2688 | 8 |
/// | AMX TILECFG, TILEDATA | 17–18 | 2752 | 8256 |
pub fn xsave_size(xfrm: u64) -> u64 {
    const COMPONENTS: [(u64, u64); 7] = [
        (0x4, 576 + 256),
        (0x20, 1088 + 64),
        (0x40, 1152 + 512),
        (0x80, 1664 + 1024),
        (0x200, 2688 + 8),
        (0x20000, 2752 + 64),
        (0x40000, 2816 + 8192),
    ];
    COMPONENTS
        .iter()
        .filter(|(bit, _)| xfrm & bit != 0)
        .map(|(_, end)| *end)
        .fold(576, u64::max)
}

/// Bytes one SSA frame needs for `xfrm` and `misc_select`: XSAVE area + MISC + GPR.
pub fn ssa_frame_bytes_needed(xfrm: u64, misc_select: u32) -> u64 {
    let misc = if misc_select & 0x1 != 0 {
        SSA_EXINFO_SIZE
    } else {
        0
    };
    xsave_size(xfrm) + misc + SSA_GPR_SIZE
}

/// Why `xfrm` is not a legal XCR0 value, or `None` if it is (x87 and SSE set; AVX-512 needs
/// all three of its bits and AVX; AMX needs both of its bits).
pub fn xfrm_problem(xfrm: u64) -> Option<&'static str> {
    if xfrm & xfrm::LEGACY != xfrm::LEGACY {
        Some("x87 (0x1) and SSE (0x2) are mandatory")
    } else if xfrm & 0xE0 != 0 && (xfrm & 0xE0 != 0xE0 || xfrm & 0x4 == 0) {
        Some("AVX-512 needs bits 5, 6 and 7 together, with AVX (0x4)")
    } else if xfrm & xfrm::AMX != 0 && xfrm & xfrm::AMX != xfrm::AMX {
        Some("AMX needs bits 17 and 18 together")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xsave_sizes_match_the_sdk_ssa_frame_rule() {
        // SDK: SSA frame = ROUND_TO_PAGE(xsave + 184) / 4096 → 1 page for everything but AMX.
        assert_eq!(xsave_size(0x3), 576);
        assert_eq!(xsave_size(0x7), 832);
        assert_eq!(xsave_size(0xE7), 2688);
        assert_eq!(xsave_size(0x2E7), 2696);
        assert_eq!(xsave_size(0x602E7), 11008);
        assert_eq!(ssa_frame_bytes_needed(0x602E7, 0).div_ceil(4096), 3);
        assert_eq!(ssa_frame_bytes_needed(0xE7, 1).div_ceil(4096), 1);
    }

    #[test]
    fn cpusvn_modes_round_trip() {
        for m in [
            SimCpuSvn::Downgraded,
            SimCpuSvn::Default,
            SimCpuSvn::Upgraded,
        ] {
            assert_eq!(SimCpuSvn::from_cpu_svn(&m.cpu_svn()), Some(m));
            assert_eq!(SimCpuSvn::from_name(m.name()), Some(m));
        }
        assert_eq!(SimCpuSvn::from_cpu_svn(&CpuSvn([0; 16])), None);
        assert_eq!("Upgraded".parse::<SimCpuSvn>(), Ok(SimCpuSvn::Upgraded));
        assert!("newest"
            .parse::<SimCpuSvn>()
            .unwrap_err()
            .to_string()
            .contains("'newest'"));
        assert_eq!(
            hex::encode(SimCpuSvn::Default.cpu_svn().0),
            "4820f3376ae6b2f2034d3b7a4b48a778"
        );
    }

    #[test]
    fn xfrm_legality() {
        assert_eq!(xfrm_problem(0x3), None);
        assert_eq!(xfrm_problem(0xE7), None);
        assert!(xfrm_problem(0x1).is_some());
        assert!(xfrm_problem(0x23).is_some());
        assert!(xfrm_problem(0x20003).is_some());
    }
}
