//! `kss enclave ...`: the in-workload client of the enclave service (run inside `kss run`).

use crate::cmd::inspect_sealed::sealed_error;
use crate::error::{CliError, CliResult};
use crate::util::{parse_num, print_json, read_file, write_atomic};
use kss_attest::render::{ByteOrder, ReportBodyView};
use kss_seal::SealOptions;
use kss_service::{Client, ClientError};
use kss_types::{Attributes, CpuSvn, KeyName, KeyPolicy, KeyRequest, Report, TargetInfo};
use std::path::PathBuf;
use std::process::ExitCode;

/// Enclave operations for the workload. They talk to the enclave service that `kss run` starts
/// (socket in KSS_ENCLAVE_SOCKET); outside `kss run` they fail with a clear error.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Print the enclave's own identity (its REPORT body): MRENCLAVE, MRSIGNER, KSS fields.
    Identity(IdentityArgs),
    /// Write this enclave's TARGETINFO (512 bytes), for another enclave's report.
    TargetInfo(OutArgs),
    /// Write a REPORT (432 bytes) of this enclave, MACed for a target (default: itself).
    Report(ReportArgs),
    /// Check that a REPORT was made on this platform for this enclave (local attestation).
    VerifyReport(VerifyReportArgs),
    /// Derive a key with EGETKEY and print it as hex.
    Key(KeyArgs),
    /// Write a DCAP quote (v3) of this enclave, with optional REPORTDATA.
    Quote(QuoteArgs),
    /// Seal a file (Intel SDK sgx_sealed_data_t format) with a KSS-aware key policy.
    Seal(SealArgs),
    /// Unseal a sealed file.
    Unseal(UnsealArgs),
    /// Unseal and seal again with this enclave's current CONFIGSVN/ISVSVN (and a new policy):
    /// the migration path after an upgrade.
    Reseal(ResealArgs),
}

