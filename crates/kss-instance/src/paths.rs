//! Where kss keeps per-user state (the development signing key, the simulation CA).

use std::path::PathBuf;

/// The per-user kss directory: `$KSS_HOME`, else `$XDG_DATA_HOME/kss`, else
/// `$HOME/.local/share/kss`, else `./.kss`.
pub fn kss_home() -> PathBuf {
    if let Some(p) = std::env::var_os("KSS_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("kss");
    }
    if let Some(p) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join(".local/share/kss");
    }
    PathBuf::from(".kss")
}

/// The development signing key used for debuggable instances built without `--sign-key`.
pub fn dev_key_path() -> PathBuf {
    kss_home().join("dev-signing-key.pem")
}
