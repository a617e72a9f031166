//! Known answers from real files in `testdata/`.

use kss_sign::{mr_signer, sign, verify, SignOptions, SigningKey, VerifyError};
use kss_types::Sigstruct;

fn data(path: &str) -> Vec<u8> {
    let full = format!("{}/../../testdata/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn sigstruct(path: &str) -> Sigstruct {
    Sigstruct::from_bytes(&data(path)).unwrap()
}

fn sig1_key() -> SigningKey {
    SigningKey::from_file_bytes(&data("fortanix-rust-sgx/sgxs-sign/sig1.key.pem")).unwrap()
}

const SIG1_HASH: &str = "c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d";

#[test]
fn reproduces_sgxs_sign_sig1_byte_for_byte() {
    let options = SignOptions::new()
        .date(0x2016_0109)
        .attribute_flags(0x4, 0xFFFF_FFFF_FFFF_FFFD)
        .xfrm(0x3, 0xFFFF_FFFF_FFFF_FF1B)
        .misc(0, 0xFFFF_FFFF);
    let hash: [u8; 32] = hex::decode(SIG1_HASH).unwrap().try_into().unwrap();
    let sig = sign(&options, &hash, &sig1_key()).unwrap();
    let expected = data("fortanix-rust-sgx/sgxs-sign/sig1.sigstruct.bin");
    assert_eq!(sig.to_bytes().to_vec(), expected);
    verify(&sig).unwrap();
}

#[test]
fn raw_rsa_vector_sig1() {
    let key = sig1_key();
    let digest: [u8; 32] = data("fortanix-rust-sgx/sgxs-sign/sig1.data.bin")
        .try_into()
        .unwrap();
    let raw = key.sign_digest(&digest).unwrap();
    assert_eq!(
        key.modulus_le().to_vec(),
        data("fortanix-rust-sgx/sgxs-sign/sig1.key_n.bin")
    );
    assert_eq!(
        raw.signature.to_vec(),
        data("fortanix-rust-sgx/sgxs-sign/sig1.sig.bin")
    );
    assert_eq!(
        raw.q1.to_vec(),
        data("fortanix-rust-sgx/sgxs-sign/sig1.q1.bin")
    );
    assert_eq!(
        raw.q2.to_vec(),
        data("fortanix-rust-sgx/sgxs-sign/sig1.q2.bin")
    );
    assert_eq!(
        hex::encode(key.mr_signer()),
        "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"
    );
}

#[test]
fn real_sigstructs_verify_with_their_mrsigners() {
    for (path, signer) in [
        (
            "fortanix-rust-sgx/sgxs-sign/sig1.sigstruct.bin",
            "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e",
        ),
        (
            "fortanix-rust-sgx/sgx_detect/test_enclave.sig",
            "fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542",
        ),
        (
            "fortanix-rust-sgx/intel-pce-sigstruct/DERIVED_libsgx_pce.signed.so.1.25.100.1.sigstruct.bin",
            "c54a62f2be9ef76efb1f3930ad81ea7f60defc1f5f25e09b7c067a815ae0c6cb",
        ),
    ] {
        let sig = sigstruct(path);
        assert_eq!(verify(&sig), Ok(()), "{path}");
        assert_eq!(sig.structure_problem(), None, "{path}");
        assert_eq!(hex::encode(mr_signer(&sig)), signer, "{path}");
    }
}

#[test]
fn test_enclave_sig_fields() {
    let sig = sigstruct("fortanix-rust-sgx/sgx_detect/test_enclave.sig");
    assert_eq!(
        hex::encode(sig.enclave_hash),
        "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc"
    );
    assert_eq!(
        (sig.date, sig.isv_prod_id, sig.isv_svn),
        (0x2016_1214, 65535, 0)
    );
    let pce = sigstruct(
        "fortanix-rust-sgx/intel-pce-sigstruct/DERIVED_libsgx_pce.signed.so.1.25.100.1.sigstruct.bin",
    );
    assert_eq!(
        (pce.vendor, pce.date, pce.isv_prod_id, pce.isv_svn),
        (0x8086, 0x2024_0811, 1, 16)
    );
}

#[test]
fn dummy_der_key_has_the_quote_mrsigner() {
    let key =
        SigningKey::from_file_bytes(&data("fortanix-rust-sgx/enclave-runner-dummy.key")).unwrap();
    assert_eq!(
        hex::encode(key.mr_signer()),
        "9affcfae47b848ec2caf1c49b4b283531e1cc425f93582b36806e52a43d78d1a"
    );
}

#[test]
fn tampering_is_detected_with_distinct_errors() {
    let good = sigstruct("fortanix-rust-sgx/sgx_detect/test_enclave.sig");
    let mut s = good.clone();
    s.isv_svn ^= 1;
    assert_eq!(verify(&s), Err(VerifyError::Signature));
    let mut s = good.clone();
    s.q1[7] ^= 1;
    assert_eq!(verify(&s), Err(VerifyError::Q1));
    let mut s = good.clone();
    s.q2[380] ^= 0x80;
    assert_eq!(verify(&s), Err(VerifyError::Q2));
    let mut s = good.clone();
    s.exponent = 65537;
    assert_eq!(verify(&s), Err(VerifyError::Exponent { exponent: 65537 }));
    let mut s = good.clone();
    s.modulus[383] = 0;
    assert!(matches!(verify(&s), Err(VerifyError::Modulus { .. })));
    let mut s = good;
    s.signature = [0xFF; 384];
    assert_eq!(verify(&s), Err(VerifyError::SignatureOutOfRange));
}
