//! Seal, unseal and reseal against a [`KeySource`].

use crate::error::SealError;
use crate::format::{sealed_size, write_header, SealedData, HEADER_SIZE};
use crate::key_source::{KeySource, KeySourceError};
use crate::policy::{default_policy, validate, SealOptions};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce, Tag};
use kss_types::{KeyName, KeyPolicy, KeyRequest, ReportBody};
use rand::RngCore;
use zeroize::Zeroizing;

/// What [`unseal`] returns.
#[derive(Debug)]
pub struct Unsealed {
    /// The decrypted text (zeroized when dropped). Empty for AAD-only (MAC) blobs.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The additional authenticated data, verified.
    pub aad: Vec<u8>,
    /// The key request the blob was sealed with.
    pub key_request: KeyRequest,
}

/// Seals `plaintext` (at least 1 byte) with `aad` authenticated in clear, for the enclave behind
/// `source`, with a fresh random KEYID. The request takes CPUSVN, ISVSVN and CONFIGSVN from the
/// enclave's self report, like `sgx_seal_data_ex`.
pub fn seal<K: KeySource + ?Sized>(
    source: &K,
    plaintext: &[u8],
    aad: &[u8],
    options: &SealOptions,
) -> Result<Vec<u8>, SealError> {
    seal_with_key_id(source, random_key_id(), plaintext, aad, options)
}

/// [`seal`] with a caller-chosen KEYID. **For tests and known-answer vectors only:** reusing a
/// KEYID with the same policy and identity reuses the key with the fixed zero IV, which breaks
/// AES-GCM. Real sealing must use [`seal`].
pub fn seal_with_key_id<K: KeySource + ?Sized>(
    source: &K,
    key_id: [u8; 32],
    plaintext: &[u8],
    aad: &[u8],
    options: &SealOptions,
) -> Result<Vec<u8>, SealError> {
    if plaintext.is_empty() {
        return Err(SealError::EmptyPlaintext);
    }
    let identity = source.self_report()?;
    let request = build_request(&identity, key_id, options)?;
    seal_request(source, &request, plaintext, aad)
}

/// [`seal`] into a caller-owned buffer: `out` is cleared and refilled with the blob, reusing its
/// capacity, so sealing many or large blobs needs no new allocation. On error `out` is left
/// empty.
pub fn seal_into<K: KeySource + ?Sized>(
    source: &K,
    plaintext: &[u8],
    aad: &[u8],
    options: &SealOptions,
    out: &mut Vec<u8>,
) -> Result<(), SealError> {
    out.clear();
    if plaintext.is_empty() {
        return Err(SealError::EmptyPlaintext);
    }
    let identity = source.self_report()?;
    let request = build_request(&identity, random_key_id(), options)?;
    seal_request_into(source, &request, plaintext, aad, out)
}

/// `sgx_mac_aadata`: authenticates `aad` (at least 1 byte) without encrypting anything. The blob
/// has an encrypted length of 0; [`unseal`] returns an empty plaintext and the verified AAD.
pub fn mac_aad<K: KeySource + ?Sized>(
    source: &K,
    aad: &[u8],
    options: &SealOptions,
) -> Result<Vec<u8>, SealError> {
    mac_aad_with_key_id(source, random_key_id(), aad, options)
}

/// [`mac_aad`] with a caller-chosen KEYID; for tests and vectors only (see [`seal_with_key_id`]).
pub fn mac_aad_with_key_id<K: KeySource + ?Sized>(
    source: &K,
    key_id: [u8; 32],
    aad: &[u8],
    options: &SealOptions,
) -> Result<Vec<u8>, SealError> {
    if aad.is_empty() {
        return Err(SealError::EmptyAad);
    }
    let identity = source.self_report()?;
    let request = build_request(&identity, key_id, options)?;
    seal_request(source, &request, &[], aad)
}

