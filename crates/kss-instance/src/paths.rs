//! Where kss keeps per-user state (the development signing key, the simulation CA).

use std::path::PathBuf;

/// The per-user kss directory ([`kss_io::kss_home`]), else `./.kss`.
pub fn kss_home() -> PathBuf {
    kss_io::kss_home().unwrap_or_else(|| PathBuf::from(".kss"))
}

/// The development signing key used for debuggable instances built without `--sign-key`.
pub fn dev_key_path() -> PathBuf {
    kss_home().join("dev-signing-key.pem")
}
