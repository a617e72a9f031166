//! An initialized simulated enclave: EREPORT, EGETKEY and local report verification.

use super::cpu::{SimCpu, SimCpuSvn};
use super::derive::{self, Key128, PlainKeyInputs, ReportKeyInputs, SealInputs};
use crate::error::{ErrorCode, Leaf, SgxError};
use kss_types::{
    AttributeFlags, Attributes, ConfigId, CpuSvn, Id128, KeyName, KeyPolicy, KeyRequest, Report,
    ReportBody, Secs, TargetInfo,
};
use subtle::ConstantTimeEq;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A key derivation input: `value` when the key policy selects it, else `zero`.
fn zero_unless<T>(selected: bool, value: T, zero: T) -> T {
    if selected {
        value
    } else {
        zero
    }
}

/// An enclave after a successful EINIT on the simulated CPU.
#[derive(Debug, Clone)]
pub struct SimEnclave {
    cpu: SimCpu,
    secs: Secs,
    pages: u64,
}

impl SimEnclave {
    /// Wraps an already initialized SECS without any check. [`super::SimBuilder::einit`] is the
    /// normal way to get a `SimEnclave`; this constructor exists to replay a known identity
    /// (known-answer tests, tools that model a given enclave). `pages` is informational.
    pub fn from_initialized_secs(secs: Secs, cpu: SimCpu, pages: u64) -> Self {
        Self { cpu, secs, pages }
    }

    /// The SECS after EINIT (MRENCLAVE, MRSIGNER, ISV and KSS identity, INIT set).
    pub fn secs(&self) -> &Secs {
        &self.secs
    }

    /// The simulated CPU this enclave runs on.
    pub fn cpu(&self) -> &SimCpu {
        &self.cpu
    }

    /// Number of pages EADDed.
    pub fn page_count(&self) -> u64 {
        self.pages
    }

    /// The TARGETINFO naming this enclave, with its CONFIGID and CONFIGSVN.
    pub fn target_info(&self) -> TargetInfo {
        TargetInfo::for_secs(&self.secs)
    }

    /// The REPORT body EREPORT writes: the identity from the SECS, the CPU's CPUSVN and
    /// `report_data`.
    pub fn report_body(&self, report_data: &[u8; 64]) -> ReportBody {
        let s = &self.secs;
        ReportBody {
            cpu_svn: self.cpu.cpu_svn.cpu_svn(),
            misc_select: s.misc_select,
            isv_ext_prod_id: s.isv_ext_prod_id,
            attributes: s.attributes,
            mr_enclave: s.mr_enclave,
            mr_signer: s.mr_signer,
            config_id: s.config_id,
            isv_prod_id: s.isv_prod_id,
            isv_svn: s.isv_svn,
            config_svn: s.config_svn,
            isv_family_id: s.isv_family_id,
            report_data: *report_data,
            ..ReportBody::default()
        }
    }

    /// ENCLU\[EREPORT\]: a REPORT for `target`, MACed with the target's report key (derived from
    /// TARGETINFO's ATTRIBUTES, MEASUREMENT, MISCSELECT, CONFIGID and CONFIGSVN, the CPU's CPUSVN
    /// and the simulator KEYID), exactly like the Intel SDK simulator.
    pub fn ereport(&self, target: &TargetInfo, report_data: &[u8; 64]) -> Report {
        let body = self.report_body(report_data);
        let key = derive::report_key(&ReportKeyInputs {
            attributes: target.attributes,
            misc_select: target.misc_select.0,
            mr_enclave: target.measurement,
            cpu_svn: self.cpu.cpu_svn.cpu_svn(),
            config_svn: target.config_svn,
            config_id: target.config_id,
            key_id: derive::SIM_REPORT_KEY_ID,
        });
        let mac = derive::cmac128(&key, &body.to_bytes());
        Report {
            body,
            key_id: derive::SIM_REPORT_KEY_ID,
            mac: *mac,
        }
    }

    /// This enclave's own REPORT key for `key_id` (EGETKEY(REPORT) semantics).
    fn own_report_key(&self, key_id: &[u8; 32]) -> Key128 {
        derive::report_key(&ReportKeyInputs {
            attributes: self.secs.attributes,
            misc_select: self.secs.misc_select.0,
            mr_enclave: self.secs.mr_enclave,
            cpu_svn: self.cpu.cpu_svn.cpu_svn(),
            config_svn: self.secs.config_svn,
            config_id: self.secs.config_id,
            key_id: *key_id,
        })
    }

