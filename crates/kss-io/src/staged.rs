//! Files and directories written next to their destination and published by one link or
//! rename: [`Staged`] (a file, unnamed until committed where the platform allows) and
//! [`StagedDir`].

use crate::sweep::PID_MARK;
use crate::write::err;
use crate::{parent_dir, sweep_stale, sync_dir, WriteError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written next to its destination, with its final mode before any byte is
/// written, that never outlives the process unless committed.
///
/// On Linux the file is created unnamed (`O_TMPFILE`): it has no name until
/// [`Staged::commit`] links it into the directory, so a killed process (even by SIGKILL) leaves
/// nothing behind, and plaintext written to it is never visible under a name before the final
/// one. Where `O_TMPFILE` is unavailable (some filesystems, other platforms) the file is named
/// `{prefix}{pid}~{random}`: it is removed when dropped, and a file of this form whose process is
/// gone is removed by the next [`Staged`] created in the same directory (see [`sweep_stale`]).
#[derive(Debug)]
pub struct Staged {
    file: std::fs::File,
    dir: PathBuf,
    prefix: String,
    /// The path shown in messages: the named file, or `dir/{prefix}(unnamed)`.
    shown: PathBuf,
    /// The named temporary file (fallback only); `None` for an unnamed one.
    named: Option<tempfile::TempPath>,
}

/// An unnamed (`O_TMPFILE`) file in `dir`, when the platform and filesystem support it and the
/// file can later be linked through `/proc/self/fd`.
fn unnamed_in(dir: &Path, mode: u32) -> Option<std::fs::File> {
    use rustix::fs::{Mode, OFlags, CWD};
    if !cfg!(target_os = "linux") || !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    let fd = rustix::fs::openat(
        CWD,
        dir,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .ok()?;
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).ok()?;
    Some(std::fs::File::from(fd))
}

impl Staged {
    /// A new empty temporary file in `dir` with permissions `mode`; its name, where it needs one,
    /// starts with `prefix` (which should start with `.kss-`). Sweeps stale temporary files of
    /// dead processes from `dir` first.
    pub fn new_in(dir: &Path, prefix: &str, mode: u32) -> Result<Staged, WriteError> {
        use std::os::unix::fs::PermissionsExt;
        // Said plainly here: the temporary file's own error would name its internal name.
        match std::fs::metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(WriteError {
                    path: dir.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotADirectory,
                        "not a directory",
                    ),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WriteError {
                    path: dir.to_path_buf(),
                    source: std::io::Error::new(e.kind(), "directory does not exist"),
                })
            }
            _ => {}
        }
        sweep_stale(dir);
        if let Some(file) = unnamed_in(dir, mode) {
            return Ok(Staged {
                file,
                dir: dir.to_path_buf(),
                prefix: prefix.to_string(),
                shown: dir.join(format!("{prefix}(unnamed)")),
                named: None,
            });
        }
        let named = tempfile::Builder::new()
            .prefix(&format!("{prefix}{}{PID_MARK}", std::process::id()))
            .tempfile_in(dir)
            .map_err(err(dir))?;
        let (file, path) = named.into_parts();
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err(&path))?;
        Ok(Staged {
            file,
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            shown: path.to_path_buf(),
            named: Some(path),
        })
    }

    /// The temporary file's path (for messages: an unnamed file has none on disk).
    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// The open file, for writing.
    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    /// Writes all of `bytes` and syncs the file.
    pub fn write_all_and_sync(&self, bytes: &[u8]) -> Result<(), WriteError> {
        let mut f = &self.file;
        f.write_all(bytes).map_err(err(self.path()))?;
        self.sync()
    }

    /// Syncs the file's contents to disk.
    pub fn sync(&self) -> Result<(), WriteError> {
        self.file.sync_all().map_err(err(self.path()))
    }

    /// Gives the unnamed file the name `to`; fails with `AlreadyExists` if `to` exists.
    fn link_unnamed(&self, to: &Path) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        let proc = format!("/proc/self/fd/{}", self.file.as_raw_fd());
        rustix::fs::linkat(
            rustix::fs::CWD,
            proc.as_str(),
            rustix::fs::CWD,
            to,
            rustix::fs::AtFlags::SYMLINK_FOLLOW,
        )
        .map_err(std::io::Error::from)
    }

    /// Renames the file to `to`, replacing any file there. The caller syncs the directory
    /// (see [`sync_dir`]) once all its files are in place.
    pub fn commit(self, to: &Path) -> Result<(), WriteError> {
        let to_err = |source| WriteError {
            path: to.to_path_buf(),
            source,
        };
        if let Some(named) = self.named {
            return named.persist(to).map_err(|e| to_err(e.error));
        }
        // Link under a fresh temporary name (of the sweepable form), then rename over `to`:
        // linkat cannot replace a file. Only a kill between the two steps leaves the name.
        for attempt in 0u32.. {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let tmp = self.dir.join(format!(
                "{}{}{PID_MARK}{:08x}{attempt}",
                self.prefix,
                std::process::id(),
                nanos
            ));
            match self.link_unnamed(&tmp) {
                Ok(()) => {
                    return std::fs::rename(&tmp, to).map_err(|e| {
                        let _ = std::fs::remove_file(&tmp);
                        to_err(e)
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {}
                Err(e) => return Err(to_err(e)),
            }
        }
        unreachable!("the loop returns")
    }

    /// Like [`Staged::commit`], but never replaces an existing file: if `to` exists the error
    /// has [`std::io::ErrorKind::AlreadyExists`] and the existing file is untouched.
    pub fn commit_new(self, to: &Path) -> Result<(), WriteError> {
        let to_err = |source| WriteError {
            path: to.to_path_buf(),
            source,
        };
        match self.named {
            Some(named) => named.persist_noclobber(to).map_err(|e| to_err(e.error)),
            None => self.link_unnamed(to).map_err(to_err),
        }
    }
}

/// A directory being filled next to its destination and published by one rename, so that the
/// destination appears complete or not at all (e.g. a CA's keys and certificates).
///
/// It is named `{prefix}{pid}~{n}`: a directory this process drops unpublished is removed, and
/// one left by a killed process is removed by the next [`StagedDir`] or [`Staged`] created in
/// the same directory (see [`sweep_stale`]). Files are written into it with the other helpers
/// of this crate (e.g. [`write_new`](crate::write_new)).
#[derive(Debug)]
pub struct StagedDir {
    path: PathBuf,
    published: bool,
}

impl StagedDir {
    /// A new empty directory in `parent` with permissions `mode`, named `{prefix}{pid}~{n}`
    /// (`prefix` should start with `.kss-`). Sweeps stale ones of dead processes from
    /// `parent` first.
    pub fn new_in(parent: &Path, prefix: &str, mode: u32) -> Result<StagedDir, WriteError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        sweep_stale(parent);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!("{prefix}{}{PID_MARK}{n}", std::process::id()));
            match std::fs::DirBuilder::new().mode(mode).create(&path) {
                Ok(()) => {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                        .map_err(err(&path))?;
                    return Ok(StagedDir {
                        path,
                        published: false,
                    });
                }
                // A leftover of a dead process whose pid was reused: take the next number.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(err(&path)(e)),
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the directory to `to` (which must not exist, or be an empty directory) and
    /// syncs the parent. `Ok(false)`: `to` already exists and is not empty (another process
    /// published first); the staging directory is removed and `to` untouched.
    pub fn publish(mut self, to: &Path) -> Result<bool, WriteError> {
        match std::fs::rename(&self.path, to) {
            Ok(()) => {
                self.published = true;
                sync_dir(parent_dir(to))?;
                Ok(true)
            }
            Err(_)
                if to.is_dir() && std::fs::read_dir(to).is_ok_and(|mut d| d.next().is_some()) =>
            {
                Ok(false)
            }
            Err(e) => Err(err(to)(e)),
        }
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write_new;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_staged_file_has_no_name_until_committed() {
        // What a SIGKILL leaves behind is whatever has a name: nothing, on Linux.
        let d = tempfile::tempdir().unwrap();
        let t = Staged::new_in(d.path(), ".kss-sealed-", 0o600).unwrap();
        t.write_all_and_sync(b"plaintext").unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        }
        std::mem::forget(t);
        if cfg!(target_os = "linux") {
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        }
    }

    #[test]
    fn a_committed_file_has_its_mode_and_no_temporary_name_remains() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out");
        let t = Staged::new_in(d.path(), ".kss-x-", 0o640).unwrap();
        t.write_all_and_sync(b"abc").unwrap();
        t.commit(&p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let t = Staged::new_in(d.path(), ".kss-x-", 0o600).unwrap();
        t.write_all_and_sync(b"new").unwrap();
        assert_eq!(
            t.commit_new(&p).unwrap_err().source.kind(),
            std::io::ErrorKind::AlreadyExists
        );
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn staged_dirs_publish_once_and_never_outlive_their_process() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let to = d.path().join("ca");
        let a = StagedDir::new_in(d.path(), ".kss-ca-", 0o700).unwrap();
        let b = StagedDir::new_in(d.path(), ".kss-ca-", 0o700).unwrap();
        assert_ne!(a.path(), b.path());
        let mode = std::fs::metadata(a.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        write_new(&a.path().join("key"), b"a", 0o600, ".kss-tmp-").unwrap();
        write_new(&b.path().join("key"), b"b", 0o600, ".kss-tmp-").unwrap();
        assert!(a.publish(&to).unwrap());
        // The second one finds it done: removed, the first one kept.
        assert!(!b.publish(&to).unwrap());
        assert_eq!(std::fs::read(to.join("key")).unwrap(), b"a");
        // Dropped unpublished: removed.
        drop(StagedDir::new_in(d.path(), ".kss-ca-", 0o700).unwrap());
        // A dead process's staging directory (with its files) is swept by the next one.
        let dead = d.path().join(".kss-ca-99999999~0");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("key"), b"secret").unwrap();
        let c = StagedDir::new_in(d.path(), ".kss-ca-", 0o700).unwrap();
        assert!(!dead.exists());
        drop(c);
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["ca"]);
    }
}
