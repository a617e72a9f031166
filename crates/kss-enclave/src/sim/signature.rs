//! EINIT's RSA check, delegated to `kss_sign::verify`: EXPONENT 3, a 3072-bit modulus,
//! RSASSA-PKCS1-v1_5 with SHA-256 over the 256 signed SIGSTRUCT bytes, and the Q1/Q2 helper
//! values hardware uses to verify (`docs/sgx-reference.md` §4.2). The Intel SDK simulator skips
//! this check; kss does not.

use kss_types::Sigstruct;

/// Verifies SIGSTRUCT.SIGNATURE, Q1 and Q2; `Err` says why they do not verify.
pub(crate) fn verify(sig: &Sigstruct) -> Result<(), kss_sign::VerifyError> {
    kss_sign::verify(sig)
}

/// MRSIGNER: SHA-256 of the 384-byte MODULUS as stored (little-endian).
pub fn mr_signer(sig: &Sigstruct) -> [u8; 32] {
    kss_sign::mr_signer(sig)
}