/// Verifies and decrypts a blob. The key is derived from the request **stored in the blob**, so
/// an enclave whose ISVSVN or CONFIGSVN has gone up still gets the old key; one below gets
/// [`SealError::SvnTooLow`]. Key-derivation failures other than CPUSVN/ISVSVN become
/// [`SealError::MacMismatch`], as in the SDK.
pub fn unseal<K: KeySource + ?Sized>(source: &K, blob: &[u8]) -> Result<Unsealed, SealError> {
    let sealed = SealedData::parse(blob)?;
    let key = derive_for_unseal(source, &sealed.key_request)?;
    let cipher = Aes128Gcm::new(aes_gcm::Key::<Aes128Gcm>::from_slice(key.as_slice()));
    let mut plaintext = Zeroizing::new(sealed.ciphertext.to_vec());
    cipher
        .decrypt_in_place_detached(
            &Nonce::default(),
            sealed.aad,
            plaintext.as_mut_slice(),
            Tag::from_slice(&sealed.tag),
        )
        .map_err(|_| SealError::MacMismatch {
            policy: sealed.key_request.key_policy,
        })?;
    Ok(Unsealed {
        plaintext,
        aad: sealed.aad.to_vec(),
        key_request: sealed.key_request,
    })
}

/// What [`unseal_in_place`] returns: views into the caller's blob buffer.
#[derive(Debug)]
pub struct UnsealedInPlace<'b> {
    /// The decrypted text, where the ciphertext was (the caller must zeroize the buffer).
    pub plaintext: &'b mut [u8],
    /// The verified AAD.
    pub aad: &'b [u8],
    /// The key request the blob was sealed with.
    pub key_request: KeyRequest,
}

/// [`unseal`] without copying: verifies the blob and decrypts its ciphertext in place, inside
/// `blob`. On success the buffer holds plaintext at `560..560 + encrypted length`: keep it in a
/// zeroizing container (e.g. `Zeroizing<Vec<u8>>`). On any error the buffer is unchanged.
pub fn unseal_in_place<'b, K: KeySource + ?Sized>(
    source: &K,
    blob: &'b mut [u8],
) -> Result<UnsealedInPlace<'b>, SealError> {
    let (key_request, tag, encrypt_len) = {
        let sealed = SealedData::parse(blob)?;
        (sealed.key_request, sealed.tag, sealed.ciphertext.len())
    };
    let key = derive_for_unseal(source, &key_request)?;
    let cipher = Aes128Gcm::new(aes_gcm::Key::<Aes128Gcm>::from_slice(key.as_slice()));
    // parse() checked that the blob is exactly 560 + encrypt_len + aad_len bytes.
    let payload = blob.get_mut(HEADER_SIZE..).unwrap_or_default();
    let (text, aad) = payload.split_at_mut(encrypt_len.min(payload.len()));
    cipher
        .decrypt_in_place_detached(&Nonce::default(), aad, text, Tag::from_slice(&tag))
        .map_err(|_| SealError::MacMismatch {
            policy: key_request.key_policy,
        })?;
    Ok(UnsealedInPlace {
        plaintext: text,
        aad,
        key_request,
    })
}

/// Migrates a blob: unseals it with its stored request, then seals the same plaintext and AAD
/// again at the enclave's **current** CPUSVN, ISVSVN and CONFIGSVN with a fresh KEYID, under
/// `policy` (or the blob's own policy when `None`) and the blob's attribute and misc masks. Use
/// after an upgrade (older enclaves then can no longer read the data) or to change the policy.
pub fn reseal<K: KeySource + ?Sized>(
    source: &K,
    blob: &[u8],
    policy: Option<KeyPolicy>,
) -> Result<Vec<u8>, SealError> {
    reseal_with_key_id(source, blob, policy, random_key_id())
}

/// [`reseal`] with a caller-chosen KEYID; for tests and vectors only (see [`seal_with_key_id`]).
pub fn reseal_with_key_id<K: KeySource + ?Sized>(
    source: &K,
    blob: &[u8],
    policy: Option<KeyPolicy>,
    key_id: [u8; 32],
) -> Result<Vec<u8>, SealError> {
    let old = unseal(source, blob)?;
    let options = SealOptions {
        policy: Some(policy.unwrap_or(old.key_request.key_policy)),
        attribute_mask: old.key_request.attribute_mask,
        misc_mask: old.key_request.misc_mask,
    };
    let identity = source.self_report()?;
    let request = build_request(&identity, key_id, &options)?;
    seal_request(source, &request, &old.plaintext, &old.aad)
}

fn random_key_id() -> [u8; 32] {
    let mut id = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    id
}

