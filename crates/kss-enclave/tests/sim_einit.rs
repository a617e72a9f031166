//! EINIT checks (`docs/sgx-reference.md` §4.3), in order, with the architectural error codes.

mod common;

use common::{build, kss_config, secs, sign, sigstruct_for, TEST_KEY_MRSIGNER};
use kss_enclave::sim::SimCpu;
use kss_enclave::{ErrorCode, Leaf, SgxError};
use kss_types::{AttributeFlags, Attributes, Id128, KssConfig, MiscSelect, Sigstruct};

fn einit_code(flags: u64, kss: KssConfig, edit: impl FnOnce(&mut Sigstruct)) -> ErrorCode {
    einit_code_on(&SimCpu::default(), flags, kss, edit)
}

fn einit_code_on(
    cpu: &SimCpu,
    flags: u64,
    kss: KssConfig,
    edit: impl FnOnce(&mut Sigstruct),
) -> ErrorCode {
    let mut b = build(cpu, &secs(flags, kss));
    let mut sig = sigstruct_for(&b);
    edit(&mut sig);
    match b.einit(&sig) {
        Err(SgxError::Status {
            leaf: Leaf::Einit,
            code,
            ..
        }) => code,
        Err(other) => panic!("expected an EINIT error code, got {other}"),
        Ok(_) => panic!("EINIT accepted"),
    }
}

#[test]
fn einit_success_commits_the_identity() {
    let mut b = build(&SimCpu::default(), &secs(0x86, kss_config(9)));
    let mut sig = sigstruct_for(&b);
    sig.isv_family_id = Id128::from_high_low(1, 2);
    sig.isv_ext_prod_id = Id128::from_high_low(3, 4);
    sign(&mut sig);
    let e = b.einit(&sig).unwrap();
    let s = e.secs();
    assert_eq!(s.mr_enclave, b.mr_enclave());
    assert_eq!(hex::encode(s.mr_signer), TEST_KEY_MRSIGNER);
    assert_eq!((s.isv_prod_id, s.isv_svn), (0x1234, 5));
    assert_eq!(s.isv_family_id, Id128::from_high_low(1, 2));
    assert_eq!(s.isv_ext_prod_id, Id128::from_high_low(3, 4));
    assert_eq!(s.config_svn, 9);
    assert_eq!(s.config_id, kss_config(9).config_id);
    assert_eq!(s.attributes.flags, AttributeFlags(0x87));
}

#[test]
fn einit_twice_faults() {
    let mut b = build(&SimCpu::default(), &secs(0x4, KssConfig::default()));
    let sig = sigstruct_for(&b);
    b.einit(&sig).unwrap();
    assert!(matches!(
        b.einit(&sig),
        Err(SgxError::Fault {
            leaf: Leaf::Einit,
            ..
        })
    ));
    assert!(matches!(
        b.eadd(
            0x1000,
            None,
            &kss_types::Secinfo::new(kss_types::SecinfoFlags::REG_RW)
        ),
        Err(SgxError::Fault {
            leaf: Leaf::Eadd,
            ..
        })
    ));
    assert!(matches!(
        b.eextend(0x1000),
        Err(SgxError::Fault {
            leaf: Leaf::Eextend,
            ..
        })
    ));
}

#[test]
fn einit_bad_header_is_invalid_sig_struct() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.header[0] = 7;
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidSigStruct);
    assert_eq!(code.value(), 1);
}

#[test]
fn einit_bad_vendor_is_invalid_sig_struct() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.vendor = 0x1234;
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidSigStruct);
}

#[test]
fn einit_reserved_bytes_are_invalid_sig_struct() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.reserved4[0] = 1; // unsigned reserved area
    });
    assert_eq!(code, ErrorCode::InvalidSigStruct);
}

#[test]
fn einit_bad_signature_is_invalid_signature() {
    let code = einit_code(0x4, KssConfig::default(), |s| s.isv_svn += 1);
    assert_eq!(code, ErrorCode::InvalidSignature);
    assert_eq!(code.value(), 8);
}

/// The error names the code and why the signature does not verify, and keeps `kss_sign`'s
/// error as its source.
#[test]
fn einit_bad_signature_keeps_why_as_the_source() {
    let mut b = build(&SimCpu::default(), &secs(0x4, KssConfig::default()));
    let mut sig = sigstruct_for(&b);
    sig.q1[0] ^= 1;
    let Err(e) = b.einit(&sig) else {
        panic!("EINIT accepted a bad Q1");
    };
    assert_eq!(
        e.to_string(),
        "EINIT returned SGX_INVALID_SIGNATURE (8): SIGSTRUCT Q1 is not floor(SIGNATURE² / MODULUS)"
    );
    let cause = std::error::Error::source(&e).expect("a cause");
    assert_eq!(
        cause.downcast_ref::<kss_sign::VerifyError>(),
        Some(&kss_sign::VerifyError::Q1)
    );
}

