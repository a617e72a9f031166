//! `kss policy ...`: write and convert appraisal policies for `kss verify --policy`.

use crate::error::{CliError, CliResult};
use crate::util::{print_json, read_file, read_text};
use kss_attest::policy::convert::{from_intel, from_trustee};
use kss_attest::policy::Policy;
use kss_types::Sigstruct;
use std::path::PathBuf;
use std::process::ExitCode;

/// Policy subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Print a starting policy (JSON, stdout) for the enclave a SIGSTRUCT signs: mr_enclave,
    /// mr_signer, isv_prod_id, min_isv_svn, and isv_family_id / isv_ext_prod_id when the KSS
    /// attribute is set; allow_debug false; accepted_tcb_statuses ["UpToDate"].
    FromSigstruct(FromSigstructArgs),
    /// Print a starting policy (JSON, stdout) for a built instance directory (from its
    /// build/enclave.sig, plus CONFIGID when the instance binds it).
    FromInstance(super::policy_instance::FromInstanceArgs),
    /// Convert another tool's appraisal policy to a kss policy (JSON, stdout).
    Convert(ConvertArgs),
    /// Check a kss policy file and print it normalized (all byte strings as stored-order hex).
    Check(CheckArgs),
}

/// Arguments of `kss policy from-sigstruct`.
#[derive(clap::Args)]
pub struct FromSigstructArgs {
    /// The SIGSTRUCT file (1808 bytes, e.g. build/enclave.sig).
    pub sigstruct: PathBuf,
}

/// Source formats for `kss policy convert`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum From {
    /// Intel DCAP Quote Appraisal (QAL) enclave policy: a `policy_array` whose SGX enclave
    /// entry has `reference` keys sgx_mrenclave, sgx_mrsigner, sgx_isvprodid, sgx_isvsvn_min,
    /// sgx_isvfamilyid, sgx_isvextprodid, sgx_configid, sgx_configsvn_min (16- and 64-byte IDs
    /// written as reversed hex, most significant byte first), plus platform entries with
    /// accepted_tcb_status.
    Intel,
    /// Trustee-style SGX claims: `sgx.body.*` keys in raw quote byte order (config_svn as
    /// little-endian hex), e.g. {"sgx.body.mr_enclave": "..", "sgx.body.config_svn": "0300"}.
    Trustee,
}

/// Target formats for `kss policy convert`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum To {
    /// kss policy JSON (docs/policy.md).
    Kss,
}

/// Arguments of `kss policy convert`.
#[derive(clap::Args)]
pub struct ConvertArgs {
    /// Format of the input policy.
    #[arg(long, value_enum)]
    pub from: From,
    /// Output format (only kss).
    #[arg(long, value_enum, default_value = "kss")]
    pub to: To,
    /// The input policy file (JSON).
    pub input: PathBuf,
}

/// Arguments of `kss policy check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The kss policy file (JSON).
    pub policy: PathBuf,
}

/// Runs the command.
pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::FromInstance(a) => return super::policy_instance::run(a),
        Command::FromSigstruct(a) => {
            let bytes = read_file(&a.sigstruct, "SIGSTRUCT", kss_io::limits::SIGSTRUCT)?;
            let sig = Sigstruct::from_bytes(&bytes).map_err(|e| {
                CliError::input(format!("SIGSTRUCT '{}': {e}", a.sigstruct.display()))
                    .input_name(a.sigstruct.display().to_string())
            })?;
            print_json(&Policy::from_sigstruct(&sig).to_json());
        }
        Command::Convert(a) => {
            let text = read_text(&a.input, "policy", kss_io::limits::POLICY)?;
            let name = a.input.display().to_string();
            let policy = match a.from {
                From::Intel => from_intel(&text, &name),
                From::Trustee => from_trustee(&text, &name),
            }
            .map_err(|e| CliError::input(e.to_string()).input_name(&name))?;
            match a.to {
                To::Kss => print_json(&policy.to_json()),
            }
        }
        Command::Check(a) => {
            let text = read_text(&a.policy, "policy", kss_io::limits::POLICY)?;
            let name = a.policy.display().to_string();
            let policy = Policy::from_json(&text, &name)
                .map_err(|e| CliError::input(e.to_string()).input_name(&name))?;
            print_json(&policy.to_json());
        }
    }
    Ok(ExitCode::SUCCESS)
}