/// The request `sgx_seal_data_ex` builds: SEAL key, the enclave's CPUSVN/ISVSVN/CONFIGSVN.
fn build_request(
    identity: &ReportBody,
    key_id: [u8; 32],
    options: &SealOptions,
) -> Result<KeyRequest, SealError> {
    let policy = options.policy.unwrap_or_else(|| default_policy(identity));
    validate(policy, options.attribute_mask, identity)?;
    Ok(KeyRequest {
        key_name: KeyName::Seal as u16,
        key_policy: policy,
        isv_svn: identity.isv_svn,
        cpu_svn: identity.cpu_svn,
        attribute_mask: options.attribute_mask,
        key_id,
        misc_mask: options.misc_mask,
        config_svn: identity.config_svn,
        ..KeyRequest::default()
    })
}

/// Encrypts into one output buffer: header, then plaintext copied once and encrypted in place,
/// then the AAD; the tag is written into the header last. `out` is cleared first and its
/// capacity reused.
fn seal_request_into<K: KeySource + ?Sized>(
    source: &K,
    request: &KeyRequest,
    plaintext: &[u8],
    aad: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), SealError> {
    let total = sealed_size(plaintext.len(), aad.len())?;
    // Both fit because the total fits a u32 (checked just above).
    let encrypt_len = u32::try_from(plaintext.len()).unwrap_or(u32::MAX);
    let payload_size = u32::try_from(plaintext.len() + aad.len()).unwrap_or(u32::MAX);
    let key = source.get_key(request)?;
    let cipher = Aes128Gcm::new(aes_gcm::Key::<Aes128Gcm>::from_slice(key.as_slice()));

    out.clear();
    out.reserve_exact(total);
    out.resize(HEADER_SIZE, 0);
    out.extend_from_slice(plaintext);
    out.extend_from_slice(aad);
    let (header, payload) = out.split_at_mut(HEADER_SIZE);
    let (text, aad_in_out) = payload.split_at_mut(plaintext.len());
    let tag = match cipher.encrypt_in_place_detached(&Nonce::default(), aad_in_out, text) {
        Ok(tag) => tag,
        Err(_) => {
            out.clear();
            return Err(SealError::TooLarge {
                size: total as u64,
                text_len: plaintext.len() as u64,
                aad_len: aad.len() as u64,
                max: crate::format::MAX_SEALED_SIZE,
            });
        }
    };
    let mut tag_bytes = [0u8; 16];
    tag_bytes.copy_from_slice(tag.as_slice());
    write_header(header, request, encrypt_len, payload_size, &tag_bytes);
    Ok(())
}

fn seal_request<K: KeySource + ?Sized>(
    source: &K,
    request: &KeyRequest,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut out = Vec::new();
    seal_request_into(source, request, plaintext, aad, &mut out)?;
    Ok(out)
}

/// EGETKEY for unsealing, with the SDK's error mapping and a precise SVN message.
fn derive_for_unseal<K: KeySource + ?Sized>(
    source: &K,
    request: &KeyRequest,
) -> Result<Zeroizing<[u8; 16]>, SealError> {
    match source.get_key(request) {
        Ok(key) => Ok(key),
        Err(KeySourceError::InvalidIsvSvn) => {
            let me = source.self_report()?;
            if request.isv_svn > me.isv_svn {
                Err(SealError::SvnTooLow {
                    field: "ISVSVN",
                    sealed: request.isv_svn,
                    current: me.isv_svn,
                })
            } else if request.config_svn > me.config_svn {
                Err(SealError::SvnTooLow {
                    field: "CONFIGSVN",
                    sealed: request.config_svn,
                    current: me.config_svn,
                })
            } else {
                Err(KeySourceError::InvalidIsvSvn.into())
            }
        }
        Err(KeySourceError::InvalidCpuSvn) => Err(SealError::CpuSvnTooNew {
            sealed: request.cpu_svn,
            current: source.self_report().ok().map(|r| r.cpu_svn),
        }),
        Err(e @ KeySourceError::Unavailable { .. }) => Err(e.into()),
        Err(KeySourceError::InvalidKeyName { .. } | KeySourceError::InvalidRequest { .. }) => {
            Err(SealError::MacMismatch {
                policy: request.key_policy,
            })
        }
    }
}
