//! Loading SGXS streams on the simulator: real Fortanix data and streams written with
//! `kss_sgxs::SgxsWriter`.

mod common;

use common::{kss_config, sign, testdata, SDK_MASK, TEST_KEY_MRSIGNER};
use kss_enclave::sim::{load_sgxs, SimCpu};
use kss_enclave::{ErrorCode, LoadError, SgxError, Unloadable};
use kss_sgxs::SgxsWriter;
use kss_types::{Attributes, KssConfig, SecinfoFlags, Sigstruct};
use proptest::prelude::*;

fn fortanix_enclave() -> (Vec<u8>, Sigstruct) {
    let sgxs = testdata("fortanix-rust-sgx/sgx_detect/test_enclave.sgxs");
    let sig =
        Sigstruct::from_bytes(&testdata("fortanix-rust-sgx/sgx_detect/test_enclave.sig")).unwrap();
    (sgxs, sig)
}

fn einit_code(err: LoadError) -> ErrorCode {
    match err {
        LoadError::Sgx(SgxError::Status { code, .. }) => code,
        other => panic!("expected an EINIT error code, got {other}"),
    }
}

#[test]
fn real_fortanix_enclave_loads_with_its_real_sigstruct() {
    let (sgxs, sig) = fortanix_enclave();
    let e = load_sgxs(&sgxs[..], &KssConfig::default(), &sig, &SimCpu::default()).unwrap();
    let s = e.secs();
    assert_eq!(
        hex::encode(s.mr_enclave),
        "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc"
    );
    assert_eq!(
        hex::encode(s.mr_signer),
        "fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542"
    );
    assert_eq!(s.isv_prod_id, 65535);
    assert_eq!(s.attributes, Attributes::new(0x5, 0x3));
    assert!(e.page_count() > 0);
}

#[test]
fn real_enclave_without_kss_refuses_a_launch_config() {
    let (sgxs, sig) = fortanix_enclave();
    let err = load_sgxs(&sgxs[..], &kss_config(1), &sig, &SimCpu::default()).unwrap_err();
    match err {
        LoadError::Sgx(SgxError::Fault { rule, .. }) => {
            assert!(rule.contains("ATTRIBUTES.KSS is 0"), "{rule}")
        }
        other => panic!("expected ECREATE #GP, got {other}"),
    }
}

#[test]
fn tampered_page_content_is_invalid_measurement() {
    let (mut sgxs, sig) = fortanix_enclave();
    let last = sgxs.len() - 1; // the last byte is EEXTEND data
    sgxs[last] ^= 0xFF;
    let err = load_sgxs(&sgxs[..], &KssConfig::default(), &sig, &SimCpu::default()).unwrap_err();
    assert_eq!(einit_code(err), ErrorCode::InvalidMeasurement);
}

#[test]
fn real_sigstruct_of_another_enclave_is_invalid_measurement() {
    let (sgxs, _) = fortanix_enclave();
    let sig1 =
        Sigstruct::from_bytes(&testdata("fortanix-rust-sgx/sgxs-sign/sig1.sigstruct.bin")).unwrap();
    let err = load_sgxs(&sgxs[..], &KssConfig::default(), &sig1, &SimCpu::default()).unwrap_err();
    assert_eq!(einit_code(err), ErrorCode::InvalidMeasurement);
}

#[test]
fn real_intel_signed_pce_sigstruct_passes_the_signature_check() {
    // Vendor 0x8086, PROVISIONKEY: structure and RSA signature are fine, only the measurement
    // differs from this stream.
    let (sgxs, _) = fortanix_enclave();
    let pce = Sigstruct::from_bytes(&testdata(
        "fortanix-rust-sgx/intel-pce-sigstruct/DERIVED_libsgx_pce.signed.so.1.25.100.1.sigstruct.bin",
    ))
    .unwrap();
    let err = load_sgxs(&sgxs[..], &KssConfig::default(), &pce, &SimCpu::default()).unwrap_err();
    assert_eq!(einit_code(err), ErrorCode::InvalidMeasurement);
}

/// A KSS enclave: TCS, one code page, `heap_pages` zero heap pages (EADD only).
fn kss_enclave_stream(heap_pages: u64, size: u64) -> (Vec<u8>, [u8; 32]) {
    let mut w = SgxsWriter::new(Vec::new(), 1, size).unwrap();
    w.eadd(0, SecinfoFlags::TCS).unwrap();
    let code = [0x90u8; 4096];
    w.add_page(0x1000, SecinfoFlags::REG_RX, Some(&code))
        .unwrap();
    for i in 0..heap_pages {
        w.eadd(0x2000 + i * 4096, SecinfoFlags::REG_RW).unwrap();
    }
    let (bytes, mr) = w.finish().unwrap();
    (bytes, mr)
}

fn kss_sigstruct(mr_enclave: [u8; 32]) -> Sigstruct {
    let mut sig = Sigstruct::unsigned();
    sig.enclave_hash = mr_enclave;
    sig.attributes = Attributes::new(0x84, 0x3);
    sig.attribute_mask = SDK_MASK;
    sig.misc_mask = 0xFFFF_FFFF;
    sig.isv_family_id = kss_types::Id128::from_high_low(0x1111, 0x2222);
    sig.isv_ext_prod_id = kss_types::Id128::from_high_low(0x3333, 0x4444);
    sig.isv_prod_id = 1;
    sig.isv_svn = 2;
    sign(&mut sig);
    sig
}

