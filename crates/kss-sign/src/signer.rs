//! [`sign`]: build a SIGSTRUCT for an enclave hash and sign it.

use crate::key::{KeyError, SigningKey};
use crate::options::{OptionsError, SignOptions};
use kss_types::{MiscSelect, Sigstruct};
use sha2::{Digest, Sha256};

/// Signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The options break a signing rule.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// The key could not sign.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Builds the SIGSTRUCT for `enclave_hash` (the expected MRENCLAVE) from `options` and signs it
/// with `key`: MODULUS (little-endian), EXPONENT 3, SIGNATURE (the big-endian PKCS#1 v1.5
/// SHA-256 signature of [`Sigstruct::signed_message`], reversed to little-endian), Q1 and Q2.
///
/// The result is deterministic for a given key, options (with an explicit date) and hash.
pub fn sign(
    options: &SignOptions,
    enclave_hash: &[u8; 32],
    key: &SigningKey,
) -> Result<Sigstruct, SignError> {
    options.check()?;
    let (attributes, attribute_mask) = options.resolved_attributes();
    let mut sig = Sigstruct::unsigned();
    sig.vendor = options.vendor;
    sig.date = options.resolved_date()?;
    sig.sw_defined = options.sw_defined;
    sig.misc_select = MiscSelect(options.misc_select & options.misc_mask);
    sig.misc_mask = options.misc_mask;
    sig.isv_family_id = options.isv_family_id;
    sig.attributes = attributes;
    sig.attribute_mask = attribute_mask;
    sig.enclave_hash = *enclave_hash;
    sig.isv_ext_prod_id = options.isv_ext_prod_id;
    sig.isv_prod_id = options.isv_prod_id;
    sig.isv_svn = options.isv_svn;
    sig.modulus = key.modulus_le();
    let digest: [u8; 32] = Sha256::digest(sig.signed_message()).into();
    let raw = key.sign_digest(&digest)?;
    sig.signature = raw.signature;
    sig.q1 = raw.q1;
    sig.q2 = raw.q2;
    Ok(sig)
}
