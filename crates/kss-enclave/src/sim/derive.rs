//! The Intel SDK simulator's key derivation, byte for byte (`docs/sgx-reference.md` §7.3):
//! `key = AES-128-CMAC(BASE_KEY[keyname], dd_bytes)`, where `dd_bytes` is the naturally aligned
//! (not packed) C derivation struct of that key name with zeroed padding.
//!
//! Real hardware derives keys from fused secrets with an unpublished function, so these keys
//! only match the Intel SDK simulator, never a real CPU.

use cmac::{Cmac, Mac};
use kss_types::{Attributes, ConfigId, CpuSvn, Id128};
use zeroize::Zeroizing;

/// A 128-bit key.
pub type Key128 = Zeroizing<[u8; 16]>;

/// SDK-sim base key of the SEAL key.
pub const BASE_SEAL_KEY: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
/// SDK-sim base key of the REPORT key (`ff00` × 8).
pub const BASE_REPORT_KEY: [u8; 16] = [
    0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,
];
/// SDK-sim base key of the EINITTOKEN key (`aa55` × 8).
pub const BASE_EINITTOKEN_KEY: [u8; 16] = [
    0xaa, 0x55, 0xaa, 0x55, 0xaa, 0x55, 0xaa, 0x55, 0xaa, 0x55, 0xaa, 0x55, 0xaa, 0x55, 0xaa, 0x55,
];
/// SDK-sim base key of the PROVISION key (`bbaabbeeff0000dd` × 2).
pub const BASE_PROVISION_KEY: [u8; 16] = [
    0xbb, 0xaa, 0xbb, 0xee, 0xff, 0x00, 0x00, 0xdd, 0xbb, 0xaa, 0xbb, 0xee, 0xff, 0x00, 0x00, 0xdd,
];
/// SDK-sim base key of the PROVISION_SEAL key.
pub const BASE_PROVISION_SEAL_KEY: [u8; 16] = *b"PROVISIONSEALKEY";
/// SDK-sim owner epoch.
pub const OWNER_EPOCH: [u8; 16] = *b"THISISOWNEREPOCH";

/// The KEYID that simulated EREPORT writes: the first 16 bytes of the REPORT base key, then 16
/// zero bytes.
pub const SIM_REPORT_KEY_ID: [u8; 32] = {
    let mut id = [0u8; 32];
    let mut i = 0;
    while i < 16 {
        id[i] = BASE_REPORT_KEY[i];
        i += 1;
    }
    id
};

/// AES-128-CMAC of `data` under `key`.
pub fn cmac128(key: &[u8; 16], data: &[u8]) -> Key128 {
    // A 16-byte key always fits AES-128, so `new` cannot fail.
    let mut mac = <Cmac<aes::Aes128> as cmac::digest::KeyInit>::new(key.into());
    mac.update(data);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// Writes `src` at `off` into a fixed derivation buffer (offsets are compile-time constants).
fn put<const N: usize>(dd: &mut [u8; N], off: usize, src: &[u8]) {
    dd[off..off + src.len()].copy_from_slice(src);
}

/// Identity inputs shared by the SEAL and PROVISION_SEAL derivations, already filtered by the key
/// policy (a field not selected by the policy is zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealInputs {
    /// KEYPOLICY as requested.
    pub key_policy: u16,
    /// `(ATTRIBUTEMASK | INIT | DEBUG) & SECS.ATTRIBUTES` (xfrm: `mask & SECS.xfrm`).
    pub tmp_attributes: Attributes,
    /// ATTRIBUTEMASK as requested.
    pub attribute_mask: Attributes,
    /// `MISCMASK & SECS.MISCSELECT`.
    pub tmp_misc_select: u32,
    /// MISCMASK as requested (stored inverted).
    pub misc_mask: u32,
    /// CPUSVN of the request.
    pub cpu_svn: CpuSvn,
    /// ISVSVN of the request.
    pub isv_svn: u16,
    /// SECS.ISVPRODID, or 0 with NOISVPRODID.
    pub isv_prod_id: u16,
    /// Request CONFIGSVN with the CONFIGID policy, else 0.
    pub config_svn: u16,
    /// SECS.CONFIGID with the CONFIGID policy, else 0.
    pub config_id: ConfigId,
    /// SECS ISVFAMILYID with the ISVFAMILYID policy, else 0.
    pub isv_family_id: Id128,
    /// SECS ISVEXTPRODID with the ISVEXTPRODID policy, else 0.
    pub isv_ext_prod_id: Id128,
    /// MRENCLAVE with the MRENCLAVE policy, else 0 (SEAL only).
    pub mr_enclave: [u8; 32],
    /// MRSIGNER with the MRSIGNER policy, else 0 (PROVISION_SEAL always includes it).
    pub mr_signer: [u8; 32],
    /// KEYID of the request (SEAL only).
    pub key_id: [u8; 32],
}

