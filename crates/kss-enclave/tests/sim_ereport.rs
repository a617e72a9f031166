//! EREPORT and local report verification between two simulated enclaves.

mod common;

use common::{build, kss_config, secs, sign, sigstruct_for};
use kss_enclave::sim::{SimCpu, SimCpuSvn, SimEnclave};
use kss_enclave::{Enclave, SgxError};
use kss_types::{Id128, KssConfig, TargetInfo};

fn loaded(flags: u64, kss: KssConfig, family: u64) -> SimEnclave {
    let mut b = build(&SimCpu::default(), &secs(flags, kss));
    let mut sig = sigstruct_for(&b);
    sig.isv_family_id = Id128::from_high_low(0, family);
    sig.isv_ext_prod_id = Id128::from_high_low(family, 0);
    sign(&mut sig);
    b.einit(&sig).unwrap()
}

#[test]
fn report_for_another_enclave_verifies_there_only() {
    let a = loaded(0x84, kss_config(1), 1);
    let b = loaded(0x84, kss_config(2), 2);
    let report = a.ereport(&b.target_info(), &[7; 64]);
    b.verify_report(&report).unwrap();
    assert!(matches!(
        a.verify_report(&report),
        Err(SgxError::ReportMacMismatch { .. })
    ));
}

#[test]
fn report_body_carries_every_kss_field() {
    let a = loaded(0x84, kss_config(3), 9);
    let r = a.ereport(&a.target_info(), &[1; 64]);
    assert_eq!(r.body.config_svn, 3);
    assert_eq!(r.body.config_id, kss_config(3).config_id);
    assert_eq!(r.body.isv_family_id, Id128::from_high_low(0, 9));
    assert_eq!(r.body.isv_ext_prod_id, Id128::from_high_low(9, 0));
    assert_eq!(r.body.mr_enclave, a.secs().mr_enclave);
    assert_eq!(r.body.mr_signer, a.secs().mr_signer);
    assert_eq!(r.body.attributes.flags.0, 0x85);
    assert_eq!(r.body.cpu_svn, SimCpuSvn::Default.cpu_svn());
    assert_eq!(r.body.report_data, [1; 64]);
}

#[test]
fn tampered_report_is_rejected() {
    let a = loaded(0x84, kss_config(3), 9);
    let mut r = a.ereport(&a.target_info(), &[1; 64]);
    a.verify_report(&r).unwrap();
    r.body.config_svn = 4;
    assert!(a.verify_report(&r).is_err());
}

#[test]
fn target_info_must_carry_the_targets_configsvn() {
    let a = loaded(0x84, kss_config(1), 1);
    let b = loaded(0x84, kss_config(2), 2);
    let mut target: TargetInfo = b.target_info();
    target.config_svn = 1;
    let report = a.ereport(&target, &[0; 64]);
    assert!(b.verify_report(&report).is_err());
}

#[test]
fn report_from_another_cpusvn_does_not_verify() {
    let a = loaded(0x84, kss_config(1), 1);
    let upgraded = SimEnclave::from_initialized_secs(
        a.secs().clone(),
        SimCpu::default().with_cpu_svn(SimCpuSvn::Upgraded),
        0,
    );
    let r = upgraded.ereport(&a.target_info(), &[0; 64]);
    assert!(a.verify_report(&r).is_err());
}

#[test]
fn enclave_trait_object_is_shareable_across_threads() {
    let e: std::sync::Arc<dyn Enclave> = std::sync::Arc::new(loaded(0x84, kss_config(1), 1));
    let handles: Vec<_> = (0..4u8)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                let r = e.report(&e.target_info(), &[i; 64]).unwrap();
                e.verify_report(&r).unwrap();
                r.body.report_data[0]
            })
        })
        .collect();
    let got: Vec<u8> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(got, vec![0, 1, 2, 3]);
}
