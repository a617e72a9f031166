//! Atomic, durable writing of sealed files.

use crate::error::SealError;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` so that a crash leaves either the old file or the complete new one,
/// never a truncated blob: a temporary file in the same directory, fsync, rename over `path`,
/// then fsync of the directory. The temporary file is removed on any error. The file is created
/// 0600 (owner only), so it also suits unsealed secrets.
pub fn write_sealed_file(path: &Path, bytes: &[u8]) -> Result<(), SealError> {
    let io = |source: std::io::Error| SealError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".kss-sealed-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    // Make the rename itself durable.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}
