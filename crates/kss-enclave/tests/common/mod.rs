//! Shared test helpers: a signer using the Fortanix test key and a tiny measured enclave.
#![allow(dead_code)]

use kss_enclave::sim::{SimBuilder, SimCpu};
use kss_sign::SigningKey;
use kss_types::{Attributes, ConfigId, KssConfig, Secinfo, SecinfoFlags, Secs, Sigstruct};
use sha2::{Digest, Sha256};

pub const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

pub fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}/{path}")).expect("testdata file")
}

/// MRSIGNER of the Fortanix `sig1.key.pem` test key (`docs/sgx-reference.md` §4.2).
pub const TEST_KEY_MRSIGNER: &str =
    "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e";

pub fn test_key() -> SigningKey {
    let pem = String::from_utf8(testdata("fortanix-rust-sgx/sgxs-sign/sig1.key.pem")).unwrap();
    SigningKey::from_pem(&pem).unwrap()
}

/// Fills MODULUS and EXPONENT and signs (RSASSA-PKCS1-v1_5 / SHA-256 over the signed bytes,
/// with Q1 and Q2) using `kss_sign`'s key.
pub fn sign(sig: &mut Sigstruct) {
    let key = test_key();
    sig.modulus = key.modulus_le();
    sig.exponent = 3;
    let digest: [u8; 32] = Sha256::digest(sig.signed_message()).into();
    let raw = key.sign_digest(&digest).unwrap();
    sig.signature = raw.signature;
    sig.q1 = raw.q1;
    sig.q2 = raw.q2;
}

/// The Intel sign tool's default ATTRIBUTEMASK (flags 0xFF00FFFFFFFFFFFD, xfrm 0xFFFFFFFFFFFFFF1B).
pub const SDK_MASK: Attributes = Attributes::new(0xFF00_FFFF_FFFF_FFFD, 0xFFFF_FFFF_FFFF_FF1B);

/// SECS of a 2-page enclave (size 0x2000, SSA 1) with `flags`, xfrm 3 and `kss`.
pub fn secs(flags: u64, kss: KssConfig) -> Secs {
    Secs {
        size: 0x2000,
        base_addr: 0x1_0000_0000,
        ssa_frame_size: 1,
        attributes: Attributes::new(flags, 0x3),
        config_id: kss.config_id,
        config_svn: kss.config_svn,
        ..Secs::default()
    }
}

/// ECREATE; EADD(0, TCS); EADD(0x1000, REG RW, content 0..) with 16 EEXTENDs.
pub fn build(cpu: &SimCpu, secs: &Secs) -> SimBuilder {
    let mut b = cpu.ecreate(secs).unwrap();
    b.eadd(0, None, &Secinfo::new(SecinfoFlags::TCS)).unwrap();
    let mut page = [0u8; 4096];
    for (i, byte) in page.iter_mut().enumerate() {
        *byte = (i % 251) as u8;
    }
    b.eadd(0x1000, Some(&page), &Secinfo::new(SecinfoFlags::REG_RW))
        .unwrap();
    for c in 0..16 {
        b.eextend(0x1000 + c * 256).unwrap();
    }
    b
}

/// A signed SIGSTRUCT for `builder`'s measurement with its attributes and the SDK mask.
pub fn sigstruct_for(builder: &SimBuilder) -> Sigstruct {
    let mut sig = Sigstruct::unsigned();
    sig.enclave_hash = builder.mr_enclave();
    sig.attributes = builder.secs().attributes;
    sig.attribute_mask = SDK_MASK;
    sig.misc_select = builder.secs().misc_select;
    sig.misc_mask = 0xFFFF_FFFF;
    sig.isv_prod_id = 0x1234;
    sig.isv_svn = 5;
    sig.date = 0x2026_1127;
    sign(&mut sig);
    sig
}

pub fn kss_config(svn: u16) -> KssConfig {
    let mut id = [0u8; 64];
    for (i, b) in id.iter_mut().enumerate() {
        *b = i as u8;
    }
    KssConfig {
        config_id: ConfigId(id),
        config_svn: svn,
    }
}
