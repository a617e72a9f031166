//! `kss measure`, `kss sign`, `kss keygen` and `kss inspect sigstruct` end to end, through the
//! real binary.

use kss_sign::rsa::pkcs8::{EncodePrivateKey, LineEnding};
use kss_sign::rsa::{BigUint, RsaPrivateKey};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SIG1_HASH: &str = "c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d";
const TEST_ENCLAVE_MR: &str = "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc";

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/../../testdata/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn kss(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kss"))
        .args(args)
        .output()
        .expect("run kss")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn sig1_args<'a>(key: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "sign",
        "--key",
        key,
        "--enclave-hash",
        SIG1_HASH,
        "--date",
        "20160109",
        "--attributes",
        "0x4/0xfffffffffffffffd",
        "--xfrm",
        "0x3/0xffffffffffffff1b",
        "--misc-select",
        "0/0xffffffff",
        "--out",
        out,
    ]
}

fn inspect_json(file: &Path) -> (Output, serde_json::Value) {
    let o = kss(&["inspect", "sigstruct", p(file), "--json"]);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o, v)
}

#[test]
fn sign_reproduces_sgxs_sign_sig1_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sig1.sig");
    let key = testdata("fortanix-rust-sgx/sgxs-sign/sig1.key.pem");
    let o = kss(&sig1_args(p(&key), p(&out)));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(testdata("fortanix-rust-sgx/sgxs-sign/sig1.sigstruct.bin")).unwrap()
    );
    assert!(stdout(&o).contains("83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"));
}