/// `dd_seal_key_t` (280 bytes) for key name 4.
pub fn seal_dd(i: &SealInputs) -> [u8; 280] {
    let mut dd = [0u8; 280];
    put(&mut dd, 0, &4u16.to_le_bytes());
    put(&mut dd, 2, &i.key_policy.to_le_bytes());
    put(&mut dd, 8, &i.tmp_attributes.to_bytes());
    put(&mut dd, 24, &i.attribute_mask.to_bytes());
    put(&mut dd, 40, &i.tmp_misc_select.to_le_bytes());
    put(&mut dd, 44, &(!i.misc_mask).to_le_bytes());
    put(&mut dd, 48, &OWNER_EPOCH);
    put(&mut dd, 64, &i.cpu_svn.0);
    put(&mut dd, 80, &i.isv_svn.to_le_bytes());
    put(&mut dd, 82, &i.isv_prod_id.to_le_bytes());
    put(&mut dd, 84, &i.config_svn.to_le_bytes());
    put(&mut dd, 86, &i.config_id.0);
    put(&mut dd, 150, &i.isv_family_id.0);
    put(&mut dd, 166, &i.isv_ext_prod_id.0);
    put(&mut dd, 182, &i.mr_enclave);
    put(&mut dd, 214, &i.mr_signer);
    put(&mut dd, 246, &i.key_id);
    dd
}

/// `dd_provision_seal_key_t` (200 bytes) for key name 2.
pub fn provision_seal_dd(i: &SealInputs) -> [u8; 200] {
    let mut dd = [0u8; 200];
    put(&mut dd, 0, &2u16.to_le_bytes());
    put(&mut dd, 2, &i.key_policy.to_le_bytes());
    put(&mut dd, 8, &i.tmp_attributes.to_bytes());
    put(&mut dd, 24, &i.attribute_mask.to_bytes());
    put(&mut dd, 40, &i.tmp_misc_select.to_le_bytes());
    put(&mut dd, 44, &(!i.misc_mask).to_le_bytes());
    put(&mut dd, 48, &i.cpu_svn.0);
    put(&mut dd, 64, &i.isv_svn.to_le_bytes());
    put(&mut dd, 66, &i.isv_prod_id.to_le_bytes());
    put(&mut dd, 68, &i.config_svn.to_le_bytes());
    put(&mut dd, 70, &i.config_id.0);
    put(&mut dd, 134, &i.isv_family_id.0);
    put(&mut dd, 150, &i.isv_ext_prod_id.0);
    put(&mut dd, 166, &i.mr_signer);
    dd
}

/// Inputs of the REPORT key: the target's identity (EREPORT: from TARGETINFO; EGETKEY: from the
/// enclave's own SECS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportKeyInputs {
    /// ATTRIBUTES of the target (unmasked).
    pub attributes: Attributes,
    /// MISCSELECT of the target.
    pub misc_select: u32,
    /// MRENCLAVE of the target.
    pub mr_enclave: [u8; 32],
    /// The CPU's CPUSVN.
    pub cpu_svn: CpuSvn,
    /// CONFIGSVN of the target.
    pub config_svn: u16,
    /// CONFIGID of the target.
    pub config_id: ConfigId,
    /// KEYID.
    pub key_id: [u8; 32],
}

