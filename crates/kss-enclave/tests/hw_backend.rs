//! The hardware backend on a machine without SGX: every path must fail cleanly, before ECREATE,
//! with an error that says why.

use kss_enclave::hw::{HwBackend, HwError, Platform, SgxCpuInfo};
use kss_enclave::{Backend, EnclaveParams, LoadError};
use kss_types::{Attributes, KssConfig};

fn params(flags: u64, kss: KssConfig) -> EnclaveParams {
    EnclaveParams {
        size: 0x2000,
        ssa_frame_size: 1,
        attributes: Attributes::new(flags, 3),
        misc_select: Default::default(),
        kss,
    }
}

fn fake(kss: bool, dev: bool) -> HwBackend {
    HwBackend::with_platform(Platform {
        cpu: Some(SgxCpuInfo::sgx2_example(kss)),
        dev_sgx_enclave: dev,
        dev_sgx_provision: dev,
    })
}

#[test]
fn hw_backend_on_this_machine_fails_cleanly_or_works() {
    let platform = Platform::detect();
    match HwBackend::new() {
        Ok(_) => assert!(platform.hardware_mode_available()),
        Err(HwError::Unavailable { problems }) => {
            assert!(!platform.hardware_mode_available());
            assert!(!problems.is_empty());
            let msg = HwError::Unavailable { problems }.to_string();
            assert!(msg.starts_with("hardware mode unavailable: "), "{msg}");
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

#[test]
fn kss_enclave_on_cpu_without_kss_is_refused_before_ecreate() {
    // dev_sgx_enclave = true but the device is never opened: the KSS check comes first.
    let err = fake(false, true)
        .create(&params(0x84, KssConfig::default()))
        .unwrap_err();
    assert!(
        matches!(err, LoadError::Hw(HwError::KssUnsupported { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("does not support KSS"), "{err}");
}

#[test]
fn kss_config_on_cpu_without_kss_is_refused_before_ecreate() {
    let kss = KssConfig {
        config_svn: 2,
        ..Default::default()
    };
    let err = fake(false, true).create(&params(0x4, kss)).unwrap_err();
    assert!(err.to_string().contains("CONFIGSVN 2"), "{err}");
}

#[test]
fn attributes_the_cpu_cannot_set_are_refused() {
    // CPUID.(12H,1).EAX = 0xB6 does not allow AEXNOTIFY (0x400).
    let err = fake(true, true)
        .create(&params(0x484, KssConfig::default()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Hw(HwError::AttributesUnsupported { missing: 0x400, .. })
        ),
        "{err}"
    );
}

#[test]
fn missing_device_is_reported_as_unavailable() {
    let err = fake(true, false)
        .create(&params(0x84, KssConfig::default()))
        .unwrap_err();
    assert!(err.to_string().contains("/dev/sgx_enclave"), "{err}");
}

#[test]
fn open_failure_names_the_device() {
    if std::path::Path::new("/dev/sgx_enclave").exists() {
        return; // a real SGX machine: nothing to fake
    }
    let err = fake(true, true)
        .create(&params(0x84, KssConfig::default()))
        .unwrap_err();
    assert!(matches!(err, LoadError::Hw(HwError::Open { .. })), "{err}");
    assert!(
        err.to_string().contains("cannot open /dev/sgx_enclave"),
        "{err}"
    );
}
