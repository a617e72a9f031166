//! A compact, independent model of the Intel SDK simulation-mode EGETKEY for SEAL keys
//! (`docs/sgx-reference.md` §7.3, `dd_seal_key_t`), used as the test [`KeySource`].
#![allow(dead_code)]

use aes::Aes128;
use cmac::{Cmac, Mac};
use kss_seal::{KeySource, KeySourceError};
use kss_types::{Attributes, ConfigId, CpuSvn, Id128, KeyPolicy, KeyRequest, ReportBody};
use zeroize::Zeroizing;

/// SDK-sim BASE_SEAL_KEY.
pub const SEAL_BASE_KEY: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
/// SDK-sim owner epoch.
pub const OWNER_EPOCH: &[u8; 16] = b"THISISOWNEREPOCH";

pub fn hex16(s: &str) -> [u8; 16] {
    hex::decode(s).unwrap().try_into().unwrap()
}

pub fn cpusvn_default() -> CpuSvn {
    CpuSvn(hex16("4820f3376ae6b2f2034d3b7a4b48a778"))
}
pub fn cpusvn_upgraded() -> CpuSvn {
    CpuSvn(hex16("5339ae8c93ae8f3ce432db924d0f0733"))
}
pub fn cpusvn_downgraded() -> CpuSvn {
    CpuSvn(hex16("64ea4f3fa0030c36383c322d4f3a8d4f"))
}

/// One simulated enclave: its identity (what its SECS holds) on a platform whose CPUSVN is
/// `identity.cpu_svn`.
#[derive(Clone, Debug)]
pub struct SimEnclave {
    pub identity: ReportBody,
}

impl SimEnclave {
    /// The KAT enclave of `docs/sgx-reference.md` §7.4: flags 0x87, xfrm 3, MRENCLAVE 0x11..,
    /// MRSIGNER 0x22.., ISVPRODID 0x1234, ISVSVN 5, CONFIGID 0..63, CONFIGSVN 7, family 0xAA..,
    /// extprod 0xBB...
    pub fn kat() -> Self {
        let mut config_id = [0u8; 64];
        for (i, b) in config_id.iter_mut().enumerate() {
            *b = i as u8;
        }
        Self {
            identity: ReportBody {
                cpu_svn: cpusvn_default(),
                attributes: Attributes::new(0x87, 0x3),
                mr_enclave: [0x11; 32],
                mr_signer: [0x22; 32],
                isv_prod_id: 0x1234,
                isv_svn: 5,
                config_id: ConfigId(config_id),
                config_svn: 7,
                isv_family_id: Id128([0xAA; 16]),
                isv_ext_prod_id: Id128([0xBB; 16]),
                ..ReportBody::default()
            },
        }
    }

    /// A non-KSS enclave (flags 0x7, no KSS fields).
    pub fn non_kss() -> Self {
        Self {
            identity: ReportBody {
                cpu_svn: cpusvn_default(),
                attributes: Attributes::new(0x07, 0x3),
                mr_enclave: [0x33; 32],
                mr_signer: [0x22; 32],
                isv_prod_id: 1,
                isv_svn: 2,
                ..ReportBody::default()
            },
        }
    }

    pub fn with(mut self, f: impl FnOnce(&mut ReportBody)) -> Self {
        f(&mut self.identity);
        self
    }
}

fn is_zero(b: &[u8]) -> bool {
    b.iter().all(|x| *x == 0)
}

fn put(dd: &mut [u8], off: usize, src: &[u8]) {
    dd[off..off + src.len()].copy_from_slice(src);
}

impl KeySource for SimEnclave {
    fn self_report(&self) -> Result<ReportBody, KeySourceError> {
        Ok(self.identity.clone())
    }

    fn get_key(&self, req: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeySourceError> {
        let secs = &self.identity;
        let gp = |reason: &str| KeySourceError::InvalidRequest {
            reason: reason.to_string(),
        };
        if req.reserved1 != 0 || !is_zero(&req.reserved2) {
            return Err(gp("reserved bytes"));
        }
        if req.key_policy.0 & !0x3F != 0 {
            return Err(gp("reserved policy bits"));
        }
        let kss = secs.attributes.flags.0 & 0x80 != 0;
        if !kss && (req.key_policy.0 & 0x3C != 0 || req.config_svn > 0) {
            return Err(gp("KSS gate"));
        }
        if req.key_name != 4 {
            return Err(KeySourceError::InvalidKeyName {
                key_name: req.key_name,
            });
        }
        // CPUSVN rules of SDK-sim.
        let mut cpu = req.cpu_svn;
        if is_zero(&cpu.0) {
            cpu = cpusvn_default();
        }
        let platform = secs.cpu_svn;
        let known = [cpusvn_default(), cpusvn_upgraded(), cpusvn_downgraded()];
        if !known.contains(&cpu)
            || (platform == cpusvn_default() && cpu == cpusvn_upgraded())
            || (platform == cpusvn_downgraded() && cpu != cpusvn_downgraded())
        {
            return Err(KeySourceError::InvalidCpuSvn);
        }
        if req.isv_svn > secs.isv_svn || req.config_svn > secs.config_svn {
            return Err(KeySourceError::InvalidIsvSvn);
        }
        let p = req.key_policy;
        let mut dd = [0u8; 280];
        put(&mut dd, 0, &req.key_name.to_le_bytes());
        put(&mut dd, 2, &p.0.to_le_bytes());
        let tmp_flags = (req.attribute_mask.flags.0 | 0x3) & secs.attributes.flags.0;
        let tmp_xfrm = req.attribute_mask.xfrm & secs.attributes.xfrm;
        put(&mut dd, 8, &tmp_flags.to_le_bytes());
        put(&mut dd, 16, &tmp_xfrm.to_le_bytes());
        put(&mut dd, 24, &req.attribute_mask.flags.0.to_le_bytes());
        put(&mut dd, 32, &req.attribute_mask.xfrm.to_le_bytes());
        put(
            &mut dd,
            40,
            &(req.misc_mask & secs.misc_select.0).to_le_bytes(),
        );
        put(&mut dd, 44, &(!req.misc_mask).to_le_bytes());
        put(&mut dd, 48, OWNER_EPOCH);
        put(&mut dd, 64, &cpu.0);
        put(&mut dd, 80, &req.isv_svn.to_le_bytes());
        if !p.contains(KeyPolicy::NOISVPRODID) {
            put(&mut dd, 82, &secs.isv_prod_id.to_le_bytes());
        }
        if p.contains(KeyPolicy::CONFIGID) {
            put(&mut dd, 84, &req.config_svn.to_le_bytes());
            put(&mut dd, 86, &secs.config_id.0);
        }
        if p.contains(KeyPolicy::ISVFAMILYID) {
            put(&mut dd, 150, &secs.isv_family_id.0);
        }
        if p.contains(KeyPolicy::ISVEXTPRODID) {
            put(&mut dd, 166, &secs.isv_ext_prod_id.0);
        }
        if p.contains(KeyPolicy::MRENCLAVE) {
            put(&mut dd, 182, &secs.mr_enclave);
        }
        if p.contains(KeyPolicy::MRSIGNER) {
            put(&mut dd, 214, &secs.mr_signer);
        }
        put(&mut dd, 246, &req.key_id);
        let mut mac = <Cmac<Aes128> as Mac>::new_from_slice(&SEAL_BASE_KEY).unwrap();
        mac.update(&dd);
        let mut key = Zeroizing::new([0u8; 16]);
        key.copy_from_slice(&mac.finalize().into_bytes());
        Ok(key)
    }
}
