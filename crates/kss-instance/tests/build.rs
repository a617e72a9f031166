//! `kss_instance::build`: switching binding modes, key formats and private-file writes.

use base64::Engine;
use kss_instance::{build, new_instance, BuildOptions, InstanceError};
use std::path::{Path, PathBuf};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn test_key() -> PathBuf {
    PathBuf::from(format!(
        "{TESTDATA}/fortanix-rust-sgx/sgxs-sign/sig1.key.pem"
    ))
}

/// A small KSS instance in `dir/app` with `config_binding` set to `binding`.
fn instance(dir: &Path, binding: &str) -> PathBuf {
    let app = dir.join("app");
    if !app.exists() {
        new_instance(&app).unwrap();
    }
    let p = app.join("Occlum.json");
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    c["metadata"]["enable_kss"] = true.into();
    c["metadata"]["config_binding"] = binding.into();
    c["resource_limits"]["max_num_of_threads"] = 1.into();
    c["resource_limits"]["kernel_space_heap_size"] = "64KB".into();
    c["resource_limits"]["user_space_size"] = "64KB".into();
    std::fs::write(&p, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
    app
}

fn opts(key: &Path) -> BuildOptions<'static> {
    BuildOptions {
        sign_key: Some(key.to_path_buf()),
        dev_key: PathBuf::from("/nonexistent/dev-key.pem"),
        date: Some(0x2026_0101),
        progress: None,
    }
}

fn summary(app: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(app.join("build/kss-build.json")).unwrap()).unwrap()
}

#[test]
fn switching_to_config_id_mode_rebuilds_the_enclave() {
    let d = tempfile::tempdir().unwrap();
    let app = instance(d.path(), "mrenclave");
    let measured = build(&app, opts(&test_key())).unwrap();
    assert!(measured.remeasured);
    assert_eq!(summary(&app)["config_binding"], "mrenclave");

    // Same enclave parameters, other mode: the MRENCLAVE-mode build must not be reused.
    instance(d.path(), "config_id");
    let bound = build(&app, opts(&test_key())).unwrap();
    assert!(bound.remeasured, "the MRENCLAVE-mode build was reused");
    assert!(bound.image.is_none());
    assert_ne!(bound.mr_enclave, measured.mr_enclave);
    let s = summary(&app);
    assert_eq!(s["config_binding"], "config_id");
    assert_eq!(s["mr_enclave"], hex::encode(bound.mr_enclave));

    // An unchanged CONFIGID-mode instance is reused as is.
    let again = build(&app, opts(&test_key())).unwrap();
    assert!(!again.remeasured);
    assert_eq!(again.mr_enclave, bound.mr_enclave);

    // And back: MRENCLAVE mode measures the app again.
    instance(d.path(), "mrenclave");
    let back = build(&app, opts(&test_key())).unwrap();
    assert!(back.remeasured);
    assert_eq!(back.mr_enclave, measured.mr_enclave);
    assert_eq!(summary(&app)["config_binding"], "mrenclave");
}

#[test]
fn der_keys_sign_like_their_pem() {
    let d = tempfile::tempdir().unwrap();
    let app = instance(d.path(), "mrenclave");
    let pem = std::fs::read_to_string(test_key()).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let der_path = d.path().join("key.der");
    std::fs::write(&der_path, der).unwrap();

    let from_pem = build(&app, opts(&test_key())).unwrap();
    std::fs::remove_dir_all(app.join("build")).unwrap();
    let from_der = build(&app, opts(&der_path)).unwrap();
    assert_eq!(from_der.mr_signer, from_pem.mr_signer);
    assert_eq!(from_der.mr_enclave, from_pem.mr_enclave);

    // A file that is no key names the file; a missing one is an I/O error.
    std::fs::write(
        d.path().join("bad.pem"),
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n",
    )
    .unwrap();
    let e = build(&app, opts(&d.path().join("bad.pem"))).unwrap_err();
    assert!(
        matches!(&e, InstanceError::Key { path, .. } if path.to_string_lossy().contains("bad.pem")),
        "{e}"
    );
    let e = build(&app, opts(&d.path().join("missing.pem"))).unwrap_err();
    assert!(matches!(e, InstanceError::Io { .. }), "{e}");
}

