//! Helpers shared by commands: reading inputs with clear errors, atomic output, number parsing.

use crate::error::CliError;
use std::path::Path;

/// Reads a whole file of at most `limit` bytes (one of [`kss_io::limits`]), checked while
/// reading; the error names the file, what it was meant to be and, for a file too large, the
/// limit.
pub fn read_file(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, CliError> {
    kss_io::read_bounded(path, limit).map_err(|e| {
        CliError::input(format!("cannot read {what} '{}': {e}", path.display()))
            .input_name(path.display().to_string())
    })
}

/// Reads a whole file of at most `limit` bytes as UTF-8 text; errors name the file and what it
/// was meant to be.
pub fn read_text(path: &Path, what: &str, limit: u64) -> Result<String, CliError> {
    String::from_utf8(read_file(path, what, limit)?).map_err(|_| {
        CliError::input(format!("{what} '{}': not UTF-8 text", path.display()))
            .input_name(path.display().to_string())
    })
}

/// Writes `bytes` to `path` atomically and durably: a temp file in the same directory, fsync,
/// rename, fsync of the directory. A crash leaves either the old file or the new one, never a
/// partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    kss_io::write_atomic(path, bytes, 0o644)
        .map_err(|e| CliError::environment(format!("cannot write '{}': {e}", path.display())))
}

/// A 16-byte KSS ID as stored hex plus its `{high, low}` halves, for human output: the format
/// of every report body ([`kss_attest::render::id128_text`]).
pub fn id_text(id: &kss_types::Id128) -> String {
    kss_attest::render::id128_text(id)
}

/// The input a value error is about: the option `what` starts with (`--attribute-mask` of
/// `--attribute-mask FLAGS`).
fn option_of(what: &str) -> &str {
    what.split(' ').next().unwrap_or(what)
}

/// Parses an unsigned integer written in decimal or `0x` hex, within `max`.
/// `what` names the option in the error (its first word is the error's input).
pub fn parse_num(text: &str, what: &str, max: u64) -> Result<u64, CliError> {
    let t = text.trim();
    let parsed = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else {
        t.parse::<u64>()
    };
    match parsed {
        Ok(v) if v <= max => Ok(v),
        Ok(v) => Err(
            CliError::input(format!("{what}: {v} is out of range (expected 0..={max})"))
                .input_name(option_of(what)),
        ),
        Err(_) => Err(CliError::input(format!(
            "{what}: '{text}' is not a number (expected decimal or 0x-prefixed hex, 0..={max})"
        ))
        .input_name(option_of(what))),
    }
}

/// Parses hex (optional `0x`, case-insensitive) of exactly `N` bytes; `what` names the option.
pub fn parse_hex_array<const N: usize>(text: &str, what: &str) -> Result<[u8; N], CliError> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|e| {
        CliError::input(format!(
            "{what}: '{text}' is not valid hex ({e}); expected {N} bytes as {} hex digits",
            N * 2
        ))
        .input_name(option_of(what))
    })?;
    bytes.try_into().map_err(|b: Vec<u8>| {
        CliError::input(format!(
            "{what}: expected {N} bytes ({} hex digits), got {} bytes",
            N * 2,
            b.len()
        ))
        .input_name(option_of(what))
    })
}

/// A failure of the `kss serve` client (`kss attest`, `kss token verify`) talking to `what` (a
/// server URL), with a hint where a flag fixes it.
pub fn client_error(what: &str, e: kss_serve::client::ClientError) -> CliError {
    let hint = matches!(e, kss_serve::client::ClientError::NoCa);
    let err = CliError::environment(format!("{what}: {e}"));
    if hint {
        err.hint("give the server's CA certificate with --ca-cert PEM")
    } else {
        err
    }
}

/// The `kss serve` client could not be made (`Client::new`): the error is about the CA
/// certificate file when one was given (`--ca-cert`).
pub fn ca_cert_error(ca_cert: Option<&Path>, e: kss_serve::client::ClientError) -> CliError {
    let err = CliError::input(e.to_string());
    match ca_cert {
        Some(p) => err.input_name(p.display().to_string()),
        None => err,
    }
}

/// Writes bytes to stdout; a closed pipe (e.g. `| head`) is not an error worth reporting.
pub fn write_stdout(bytes: &[u8]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Prints a value (a `Serialize` type, or a `serde_json::Value` received from elsewhere) as
/// pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_num("0x12ab", "x", 0xFFFF).unwrap(), 0x12ab);
        assert_eq!(parse_num("65535", "x", 0xFFFF).unwrap(), 65535);
        assert!(parse_num("65536", "x", 0xFFFF)
            .unwrap_err()
            .message
            .contains("out of range"));
        assert!(parse_num("-1", "x", 0xFFFF).is_err());
        assert!(parse_num("12z", "x", 0xFFFF).is_err());
        assert!(parse_num("", "x", 0xFFFF).is_err());
    }

    #[test]
    fn atomic_write_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