#[test]
fn einit_bad_q1_or_q2_is_invalid_signature() {
    let code = einit_code(0x4, KssConfig::default(), |s| s.q1[0] ^= 1);
    assert_eq!(code, ErrorCode::InvalidSignature);
    let code = einit_code(0x4, KssConfig::default(), |s| s.q2[5] ^= 1);
    assert_eq!(code, ErrorCode::InvalidSignature);
}

#[test]
fn einit_isvfamilyid_without_kss_is_invalid_sig_struct() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.isv_family_id = Id128::from_high_low(0, 1);
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidSigStruct);
}

#[test]
fn einit_isvextprodid_without_kss_is_invalid_sig_struct() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.isv_ext_prod_id = Id128::from_high_low(1, 0);
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidSigStruct);
}

#[test]
fn einit_enclavehash_mismatch_is_invalid_measurement() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.enclave_hash[31] ^= 1;
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidMeasurement);
    assert_eq!(code.value(), 4);
}

#[test]
fn einit_einittoken_key_without_le_pubkey_hash_is_invalid_attribute() {
    let code = einit_code(0x24, KssConfig::default(), |_| {});
    assert_eq!(code, ErrorCode::InvalidAttribute);
    // With IA32_SGXLEPUBKEYHASH = MRSIGNER (what the Linux kernel writes) EINIT succeeds.
    let mut cpu = SimCpu::default();
    cpu.le_pubkey_hash
        .copy_from_slice(&hex::decode(TEST_KEY_MRSIGNER).unwrap());
    let mut b = build(&cpu, &secs(0x24, KssConfig::default()));
    let sig = sigstruct_for(&b);
    b.einit(&sig).unwrap();
}

#[test]
fn einit_attribute_flags_mismatch_is_invalid_attribute() {
    // The SECS has KSS (0x84), the SIGSTRUCT says no KSS and the mask covers bit 7.
    let code = einit_code(0x84, KssConfig::default(), |s| {
        s.attributes = Attributes::new(0x4, 0x3);
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidAttribute);
    assert_eq!(code.value(), 2);
}

#[test]
fn einit_attribute_compare_covers_xfrm() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.attributes.xfrm = 0xB; // bit 3 is inside the SDK XFRM mask 0x..FF1B
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidAttribute);
}

#[test]
fn einit_attribute_bits_outside_the_mask_are_ignored() {
    // DEBUG differs but ATTRIBUTEMASK excludes it (SDK default mask): accepted.
    let mut b = build(&SimCpu::default(), &secs(0x6, KssConfig::default()));
    let mut sig = sigstruct_for(&b);
    sig.attributes = Attributes::new(0x4, 0x3);
    sign(&mut sig);
    b.einit(&sig).unwrap();
}

#[test]
fn einit_miscselect_mismatch_is_invalid_attribute() {
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.misc_select = MiscSelect(1);
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidAttribute);
}

#[test]
fn einit_checks_run_in_architectural_order() {
    // Bad structure beats a bad signature.
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.exponent = 65537;
        s.isv_svn += 1;
    });
    assert_eq!(code, ErrorCode::InvalidSigStruct);
    // A bad signature beats a wrong ENCLAVEHASH.
    let code = einit_code(0x4, KssConfig::default(), |s| s.enclave_hash = [0; 32]);
    assert_eq!(code, ErrorCode::InvalidSignature);
    // The KSS rule beats a wrong ENCLAVEHASH.
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.enclave_hash = [0; 32];
        s.isv_family_id = Id128::from_high_low(0, 5);
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidSigStruct);
    // A wrong ENCLAVEHASH beats an attribute mismatch.
    let code = einit_code(0x4, KssConfig::default(), |s| {
        s.enclave_hash = [0; 32];
        s.attributes.xfrm = 0xB; // bit 3 is inside the SDK XFRM mask 0x..FF1B
        sign(s);
    });
    assert_eq!(code, ErrorCode::InvalidMeasurement);
}

#[test]
fn einit_failure_can_be_retried() {
    let mut b = build(&SimCpu::default(), &secs(0x4, KssConfig::default()));
    let good = sigstruct_for(&b);
    let mut bad = good.clone();
    bad.isv_svn += 1;
    assert!(b.einit(&bad).is_err());
    b.einit(&good).unwrap();
}
