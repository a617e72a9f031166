//! `kss new DIR`: create an instance.

use crate::error::{CliError, CliResult};
use std::path::PathBuf;
use std::process::ExitCode;

/// Create a new instance directory with a template Occlum.json and an empty image/.
///
/// The template carries Occlum's keys plus the KSS fields of Occlum's RFC under `metadata`:
/// `product_id`, `version_number`, `debuggable`, `enable_kss` (false), `family_id` and
/// `ext_prod_id` (`{"high": "0x0", "low": "0x0"}`: two 64-bit hex words, `low` is bytes 0..8
/// little-endian, `high` bytes 8..16, as in Intel's Enclave.xml). Refuses a non-empty DIR.
#[derive(clap::Args)]
pub struct Args {
    /// Directory to create (must not exist or be empty).
    pub dir: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let inst = kss_instance::new_instance(&args.dir).map_err(|e| match e {
        kss_instance::InstanceError::NotEmpty(_) => {
            CliError::input(e.to_string()).input_name(args.dir.display().to_string())
        }
        other => CliError::environment(other.to_string()),
    })?;
    println!("created instance {}", inst.dir.display());
    println!("  {}        edit metadata (product_id, version_number, enable_kss, family_id, ext_prod_id) and resource_limits", inst.config_path().display());
    println!(
        "  {}/       put the app's files here (e.g. image/bin/app)",
        inst.image_dir().display()
    );
    println!("next: kss build {}", inst.dir.display());
    Ok(ExitCode::SUCCESS)
}
