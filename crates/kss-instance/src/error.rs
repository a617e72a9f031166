//! Errors of the instance layer.

use std::path::PathBuf;

/// A value in Occlum.json that kss cannot accept. Always names the JSON path, the value and
/// what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not JSON.
    #[error("Occlum.json is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A value has the wrong type, format or range.
    #[error("Occlum.json: {path} = {value}: {expected}")]
    Value {
        /// JSON path such as `metadata.family_id.high`.
        path: String,
        /// The offending value, as JSON.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// A rule that ties several values together is broken.
    #[error("Occlum.json: {0}")]
    Rule(ConfigRule),
    /// A key in a section kss owns (`metadata`, `resource_limits`) that neither kss nor Occlum
    /// defines: most likely a typo.
    #[error("Occlum.json: unknown key {section}.{key} (did you mean {section}.{nearest}?); valid keys: {}", valid.join(", "))]
    UnknownKey {
        /// The section (`metadata` or `resource_limits`).
        section: &'static str,
        /// The unknown key.
        key: String,
        /// The valid key nearest to it (edit distance).
        nearest: &'static str,
        /// Every valid key of the section.
        valid: Vec<&'static str>,
    },
}

/// A rule of Occlum.json that ties several values together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigRule {
    /// Family or extended product ID without KSS.
    #[error("metadata.family_id / metadata.ext_prod_id are non-zero but metadata.enable_kss is false: KSS must be enabled if ISVEXTPRODID or ISVFAMILYID is set (set \"enable_kss\": true)")]
    IdsNeedKss,
    /// CONFIGID binding without KSS.
    #[error("metadata.config_binding is \"config_id\" but metadata.enable_kss is false: binding the app through CONFIGID needs KSS (set \"enable_kss\": true)")]
    ConfigIdBindingNeedsKss,
}

/// Why the enclave layout (or the image it holds) cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutProblem {
    /// The pages do not fit a 64-bit SIZE once rounded up to a power of two.
    #[error("the enclave needs {bytes} bytes, more than a 64-bit SIZE allows")]
    SizeOverflow {
        /// Bytes the pages take.
        bytes: u64,
    },
    /// The enclave would exceed what kss builds ([`crate::layout::MAX_ENCLAVE_SIZE`], 64 GiB).
    #[error("resource_limits: the enclave would be {} GiB (max_num_of_threads x kernel_space_stack_size + kernel_space_heap_size + user_space_size, rounded up to a power of two); kss builds enclaves of at most {} GiB: reduce resource_limits", size >> 30, crate::layout::MAX_ENCLAVE_SIZE >> 30)]
    TooLarge {
        /// The enclave SIZE.
        size: u64,
    },
    /// A symlink of the image that does not resolve inside it (see `docs/build.md`).
    #[error("'{}' is a symlink to '{}', which {why}; symlinks in image/ must resolve inside it (copy the file into the image instead)", link.display(), target.display())]
    SymlinkOutside {
        /// The symlink.
        link: PathBuf,
        /// Its target, as written.
        target: PathBuf,
        /// Where it leads instead.
        why: String,
    },
    /// An image entry that is not a regular file, directory or symlink.
    #[error("'{}' is not a regular file, directory or symlink; images may contain only those", path.display())]
    UnsupportedFileType {
        /// The entry.
        path: PathBuf,
    },
}

impl ConfigError {
    pub(crate) fn value(path: &str, value: &serde_json::Value, expected: &str) -> Self {
        let mut v = value.to_string();
        if v.len() > 80 {
            // Cut at a character boundary at or before byte 77 (the JSON text may be UTF-8).
            let cut = (0..=77).rev().find(|&i| v.is_char_boundary(i)).unwrap_or(0);
            v.truncate(cut);
            v.push_str("...");
        }
        Self::Value {
            path: path.to_string(),
            value: v,
            expected: expected.to_string(),
        }
    }
}

/// Errors of `kss new` and `kss build`.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Occlum.json is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `kss new` was pointed at a directory that already has content.
    #[error("'{0}' is not empty; kss new only creates a fresh instance (choose a new directory)")]
    NotEmpty(PathBuf),
    /// The directory is not an instance.
    #[error("'{0}' has no Occlum.json; create an instance with `kss new DIR` or point at one")]
    NotAnInstance(PathBuf),
    /// The instance directory does not exist.
    #[error("'{0}' does not exist; create an instance with `kss new DIR` or point at one")]
    NoSuchDirectory(PathBuf),
    /// The enclave layout cannot be built from these limits.
    #[error("enclave layout: {0}")]
    Layout(#[source] LayoutProblem),
    /// The SGXS stream could not be produced from the layout (a bug or an impossible layout;
    /// the input that caused it is in the message).
    #[error("SGXS: {0}")]
    Sgxs(#[source] kss_sgxs::SgxsError),
    /// The SGXS stream's output failed (disk full, I/O error): an environment problem, not bad
    /// input. `kss build` reports it as [`InstanceError::Io`] with the file's path.
    #[error("cannot write the SGXS stream: {0}")]
    SgxsWrite(#[source] std::io::Error),
    /// The signing key cannot be used.
    #[error("signing: {}: {source}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why it cannot be used.
        #[source]
        source: kss_sign::KeyError,
    },
    /// The development key could not be generated or exported.
    #[error("signing: {0}")]
    KeyGen(#[source] kss_sign::KeyError),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(#[source] kss_sign::SignError),
    /// A non-debuggable instance needs an explicit signing key (`BuildOptions::sign_key`).
    #[error("metadata.debuggable is false, so a production signing key is required")]
    ProductionKeyRequired,
}

impl InstanceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(value: &serde_json::Value) -> String {
        match ConfigError::value("metadata.debuggable", value, "true or false") {
            ConfigError::Value { value, .. } => value,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long_values_are_cut_at_a_char_boundary() {
        // 60 two-byte characters, shifted by 0 or 1 ASCII byte so that byte 77 falls both on
        // and inside a character.
        for prefix in ["", "a"] {
            let value = serde_json::Value::String(format!("{prefix}{}", "é".repeat(60)));
            let v = shown(&value);
            let cut = v.strip_suffix("...").expect("shortened");
            assert!(value.to_string().starts_with(cut), "{v}");
            assert!((76..=77).contains(&cut.len()), "{}", cut.len());
        }
        // Byte 77 inside an 'é': `"a` plus 37 whole characters (76 bytes) are kept.
        let v = shown(&serde_json::Value::String(format!("a{}", "é".repeat(60))));
        assert_eq!(v, format!("\"a{}...", "é".repeat(37)));
        // ASCII is still cut at exactly 77 bytes.
        assert_eq!(shown(&serde_json::Value::String("a".repeat(100))).len(), 80);
    }
}
