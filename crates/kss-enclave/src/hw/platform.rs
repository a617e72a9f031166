//! Whether this machine can run enclaves in hardware mode: CPUID plus the driver's devices.

use super::cpuid::SgxCpuInfo;
use std::path::Path;

/// Device of the in-kernel driver: one enclave per open file.
pub const DEV_SGX_ENCLAVE: &str = "/dev/sgx_enclave";
/// Device that grants ATTRIBUTES.PROVISIONKEY (SGX_IOC_ENCLAVE_PROVISION).
pub const DEV_SGX_PROVISION: &str = "/dev/sgx_provision";

/// A reason hardware mode cannot work on this machine (see
/// [`Platform::hardware_mode_problems`]), in plain language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HwProblem {
    /// kss was not built for x86_64.
    #[error("this build is not for x86_64, so there is no SGX")]
    NotX86_64,
    /// CPUID does not report SGX.
    #[error(
        "the CPU does not report SGX (CPUID.(7,0).EBX[2] = 0): no SGX, SGX disabled in the BIOS, \
         or a VM without SGX passthrough"
    )]
    NoSgx,
    /// CPUID reports SGX but not the SGX1 leaf functions.
    #[error("the CPU reports SGX but not the SGX1 instructions (CPUID.(12H,0).EAX[0] = 0)")]
    NoSgx1,
    /// No flexible launch control.
    #[error(
        "no flexible launch control (CPUID.(7,0).ECX[30] = 0): the Linux in-kernel driver needs it"
    )]
    NoFlc,
    /// The in-kernel driver's device is missing.
    #[error(
        "{DEV_SGX_ENCLAVE} does not exist: no in-kernel SGX driver (Linux 5.11+ with \
         CONFIG_X86_SGX) or SGX is disabled"
    )]
    NoDriver,
}

impl HwProblem {
    /// `problems` in one line, separated by `"; "`.
    pub fn join(problems: &[HwProblem]) -> String {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

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

    /// Every reason hardware mode cannot work here; empty if it can.
    pub fn hardware_mode_problems(&self) -> Vec<HwProblem> {
        let mut problems = Vec::new();
        match &self.cpu {
            None => problems.push(HwProblem::NotX86_64),
            Some(cpu) => {
                if !cpu.sgx {
                    problems.push(HwProblem::NoSgx);
                } else {
                    if !cpu.sgx1 {
                        problems.push(HwProblem::NoSgx1);
                    }
                    if !cpu.sgx_lc {
                        problems.push(HwProblem::NoFlc);
                    }
                }
            }
        }
        if !self.dev_sgx_enclave {
            problems.push(HwProblem::NoDriver);
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
        assert!(problems[0].to_string().contains("does not report SGX"));
        assert!(problems[1].to_string().contains("/dev/sgx_enclave"));
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
        assert!(p.hardware_mode_problems()[0]
            .to_string()
            .contains("launch control"));
    }

    /// Each problem's words, and the joined line the CLI and `HwError` print, byte for byte.
    #[test]
    fn problem_words() {
        let all = [
            HwProblem::NotX86_64,
            HwProblem::NoSgx,
            HwProblem::NoSgx1,
            HwProblem::NoFlc,
            HwProblem::NoDriver,
        ];
        assert_eq!(
            HwProblem::join(&all),
            "this build is not for x86_64, so there is no SGX; \
             the CPU does not report SGX (CPUID.(7,0).EBX[2] = 0): no SGX, SGX disabled in the \
             BIOS, or a VM without SGX passthrough; \
             the CPU reports SGX but not the SGX1 instructions (CPUID.(12H,0).EAX[0] = 0); \
             no flexible launch control (CPUID.(7,0).ECX[30] = 0): the Linux in-kernel driver \
             needs it; \
             /dev/sgx_enclave does not exist: no in-kernel SGX driver (Linux 5.11+ with \
             CONFIG_X86_SGX) or SGX is disabled"
        );
        let e = super::super::HwError::Unavailable {
            problems: vec![HwProblem::NoFlc],
        };
        assert_eq!(
            e.to_string(),
            "hardware mode unavailable: no flexible launch control (CPUID.(7,0).ECX[30] = 0): \
             the Linux in-kernel driver needs it"
        );
    }
}
