//! The `sgx_sealed_data_t` layout of the Intel SGX SDK.
//!
//! | off | size | field |
//! |---|---|---|
//! | 0 | 512 | key_request: the KEYREQUEST used (key name 4 = SEAL, random KEYID) |
//! | 512 | 4 | plain_text_offset = length of the encrypted text |
//! | 516 | 12 | reserved, 0 |
//! | 528 | 4 | payload_size = encrypted length + AAD length |
//! | 532 | 12 | reserved, 0 |
//! | 544 | 16 | payload_tag: the AES-128-GCM tag |
//! | 560 | n | ciphertext, then the AAD in clear |
//!
//! All integers are little-endian. AES-128-GCM uses an all-zero 12-byte IV (safe because the
//! KEYID, and so the key, is fresh for every blob) and the AAD as additional data.

use crate::error::{policy_names, to_hex, SealError};
use crate::inspect::SealedInfo;
use crate::policy::{broken_bits_rule, BitsRule};
use kss_types::{KeyName, KeyRequest};

/// Field offsets within a sealed blob.
pub mod offsets {
    /// The 512-byte KEYREQUEST.
    pub const KEY_REQUEST: usize = 0;
    /// `plain_text_offset` (u32): the encrypted length.
    pub const PLAIN_TEXT_OFFSET: usize = 512;
    /// Reserved (12 bytes).
    pub const RESERVED1: usize = 516;
    /// `aes_data.payload_size` (u32): encrypted length + AAD length.
    pub const PAYLOAD_SIZE: usize = 528;
    /// `aes_data.reserved` (12 bytes).
    pub const RESERVED2: usize = 532;
    /// `aes_data.payload_tag` (16 bytes).
    pub const PAYLOAD_TAG: usize = 544;
    /// The payload: ciphertext, then AAD.
    pub const PAYLOAD: usize = 560;
}

/// Size of the fixed part (`sizeof(sgx_sealed_data_t)`).
pub const HEADER_SIZE: usize = 560;

/// Largest total blob size: the SDK keeps every size in a u32.
pub const MAX_SEALED_SIZE: u64 = u32::MAX as u64;

/// The total blob size for `text_len` encrypted bytes and `aad_len` AAD bytes
/// (`sgx_calc_sealed_data_size`), or [`SealError::TooLarge`] when it does not fit a u32.
pub fn sealed_size(text_len: usize, aad_len: usize) -> Result<usize, SealError> {
    let total = (HEADER_SIZE as u64)
        .saturating_add(text_len as u64)
        .saturating_add(aad_len as u64);
    if total > MAX_SEALED_SIZE {
        return Err(SealError::TooLarge {
            size: total,
            text_len: text_len as u64,
            aad_len: aad_len as u64,
            max: MAX_SEALED_SIZE,
        });
    }
    usize::try_from(total).map_err(|_| SealError::TooLarge {
        size: total,
        text_len: text_len as u64,
        aad_len: aad_len as u64,
        max: usize::MAX as u64,
    })
}

/// A parsed sealed blob. The ciphertext and AAD borrow from the input; nothing is decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedData<'a> {
    /// The KEYREQUEST the blob was sealed with.
    pub key_request: KeyRequest,
    /// The AES-GCM tag.
    pub tag: [u8; 16],
    /// The encrypted text (`plain_text_offset` bytes).
    pub ciphertext: &'a [u8],
    /// The additional authenticated data, in clear.
    pub aad: &'a [u8],
}

