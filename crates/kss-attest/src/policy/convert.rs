//! Converters from other appraisal-policy formats to [`super::Policy`].
//!
//! - Intel DCAP Quote Appraisal (QAL) policies ([`from_intel`]): 16- and 64-byte values
//!   (`sgx_isvfamilyid`, `sgx_isvextprodid`, `sgx_configid`, `sgx_attributes`) are written as
//!   one big number, most significant byte first, i.e. the stored bytes reversed (Intel's sample
//!   `sgx_attributes` `00000000000000030000000000000005` is flags 0x5, xfrm 0x3). MRENCLAVE and
//!   MRSIGNER are hashes and are taken in stored order, like Intel's QE identity `mrsigner`.
//! - Trustee-style claims ([`from_trustee`]): flat `sgx.body.*` keys whose values are hex of the
//!   raw quote bytes (so `config_svn` `0300` is 3, little-endian).

use super::{Policy, PolicyError};
use crate::tcb::TcbStatus;
use kss_types::{AttributeFlags, ConfigId, Id128};
use serde_json::{Map, Value};

/// Intel's class ID of an SGX application enclave policy.
pub const INTEL_SGX_ENCLAVE_CLASS_ID: &str = "bef7cb8c-31aa-42c1-854c-10db005d5c41";
/// Intel's class ID of an SGX platform policy.
pub const INTEL_SGX_PLATFORM_CLASS_ID: &str = "3123ec35-8d38-4ea5-87a5-d6c48b567570";

struct Ctx<'a> {
    name: &'a str,
}

impl Ctx<'_> {
    fn bad(&self, key: &str, value: &Value, expected: &str) -> PolicyError {
        PolicyError::Value {
            source_name: self.name.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    fn hex(&self, key: &str, v: &Value) -> Result<Vec<u8>, PolicyError> {
        let s = v.as_str().ok_or_else(|| self.bad(key, v, "a hex string"))?;
        let s = s.trim();
        let s = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        hex::decode(s).map_err(|_| self.bad(key, v, "a hex string"))
    }

    fn hash(&self, key: &str, v: &Value) -> Result<[u8; 32], PolicyError> {
        let b = self.hex(key, v)?;
        <[u8; 32]>::try_from(b.as_slice()).map_err(|_| self.bad(key, v, "32 bytes of hex"))
    }

    fn hashes(&self, key: &str, v: &Value) -> Result<Vec<[u8; 32]>, PolicyError> {
        match v {
            Value::Array(a) => a.iter().map(|x| self.hash(key, x)).collect(),
            other => Ok(vec![self.hash(key, other)?]),
        }
    }

    /// A big-endian hex number of up to `N` bytes, returned in stored (little-endian) order.
    fn reversed<const N: usize>(&self, key: &str, v: &Value) -> Result<[u8; N], PolicyError> {
        let b = self.hex(key, v)?;
        if b.len() > N {
            return Err(self.bad(key, v, &format!("at most {N} bytes of hex")));
        }
        let mut out = [0u8; N];
        for (o, x) in out.iter_mut().zip(b.iter().rev()) {
            *o = *x;
        }
        Ok(out)
    }

    fn u16_num(&self, key: &str, v: &Value) -> Result<u16, PolicyError> {
        v.as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| self.bad(key, v, "an integer 0..=65535"))
    }

    /// Raw little-endian hex of a u16 (Trustee), or a plain number.
    fn u16_le(&self, key: &str, v: &Value) -> Result<u16, PolicyError> {
        if v.is_number() {
            return self.u16_num(key, v);
        }
        let b = self.hex(key, v)?;
        let arr = <[u8; 2]>::try_from(b.as_slice())
            .map_err(|_| self.bad(key, v, "2 bytes of little-endian hex, e.g. \"0300\" for 3"))?;
        Ok(u16::from_le_bytes(arr))
    }

    fn statuses(&self, key: &str, v: &Value) -> Result<Vec<TcbStatus>, PolicyError> {
        let list = v
            .as_array()
            .ok_or_else(|| self.bad(key, v, "a list of TCB status names"))?;
        list.iter()
            .map(|s| match s.as_str().map(TcbStatus::from_name) {
                Some(TcbStatus::Other(_)) | None => {
                    Err(self.bad(key, s, crate::policy::ACCEPTABLE_TCB_STATUSES))
                }
                Some(TcbStatus::Revoked) => {
                    Err(self.bad(key, s, crate::policy::REVOKED_NEVER_ACCEPTED))
                }
                Some(st) => Ok(st),
            })
            .collect()
    }
}

fn as_object<'a>(
    ctx: &Ctx<'_>,
    key: &str,
    v: &'a Value,
) -> Result<&'a Map<String, Value>, PolicyError> {
    v.as_object()
        .ok_or_else(|| ctx.bad(key, v, "a JSON object"))
}

