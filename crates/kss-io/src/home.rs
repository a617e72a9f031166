//! The per-user kss home directory: where it is, and creating it (or a store inside it) private
//! to its owner.

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
