//! Known-answer tests of `docs/sgx-reference.md` §7.4 (computed in Python and with a C program
//! compiled against the Intel SDK headers).

use kss_enclave::sim::{SimCpu, SimCpuSvn, SimEnclave};
use kss_types::{Attributes, ConfigId, Id128, KeyName, KeyPolicy, KeyRequest, Secs, TargetInfo};

fn kat_enclave() -> SimEnclave {
    let mut config_id = [0u8; 64];
    for (i, b) in config_id.iter_mut().enumerate() {
        *b = i as u8;
    }
    let secs = Secs {
        size: 0x2000,
        attributes: Attributes::new(0x87, 0x3),
        mr_enclave: [0x11; 32],
        mr_signer: [0x22; 32],
        isv_prod_id: 0x1234,
        isv_svn: 5,
        config_id: ConfigId(config_id),
        config_svn: 7,
        isv_family_id: Id128([0xAA; 16]),
        isv_ext_prod_id: Id128([0xBB; 16]),
        ..Secs::default()
    };
    SimEnclave::from_initialized_secs(secs, SimCpu::default(), 0)
}

fn kat_seal_request() -> KeyRequest {
    KeyRequest {
        key_name: KeyName::Seal as u16,
        key_policy: KeyPolicy(0x3A),
        isv_svn: 5,
        config_svn: 7,
        cpu_svn: SimCpuSvn::Default.cpu_svn(),
        attribute_mask: Attributes::new(0xFF00_0000_0000_000B, 0),
        misc_mask: 0xF000_0000,
        ..KeyRequest::default()
    }
}

#[test]
fn seal_key_kat() {
    let key = kat_enclave().egetkey(&kat_seal_request()).unwrap();
    assert_eq!(hex::encode(*key), "43a6efee07cffbfe2353d9c3f5618f20");
}

#[test]
fn seal_key_kat_with_zero_cpusvn_uses_default() {
    let mut req = kat_seal_request();
    req.cpu_svn = kss_types::CpuSvn([0; 16]);
    let key = kat_enclave().egetkey(&req).unwrap();
    assert_eq!(hex::encode(*key), "43a6efee07cffbfe2353d9c3f5618f20");
}

#[test]
fn self_report_key_kat() {
    let req = KeyRequest {
        key_name: KeyName::Report as u16,
        key_id: kss_enclave::sim::derive::SIM_REPORT_KEY_ID,
        ..KeyRequest::default()
    };
    let key = kat_enclave().egetkey(&req).unwrap();
    assert_eq!(hex::encode(*key), "0547d093212e30b320c5fdda8e19f993");
}

#[test]
fn report_mac_kat() {
    let e = kat_enclave();
    let report = e.ereport(&e.target_info(), &[0x5A; 64]);
    assert_eq!(hex::encode(report.mac), "693c64318a69a5d09a5bea5016b29d36");
    assert_eq!(report.body.cpu_svn, SimCpuSvn::Default.cpu_svn());
    assert_eq!(report.body.config_svn, 7);
    assert_eq!(report.body.isv_family_id, Id128([0xAA; 16]));
    assert_eq!(report.body.isv_ext_prod_id, Id128([0xBB; 16]));
    assert_eq!(report.body.config_id.0[63], 63);
    assert_eq!(
        hex::encode(report.key_id),
        "ff00ff00ff00ff00ff00ff00ff00ff0000000000000000000000000000000000"
    );
    e.verify_report(&report).unwrap();
}

#[test]
fn report_mac_kat_target_info_must_carry_config() {
    // A TARGETINFO without the target's CONFIGID/CONFIGSVN (Fortanix `From<Report>`) gives
    // another MAC, which the target rejects.
    let e = kat_enclave();
    let mut target: TargetInfo = e.target_info();
    target.config_id = ConfigId::ZERO;
    target.config_svn = 0;
    let report = e.ereport(&target, &[0x5A; 64]);
    assert_ne!(hex::encode(report.mac), "693c64318a69a5d09a5bea5016b29d36");
    assert!(e.verify_report(&report).is_err());
}
