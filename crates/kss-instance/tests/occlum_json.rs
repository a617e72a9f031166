//! Occlum.json parsing: the RFC's fields, Occlum's real template, and every error path.

use kss_instance::{ConfigBinding, ConfigError, InstanceConfig};
use kss_types::Id128;

fn parse(s: &str) -> Result<InstanceConfig, ConfigError> {
    InstanceConfig::parse(s.as_bytes())
}

fn err(s: &str) -> String {
    parse(s).unwrap_err().to_string()
}

/// Occlum's own template (etc/template/Occlum.json at the commit that introduced KSS).
const OCCLUM_TEMPLATE: &str = r#"{
    "resource_limits": {
        "kernel_space_heap_size": "32MB",
        "kernel_space_stack_size": "1MB",
        "user_space_size": "300MB",
        "max_num_of_threads": 32
    },
    "process": {
        "default_stack_size": "4MB",
        "default_heap_size": "32MB",
        "default_mmap_size": "100MB"
    },
    "entry_points": [ "/bin" ],
    "env": { "default": [ "OCCLUM=yes" ], "untrusted": [ "EXAMPLE" ] },
    "metadata": {
        "product_id": 0,
        "version_number": 0,
        "debuggable": true,
        "enable_kss": false,
        "family_id": { "high": "0x0", "low": "0x0" },
        "ext_prod_id": { "high": "0x0", "low": "0x0" }
    },
    "mount": [ { "target": "/", "type": "unionfs" } ]
}"#;

#[test]
fn occlum_template_parses_and_reports_unused_keys() {
    let c = parse(OCCLUM_TEMPLATE).unwrap();
    assert!(!c.metadata.enable_kss);
    assert!(c.metadata.debuggable);
    assert_eq!(c.metadata.family_id, Id128::ZERO);
    assert_eq!(c.resource_limits.max_num_of_threads, 32);
    assert_eq!(c.resource_limits.kernel_space_stack_size, 1 << 20);
    assert_eq!(c.resource_limits.kernel_space_heap_size, 32 << 20);
    assert_eq!(c.resource_limits.user_space_size, 300 << 20);
    // Keys Occlum defines but kss does not use are accepted quietly.
    assert!(c.unused_keys.is_empty(), "{:?}", c.unused_keys);
}

#[test]
fn unknown_keys_in_kss_sections_are_errors_with_the_nearest_key() {
    let e = parse(r#"{"metadata": {"enable_ksss": true}}"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown key metadata.enable_ksss (did you mean metadata.enable_kss?)"),
        "{e}"
    );
    let e = parse(r#"{"resource_limits": {"user_space_sise": "1MB"}}"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("did you mean resource_limits.user_space_size?"),
        "{e}"
    );
    // An unknown top-level key stays a note.
    let c = parse(r#"{"metadata": {"amx": 0}, "mystery": 1}"#).unwrap();
    assert_eq!(c.unused_keys, vec!["mystery"]);
}

#[test]
fn kss_ids_follow_the_sign_tool_byte_order() {
    let c = parse(
        r#"{"metadata": {"enable_kss": true,
            "family_id": {"high": "0x3", "low": "4"},
            "ext_prod_id": {"high": "0X1", "low": "0x2"},
            "product_id": 7, "version_number": "0x10"}}"#,
    )
    .unwrap();
    // Enclave.xml ISVFAMILYID_H=3/_L=4 → 0400000000000000 0300000000000000
    // (`testdata/SOURCES.md` §9).
    assert_eq!(
        hex::encode(c.metadata.family_id.0),
        "04000000000000000300000000000000"
    );
    assert_eq!(
        hex::encode(c.metadata.ext_prod_id.0),
        "02000000000000000100000000000000"
    );
    assert_eq!(c.metadata.product_id, 7);
    assert_eq!(c.metadata.version_number, 16);
    let full = parse(
        r#"{"metadata": {"enable_kss": true, "family_id": {"high": "0x0011223344556677", "low": "8899aabbccddeeff"}}}"#,
    )
    .unwrap();
    assert_eq!(full.metadata.family_id.high(), 0x0011223344556677);
    assert_eq!(full.metadata.family_id.low(), 0x8899aabbccddeeff);
}