    /// Local attestation: checks that `report` was produced on this CPU for this enclave as the
    /// target, by deriving the own REPORT key with the report's KEYID and comparing the MAC in
    /// constant time.
    pub fn verify_report(&self, report: &Report) -> Result<(), SgxError> {
        let key = self.own_report_key(&report.key_id);
        let mac = derive::cmac128(&key, &report.body.to_bytes());
        if bool::from(mac.ct_eq(&report.mac)) {
            Ok(())
        } else {
            Err(SgxError::ReportMacMismatch {
                detail: format!(
                    "REPORT from MRENCLAVE {} (KEYID {}) was not made for this enclave as the \
                     target, not on this CPU, or was modified",
                    hex(&report.body.mr_enclave),
                    hex(&report.key_id)
                ),
            })
        }
    }

    /// ENCLU\[EGETKEY\] with every rule of `docs/sgx-reference.md` §7; see `docs/simulator.md`.
    pub fn egetkey(&self, req: &KeyRequest) -> Result<Key128, SgxError> {
        let name = self.check_key_request(req)?;
        let secs = &self.secs;
        let tmp_attributes = Attributes {
            flags: AttributeFlags(
                (req.attribute_mask.flags.0 | AttributeFlags::INIT.0 | AttributeFlags::DEBUG.0)
                    & secs.attributes.flags.0,
            ),
            xfrm: req.attribute_mask.xfrm & secs.attributes.xfrm,
        };
        let tmp_misc_select = req.misc_mask & secs.misc_select.0;
        match name {
            KeyName::Report => Ok(self.own_report_key(&req.key_id)),
            KeyName::Seal | KeyName::ProvisionSeal => {
                self.seal_key(name, req, tmp_attributes, tmp_misc_select)
            }
            KeyName::Provision | KeyName::EinitToken => {
                self.plain_key(name, req, tmp_attributes, tmp_misc_select)
            }
        }
    }

    /// The EGETKEY checks that come before the key name is looked at: reserved bytes and bits,
    /// KSS policies without ATTRIBUTES.KSS, then the key name itself.
    fn check_key_request(&self, req: &KeyRequest) -> Result<KeyName, SgxError> {
        let gp = |rule, detail: String| Err(SgxError::fault(Leaf::Egetkey, rule, detail));
        let fail = |code, detail: String| Err(SgxError::status(Leaf::Egetkey, code, detail));
        let secs = &self.secs;
        let policy = req.key_policy;
        if !req.reserved_is_zero() {
            return gp(
                "KEYREQUEST reserved bytes (6..8, 78..512) must be zero",
                "a reserved byte is nonzero".into(),
            );
        }
        if policy.reserved_bits() != 0 {
            return gp(
                "KEYPOLICY bits 6..15 are reserved and must be zero",
                format!("KEYPOLICY = {:#x}", policy.0),
            );
        }
        let kss = secs.attributes.flags.contains(AttributeFlags::KSS);
        if !kss && (policy.intersects(KeyPolicy::KSS_BITS) || req.config_svn > 0) {
            return gp(
                "KSS key policies (0x3C) and CONFIGSVN need ATTRIBUTES.KSS",
                format!(
                    "KEYPOLICY = {:#x} ({policy}), CONFIGSVN = {}, enclave ATTRIBUTES.KSS = 0",
                    policy.0, req.config_svn
                ),
            );
        }
        let Some(name) = KeyName::from_u16(req.key_name) else {
            return fail(
                ErrorCode::InvalidKeyName,
                format!(
                    "KEYNAME = {} (expected 0 EINITTOKEN, 1 PROVISION, 2 PROVISION_SEAL, 3 REPORT or 4 SEAL)",
                    req.key_name
                ),
            );
        };
        Ok(name)
    }