#[test]
fn private_files_are_0600_and_never_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("key.pem");
    kss_instance::build::write_private(&p, b"secret").unwrap();
    let mode = std::fs::metadata(&p).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let e = kss_instance::build::write_private(&p, b"other").unwrap_err();
    assert!(
        matches!(&e, InstanceError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::AlreadyExists),
        "{e}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), b"secret");
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
}

/// The exact bytes of `kss-build.json` in both binding modes: key order, pretty-printing, the
/// value types and the image fields that only an MRENCLAVE-mode build records.
#[test]
fn the_build_summary_bytes() {
    let d = tempfile::tempdir().unwrap();
    let app = instance(d.path(), "mrenclave");
    build(&app, opts(&test_key())).unwrap();
    let text = std::fs::read_to_string(app.join("build/kss-build.json")).unwrap();
    assert_eq!(text, MRENCLAVE_SUMMARY);
    instance(d.path(), "config_id");
    build(&app, opts(&test_key())).unwrap();
    let text = std::fs::read_to_string(app.join("build/kss-build.json")).unwrap();
    assert_eq!(text, CONFIG_ID_SUMMARY);
}

const MRENCLAVE_SUMMARY: &str = r#"{
  "format": "kss-build-v1",
  "mr_enclave": "f3bd50aa46f12aec9aa7f9aa62e02a352bb5d022aae7ae5443194f232736f15c",
  "mr_signer": "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e",
  "isv_prod_id": 0,
  "isv_svn": 0,
  "debuggable": true,
  "enable_kss": true,
  "attributes_flags": "0x84",
  "isv_family_id": "00000000000000000000000000000000",
  "isv_ext_prod_id": "00000000000000000000000000000000",
  "config_binding": "mrenclave",
  "occlum_json_sha256": "73a1a014c9cea29df17a13c233ffb1c1063b3a0cdc07ca8d148403de11c9ff8f",
  "enclave_parameters_sha256": "51c1d79ff756e7c994dd1bf0425eead1a8ff974bed7a02f35e6d95bfd0913dc0",
  "enclave_size": 524288,
  "sgxs_sha256": "f3bd50aa46f12aec9aa7f9aa62e02a352bb5d022aae7ae5443194f232736f15c",
  "image_digest": "07e9f196c2bde034f3ba9d3d04dd44f23763dbd7d823e3cde98a433019bf0bd9",
  "image_entries": 1,
  "image_bytes": 0
}
"#;
const CONFIG_ID_SUMMARY: &str = r#"{
  "format": "kss-build-v1",
  "mr_enclave": "f00b95be57f0d4414ede4a29fc055c98f43915cde54b066a261bb1b83d0a1bd3",
  "mr_signer": "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e",
  "isv_prod_id": 0,
  "isv_svn": 0,
  "debuggable": true,
  "enable_kss": true,
  "attributes_flags": "0x84",
  "isv_family_id": "00000000000000000000000000000000",
  "isv_ext_prod_id": "00000000000000000000000000000000",
  "config_binding": "config_id",
  "occlum_json_sha256": "3b862b68ce2ad63b545c664dcaebc46960583d8332a5caa374f050f574bb9e6d",
  "enclave_parameters_sha256": "51c1d79ff756e7c994dd1bf0425eead1a8ff974bed7a02f35e6d95bfd0913dc0",
  "enclave_size": 524288,
  "sgxs_sha256": "f00b95be57f0d4414ede4a29fc055c98f43915cde54b066a261bb1b83d0a1bd3"
}
"#;