/// `--out FILE`.
#[derive(clap::Args)]
pub struct OutArgs {
    /// Output file (written atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Title of `kss enclave identity`'s text output (the body follows in the format of every
/// report body, [`ReportBodyView::text`]).
const IDENTITY_TITLE: &str = "Enclave identity (this enclave's REPORT body):";

/// Arguments of `identity`.
#[derive(clap::Args)]
pub struct IdentityArgs {
    /// Print JSON (same keys as `kss quote inspect --json` report bodies).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// TARGETINFO file of the enclave that will verify the report (default: this enclave).
    #[arg(long, value_name = "FILE")]
    pub target_info: Option<PathBuf>,
    /// REPORTDATA as hex, up to 64 bytes (zero-padded).
    #[arg(long, value_name = "HEX")]
    pub report_data: Option<String>,
    /// Output file (432 bytes).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `verify-report`.
#[derive(clap::Args)]
pub struct VerifyReportArgs {
    /// REPORT file (432 bytes).
    pub file: PathBuf,
}

/// Arguments of `key`.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// Key name: seal or report.
    #[arg(long, value_parser = ["seal", "report"])]
    pub name: String,
    /// KEYPOLICY as a comma-separated list of mrenclave, mrsigner, noisvprodid, configid,
    /// isvfamilyid, isvextprodid (seal default: the SDK's sgx_seal_data default, mrsigner, plus
    /// configid,isvfamilyid,isvextprodid on KSS enclaves).
    #[arg(long, value_name = "LIST")]
    pub policy: Option<String>,
    /// ISVSVN to derive for (default: the enclave's). Must not exceed the enclave's.
    #[arg(long, value_name = "N")]
    pub isv_svn: Option<String>,
    /// CONFIGSVN to derive for (default: the enclave's). Must not exceed the enclave's.
    #[arg(long, value_name = "N")]
    pub config_svn: Option<String>,
    /// CPUSVN as 32 hex digits (default: the platform's).
    #[arg(long, value_name = "HEX")]
    pub cpu_svn: Option<String>,
    /// KEYID as up to 64 hex digits (default: zeros).
    #[arg(long, value_name = "HEX")]
    pub key_id: Option<String>,
    /// ATTRIBUTEMASK as FLAGS/XFRM (default 0xFF0000000000000B/0, the SDK's seal default).
    #[arg(long, value_name = "FLAGS/XFRM")]
    pub attribute_mask: Option<String>,
    /// MISCMASK (default 0xF0000000, the SDK's seal default).
    #[arg(long, value_name = "N")]
    pub misc_mask: Option<String>,
}

/// Arguments of `quote`.
#[derive(clap::Args)]
pub struct QuoteArgs {
    /// REPORTDATA as hex, up to 64 bytes (zero-padded).
    #[arg(long, value_name = "HEX")]
    pub report_data: Option<String>,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `seal`.
#[derive(clap::Args)]
pub struct SealArgs {
    /// Key policy: a preset (enclave, signer, config, family, product) or a list such as
    /// mrsigner,configid. Default: the SDK's (mrsigner; plus configid,isvfamilyid,isvextprodid on
    /// KSS enclaves).
    #[arg(long, value_name = "LIST|PRESET")]
    pub policy: Option<String>,
    /// Additional authenticated data, stored in clear and MACed.
    #[arg(long, value_name = "FILE")]
    pub aad: Option<PathBuf>,
    /// Plaintext file.
    pub input: PathBuf,
    /// Sealed output file (written atomically and durably).
    pub output: PathBuf,
}

/// Arguments of `unseal`.
#[derive(clap::Args)]
pub struct UnsealArgs {
    /// Sealed file.
    pub input: PathBuf,
    /// Plaintext output file.
    pub output: PathBuf,
    /// Write the additional authenticated data here.
    #[arg(long, value_name = "FILE")]
    pub aad_out: Option<PathBuf>,
}

/// Arguments of `reseal`.
#[derive(clap::Args)]
pub struct ResealArgs {
    /// Key policy for the new blob (default: the old blob's).
    #[arg(long, value_name = "LIST|PRESET")]
    pub policy: Option<String>,
    /// Sealed input file.
    pub input: PathBuf,
    /// Sealed output file (may be the input: replaced atomically).
    pub output: PathBuf,
}

fn client() -> Result<Client, CliError> {
    Client::from_env().map_err(client_err)
}

fn client_err(e: ClientError) -> CliError {
    match e {
        ClientError::NotInEnclave | ClientError::Connect { .. } => {
            CliError::environment(e.to_string())
        }
        ClientError::Enclave { .. } => CliError::rejected(format!("the enclave refused: {e}")),
        other => CliError::environment(other.to_string()),
    }
}

fn report_data(text: Option<&str>) -> Result<[u8; 64], CliError> {
    let mut out = [0u8; 64];
    if let Some(t) = text {
        let t = t.trim();
        let t = t.strip_prefix("0x").unwrap_or(t);
        let b = hex::decode(t).map_err(|e| {
            CliError::input(format!("--report-data: '{t}' is not hex ({e})"))
                .input_name("--report-data")
        })?;
        if b.len() > 64 {
            return Err(CliError::input(format!(
                "--report-data: {} bytes; REPORTDATA holds at most 64",
                b.len()
            ))
            .input_name("--report-data"));
        }
        out[..b.len()].copy_from_slice(&b);
    }
    Ok(out)
}

fn in_file(path: &std::path::Path, mut e: CliError) -> CliError {
    e.message = format!("{}: {}", path.display(), e.message);
    e.input_name(path.display().to_string())
}

fn seal_policy(text: Option<&str>) -> Result<Option<KeyPolicy>, CliError> {
    match text {
        None => Ok(None),
        Some(t) => kss_seal::parse_policy(t)
            .map_err(|e| CliError::input(format!("--policy: {e}")).input_name("--policy")),
    }
}

/// Runs the command.
pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Identity(a) => {
            let body = client()?.identity().map_err(client_err)?;
            let view = ReportBodyView::new(&body, ByteOrder::Stored);
            if a.json {
                print_json(&view.to_json());
            } else {
                print!("{}", view.text(IDENTITY_TITLE));
            }
        }
        Command::TargetInfo(a) => {
            let t = client()?.target_info().map_err(client_err)?;
            write_atomic(&a.out, &t.to_bytes())?;
        }
        Command::Report(a) => {
            let c = client()?;
            let target = match &a.target_info {
                Some(p) => {
                    TargetInfo::from_bytes(&read_file(p, "TARGETINFO", kss_io::limits::SGX_STRUCT)?)
                        .map_err(|e| {
                            CliError::input(format!("{}: {e}", p.display()))
                                .input_name(p.display().to_string())
                        })?
                }
                None => c.target_info().map_err(client_err)?,
            };
            let r = c
                .report(&target, &report_data(a.report_data.as_deref())?)
                .map_err(client_err)?;
            write_atomic(&a.out, &r.to_bytes())?;
        }
        Command::VerifyReport(a) => {
            let r = Report::from_bytes(&read_file(&a.file, "REPORT", kss_io::limits::SGX_STRUCT)?)
                .map_err(|e| {
                    CliError::input(format!("{}: {e}", a.file.display()))
                        .input_name(a.file.display().to_string())
                })?;
            client()?.verify_report(&r).map_err(client_err)?;
            println!("valid: the REPORT's MAC verifies for this enclave (made on this platform, for this enclave)");
            print!(
                "{}",
                ReportBodyView::new(&r.body, ByteOrder::Stored).text("REPORT body:")
            );
        }
        Command::Key(a) => key(a)?,
        Command::Quote(a) => {
            let q = client()?
                .quote(&report_data(a.report_data.as_deref())?)
                .map_err(client_err)?;
            write_atomic(&a.out, &q)?;
        }
        Command::Seal(a) => seal(a)?,
        Command::Unseal(a) => unseal(a)?,
        Command::Reseal(a) => reseal(a)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `kss enclave key`: builds the KEYREQUEST from the options and the enclave's identity.
fn key(a: KeyArgs) -> Result<(), CliError> {
    let c = client()?;
    let id = c.identity().map_err(client_err)?;
    let name = if a.name == "seal" {
        KeyName::Seal
    } else {
        KeyName::Report
    };
    let policy = match &a.policy {
        Some(p) => KeyPolicy::parse_list(p)
            .map_err(|e| CliError::input(format!("--policy: {e}")).input_name("--policy"))?,
        None if name == KeyName::Seal => kss_seal::policy::default_policy(&id),
        None => KeyPolicy(0),
    };
    let attribute_mask = match &a.attribute_mask {
        Some(m) => {
            let (f, x) = m.split_once('/').ok_or_else(|| {
                CliError::input(format!("--attribute-mask: '{m}' is not FLAGS/XFRM"))
                    .input_name("--attribute-mask")
            })?;
            Attributes::new(
                parse_num(f, "--attribute-mask FLAGS", u64::MAX)?,
                parse_num(x, "--attribute-mask XFRM", u64::MAX)?,
            )
        }
        None => kss_seal::policy::DEFAULT_ATTRIBUTE_MASK,
    };
    let mut key_id = [0u8; 32];
    if let Some(k) = &a.key_id {
        let t = k.strip_prefix("0x").unwrap_or(k);
        let b = hex::decode(t).map_err(|e| {
            CliError::input(format!("--key-id: not hex ({e})")).input_name("--key-id")
        })?;
        if b.len() > 32 {
            return Err(
                CliError::input(format!("--key-id: {} bytes; KEYID holds 32", b.len()))
                    .input_name("--key-id"),
            );
        }
        key_id[..b.len()].copy_from_slice(&b);
    }
    let req = KeyRequest {
        key_name: name as u16,
        key_policy: policy,
        isv_svn: a
            .isv_svn
            .as_deref()
            .map(|s| parse_num(s, "--isv-svn", 0xFFFF))
            .transpose()?
            .map_or(id.isv_svn, |v| v as u16),
        config_svn: a
            .config_svn
            .as_deref()
            .map(|s| parse_num(s, "--config-svn", 0xFFFF))
            .transpose()?
            .map_or(id.config_svn, |v| v as u16),
        cpu_svn: match &a.cpu_svn {
            Some(h) => CpuSvn(crate::util::parse_hex_array::<16>(h, "--cpu-svn")?),
            None => id.cpu_svn,
        },
        attribute_mask,
        key_id,
        misc_mask: a
            .misc_mask
            .as_deref()
            .map(|s| parse_num(s, "--misc-mask", 0xFFFF_FFFF))
            .transpose()?
            .map_or(kss_seal::policy::DEFAULT_MISC_MASK, |v| v as u32),
        ..KeyRequest::default()
    };
    let key = c.get_key(&req).map_err(client_err)?;
    println!("{}", hex::encode(*key));
    Ok(())
}

/// `kss enclave seal`.
fn seal(a: SealArgs) -> Result<(), CliError> {
    let c = client()?;
    let plain = zeroize::Zeroizing::new(read_file(&a.input, "plaintext", kss_io::limits::SEALED)?);
    let aad = a
        .aad
        .as_ref()
        .map(|p| read_file(p, "AAD", kss_io::limits::SEALED))
        .transpose()?
        .unwrap_or_default();
    let opts = SealOptions {
        policy: seal_policy(a.policy.as_deref())?,
        ..SealOptions::default()
    };
    let blob = kss_seal::seal(&c, &plain, &aad, &opts).map_err(sealed_error)?;
    kss_seal::write_sealed_file(&a.output, &blob).map_err(sealed_error)?;
    Ok(())
}

/// `kss enclave unseal`.
fn unseal(a: UnsealArgs) -> Result<(), CliError> {
    let c = client()?;
    let blob = read_file(&a.input, "sealed blob", kss_io::limits::SEALED)?;
    let u = kss_seal::unseal(&c, &blob).map_err(|e| in_file(&a.input, sealed_error(e)))?;
    // The plaintext is the secret: written 0600, atomically and durably.
    kss_seal::write_sealed_file(&a.output, &u.plaintext).map_err(sealed_error)?;
    if let Some(p) = &a.aad_out {
        write_atomic(p, &u.aad)?;
    }
    Ok(())
}

/// `kss enclave reseal`.
fn reseal(a: ResealArgs) -> Result<(), CliError> {
    let c = client()?;
    let blob = read_file(&a.input, "sealed blob", kss_io::limits::SEALED)?;
    let new = kss_seal::reseal(&c, &blob, seal_policy(a.policy.as_deref())?)
        .map_err(|e| in_file(&a.input, sealed_error(e)))?;
    // The SVNs come from the new blob itself, read before the output is replaced, so
    // nothing can fail once it is.
    let req = kss_seal::SealedData::parse(&new)
        .map_err(sealed_error)?
        .key_request;
    kss_seal::write_sealed_file(&a.output, &new).map_err(sealed_error)?;
    eprintln!(
        "kss: resealed at ISVSVN {} CONFIGSVN {}",
        req.isv_svn, req.config_svn
    );
    Ok(())
}