    /// SEAL and PROVISION_SEAL keys: the KSS-aware derivation, with the policy choosing which
    /// identity fields are mixed in.
    fn seal_key(
        &self,
        name: KeyName,
        req: &KeyRequest,
        tmp_attributes: Attributes,
        tmp_misc_select: u32,
    ) -> Result<Key128, SgxError> {
        let fail = |code, detail: String| Err(SgxError::status(Leaf::Egetkey, code, detail));
        let secs = &self.secs;
        let policy = req.key_policy;
        if name == KeyName::ProvisionSeal {
            self.require(AttributeFlags::PROVISION_KEY, "PROVISION_SEAL")?;
        }
        let cpu_svn = self.check_cpu_svn(&req.cpu_svn)?;
        self.check_isv_svn(req)?;
        if req.config_svn > secs.config_svn {
            return fail(
                ErrorCode::InvalidIsvSvn,
                format!(
                    "requested CONFIGSVN {} is above the enclave's CONFIGSVN {}",
                    req.config_svn, secs.config_svn
                ),
            );
        }
        let pick = |bit: KeyPolicy| policy.contains(bit);
        let inputs = SealInputs {
            key_policy: policy.0,
            tmp_attributes,
            attribute_mask: req.attribute_mask,
            tmp_misc_select,
            misc_mask: req.misc_mask,
            cpu_svn,
            isv_svn: req.isv_svn,
            isv_prod_id: zero_unless(!pick(KeyPolicy::NOISVPRODID), secs.isv_prod_id, 0),
            config_svn: zero_unless(pick(KeyPolicy::CONFIGID), req.config_svn, 0),
            config_id: zero_unless(pick(KeyPolicy::CONFIGID), secs.config_id, ConfigId::ZERO),
            isv_family_id: zero_unless(
                pick(KeyPolicy::ISVFAMILYID),
                secs.isv_family_id,
                Id128::ZERO,
            ),
            isv_ext_prod_id: zero_unless(
                pick(KeyPolicy::ISVEXTPRODID),
                secs.isv_ext_prod_id,
                Id128::ZERO,
            ),
            mr_enclave: zero_unless(pick(KeyPolicy::MRENCLAVE), secs.mr_enclave, [0; 32]),
            mr_signer: zero_unless(
                pick(KeyPolicy::MRSIGNER) || name == KeyName::ProvisionSeal,
                secs.mr_signer,
                [0; 32],
            ),
            key_id: req.key_id,
        };
        Ok(if name == KeyName::Seal {
            derive::cmac128(&derive::BASE_SEAL_KEY, &derive::seal_dd(&inputs))
        } else {
            derive::cmac128(
                &derive::BASE_PROVISION_SEAL_KEY,
                &derive::provision_seal_dd(&inputs),
            )
        })
    }

    /// PROVISION and EINITTOKEN keys: no KSS fields.
    fn plain_key(
        &self,
        name: KeyName,
        req: &KeyRequest,
        tmp_attributes: Attributes,
        tmp_misc_select: u32,
    ) -> Result<Key128, SgxError> {
        let secs = &self.secs;
        if name == KeyName::Provision {
            self.require(AttributeFlags::PROVISION_KEY, "PROVISION")?;
        } else {
            self.require(AttributeFlags::EINITTOKEN_KEY, "EINITTOKEN")?;
        }
        let cpu_svn = self.check_cpu_svn(&req.cpu_svn)?;
        self.check_isv_svn(req)?;
        let inputs = PlainKeyInputs {
            tmp_attributes,
            attribute_mask: req.attribute_mask,
            tmp_misc_select,
            misc_mask: req.misc_mask,
            cpu_svn,
            isv_svn: req.isv_svn,
            isv_prod_id: secs.isv_prod_id,
            mr_signer: secs.mr_signer,
            key_id: req.key_id,
        };
        Ok(if name == KeyName::Provision {
            derive::cmac128(&derive::BASE_PROVISION_KEY, &derive::provision_dd(&inputs))
        } else {
            derive::cmac128(
                &derive::BASE_EINITTOKEN_KEY,
                &derive::einittoken_dd(&inputs),
            )
        })
    }

    fn require(&self, flag: AttributeFlags, key: &str) -> Result<(), SgxError> {
        if self.secs.attributes.flags.contains(flag) {
            Ok(())
        } else {
            Err(SgxError::status(
                Leaf::Egetkey,
                ErrorCode::InvalidAttribute,
                format!(
                    "the {key} key needs ATTRIBUTES {flag}, enclave ATTRIBUTES.flags = {}",
                    self.secs.attributes.flags
                ),
            ))
        }
    }

    fn check_isv_svn(&self, req: &KeyRequest) -> Result<(), SgxError> {
        if req.isv_svn > self.secs.isv_svn {
            Err(SgxError::status(
                Leaf::Egetkey,
                ErrorCode::InvalidIsvSvn,
                format!(
                    "requested ISVSVN {} is above the enclave's ISVSVN {}",
                    req.isv_svn, self.secs.isv_svn
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// The SDK simulator's CPUSVN rules: an all-zero request means DEFAULT; only the three
    /// simulated values exist; a CPU can derive for its own CPUSVN and older ones.
    fn check_cpu_svn(&self, requested: &CpuSvn) -> Result<CpuSvn, SgxError> {
        let requested = if requested.0 == [0; 16] {
            SimCpuSvn::Default.cpu_svn()
        } else {
            *requested
        };
        let fail = |detail: String| {
            Err(SgxError::status(
                Leaf::Egetkey,
                ErrorCode::InvalidCpuSvn,
                detail,
            ))
        };
        let Some(mode) = SimCpuSvn::from_cpu_svn(&requested) else {
            return fail(format!(
                "requested CPUSVN {} is not one of the simulated values (default, upgraded, downgraded)",
                hex(&requested.0)
            ));
        };
        if mode > self.cpu.cpu_svn {
            return fail(format!(
                "requested CPUSVN is '{}' but the simulated CPU is '{}'",
                mode.name(),
                self.cpu.cpu_svn.name()
            ));
        }
        Ok(requested)
    }
}
