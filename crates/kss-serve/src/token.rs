//! Attestation result tokens: an EAT Attestation Result (EAR, IETF RATS;
//! `tag:github.com,2023:veraison/ear`) as a JWT signed with ES256, and the JWKS that verifies it.
//!
//! The claims are the `Serialize` structs below. Signing is done by `jsonwebtoken` (ECDSA from
//! `ring`); the key is read once from a PKCS#8 or SEC1 PEM file that must not be accessible to
//! group or others. The key's `kid` is its RFC 7638 JWK thumbprint, so replicas sharing the key
//! publish the same JWKS.

use crate::appraise::RuntimeDataHash;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use zeroize::Zeroizing;

/// The EAR profile.
pub const EAR_PROFILE: &str = "tag:github.com,2023:veraison/ear";
/// The name of the single submodule.
pub const SUBMOD: &str = "sgx";

/// Why a signing key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("{path}: cannot read the signing key: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is accessible to group or others.
    #[error("{path}: the signing key is accessible to group or others (mode {mode:03o}); run `chmod 600 {path}`")]
    Permissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a P-256 private key.
    #[error("{path}: not an EC P-256 private key in PEM (PKCS#8 \"PRIVATE KEY\" or SEC1 \"EC PRIVATE KEY\")")]
    Format {
        /// The file.
        path: String,
    },
}

/// The token signing key (ES256) with its public JWK.
pub struct TokenSigner {
    encoding: jsonwebtoken::EncodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.jwk.kid)
            .field("private_key", &"(redacted)")
            .finish()
    }
}

/// A public key in JWK form (EC P-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `EC`.
    pub kty: String,
    /// `P-256`.
    pub crv: String,
    /// X coordinate, base64url.
    pub x: String,
    /// Y coordinate, base64url.
    pub y: String,
    /// Key id: the RFC 7638 thumbprint.
    pub kid: String,
    /// `ES256`.
    pub alg: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

/// A JSON Web Key Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// Reads a signing key file, refusing one that group or others may access.
pub fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| KeyError::Io {
        path: name.clone(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions { path: name, mode });
    }
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| KeyError::Io { path: name, source })
}

impl TokenSigner {
    /// Loads the key from a PEM file (see [`read_key_file`]).
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let pem = read_key_file(path)?;
        Self::from_pem(&pem, &path.display().to_string())
    }

    /// Parses a P-256 private key in PEM (PKCS#8 or SEC1).
    pub fn from_pem(pem: &[u8], name: &str) -> Result<Self, KeyError> {
        let bad = || KeyError::Format {
            path: name.to_string(),
        };
        let text = std::str::from_utf8(pem).map_err(|_| bad())?;
        let secret = p256::SecretKey::from_pkcs8_pem(text)
            .or_else(|_| p256::SecretKey::from_sec1_pem(text))
            .map_err(|_| bad())?;
        Self::from_secret(&secret).ok_or_else(bad)
    }

    /// A signer for `secret`.
    pub fn from_secret(secret: &p256::SecretKey) -> Option<Self> {
        let der = secret.to_pkcs8_der().ok()?;
        let encoding = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
        let point = secret.public_key().to_encoded_point(false);
        let (x, y) = (point.x()?, point.y()?);
        let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let thumb_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumb_input.as_bytes()));
        Some(Self {
            encoding,
            jwk: Jwk {
                kty: "EC".into(),
                crv: "P-256".into(),
                x,
                y,
                kid,
                alg: "ES256".into(),
                use_: "sig".into(),
            },
        })
    }

    /// A fresh random key (tests and benchmarks).
    pub fn generate() -> Self {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        Self::from_secret(&secret).unwrap_or_else(|| unreachable!("a valid key"))
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// The public key set: `GET /.well-known/jwks.json`.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.jwk.clone()],
        }
    }

    /// Signs `claims` as a compact JWS (ES256, `typ: JWT`, `kid`).
    pub fn sign(&self, claims: &EarClaims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.jwk.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}

/// Why a new signing key could not be written.
#[derive(Debug, thiserror::Error)]
pub enum KeyWriteError {
    /// The key could not be encoded as PKCS#8 PEM.
    #[error("{0}")]
    Encode(#[source] p256::pkcs8::Error),
    /// The file could not be created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The new key gives no signer.
    #[error("key")]
    Key,
}

/// Writes a new P-256 signing key as PKCS#8 PEM with mode 0600 (`kss token keygen`). Refuses
/// to overwrite an existing file. Returns the key's `kid`.
pub fn write_new_key(path: &Path) -> Result<String, KeyWriteError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = secret
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .map_err(KeyWriteError::Encode)?;
    let io = |source| KeyWriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(pem.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io)?;
    let signer = TokenSigner::from_secret(&secret).ok_or(KeyWriteError::Key)?;
    Ok(signer.kid().to_string())
}

/// The EAR status of the submodule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EarStatus {
    /// Accepted on an `UpToDate` platform without advisories.
    Affirming,
    /// Accepted by the policy with another TCB status, or with advisories.
    Warning,
    /// Rejected (a verification or policy check failed).
    Contraindicated,
}

