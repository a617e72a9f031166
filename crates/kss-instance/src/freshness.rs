//! Whether an instance's build still matches it ([`check_fresh`]) and whether the files of
//! `build/` are of that one build ([`check_build`]), with the reasons they are not
//! ([`Staleness`]).

use crate::build::{enclave_parameters, Instance};
use crate::config::{ConfigBinding, InstanceConfig};
use crate::error::InstanceError;
use crate::image::ImageDigest;
use crate::layout::{Binding, EnclaveLayout};
use crate::summary::{build_summary, key};
use kss_types::Sigstruct;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why an instance's build cannot be used for it (see [`check_fresh`]).
#[derive(Debug, thiserror::Error)]
pub enum Staleness {
    /// There is no build summary: the instance was never built.
    #[error("{} is not built ({} is missing)", instance.display(), summary.display())]
    NotBuilt {
        /// The instance directory.
        instance: PathBuf,
        /// The summary file that is missing.
        summary: PathBuf,
    },
    /// The build summary exists but cannot be read as one.
    #[error("{}: {reason}", path.display())]
    Unreadable {
        /// The summary file (or the SGXS stream, when hashing it failed).
        path: PathBuf,
        /// What went wrong.
        #[source]
        reason: UnreadableCause,
    },
    /// Something the build measured or signed changed since.
    #[error(
        "{0} changed since the last `kss build`; the built enclave no longer matches the instance"
    )]
    Changed(&'static str),
    /// The image could not be digested to compare it.
    #[error(transparent)]
    Image(InstanceError),
    /// The files of `build/` are not of one build: `file` does not match the build record.
    #[error("{} does not belong to this build: {why}; the files of build/ must come from one `kss build`", file.display())]
    Mismatch {
        /// The file that does not match (`enclave.sig`, `enclave.sgxs` or `kss-build.json`).
        file: PathBuf,
        /// What differs.
        why: MismatchWhy,
    },
}

/// What differs between a file of `build/` and the build record ([`Staleness::Mismatch`]).
/// `recorded` is the record's value as written there (text, whatever it holds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MismatchWhy {
    /// The SIGSTRUCT signs another enclave than the record's MRENCLAVE.
    #[error("it signs MRENCLAVE {}, the record {} names {recorded}", hex::encode(.signed), .record.display())]
    SignedEnclave {
        /// ENCLAVEHASH of the SIGSTRUCT.
        signed: [u8; 32],
        /// The build record.
        record: PathBuf,
        /// The record's `mr_enclave`.
        recorded: String,
    },
    /// The record is not a JSON object.
    #[error("it is not a JSON object")]
    NotAnObject,
    /// The record predates `sgxs_sha256`.
    #[error("it has no sgxs_sha256 (made by an older kss); run `kss build` again")]
    NoSgxsSha256,
    /// The SGXS file is not the one recorded.
    #[error("its SHA-256 is {}, the record {} names {recorded}", hex::encode(.actual), .record.display())]
    SgxsSha256 {
        /// SHA-256 of the SGXS file.
        actual: [u8; 32],
        /// The build record.
        record: PathBuf,
        /// The record's `sgxs_sha256`.
        recorded: String,
    },
    /// The SIGSTRUCT's signer is not the recorded MRSIGNER.
    #[error("it is signed by MRSIGNER {}, the record {} names {recorded}", hex::encode(.actual), .record.display())]
    Signer {
        /// MRSIGNER of the SIGSTRUCT.
        actual: [u8; 32],
        /// The build record.
        record: PathBuf,
        /// The record's `mr_signer`.
        recorded: String,
    },
    /// A field of the record differs from what a build of this instance records.
    #[error("its field \"{0}\" is not what kss build records for this instance")]
    Field(String),
}

