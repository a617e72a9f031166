//! `kss`: Key Separation and Sharing for Intel SGX enclaves, end to end.
//!
//! This binary only parses arguments, prints and maps errors to exit statuses; the work is done by
//! the library crates (`kss-types`, `kss-sgxs`, `kss-sign`, `kss-instance`, `kss-enclave`,
//! `kss-attest`, `kss-seal`).

mod cmd;
mod error;
mod render;
mod util;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

const ABOUT: &str =
    "Build, sign, run, attest and seal Intel SGX enclaves with Key Separation and Sharing (KSS).";

const LONG_ABOUT: &str = "\
Build, sign, run, attest and seal Intel SGX enclaves with Key Separation and Sharing (KSS).

KSS adds four identity fields to SGX: ISVFAMILYID and ISVEXTPRODID (fixed when the enclave is
signed) and CONFIGID and CONFIGSVN (chosen by whoever launches it). They appear in every REPORT and
DCAP quote and can be mixed into sealing keys.

Typical flow (simulation, no SGX hardware needed):
  kss new myapp                      create an instance (Occlum.json + image/)
  kss build myapp                    measure and sign: build/enclave.sgxs, enclave.sig, Enclave.xml
  kss run myapp --config-id \"$(base64 cfg.bin)\" --config-svn 3 -- /bin/app
  kss quote inspect quote.bin        show every field of a DCAP quote
  kss verify quote.bin --collateral collateral.json --policy policy.json
  kss verify quote.bin --pccs https://pccs.example:8081   collateral fetched and cached

Exit status: 0 success, 1 rejected (invalid signature, failed verification), 2 bad input,
3 environment failure (I/O, no SGX). `kss run` exits with the workload's status.";

#[derive(Parser)]
#[command(name = "kss", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new instance directory: Occlum.json and image/.
    New(cmd::new::Args),
    /// Measure and sign an instance: build/enclave.sgxs, build/enclave.sig, build/Enclave.xml.
    Build(cmd::build::Args),
    /// Print the MRENCLAVE of an SGXS stream, validating it.
    Measure(cmd::measure::Args),
    /// Sign an enclave: write a SIGSTRUCT for an SGXS file or an enclave hash.
    Sign(cmd::sign::Args),
    /// Generate an RSA-3072 signing key with exponent 3.
    Keygen(cmd::keygen::Args),
    /// Show every field of a SIGSTRUCT or a sealed blob.
    #[command(subcommand)]
    Inspect(InspectWhat),
    Run(cmd::run::Args),
    /// Enclave operations for the workload (inside `kss run`): identity, report, key, quote, seal.
    #[command(subcommand)]
    Enclave(cmd::enclave::Command),
    /// Print the CONFIGID of an instance's app (CONFIGID-binding mode).
    ConfigId(cmd::config_id::Args),
    /// Report what this machine's CPU and kernel support for SGX and KSS.
    Detect(cmd::detect::Args),
    /// DCAP quotes: inspect.
    #[command(subcommand)]
    Quote(cmd::quote::Command),
    /// Verify a DCAP quote: signatures, PCK chain, CRLs, TCB info, QE identity, and a KSS policy.
    Verify(cmd::verify::Args),
    /// Run the HTTP attestation service: verify quotes, answer with EAR tokens (JWT, ES256).
    Serve(cmd::serve::Args),
    /// Attest a quote through a `kss serve` service.
    Attest(cmd::attest::Args),
    /// Attestation tokens: verify one against a JWKS, make a signing key.
    #[command(subcommand)]
    Token(cmd::token::Command),
    /// DCAP collateral from Intel PCS or a PCCS: fetch it into a file, list or clear the cache.
    #[command(subcommand)]
    Collateral(cmd::collateral::Command),
    /// Appraisal policies: starting policies from a SIGSTRUCT or an instance, converters.
    #[command(subcommand)]
    Policy(cmd::policy::Command),
    /// The simulation PCK CA: export its root and matching collateral.
    #[command(subcommand)]
    SimCa(cmd::sim_ca::Command),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::Args),
    /// Man pages: kss.1 on stdout, or every page (one per subcommand) into a directory.
    Man(cmd::man::Args),
}

#[derive(Subcommand)]
enum InspectWhat {
    /// Show every field of a SIGSTRUCT and check its signature.
    Sigstruct(cmd::inspect_sigstruct::Args),
    /// Show the metadata of a sealed blob (no secrets).
    Sealed(cmd::inspect_sealed::Args),
}

fn main() -> ExitCode {
    restore_sigpipe();
    let json = wants_json(std::env::args_os().skip(1));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => parse_error(e, json),
    };
    let result = match cli.command {
        Command::New(a) => cmd::new::run(a),
        Command::Build(a) => cmd::build::run(a),
        Command::Measure(a) => cmd::measure::run(a),
        Command::Sign(a) => cmd::sign::run(a),
        Command::Keygen(a) => cmd::keygen::run(a),
        Command::Inspect(InspectWhat::Sigstruct(a)) => cmd::inspect_sigstruct::run(a),
        Command::Inspect(InspectWhat::Sealed(a)) => cmd::inspect_sealed::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Enclave(c) => cmd::enclave::run(c),
        Command::ConfigId(a) => cmd::config_id::run(a),
        Command::Detect(a) => cmd::detect::run(a),
        Command::Quote(c) => cmd::quote::run(c),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Attest(a) => cmd::attest::run(a),
        Command::Token(c) => cmd::token::run(c),
        Command::Collateral(c) => cmd::collateral::run(c),
        Command::Policy(c) => cmd::policy::run(c),
        Command::SimCa(c) => cmd::sim_ca::run(c),
        Command::Completions(a) => cmd::completions::run(a),
        Command::Man(a) => cmd::man::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => e.report(json),
    }
}

/// An argument error (or `--help`/`--version`): clap prints it and exits 2 (0 for help). With
/// `--json` an error is also printed on stdout as the JSON error object, like any input error.
fn parse_error(e: clap::Error, json: bool) -> ! {
    use clap::error::ErrorKind;
    let informational = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if json && !informational {
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        util::print_json(&error::JsonError::new("input", message, None, None));
    }
    e.exit()
}

/// The clap definition of the whole command line, for completions and man pages.
pub(crate) fn cli_command() -> clap::Command {
    Cli::command()
}

/// Whether `--json` was given to kss itself (not to a workload after `--`), so that an error
/// is printed as JSON too.
fn wants_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    args.take_while(|a| a != "--").any(|a| a == "--json")
}

/// Rust ignores SIGPIPE, which turns `kss ... | head` into a panic on the next print. Restore
/// the default action so that a closed pipe ends the process quietly, like other Unix tools.
#[allow(unsafe_code)] // The one unsafe call of the CLI; see the SAFETY comment.
fn restore_sigpipe() {
    // SAFETY: signal(2) with SIG_DFL installs no handler code; it only resets the disposition
    // of SIGPIPE for this process, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
