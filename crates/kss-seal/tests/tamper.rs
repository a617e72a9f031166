//! Tampering and malformed input: every changed byte fails cleanly, truncation is a clean error,
//! and the parser never panics on random bytes.

mod common;

use common::SimEnclave;
use kss_seal::{seal_with_key_id, unseal, SealError, SealOptions, SealedData};
use proptest::prelude::*;

fn small_blob() -> (SimEnclave, Vec<u8>) {
    let enclave = SimEnclave::kat();
    // The default KSS policy (0x3A) binds CONFIGID, so the stored CONFIGSVN is in the key too.
    let blob = seal_with_key_id(
        &enclave,
        [0x42; 32],
        b"secret!",
        b"aad",
        &SealOptions::default(),
    )
    .unwrap();
    (enclave, blob)
}

/// Is this an acceptable rejection of a modified blob? MAC and format errors always; the SVN
/// errors only for the request fields that carry SVNs (raising them asks for a key the
/// enclave may not derive, exactly as in the SDK).
fn acceptable(pos: usize, e: &SealError) -> bool {
    match e {
        SealError::MacMismatch { .. }
        | SealError::Format { .. }
        | SealError::LengthMismatch { .. }
        | SealError::Truncated { .. } => true,
        SealError::SvnTooLow {
            field: "ISVSVN", ..
        } => (4..6).contains(&pos),
        SealError::SvnTooLow {
            field: "CONFIGSVN", ..
        } => (76..78).contains(&pos),
        SealError::CpuSvnTooNew { .. } => (8..24).contains(&pos),
        _ => false,
    }
}

#[test]
fn every_changed_byte_is_rejected() {
    let (enclave, blob) = small_blob();
    assert_eq!(blob.len(), 560 + 7 + 3);
    assert_eq!(&unseal(&enclave, &blob).unwrap().plaintext[..], b"secret!");
    for pos in 0..blob.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut bad = blob.clone();
            bad[pos] ^= flip;
            match unseal(&enclave, &bad) {
                Ok(_) => panic!("byte {pos} ^ {flip:#x} still unsealed"),
                Err(e) => assert!(acceptable(pos, &e), "byte {pos} ^ {flip:#x}: {e:?}"),
            }
        }
    }
}

