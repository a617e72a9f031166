//! [`SigningKey`]: an RSA-3072 private key with public exponent 3.

use crate::hex_lower;
use crate::rsa_math::{from_le, q1_q2, to_le_384, RawSignature};
use kss_types::sigstruct::RSA_BYTES;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Modulus size SGX requires.
pub const KEY_BITS: usize = 3072;
/// Public exponent SGX requires.
pub const KEY_EXPONENT: u32 = 3;

/// A key that cannot be loaded, generated or used for SGX signing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is RSA but not RSA-3072 with e = 3.
    #[error("SGX requires RSA-3072 with exponent 3, but this key is RSA-{bits} with exponent {exponent}")]
    WrongKind {
        /// Modulus size in bits.
        bits: usize,
        /// Public exponent (decimal).
        exponent: String,
    },
    /// PEM text that is not an RSA private key we can read.
    #[error("not a usable PEM private key: {detail}")]
    Pem {
        /// What went wrong.
        detail: String,
    },
    /// DER bytes that are neither PKCS#1 nor PKCS#8 RSA private keys.
    #[error("not a DER RSA private key (tried PKCS#1 RSAPrivateKey and PKCS#8 PrivateKeyInfo): {detail}")]
    Der {
        /// What went wrong.
        detail: String,
    },
    /// The RSA library failed (generation, signing or encoding).
    #[error("RSA operation failed while {action}: {source}")]
    Rsa {
        /// What we were doing.
        action: &'static str,
        /// The library error.
        #[source]
        source: rsa::Error,
    },
    /// The key file cannot be read.
    #[error("cannot read key file '{path}': {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding the key failed.
    #[error("cannot encode the key as {format}: {detail}")]
    Encode {
        /// Target format.
        format: &'static str,
        /// What went wrong.
        detail: String,
    },
}

/// An RSA-3072, e = 3 private key for signing SIGSTRUCTs.
///
/// The private key material is zeroized when the key is dropped (the `rsa` crate's
/// `RsaPrivateKey` zeroizes on drop), and exported PEM text is returned in a [`Zeroizing`] string.
#[derive(Clone)]
pub struct SigningKey {
    key: RsaPrivateKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("mr_signer", &hex_lower(&self.mr_signer()))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Wraps a key after checking it is RSA-3072 with e = 3.
    pub fn from_rsa(key: RsaPrivateKey) -> Result<Self, KeyError> {
        let bits = key.n().bits();
        if bits != KEY_BITS || *key.e() != BigUint::from(KEY_EXPONENT) {
            return Err(KeyError::WrongKind {
                bits,
                exponent: key.e().to_string(),
            });
        }
        Ok(Self { key })
    }

