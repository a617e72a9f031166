//! `kss build [DIR]`: measure and sign an instance.

use crate::error::{CliError, CliResult};
use crate::util::print_json;
use kss_instance::{BuildOptions, InstanceError};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Measure and sign an instance.
///
/// Writes (each file is replaced atomically, the summary last; nothing is replaced unless all of
/// them were produced):
///   build/enclave.sgxs     the enclave as a canonical SGXS stream (SHA-256 of it = MRENCLAVE)
///   build/enclave.sig      the SIGSTRUCT (RSA-3072, e=3), with ISVPRODID = product_id,
///                          ISVSVN = version_number, ISVFAMILYID/ISVEXTPRODID from metadata and,
///                          with enable_kss, the KSS bit in ATTRIBUTES and ATTRIBUTEMASK
///   build/Enclave.xml      the same settings as an Intel SDK sgx_sign configuration
///   build/kss-build.json   a summary (identity, image digest) used by run and policy
///
/// A debuggable instance built without --key is signed with a development key created
/// once in $KSS_HOME (default ~/.local/share/kss/dev-signing-key.pem). A non-debuggable instance
/// needs --key. When the existing SIGSTRUCT already signs exactly this enclave with this
/// key it is kept, so rebuilding an unchanged instance re-signs nothing.
#[derive(clap::Args)]
pub struct Args {
    /// Instance directory; "." is the current directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// RSA-3072 (e=3) private key in PEM; required when metadata.debuggable is false.
    /// (`--sign-key` is the old name and still works.)
    #[arg(long = "key", alias = "sign-key", value_name = "PEM")]
    pub sign_key: Option<PathBuf>,
    /// SIGSTRUCT date as YYYYMMDD or YYYY-MM-DD (default: today, UTC). A rebuild that can
    /// reuse the existing SIGSTRUCT (same enclave, same key) keeps its date unless --date
    /// names another one, which re-signs.
    #[arg(long, value_name = "YYYYMMDD")]
    pub date: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Maps an instance-layer error to an exit status.
pub fn instance_error(e: InstanceError) -> CliError {
    match e {
        InstanceError::Io { .. } | InstanceError::SgxsWrite(_) => {
            CliError::environment(e.to_string())
        }
        InstanceError::ProductionKeyRequired => CliError::input(format!(
            "{e}: pass --key PEM (create one with `kss keygen --out key.pem`)"
        ))
        .hint("set \"debuggable\": true for development, or pass --key"),
        _ => CliError::input(e.to_string()),
    }
}

/// [`instance_error`] for an error about `path` (the instance directory, its Occlum.json or its
/// image/): the error names it as its input.
pub fn instance_error_at(path: &Path) -> impl FnOnce(InstanceError) -> CliError {
    let name = path.display().to_string();
    move |e| instance_error(e).input_name(name)
}

/// Parses a calendar date (YYYYMMDD or YYYY-MM-DD, see [`kss_sign::BcdDate::parse`]) into BCD.
pub fn parse_date(text: &str) -> Result<u32, CliError> {
    kss_sign::BcdDate::parse(text)
        .map(kss_sign::BcdDate::to_bcd)
        .map_err(|e| CliError::input(format!("--date: {e}")).input_name("--date"))
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let date = args.date.as_deref().map(parse_date).transpose()?;
    let show_bar = std::io::stderr().is_terminal() && !args.json;
    let bar = indicatif::ProgressBar::hidden();
    if show_bar {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message("measuring");
    }
    if let Some(k) = &args.sign_key {
        // A missing key is bad input (exit 2) naming the file, as in `kss sign --key`.
        super::sign::load_key(k)?;
    }
    let opts = BuildOptions {
        sign_key: args.sign_key.clone(),
        date,
        progress: Some(Box::new(|done, total| {
            if bar.length() != Some(total) {
                bar.set_length(total);
            }
            bar.set_position(done);
        })),
        ..BuildOptions::default()
    };
    let report = kss_instance::build(&args.dir, opts)
        .map_err(|e| instance_error(e).input_name(args.dir.display().to_string()))?;
    bar.finish_and_clear();
    let m = &report.config.metadata;
    let inst = kss_instance::Instance {
        dir: args.dir.clone(),
    };
    if args.json {
        print_json(&BuildJson::new(&args.dir, &report, &inst));
        return Ok(ExitCode::SUCCESS);
    }
    if report.dev_key_created {
        eprintln!(
            "kss: created development signing key {} (debug builds only)",
            report.key_path.display()
        );
    }
    if !report.config.unused_keys.is_empty() {
        eprintln!(
            "kss: note: Occlum.json keys not used by kss: {}",
            report.config.unused_keys.join(", ")
        );
    }
    println!("built {}", args.dir.display());
    println!("  MRENCLAVE     {}", hex::encode(report.mr_enclave));
    println!("  MRSIGNER      {}", hex::encode(report.mr_signer));
    println!(
        "  ISVPRODID     {}   ISVSVN {}   debuggable {}",
        m.product_id, m.version_number, m.debuggable
    );
    if m.enable_kss {
        println!("  KSS           enabled (ATTRIBUTES.KSS set; the enclave needs a KSS-capable CPU on hardware)");
        println!("  ISVFAMILYID   {}", crate::util::id_text(&m.family_id));
        println!("  ISVEXTPRODID  {}", crate::util::id_text(&m.ext_prod_id));
    } else {
        println!("  KSS           disabled (set metadata.enable_kss to use CONFIGID/CONFIGSVN)");
    }
    println!("  binding       {}", m.config_binding.as_str());
    match &report.image {
        Some(i) => println!("  image         {} ({} entries, {} bytes), measured into MRENCLAVE", hex::encode(i.digest), i.entries, i.bytes),
        None => println!("  image         not part of the enclave: bound at launch through CONFIGID (`kss config-id {}`)", args.dir.display()),
    }
    println!(
        "  enclave       {} MiB, {} pages ({} measured), SGXS {} bytes",
        report.enclave_size >> 20,
        report.pages.0,
        report.pages.1,
        report.sgxs_len
    );
    println!(
        "  signature     {}",
        if report.resigned {
            "new"
        } else {
            "unchanged (kept)"
        }
    );
    if !report.remeasured {
        println!("  enclave       unchanged: the app-independent enclave was reused as is");
    }
    println!(
        "wrote {}, {}, {}",
        inst.sgxs_path().display(),
        inst.sig_path().display(),
        inst.enclave_xml_path().display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("20160109").unwrap(), 0x20160109);
        assert!(parse_date("2016019").is_err());
        assert!(parse_date("20161309").is_err());
        assert!(parse_date("2016010x").is_err());
        assert!(parse_date("20160231").is_err(), "no such day");
        assert_eq!(parse_date("2016-01-09").unwrap(), 0x20160109);
    }
}