#[test]
fn older_files_without_kss_keys_work() {
    let c = parse(r#"{"metadata": {"product_id": 1, "version_number": 2, "debuggable": false}}"#)
        .unwrap();
    assert!(!c.metadata.enable_kss);
    assert!(c.metadata.family_id.is_zero() && c.metadata.ext_prod_id.is_zero());
    assert_eq!(c.metadata.config_binding, ConfigBinding::Mrenclave);
    let empty = parse("{}").unwrap();
    assert!(empty.metadata.debuggable);
}

#[test]
fn bad_values_name_path_value_and_expectation() {
    let e = err(r#"{"metadata": {"enable_kss": true, "family_id": {"high": "0xZZ", "low": "0"}}}"#);
    assert!(
        e.contains("metadata.family_id.high") && e.contains("0xZZ") && e.contains("hex"),
        "{e}"
    );

    let e = err(
        r#"{"metadata": {"enable_kss": true, "ext_prod_id": {"high": "0", "low": "0x11111111111111111"}}}"#,
    );
    assert!(
        e.contains("metadata.ext_prod_id.low") && e.contains("17 hex digits"),
        "{e}"
    );

    let e = err(r#"{"metadata": {"enable_kss": true, "family_id": {"high": 5, "low": "0"}}}"#);
    assert!(
        e.contains("metadata.family_id.high") && e.contains("hex string"),
        "{e}"
    );

    let e = err(r#"{"metadata": {"enable_kss": true, "family_id": {"high": "0x"}}}"#);
    assert!(e.contains("metadata.family_id.high"), "{e}");

    let e = err(r#"{"metadata": {"enable_kss": true, "family_id": {"high": "0x1"}}}"#);
    assert!(
        e.contains("metadata.family_id") && e.contains("missing \"low\""),
        "{e}"
    );

    let e = err(
        r#"{"metadata": {"enable_kss": true, "family_id": {"high": "1", "low": "2", "mid": "3"}}}"#,
    );
    assert!(e.contains("metadata.family_id.mid"), "{e}");

    let e = err(r#"{"metadata": {"product_id": 70000}}"#);
    assert!(
        e.contains("metadata.product_id") && e.contains("70000") && e.contains("0 to 65535"),
        "{e}"
    );

    let e = err(r#"{"metadata": {"debuggable": "yes"}}"#);
    assert!(
        e.contains("metadata.debuggable") && e.contains("true or false"),
        "{e}"
    );

    let e = err(r#"{"resource_limits": {"user_space_size": "12 parsecs"}}"#);
    assert!(e.contains("resource_limits.user_space_size"), "{e}");

    let e = err(r#"{"resource_limits": {"kernel_space_stack_size": "4KB"}}"#);
    assert!(
        e.contains("resource_limits.kernel_space_stack_size") && e.contains("8KB"),
        "{e}"
    );

    let e = err(r#"{"resource_limits": {"max_num_of_threads": 0}}"#);
    assert!(e.contains("resource_limits.max_num_of_threads"), "{e}");

    let e = err(r#"{"metadata": {"config_binding": "mrsigner"}}"#);
    assert!(
        e.contains("metadata.config_binding") && e.contains("config_id"),
        "{e}"
    );

    assert!(err("[1]").contains("JSON object"));
    assert!(err("{").contains("not valid JSON"));
}

#[test]
fn kss_ids_require_enable_kss() {
    let e =
        err(r#"{"metadata": {"enable_kss": false, "ext_prod_id": {"high": "0x0", "low": "0x1"}}}"#);
    assert!(
        e.contains("KSS must be enabled if ISVEXTPRODID or ISVFAMILYID is set"),
        "{e}"
    );
    let e = err(r#"{"metadata": {"family_id": {"high": "0x1", "low": "0x0"}}}"#);
    assert!(e.contains("enable_kss"), "{e}");
    let e = err(r#"{"metadata": {"config_binding": "config_id"}}"#);
    assert!(e.contains("needs KSS"), "{e}");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = InstanceConfig::parse(&bytes);
        }

        #[test]
        fn hex_halves_round_trip(high in any::<u64>(), low in any::<u64>(), prefix in any::<bool>()) {
            let p = if prefix { "0x" } else { "" };
            let text = format!(r#"{{"metadata": {{"enable_kss": true, "family_id": {{"high": "{p}{high:x}", "low": "{p}{low:X}"}}}}}}"#);
            let c = InstanceConfig::parse(text.as_bytes()).unwrap();
            prop_assert_eq!(c.metadata.family_id.high(), high);
            prop_assert_eq!(c.metadata.family_id.low(), low);
        }
    }
}
