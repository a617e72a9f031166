//! `kss config-id DIR`: the CONFIGID an app gets in CONFIGID-binding mode.

use crate::cmd::build::instance_error_at;
use crate::error::CliResult;
use crate::util::print_json;
use base64::Engine;
use kss_instance::Instance;
use std::path::PathBuf;
use std::process::ExitCode;

/// Print the CONFIGID of an instance's app: SHA-512("kss-config-id-v1\0" || SHA-256(canonical
/// Occlum.json) || image digest), as hex and base64.
///
/// In "config_binding": "config_id" mode, `kss run` launches the app-independent enclave with
/// exactly this CONFIGID, and a relying party recomputes it from the app it expects (this command,
/// or `kss policy from-instance`). The value is defined for any instance, whatever its mode.
/// See docs/config-binding.md.
#[derive(clap::Args)]
pub struct Args {
    /// Instance directory; "." is the current directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `kss config-id --json` (keys in this order).
#[derive(serde::Serialize)]
struct ConfigIdJson<'a> {
    config_id: String,
    config_id_base64: &'a str,
    config_digest: String,
    image_digest: String,
    image_entries: u64,
    image_bytes: u64,
    config_binding: &'static str,
    format: &'static str,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let inst = Instance::open(&args.dir).map_err(instance_error_at(&args.dir))?;
    let (config, bytes) = inst
        .config()
        .map_err(instance_error_at(&inst.config_path()))?;
    let d = kss_instance::binding::config_id(&inst, &config, &bytes)
        .map_err(instance_error_at(&inst.image_dir()))?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(d.config_id.0);
    if args.json {
        print_json(&ConfigIdJson {
            config_id: hex::encode(d.config_id.0),
            config_id_base64: &b64,
            config_digest: hex::encode(d.config_digest),
            image_digest: hex::encode(d.image.digest),
            image_entries: d.image.entries,
            image_bytes: d.image.bytes,
            config_binding: config.metadata.config_binding.as_str(),
            format: "kss-config-id-v1",
        });
    } else {
        println!("CONFIGID (hex)     {}", hex::encode(d.config_id.0));
        println!("CONFIGID (base64)  {b64}");
        println!(
            "  Occlum.json      sha256 {} (canonical form)",
            hex::encode(d.config_digest)
        );
        println!(
            "  image/           {} ({} entries, {} bytes)",
            hex::encode(d.image.digest),
            d.image.entries,
            d.image.bytes
        );
        if config.metadata.config_binding != kss_instance::ConfigBinding::ConfigId {
            eprintln!("kss: note: this instance uses \"config_binding\": \"{}\"; kss run passes this CONFIGID only in \"config_id\" mode", config.metadata.config_binding.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}