#[test]
fn measure_prints_mrenclave_and_json() {
    let sgxs = testdata("fortanix-rust-sgx/sgx_detect/test_enclave.sgxs");
    let o = kss(&["measure", p(&sgxs)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), TEST_ENCLAVE_MR);
    let o = kss(&["measure", p(&sgxs), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mr_enclave"], TEST_ENCLAVE_MR);
    assert_eq!(v["stream_bytes"], 46720);
}

fn broken_sgxs(dir: &Path) -> (PathBuf, PathBuf) {
    let good = std::fs::read(testdata("fortanix-rust-sgx/sgx_detect/test_enclave.sgxs")).unwrap();
    let truncated = dir.join("truncated.sgxs");
    std::fs::write(&truncated, &good[..good.len() - 10]).unwrap();
    // Second record (an EADD at byte 64) moved to a misaligned offset.
    let mut bad = good.clone();
    assert_eq!(&bad[64..68], b"EADD");
    bad[72] = 0x10;
    let misaligned = dir.join("misaligned.sgxs");
    std::fs::write(&misaligned, &bad).unwrap();
    (truncated, misaligned)
}

#[test]
fn invalid_sgxs_is_rejected_with_record_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (truncated, misaligned) = broken_sgxs(dir.path());
    let o = kss(&["measure", p(&truncated)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("truncated SGXS"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let o = kss(&["measure", p(&misaligned)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("record 1 at byte offset 0x40: EADD offset 0x10 is not 4 KiB-aligned"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sign_from_sgxs_measures_and_refuses_invalid_streams() {
    let dir = tempfile::tempdir().unwrap();
    let key = testdata("fortanix-rust-sgx/sgxs-sign/sig1.key.pem");
    let sgxs = testdata("fortanix-rust-sgx/sgx_detect/test_enclave.sgxs");
    let out = dir.path().join("enclave.sig");
    let o = kss(&[
        "sign",
        "--key",
        p(&key),
        "--sgxs",
        p(&sgxs),
        "--out",
        p(&out),
        "--isv-prod-id",
        "65535",
        "--disable-debug",
        "--date",
        "2016-12-14",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, v) = inspect_json(&out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(v["enclave_hash"], TEST_ENCLAVE_MR);
    assert_eq!(v["signature_valid"], true);
    assert_eq!(v["isv_prod_id"], 65535);
    assert_eq!(v["date"], "0x20161214");
    assert_eq!(v["date_iso"], "2016-12-14");
    // Same fields as the real test_enclave.sig: production (DEBUG checked) defaults.
    assert_eq!(v["attributes"]["flags"], "0x4");
    assert_eq!(v["attribute_mask"]["flags"], "0xff00ffffffffffff");
    assert_eq!(v["attribute_mask"]["xfrm"], "0xffffffffffffff1b");
    assert_eq!(v["debug_allowed"], false);

    let (truncated, misaligned) = broken_sgxs(dir.path());
    for bad in [truncated, misaligned] {
        let out = dir.path().join("bad.sig");
        let o = kss(&[
            "sign",
            "--key",
            p(&key),
            "--sgxs",
            p(&bad),
            "--out",
            p(&out),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("SGXS"), "{}", stderr(&o));
        assert!(!out.exists());
    }
}

fn write_key(dir: &Path, name: &str, bits: usize, e: u64) -> PathBuf {
    let key = RsaPrivateKey::new_with_exp(
        &mut kss_sign::rsa::rand_core::OsRng,
        bits,
        &BigUint::from(e),
    )
    .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    path
}

#[test]
fn bad_keys_are_rejected_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.sig");
    let out_s = out.to_str().unwrap().to_string();
    let check = |key: &Path, expect: &str| {
        let o = kss(&sig1_args(p(key), &out_s));
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
        assert!(!out.exists());
    };
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    check(&garbage, "not a usable PEM private key");
    let cert = dir.path().join("cert.pem");
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    check(&cert, "'CERTIFICATE'");
    check(&dir.path().join("missing.pem"), "cannot read key file");
    check(
        &write_key(dir.path(), "small.pem", 2048, 3),
        "SGX requires RSA-3072 with exponent 3, but this key is RSA-2048 with exponent 3",
    );
    check(
        &write_key(dir.path(), "e65537.pem", 3072, 65537),
        "SGX requires RSA-3072 with exponent 3, but this key is RSA-3072 with exponent 65537",
    );
}

#[test]
fn kss_ids_need_kss_and_are_signed() {
    let dir = tempfile::tempdir().unwrap();
    let key = testdata("fortanix-rust-sgx/sgxs-sign/sig1.key.pem");
    let out = dir.path().join("kss.sig");
    let mut args = sig1_args(p(&key), p(&out));
    args.extend([
        "--family-id",
        "0x1122334455667788:0x99aabbccddeeff00",
        "--ext-prod-id",
        "0:2a",
    ]);
    let o = kss(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("KSS must be enabled if ISVEXTPRODID or ISVFAMILYID is set"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());

    args.push("--kss");
    let o = kss(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, v) = inspect_json(&out);
    assert!(o.status.success());
    assert_eq!(v["isv_family_id"], "00ffeeddccbbaa998877665544332211");
    assert_eq!(v["isv_family_id_parts"]["high"], "0x1122334455667788");
    assert_eq!(v["isv_ext_prod_id"], "2a000000000000000000000000000000");
    assert_eq!(v["attributes"]["flags"], "0x84");
    assert_eq!(v["attribute_mask"]["flags"], "0xfffffffffffffffd");
    assert_eq!(v["kss"], true);
    assert_eq!(v["signature_valid"], true);

    let o = kss(&{
        let mut a = sig1_args(p(&key), p(&out));
        a.extend(["--family-id", "12345"]);
        a
    });
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("HIGH:LOW"), "{}", stderr(&o));
}

#[test]
fn keygen_writes_private_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let o = kss(&["keygen", "--out", p(&key)]);
    assert!(o.status.success(), "{}", stderr(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pem = std::fs::read(&key).unwrap();
    assert!(pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));
    let o = kss(&["keygen", "--out", p(&key)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("refusing to overwrite"));
    assert_eq!(std::fs::read(&key).unwrap(), pem);

    let out = dir.path().join("x.sig");
    let o = kss(&sig1_args(p(&key), p(&out)));
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, v) = inspect_json(&out);
    assert!(o.status.success());
    assert_eq!(v["signature_valid"], true);
}

#[test]
fn inspect_real_sigstructs() {
    let (o, v) = inspect_json(&testdata(
        "fortanix-rust-sgx/intel-pce-sigstruct/DERIVED_libsgx_pce.signed.so.1.25.100.1.sigstruct.bin",
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(v["vendor"], "0x8086");
    assert_eq!(v["date"], "0x20240811");
    assert_eq!(
        (v["isv_prod_id"].clone(), v["isv_svn"].clone()),
        (1.into(), 16.into())
    );
    assert_eq!(v["attributes"]["flags"], "0x14");
    assert_eq!(v["attributes"]["xfrm"], "0x3");
    assert_eq!(
        v["enclave_hash"],
        "03e3f07e8c11cc08a1fa2afa93a8f2699cc8d9e17efa890af5df4e3cf7696578"
    );
    assert_eq!(
        v["mr_signer"],
        "c54a62f2be9ef76efb1f3930ad81ea7f60defc1f5f25e09b7c067a815ae0c6cb"
    );
    assert_eq!(v["signature_valid"], true);
    assert_eq!(v["header_ok"], true);
    assert_eq!(v["misc_mask"], "0xffffffff");

    let o = kss(&[
        "inspect",
        "sigstruct",
        p(&testdata("fortanix-rust-sgx/sgx_detect/test_enclave.sig")),
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542"));
}

#[test]
fn inspect_tampered_and_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes =
        std::fs::read(testdata("fortanix-rust-sgx/sgx_detect/test_enclave.sig")).unwrap();
    bytes[1026] ^= 1; // ISVSVN, a signed field
    let tampered = dir.path().join("tampered.sig");
    std::fs::write(&tampered, &bytes).unwrap();
    let (o, v) = inspect_json(&tampered);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(v["signature_valid"], false);
    assert_eq!(v["isv_svn"], 1);

    let short = dir.path().join("short.sig");
    std::fs::write(&short, &bytes[..1000]).unwrap();
    let o = kss(&["inspect", "sigstruct", p(&short)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("1808"), "{}", stderr(&o));
}