impl EarStatus {
    /// The status name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Affirming => "affirming",
            Self::Warning => "warning",
            Self::Contraindicated => "contraindicated",
        }
    }
}

/// `ear.verifier-id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifierId {
    /// The verifier build.
    pub build: String,
    /// Who develops it.
    pub developer: String,
}

impl Default for VerifierId {
    fn default() -> Self {
        Self {
            build: concat!("kss-serve ", env!("CARGO_PKG_VERSION")).into(),
            developer: "kss".into(),
        }
    }
}

/// A failed check as named in the token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailedCheck {
    /// The check's name, e.g. `policy.tcb_status`.
    pub name: String,
    /// Why it failed.
    pub reason: String,
}

/// SHA-256 (hex) of each collateral piece the verification used.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CollateralDigests {
    /// The TCB info body.
    pub tcb_info: String,
    /// The TCB info issuer chain.
    pub tcb_info_issuer_chain: String,
    /// The QE identity body.
    pub qe_identity: String,
    /// The QE identity issuer chain.
    pub qe_identity_issuer_chain: String,
    /// The PCK CRL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pck_crl: Option<String>,
    /// The PCK CRL issuer chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pck_crl_issuer_chain: Option<String>,
    /// The Root CA CRL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_ca_crl: Option<String>,
}

impl CollateralDigests {
    /// The digests of `c`.
    pub fn of(c: &kss_attest::collateral::Collateral) -> Self {
        let h = |b: &[u8]| hex::encode(Sha256::digest(b));
        Self {
            tcb_info: h(&c.tcb_info.body),
            tcb_info_issuer_chain: h(&c.tcb_info_issuer_chain),
            qe_identity: h(&c.qe_identity.body),
            qe_identity_issuer_chain: h(&c.qe_identity_issuer_chain),
            pck_crl: c.pck_crl.as_deref().map(h),
            pck_crl_issuer_chain: c.pck_crl_issuer_chain.as_deref().map(h),
            root_ca_crl: c.root_ca_crl.as_deref().map(h),
        }
    }
}

/// `ear.veraison.annotated-evidence`: what the appraisal was made on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnnotatedEvidence {
    /// The enclave's REPORT body, as `kss quote inspect --json` shows it (absent when the quote
    /// did not parse).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_body: Option<serde_json::Value>,
    /// Final TCB status, when established.
    pub tcb_status: Option<String>,
    /// Advisory IDs.
    pub advisory_ids: Vec<String>,
    /// The first failed check, when rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failed_check: Option<FailedCheck>,
    /// The verification time (Unix seconds).
    pub verified_at: u64,
    /// SHA-256 of the collateral pieces used.
    pub collateral_sha256: CollateralDigests,
    /// Which hash of `runtime_data` REPORTDATA starts with, when runtime data was given and
    /// matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_data_hash: Option<RuntimeDataHash>,
}

/// The `sgx` submodule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SgxSubmod {
    /// The appraisal status.
    #[serde(rename = "ear.status")]
    pub status: EarStatus,
    /// `<id>@sha256:<hex>` of the policy used.
    #[serde(rename = "ear.appraisal-policy-id")]
    pub appraisal_policy_id: String,
    /// The evidence claims.
    #[serde(rename = "ear.veraison.annotated-evidence")]
    pub annotated_evidence: AnnotatedEvidence,
}

/// The claims of an EAR JWT.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EarClaims {
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// The EAR profile, [`EAR_PROFILE`].
    pub eat_profile: String,
    /// Who verified.
    #[serde(rename = "ear.verifier-id")]
    pub verifier_id: VerifierId,
    /// The request's nonce, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eat_nonce: Option<String>,
    /// Per-submodule results: one, `sgx`.
    pub submods: BTreeMap<String, SgxSubmod>,
}

impl EarClaims {
    /// The `sgx` submodule.
    pub fn sgx(&self) -> Option<&SgxSubmod> {
        self.submods.get(SUBMOD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_enforced_and_both_pem_forms_load() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pem");
        let kid = write_new_key(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let s = TokenSigner::from_file(&p).unwrap();
        assert_eq!(s.kid(), kid);
        assert!(!format!("{s:?}").contains("PRIVATE"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = TokenSigner::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("644"), "{e}");
        // SEC1 too.
        let sec1 = p256::SecretKey::random(&mut rand::rngs::OsRng)
            .to_sec1_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        assert!(TokenSigner::from_pem(sec1.as_bytes(), "sec1").is_ok());
        assert!(TokenSigner::from_pem(b"nope", "x").is_err());
        assert!(write_new_key(&p).is_err(), "never overwrites");
    }

    #[test]
    fn key_file_errors_keep_the_os_error() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pem");
        write_new_key(&p).unwrap();
        let e = write_new_key(&p).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: File exists (os error 17)", p.display())
        );
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()));
        let gone = dir.path().join("gone.pem");
        let e = read_key_file(&gone).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: cannot read the signing key: No such file or directory (os error 2)",
                gone.display()
            )
        );
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()));
    }
}
