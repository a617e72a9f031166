//! EGETKEY rules (`docs/sgx-reference.md` §7): one test per rule, plus what each KSS policy bit
//! binds.

use kss_enclave::sim::{SimCpu, SimCpuSvn, SimEnclave};
use kss_enclave::{ErrorCode, Leaf, SgxError};
use kss_types::{Attributes, ConfigId, CpuSvn, Id128, KeyName, KeyPolicy, KeyRequest, Secs};

fn secs(flags: u64) -> Secs {
    Secs {
        size: 0x2000,
        attributes: Attributes::new(flags | 0x1, 0x3),
        mr_enclave: [0x11; 32],
        mr_signer: [0x22; 32],
        isv_prod_id: 7,
        isv_svn: 5,
        config_id: if flags & 0x80 != 0 {
            ConfigId([0x33; 64])
        } else {
            ConfigId::ZERO
        },
        config_svn: if flags & 0x80 != 0 { 4 } else { 0 },
        isv_family_id: Id128([0xAA; 16]),
        isv_ext_prod_id: Id128([0xBB; 16]),
        ..Secs::default()
    }
}

fn enclave(flags: u64) -> SimEnclave {
    SimEnclave::from_initialized_secs(secs(flags), SimCpu::default(), 0)
}

fn seal(policy: u16) -> KeyRequest {
    KeyRequest {
        key_name: KeyName::Seal as u16,
        key_policy: KeyPolicy(policy),
        isv_svn: 5,
        attribute_mask: Attributes::new(0xFF00_0000_0000_000B, 0),
        misc_mask: 0xF000_0000,
        ..KeyRequest::default()
    }
}

fn fault(e: &SimEnclave, req: &KeyRequest) -> &'static str {
    match e.egetkey(req) {
        Err(SgxError::Fault {
            leaf: Leaf::Egetkey,
            rule,
            ..
        }) => rule,
        Err(other) => panic!("expected an EGETKEY #GP, got {other}"),
        Ok(_) => panic!("EGETKEY accepted"),
    }
}

fn code(e: &SimEnclave, req: &KeyRequest) -> ErrorCode {
    match e.egetkey(req) {
        Err(SgxError::Status { code, .. }) => code,
        Err(other) => panic!("expected an EGETKEY error code, got {other}"),
        Ok(_) => panic!("EGETKEY accepted"),
    }
}

#[test]
fn reserved_bytes_fault() {
    let mut r = seal(0x2);
    r.reserved1 = 1;
    assert!(fault(&enclave(0x84), &r).contains("reserved bytes"));
    let mut r = seal(0x2);
    r.reserved2[433] = 1;
    assert!(fault(&enclave(0x84), &r).contains("reserved bytes"));
}

#[test]
fn reserved_policy_bits_fault() {
    assert!(fault(&enclave(0x84), &seal(0x42)).contains("KEYPOLICY bits 6..15"));
}

#[test]
fn kss_policy_without_kss_faults() {
    for bit in [0x4, 0x8, 0x10, 0x20] {
        assert!(fault(&enclave(0x4), &seal(0x2 | bit)).contains("need ATTRIBUTES.KSS"));
    }
}

#[test]
fn configsvn_without_kss_faults() {
    let mut r = seal(0x2);
    r.config_svn = 1;
    assert!(fault(&enclave(0x4), &r).contains("need ATTRIBUTES.KSS"));
}

#[test]
fn unknown_keyname_is_invalid_keyname() {
    let mut r = seal(0x2);
    r.key_name = 5;
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidKeyName);
}

#[test]
fn seal_isvsvn_above_enclave_is_invalid_isvsvn() {
    let mut r = seal(0x2);
    r.isv_svn = 6;
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidIsvSvn);
}

#[test]
fn seal_configsvn_above_enclave_is_invalid_isvsvn() {
    let mut r = seal(0xA);
    r.config_svn = 5;
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidIsvSvn);
    r.config_svn = 4;
    enclave(0x84).egetkey(&r).unwrap();
}

#[test]
fn cpusvn_not_simulated_is_invalid_cpusvn() {
    let mut r = seal(0x2);
    r.cpu_svn = CpuSvn([1; 16]);
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidCpuSvn);
}

#[test]
fn cpusvn_upgraded_on_default_cpu_is_invalid_cpusvn() {
    let mut r = seal(0x2);
    r.cpu_svn = SimCpuSvn::Upgraded.cpu_svn();
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidCpuSvn);
    r.cpu_svn = SimCpuSvn::Downgraded.cpu_svn();
    enclave(0x84).egetkey(&r).unwrap();
}

#[test]
fn cpusvn_newer_than_downgraded_cpu_is_invalid_cpusvn() {
    let cpu = SimCpu::default().with_cpu_svn(SimCpuSvn::Downgraded);
    let e = SimEnclave::from_initialized_secs(secs(0x84), cpu, 0);
    let mut r = seal(0x2);
    r.cpu_svn = SimCpuSvn::Default.cpu_svn();
    assert_eq!(code(&e, &r), ErrorCode::InvalidCpuSvn);
    r.cpu_svn = CpuSvn([0; 16]); // zero means DEFAULT
    assert_eq!(code(&e, &r), ErrorCode::InvalidCpuSvn);
    r.cpu_svn = SimCpuSvn::Downgraded.cpu_svn();
    e.egetkey(&r).unwrap();
}

