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
    #[error("not a usable PEM private key: {0}")]
    Pem(#[source] PemError),
    /// DER bytes that are neither PKCS#1 nor PKCS#8 RSA private keys.
    #[error("not a DER RSA private key (tried PKCS#1 RSAPrivateKey and PKCS#8 PrivateKeyInfo): PKCS#1: {pkcs1}; PKCS#8: {pkcs8}")]
    Der {
        /// Why it is not PKCS#1.
        pkcs1: Box<rsa::pkcs1::Error>,
        /// Why it is not PKCS#8.
        #[source]
        pkcs8: Box<rsa::pkcs8::Error>,
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
    /// Encoding the key as PKCS#8 PEM failed.
    #[error("cannot encode the key as PKCS#8 PEM: {0}")]
    EncodePkcs8(#[source] Box<rsa::pkcs8::Error>),
    /// Encoding the key as PKCS#1 PEM failed.
    #[error("cannot encode the key as PKCS#1 PEM: {0}")]
    EncodePkcs1(#[source] Box<rsa::pkcs1::Error>),
    /// A signature value does not fit its 384-byte SIGSTRUCT field.
    #[error("cannot encode the key as {field}: value does not fit in 384 bytes")]
    TooLong {
        /// `SIGNATURE`, `Q1` or `Q2`.
        field: &'static str,
    },
}

/// Why PEM text is not a usable private key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    /// No `-----BEGIN` at the start of a line.
    #[error("no '-----BEGIN ...-----' line found")]
    NoBlock,
    /// The block's framing or base64 does not decode.
    #[error("the PEM block does not decode: {0}")]
    Framing(#[source] pem_rfc7468::Error),
    /// A PKCS#1 block whose content is not an RSA private key.
    #[error("PKCS#1 'RSA PRIVATE KEY' block does not decode: {0}")]
    Pkcs1(#[source] Box<rsa::pkcs1::Error>),
    /// A PKCS#8 block whose content is not an RSA private key.
    #[error("PKCS#8 'PRIVATE KEY' block is not an RSA private key: {0}")]
    Pkcs8(#[source] Box<rsa::pkcs8::Error>),
    /// An encrypted PKCS#8 key.
    #[error("the key is encrypted (PKCS#8 'ENCRYPTED PRIVATE KEY'); decrypt it first, e.g. `openssl pkey -in key.pem -out plain.pem`")]
    Encrypted,
    /// A block of another kind.
    #[error("found a '{0}' block; expected 'RSA PRIVATE KEY' (PKCS#1) or 'PRIVATE KEY' (PKCS#8)")]
    OtherLabel(String),
    /// The file has a PEM header but is not UTF-8.
    #[error("the file contains a PEM header but is not UTF-8: {0}")]
    NotUtf8(#[source] std::str::Utf8Error),
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
        let (label, der) = pem_rfc7468::decode_vec(pem.as_bytes()).map_err(|e| {
            KeyError::Pem(match e {
                pem_rfc7468::Error::Preamble => PemError::NoBlock,
                e => PemError::Framing(e),
            })
        })?;
        let der = Zeroizing::new(der);
        let key = match label {
            "RSA PRIVATE KEY" => {
                RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| PemError::Pkcs1(e.into()))
            }
            "PRIVATE KEY" => {
                RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| PemError::Pkcs8(e.into()))
            }
            "ENCRYPTED PRIVATE KEY" => Err(PemError::Encrypted),
            other => Err(PemError::OtherLabel(other.to_string())),
        }
        .map_err(KeyError::Pem)?;
        Self::from_rsa(key)
    }

    /// Reads a DER private key: PKCS#1 RSAPrivateKey or PKCS#8 PrivateKeyInfo.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = match RsaPrivateKey::from_pkcs1_der(der) {
            Ok(k) => k,
            Err(pkcs1) => RsaPrivateKey::from_pkcs8_der(der).map_err(|pkcs8| KeyError::Der {
                pkcs1: pkcs1.into(),
                pkcs8: pkcs8.into(),
            })?,
        };
        Self::from_rsa(key)
    }

    /// Reads a key file's contents: PEM if it contains a `-----BEGIN` line, DER otherwise.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
        if looks_pem {
            let text =
                std::str::from_utf8(bytes).map_err(|e| KeyError::Pem(PemError::NotUtf8(e)))?;
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
            .map_err(|e| KeyError::EncodePkcs8(e.into()))
    }

    /// Exports the key as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), the format of
    /// `openssl genrsa -3 3072` and the Intel SDK samples. The text is zeroized when dropped.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| KeyError::EncodePkcs1(e.into()))
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
        let encode =
            |v: &BigUint, what: &'static str| to_le_384(v).ok_or(KeyError::TooLong { field: what });
        let signature = encode(&s, "SIGNATURE")?;
        debug_assert_eq!(from_le(&signature), s);
        Ok(RawSignature {
            signature,
            q1: encode(&q1, "Q1")?,
            q2: encode(&q2, "Q2")?,
        })
    }
}
