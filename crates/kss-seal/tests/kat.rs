//! Compatibility: the KAT seal key of `docs/sgx-reference.md` §7.4, the exact blob layout, and
//! ciphertext/tag checked against an independent AES-GCM (ring).

mod common;

use common::{cpusvn_default, SimEnclave};
use kss_seal::{seal_with_key_id, unseal, KeySource, SealOptions, SealedData, SealedHeader};
use kss_types::{Attributes, KeyPolicy, KeyRequest};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};

fn kat_request() -> KeyRequest {
    KeyRequest {
        key_name: 4,
        key_policy: KeyPolicy(0x3A),
        isv_svn: 5,
        config_svn: 7,
        cpu_svn: cpusvn_default(),
        attribute_mask: Attributes::new(0xFF00_0000_0000_000B, 0),
        misc_mask: 0xF000_0000,
        key_id: [0; 32],
        ..KeyRequest::default()
    }
}

#[test]
fn test_key_source_gives_fact_sheet_kat_seal_key() {
    let key = SimEnclave::kat().get_key(&kat_request()).unwrap();
    assert_eq!(hex::encode(*key), "43a6efee07cffbfe2353d9c3f5618f20");
}

fn ring_seal(key: &[u8; 16], plaintext: &[u8], aad: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let k = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, key).unwrap());
    let mut buf = plaintext.to_vec();
    let tag = k
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::from(aad),
            &mut buf,
        )
        .unwrap();
    (buf, tag.as_ref().to_vec())
}

#[test]
fn default_kss_seal_matches_sdk_request_and_ring_aes_gcm() {
    let enclave = SimEnclave::kat();
    let plaintext = b"The quick brown fox jumps over the lazy dog, 0123456789";
    let aad = b"header: v1";
    // KEYID 0 and the SDK default options reproduce the KAT request exactly.
    let blob =
        seal_with_key_id(&enclave, [0; 32], plaintext, aad, &SealOptions::default()).unwrap();

    // Layout, byte for byte.
    assert_eq!(blob.len(), 560 + plaintext.len() + aad.len());
    assert_eq!(&blob[..512], &kat_request().to_bytes()[..]);
    assert_eq!(&blob[0..2], &[4, 0]); // key_name SEAL
    assert_eq!(&blob[2..4], &[0x3A, 0]); // default KSS policy
    assert_eq!(&blob[4..6], &[5, 0]); // ISVSVN
    assert_eq!(&blob[76..78], &[7, 0]); // CONFIGSVN
    assert_eq!(
        u32::from_le_bytes(blob[512..516].try_into().unwrap()) as usize,
        plaintext.len()
    );
    assert!(blob[516..528].iter().all(|b| *b == 0));
    assert_eq!(
        u32::from_le_bytes(blob[528..532].try_into().unwrap()) as usize,
        plaintext.len() + aad.len()
    );
    assert!(blob[532..544].iter().all(|b| *b == 0));
    assert_eq!(&blob[560 + plaintext.len()..], aad);

    // Ciphertext and tag against ring with the KAT key.
    let key: [u8; 16] = hex::decode("43a6efee07cffbfe2353d9c3f5618f20")
        .unwrap()
        .try_into()
        .unwrap();
    let (ct, tag) = ring_seal(&key, plaintext, aad);
    assert_eq!(&blob[560..560 + plaintext.len()], &ct[..]);
    assert_eq!(&blob[544..560], &tag[..]);

    // The declared header layout reads the same bytes.
    let h = SealedHeader::from_bytes(&blob[..560]).unwrap();
    assert_eq!(h.key_request, kat_request());
    assert_eq!(h.plain_text_offset as usize, plaintext.len());
    assert_eq!(h.payload_size as usize, plaintext.len() + aad.len());
    assert_eq!((h.reserved1, h.reserved2), ([0; 12], [0; 12]));
    assert_eq!(&h.payload_tag[..], &tag[..]);
    assert_eq!(&h.to_bytes()[..], &blob[..560]);

    let out = unseal(&enclave, &blob).unwrap();
    assert_eq!(&out.plaintext[..], plaintext);
    assert_eq!(out.aad, aad);
}

/// `sgx_sealed_data_t` as the SDK's `sgx_tseal.h` lays it out (`docs/sgx-reference.md`):
/// the offsets derived from the one declaration of [`SealedHeader`].
#[test]
fn sealed_header_offsets_are_the_sdk_ones() {
    use kss_seal::format::{offsets, HEADER_SIZE};
    assert_eq!((SealedHeader::SIZE, HEADER_SIZE), (560, 560));
    assert_eq!(
        (
            offsets::KEY_REQUEST,
            offsets::PLAIN_TEXT_OFFSET,
            offsets::RESERVED1,
            offsets::PAYLOAD_SIZE,
            offsets::RESERVED2,
            offsets::PAYLOAD_TAG,
        ),
        (0, 512, 516, 528, 532, 544)
    );
    assert!(SealedHeader::from_bytes(&[0; 559]).is_err());
}