/// `dd_report_key_t` (192 bytes) for key name 3.
pub fn report_dd(i: &ReportKeyInputs) -> [u8; 192] {
    let mut dd = [0u8; 192];
    put(&mut dd, 0, &3u16.to_le_bytes());
    put(&mut dd, 8, &i.attributes.to_bytes());
    put(&mut dd, 24, &i.misc_select.to_le_bytes());
    put(&mut dd, 28, &OWNER_EPOCH);
    put(&mut dd, 44, &i.mr_enclave);
    put(&mut dd, 76, &i.cpu_svn.0);
    put(&mut dd, 92, &i.config_svn.to_le_bytes());
    put(&mut dd, 94, &i.config_id.0);
    put(&mut dd, 158, &i.key_id);
    dd
}

/// The REPORT key for `i`.
pub fn report_key(i: &ReportKeyInputs) -> Key128 {
    cmac128(&BASE_REPORT_KEY, &report_dd(i))
}

/// Inputs of the PROVISION and EINITTOKEN keys (no KSS inputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainKeyInputs {
    /// `(ATTRIBUTEMASK | INIT | DEBUG) & SECS.ATTRIBUTES`.
    pub tmp_attributes: Attributes,
    /// ATTRIBUTEMASK as requested.
    pub attribute_mask: Attributes,
    /// `MISCMASK & SECS.MISCSELECT`.
    pub tmp_misc_select: u32,
    /// MISCMASK as requested (stored inverted).
    pub misc_mask: u32,
    /// CPUSVN of the request.
    pub cpu_svn: CpuSvn,
    /// ISVSVN of the request.
    pub isv_svn: u16,
    /// SECS.ISVPRODID.
    pub isv_prod_id: u16,
    /// SECS.MRSIGNER.
    pub mr_signer: [u8; 32],
    /// KEYID of the request (EINITTOKEN only).
    pub key_id: [u8; 32],
}

/// `dd_provision_key_t` (104 bytes) for key name 1.
pub fn provision_dd(i: &PlainKeyInputs) -> [u8; 104] {
    let mut dd = [0u8; 104];
    put(&mut dd, 0, &1u16.to_le_bytes());
    put(&mut dd, 8, &i.tmp_attributes.to_bytes());
    put(&mut dd, 24, &i.attribute_mask.to_bytes());
    put(&mut dd, 40, &i.tmp_misc_select.to_le_bytes());
    put(&mut dd, 44, &(!i.misc_mask).to_le_bytes());
    put(&mut dd, 48, &i.cpu_svn.0);
    put(&mut dd, 64, &i.isv_svn.to_le_bytes());
    put(&mut dd, 66, &i.isv_prod_id.to_le_bytes());
    put(&mut dd, 68, &i.mr_signer);
    dd
}

/// `dd_license_key_t` (128 bytes) for key name 0 (EINITTOKEN).
pub fn einittoken_dd(i: &PlainKeyInputs) -> [u8; 128] {
    let mut dd = [0u8; 128];
    put(&mut dd, 0, &0u16.to_le_bytes());
    put(&mut dd, 8, &i.tmp_attributes.to_bytes());
    put(&mut dd, 24, &i.tmp_misc_select.to_le_bytes());
    put(&mut dd, 28, &OWNER_EPOCH);
    put(&mut dd, 44, &i.cpu_svn.0);
    put(&mut dd, 60, &i.isv_svn.to_le_bytes());
    put(&mut dd, 62, &i.isv_prod_id.to_le_bytes());
    put(&mut dd, 64, &i.mr_signer);
    put(&mut dd, 96, &i.key_id);
    dd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmac_matches_rfc4493_example_2() {
        // RFC 4493 §4, Example 2: 16-byte message.
        let key: [u8; 16] = hex::decode("2b7e151628aed2a6abf7158809cf4f3c")
            .unwrap()
            .try_into()
            .unwrap();
        let msg = hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        assert_eq!(
            hex::encode(*cmac128(&key, &msg)),
            "070a16b46b4d4144f79bdd9dd04a287c"
        );
    }

    #[test]
    fn sim_report_key_id_is_ff00_then_zeros() {
        assert_eq!(
            hex::encode(SIM_REPORT_KEY_ID),
            "ff00ff00ff00ff00ff00ff00ff00ff0000000000000000000000000000000000"
        );
    }
}
