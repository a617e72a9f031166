//! `kss detect`: what this machine's CPU and kernel offer for SGX and KSS, and whether
//! hardware mode can work here. Always exits 0: it is a report, not a check.

use crate::error::CliResult;
use crate::util::print_json;
use kss_enclave::hw::{HwProblem, Platform, DEV_SGX_ENCLAVE, DEV_SGX_PROVISION};
use std::process::ExitCode;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Print the report as one JSON object on stdout instead of text. Keys: sgx, sgx1, sgx2,
    /// flc, kss, max_enclave_size_bits, dev_sgx_enclave, dev_sgx_provision,
    /// hardware_mode_available, simulation_mode_available, notes (list of strings),
    /// conclusion.
    #[arg(long)]
    pub json: bool,
}

/// The findings, in the words the command prints.
struct Findings {
    hardware: bool,
    notes: Vec<String>,
    conclusion: String,
}

fn findings(p: &Platform) -> Findings {
    let problems = p.hardware_mode_problems();
    let hardware = problems.is_empty();
    let mut notes: Vec<String> = problems.iter().map(ToString::to_string).collect();
    if hardware && !p.kss() {
        notes.push(
            "the CPU has SGX but not KSS: enclaves with ATTRIBUTES.KSS, ISVFAMILYID/ISVEXTPRODID \
             or a launch configuration (CONFIGID/CONFIGSVN) can only run in simulation mode here"
                .to_string(),
        );
    }
    if hardware && !p.dev_sgx_provision {
        notes.push(format!(
            "{DEV_SGX_PROVISION} is missing: enclaves that need ATTRIBUTES.PROVISIONKEY (such as \
             a quoting enclave) cannot be created"
        ));
    }
    notes.push(
        "hardware mode creates and initializes enclaves only; reports, keys and running the \
         workload inside the enclave need an enclave runtime (see docs/hardware.md)"
            .to_string(),
    );
    let conclusion = if hardware {
        format!(
            "hardware mode available{}; simulation mode works too",
            if p.kss() { " with KSS" } else { " without KSS" }
        )
    } else {
        format!(
            "hardware mode unavailable: {}; simulation mode works",
            HwProblem::join(&problems)
        )
    };
    Findings {
        hardware,
        notes,
        conclusion,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn present(b: bool) -> &'static str {
    if b {
        "present"
    } else {
        "missing"
    }
}

/// `kss detect --json` (keys in this order).
#[derive(serde::Serialize)]
struct DetectJson<'a> {
    sgx: bool,
    sgx1: bool,
    sgx2: bool,
    flc: bool,
    kss: bool,
    max_enclave_size_bits: Option<u8>,
    dev_sgx_enclave: bool,
    dev_sgx_provision: bool,
    hardware_mode_available: bool,
    simulation_mode_available: bool,
    notes: &'a [String],
    conclusion: &'a str,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let p = Platform::detect();
    let f = findings(&p);
    let cpu = p.cpu.unwrap_or_default();
    let max_bits = (cpu.max_enclave_size_64_bits != 0).then_some(cpu.max_enclave_size_64_bits);
    if args.json {
        print_json(&DetectJson {
            sgx: cpu.sgx,
            sgx1: cpu.sgx1,
            sgx2: cpu.sgx2,
            flc: cpu.sgx_lc,
            kss: cpu.kss,
            max_enclave_size_bits: max_bits,
            dev_sgx_enclave: p.dev_sgx_enclave,
            dev_sgx_provision: p.dev_sgx_provision,
            hardware_mode_available: f.hardware,
            simulation_mode_available: true,
            notes: &f.notes,
            conclusion: &f.conclusion,
        });
    } else {
        println!("SGX        (CPUID.(7,0).EBX[2])     {}", yes_no(cpu.sgx));
        println!("SGX1       (CPUID.(12H,0).EAX[0])   {}", yes_no(cpu.sgx1));
        println!("SGX2/EDMM  (CPUID.(12H,0).EAX[1])   {}", yes_no(cpu.sgx2));
        println!("FLC        (CPUID.(7,0).ECX[30])    {}", yes_no(cpu.sgx_lc));
        println!("KSS        (CPUID.(12H,1).EAX[7])   {}", yes_no(cpu.kss));
        match max_bits {
            Some(bits) => println!("max enclave size (64-bit mode)      2^{bits} bytes"),
            None => println!("max enclave size (64-bit mode)      unknown"),
        }
        println!("{DEV_SGX_ENCLAVE:<36}{}", present(p.dev_sgx_enclave));
        println!("{DEV_SGX_PROVISION:<36}{}", present(p.dev_sgx_provision));
        println!();
        for note in &f.notes {
            println!("note: {note}");
        }
        println!("conclusion: {}", f.conclusion);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kss_enclave::hw::SgxCpuInfo;

    #[test]
    fn no_sgx_machine_concludes_simulation_only() {
        let p = Platform {
            cpu: Some(SgxCpuInfo::default()),
            dev_sgx_enclave: false,
            dev_sgx_provision: false,
        };
        let f = findings(&p);
        assert!(!f.hardware);
        assert!(f
            .conclusion
            .starts_with("hardware mode unavailable: the CPU does not report SGX"));
        assert!(f.conclusion.ends_with("; simulation mode works"));
    }

    #[test]
    fn sgx_without_kss_is_noted() {
        let p = Platform {
            cpu: Some(SgxCpuInfo::sgx2_example(false)),
            dev_sgx_enclave: true,
            dev_sgx_provision: true,
        };
        let f = findings(&p);
        assert!(f.hardware);
        assert_eq!(
            f.conclusion,
            "hardware mode available without KSS; simulation mode works too"
        );
        assert!(f.notes.iter().any(|n| n.contains("not KSS")));
    }

    #[test]
    fn full_platform_with_kss() {
        let p = Platform {
            cpu: Some(SgxCpuInfo::sgx2_example(true)),
            dev_sgx_enclave: true,
            dev_sgx_provision: false,
        };
        let f = findings(&p);
        assert_eq!(
            f.conclusion,
            "hardware mode available with KSS; simulation mode works too"
        );
        assert!(f.notes.iter().any(|n| n.contains("/dev/sgx_provision")));
    }
}