/// Why a build file could not be read ([`Staleness::Unreadable`]).
#[derive(Debug, thiserror::Error)]
pub enum UnreadableCause {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The summary is not JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Whether the instance's last build still matches it: in MRENCLAVE mode, the same Occlum.json
/// bytes (`config_bytes`) and the same image digest; in CONFIGID mode, a CONFIGID-mode build of
/// the same enclave parameters (the app is bound at launch, so image changes do not matter).
pub fn check_fresh(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
) -> Result<(), Staleness> {
    fresh(inst, config, config_bytes).map(|_| ())
}

/// [`check_fresh`], returning the build record and (MRENCLAVE mode) the image digest.
fn fresh(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
) -> Result<(serde_json::Value, Option<ImageDigest>), Staleness> {
    let summary = read_summary(inst)?;
    let mut digest = None;
    let has = |k: &str, want: &str| summary[k].as_str() == Some(want);
    match config.metadata.config_binding {
        ConfigBinding::Mrenclave => {
            if !has(
                key::OCCLUM_JSON_SHA256,
                &hex::encode(Sha256::digest(config_bytes)),
            ) {
                return Err(Staleness::Changed("Occlum.json"));
            }
            let image = inst.image_digest().map_err(Staleness::Image)?;
            if !has(key::IMAGE_DIGEST, &hex::encode(image.digest)) {
                return Err(Staleness::Changed("image/"));
            }
            digest = Some(image);
        }
        ConfigBinding::ConfigId => {
            if !same_enclave_parameters(&summary, config) {
                return Err(Staleness::Changed(
                    "the enclave parameters (metadata or resource_limits)",
                ));
            }
        }
    }
    Ok((summary, digest))
}

/// Whether the files of `build/` are of one build that matches the instance: what
/// [`check_fresh`] checks, then the record (`kss-build.json`) against what a build of this instance records (every
/// field, so an edited record is refused), the SIGSTRUCT's ENCLAVEHASH and signer against the
/// record's MRENCLAVE and MRSIGNER, and the SGXS file's SHA-256 against the record's. Hashing
/// the SGXS reads it once; its measurement is then checked again by EINIT at launch.
pub fn check_build(
    inst: &Instance,
    config: &InstanceConfig,
    config_bytes: &[u8],
    sigstruct: &Sigstruct,
) -> Result<(), Staleness> {
    let (summary, image) = fresh(inst, config, config_bytes)?;
    let record = inst.build_json_path();
    let mismatch = |file: PathBuf, why: MismatchWhy| Err(Staleness::Mismatch { file, why });
    let recorded = |k: &str| summary[k].as_str().unwrap_or("").to_string();
    let sig_hash = hex::encode(sigstruct.enclave_hash);
    if sig_hash != recorded(key::MR_ENCLAVE) {
        return mismatch(
            inst.sig_path(),
            MismatchWhy::SignedEnclave {
                signed: sigstruct.enclave_hash,
                record,
                recorded: recorded(key::MR_ENCLAVE),
            },
        );
    }
    // What a build of this instance with this SIGSTRUCT records, field by field.
    let binding = match &image {
        Some(img) => Binding::Measured {
            occlum_json: config_bytes.to_vec(),
            image_digest: img.digest,
        },
        None => Binding::ConfigId {
            parameters: enclave_parameters(config),
        },
    };
    let size = EnclaveLayout::for_config(config, &binding)
        .map_err(Staleness::Image)?
        .size;
    let sgxs_sha256 = sha256_file(&inst.sgxs_path()).map_err(|e| Staleness::Unreadable {
        path: inst.sgxs_path(),
        reason: e.into(),
    })?;
    let expected = build_summary(
        config,
        config_bytes,
        image.as_ref(),
        &sigstruct.enclave_hash,
        &kss_sign::mr_signer(sigstruct),
        size,
        &sgxs_sha256,
    );
    // Strings, numbers and booleans: turning them into a `Value` cannot fail.
    let expected = serde_json::to_value(expected).unwrap_or_default();
    let (Some(want), Some(got)) = (expected.as_object(), summary.as_object()) else {
        return mismatch(record, MismatchWhy::NotAnObject);
    };
    if got.get(key::SGXS_SHA256) != want.get(key::SGXS_SHA256) {
        if got.get(key::SGXS_SHA256).is_none() {
            return mismatch(record, MismatchWhy::NoSgxsSha256);
        }
        return mismatch(
            inst.sgxs_path(),
            MismatchWhy::SgxsSha256 {
                actual: sgxs_sha256,
                record,
                recorded: recorded(key::SGXS_SHA256),
            },
        );
    }
    if got.get("mr_signer") != want.get("mr_signer") {
        return mismatch(
            inst.sig_path(),
            MismatchWhy::Signer {
                actual: kss_sign::mr_signer(sigstruct),
                record,
                recorded: recorded("mr_signer"),
            },
        );
    }
    let keys: std::collections::BTreeSet<&String> = want.keys().chain(got.keys()).collect();
    for k in keys {
        if want.get(k) != got.get(k) {
            return mismatch(record, MismatchWhy::Field(k.clone()));
        }
    }
    Ok(())
}

/// The SHA-256 of a file, read in 1 MiB blocks.
fn sha256_file(path: &Path) -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finalize().into());
        }
        h.update(&buf[..n]);
    }
}