/// `kss build --json` (keys in this order).
#[derive(serde::Serialize)]
struct BuildJson<'a> {
    instance: &'a std::path::Path,
    mr_enclave: String,
    mr_signer: String,
    isv_prod_id: u16,
    isv_svn: u16,
    debuggable: bool,
    enable_kss: bool,
    isv_family_id: String,
    isv_ext_prod_id: String,
    config_binding: &'static str,
    image_digest: Option<String>,
    enclave_size: u64,
    pages: u64,
    measured_pages: u64,
    sgxs_bytes: u64,
    resigned: bool,
    remeasured: bool,
    signing_key: &'a std::path::Path,
    unused_keys: &'a [String],
    files: BuildFilesJson,
}

/// The files of [`BuildJson`].
#[derive(serde::Serialize)]
struct BuildFilesJson {
    sgxs: PathBuf,
    sigstruct: PathBuf,
    enclave_xml: PathBuf,
    summary: PathBuf,
}

impl<'a> BuildJson<'a> {
    fn new(
        dir: &'a std::path::Path,
        report: &'a kss_instance::BuildReport,
        inst: &kss_instance::Instance,
    ) -> Self {
        let m = &report.config.metadata;
        BuildJson {
            instance: dir,
            mr_enclave: hex::encode(report.mr_enclave),
            mr_signer: hex::encode(report.mr_signer),
            isv_prod_id: m.product_id,
            isv_svn: m.version_number,
            debuggable: m.debuggable,
            enable_kss: m.enable_kss,
            isv_family_id: hex::encode(m.family_id.0),
            isv_ext_prod_id: hex::encode(m.ext_prod_id.0),
            config_binding: m.config_binding.as_str(),
            image_digest: report.image.as_ref().map(|i| hex::encode(i.digest)),
            enclave_size: report.enclave_size,
            pages: report.pages.0,
            measured_pages: report.pages.1,
            sgxs_bytes: report.sgxs_len,
            resigned: report.resigned,
            remeasured: report.remeasured,
            signing_key: &report.key_path,
            unused_keys: &report.config.unused_keys,
            files: BuildFilesJson {
                sgxs: inst.sgxs_path(),
                sigstruct: inst.sig_path(),
                enclave_xml: inst.enclave_xml_path(),
                summary: inst.build_json_path(),
            },
        }
    }
}
