//! Pins every offset and size against the literal numbers of the reference
//! (`docs/sgx-reference.md`, sections 2, 3, 4, 6 and 7).

use kss_types::*;
use proptest::prelude::*;

/// Asserts that `bytes[off..off+len]` equals `expect`. The tests fill every field with a distinct
/// marker, so a field at a wrong offset shows up as another field's marker (or as zeros).
fn at(bytes: &[u8], off: usize, expect: &[u8]) {
    assert_eq!(
        &bytes[off..off + expect.len()],
        expect,
        "field at offset {off}"
    );
}

#[test]
fn sizes() {
    assert_eq!(Attributes::SIZE, 16);
    assert_eq!(Secinfo::SIZE, 64);
    assert_eq!(Secs::SIZE, 4096);
    assert_eq!(Sigstruct::SIZE, 1808);
    assert_eq!(ReportBody::SIZE, 384);
    assert_eq!(Report::SIZE, 432);
    assert_eq!(TargetInfo::SIZE, 512);
    assert_eq!(KeyRequest::SIZE, 512);
    assert_eq!(KssConfig::SIZE, 66);
}

#[test]
fn flag_values() {
    assert_eq!(AttributeFlags::INIT.bits(), 0x1);
    assert_eq!(AttributeFlags::DEBUG.bits(), 0x2);
    assert_eq!(AttributeFlags::MODE64BIT.bits(), 0x4);
    assert_eq!(AttributeFlags::PROVISION_KEY.bits(), 0x10);
    assert_eq!(AttributeFlags::EINITTOKEN_KEY.bits(), 0x20);
    assert_eq!(AttributeFlags::KSS.bits(), 0x80);
    assert_eq!(AttributeFlags::AEX_NOTIFY.bits(), 0x400);
    assert_eq!(MiscSelect::EXINFO.bits(), 1);
    assert_eq!(KeyPolicy::MRENCLAVE.0, 0x1);
    assert_eq!(KeyPolicy::MRSIGNER.0, 0x2);
    assert_eq!(KeyPolicy::NOISVPRODID.0, 0x4);
    assert_eq!(KeyPolicy::CONFIGID.0, 0x8);
    assert_eq!(KeyPolicy::ISVFAMILYID.0, 0x10);
    assert_eq!(KeyPolicy::ISVEXTPRODID.0, 0x20);
    assert_eq!(KeyPolicy::KSS_BITS.0, 0x3C);
    assert_eq!(KeyName::Seal as u16, 4);
    assert_eq!(KeyName::Report as u16, 3);
    assert_eq!(KeyName::ProvisionSeal as u16, 2);
    assert_eq!(SecinfoFlags::TCS.0, 0x100);
    assert_eq!(SecinfoFlags::REG_RW.0, 0x203);
    assert_eq!(SecinfoFlags::REG_RX.0, 0x205);
    assert_eq!(SecinfoFlags(0x203).page_type(), Some(PageType::Reg));
    assert_eq!(
        format!("{}", AttributeFlags(0x87)),
        "0x87 (INIT|DEBUG|MODE64BIT|KSS)"
    );
}

#[test]
fn policy_names_round_trip() {
    let p = KeyPolicy::parse_list("mrsigner, ConfigID,isvfamilyid,isvextprodid").unwrap();
    assert_eq!(p.0, 0x3A);
    assert_eq!(p.to_string(), "mrsigner,configid,isvfamilyid,isvextprodid");
    assert_eq!(KeyPolicy::parse_list("").unwrap().0, 0);
    assert_eq!(
        KeyPolicy::parse_list("mrsigner,bogus").unwrap_err().0,
        "bogus"
    );
    assert_eq!(KeyPolicy(0x42).to_string(), "mrsigner,0x40");
}

