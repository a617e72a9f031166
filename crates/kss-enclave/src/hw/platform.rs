//! Whether this machine can run enclaves in hardware mode: CPUID plus the driver's devices.

use super::cpuid::SgxCpuInfo;
use std::path::Path;

/// Device of the in-kernel driver: one enclave per open file.
pub const DEV_SGX_ENCLAVE: &str = "/dev/sgx_enclave";
/// Device that grants ATTRIBUTES.PROVISIONKEY (SGX_IOC_ENCLAVE_PROVISION).
pub const DEV_SGX_PROVISION: &str = "/dev/sgx_provision";

/// What this machine offers for SGX and KSS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// CPUID information (`None` on a non-x86_64 build).
    pub cpu: Option<SgxCpuInfo>,
    /// `/dev/sgx_enclave` exists.
    pub dev_sgx_enclave: bool,
    /// `/dev/sgx_provision` exists.
    pub dev_sgx_provision: bool,
}

impl Platform {
    /// Probes CPUID and the device nodes.
    pub fn detect() -> Self {
        Self {
            cpu: SgxCpuInfo::detect(),
            dev_sgx_enclave: Path::new(DEV_SGX_ENCLAVE).exists(),
            dev_sgx_provision: Path::new(DEV_SGX_PROVISION).exists(),
        }
    }

    /// Every reason hardware mode cannot work here, in plain language; empty if it can.
    pub fn hardware_mode_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match &self.cpu {
            None => problems.push("this build is not for x86_64, so there is no SGX".to_string()),
            Some(cpu) => {
                if !cpu.sgx {
                    problems.push(
                        "the CPU does not report SGX (CPUID.(7,0).EBX[2] = 0): no SGX, SGX \
                         disabled in the BIOS, or a VM without SGX passthrough"
                            .to_string(),
                    );
                } else {
                    if !cpu.sgx1 {
                        problems.push(
                            "the CPU reports SGX but not the SGX1 instructions (CPUID.(12H,0).EAX[0] = 0)"
                                .to_string(),
                        );
                    }
                    if !cpu.sgx_lc {
                        problems.push(
                            "no flexible launch control (CPUID.(7,0).ECX[30] = 0): the Linux \
                             in-kernel driver needs it"
                                .to_string(),
                        );
                    }
                }
            }
        }
        if !self.dev_sgx_enclave {
            problems.push(format!(
                "{DEV_SGX_ENCLAVE} does not exist: no in-kernel SGX driver (Linux 5.11+ with \
                 CONFIG_X86_SGX) or SGX is disabled"
            ));
        }
        problems
    }

    /// True if enclaves can be created through the driver.
    pub fn hardware_mode_available(&self) -> bool {
        self.hardware_mode_problems().is_empty()
    }

    /// True if the CPU lets enclaves set ATTRIBUTES.KSS.
    pub fn kss(&self) -> bool {
        self.cpu.is_some_and(|c| c.kss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sgx_platform_is_available() {
        let p = Platform {
            cpu: Some(SgxCpuInfo::sgx2_example(true)),
            dev_sgx_enclave: true,
            dev_sgx_provision: true,
        };
        assert!(p.hardware_mode_available());
        assert!(p.kss());
    }

    #[test]
    fn missing_device_and_sgx_are_both_named() {
        let p = Platform {
            cpu: Some(SgxCpuInfo::default()),
            dev_sgx_enclave: false,
            dev_sgx_provision: false,
        };
        let problems = p.hardware_mode_problems();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].contains("does not report SGX"));
        assert!(problems[1].contains("/dev/sgx_enclave"));
    }

    #[test]
    fn no_flc_is_named() {
        let mut cpu = SgxCpuInfo::sgx2_example(true);
        cpu.sgx_lc = false;
        let p = Platform {
            cpu: Some(cpu),
            dev_sgx_enclave: true,
            dev_sgx_provision: false,
        };
        assert_eq!(p.hardware_mode_problems().len(), 1);
        assert!(p.hardware_mode_problems()[0].contains("launch control"));
    }
}