/// Converts an Intel QAL policy (`{"policy_array": [{"environment": {"class_id": ..},
/// "reference": {..}}, ..]}`) to a kss policy. Keys starting with `#` are comments.
pub fn from_intel(text: &str, name: &str) -> Result<Policy, PolicyError> {
    let ctx = Ctx { name };
    let root: Value = serde_json::from_str(text).map_err(|source| PolicyError::Json {
        source_name: name.to_string(),
        reason: source.to_string(),
        source,
    })?;
    let entries = root
        .get("policy_array")
        .and_then(Value::as_array)
        .ok_or_else(|| ctx.bad("policy_array", &root, "a list of policies"))?;
    let mut p = Policy::default();
    for entry in entries {
        let class = entry
            .get("environment")
            .and_then(|e| e.get("class_id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let reference = as_object(
            &ctx,
            "reference",
            entry.get("reference").unwrap_or(&Value::Null),
        )?;
        let mut attributes: Option<[u8; 16]> = None;
        let mut attributes_mask: Option<[u8; 16]> = None;
        for (k, v) in reference {
            if k.starts_with('#') {
                continue;
            }
            match (class.as_str(), k.as_str()) {
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_mrenclave") => {
                    p.mr_enclave = Some(ctx.hashes(k, v)?)
                }
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_mrsigner") => p.mr_signer = Some(ctx.hashes(k, v)?),
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_isvprodid") => p.isv_prod_id = Some(ctx.u16_num(k, v)?),
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_isvsvn_min") => p.min_isv_svn = Some(ctx.u16_num(k, v)?),
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_isvfamilyid") => {
                    p.isv_family_id = Some(Id128(ctx.reversed::<16>(k, v)?))
                }
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_isvextprodid") => {
                    p.isv_ext_prod_id = Some(Id128(ctx.reversed::<16>(k, v)?))
                }
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_configid") => {
                    p.config_id = Some(ConfigId(ctx.reversed::<64>(k, v)?))
                }
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_configsvn_min") => {
                    p.min_config_svn = Some(ctx.u16_num(k, v)?)
                }
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_attributes") => attributes = Some(ctx.reversed::<16>(k, v)?),
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_attributes_mask") => {
                    attributes_mask = Some(ctx.reversed::<16>(k, v)?)
                }
                // MISCSELECT is not part of a kss policy; Intel's samples require 0 under mask.
                (INTEL_SGX_ENCLAVE_CLASS_ID, "sgx_miscselect" | "sgx_miscselect_mask") => {}
                (INTEL_SGX_PLATFORM_CLASS_ID, "accepted_tcb_status") => {
                    p.accepted_tcb_statuses = ctx.statuses(k, v)?
                }
                (INTEL_SGX_PLATFORM_CLASS_ID, "rejected_advisory_ids") => {
                    return Err(ctx.bad(
                        k,
                        v,
                        "nothing: kss policies list allowed advisories (allowed_advisory_ids), not rejected ones; convert by hand",
                    ))
                }
                (INTEL_SGX_PLATFORM_CLASS_ID, "allow_dynamic_plaform" | "allow_dynamic_platform" | "collateral_grace_period" | "platform_grace_period" | "min_eval_num" | "allow_cached_keys" | "allow_smt_enabled") => {}
                _ => {
                    return Err(ctx.bad(
                        k,
                        v,
                        "a key known for this policy class (sgx_mrenclave, sgx_mrsigner, sgx_isvprodid, sgx_isvsvn_min, sgx_isvfamilyid, sgx_isvextprodid, sgx_configid, sgx_configsvn_min, sgx_attributes(_mask), sgx_miscselect(_mask); accepted_tcb_status for platform policies)",
                    ))
                }
            }
        }
        if let Some(attrs) = attributes {
            // DEBUG is bit 1 of the flags (stored byte 0).
            let mask = attributes_mask.unwrap_or([0xff; 16]);
            let debug_bit = AttributeFlags::DEBUG.bits() as u8;
            let checked = mask[0] & debug_bit != 0;
            p.allow_debug = !checked || attrs[0] & debug_bit != 0;
        }
    }
    Ok(p)
}

/// Converts Trustee-style SGX claims (`{"sgx.body.mr_enclave": "hex" | ["hex", ..], ..}`) to a
/// kss policy. Values are hex of the raw quote bytes; `isv_svn` and `config_svn` become
/// minimums; `isv_prod_id`, `isv_svn`, `config_svn` may also be plain numbers.
pub fn from_trustee(text: &str, name: &str) -> Result<Policy, PolicyError> {
    let ctx = Ctx { name };
    let root: Value = serde_json::from_str(text).map_err(|source| PolicyError::Json {
        source_name: name.to_string(),
        reason: source.to_string(),
        source,
    })?;
    let obj = as_object(&ctx, "(top level)", &root)?;
    let mut p = Policy::default();
    for (k, v) in obj {
        let field = k.strip_prefix("sgx.body.").unwrap_or(k);
        let raw16 = |v: &Value| -> Result<Id128, PolicyError> {
            let b = ctx.hex(k, v)?;
            <[u8; 16]>::try_from(b.as_slice())
                .map(Id128)
                .map_err(|_| ctx.bad(k, v, "16 bytes of hex in quote order"))
        };
        match field {
            "mr_enclave" => p.mr_enclave = Some(ctx.hashes(k, v)?),
            "mr_signer" => p.mr_signer = Some(ctx.hashes(k, v)?),
            "isv_prod_id" => p.isv_prod_id = Some(ctx.u16_le(k, v)?),
            "isv_svn" => p.min_isv_svn = Some(ctx.u16_le(k, v)?),
            "config_svn" => p.min_config_svn = Some(ctx.u16_le(k, v)?),
            "isv_family_id" => p.isv_family_id = Some(raw16(v)?),
            "isv_ext_prod_id" => p.isv_ext_prod_id = Some(raw16(v)?),
            "config_id" => {
                let b = ctx.hex(k, v)?;
                p.config_id = Some(ConfigId::from_prefix(&b).ok_or_else(|| {
                    ctx.bad(k, v, "at most 64 bytes of hex in quote order")
                })?)
            }
            "attributes" => {
                let b = ctx.hex(k, v)?;
                let flags = b.first().copied().unwrap_or(0);
                p.allow_debug = flags & (AttributeFlags::DEBUG.bits() as u8) != 0;
            }
            _ => {
                return Err(ctx.bad(
                    k,
                    v,
                    "one of sgx.body.{mr_enclave, mr_signer, isv_prod_id, isv_svn, config_svn, isv_family_id, isv_ext_prod_id, config_id, attributes}",
                ))
            }
        }
    }
    Ok(p)
}
