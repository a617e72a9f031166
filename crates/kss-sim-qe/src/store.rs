//! Where the simulated PCK CA lives and how its files are written: one directory per user,
//! private files (0600), created all at once so a half-written CA is never observed.

use super::SimError;
use std::fs;
use std::path::{Path, PathBuf};

/// The per-user directory of the simulated CA: `sim-ca` in the kss home
/// ([`kss_io::kss_home`]: `$KSS_HOME`, else `$XDG_DATA_HOME/kss`, else
/// `$HOME/.local/share/kss`). `None` when none of these variables is set.
pub fn default_sim_ca_dir() -> Option<PathBuf> {
    kss_io::kss_home().map(|h| h.join("sim-ca"))
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl Fn(std::io::Error) -> SimError + 'a {
    move |e| SimError::Io {
        path: path.to_path_buf(),
        action,
        source: e,
    }
}

/// A failed [`kss_io`] write as a [`SimError::Io`] about the file (or directory) it concerns.
fn write_err(e: kss_io::WriteError) -> SimError {
    SimError::Io {
        path: e.path,
        action: "write",
        source: e.source,
    }
}

/// Reads a file of the store.
pub(crate) fn read(dir: &Path, name: &str) -> Result<Vec<u8>, SimError> {
    let path = dir.join(name);
    kss_io::read_bounded(&path, kss_io::limits::COLLATERAL).map_err(io_err(&path, "read"))
}

/// Writes a new private (0600) file durably; never replaces an existing one.
pub(crate) fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SimError> {
    kss_io::write_new(&dir.join(name), bytes, 0o600, ".kss-tmp-").map_err(write_err)
}

/// A name suffix unique to this call: the process ID (so two processes never share it) and a
/// per-process counter (so two threads never do). A leftover with the same name can only come
/// from a dead process whose ID was reused.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes `name` in `dir` atomically and durably as a private (0600) file, replacing any old
/// file.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SimError> {
    kss_io::write_atomic(&dir.join(name), bytes, 0o600).map_err(write_err)
}

/// Creates `parent/.name.tmpPID-N` as a private (0700) staging directory, unique to this call
/// (threads of one process creating the CA at once each get their own).
pub(crate) fn staging_dir(target: &Path) -> Result<PathBuf, SimError> {
    let parent = target.parent().unwrap_or(Path::new("."));
    kss_io::create_private_dir_all(parent).map_err(io_err(parent, "create directory"))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sim-ca".into());
    let staging = parent.join(format!(".{name}.tmp{}", unique_suffix()));
    let _ = fs::remove_dir_all(&staging);
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(&staging)
        .map_err(io_err(&staging, "create directory"))?;
    Ok(staging)
}

/// Moves a fully written staging directory to `target`. Returns `false` (and removes the
/// staging directory) when another process created `target` first.
pub(crate) fn publish(staging: &Path, target: &Path) -> Result<bool, SimError> {
    match fs::rename(staging, target) {
        Ok(()) => Ok(true),
        Err(_) if target.join(super::MARKER_FILE).exists() => {
            let _ = fs::remove_dir_all(staging);
            Ok(false)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(staging);
            Err(io_err(target, "move the new CA into place")(e))
        }
    }
}
