//! The RSA arithmetic SGX needs: little-endian numbers and the Q1/Q2 helpers EINIT uses.

use kss_types::sigstruct::RSA_BYTES;
use rsa::BigUint;

/// An RSA-3072 signature in SIGSTRUCT form: the signature and its Q1/Q2 helper values, all
/// little-endian and zero-padded to 384 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSignature {
    /// The signature S, little-endian.
    pub signature: [u8; RSA_BYTES],
    /// Q1 = floor(S² / N), little-endian.
    pub q1: [u8; RSA_BYTES],
    /// Q2 = floor(S · (S² mod N) / N), little-endian.
    pub q2: [u8; RSA_BYTES],
}

/// Reads a little-endian number.
pub(crate) fn from_le(bytes: &[u8]) -> BigUint {
    BigUint::from_bytes_le(bytes)
}

/// Writes `n` little-endian, zero-padded to 384 bytes; `None` if it does not fit.
pub(crate) fn to_le_384(n: &BigUint) -> Option<[u8; RSA_BYTES]> {
    let bytes = n.to_bytes_le();
    if bytes.len() > RSA_BYTES {
        return None;
    }
    let mut out = [0u8; RSA_BYTES];
    out[..bytes.len()].copy_from_slice(&bytes);
    Some(out)
}

/// Q1 and Q2 for signature `s` under modulus `n` (`docs/sgx-reference.md` §4.2).
pub(crate) fn q1_q2(s: &BigUint, n: &BigUint) -> (BigUint, BigUint) {
    let s2 = s * s;
    let q1 = &s2 / n;
    let r1 = &s2 % n;
    let q2 = (s * &r1) / n;
    (q1, q2)
}
