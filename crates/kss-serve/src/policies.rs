//! The policy directory: every `DIR/<id>.json` is a kss policy (docs/policy.md) served under
//! `<id>`. `default` is used when a request names none; without `DIR/default.json` it is the
//! built-in default policy. A set is loaded whole or not at all: one file that does not parse
//! refuses the load (the caller keeps the previous set).

use kss_attest::policy::Policy;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The id used when a request names no policy.
pub const DEFAULT_POLICY_ID: &str = "default";

/// Largest policy file read (policies are small JSON documents).
const MAX_POLICY_FILE: u64 = 1 << 20;

/// One loaded policy.
#[derive(Debug)]
pub struct PolicyEntry {
    /// Its id (the file name without `.json`).
    pub id: String,
    /// The parsed policy.
    pub policy: Policy,
    /// SHA-256 of the file's bytes (of the canonical JSON for the built-in default).
    pub sha256: [u8; 32],
    /// The file it came from; `None` for the built-in default.
    pub path: Option<PathBuf>,
}

impl PolicyEntry {
    /// `<id>@sha256:<hex>`: the EAR `ear.appraisal-policy-id`.
    pub fn appraisal_policy_id(&self) -> String {
        format!("{}@sha256:{}", self.id, hex::encode(self.sha256))
    }

    /// The built-in default policy (any non-debug enclave on an `UpToDate` platform).
    pub fn built_in_default() -> Self {
        let policy = Policy::default();
        let canonical = serde_json::to_vec(&policy.to_json()).unwrap_or_default();
        Self {
            id: DEFAULT_POLICY_ID.to_string(),
            sha256: Sha256::digest(&canonical).into(),
            policy,
            path: None,
        }
    }
}

/// Why a policy directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    /// The directory or a file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file too large to be a policy.
    #[error("{path}: {len} bytes: larger than 1 MiB, not a policy")]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// Its size.
        len: u64,
    },
    /// A file that is not UTF-8 text.
    #[error("{path}: not UTF-8 text")]
    NotUtf8 {
        /// The path.
        path: PathBuf,
    },
    /// A policy file does not parse or has a bad value.
    #[error("{0}")]
    Policy(#[source] kss_attest::PolicyError),
    /// A file name that cannot be a policy id.
    #[error("{path}: not a valid policy id ({reason})")]
    BadName {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Checks a policy id: 1 to 64 characters of `A-Z a-z 0-9 . _ -`, not starting with `.`.
pub fn check_policy_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err("empty");
    }
    if id.len() > 64 {
        return Err("longer than 64 characters");
    }
    if id.starts_with('.') {
        return Err("starts with '.'");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("only letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}

/// A loaded set of policies.
#[derive(Debug)]
pub struct PolicySet {
    entries: BTreeMap<String, Arc<PolicyEntry>>,
    dir: PathBuf,
}

impl PolicySet {
    /// Loads every `*.json` file of `dir`. Fails on the first file that cannot be read or parsed,
    /// naming it; other files are ignored.
    pub fn load(dir: &Path) -> Result<Self, PolicyLoadError> {
        let io = |path: &Path, source: std::io::Error| PolicyLoadError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut entries = BTreeMap::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .map(|e| e.map(|e| e.path()).map_err(|e| io(dir, e)))
            .collect::<Result<_, _>>()?;
        files.sort();
        for path in files {
            if path.extension().and_then(|e| e.to_str()) != Some("json") || !path.is_file() {
                continue;
            }
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or(PolicyLoadError::BadName {
                    path: path.clone(),
                    reason: "not UTF-8",
                })?
                .to_string();
            check_policy_id(&id).map_err(|reason| PolicyLoadError::BadName {
                path: path.clone(),
                reason,
            })?;
            let len = std::fs::metadata(&path).map_err(|e| io(&path, e))?.len();
            if len > MAX_POLICY_FILE {
                return Err(PolicyLoadError::TooLarge { path, len });
            }
            let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| PolicyLoadError::NotUtf8 { path: path.clone() })?;
            let policy = Policy::from_json(text, &path.display().to_string())
                .map_err(PolicyLoadError::Policy)?;
            let entry = PolicyEntry {
                id: id.clone(),
                policy,
                sha256: Sha256::digest(&bytes).into(),
                path: Some(path),
            };
            entries.insert(id, Arc::new(entry));
        }
        entries
            .entry(DEFAULT_POLICY_ID.to_string())
            .or_insert_with(|| Arc::new(PolicyEntry::built_in_default()));
        Ok(Self {
            entries,
            dir: dir.to_path_buf(),
        })
    }

    /// The policy with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<PolicyEntry>> {
        self.entries.get(id)
    }

    /// Every policy, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<PolicyEntry>> {
        self.entries.values()
    }

    /// Number of policies (the default included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true: the default is always there.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The directory the set was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `GET /v1/policies`: ids with their SHA-256.
    pub fn listing(&self) -> PolicyListing<'_> {
        PolicyListing {
            policies: self
                .entries
                .values()
                .map(|e| PolicySummary {
                    id: &e.id,
                    sha256: hex::encode(e.sha256),
                    built_in: e.path.is_none(),
                })
                .collect(),
        }
    }
}

