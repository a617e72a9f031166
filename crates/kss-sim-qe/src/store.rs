//! Where the simulated PCK CA lives and how its files are written: one directory per user,
//! private files (0600), created all at once so a half-written CA is never observed.

use super::SimError;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The per-user directory of the simulated CA: `$KSS_HOME/sim-ca`, else
/// `$XDG_DATA_HOME/kss/sim-ca`, else `$HOME/.local/share/kss/sim-ca`. `None` when none of
/// these variables is set.
pub fn default_sim_ca_dir() -> Option<PathBuf> {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(home) = non_empty("KSS_HOME") {
        return Some(PathBuf::from(home).join("sim-ca"));
    }
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        return Some(PathBuf::from(data).join("kss").join("sim-ca"));
    }
    non_empty("HOME").map(|h| {
        PathBuf::from(h)
            .join(".local")
            .join("share")
            .join("kss")
            .join("sim-ca")
    })
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl Fn(std::io::Error) -> SimError + 'a {
    move |e| SimError::Io {
        path: path.to_path_buf(),
        action,
        detail: e.to_string(),
    }
}

/// Reads a file of the store.
pub(crate) fn read(dir: &Path, name: &str) -> Result<Vec<u8>, SimError> {
    let path = dir.join(name);
    fs::read(&path).map_err(io_err(&path, "read"))
}

/// Writes a private (0600) file, flushing it to disk.
pub(crate) fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SimError> {
    let path = dir.join(name);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).map_err(io_err(&path, "create"))?;
    f.write_all(bytes).map_err(io_err(&path, "write"))?;
    f.sync_all().map_err(io_err(&path, "sync"))
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

/// Writes `name` in `dir` atomically (temporary file, fsync, rename), replacing any old file.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SimError> {
    let tmp_name = format!(".{name}.tmp{}", unique_suffix());
    let tmp = dir.join(&tmp_name);
    let _ = fs::remove_file(&tmp);
    write_private(dir, &tmp_name, bytes)?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(&path, "rename into place")(e)
    })
}

/// Creates `parent/.name.tmpPID-N` as a private (0700) staging directory, unique to this call
/// (threads of one process creating the CA at once each get their own).
pub(crate) fn staging_dir(target: &Path) -> Result<PathBuf, SimError> {
    let parent = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err(parent, "create directory"))?;
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
