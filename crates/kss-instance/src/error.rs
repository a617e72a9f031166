//! Errors of the instance layer.

use std::path::PathBuf;

/// A value in Occlum.json that kss cannot accept. Always names the JSON path, the value and
/// what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file is not JSON.
    #[error("Occlum.json is not valid JSON: {0}")]
    Json(String),
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
    Rule(String),
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
    /// The enclave layout cannot be built from these limits.
    #[error("enclave layout: {0}")]
    Layout(String),
    /// The SGXS stream could not be produced from the layout (a bug or an impossible layout;
    /// the input that caused it is in the message).
    #[error("SGXS: {0}")]
    Sgxs(String),
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