#[test]
fn id128_high_low_byte_order() {
    // Enclave.xml ISVEXTPRODID_H=1 / _L=2 → 0200000000000000 0100000000000000
    // (`testdata/SOURCES.md` §9).
    let id = Id128::from_high_low(1, 2);
    assert_eq!(id.0, [2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!((id.high(), id.low()), (1, 2));
    let id = Id128::from_high_low(0x0102030405060708, 0x1112131415161718);
    assert_eq!(id.0[0], 0x18);
    assert_eq!(id.0[7], 0x11);
    assert_eq!(id.0[8], 0x08);
    assert_eq!(id.0[15], 0x01);
}

#[test]
fn secs_offsets() {
    let secs = Secs {
        size: 0x1111,
        base_addr: 0x2222,
        ssa_frame_size: 0x33,
        misc_select: MiscSelect(0x44),
        attributes: Attributes::new(0x87, 0xE7),
        mr_enclave: [0x55; 32],
        mr_signer: [0x66; 32],
        config_id: ConfigId([0x77; 64]),
        isv_prod_id: 0x0102,
        isv_svn: 0x0304,
        config_svn: 0x0506,
        isv_family_id: Id128([0x88; 16]),
        isv_ext_prod_id: Id128([0x99; 16]),
        ..Secs::default()
    };
    let b = secs.to_bytes();
    at(&b, 0, &0x1111u64.to_le_bytes());
    at(&b, 8, &0x2222u64.to_le_bytes());
    at(&b, 16, &0x33u32.to_le_bytes());
    at(&b, 20, &0x44u32.to_le_bytes());
    at(&b, 24, &[0; 24]);
    at(&b, 48, &0x87u64.to_le_bytes());
    at(&b, 56, &0xE7u64.to_le_bytes());
    at(&b, 64, &[0x55; 32]);
    at(&b, 96, &[0; 32]);
    at(&b, 128, &[0x66; 32]);
    at(&b, 160, &[0; 32]);
    at(&b, 192, &[0x77; 64]);
    at(&b, 256, &[0x02, 0x01, 0x04, 0x03, 0x06, 0x05]);
    at(&b, 262, &[0x88; 16]);
    at(&b, 278, &[0x99; 16]);
    assert!(b[294..].iter().all(|x| *x == 0));
    assert_eq!(Secs::from_bytes(&b).unwrap(), secs);
    assert!(!secs.reserved_is_zero()); // the sim ID slots count as reserved before ECREATE
}

#[test]
fn sigstruct_offsets() {
    let mut s = Sigstruct::unsigned();
    s.vendor = 0x8086;
    s.date = 0x20160109;
    s.sw_defined = 0xAB;
    s.modulus = [0x11; 384];
    s.signature = [0x22; 384];
    s.misc_select = MiscSelect(0x01020304);
    s.misc_mask = 0x05060708;
    s.cet_attributes = 0xC1;
    s.cet_attributes_mask = 0xC2;
    s.isv_family_id = Id128([0x33; 16]);
    s.attributes = Attributes::new(0x87, 0x3);
    s.attribute_mask = Attributes::new(0xFF00FFFFFFFFFFFD, 0xFFFFFFFFFFFFFF1B);
    s.enclave_hash = [0x44; 32];
    s.isv_ext_prod_id = Id128([0x55; 16]);
    s.isv_prod_id = 0x1234;
    s.isv_svn = 0x5678;
    s.q1 = [0x66; 384];
    s.q2 = [0x77; 384];
    let b = s.to_bytes();
    at(&b, 0, &[6, 0, 0, 0, 0xE1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    at(&b, 16, &[0x86, 0x80, 0, 0]);
    at(&b, 20, &[0x09, 0x01, 0x16, 0x20]);
    at(
        &b,
        24,
        &[1, 1, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 1, 0, 0, 0],
    );
    at(&b, 40, &[0xAB, 0, 0, 0]);
    at(&b, 44, &[0; 84]);
    at(&b, 128, &[0x11; 384]);
    at(&b, 512, &[3, 0, 0, 0]);
    at(&b, 516, &[0x22; 384]);
    at(&b, 900, &[4, 3, 2, 1, 8, 7, 6, 5, 0xC1, 0xC2, 0, 0]);
    at(&b, 912, &[0x33; 16]);
    at(&b, 928, &0x87u64.to_le_bytes());
    at(&b, 936, &3u64.to_le_bytes());
    at(&b, 944, &0xFF00FFFFFFFFFFFDu64.to_le_bytes());
    at(&b, 952, &0xFFFFFFFFFFFFFF1Bu64.to_le_bytes());
    at(&b, 960, &[0x44; 32]);
    at(&b, 992, &[0; 16]);
    at(&b, 1008, &[0x55; 16]);
    at(&b, 1024, &[0x34, 0x12, 0x78, 0x56]);
    at(&b, 1028, &[0; 12]);
    at(&b, 1040, &[0x66; 384]);
    at(&b, 1424, &[0x77; 384]);
    assert_eq!(Sigstruct::from_bytes(&b).unwrap(), s);
    let m = s.signed_message();
    assert_eq!(&m[..128], &b[..128]);
    assert_eq!(&m[128..], &b[900..1028]);
    assert_eq!(s.structure_problem(), None);
}

#[test]
fn report_offsets() {
    let body = ReportBody {
        cpu_svn: CpuSvn([0x01; 16]),
        misc_select: MiscSelect(0x02),
        isv_ext_prod_id: Id128([0x03; 16]),
        attributes: Attributes::new(0x87, 0x3),
        mr_enclave: [0x04; 32],
        mr_signer: [0x05; 32],
        config_id: ConfigId([0x06; 64]),
        isv_prod_id: 0x0708,
        isv_svn: 0x090A,
        config_svn: 0x0B0C,
        isv_family_id: Id128([0x0D; 16]),
        report_data: [0x0E; 64],
        ..ReportBody::default()
    };
    let r = Report {
        body: body.clone(),
        key_id: [0x0F; 32],
        mac: [0x10; 16],
    };
    let b = r.to_bytes();
    at(&b, 0, &[0x01; 16]);
    at(&b, 16, &[2, 0, 0, 0]);
    at(&b, 20, &[0; 12]);
    at(&b, 32, &[0x03; 16]);
    at(&b, 48, &0x87u64.to_le_bytes());
    at(&b, 64, &[0x04; 32]);
    at(&b, 96, &[0; 32]);
    at(&b, 128, &[0x05; 32]);
    at(&b, 160, &[0; 32]);
    at(&b, 192, &[0x06; 64]);
    at(&b, 256, &[0x08, 0x07, 0x0A, 0x09, 0x0C, 0x0B]);
    at(&b, 262, &[0; 42]);
    at(&b, 304, &[0x0D; 16]);
    at(&b, 320, &[0x0E; 64]);
    at(&b, 384, &[0x0F; 32]);
    at(&b, 416, &[0x10; 16]);
    assert_eq!(Report::from_bytes(&b).unwrap(), r);
    assert_eq!(ReportBody::from_bytes(&b[..384]).unwrap(), body);
}

#[test]
fn targetinfo_offsets() {
    let body = ReportBody {
        mr_enclave: [0x21; 32],
        attributes: Attributes::new(0x85, 0x7),
        config_svn: 0x1234,
        misc_select: MiscSelect(1),
        config_id: ConfigId([0x22; 64]),
        ..ReportBody::default()
    };
    let t = TargetInfo::for_report(&body);
    let b = t.to_bytes();
    at(&b, 0, &[0x21; 32]);
    at(&b, 32, &0x85u64.to_le_bytes());
    at(&b, 40, &7u64.to_le_bytes());
    at(&b, 48, &[0, 0, 0x34, 0x12, 1, 0, 0, 0]);
    at(&b, 56, &[0; 8]);
    at(&b, 64, &[0x22; 64]);
    assert!(b[128..].iter().all(|x| *x == 0));
    assert_eq!(TargetInfo::from_bytes(&b).unwrap(), t);
}

#[test]
fn keyrequest_offsets() {
    let k = KeyRequest {
        key_name: 4,
        key_policy: KeyPolicy(0x3A),
        isv_svn: 5,
        cpu_svn: CpuSvn([0x31; 16]),
        attribute_mask: Attributes::new(0xFF0000000000000B, 0),
        key_id: [0x32; 32],
        misc_mask: 0xF0000000,
        config_svn: 7,
        ..KeyRequest::default()
    };
    let b = k.to_bytes();
    at(&b, 0, &[4, 0, 0x3A, 0, 5, 0, 0, 0]);
    at(&b, 8, &[0x31; 16]);
    at(&b, 24, &0xFF0000000000000Bu64.to_le_bytes());
    at(&b, 32, &[0; 8]);
    at(&b, 40, &[0x32; 32]);
    at(&b, 72, &0xF0000000u32.to_le_bytes());
    at(&b, 76, &[7, 0]);
    assert!(b[78..].iter().all(|x| *x == 0));
    assert_eq!(KeyRequest::from_bytes(&b).unwrap(), k);
}

#[test]
fn secinfo_and_kss_config() {
    let s = Secinfo::new(SecinfoFlags::REG_RW);
    let b = s.to_bytes();
    at(&b, 0, &0x203u64.to_le_bytes());
    assert!(b[8..].iter().all(|x| *x == 0));
    let c = KssConfig {
        config_id: ConfigId([0xAB; 64]),
        config_svn: 0x12AB,
    };
    let b = c.to_bytes();
    at(&b, 0, &[0xAB; 64]);
    at(&b, 64, &[0xAB, 0x12]);
    assert_eq!(KssConfig::from_bytes(&b).unwrap(), c);
    assert_eq!(ConfigId::from_prefix(&[1, 2]).unwrap().0[..3], [1, 2, 0]);
    assert!(ConfigId::from_prefix(&[0; 65]).is_none());
}

#[test]
fn wrong_lengths_are_errors() {
    let buf = [0u8; 5000];
    for n in [0, 1, 383, 385, 431, 433, 511, 513, 1807, 1809, 4095, 4097] {
        let s = &buf[..n];
        if n != 384 {
            assert!(ReportBody::from_bytes(s).is_err());
        }
        if n != 432 {
            assert!(Report::from_bytes(s).is_err());
        }
        if n != 512 {
            assert!(TargetInfo::from_bytes(s).is_err());
            assert!(KeyRequest::from_bytes(s).is_err());
        }
        if n != 1808 {
            assert!(Sigstruct::from_bytes(s).is_err());
        }
        if n != 4096 {
            assert!(Secs::from_bytes(s).is_err());
        }
    }
    let e = Sigstruct::from_bytes(&buf[..10]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "SIGSTRUCT must be exactly 1808 bytes, got 10"
    );
}

proptest! {
    #[test]
    fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 4096)) {
        prop_assert_eq!(&Secs::from_bytes(&bytes).unwrap().to_bytes()[..], &bytes[..]);
        prop_assert_eq!(&Sigstruct::from_bytes(&bytes[..1808]).unwrap().to_bytes()[..], &bytes[..1808]);
        prop_assert_eq!(&Report::from_bytes(&bytes[..432]).unwrap().to_bytes()[..], &bytes[..432]);
        prop_assert_eq!(&TargetInfo::from_bytes(&bytes[..512]).unwrap().to_bytes()[..], &bytes[..512]);
        prop_assert_eq!(&KeyRequest::from_bytes(&bytes[..512]).unwrap().to_bytes()[..], &bytes[..512]);
        prop_assert_eq!(&Secinfo::from_bytes(&bytes[..64]).unwrap().to_bytes()[..], &bytes[..64]);
    }

    #[test]
    fn any_length_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = Sigstruct::from_bytes(&bytes);
        let _ = Report::from_bytes(&bytes);
        let _ = ReportBody::from_bytes(&bytes);
        let _ = TargetInfo::from_bytes(&bytes);
        let _ = KeyRequest::from_bytes(&bytes);
        let _ = Secinfo::from_bytes(&bytes);
        let _ = KssConfig::from_bytes(&bytes);
    }
}
