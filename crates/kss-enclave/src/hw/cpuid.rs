//! SGX capabilities from CPUID (`docs/sgx-reference.md` §10).

/// One CPUID result: EAX, EBX, ECX, EDX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuidRegs {
    /// EAX.
    pub eax: u32,
    /// EBX.
    pub ebx: u32,
    /// ECX.
    pub ecx: u32,
    /// EDX.
    pub edx: u32,
}

/// What the CPU enumerates about SGX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SgxCpuInfo {
    /// The highest basic CPUID leaf (CPUID.0.EAX).
    pub max_leaf: u32,
    /// CPUID.(7,0).EBX\[2\]: SGX.
    pub sgx: bool,
    /// CPUID.(7,0).ECX\[30\]: SGX launch control (FLC); the Linux driver requires it.
    pub sgx_lc: bool,
    /// CPUID.(12H,0).EAX\[0\]: SGX1 instructions.
    pub sgx1: bool,
    /// CPUID.(12H,0).EAX\[1\]: SGX2 (EDMM) instructions.
    pub sgx2: bool,
    /// CPUID.(12H,1).EAX\[7\]: ATTRIBUTES.KSS may be set.
    pub kss: bool,
    /// CPUID.(12H,1).EAX\[10\]: ATTRIBUTES.AEXNOTIFY may be set.
    pub aex_notify: bool,
    /// CPUID.(12H,0).EBX: supported MISCSELECT bits.
    pub misc_select: u32,
    /// CPUID.(12H,1).EBX:EAX: ATTRIBUTES.flags bits that may be set.
    pub attributes_flags: u64,
    /// CPUID.(12H,1).EDX:ECX: ATTRIBUTES.XFRM bits that may be set.
    pub xfrm: u64,
    /// CPUID.(12H,0).EDX\[7:0\]: log2 of the maximum enclave size outside 64-bit mode.
    pub max_enclave_size_32_bits: u8,
    /// CPUID.(12H,0).EDX\[15:8\]: log2 of the maximum enclave size in 64-bit mode.
    pub max_enclave_size_64_bits: u8,
}

impl SgxCpuInfo {
    /// Decodes the registers. `leaf12_0` and `leaf12_1` are ignored (taken as zero) unless
    /// `max_leaf >= 0x12` and leaf 7 reports SGX, because leaf 0x12 is undefined otherwise.
    pub fn from_registers(
        max_leaf: u32,
        leaf7: CpuidRegs,
        leaf12_0: CpuidRegs,
        leaf12_1: CpuidRegs,
    ) -> Self {
        let leaf7 = if max_leaf >= 7 {
            leaf7
        } else {
            CpuidRegs::default()
        };
        let sgx = leaf7.ebx & (1 << 2) != 0;
        let (l0, l1) = if sgx && max_leaf >= 0x12 {
            (leaf12_0, leaf12_1)
        } else {
            (CpuidRegs::default(), CpuidRegs::default())
        };
        Self {
            max_leaf,
            sgx,
            sgx_lc: leaf7.ecx & (1 << 30) != 0,
            sgx1: l0.eax & 1 != 0,
            sgx2: l0.eax & 2 != 0,
            kss: l1.eax & (1 << 7) != 0,
            aex_notify: l1.eax & (1 << 10) != 0,
            misc_select: l0.ebx,
            attributes_flags: (u64::from(l1.ebx) << 32) | u64::from(l1.eax),
            xfrm: (u64::from(l1.edx) << 32) | u64::from(l1.ecx),
            max_enclave_size_32_bits: (l0.edx & 0xFF) as u8,
            max_enclave_size_64_bits: ((l0.edx >> 8) & 0xFF) as u8,
        }
    }

    /// An SGX2 CPU with Flexible Launch Control, decoded from typical register values: SGX and
    /// SGX_LC in leaf 7, SGX1+SGX2, MISCSELECT.EXINFO and 2^36/2^56-byte enclaves in leaf
    /// 0x12.0, ATTRIBUTES DEBUG, MODE64BIT, PROVISIONKEY, EINITTOKENKEY (and KSS when `kss`),
    /// XFRM x87+SSE in leaf 0x12.1. For tests and examples of code that consumes an
    /// [`SgxCpuInfo`] on machines without SGX.
    pub fn sgx2_example(kss: bool) -> Self {
        let regs = |eax, ebx, ecx, edx| CpuidRegs { eax, ebx, ecx, edx };
        Self::from_registers(
            0x1b,
            regs(0, 1 << 2, 1 << 30, 0),
            regs(0x3, 0x1, 0, 0x3824),
            regs(if kss { 0xB6 } else { 0x36 }, 0, 0x3, 0),
        )
    }

