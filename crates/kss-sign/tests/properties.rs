//! Property tests: sign → verify round-trips, any change to a signed or RSA byte breaks
//! verification, and random SIGSTRUCT bytes never panic the parser or the verifier.

use kss_sign::{sign, verify, SignOptions, SigningKey, VerifyError};
use kss_types::{Id128, Sigstruct};
use proptest::prelude::*;
use std::sync::OnceLock;

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/fortanix-rust-sgx/sgxs-sign/sig1.key.pem"
        );
        SigningKey::from_file_bytes(&std::fs::read(path).unwrap()).unwrap()
    })
}

/// The bytes of one valid signed SIGSTRUCT, signed once for all cases.
fn signed_bytes() -> &'static [u8; Sigstruct::SIZE] {
    static BYTES: OnceLock<[u8; Sigstruct::SIZE]> = OnceLock::new();
    BYTES.get_or_init(|| {
        sign(&SignOptions::new().date(0x2016_0109), &[7; 32], key())
            .unwrap()
            .to_bytes()
    })
}

fn options() -> impl Strategy<Value = (SignOptions, [u8; 32])> {
    (
        any::<[u8; 32]>(),
        any::<u16>(),
        any::<u16>(),
        any::<bool>(),
        any::<bool>(),
        any::<(u64, u64, u64, u64)>(),
        any::<(u32, u32, u32)>(),
    )
        .prop_map(
            |(hash, prod, svn, kss, nodebug, (fh, fl, eh, el), (ms, mm, sw))| {
                let mut o = SignOptions::new()
                    .isv_prod_id(prod)
                    .isv_svn(svn)
                    .kss(kss)
                    .disable_debug(nodebug)
                    .date(0x2024_0229)
                    .misc(ms, mm)
                    .sw_defined(sw);
                if kss {
                    o = o
                        .isv_family_id(Id128::from_high_low(fh, fl))
                        .isv_ext_prod_id(Id128::from_high_low(eh, el));
                }
                (o, hash)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn sign_then_verify((opts, hash) in options()) {
        let sig = sign(&opts, &hash, key()).unwrap();
        prop_assert_eq!(verify(&sig), Ok(()));
        prop_assert_eq!(sig.structure_problem(), None);
        prop_assert_eq!(sig.enclave_hash, hash);
        prop_assert_eq!(sig.misc_select.0, opts.misc_select & opts.misc_mask);
        let reparsed = Sigstruct::from_bytes(&sig.to_bytes()).unwrap();
        prop_assert_eq!(verify(&reparsed), Ok(()));
    }

    #[test]
    fn any_flipped_byte_breaks_verification(
        (opts, hash) in options(),
        region in 0usize..5,
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let sig = sign(&opts, &hash, key()).unwrap();
        let mut bytes = sig.to_bytes();
        // Signed header 0..128, signed body 900..1028, MODULUS, SIGNATURE, Q1/Q2.
        let range = [0..128, 900..1028, 128..512, 516..900, 1040..1808][region].clone();
        let i = range.start + at.index(range.len());
        bytes[i] ^= 1 << bit;
        let tampered = Sigstruct::from_bytes(&bytes).unwrap();
        let result = verify(&tampered);
        prop_assert!(result.is_err(), "byte {} bit {} flipped but still valid", i, bit);
        if region <= 1 {
            prop_assert_eq!(result, Err(VerifyError::Signature));
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        match Sigstruct::from_bytes(&bytes) {
            Ok(s) => { let _ = verify(&s); let _ = s.structure_problem(); }
            Err(_) => prop_assert_ne!(bytes.len(), Sigstruct::SIZE),
        }
    }

    #[test]
    fn random_sigstructs_never_panic_and_fail(bytes in prop::collection::vec(any::<u8>(), 1808)) {
        let s = Sigstruct::from_bytes(&bytes).unwrap();
        prop_assert!(verify(&s).is_err());
    }

    #[test]
    fn truncated_real_sigstruct_is_rejected(n in 0usize..1808) {
        let full = signed_bytes();
        prop_assert!(Sigstruct::from_bytes(&full[..n]).is_err());
    }

    #[test]
    fn garbage_key_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        prop_assert!(SigningKey::from_file_bytes(&bytes).is_err());
        let mut pem = b"-----BEGIN RSA PRIVATE KEY-----\n".to_vec();
        pem.extend_from_slice(&bytes);
        prop_assert!(SigningKey::from_file_bytes(&pem).is_err());
    }
}