/// Reads `build/kss-build.json`.
pub(crate) fn read_summary(inst: &Instance) -> Result<serde_json::Value, Staleness> {
    let path = inst.build_json_path();
    let text = match kss_io::read_bounded(&path, kss_io::limits::CONFIG_JSON) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Staleness::NotBuilt {
                instance: inst.dir.clone(),
                summary: path,
            })
        }
        Err(e) => {
            return Err(Staleness::Unreadable {
                path,
                reason: e.into(),
            })
        }
    };
    serde_json::from_slice(&text).map_err(|e| Staleness::Unreadable {
        path,
        reason: e.into(),
    })
}

/// Whether a build summary records a build in `config`'s binding mode from `config`'s enclave
/// parameters (what a CONFIGID-mode enclave is made of).
pub(crate) fn same_enclave_parameters(
    summary: &serde_json::Value,
    config: &InstanceConfig,
) -> bool {
    let params = hex::encode(Sha256::digest(enclave_parameters(config)));
    summary[key::CONFIG_BINDING].as_str() == Some(config.metadata.config_binding.as_str())
        && summary[key::ENCLAVE_PARAMETERS_SHA256].as_str() == Some(params.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_messages_name_both_values() {
        let record = PathBuf::from("app/build/kss-build.json");
        let why = MismatchWhy::SignedEnclave {
            signed: [0xab; 32],
            record: record.clone(),
            recorded: "00ff".into(),
        };
        assert_eq!(
            why.to_string(),
            format!(
                "it signs MRENCLAVE {}, the record app/build/kss-build.json names 00ff",
                "ab".repeat(32)
            )
        );
        let e = Staleness::Mismatch {
            file: "app/build/enclave.sgxs".into(),
            why: MismatchWhy::SgxsSha256 {
                actual: [1; 32],
                record: record.clone(),
                recorded: "x".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            format!(
                "app/build/enclave.sgxs does not belong to this build: its SHA-256 is {}, the \
                 record app/build/kss-build.json names x; the files of build/ must come from one \
                 `kss build`",
                "01".repeat(32)
            )
        );
        assert_eq!(
            MismatchWhy::Field("size".into()).to_string(),
            "its field \"size\" is not what kss build records for this instance"
        );
    }

    #[test]
    fn an_unreadable_summary_keeps_the_json_error() {
        let json = serde_json::from_slice::<serde_json::Value>(b"{").unwrap_err();
        let text = json.to_string();
        let e = Staleness::Unreadable {
            path: "s.json".into(),
            reason: json.into(),
        };
        assert_eq!(e.to_string(), format!("s.json: {text}"));
        let cause = std::error::Error::source(&e).expect("a cause");
        assert!(matches!(
            cause.downcast_ref::<UnreadableCause>(),
            Some(UnreadableCause::Json(j)) if j.is_eof()
        ));
        assert!(matches!(
            e,
            Staleness::Unreadable {
                reason: UnreadableCause::Json(_),
                ..
            }
        ));
    }
}
