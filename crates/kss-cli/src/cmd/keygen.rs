//! `kss keygen`: generate an RSA-3072 signing key with exponent 3.

use crate::error::{CliError, CliResult};
use kss_instance::InstanceError;
use kss_sign::SigningKey;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Generate an RSA-3072 signing key with public exponent 3 (the only kind SGX accepts).
///
/// The key is written as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") with file mode
/// 0600. An existing file is never replaced (exit 2). Prints the MRSIGNER that enclaves signed
/// with this key will have.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write the private key (PEM). Must not exist yet.
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes `text` to a new file `path` with mode 0600, atomically (temp file + rename without
/// replacing); an existing file is bad input (exit 2), never overwritten.
fn write_private_new(path: &Path, text: &[u8]) -> Result<(), CliError> {
    kss_instance::build::write_private(path, text).map_err(|e| match e {
        InstanceError::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            CliError::input(format!(
                "'{}' already exists; refusing to overwrite a key",
                path.display()
            ))
            .input_name(path.display().to_string())
        }
        InstanceError::Io { path: at, source } => CliError::environment(format!(
            "cannot write key '{}': {}: {source}",
            path.display(),
            at.display()
        )),
        e => CliError::environment(format!("cannot write key '{}': {e}", path.display())),
    })
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    if args.out.exists() {
        return Err(CliError::input(format!(
            "'{}' already exists; refusing to overwrite a key",
            args.out.display()
        ))
        .hint("choose another --out path or delete the old key first")
        .input_name(args.out.display().to_string()));
    }
    let key = SigningKey::generate_os()
        .map_err(|e| CliError::environment(format!("key generation failed: {e}")))?;
    let pem = key
        .to_pkcs8_pem()
        .map_err(|e| CliError::environment(e.to_string()))?;
    write_private_new(&args.out, pem.as_bytes())?;
    println!(
        "wrote RSA-3072 (e=3) key to {}\nMRSIGNER {}",
        args.out.display(),
        hex::encode(key.mr_signer())
    );
    Ok(ExitCode::SUCCESS)
}
