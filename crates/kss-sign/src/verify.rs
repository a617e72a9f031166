//! [`verify`] and [`mr_signer`]: the signature checks EINIT makes, and the signer identity.

use crate::rsa_math::{from_le, q1_q2, to_le_384};
use kss_types::Sigstruct;
use rsa::BigUint;
use sha2::{Digest, Sha256};

/// DER prefix of the PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017 §9.2 note 1).
pub(crate) const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Why a SIGSTRUCT's signature is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// EXPONENT is not 3.
    #[error("SIGSTRUCT EXPONENT is {exponent}; SGX requires 3")]
    Exponent {
        /// The EXPONENT field.
        exponent: u32,
    },
    /// MODULUS is not a 3072-bit odd number.
    #[error("SIGSTRUCT MODULUS is a {bits}-bit {parity} number; SGX requires an odd 3072-bit RSA modulus", parity = if *odd { "odd" } else { "even" })]
    Modulus {
        /// Significant bits of the modulus.
        bits: usize,
        /// Whether it is odd.
        odd: bool,
    },
    /// SIGNATURE is not below MODULUS.
    #[error("SIGSTRUCT SIGNATURE is not smaller than MODULUS, so it cannot be an RSA signature")]
    SignatureOutOfRange,
    /// The PKCS#1 v1.5 SHA-256 signature does not match the signed bytes.
    #[error("SIGSTRUCT SIGNATURE does not verify: SIGNATURE³ mod MODULUS is not the PKCS#1 v1.5 SHA-256 encoding of the signed bytes 0..128 and 900..1028 (wrong key, or a signed field was changed)")]
    Signature,
    /// Q1 is not floor(S² / N).
    #[error("SIGSTRUCT Q1 is not floor(SIGNATURE² / MODULUS)")]
    Q1,
    /// Q2 is not floor(S · (S² mod N) / N).
    #[error("SIGSTRUCT Q2 is not floor(SIGNATURE · (SIGNATURE² mod MODULUS) / MODULUS)")]
    Q2,
}

/// MRSIGNER: SHA-256 of the 384-byte MODULUS field exactly as stored (little-endian).
pub fn mr_signer(sig: &Sigstruct) -> [u8; 32] {
    Sha256::digest(sig.modulus).into()
}

/// The 384-byte big-endian PKCS#1 v1.5 encoding of a SHA-256 `digest`:
/// `00 01 FF…FF 00 DigestInfo digest`.
pub(crate) fn pkcs1_v15_sha256_encoding(digest: &[u8; 32]) -> [u8; 384] {
    let mut em = [0xFFu8; 384];
    em[0] = 0;
    em[1] = 1;
    let t_start = 384 - SHA256_DIGEST_INFO.len() - 32;
    em[t_start - 1] = 0;
    em[t_start..t_start + SHA256_DIGEST_INFO.len()].copy_from_slice(&SHA256_DIGEST_INFO);
    em[384 - 32..].copy_from_slice(digest);
    em
}

/// Checks the RSA signature of a SIGSTRUCT the way EINIT does: EXPONENT is 3, MODULUS is a
/// 3072-bit odd number, SIGNATURE³ mod MODULUS is the PKCS#1 v1.5 SHA-256 encoding of
/// [`Sigstruct::signed_message`], and Q1/Q2 are the helper values EINIT uses.
///
/// This checks the signature only; header, vendor and reserved-field checks (EINIT's
/// SGX_INVALID_SIG_STRUCT) are [`Sigstruct::structure_problem`].
pub fn verify(sig: &Sigstruct) -> Result<(), VerifyError> {
    if sig.exponent != 3 {
        return Err(VerifyError::Exponent {
            exponent: sig.exponent,
        });
    }
    let n = from_le(&sig.modulus);
    let bits = n.bits();
    let odd = sig.modulus[0] & 1 == 1;
    if bits != 3072 || !odd {
        return Err(VerifyError::Modulus { bits, odd });
    }
    let s = from_le(&sig.signature);
    if s >= n {
        return Err(VerifyError::SignatureOutOfRange);
    }
    let m = s.modpow(&BigUint::from(3u32), &n);
    let digest: [u8; 32] = Sha256::digest(sig.signed_message()).into();
    let expected = BigUint::from_bytes_be(&pkcs1_v15_sha256_encoding(&digest));
    if m != expected {
        return Err(VerifyError::Signature);
    }
    let (q1, q2) = q1_q2(&s, &n);
    if to_le_384(&q1).as_ref() != Some(&sig.q1) {
        return Err(VerifyError::Q1);
    }
    if to_le_384(&q2).as_ref() != Some(&sig.q2) {
        return Err(VerifyError::Q2);
    }
    Ok(())
}