#[test]
fn kss_enclave_loads_with_its_launch_config() {
    let (sgxs, mr) = kss_enclave_stream(16, 0x20000);
    let sig = kss_sigstruct(mr);
    let e = load_sgxs(&sgxs[..], &kss_config(3), &sig, &SimCpu::default()).unwrap();
    assert_eq!(e.secs().mr_enclave, mr);
    assert_eq!(hex::encode(e.secs().mr_signer), TEST_KEY_MRSIGNER);
    assert_eq!(e.secs().config_svn, 3);
    assert_eq!(e.secs().config_id, kss_config(3).config_id);
    let r = e.ereport(&e.target_info(), &[0; 64]);
    assert_eq!(r.body.isv_family_id, sig.isv_family_id);
    assert_eq!(r.body.config_svn, 3);
}

#[test]
fn kss_enclave_on_cpu_without_kss_faults_at_ecreate() {
    let (sgxs, mr) = kss_enclave_stream(1, 0x4000);
    let sig = kss_sigstruct(mr);
    let err = load_sgxs(
        &sgxs[..],
        &KssConfig::default(),
        &sig,
        &SimCpu::without_kss(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not support KSS"), "{err}");
}

#[test]
fn heap_of_one_gib_loads_without_storing_pages() {
    let pages = (1u64 << 30) / 4096;
    let (sgxs, mr) = kss_enclave_stream(pages, 1 << 31);
    let e = load_sgxs(
        &sgxs[..],
        &KssConfig::default(),
        &kss_sigstruct(mr),
        &SimCpu::default(),
    )
    .unwrap();
    assert_eq!(e.page_count(), pages + 2);
}

#[test]
fn partially_measured_page_loads_on_the_simulator() {
    let mut w = SgxsWriter::new(Vec::new(), 1, 0x2000).unwrap();
    w.eadd(0, SecinfoFlags::TCS).unwrap();
    w.eadd(0x1000, SecinfoFlags::REG_RW).unwrap();
    w.eextend(0x1000, &[1; 256]).unwrap();
    w.unmeasured(0x1100, &[2; 256]).unwrap();
    w.eextend(0x1200, &[3; 256]).unwrap();
    let (sgxs, mr) = w.finish().unwrap();
    let mut sig = kss_sigstruct(mr);
    sig.attributes = Attributes::new(0x4, 0x3);
    sig.isv_family_id = Default::default();
    sig.isv_ext_prod_id = Default::default();
    sign(&mut sig);
    let e = load_sgxs(&sgxs[..], &KssConfig::default(), &sig, &SimCpu::default()).unwrap();
    assert_eq!(e.secs().mr_enclave, mr);
}

#[test]
fn chunks_extended_out_of_order_are_refused() {
    let mut w = SgxsWriter::new(Vec::new(), 1, 0x2000).unwrap();
    w.eadd(0x1000, SecinfoFlags::REG_RW).unwrap();
    w.eextend(0x1200, &[1; 256]).unwrap();
    w.eextend(0x1000, &[1; 256]).unwrap();
    let (sgxs, mr) = w.finish().unwrap();
    let err = load_sgxs(
        &sgxs[..],
        &KssConfig::default(),
        &kss_sigstruct(mr),
        &SimCpu::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Unloadable {
                index: 3,
                problem: Unloadable::OutOfOrder {
                    offset: 0x1000,
                    page: 0x1000
                }
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "SGXS stream: record 3: EEXTEND at 0x1000 comes after a later chunk of page 0x1000; \
         chunks must be measured in ascending order"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_streams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let sig = Sigstruct::unsigned();
        let _ = load_sgxs(&bytes[..], &KssConfig::default(), &sig, &SimCpu::default());
    }

    #[test]
    fn truncated_real_stream_never_panics(cut in 0usize..46720) {
        let (sgxs, sig) = fortanix_enclave();
        let r = load_sgxs(&sgxs[..cut], &KssConfig::default(), &sig, &SimCpu::default());
        prop_assert!(r.is_err());
    }

    #[test]
    fn corrupted_real_stream_never_panics(at in 0usize..46720, bit in 0u8..8) {
        let (mut sgxs, sig) = fortanix_enclave();
        sgxs[at] ^= 1 << bit;
        let r = load_sgxs(&sgxs[..], &KssConfig::default(), &sig, &SimCpu::default());
        prop_assert!(r.is_err());
    }
}

#[test]
fn chosen_sim_backend_gives_an_enclave_behind_the_trait() {
    let (sgxs, sig) = fortanix_enclave();
    let kind = kss_enclave::BackendKind::Sim(SimCpu::default());
    let e = kind
        .open()
        .unwrap()
        .load(&sgxs[..], &KssConfig::default(), &sig, false)
        .unwrap();
    assert_eq!(e.backend_name(), "sim");
    let r = e.report(&e.target_info(), &[3; 64]).unwrap();
    e.verify_report(&r).unwrap();
}

#[test]
fn chosen_hw_backend_fails_cleanly_without_sgx() {
    if kss_enclave::hw::Platform::detect().hardware_mode_available() {
        return;
    }
    let err = kss_enclave::BackendKind::Hw.open().unwrap_err();
    assert!(
        err.to_string().starts_with("hardware mode unavailable: "),
        "{err}"
    );
}
