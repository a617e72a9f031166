//! Sign-tool defaults and the KSS/debug rules.

use kss_sign::{sign, OptionsError, SignError, SignOptions, SigningKey};
use kss_types::{AttributeFlags, Id128};

fn key() -> SigningKey {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/fortanix-rust-sgx/enclave-runner-dummy.key"
    );
    SigningKey::load(std::path::Path::new(path)).unwrap()
}

#[test]
fn defaults_are_the_intel_sign_tool_ones() {
    let before = kss_sign::today_bcd();
    let sig = sign(&SignOptions::new(), &[1; 32], &key()).unwrap();
    let after = kss_sign::today_bcd();
    assert_eq!(sig.attributes.flags.0, 0x4);
    assert_eq!(sig.attributes.xfrm, 0x3);
    assert_eq!(sig.attribute_mask.flags.0, 0xFF00_FFFF_FFFF_FFFD);
    assert_eq!(sig.attribute_mask.xfrm, 0xFFFF_FFFF_FFFF_FF1B);
    assert_eq!((sig.misc_select.0, sig.misc_mask), (0, 0xFFFF_FFFF));
    assert_eq!(
        (sig.vendor, sig.isv_prod_id, sig.isv_svn, sig.sw_defined),
        (0, 0, 0, 0)
    );
    assert!(sig.date == before || sig.date == after, "{:#x}", sig.date);
    assert!(sig.isv_family_id.is_zero() && sig.isv_ext_prod_id.is_zero());
    // Without KSS the mask still checks bit 7, so KSS must be 0 at launch.
    assert!(sig.attribute_mask.flags.contains(AttributeFlags::KSS));
    assert!(!sig.attributes.flags.contains(AttributeFlags::KSS));
}

#[test]
fn kss_and_disable_debug_set_bits() {
    let o = SignOptions::new()
        .kss(true)
        .disable_debug(true)
        .attribute_flags(0x6, 0);
    let (a, m) = o.resolved_attributes();
    assert_eq!(a.flags.0, 0x84);
    assert_eq!(m.flags.0, 0x82);
}

#[test]
fn ids_without_kss_are_rejected() {
    let o = SignOptions::new().isv_ext_prod_id(Id128::from_high_low(0, 1));
    let err = sign(&o, &[0; 32], &key()).unwrap_err();
    assert!(matches!(
        err,
        SignError::Options(OptionsError::IdsWithoutKss { family, ext_prod })
            if family == Id128::ZERO && ext_prod == Id128::from_high_low(0, 1)
    ));
    assert!(err
        .to_string()
        .starts_with("KSS must be enabled if ISVEXTPRODID or ISVFAMILYID is set"));
    let ext_hex = hex::encode(Id128::from_high_low(0, 1).0);
    assert!(
        err.to_string().contains(&format!(
            "(ISVFAMILYID {}, ISVEXTPRODID {ext_hex})",
            "0".repeat(32)
        )),
        "{err}"
    );
    // KSS requested through the raw attributes counts as enabled.
    let o = o.attribute_flags(0x84, 0xFF00_FFFF_FFFF_FFFD);
    assert!(sign(&o, &[0; 32], &key()).is_ok());
}

#[test]
fn other_option_errors() {
    assert!(matches!(
        SignOptions::new().vendor(0x1234).check(),
        Err(OptionsError::Vendor { vendor: 0x1234 })
    ));
    assert!(matches!(
        SignOptions::new().date(0x2016_1301).check(),
        Err(OptionsError::Date(_))
    ));
    assert!(matches!(
        SignOptions::new().attribute_flags(0x5, 0).check(),
        Err(OptionsError::InitAttribute { .. })
    ));
}

#[test]
fn encrypted_pkcs8_key_error_says_how_to_decrypt() {
    let pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n\
               MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIAAAAAAAAAAACAggA\n\
               -----END ENCRYPTED PRIVATE KEY-----\n";
    for err in [
        SigningKey::from_pem(pem).unwrap_err(),
        SigningKey::from_file_bytes(pem.as_bytes()).unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(msg.contains("the key is encrypted"), "{msg}");
        assert!(msg.contains("decrypt it first"), "{msg}");
        assert!(
            msg.contains("openssl pkey -in key.pem -out plain.pem"),
            "{msg}"
        );
    }
}

#[test]
fn generated_keys_round_trip_through_pem() {
    let key = SigningKey::generate_os().unwrap();
    let pkcs8 = key.to_pkcs8_pem().unwrap();
    assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
    let pkcs1 = key.to_pkcs1_pem().unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    for pem in [&*pkcs8, &*pkcs1] {
        assert_eq!(
            SigningKey::from_pem(pem).unwrap().mr_signer(),
            key.mr_signer()
        );
    }
    let sig = sign(&SignOptions::new(), &[9; 32], &key).unwrap();
    assert_eq!(kss_sign::verify(&sig), Ok(()));
    assert_eq!(kss_sign::mr_signer(&sig), key.mr_signer());
}
