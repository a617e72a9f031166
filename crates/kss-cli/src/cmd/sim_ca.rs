//! `kss sim-ca export DIR`: write the simulated PCK CA's trust anchor and fresh collateral so a
//! verifier can check simulated quotes (only when explicitly told to trust `root.pem`).

use crate::error::{CliError, CliResult};
use kss_sim_qe::{default_sim_ca_dir, SimQuotingEnclave};
use std::path::PathBuf;
use std::process::ExitCode;

const EXPORT_FILES: &str = "\
Files written into DIR (each atomically):
  root.pem                      the simulated root CA (for kss verify --trust-root)
  collateral.json               dcap-qvl QuoteCollateralV3 JSON (for kss verify --collateral)
and the same collateral as a directory of raw PCS files (kss verify --collateral DIR):
  tcb_info.json                 {\"tcbInfo\":{..},\"signature\":\"hex\"} (TCB info v3)
  tcb_info_issuer_chain.pem     TCB signing certificate, root
  qe_identity.json              {\"enclaveIdentity\":{..},\"signature\":\"hex\"} (QE identity v2)
  qe_identity_issuer_chain.pem  TCB signing certificate, root
  pck_crl.der                   CRL of the simulated PCK Platform CA
  pck_crl_issuer_chain.pem      PCK Platform CA, root
  root_ca_crl.der               CRL of the simulated root CA
  pck_chain.pem                 PCK certificate chain of simulated quotes

Example:
  kss sim-ca export sim-collateral
  kss verify quote.bin --collateral sim-collateral --trust-root sim-collateral/root.pem";

/// Simulated PCK CA subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    Export(ExportArgs),
}

/// Write the simulated CA's root certificate and collateral (valid for 30 days) into a directory.
///
/// The simulated CA is created on first use in $KSS_HOME/sim-ca (else
/// $XDG_DATA_HOME/kss/sim-ca, else ~/.local/share/kss/sim-ca). Nothing here is signed by
/// Intel: simulated quotes only verify against this root.
#[derive(clap::Args)]
#[command(after_help = EXPORT_FILES)]
pub struct ExportArgs {
    /// Output directory (created if missing; existing files of the same names are replaced).
    pub dir: PathBuf,
    /// Directory of the simulated CA to use instead of the per-user default.
    #[arg(long, value_name = "DIR")]
    pub sim_ca_dir: Option<PathBuf>,
    /// Issue date of the collateral: Unix seconds or RFC 3339 (as `kss verify --at`);
    /// default: now. The collateral is valid from this time for 30 days. (`--now` is the old
    /// name and still works.)
    #[arg(long = "at", alias = "now", value_name = "TIME")]
    pub now: Option<String>,
}

/// Runs the command.
pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Export(args) => export(args),
    }
}

fn export(args: ExportArgs) -> CliResult {
    let ca_dir = match args.sim_ca_dir {
        Some(d) => d,
        None => default_sim_ca_dir().ok_or_else(|| {
            CliError::environment(
                "no KSS_HOME, XDG_DATA_HOME or HOME: nowhere to keep the simulated CA",
            )
            .hint("set KSS_HOME or pass --sim-ca-dir")
        })?,
    };
    let now = match args.now {
        Some(t) => kss_attest::parse_time(&t, "--at")
            .map_err(|e| CliError::input(e.to_string()).input_name("--at"))?,
        None => kss_attest::now(),
    };
    if args.dir.exists() && !args.dir.is_dir() {
        return Err(CliError::input(format!(
            "output directory '{}' is an existing file, not a directory",
            args.dir.display()
        ))
        .input_name(args.dir.display().to_string()));
    }
    let qe = SimQuotingEnclave::load_or_create(&ca_dir)
        .map_err(|e| CliError::environment(e.to_string()))?;
    let exported = qe
        .export_collateral(&args.dir, now)
        .map_err(|e| CliError::environment(e.to_string()))?;
    for f in &exported.files {
        println!("wrote {}", f.display());
    }
    println!(
        "simulated CA: {} (trust root: {})",
        ca_dir.display(),
        args.dir.join("root.pem").display()
    );
    Ok(ExitCode::SUCCESS)
}