#[test]
fn non_kss_default_is_mrsigner_and_matches_ring() {
    let enclave = SimEnclave::non_kss();
    let key_id = [0x5C; 32];
    let plaintext = vec![0xA5u8; 1000];
    let blob =
        seal_with_key_id(&enclave, key_id, &plaintext, &[], &SealOptions::default()).unwrap();
    let parsed = SealedData::parse(&blob).unwrap();
    assert_eq!(parsed.key_request.key_policy, KeyPolicy::MRSIGNER);
    assert_eq!(parsed.key_request.config_svn, 0);
    assert_eq!(parsed.key_request.key_id, key_id);
    let key = enclave.get_key(&parsed.key_request).unwrap();
    let (ct, tag) = ring_seal(&key, &plaintext, &[]);
    assert_eq!(parsed.ciphertext, &ct[..]);
    assert_eq!(&parsed.tag[..], &tag[..]);
}

#[test]
fn aad_only_mac_blob_matches_ring_gmac() {
    let enclave = SimEnclave::kat();
    let aad = b"public but authenticated";
    let blob =
        kss_seal::mac_aad_with_key_id(&enclave, [0; 32], aad, &SealOptions::default()).unwrap();
    assert_eq!(blob.len(), 560 + aad.len());
    assert_eq!(&blob[512..516], &[0, 0, 0, 0]);
    let key: [u8; 16] = hex::decode("43a6efee07cffbfe2353d9c3f5618f20")
        .unwrap()
        .try_into()
        .unwrap();
    let (_, tag) = ring_seal(&key, &[], aad);
    assert_eq!(&blob[544..560], &tag[..]);
    let out = unseal(&enclave, &blob).unwrap();
    assert!(out.plaintext.is_empty());
    assert_eq!(out.aad, aad);
    // Reseal keeps it a MAC-only blob.
    let moved = kss_seal::reseal(&enclave, &blob, None).unwrap();
    assert_eq!(moved.len(), blob.len());
    assert_eq!(&moved[512..516], &[0, 0, 0, 0]);
    assert_eq!(unseal(&enclave, &moved).unwrap().aad, aad);
}

#[test]
fn reseal_with_fixed_key_id_equals_a_fresh_seal_at_the_current_svns() {
    let old = SimEnclave::kat();
    let upgraded = SimEnclave::kat().with(|r| {
        r.isv_svn = 6;
        r.config_svn = 8;
    });
    let plaintext = b"tenant key ring v1";
    let aad = b"meta";
    let blob = seal_with_key_id(&old, [0x11; 32], plaintext, aad, &SealOptions::default()).unwrap();
    let key_id = [0x22; 32];
    let moved = kss_seal::reseal_with_key_id(&upgraded, &blob, None, key_id).unwrap();
    // Byte for byte what sealing the same data on the upgraded enclave gives.
    let fresh =
        seal_with_key_id(&upgraded, key_id, plaintext, aad, &SealOptions::default()).unwrap();
    assert_eq!(moved, fresh);
    let request = KeyRequest {
        isv_svn: 6,
        config_svn: 8,
        key_id,
        ..kat_request()
    };
    assert_eq!(&moved[..512], &request.to_bytes()[..]);
    // Ciphertext and tag against ring with the upgraded enclave's key.
    let key = upgraded.get_key(&request).unwrap();
    let (ct, tag) = ring_seal(&key, plaintext, aad);
    assert_eq!(&moved[560..560 + plaintext.len()], &ct[..]);
    assert_eq!(&moved[544..560], &tag[..]);

    // A new policy replaces the stored one; everything else is the same.
    let family = kss_seal::Preset::Family.policy();
    let moved = kss_seal::reseal_with_key_id(&upgraded, &blob, Some(family), key_id).unwrap();
    let fresh = seal_with_key_id(
        &upgraded,
        key_id,
        plaintext,
        aad,
        &SealOptions::with_policy(family),
    )
    .unwrap();
    assert_eq!(moved, fresh);
}

#[test]
fn sealed_size_is_limited_to_u32() {
    use kss_seal::format::{sealed_size, MAX_SEALED_SIZE};
    use kss_seal::SealError;
    let max = u32::MAX as usize;
    assert_eq!(sealed_size(0, 0).unwrap(), 560);
    assert_eq!(sealed_size(max - 560, 0).unwrap(), max);
    assert_eq!(sealed_size(1, max - 561).unwrap(), max);
    for (text_len, aad_len) in [(max - 559, 0), (0, max - 559), (max, 0), (max, max)] {
        match sealed_size(text_len, aad_len) {
            Err(SealError::TooLarge {
                size,
                text_len: t,
                aad_len: a,
                max,
            }) => {
                assert_eq!(
                    (t, a, max),
                    (text_len as u64, aad_len as u64, MAX_SEALED_SIZE)
                );
                assert_eq!(size, 560 + text_len as u64 + aad_len as u64);
            }
            other => panic!("{text_len} + {aad_len}: expected TooLarge, got {other:?}"),
        }
    }
    // The sum saturates rather than wraps.
    let huge = (usize::MAX as u64).saturating_mul(2).saturating_add(560);
    assert!(matches!(
        sealed_size(usize::MAX, usize::MAX),
        Err(SealError::TooLarge { size, .. }) if size == huge
    ));
}
