//! Enclave.xml: what kss writes passes sgx_sign's rules, and a real SDK file reads as expected.

use kss_instance::enclave_xml::{render, validate};
use kss_instance::InstanceConfig;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

#[test]
fn real_intel_sdk_kss_config_validates() {
    let xml = std::fs::read_to_string(format!(
        "{TESTDATA}/enclave-config-kss/Humane-RAFW-DCAP_Enclave.config.xml"
    ))
    .unwrap();
    let v = validate(&xml).unwrap();
    let get = |n: &str| v.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
    assert_eq!(get("EnableKSS"), Some(1));
    assert_eq!(get("ISVEXTPRODID_H"), Some(1));
    assert_eq!(get("ISVEXTPRODID_L"), Some(2));
    assert_eq!(get("ISVFAMILYID_H"), Some(3));
    assert_eq!(get("ISVFAMILYID_L"), Some(4));
    assert_eq!(get("DisableDebug"), Some(1));
}

#[test]
fn generated_xml_round_trips_through_the_checker() {
    let cfg = InstanceConfig::parse(
        br#"{"metadata": {"product_id": 513, "version_number": 3, "debuggable": false, "enable_kss": true,
            "family_id": {"high": "0x3", "low": "0x4"}, "ext_prod_id": {"high": "0x1", "low": "0xffffffffffffffff"}},
            "resource_limits": {"max_num_of_threads": 4, "kernel_space_stack_size": "1MB",
            "kernel_space_heap_size": "32MB", "user_space_size": "300MB"}}"#,
    )
    .unwrap();
    let xml = render(&cfg);
    let v = validate(&xml).unwrap();
    let get = |n: &str| v.iter().find(|(k, _)| k == n).map(|(_, v)| *v).unwrap();
    assert_eq!(get("ProdID"), 513);
    assert_eq!(get("ISVSVN"), 3);
    assert_eq!(get("DisableDebug"), 1);
    assert_eq!(get("EnableKSS"), 1);
    assert_eq!(get("ISVFAMILYID_H"), 3);
    assert_eq!(get("ISVFAMILYID_L"), 4);
    assert_eq!(get("ISVEXTPRODID_H"), 1);
    assert_eq!(get("ISVEXTPRODID_L"), u64::MAX);
    assert_eq!(get("TCSNum"), 4);
    assert_eq!(get("StackMaxSize"), 1 << 20);
    assert_eq!(get("HeapMaxSize"), 32 << 20);
    assert_eq!(get("ReservedMemMaxSize"), 300 << 20);
    assert!(xml.starts_with("<!--"));
    assert!(xml.contains("<EnableKSS>1</EnableKSS>"));
}
