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
            v.truncate(77);
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
    /// Writing the SGXS stream failed.
    #[error("SGXS: {0}")]
    Sgxs(String),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(String),
    /// A non-debuggable instance needs an explicit signing key.
    #[error("metadata.debuggable is false, so a production signing key is required: pass --sign-key PEM (create one with `kss keygen --out key.pem`)")]
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
