//! Key separation and sharing through KSS key policies, and the SDK's policy rules.

mod common;

use common::SimEnclave;
use kss_seal::{parse_policy, seal, unseal, Preset, SealError, SealOptions};
use kss_types::{ConfigId, Id128, KeyPolicy};

const SECRET: &[u8] = b"database master key";

fn sealed_by(enclave: &SimEnclave, options: &SealOptions) -> Vec<u8> {
    seal(enclave, SECRET, b"aad", options).unwrap()
}

fn assert_mac_mismatch(result: Result<kss_seal::Unsealed, SealError>) {
    match result {
        Err(SealError::MacMismatch { .. }) => {}
        other => panic!("expected MacMismatch, got {other:?}"),
    }
}

#[test]
fn configid_policy_separates_configurations() {
    let a = SimEnclave::kat();
    let b = SimEnclave::kat().with(|r| r.config_id = ConfigId([0xEE; 64]));
    for options in [
        SealOptions::default(),
        SealOptions::with_preset(Preset::Config),
    ] {
        let blob = sealed_by(&a, &options);
        assert_eq!(&unseal(&a, &blob).unwrap().plaintext[..], SECRET);
        assert_mac_mismatch(unseal(&b, &blob));
    }
    // Without CONFIGID in the policy, the other configuration can read it.
    let blob = sealed_by(&a, &SealOptions::with_preset(Preset::Signer));
    assert_eq!(&unseal(&b, &blob).unwrap().plaintext[..], SECRET);
}

#[test]
fn isvextprodid_policy_separates_sibling_products() {
    let a = SimEnclave::kat();
    // Same signer, ISVPRODID and family; another extended product ID.
    let sibling = SimEnclave::kat().with(|r| r.isv_ext_prod_id = Id128::from_high_low(1, 2));
    let blob = sealed_by(&a, &SealOptions::with_preset(Preset::Product));
    assert_eq!(&unseal(&a, &blob).unwrap().plaintext[..], SECRET);
    assert_mac_mismatch(unseal(&sibling, &blob));
    // The SDK default KSS policy includes ISVEXTPRODID too.
    let blob = sealed_by(&a, &SealOptions::default());
    assert_mac_mismatch(unseal(&sibling, &blob));
    // With plain MRSIGNER, the sibling shares the key.
    let blob = sealed_by(&a, &SealOptions::with_preset(Preset::Signer));
    assert_eq!(&unseal(&sibling, &blob).unwrap().plaintext[..], SECRET);
}

#[test]
fn family_preset_shares_across_products_of_one_family() {
    let product_a = SimEnclave::kat().with(|r| {
        r.isv_prod_id = 1;
        r.mr_enclave = [0x01; 32];
        r.isv_ext_prod_id = Id128([0x01; 16]);
        r.config_id = ConfigId([0x01; 64]);
    });
    let product_b = SimEnclave::kat().with(|r| {
        r.isv_prod_id = 2;
        r.mr_enclave = [0x02; 32];
        r.isv_ext_prod_id = Id128([0x02; 16]);
        r.config_id = ConfigId([0x02; 64]);
    });
    let other_family = product_b
        .clone()
        .with(|r| r.isv_family_id = Id128([0xCC; 16]));
    let other_signer = product_b.clone().with(|r| r.mr_signer = [0x99; 32]);
    let family = SealOptions::with_preset(Preset::Family);

    let from_a = sealed_by(&product_a, &family);
    let from_b = sealed_by(&product_b, &family);
    assert_eq!(&unseal(&product_b, &from_a).unwrap().plaintext[..], SECRET);
    assert_eq!(&unseal(&product_a, &from_b).unwrap().plaintext[..], SECRET);
    assert_mac_mismatch(unseal(&other_family, &from_a));
    assert_mac_mismatch(unseal(&other_signer, &from_a));

    // Without NOISVPRODID the products are kept apart even in one family.
    let no_share = SealOptions::with_policy(KeyPolicy::parse_list("mrsigner,isvfamilyid").unwrap());
    assert_mac_mismatch(unseal(&product_b, &sealed_by(&product_a, &no_share)));
}

