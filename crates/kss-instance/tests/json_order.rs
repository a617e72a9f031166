//! `kss new` writes Occlum.json with the template's keys in the template's order, whatever
//! build the code comes from. Its bytes are measured into MRENCLAVE, so a build that orders
//! the keys differently (serde_json without `preserve_order` sorts them) would give the same
//! instance another identity.

/// The exact Occlum.json of `kss new`.
const NEW_OCCLUM_JSON: &str = r#"{
  "resource_limits": {
    "kernel_space_heap_size": "32MB",
    "kernel_space_stack_size": "256KB",
    "user_space_size": "256MB",
    "max_num_of_threads": 8
  },
  "process": {
    "default_stack_size": "4MB",
    "default_heap_size": "32MB",
    "default_mmap_size": "100MB"
  },
  "entry_points": [
    "/bin"
  ],
  "env": {
    "default": [
      "OCCLUM=yes"
    ],
    "untrusted": [
      "EXAMPLE"
    ]
  },
  "metadata": {
    "product_id": 0,
    "version_number": 0,
    "debuggable": true,
    "enable_kss": false,
    "family_id": {
      "high": "0x0",
      "low": "0x0"
    },
    "ext_prod_id": {
      "high": "0x0",
      "low": "0x0"
    },
    "config_binding": "mrenclave"
  }
}
"#;

#[test]
fn kss_new_writes_the_template_in_its_order() {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("inst");
    kss_instance::new_instance(&inst).unwrap();
    let text = std::fs::read_to_string(inst.join("Occlum.json")).unwrap();
    assert_eq!(text, NEW_OCCLUM_JSON);
}

/// Under `cargo test --workspace` a dev-dependency turns `preserve_order` on anyway, so the test
/// above passes there even without the workspace setting; this one does not.
#[test]
fn workspace_serde_json_preserves_order() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("serde_json"))
        .expect("serde_json in [workspace.dependencies]");
    assert!(
        line.contains("\"preserve_order\""),
        "the workspace serde_json must enable preserve_order: {line}"
    );
}
