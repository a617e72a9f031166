//! Upgrades: CONFIGSVN and ISVSVN work as "this version or newer"; reseal moves data forward;
//! CPUSVN follows the SDK-sim rules.

mod common;

use common::{cpusvn_downgraded, cpusvn_upgraded, SimEnclave};
use kss_seal::{reseal, seal, unseal, KeySourceError, Preset, SealError, SealOptions, SealedData};
use kss_types::{KeyPolicy, ReportBody};

const SECRET: &[u8] = b"tenant key ring v1";

fn at(config_svn: u16, isv_svn: u16) -> SimEnclave {
    SimEnclave::kat().with(|r: &mut ReportBody| {
        r.config_svn = config_svn;
        r.isv_svn = isv_svn;
    })
}

/// SECRET sealed at CONFIGSVN 7 (ISVSVN 5) with the `config` preset (CONFIGID-bound).
fn sealed_config_bound_at_7() -> Vec<u8> {
    seal(
        &at(7, 5),
        SECRET,
        b"",
        &SealOptions::with_preset(Preset::Config),
    )
    .unwrap()
}

#[test]
fn configsvn_n_unseals_at_n_and_above_not_below() {
    let blob = sealed_config_bound_at_7();
    for newer in [7, 8, 100, u16::MAX] {
        assert_eq!(&unseal(&at(newer, 5), &blob).unwrap().plaintext[..], SECRET);
    }
    match unseal(&at(6, 5), &blob) {
        Err(SealError::SvnTooLow {
            field: "CONFIGSVN",
            sealed: 7,
            current: 6,
        }) => {}
        other => panic!("expected CONFIGSVN error, got {other:?}"),
    }
    let msg = unseal(&at(6, 5), &blob).unwrap_err().to_string();
    assert!(
        msg.contains("sealed at CONFIGSVN 7, but this enclave has CONFIGSVN 6 < 7"),
        "{msg}"
    );
}

#[test]
fn isvsvn_n_unseals_at_n_and_above_not_below() {
    let blob = seal(&at(7, 5), SECRET, b"", &SealOptions::default()).unwrap();
    for newer in [5, 6, 0x100] {
        assert_eq!(&unseal(&at(7, newer), &blob).unwrap().plaintext[..], SECRET);
    }
    match unseal(&at(7, 4), &blob) {
        Err(SealError::SvnTooLow {
            field: "ISVSVN",
            sealed: 5,
            current: 4,
        }) => {}
        other => panic!("expected ISVSVN error, got {other:?}"),
    }
}

#[test]
fn reseal_moves_data_forward() {
    let old = at(7, 5);
    let upgraded = at(8, 6);
    let blob = seal(&old, SECRET, b"meta", &SealOptions::default()).unwrap();
    let moved = reseal(&upgraded, &blob, None).unwrap();
    let info = SealedData::parse(&moved).unwrap().inspect();
    assert_eq!((info.config_svn, info.isv_svn), (8, 6));
    assert_eq!(info.policy, KeyPolicy(0x3A));
    assert_ne!(
        SealedData::parse(&moved).unwrap().key_request.key_id,
        SealedData::parse(&blob).unwrap().key_request.key_id
    );
    let out = unseal(&upgraded, &moved).unwrap();
    assert_eq!((&out.plaintext[..], &out.aad[..]), (SECRET, &b"meta"[..]));
    // The old enclave can still read the old blob but not the resealed one.
    assert!(unseal(&old, &blob).is_ok());
    assert!(matches!(
        unseal(&old, &moved),
        Err(SealError::SvnTooLow {
            field: "ISVSVN",
            sealed: 6,
            current: 5
        })
    ));
    // Only a CONFIGSVN upgrade: the n enclave is locked out by CONFIGSVN.
    let config_only = reseal(&at(8, 5), &blob, None).unwrap();
    assert!(matches!(
        unseal(&old, &config_only),
        Err(SealError::SvnTooLow {
            field: "CONFIGSVN",
            sealed: 8,
            current: 7
        })
    ));
}

#[test]
fn reseal_can_change_policy() {
    let a = SimEnclave::kat();
    let sibling = SimEnclave::kat().with(|r| {
        r.isv_prod_id = 9;
        r.isv_ext_prod_id.0[0] ^= 1;
    });
    let blob = seal(&a, SECRET, b"", &SealOptions::default()).unwrap();
    assert!(unseal(&sibling, &blob).is_err());
    let shared = reseal(&a, &blob, Some(Preset::Family.policy())).unwrap();
    assert_eq!(&unseal(&sibling, &shared).unwrap().plaintext[..], SECRET);
    // Reseal refuses invalid policies with the same rules as seal.
    assert!(matches!(
        reseal(&a, &blob, Some(KeyPolicy::ISVFAMILYID)),
        Err(SealError::InvalidPolicy { .. })
    ));
}