#[test]
fn enclave_preset_binds_mrenclave_only() {
    let a = SimEnclave::kat();
    let rebuilt = SimEnclave::kat().with(|r| r.mr_enclave = [0x12; 32]);
    let reconfigured = SimEnclave::kat().with(|r| r.config_id = ConfigId([7; 64]));
    let blob = sealed_by(&a, &SealOptions::with_preset(Preset::Enclave));
    assert_mac_mismatch(unseal(&rebuilt, &blob));
    assert_eq!(&unseal(&reconfigured, &blob).unwrap().plaintext[..], SECRET);
}

#[test]
fn debug_attribute_always_separates() {
    let release = SimEnclave::kat().with(|r| r.attributes.flags.0 &= !0x2);
    let debug = SimEnclave::kat();
    let blob = sealed_by(&release, &SealOptions::with_preset(Preset::Signer));
    assert_mac_mismatch(unseal(&debug, &blob));
}

#[test]
fn sdk_policy_rules_are_clear_errors() {
    let kss = SimEnclave::kat();
    let plain = SimEnclave::non_kss();
    let err = |enclave: &SimEnclave, options: SealOptions| {
        seal(enclave, SECRET, &[], &options).unwrap_err()
    };
    let e = err(&kss, SealOptions::with_policy(KeyPolicy(0x42)));
    assert!(
        matches!(e, SealError::InvalidPolicy { policy: 0x42, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("0x3F"), "{e}");
    let e = err(&kss, SealOptions::with_policy(KeyPolicy::CONFIGID));
    assert!(
        e.to_string().contains("must include mrenclave or mrsigner"),
        "{e}"
    );
    for preset in [Preset::Config, Preset::Family, Preset::Product] {
        let e = err(&plain, SealOptions::with_preset(preset));
        assert!(e.to_string().contains("ATTRIBUTES.KSS"), "{e}");
    }
    let mut options = SealOptions::default();
    options.attribute_mask.flags.0 = 0xFF00_0000_0000_0009; // no DEBUG
    let e = err(&kss, options);
    assert!(
        matches!(
            e,
            SealError::InvalidAttributeMask {
                flags: 0xFF00_0000_0000_0009
            }
        ),
        "{e}"
    );
    assert!(matches!(
        seal(&kss, &[], b"aad", &SealOptions::default()),
        Err(SealError::EmptyPlaintext)
    ));
    assert!(matches!(
        kss_seal::mac_aad(&kss, &[], &SealOptions::default()),
        Err(SealError::EmptyAad)
    ));
    // Non-KSS enclaves may use the non-KSS presets.
    for preset in [Preset::Enclave, Preset::Signer] {
        let blob = seal(&plain, SECRET, &[], &SealOptions::with_preset(preset)).unwrap();
        assert_eq!(&unseal(&plain, &blob).unwrap().plaintext[..], SECRET);
    }
}

#[test]
fn policy_text_parsing() {
    assert_eq!(parse_policy("default").unwrap(), None);
    assert_eq!(parse_policy("enclave").unwrap(), Some(KeyPolicy(0x01)));
    assert_eq!(parse_policy("signer").unwrap(), Some(KeyPolicy(0x02)));
    assert_eq!(parse_policy("Config").unwrap(), Some(KeyPolicy(0x0A)));
    assert_eq!(parse_policy("family").unwrap(), Some(KeyPolicy(0x16)));
    assert_eq!(parse_policy("product").unwrap(), Some(KeyPolicy(0x22)));
    assert_eq!(
        parse_policy("mrsigner, configid,isvextprodid").unwrap(),
        Some(KeyPolicy(0x2A))
    );
    let e = parse_policy("mrsigner,bogus").unwrap_err();
    assert!(
        e.to_string().contains("bogus") && e.to_string().contains("preset"),
        "{e}"
    );
    assert!(parse_policy("").is_err());
    assert_eq!(Preset::from_policy(KeyPolicy(0x16)), Some(Preset::Family));
}