fn u32_at(bytes: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = bytes.get(off..off + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

fn all_zero(bytes: &[u8], off: usize, len: usize) -> bool {
    bytes
        .get(off..off + len)
        .is_some_and(|s| s.iter().all(|b| *b == 0))
}

impl<'a> SealedData<'a> {
    /// Parses a whole blob. Checks the length against the header, that reserved fields are zero,
    /// that the key request is a SEAL request with valid policy bits and zero reserved bytes,
    /// and that plain_text_offset ≤ payload_size. Never panics.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SealError> {
        let header = bytes.get(..HEADER_SIZE).ok_or(SealError::Truncated {
            len: bytes.len(),
            need: HEADER_SIZE,
        })?;
        let request_bytes = header
            .get(offsets::KEY_REQUEST..offsets::KEY_REQUEST + KeyRequest::SIZE)
            .ok_or(SealError::Truncated {
                len: bytes.len(),
                need: HEADER_SIZE,
            })?;
        let key_request = KeyRequest::from_bytes(request_bytes).map_err(SealError::KeyRequest)?;
        check_request(&key_request)?;
        if !all_zero(header, offsets::RESERVED1, 12) {
            return Err(reserved_error(
                "reserved (bytes 516..528)",
                header,
                offsets::RESERVED1,
            ));
        }
        if !all_zero(header, offsets::RESERVED2, 12) {
            return Err(reserved_error(
                "aes_data.reserved (bytes 532..544)",
                header,
                offsets::RESERVED2,
            ));
        }
        let encrypt_len = u32_at(header, offsets::PLAIN_TEXT_OFFSET);
        let payload_size = u32_at(header, offsets::PAYLOAD_SIZE);
        if encrypt_len > payload_size {
            return Err(SealError::Format {
                field: "plain_text_offset",
                value: format!("{encrypt_len} (payload_size {payload_size})"),
                expected: "at most payload_size",
            });
        }
        let declared = HEADER_SIZE as u64 + u64::from(payload_size);
        if declared != bytes.len() as u64 {
            return Err(SealError::LengthMismatch {
                declared,
                actual: bytes.len(),
            });
        }
        let payload = bytes.get(HEADER_SIZE..).unwrap_or_default();
        let split = encrypt_len as usize;
        let (ciphertext, aad) = (
            payload.get(..split).unwrap_or_default(),
            payload.get(split..).unwrap_or_default(),
        );
        let mut tag = [0u8; 16];
        if let Some(t) = header.get(offsets::PAYLOAD_TAG..offsets::PAYLOAD_TAG + 16) {
            tag.copy_from_slice(t);
        }
        Ok(Self {
            key_request,
            tag,
            ciphertext,
            aad,
        })
    }

    /// Encrypted length (`plain_text_offset`).
    pub fn encrypted_len(&self) -> usize {
        self.ciphertext.len()
    }

    /// AAD length (`payload_size − plain_text_offset`).
    pub fn aad_len(&self) -> usize {
        self.aad.len()
    }

    /// Total blob size.
    pub fn total_len(&self) -> usize {
        HEADER_SIZE + self.ciphertext.len() + self.aad.len()
    }

    /// The metadata, without ciphertext, tag or AAD content.
    pub fn inspect(&self) -> SealedInfo {
        SealedInfo::from_sealed(self)
    }
}

fn reserved_error(field: &'static str, header: &[u8], off: usize) -> SealError {
    SealError::Format {
        field,
        value: to_hex(header.get(off..off + 12).unwrap_or_default()),
        expected: "all zero bytes",
    }
}

/// The rules a stored KEYREQUEST must meet before it is worth asking for a key.
fn check_request(req: &KeyRequest) -> Result<(), SealError> {
    if req.key_name != KeyName::Seal as u16 {
        return Err(SealError::Format {
            field: "key_request.key_name",
            value: req.key_name.to_string(),
            expected: "4 (SEAL)",
        });
    }
    if let Some(rule) = broken_bits_rule(req.key_policy) {
        return Err(SealError::Format {
            field: "key_request.key_policy",
            value: format!(
                "{:#06x} ({})",
                req.key_policy.0,
                policy_names(req.key_policy)
            ),
            expected: match rule {
                BitsRule::DefinedBitsOnly => "only bits 0x3F",
                BitsRule::HasIdentity => "a policy with mrenclave or mrsigner",
            },
        });
    }
    if req.reserved1 != 0 {
        return Err(SealError::Format {
            field: "key_request.reserved (bytes 6..8)",
            value: format!("{:#06x}", req.reserved1),
            expected: "0",
        });
    }
    if !req.reserved2.iter().all(|b| *b == 0) {
        return Err(SealError::Format {
            field: "key_request.reserved (bytes 78..512)",
            value: "non-zero bytes".to_string(),
            expected: "all zero bytes",
        });
    }
    Ok(())
}

/// Writes the fixed header into `out[..560]` (which the caller sized).
pub(crate) fn write_header(
    out: &mut [u8],
    request: &KeyRequest,
    encrypt_len: u32,
    payload_size: u32,
    tag: &[u8; 16],
) {
    let mut put = |off: usize, src: &[u8]| {
        if let Some(dst) = out.get_mut(off..off + src.len()) {
            dst.copy_from_slice(src);
        }
    };
    put(offsets::KEY_REQUEST, &request.to_bytes());
    put(offsets::PLAIN_TEXT_OFFSET, &encrypt_len.to_le_bytes());
    put(offsets::RESERVED1, &[0; 12]);
    put(offsets::PAYLOAD_SIZE, &payload_size.to_le_bytes());
    put(offsets::RESERVED2, &[0; 12]);
    put(offsets::PAYLOAD_TAG, tag);
}