    /// Reads CPUID on this machine; `None` on non-x86_64 targets.
    pub fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            let max_leaf = cpuid(0, 0).eax;
            let leaf7 = if max_leaf >= 7 {
                cpuid(7, 0)
            } else {
                CpuidRegs::default()
            };
            let sgx = leaf7.ebx & (1 << 2) != 0;
            let (l0, l1) = if sgx && max_leaf >= 0x12 {
                (cpuid(0x12, 0), cpuid(0x12, 1))
            } else {
                (CpuidRegs::default(), CpuidRegs::default())
            };
            Some(Self::from_registers(max_leaf, leaf7, l0, l1))
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn cpuid(leaf: u32, subleaf: u32) -> CpuidRegs {
    // SAFETY: CPUID exists on every x86_64 CPU and only reads identification registers; callers
    // query leaves above 0 only after checking the maximum leaf (CPUID.0.EAX).
    #[allow(unused_unsafe)]
    let r = unsafe { core::arch::x86_64::__cpuid_count(leaf, subleaf) };
    CpuidRegs {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs(eax: u32, ebx: u32, ecx: u32, edx: u32) -> CpuidRegs {
        CpuidRegs { eax, ebx, ecx, edx }
    }

    #[test]
    fn decodes_an_icelake_server_like_cpu() {
        let info = SgxCpuInfo::from_registers(
            0x1b,
            regs(0, 0x4, 1 << 30, 0),
            regs(0x3, 0x1, 0, 0x3824),
            regs(0x4F6, 0, 0x2E7, 0),
        );
        assert!(info.sgx && info.sgx_lc && info.sgx1 && info.sgx2 && info.kss);
        assert!(info.aex_notify);
        assert_eq!(info.max_enclave_size_64_bits, 0x38);
        assert_eq!(info.max_enclave_size_32_bits, 0x24);
        assert_eq!(info.attributes_flags, 0x4F6);
        assert_eq!(info.xfrm, 0x2E7);
        assert_eq!(info.misc_select, 1);
    }

    #[test]
    fn the_example_cpu_is_sgx2_with_flc() {
        for kss in [false, true] {
            let info = SgxCpuInfo::sgx2_example(kss);
            assert!(info.sgx && info.sgx_lc && info.sgx1 && info.sgx2 && !info.aex_notify);
            assert_eq!(info.kss, kss);
            assert_eq!(info.attributes_flags, if kss { 0xB6 } else { 0x36 });
            assert_eq!((info.xfrm, info.misc_select), (0x3, 1));
            assert_eq!(
                (info.max_enclave_size_32_bits, info.max_enclave_size_64_bits),
                (0x24, 0x38)
            );
        }
    }

    #[test]
    fn leaf_0x12_is_ignored_without_sgx() {
        let info = SgxCpuInfo::from_registers(
            0x1b,
            regs(0, 0, 0, 0),
            regs(0x3, 1, 0, 0x3824),
            regs(0x80, 0, 0, 0),
        );
        assert!(!info.sgx && !info.sgx1 && !info.kss);
        assert_eq!(info.max_enclave_size_64_bits, 0);
    }

    #[test]
    fn leaf_7_is_ignored_when_max_leaf_is_low() {
        let info = SgxCpuInfo::from_registers(
            5,
            regs(0, 4, 1 << 30, 0),
            regs(3, 0, 0, 0),
            regs(0x80, 0, 0, 0),
        );
        assert!(!info.sgx && !info.sgx_lc && !info.kss);
    }

    #[test]
    fn kss_without_sgx2_is_reported_separately() {
        let info = SgxCpuInfo::from_registers(
            0x14,
            regs(0, 4, 0, 0),
            regs(0x1, 0, 0, 0x2424),
            regs(0x36, 0, 0x3, 0),
        );
        assert!(info.sgx1 && !info.sgx2 && !info.kss && !info.sgx_lc);
    }
}