#[test]
fn cpusvn_rules() {
    let default_cpu = SimEnclave::kat();
    let upgraded_cpu = SimEnclave::kat().with(|r| r.cpu_svn = cpusvn_upgraded());
    let downgraded_cpu = SimEnclave::kat().with(|r| r.cpu_svn = cpusvn_downgraded());
    // Sealed on an upgraded TCB: a default platform cannot derive it.
    let blob = seal(&upgraded_cpu, SECRET, b"", &SealOptions::default()).unwrap();
    assert_eq!(&unseal(&upgraded_cpu, &blob).unwrap().plaintext[..], SECRET);
    let e = unseal(&default_cpu, &blob).unwrap_err();
    assert!(matches!(e, SealError::CpuSvnTooNew { .. }), "{e}");
    assert!(
        e.to_string().contains("5339ae8c93ae8f3ce432db924d0f0733"),
        "{e}"
    );
    // Sealed at default: the upgraded platform still reads it, the downgraded one cannot.
    let blob = seal(&default_cpu, SECRET, b"", &SealOptions::default()).unwrap();
    assert!(unseal(&upgraded_cpu, &blob).is_ok());
    assert!(matches!(
        unseal(&downgraded_cpu, &blob),
        Err(SealError::CpuSvnTooNew { .. })
    ));
}

struct Offline;
impl kss_seal::KeySource for Offline {
    fn self_report(&self) -> Result<ReportBody, KeySourceError> {
        Err(KeySourceError::unavailable(std::io::Error::other(
            "no enclave",
        )))
    }
    fn get_key(
        &self,
        _: &kss_types::KeyRequest,
    ) -> Result<zeroize::Zeroizing<[u8; 16]>, KeySourceError> {
        Err(KeySourceError::unavailable(std::io::Error::other(
            "no enclave",
        )))
    }
}

#[test]
fn unavailable_key_source_is_not_a_mac_error() {
    let blob = seal(&SimEnclave::kat(), SECRET, b"", &SealOptions::default()).unwrap();
    assert!(matches!(
        unseal(&Offline, &blob),
        Err(SealError::KeySource(KeySourceError::Unavailable { .. }))
    ));
    assert!(matches!(
        seal(&Offline, SECRET, b"", &SealOptions::default()),
        Err(SealError::KeySource(_))
    ));
}

/// The presets whose policy does not contain `configid`.
const WITHOUT_CONFIGID: [Preset; 4] = [
    Preset::Enclave,
    Preset::Signer,
    Preset::Family,
    Preset::Product,
];

#[test]
fn lower_configsvn_is_refused_even_without_configid() {
    // EGETKEY checks the stored CONFIGSVN against the enclave's whatever the policy.
    for preset in WITHOUT_CONFIGID {
        assert!(!preset.policy().contains(KeyPolicy::CONFIGID));
        let blob = seal(&at(7, 5), SECRET, b"", &SealOptions::with_preset(preset)).unwrap();
        assert_eq!(&unseal(&at(8, 5), &blob).unwrap().plaintext[..], SECRET);
        match unseal(&at(6, 5), &blob) {
            Err(SealError::SvnTooLow {
                field: "CONFIGSVN",
                sealed: 7,
                current: 6,
            }) => {}
            other => panic!("{preset:?}: expected CONFIGSVN error, got {other:?}"),
        }
    }
}

/// `blob` with the CONFIGSVN of its stored key request set to `svn`.
fn with_stored_config_svn(blob: &[u8], svn: u16) -> Vec<u8> {
    let off = kss_types::keyrequest::offsets::CONFIG_SVN;
    let mut edited = blob.to_vec();
    edited[off..off + 2].copy_from_slice(&svn.to_le_bytes());
    edited
}

#[test]
fn lowering_stored_configsvn_goes_unnoticed_without_configid() {
    // The SDK quirk: without `configid` the stored CONFIGSVN is not part of the key, so an
    // edited, lower value still unseals, and now also on the lower CONFIGSVN it names.
    for preset in WITHOUT_CONFIGID {
        let blob = seal(&at(7, 5), SECRET, b"", &SealOptions::with_preset(preset)).unwrap();
        let lowered = with_stored_config_svn(&blob, 6);
        for enclave in [at(7, 5), at(6, 5)] {
            let out = unseal(&enclave, &lowered).unwrap();
            assert_eq!(&out.plaintext[..], SECRET, "{preset:?}");
            assert_eq!(out.key_request.config_svn, 6);
        }
    }
    // With `configid` the CONFIGSVN feeds the key: the same edit is a MAC mismatch.
    let blob = sealed_config_bound_at_7();
    assert!(matches!(
        unseal(&at(7, 5), &with_stored_config_svn(&blob, 6)),
        Err(SealError::MacMismatch { .. })
    ));
}
