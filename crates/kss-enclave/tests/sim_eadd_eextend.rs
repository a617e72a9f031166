//! EADD and EEXTEND rules (`docs/sgx-reference.md` §3, §5): one test per rule.

mod common;

use common::secs;
use kss_enclave::sim::{SimBuilder, SimCpu};
use kss_enclave::{Leaf, SgxError};
use kss_types::{KssConfig, PageType, Secinfo, SecinfoFlags};

fn builder() -> SimBuilder {
    SimCpu::default()
        .ecreate(&secs(0x4, KssConfig::default()))
        .unwrap()
}

fn rule(r: Result<(), SgxError>, leaf: Leaf) -> &'static str {
    match r {
        Err(SgxError::Fault { leaf: l, rule, .. }) if l == leaf => rule,
        Err(other) => panic!("expected a {leaf} #GP, got {other}"),
        Ok(()) => panic!("{leaf} accepted an invalid request"),
    }
}

fn rw() -> Secinfo {
    Secinfo::new(SecinfoFlags::REG_RW)
}

#[test]
fn fact_sheet_measurement_kat_through_the_instructions() {
    let mut b = builder();
    b.eadd(0, None, &Secinfo::new(SecinfoFlags::TCS)).unwrap();
    b.eadd(0x1000, Some(&[0; 4096]), &rw()).unwrap();
    for c in 0..16 {
        b.eextend(0x1000 + c * 256).unwrap();
    }
    assert_eq!(
        hex::encode(b.mr_enclave()),
        "2e1025dddd5bfdbc1c085d15feb88f775ea90701d6038dae1aad0f7f66d7b151"
    );
}

#[test]
fn eadd_offset_not_page_aligned_faults() {
    assert!(rule(builder().eadd(0x800, None, &rw()), Leaf::Eadd).contains("4 KiB-aligned"));
}

#[test]
fn eadd_offset_outside_enclave_faults() {
    assert!(rule(builder().eadd(0x2000, None, &rw()), Leaf::Eadd).contains("inside the enclave"));
}

#[test]
fn eadd_page_already_added_faults() {
    let mut b = builder();
    b.eadd(0x1000, None, &rw()).unwrap();
    assert!(rule(b.eadd(0x1000, None, &rw()), Leaf::Eadd).contains("already added"));
}

#[test]
fn eadd_page_type_not_reg_or_tcs_faults() {
    for t in [PageType::Secs, PageType::Va, PageType::Trim] {
        let s = Secinfo::new(SecinfoFlags::new(t, SecinfoFlags::empty()));
        assert!(rule(builder().eadd(0, None, &s), Leaf::Eadd).contains("page type"));
    }
}

#[test]
fn eadd_secinfo_reserved_flag_bits_faults() {
    let s = Secinfo::new(SecinfoFlags(0x203) | SecinfoFlags::PENDING);
    assert!(rule(builder().eadd(0, None, &s), Leaf::Eadd).contains("reserved"));
    let s = Secinfo::new(SecinfoFlags(0x203 | (1 << 20)));
    assert!(rule(builder().eadd(0, None, &s), Leaf::Eadd).contains("reserved"));
}

#[test]
fn eadd_secinfo_reserved_bytes_faults() {
    let mut s = rw();
    s.reserved[55] = 1;
    assert!(rule(builder().eadd(0, None, &s), Leaf::Eadd).contains("bytes 8..64"));
}

#[test]
fn eadd_tcs_with_permissions_faults() {
    let s = Secinfo::new(SecinfoFlags(0x100) | SecinfoFlags::R);
    assert!(rule(builder().eadd(0, None, &s), Leaf::Eadd).contains("TCS"));
}

#[test]
fn eadd_write_without_read_faults() {
    let s = Secinfo::new(SecinfoFlags(0x200) | SecinfoFlags::W);
    assert!(rule(builder().eadd(0, None, &s), Leaf::Eadd).contains("W without R"));
}

#[test]
fn eextend_offset_not_256_aligned_faults() {
    let mut b = builder();
    b.eadd(0x1000, None, &rw()).unwrap();
    assert!(rule(b.eextend(0x1080), Leaf::Eextend).contains("256-byte aligned"));
}

#[test]
fn eextend_page_not_added_faults() {
    let mut b = builder();
    b.eadd(0x1000, None, &rw()).unwrap();
    assert!(rule(b.eextend(0x0), Leaf::Eextend).contains("added with EADD"));
}

#[test]
fn eextend_outside_enclave_faults() {
    assert!(rule(builder().eextend(0x10_0000), Leaf::Eextend).contains("added with EADD"));
}

#[test]
fn eextend_hashes_the_page_content() {
    use sha2::{Digest, Sha256};
    let mut page = [0u8; 4096];
    page[256..512].fill(0x42);
    let mut b = builder();
    let before = b.clone();
    b.eadd(0x1000, Some(&page), &rw()).unwrap();
    b.eextend(0x1100).unwrap();
    // Independent computation: ECREATE, EADD, EEXTEND blocks and the 256 data bytes.
    let mut h = Sha256::new();
    let mut blk = [0u8; 64];
    blk[..8].copy_from_slice(b"ECREATE\0");
    blk[8..12].copy_from_slice(&1u32.to_le_bytes());
    blk[12..20].copy_from_slice(&0x2000u64.to_le_bytes());
    h.update(blk);
    let mut blk = [0u8; 64];
    blk[..8].copy_from_slice(b"EADD\0\0\0\0");
    blk[8..16].copy_from_slice(&0x1000u64.to_le_bytes());
    blk[16..24].copy_from_slice(&0x203u64.to_le_bytes());
    h.update(blk);
    let mut blk = [0u8; 64];
    blk[..8].copy_from_slice(b"EEXTEND\0");
    blk[8..16].copy_from_slice(&0x1100u64.to_le_bytes());
    h.update(blk);
    h.update([0x42; 256]);
    let expected: [u8; 32] = h.finalize().into();
    assert_eq!(b.mr_enclave(), expected);
    assert_ne!(before.mr_enclave(), expected);
}

#[test]
fn eadd_of_zero_pages_stores_nothing_even_for_a_4_gib_heap() {
    let mut s = secs(0x4, KssConfig::default());
    s.size = 1 << 33;
    s.base_addr = 1 << 33;
    let mut b = SimCpu::default().ecreate(&s).unwrap();
    let zero = [0u8; 4096];
    for i in 0..(1u64 << 20) {
        // 4 GiB of heap: half given as explicit zero pages, half as `None`.
        let data = if i % 2 == 0 { Some(&zero) } else { None };
        b.eadd(i * 4096, data, &rw()).unwrap();
    }
    assert_eq!(b.page_count(), 1 << 20);
    assert_eq!(b.stored_page_count(), 0);
}
