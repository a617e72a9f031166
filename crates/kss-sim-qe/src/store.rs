//! Where the simulated PCK CA lives and how its files are written: one directory per user,
//! private files (0600), created all at once so a half-written CA is never observed.

use super::SimError;
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

/// Writes `name` in `dir` atomically and durably as a private (0600) file, replacing any old
/// file.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), SimError> {
    kss_io::write_atomic(&dir.join(name), bytes, 0o600).map_err(write_err)
}

/// A private (0700) staging directory next to `target`, unique to this call (threads of one
/// process creating the CA at once each get their own): `.kss-staging-<name>-{pid}~{n}`,
/// removed when dropped unpublished, and swept by the next one when a killed process left it.
pub(crate) fn staging_dir(target: &Path) -> Result<kss_io::StagedDir, SimError> {
    let parent = kss_io::parent_dir(target);
    kss_io::create_private_dir_all(parent).map_err(io_err(parent, "create directory"))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sim-ca".into());
    kss_io::StagedDir::new_in(parent, &format!(".kss-staging-{name}-"), 0o700).map_err(write_err)
}

/// Removes staging directories that killed processes left next to `target`.
pub(crate) fn sweep_staging(target: &Path) {
    kss_io::sweep_stale(kss_io::parent_dir(target));
}

/// Moves a fully written staging directory to `target`. Returns `false` (and removes the
/// staging directory) when another process created `target` first.
pub(crate) fn publish(staging: kss_io::StagedDir, target: &Path) -> Result<bool, SimError> {
    match staging.publish(target) {
        Ok(done) => Ok(done),
        // Another process's CA may have appeared without filling the directory check above.
        Err(_) if target.join(super::MARKER_FILE).exists() => Ok(false),
        Err(e) => Err(SimError::Io {
            path: e.path,
            action: "move the new CA into place",
            source: e.source,
        }),
    }
}
