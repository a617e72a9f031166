//! `kss policy from-instance DIR`: a starting appraisal policy for a built instance.

use crate::cmd::build::instance_error_at;
use crate::error::{CliError, CliResult};
use crate::util::print_json;
use kss_attest::policy::Policy;
use kss_instance::launch;
use kss_instance::{ConfigBinding, Instance};
use kss_types::Sigstruct;
use std::path::PathBuf;
use std::process::ExitCode;

/// Print a starting policy (JSON on stdout) for a built instance: MRENCLAVE, MRSIGNER, ISVPRODID,
/// minimum ISVSVN and, for KSS instances, ISVFAMILYID and ISVEXTPRODID, all taken from its
/// build/enclave.sig.
///
/// In "config_binding": "config_id" mode the policy also pins the CONFIGID recomputed from the
/// instance's Occlum.json and image/ (a relying party recomputes rather than trusts the host). In
/// the default mode the host chooses CONFIGID; pin the one you expect with --config-id. Add
/// --min-config-svn to accept that CONFIGSVN and any later one. The policy verifies a quote of
/// the instance as it stands; edit it to taste (see docs/policy.md).
#[derive(clap::Args)]
pub struct FromInstanceArgs {
    /// Instance directory; "." is the current directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Expected CONFIGID as base64 (as given to `kss run --config-id`).
    #[arg(long, value_name = "BASE64", conflicts_with_all = ["config_id_hex", "config_id_file"])]
    pub config_id: Option<String>,
    /// Expected CONFIGID as hex.
    #[arg(long, value_name = "HEX", conflicts_with = "config_id_file")]
    pub config_id_hex: Option<String>,
    /// Expected CONFIGID as the raw bytes of a file (as given to `kss run --config-id-file`).
    #[arg(long, value_name = "PATH")]
    pub config_id_file: Option<PathBuf>,
    /// Minimum CONFIGSVN (decimal or 0x hex).
    #[arg(long, value_name = "N")]
    pub min_config_svn: Option<String>,
}

/// Runs the command.
pub fn run(a: FromInstanceArgs) -> CliResult {
    let inst = Instance::open(&a.dir).map_err(instance_error_at(&a.dir))?;
    let (config, bytes) = inst
        .config()
        .map_err(instance_error_at(&inst.config_path()))?;
    let sig_path = inst.sig_path();
    let sig_bytes = kss_io::read_bounded(&sig_path, kss_io::limits::SIGSTRUCT).map_err(|e| {
        CliError::input(format!(
            "{} is not built: cannot read {}: {e}",
            a.dir.display(),
            sig_path.display()
        ))
        .hint(format!("run `kss build {}` first", a.dir.display()))
        .input_name(sig_path.display().to_string())
    })?;
    let sig = Sigstruct::from_bytes(&sig_bytes).map_err(|e| {
        CliError::input(format!("{}: {e}", sig_path.display()))
            .input_name(sig_path.display().to_string())
    })?;
    let mut policy = Policy::from_sigstruct(&sig);
    let explicit =
        match (&a.config_id, &a.config_id_hex, &a.config_id_file) {
            (Some(b), _, _) => Some(launch::config_id_from_base64(b).map_err(|e| {
                CliError::input(format!("--config-id: {e}")).input_name("--config-id")
            })?),
            (None, Some(h), _) => Some(launch::config_id_from_hex(h).map_err(|e| {
                CliError::input(format!("--config-id-hex: {e}")).input_name("--config-id-hex")
            })?),
            (None, None, Some(p)) => {
                let bytes = crate::util::read_file(p, "config ID file", kss_io::limits::CONFIG_ID)?;
                Some(launch::config_id_from_raw(&bytes).map_err(|e| {
                    CliError::input(format!("--config-id-file {}: {e}", p.display()))
                        .input_name(p.display().to_string())
                })?)
            }
            _ => None,
        };
    let id_option = config_id_option(a.config_id.as_deref(), a.config_id_hex.as_deref());
    if !config.metadata.enable_kss && (explicit.is_some() || a.min_config_svn.is_some()) {
        let option = match explicit {
            Some(_) => id_option,
            None => "--min-config-svn",
        };
        return Err(CliError::input("this instance has \"enable_kss\": false; its quotes carry no CONFIGID/CONFIGSVN to check").input_name(option));
    }
    match config.metadata.config_binding {
        ConfigBinding::ConfigId => {
            if explicit.is_some() {
                return Err(CliError::input("this instance binds its app through CONFIGID; kss recomputes it from the instance, so --config-id is not accepted").input_name(id_option));
            }
            let d = kss_instance::binding::config_id(&inst, &config, &bytes)
                .map_err(instance_error_at(&inst.image_dir()))?;
            policy = policy.with_config_id(d.config_id);
        }
        ConfigBinding::Mrenclave => {
            if let Some(id) = explicit {
                policy = policy.with_config_id(id);
            }
        }
    }
    if let Some(s) = &a.min_config_svn {
        let svn = launch::config_svn(s).map_err(|e| {
            CliError::input(format!("--min-config-svn: {e}")).input_name("--min-config-svn")
        })?;
        policy = policy.with_min_config_svn(svn);
    }
    print_json(&policy.to_json());
    Ok(ExitCode::SUCCESS)
}

/// The config ID option given (`--config-id`, `--config-id-hex` or `--config-id-file`) when
/// one of them was, from the values of the first two.
fn config_id_option(base64: Option<&str>, hex: Option<&str>) -> &'static str {
    match (base64, hex) {
        (Some(_), _) => "--config-id",
        (None, Some(_)) => "--config-id-hex",
        (None, None) => "--config-id-file",
    }
}