/// The body of `GET /v1/policies`.
#[derive(Debug, Serialize)]
pub struct PolicyListing<'a> {
    /// One entry per policy, by id.
    pub policies: Vec<PolicySummary<'a>>,
}

/// One policy in [`PolicyListing`].
#[derive(Debug, Serialize)]
pub struct PolicySummary<'a> {
    /// Its id.
    pub id: &'a str,
    /// SHA-256 of its file (hex).
    pub sha256: String,
    /// True for the built-in default.
    pub built_in: bool,
}

/// The body of `GET /v1/policies/{id}`.
#[derive(Debug, Serialize)]
pub struct PolicyDetail<'a> {
    /// Its id.
    pub id: &'a str,
    /// SHA-256 of its file (hex).
    pub sha256: String,
    /// `<id>@sha256:<hex>`, as tokens name it.
    pub appraisal_policy_id: String,
    /// True for the built-in default.
    pub built_in: bool,
    /// The policy, normalized (every set key).
    pub policy: serde_json::Value,
}

impl PolicyEntry {
    /// The body of `GET /v1/policies/{id}`.
    pub fn detail(&self) -> PolicyDetail<'_> {
        PolicyDetail {
            id: &self.id,
            sha256: hex::encode(self.sha256),
            appraisal_policy_id: self.appraisal_policy_id(),
            built_in: self.path.is_none(),
            policy: self.policy.to_json(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(check_policy_id("default").is_ok());
        assert!(check_policy_id("prod-v1.2_x").is_ok());
        for bad in ["", ".hidden", "a/b", "../x", "a b", &"x".repeat(65), "é"] {
            assert!(check_policy_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn load_default_and_files_and_refuse_bad() {
        let dir = tempfile::tempdir().unwrap();
        let set = PolicySet::load(dir.path()).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.get(DEFAULT_POLICY_ID).unwrap().path.is_none());

        std::fs::write(dir.path().join("strict.json"), r#"{"min_config_svn": 3}"#).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let set = PolicySet::load(dir.path()).unwrap();
        assert_eq!(set.len(), 2);
        let e = set.get("strict").unwrap();
        assert_eq!(e.policy.min_config_svn, Some(3));
        assert_eq!(
            hex::encode(e.sha256),
            hex::encode(Sha256::digest(br#"{"min_config_svn": 3}"#))
        );
        assert!(e.appraisal_policy_id().starts_with("strict@sha256:"));

        std::fs::write(dir.path().join("bad.json"), r#"{"min_config_svn": "x"}"#).unwrap();
        let err = PolicySet::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bad.json"), "{err}");
    }

    #[test]
    fn load_errors_keep_their_cause_and_their_words() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{").unwrap();
        let e = PolicySet::load(dir.path()).unwrap_err();
        let policy = e
            .source()
            .and_then(|s| s.downcast_ref::<kss_attest::PolicyError>());
        assert_eq!(policy.map(ToString::to_string), Some(e.to_string()));
        let json = policy.and_then(|p| p.source());
        assert!(json.is_some_and(|j| j.is::<serde_json::Error>()), "{e:?}");
        std::fs::write(&bad, b"\xff").unwrap();
        let e = PolicySet::load(dir.path()).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: not UTF-8 text", bad.display()));
        std::fs::write(&bad, vec![b' '; MAX_POLICY_FILE as usize + 1]).unwrap();
        let e = PolicySet::load(dir.path()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: 1048577 bytes: larger than 1 MiB, not a policy",
                bad.display()
            )
        );
        let gone = dir.path().join("gone");
        let e = PolicySet::load(&gone).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: No such file or directory (os error 2)", gone.display())
        );
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()));
    }
}
