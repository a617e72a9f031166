//! Signing and verifying SGX SIGSTRUCTs.
//!
//! * [`SigningKey`]: an RSA-3072 key with public exponent 3 (the only kind SGX accepts), loaded
//!   from PEM (PKCS#1 or PKCS#8) or DER, or freshly generated.
//! * [`SignOptions`]: every signed SIGSTRUCT field, defaulting to the Intel SGX SDK sign tool's
//!   choices, with the KSS identity fields (ISVFAMILYID, ISVEXTPRODID) and the KSS attribute.
//! * [`sign`]: builds and signs a [`Sigstruct`] for an enclave hash (MRENCLAVE).
//! * [`verify`] and [`mr_signer`]: what EINIT checks about the signature, and the signer identity.
//!
//! The layout and the RSA details (little-endian modulus and signature, Q1/Q2) follow
//! `docs/sgx-reference.md` §4.
#![deny(missing_docs)]

mod date;
mod key;
mod options;
mod rsa_math;
mod signer;
mod verify;

pub use date::{today_bcd, BcdDate, DateError};
pub use key::{KeyError, PemError, SigningKey};
pub use options::{OptionsError, SignOptions};
pub use rsa_math::RawSignature;
pub use signer::{sign, SignError};
pub use verify::{mr_signer, verify, VerifyError};

pub use kss_types::Sigstruct;
/// The RSA implementation used (the `rsa` crate), re-exported for [`SigningKey::from_rsa`].
pub use rsa;

/// Lower-case hex of `bytes`, for messages.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
