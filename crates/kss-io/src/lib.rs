//! File input and output shared by the kss crates: one bounded read ([`read_bounded`]: every
//! input format has a size limit, enforced while reading), one durable atomic write (a temporary
//! file in the same directory with its final mode, fsync, rename, fsync of the directory; the
//! temporary file does not outlive a kill, see [`Staged`]) and one resolution of the per-user
//! kss home directory (created private, 0700).
#![deny(missing_docs)]

use std::io::{Read, Write};
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

/// Size limits of the files kss reads, one per format. A reader never holds more than its
/// limit plus one byte of a file, whatever the file is (`/dev/zero`, a huge sparse file, a pipe).
pub mod limits {
    /// A raw config ID file (`--config-id-file`): CONFIGID is 64 bytes.
    pub const CONFIG_ID: u64 = 64;
    /// A SIGSTRUCT (`enclave.sig`): exactly 1808 bytes.
    pub const SIGSTRUCT: u64 = 1808;
    /// A TARGETINFO (512 bytes) or REPORT (432 bytes) file.
    pub const SGX_STRUCT: u64 = 512;
    /// A DCAP quote: header, body, signature data and certification data (a PCK chain of a few
    /// KiB); 1 MiB is far above any real quote.
    pub const QUOTE: u64 = 1 << 20;
    /// One collateral file (PCK chain, CRLs, TCB info, QE identity, a dcap-qvl JSON file of all
    /// of them, trust roots): 8 MiB.
    pub const COLLATERAL: u64 = 8 << 20;
    /// A policy file (JSON): 1 MiB.
    pub const POLICY: u64 = 1 << 20;
    /// A PEM key file: 64 KiB.
    pub const KEY: u64 = 64 << 10;
    /// `Occlum.json` and `build/kss-build.json`: 1 MiB.
    pub const CONFIG_JSON: u64 = 1 << 20;
    /// A sealed blob, and the plaintext or AAD to seal: the format keeps every size in a u32
    /// (4 GiB - 1).
    pub const SEALED: u64 = u32::MAX as u64;
}

/// Reads the file at `path`, refusing one longer than `limit` bytes. The limit is enforced
/// while reading (at most `limit + 1` bytes are ever read), so an endless or huge input
/// (`/dev/zero`, a sparse file) costs no more memory than the limit. A file that is too long is
/// an error of kind [`std::io::ErrorKind::FileTooLarge`] whose message states the limit; callers
/// add the path (as they do for every I/O error).
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    // The size the file has now, as a capacity hint: one read of the whole file instead of a
    // growing buffer (the limit is still enforced while reading, as the file may grow or be
    // endless). A regular file already longer than the limit is refused without reading it.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(too_large(limit));
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    read_bounded_into(file, limit, &mut out)?;
    Ok(out)
}

/// [`read_bounded`] for any reader.
pub fn read_bounded_from(r: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    read_bounded_into(r, limit, &mut out)?;
    Ok(out)
}

fn read_bounded_into(r: impl Read, limit: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
    r.take(limit.saturating_add(1)).read_to_end(out)?;
    if out.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

/// [`read_bounded`] for UTF-8 text; invalid UTF-8 is an [`std::io::ErrorKind::InvalidData`]
/// error.
pub fn read_bounded_string(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// The error of a file longer than `limit` bytes.
pub fn too_large(limit: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!("larger than the {limit}-byte limit for this kind of file"),
    )
}

/// Creates `dir` (and missing parents) and makes `dir` itself private to its owner (0700),
/// whatever the umask. For the kss home directory and the stores inside it.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        // A new directory: the mode passed to mkdir is masked by the umask; set it exactly.
        Ok(()) => std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
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

/// The marker between a temporary file's prefix-and-pid and its random part.
const PID_MARK: char = '~';

/// This process's real user ID.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Whether the process `pid` still exists (an existing process of another user counts).
pub fn process_alive(pid: u32) -> bool {
    let Some(p) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(p) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

/// The pid recorded in a kss temporary file name (`.kss-…{pid}~…`), if it is one.
fn temp_owner(name: &str) -> Option<u32> {
    if !name.starts_with(".kss-") {
        return None;
    }
    let head = &name[..name.rfind(PID_MARK)?];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

/// Removes the kss temporary files in `dir` left by processes that no longer exist (files named
/// `.kss-…{pid}~…`, owned by this user, whose pid is not running), and the staging directories
/// of [`StagedDir`] named so. Temporary files of live processes are left alone. Returns how
/// many were removed; errors are ignored (a sweep is best effort).
pub fn sweep_stale(dir: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id();
    let uid = rustix::process::getuid().as_raw();
    let mut removed = 0;
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        let Ok(md) = entry.path().symlink_metadata() else {
            continue;
        };
        if pid == me || md.uid() != uid || process_alive(pid) {
            continue;
        }
        let gone = if md.is_file() {
            std::fs::remove_file(entry.path())
        } else if md.is_dir() {
            std::fs::remove_dir_all(entry.path())
        } else {
            continue;
        };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
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
/// of this crate (e.g. [`write_new`]).
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
    fn stale_temporary_files_of_dead_processes_are_swept() {
        let d = tempfile::tempdir().unwrap();
        // No process has a pid above the kernel's maximum (2^22).
        let dead = d.path().join(".kss-sealed-99999999~abc123");
        let live = d
            .path()
            .join(format!(".kss-sgxs-{}~abc123", std::process::id()));
        let other = d.path().join("99999999~keep");
        for p in [&dead, &live, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        Staged::new_in(d.path(), ".kss-tmp-", 0o644).unwrap();
        assert!(!dead.exists(), "a dead process's temporary file is swept");
        assert!(live.exists(), "a live process's temporary file is kept");
        assert!(other.exists(), "files not named by kss are kept");
        assert_eq!(temp_owner(".kss-tmp-123~x"), Some(123));
        assert_eq!(temp_owner(".kss-tmp-~x"), None);
        assert_eq!(temp_owner("kss-tmp-1~x"), None);
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

    #[test]
    fn read_bounded_limits() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, [1u8; 64]).unwrap();
        assert_eq!(read_bounded(&p, 64).unwrap().len(), 64);
        let e = read_bounded(&p, 63).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("63-byte limit"), "{e}");
        let e = read_bounded(Path::new("/dev/zero"), 64).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn private_dir_is_0700_whatever_the_umask() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().join("a/b/kss");
        create_private_dir_all(&home).unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        create_private_dir_all(&home).unwrap();
    }
}
