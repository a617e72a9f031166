//! File output shared by the kss crates: one durable atomic write (a temporary file in the same
//! directory with its final mode, fsync, rename, fsync of the directory) and one resolution of
//! the per-user kss home directory.
#![deny(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// The per-user kss directory: `$KSS_HOME`, else `$XDG_DATA_HOME/kss`, else
/// `$HOME/.local/share/kss` (empty variables count as unset). `None` when none is set.
pub fn kss_home() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(p) = var("KSS_HOME") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = var("XDG_DATA_HOME") {
        return Some(PathBuf::from(p).join("kss"));
    }
    var("HOME").map(|p| PathBuf::from(p).join(".local/share/kss"))
}

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

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
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

/// A file being written next to its destination: created in the destination's directory with
/// its final mode before any byte is written, removed if dropped before [`Staged::commit`].
#[derive(Debug)]
pub struct Staged {
    file: tempfile::NamedTempFile,
}

impl Staged {
    /// A new empty temporary file in `dir`, named `{prefix}…`, with permissions `mode`.
    pub fn new_in(dir: &Path, prefix: &str, mode: u32) -> Result<Staged, WriteError> {
        use std::os::unix::fs::PermissionsExt;
        let file = tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(dir)
            .map_err(err(dir))?;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err(file.path()))?;
        Ok(Staged { file })
    }

    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The open file, for writing.
    pub fn file(&self) -> &std::fs::File {
        self.file.as_file()
    }

    /// Writes all of `bytes` and syncs the file.
    pub fn write_all_and_sync(&self, bytes: &[u8]) -> Result<(), WriteError> {
        let mut f = self.file.as_file();
        f.write_all(bytes).map_err(err(self.path()))?;
        self.sync()
    }

    /// Syncs the file's contents to disk.
    pub fn sync(&self) -> Result<(), WriteError> {
        self.file.as_file().sync_all().map_err(err(self.path()))
    }

    /// Renames the file to `to`, replacing any file there. The caller syncs the directory
    /// (see [`sync_dir`]) once all its files are in place.
    pub fn commit(self, to: &Path) -> Result<(), WriteError> {
        self.file.persist(to).map(|_| ()).map_err(|e| WriteError {
            path: to.to_path_buf(),
            source: e.error,
        })
    }

    /// Like [`Staged::commit`], but never replaces an existing file: if `to` exists the error
    /// has [`std::io::ErrorKind::AlreadyExists`] and the existing file is untouched.
    pub fn commit_new(self, to: &Path) -> Result<(), WriteError> {
        self.file
            .persist_noclobber(to)
            .map(|_| ())
            .map_err(|e| WriteError {
                path: to.to_path_buf(),
                source: e.error,
            })
    }
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
