//! `kss measure`: validate an SGXS stream and print its MRENCLAVE.

use crate::error::{CliError, CliResult};
use kss_sgxs::{measure_stream, SgxsError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Print the MRENCLAVE of an SGXS stream, validating it.
///
/// The stream must be canonical SGXS (Fortanix format): one ECREATE first; EADD offsets
/// 4 KiB-aligned, strictly increasing and below SIZE; EEXTEND/UNMEASRD 256-aligned inside the
/// page of the preceding EADD and not repeated; TCS pages without R/W/X; zero padding. UNMEASRD
/// records are loaded but not measured, so they are skipped. A stream starting with UNSIZED
/// cannot be measured.
///
/// Exit status: 0 and the MRENCLAVE (64 hex digits) on stdout; 2 if the stream is invalid (the
/// message names the record index and byte offset of the first violation); 3 on I/O errors.
#[derive(clap::Args)]
pub struct Args {
    /// SGXS file to measure (e.g. build/enclave.sgxs). `-` reads standard input.
    pub file: PathBuf,
    /// Print JSON instead: {"mr_enclave", "size", "ssa_frame_size", "records": {"eadd",
    /// "eextend", "unmeasured"}, "stream_bytes"}; sizes are numbers, mr_enclave is hex.
    #[arg(long)]
    pub json: bool,
}

/// Maps a measurement error to the CLI error for `file`.
pub fn sgxs_error(file: &Path, e: SgxsError) -> CliError {
    match e {
        SgxsError::Io { .. } => CliError::environment(format!("{}: {e}", file.display())),
        other => CliError::input(format!("{}: {other}", file.display()))
            .input_name(file.display().to_string()),
    }
}

/// A progress bar on stderr for big files when stderr is a terminal.
fn progress_bar(len: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if len < (256 << 20) || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "measuring {bar:40} {bytes}/{total_bytes} {bytes_per_sec}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// Measures the SGXS file at `path` (`-` = stdin); errors name the file.
pub fn measure_file(path: &Path) -> Result<kss_sgxs::Measurement, CliError> {
    let result = if path == Path::new("-") {
        measure_stream(std::io::stdin())
    } else {
        let file = std::fs::File::open(path).map_err(|e| {
            CliError::input(format!("cannot read SGXS file '{}': {e}", path.display()))
                .input_name(path.display().to_string())
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = progress_bar(len);
        let result = kss_sgxs::measure_stream_with_progress(file, |done| {
            if let Some(b) = &bar {
                b.set_position(done);
            }
        });
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        result
    };
    result.map_err(|e| sgxs_error(path, e))
}

/// `kss measure --json` (keys in this order).
#[derive(serde::Serialize)]
struct MeasureJson {
    file: String,
    mr_enclave: String,
    size: u64,
    ssa_frame_size: u32,
    records: RecordsJson,
    stream_bytes: u64,
}

/// The record counts of [`MeasureJson`].
#[derive(serde::Serialize)]
struct RecordsJson {
    eadd: u64,
    eextend: u64,
    unmeasured: u64,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let m = measure_file(&args.file)?;
    if args.json {
        crate::util::print_json(&MeasureJson {
            file: args.file.display().to_string(),
            mr_enclave: hex::encode(m.mr_enclave),
            size: m.size,
            ssa_frame_size: m.ssa_frame_size,
            records: RecordsJson {
                eadd: m.records.eadd,
                eextend: m.records.eextend,
                unmeasured: m.records.unmeasured,
            },
            stream_bytes: m.stream_bytes,
        });
    } else {
        println!("{}", hex::encode(m.mr_enclave));
    }
    Ok(ExitCode::SUCCESS)
}