#[test]
fn every_truncation_and_extension_is_a_clean_error() {
    let (enclave, blob) = small_blob();
    for len in 0..blob.len() {
        let e = unseal(&enclave, &blob[..len]).unwrap_err();
        assert!(
            matches!(
                e,
                SealError::Truncated { .. } | SealError::LengthMismatch { .. }
            ),
            "len {len}: {e:?}"
        );
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert!(matches!(
        unseal(&enclave, &longer),
        Err(SealError::LengthMismatch {
            declared: 570,
            actual: 571
        })
    ));
}

#[test]
fn format_errors_name_the_field() {
    let (_, blob) = small_blob();
    let mut bad = blob.clone();
    bad[0] = 3; // REPORT key name
    let e = SealedData::parse(&bad).unwrap_err().to_string();
    assert!(
        e.contains("key_request.key_name is 3, expected 4 (SEAL)"),
        "{e}"
    );
    let mut bad = blob.clone();
    bad[520] = 1;
    let e = SealedData::parse(&bad).unwrap_err().to_string();
    assert!(e.contains("reserved (bytes 516..528)"), "{e}");
    let mut bad = blob.clone();
    bad[512..516].copy_from_slice(&100u32.to_le_bytes());
    let e = SealedData::parse(&bad).unwrap_err().to_string();
    assert!(
        e.contains("plain_text_offset is 100 (payload_size 10)"),
        "{e}"
    );
    let e = SealedData::parse(&blob[..100]).unwrap_err().to_string();
    assert!(e.contains("100 bytes, shorter than the 560-byte"), "{e}");
}

#[test]
fn inspect_shows_metadata() {
    let (_, blob) = small_blob();
    let info = SealedData::parse(&blob).unwrap().inspect();
    assert_eq!(info.policy.0, 0x3A);
    assert_eq!(
        info.policy_names(),
        "mrsigner,configid,isvfamilyid,isvextprodid"
    );
    assert_eq!((info.isv_svn, info.config_svn, info.key_name), (5, 7, 4));
    assert_eq!(info.cpu_svn_hex(), "4820f3376ae6b2f2034d3b7a4b48a778");
    assert_eq!(info.key_id_hex(), "42".repeat(32));
    assert_eq!(info.attribute_mask.flags.0, 0xFF00_0000_0000_000B);
    assert_eq!(info.misc_mask, 0xF000_0000);
    assert_eq!(
        (info.encrypted_len, info.aad_len, info.total_len),
        (7, 3, 570)
    );
    let text = info.to_string();
    assert!(
        text.contains("0x003a mrsigner,configid,isvfamilyid,isvextprodid"),
        "{text}"
    );
    // Inspect never shows the ciphertext, the tag or the AAD (bytes would print as hex).
    let parsed = SealedData::parse(&blob).unwrap();
    for hidden in [parsed.ciphertext, &parsed.tag[..], parsed.aad] {
        assert!(!text.contains(&hex::encode(hidden)), "{text}");
    }
}

proptest! {
    #[test]
    fn parse_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let _ = SealedData::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_mutated_blobs(
        edits in proptest::collection::vec((0usize..570, any::<u8>()), 1..8),
        cut in 0usize..600,
    ) {
        let (enclave, blob) = small_blob();
        let mut bad = blob.clone();
        for (pos, v) in edits {
            bad[pos] = v;
        }
        bad.truncate(cut);
        if let Ok(p) = SealedData::parse(&bad) {
            let _ = p.inspect().to_string();
            prop_assert_eq!(p.total_len(), bad.len());
        }
        if bad != blob {
            prop_assert!(unseal(&enclave, &bad).is_err());
        }
    }

    #[test]
    fn seal_unseal_round_trip(text in proptest::collection::vec(any::<u8>(), 1..300),
                              aad in proptest::collection::vec(any::<u8>(), 0..100)) {
        let enclave = SimEnclave::kat();
        let blob = kss_seal::seal(&enclave, &text, &aad, &SealOptions::default()).unwrap();
        let parsed = SealedData::parse(&blob).unwrap();
        prop_assert_eq!(parsed.encrypted_len(), text.len());
        prop_assert_eq!(parsed.aad, &aad[..]);
        let out = unseal(&enclave, &blob).unwrap();
        prop_assert_eq!(&out.plaintext[..], &text[..]);
        prop_assert_eq!(out.aad, aad);
    }
}

#[test]
fn in_place_and_buffer_reuse_apis() {
    let (enclave, blob) = small_blob();
    let mut buf = blob.clone();
    let out = kss_seal::unseal_in_place(&enclave, &mut buf).unwrap();
    assert_eq!(&out.plaintext[..], b"secret!");
    assert_eq!(out.aad, b"aad");
    assert_eq!(&buf[560..567], b"secret!");
    // A failed in-place unseal leaves the buffer exactly as it was.
    let mut bad = blob.clone();
    bad[565] ^= 1;
    let before = bad.clone();
    assert!(matches!(
        kss_seal::unseal_in_place(&enclave, &mut bad),
        Err(SealError::MacMismatch { .. })
    ));
    assert_eq!(bad, before);

    let mut out = vec![0xEE; 5000];
    kss_seal::seal_into(&enclave, b"reused", b"x", &SealOptions::default(), &mut out).unwrap();
    assert_eq!(out.len(), 560 + 7);
    assert_eq!(&unseal(&enclave, &out).unwrap().plaintext[..], b"reused");
    assert!(kss_seal::seal_into(&enclave, b"", b"x", &SealOptions::default(), &mut out).is_err());
    assert!(out.is_empty());
}
