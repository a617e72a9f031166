//! Atomic, durable writing of sealed files.

use crate::error::SealError;
use std::path::Path;

/// Writes `bytes` to `path` so that a crash leaves either the old file or the complete new one,
/// never a truncated blob: a temporary file in the same directory, fsync, rename over `path`,
/// then fsync of the directory. The temporary file is removed on any error. The file is created
/// 0600 (owner only), so it also suits unsealed secrets.
pub fn write_sealed_file(path: &Path, bytes: &[u8]) -> Result<(), SealError> {
    kss_io::write_atomic_prefixed(path, bytes, 0o600, ".kss-sealed-").map_err(|e| SealError::Io {
        path: path.to_path_buf(),
        source: e.source,
    })
}
