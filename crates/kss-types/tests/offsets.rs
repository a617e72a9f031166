//! The offsets the layout declarations derive, against the literal numbers of the reference
//! (`docs/sgx-reference.md`). `tests/layout.rs` checks where `to_bytes` puts each field; this
//! checks the published offset constants, which other crates index with.

use kss_types::{attributes, ids, keyrequest, report, secinfo, secs, sigstruct, targetinfo};

#[test]
fn attributes_and_secinfo() {
    use attributes::offsets::*;
    assert_eq!((FLAGS, XFRM), (0, 8));
    use secinfo::offsets as s;
    assert_eq!((s::FLAGS, s::RESERVED), (0, 8));
    use ids::kss_config_offsets as k;
    assert_eq!((k::CONFIG_ID, k::CONFIG_SVN), (0, 64));
}

#[test]
fn secs() {
    use secs::offsets::*;
    let got = [
        SIZE,
        BASE_ADDR,
        SSA_FRAME_SIZE,
        MISC_SELECT,
        RESERVED1,
        ATTRIBUTES,
        MR_ENCLAVE,
        RESERVED2,
        MR_SIGNER,
        RESERVED3,
        CONFIG_ID,
        ISV_PROD_ID,
        ISV_SVN,
        CONFIG_SVN,
        SIM_ISV_FAMILY_ID,
        SIM_ISV_EXT_PROD_ID,
        RESERVED4,
    ];
    let want = [
        0, 8, 16, 20, 24, 48, 64, 96, 128, 160, 192, 256, 258, 260, 262, 278, 294,
    ];
    assert_eq!(got, want);
}

#[test]
fn sigstruct() {
    use sigstruct::offsets::*;
    let got = [
        HEADER,
        VENDOR,
        DATE,
        HEADER2,
        SW_DEFINED,
        RESERVED1,
        MODULUS,
        EXPONENT,
        SIGNATURE,
        MISC_SELECT,
        MISC_MASK,
        CET_ATTRIBUTES,
        CET_ATTRIBUTES_MASK,
        RESERVED2,
        ISV_FAMILY_ID,
        ATTRIBUTES,
        ATTRIBUTE_MASK,
        ENCLAVE_HASH,
        RESERVED3,
        ISV_EXT_PROD_ID,
        ISV_PROD_ID,
        ISV_SVN,
        RESERVED4,
        Q1,
        Q2,
    ];
    let want = [
        0, 16, 20, 24, 40, 44, 128, 512, 516, 900, 904, 908, 909, 910, 912, 928, 944, 960, 992,
        1008, 1024, 1026, 1028, 1040, 1424,
    ];
    assert_eq!(got, want);
    assert_eq!(sigstruct::SIGNED_HEADER, 0..128);
    assert_eq!(sigstruct::SIGNED_BODY, 900..1028);
}

#[test]
fn report_and_body() {
    use report::offsets::*;
    let got = [
        CPU_SVN,
        MISC_SELECT,
        RESERVED1,
        ISV_EXT_PROD_ID,
        ATTRIBUTES,
        MR_ENCLAVE,
        RESERVED2,
        MR_SIGNER,
        RESERVED3,
        CONFIG_ID,
        ISV_PROD_ID,
        ISV_SVN,
        CONFIG_SVN,
        RESERVED4,
        ISV_FAMILY_ID,
        REPORT_DATA,
    ];
    let want = [
        0, 16, 20, 32, 48, 64, 96, 128, 160, 192, 256, 258, 260, 262, 304, 320,
    ];
    assert_eq!(got, want);
    use report::report_offsets as r;
    assert_eq!((r::BODY, r::KEY_ID, r::MAC), (0, 384, 416));
}

#[test]
fn targetinfo() {
    use targetinfo::offsets::*;
    let got = [
        MEASUREMENT,
        ATTRIBUTES,
        RESERVED1,
        CONFIG_SVN,
        MISC_SELECT,
        RESERVED2,
        CONFIG_ID,
        RESERVED3,
    ];
    assert_eq!(got, [0, 32, 48, 50, 52, 56, 64, 128]);
}

#[test]
fn keyrequest() {
    use keyrequest::offsets::*;
    let got = [
        KEY_NAME,
        KEY_POLICY,
        ISV_SVN,
        RESERVED1,
        CPU_SVN,
        ATTRIBUTE_MASK,
        KEY_ID,
        MISC_MASK,
        CONFIG_SVN,
        RESERVED2,
    ];
    assert_eq!(got, [0, 2, 4, 6, 8, 24, 40, 72, 76, 78]);
}