    /// Generates a new RSA-3072 key with e = 3.
    pub fn generate<R: rand::CryptoRng + rand::RngCore>(rng: &mut R) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::new_with_exp(rng, KEY_BITS, &BigUint::from(KEY_EXPONENT))
            .map_err(|source| KeyError::Rsa {
                action: "generating an RSA-3072 key",
                source,
            })?;
        Self::from_rsa(key)
    }

    /// Generates a new RSA-3072 key with e = 3 using the operating system's random generator.
    pub fn generate_os() -> Result<Self, KeyError> {
        Self::generate(&mut rand::rngs::OsRng)
    }

    /// Reads a PEM private key: PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) or unencrypted
    /// PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let label = pem
            .lines()
            .find_map(|l| l.trim().strip_prefix("-----BEGIN "))
            .and_then(|l| l.strip_suffix("-----"))
            .map(str::to_string);
        let key = match label.as_deref() {
            Some("RSA PRIVATE KEY") => {
                RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| KeyError::Pem {
                    detail: format!("PKCS#1 'RSA PRIVATE KEY' block does not decode: {e}"),
                })?
            }
            Some("PRIVATE KEY") => {
                RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Pem {
                    detail: format!(
                        "PKCS#8 'PRIVATE KEY' block is not an RSA private key: {e}"
                    ),
                })?
            }
            Some("ENCRYPTED PRIVATE KEY") => {
                return Err(KeyError::Pem {
                    detail: "the key is encrypted (PKCS#8 'ENCRYPTED PRIVATE KEY'); decrypt it first, e.g. `openssl pkey -in key.pem -out plain.pem`".into(),
                })
            }
            Some(other) => {
                return Err(KeyError::Pem {
                    detail: format!(
                        "found a '{other}' block; expected 'RSA PRIVATE KEY' (PKCS#1) or 'PRIVATE KEY' (PKCS#8)"
                    ),
                })
            }
            None => {
                return Err(KeyError::Pem {
                    detail: "no '-----BEGIN ...-----' line found".into(),
                })
            }
        };
        Self::from_rsa(key)
    }

    /// Reads a DER private key: PKCS#1 RSAPrivateKey or PKCS#8 PrivateKeyInfo.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = match RsaPrivateKey::from_pkcs1_der(der) {
            Ok(k) => k,
            Err(e1) => RsaPrivateKey::from_pkcs8_der(der).map_err(|e8| KeyError::Der {
                detail: format!("PKCS#1: {e1}; PKCS#8: {e8}"),
            })?,
        };
        Self::from_rsa(key)
    }

    /// Reads a key file's contents: PEM if it contains a `-----BEGIN` line, DER otherwise.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
        if looks_pem {
            let text = std::str::from_utf8(bytes).map_err(|e| KeyError::Pem {
                detail: format!("the file contains a PEM header but is not UTF-8: {e}"),
            })?;
            Self::from_pem(text)
        } else {
            Self::from_der(bytes)
        }
    }

    /// Reads a key file (PEM or DER, see [`SigningKey::from_file_bytes`]); the file contents are
    /// zeroized after parsing.
    pub fn load(path: &std::path::Path) -> Result<Self, KeyError> {
        let bytes = Zeroizing::new(kss_io::read_bounded(path, kss_io::limits::KEY).map_err(
            |source| KeyError::Io {
                path: path.display().to_string(),
                source,
            },
        )?);
        Self::from_file_bytes(&bytes)
    }

    /// Exports the key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the format `kss keygen`
    /// writes. The text is zeroized when dropped.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode {
                format: "PKCS#8 PEM",
                detail: e.to_string(),
            })
    }

    /// Exports the key as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), the format of
    /// `openssl genrsa -3 3072` and the Intel SDK samples. The text is zeroized when dropped.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode {
                format: "PKCS#1 PEM",
                detail: e.to_string(),
            })
    }

    /// The modulus as SIGSTRUCT stores it: 384 bytes, little-endian.
    pub fn modulus_le(&self) -> [u8; RSA_BYTES] {
        // A checked 3072-bit modulus always fits in 384 bytes.
        to_le_384(self.key.n()).unwrap_or([0; RSA_BYTES])
    }

    /// MRSIGNER of enclaves signed with this key: SHA-256 of [`SigningKey::modulus_le`].
    pub fn mr_signer(&self) -> [u8; 32] {
        Sha256::digest(self.modulus_le()).into()
    }

    /// Signs a SHA-256 `digest` with RSASSA-PKCS1-v1_5 and returns the signature with its Q1/Q2
    /// values in SIGSTRUCT (little-endian) form.
    ///
    /// PKCS#1 v1.5 is deterministic, so the result depends only on the key and the digest; RSA
    /// blinding (random) is used inside to keep the private-key operation's timing independent
    /// of the key.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<RawSignature, KeyError> {
        let be = Zeroizing::new(
            self.key
                .sign_with_rng(
                    &mut rand::rngs::OsRng,
                    Pkcs1v15Sign::new::<Sha256>(),
                    digest,
                )
                .map_err(|source| KeyError::Rsa {
                    action: "signing",
                    source,
                })?,
        );
        let s = BigUint::from_bytes_be(&be);
        let n = self.key.n();
        let (q1, q2) = q1_q2(&s, n);
        let encode = |v: &BigUint, what: &'static str| {
            to_le_384(v).ok_or_else(|| KeyError::Encode {
                format: what,
                detail: "value does not fit in 384 bytes".into(),
            })
        };
        let signature = encode(&s, "SIGNATURE")?;
        debug_assert_eq!(from_le(&signature), s);
        Ok(RawSignature {
            signature,
            q1: encode(&q1, "Q1")?,
            q2: encode(&q2, "Q2")?,
        })
    }
}
