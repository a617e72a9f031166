//! ECREATE rules (`docs/sgx-reference.md` §3.2): one test per rule, each tripping exactly that
//! rule.

mod common;

use common::{kss_config, secs};
use kss_enclave::sim::SimCpu;
use kss_enclave::{Leaf, SgxError};
use kss_types::{ConfigId, KssConfig, MiscSelect, Secs};

fn fault_rule(cpu: &SimCpu, s: &Secs) -> &'static str {
    match cpu.ecreate(s) {
        Err(SgxError::Fault {
            leaf: Leaf::Ecreate,
            rule,
            ..
        }) => rule,
        Err(other) => panic!("expected an ECREATE #GP, got {other}"),
        Ok(_) => panic!("ECREATE accepted an invalid SECS"),
    }
}

fn ok_secs() -> Secs {
    secs(0x4, KssConfig::default())
}

#[test]
fn valid_secs_is_accepted() {
    SimCpu::default().ecreate(&ok_secs()).unwrap();
    SimCpu::default()
        .ecreate(&secs(0x86, kss_config(3)))
        .unwrap();
}

#[test]
fn size_below_8192_faults() {
    let mut s = ok_secs();
    s.size = 4096;
    s.base_addr = 0;
    assert!(fault_rule(&SimCpu::default(), &s).contains("power of two of at least 8192"));
}

#[test]
fn size_not_power_of_two_faults() {
    let mut s = ok_secs();
    s.size = 0x3000;
    s.base_addr = 0;
    assert!(fault_rule(&SimCpu::default(), &s).contains("power of two"));
}

#[test]
fn size_above_cpu_maximum_faults() {
    let cpu = SimCpu {
        max_enclave_size_bits: 36,
        ..SimCpu::default()
    };
    let mut s = ok_secs();
    s.size = 1 << 37;
    s.base_addr = 0;
    assert!(fault_rule(&cpu, &s).contains("maximum enclave size"));
}

#[test]
fn baseaddr_not_aligned_to_size_faults() {
    let mut s = ok_secs();
    s.base_addr = 0x1000;
    assert!(fault_rule(&SimCpu::default(), &s).contains("naturally aligned"));
}

#[test]
fn reserved_fields_nonzero_faults() {
    let mut s = ok_secs();
    s.reserved4[100] = 1;
    assert!(fault_rule(&SimCpu::default(), &s).contains("reserved"));
    let mut s = ok_secs();
    s.isv_family_id.0[0] = 1; // the simulator's slot is reserved before EINIT
    assert!(fault_rule(&SimCpu::default(), &s).contains("reserved"));
}

#[test]
fn init_attribute_set_faults() {
    let s = secs(0x5, KssConfig::default());
    assert!(fault_rule(&SimCpu::default(), &s).contains("INIT must be 0"));
}

#[test]
fn kss_attribute_on_cpu_without_kss_faults() {
    let s = secs(0x84, KssConfig::default());
    assert!(fault_rule(&SimCpu::without_kss(), &s).contains("does not support KSS"));
    SimCpu::with_kss().ecreate(&s).unwrap();
}

#[test]
fn attribute_outside_cpu_mask_faults() {
    let s = secs(0x4 | 0x8, KssConfig::default()); // bit 3 is reserved
    assert!(fault_rule(&SimCpu::default(), &s).contains("CR_SGX_ATTRIBUTES_MASK"));
}

#[test]
fn xfrm_outside_cpu_mask_faults() {
    let mut s = ok_secs();
    s.attributes.xfrm = 0x3 | 0x8; // BNDREGS: not in the simulated CPU's XFRM mask
    assert!(fault_rule(&SimCpu::default(), &s).contains("XFRM must be a subset"));
}

#[test]
fn xfrm_not_legal_xcr0_faults() {
    let mut s = ok_secs();
    s.attributes.xfrm = 0x1; // SSE missing
    assert!(fault_rule(&SimCpu::default(), &s).contains("legal XCR0"));
}

#[test]
fn miscselect_unsupported_faults() {
    let mut s = ok_secs();
    s.misc_select = MiscSelect(0x2);
    assert!(fault_rule(&SimCpu::default(), &s).contains("MISCSELECT must be supported"));
}

#[test]
fn ssaframesize_zero_faults() {
    let mut s = ok_secs();
    s.ssa_frame_size = 0;
    assert!(fault_rule(&SimCpu::default(), &s).contains("SSAFRAMESIZE"));
}

#[test]
fn ssaframesize_too_small_for_xfrm_faults() {
    let mut s = ok_secs();
    s.attributes.xfrm = 0x602E7; // AMX needs 11008 + 184 bytes: 3 pages
    s.ssa_frame_size = 2;
    assert!(fault_rule(&SimCpu::default(), &s).contains("SSAFRAMESIZE"));
    s.ssa_frame_size = 3;
    SimCpu::default().ecreate(&s).unwrap();
}

#[test]
fn configid_without_kss_faults() {
    let mut s = ok_secs();
    s.config_id = ConfigId::from_prefix(b"cfg").unwrap();
    assert!(fault_rule(&SimCpu::default(), &s).contains("ATTRIBUTES.KSS is 0"));
}

#[test]
fn configsvn_without_kss_faults() {
    let mut s = ok_secs();
    s.config_svn = 1;
    assert!(fault_rule(&SimCpu::default(), &s).contains("ATTRIBUTES.KSS is 0"));
}

#[test]
fn ecreate_clears_the_fields_hardware_sets() {
    let mut s = ok_secs();
    s.mr_enclave = [1; 32];
    s.mr_signer = [2; 32];
    s.isv_prod_id = 3;
    s.isv_svn = 4;
    let b = SimCpu::default().ecreate(&s).unwrap();
    assert_eq!(b.secs().mr_enclave, [0; 32]);
    assert_eq!(b.secs().mr_signer, [0; 32]);
    assert_eq!((b.secs().isv_prod_id, b.secs().isv_svn), (0, 0));
}

#[test]
fn ecreate_starts_the_measurement_with_the_ecreate_block() {
    // SHA-256 of the single ECREATE block of (ssa 1, size 0x2000), computed independently.
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    block[..8].copy_from_slice(b"ECREATE\0");
    block[8..12].copy_from_slice(&1u32.to_le_bytes());
    block[12..20].copy_from_slice(&0x2000u64.to_le_bytes());
    let expected: [u8; 32] = Sha256::digest(block).into();
    let b = SimCpu::default().ecreate(&ok_secs()).unwrap();
    assert_eq!(b.mr_enclave(), expected);
}
