//! Durable atomic writes of a whole file (a [`Staged`] file committed, then the directory
//! synced), and the error they return.

use crate::Staged;
use std::path::{Path, PathBuf};

/// A failed write: the file (or directory) it concerns and the I/O error.
#[derive(Debug)]
pub struct WriteError {
    /// The path the failed operation was about.
    pub path: PathBuf,
    /// The operating system's error.
    pub source: std::io::Error,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

pub(crate) fn err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Makes renames in `dir` durable (fsync of the directory).
pub fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err(dir))
}

/// Writes `bytes` to `path` atomically and durably with permissions `mode`: a temporary file in
/// the same directory (mode set before writing), fsync, rename over `path`, fsync of the
/// directory. A crash leaves the old file or the new one, never a part of one.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    write_atomic_prefixed(path, bytes, mode, ".kss-tmp-")
}

/// [`write_atomic`] with the temporary file named `{prefix}…`.
pub fn write_atomic_prefixed(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    prefix: &str,
) -> Result<(), WriteError> {
    let dir = parent_dir(path);
    let t = Staged::new_in(dir, prefix, mode)?;
    t.write_all_and_sync(bytes)?;
    t.commit(path)?;
    sync_dir(dir)
}

/// Like [`write_atomic`], but never replaces an existing file (see [`Staged::commit_new`]).
pub fn write_new(path: &Path, bytes: &[u8], mode: u32, prefix: &str) -> Result<(), WriteError> {
    let dir = parent_dir(path);
    let t = Staged::new_in(dir, prefix, mode)?;
    t.write_all_and_sync(bytes)?;
    t.commit_new(path)?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_missing_directory_is_named_not_the_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("nodir");
        let e = write_atomic(&missing.join("f"), b"x", 0o644).unwrap_err();
        assert_eq!(e.path, missing);
        assert_eq!(
            e.to_string(),
            format!("{}: directory does not exist", missing.display())
        );
        std::fs::write(&missing, b"file").unwrap();
        let e = write_atomic(&missing.join("f"), b"x", 0o644).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: not a directory", missing.display())
        );
    }

    #[test]
    fn replaces_with_the_mode_and_leaves_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one", 0o644).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_new_never_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        write_new(&p, b"a", 0o600, ".k-").unwrap();
        let e = write_new(&p, b"b", 0o600, ".k-").unwrap_err();
        assert_eq!(e.source.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"a");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