#[test]
fn upgraded_cpu_derives_every_cpusvn_and_keys_differ() {
    let cpu = SimCpu::default().with_cpu_svn(SimCpuSvn::Upgraded);
    let e = SimEnclave::from_initialized_secs(secs(0x84), cpu, 0);
    let keys: Vec<_> = [
        SimCpuSvn::Downgraded,
        SimCpuSvn::Default,
        SimCpuSvn::Upgraded,
    ]
    .iter()
    .map(|m| {
        let mut r = seal(0x2);
        r.cpu_svn = m.cpu_svn();
        *e.egetkey(&r).unwrap()
    })
    .collect();
    assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
}

#[test]
fn provision_without_provisionkey_is_invalid_attribute() {
    let mut r = seal(0x2);
    r.key_name = KeyName::Provision as u16;
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidAttribute);
    enclave(0x94).egetkey(&r).unwrap();
}

#[test]
fn provision_seal_without_provisionkey_is_invalid_attribute() {
    let mut r = seal(0x2);
    r.key_name = KeyName::ProvisionSeal as u16;
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidAttribute);
    enclave(0x94).egetkey(&r).unwrap();
}

#[test]
fn provision_seal_configsvn_above_enclave_is_invalid_isvsvn() {
    let mut r = seal(0xA);
    r.key_name = KeyName::ProvisionSeal as u16;
    r.config_svn = 5;
    assert_eq!(code(&enclave(0x94), &r), ErrorCode::InvalidIsvSvn);
}

#[test]
fn einittoken_without_einittoken_key_is_invalid_attribute() {
    let mut r = seal(0x0);
    r.key_name = KeyName::EinitToken as u16;
    assert_eq!(code(&enclave(0x84), &r), ErrorCode::InvalidAttribute);
    enclave(0xA4).egetkey(&r).unwrap();
}

#[test]
fn every_key_name_gives_a_different_key() {
    let e = enclave(0xB4);
    let mut keys = Vec::new();
    for name in 0..5u16 {
        let mut r = seal(0x2);
        r.key_name = name;
        keys.push(*e.egetkey(&r).unwrap());
    }
    for i in 0..5 {
        for j in i + 1..5 {
            assert_ne!(keys[i], keys[j], "key names {i} and {j}");
        }
    }
}

/// The seal key of an enclave whose SECS was changed by `edit`.
fn seal_key_with(policy: u16, edit: impl FnOnce(&mut Secs)) -> [u8; 16] {
    let mut s = secs(0x84);
    edit(&mut s);
    let e = SimEnclave::from_initialized_secs(s, SimCpu::default(), 0);
    *e.egetkey(&seal(policy)).unwrap()
}

#[test]
fn configid_policy_binds_configid() {
    let base = seal_key_with(0xA, |_| {});
    assert_ne!(base, seal_key_with(0xA, |s| s.config_id.0[0] = 0));
    // Without the CONFIGID policy the CONFIGID is not an input.
    assert_eq!(
        seal_key_with(0x2, |_| {}),
        seal_key_with(0x2, |s| s.config_id.0[0] = 0)
    );
}

#[test]
fn configid_policy_uses_the_requested_configsvn() {
    let e = enclave(0x84);
    let mut r = seal(0xA);
    r.config_svn = 3;
    let k3 = e.egetkey(&r).unwrap();
    r.config_svn = 4;
    let k4 = e.egetkey(&r).unwrap();
    assert_ne!(*k3, *k4);
    // A newer enclave (CONFIGSVN 6) can derive the key of CONFIGSVN 4.
    let newer = SimEnclave::from_initialized_secs(
        Secs {
            config_svn: 6,
            ..secs(0x84)
        },
        SimCpu::default(),
        0,
    );
    assert_eq!(*newer.egetkey(&r).unwrap(), *k4);
}

#[test]
fn isvfamilyid_policy_binds_family_and_shares_across_products() {
    // Family policy without MRENCLAVE: two products of one family share the key when
    // NOISVPRODID is set too.
    let policy = 0x2 | 0x4 | 0x10;
    let a = seal_key_with(policy, |s| s.isv_prod_id = 1);
    let b = seal_key_with(policy, |s| s.isv_prod_id = 2);
    assert_eq!(a, b);
    assert_ne!(a, seal_key_with(policy, |s| s.isv_family_id.0[0] = 0));
}

#[test]
fn isvprodid_is_bound_unless_noisvprodid() {
    assert_ne!(
        seal_key_with(0x2, |s| s.isv_prod_id = 1),
        seal_key_with(0x2, |s| s.isv_prod_id = 2)
    );
}

#[test]
fn isvextprodid_policy_binds_ext_prod_id() {
    assert_ne!(
        seal_key_with(0x22, |_| {}),
        seal_key_with(0x22, |s| s.isv_ext_prod_id.0[0] = 0)
    );
    assert_eq!(
        seal_key_with(0x2, |_| {}),
        seal_key_with(0x2, |s| s.isv_ext_prod_id.0[0] = 0)
    );
}

#[test]
fn mrenclave_policy_binds_mrenclave_and_mrsigner_policy_does_not() {
    assert_ne!(
        seal_key_with(0x1, |_| {}),
        seal_key_with(0x1, |s| s.mr_enclave[0] = 0)
    );
    assert_eq!(
        seal_key_with(0x2, |_| {}),
        seal_key_with(0x2, |s| s.mr_enclave[0] = 0)
    );
}
