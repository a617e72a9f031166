//! Appraisal policy: which enclave identities (including the KSS fields), TCB statuses and
//! collateral ages a verifier accepts.
//!
//! The JSON form (see `docs/policy.md`) has only optional keys; unknown keys are an error.
//! Byte strings are hex (case-insensitive, optional `0x`) in the order the bytes appear in
//! the REPORT body ("stored order"); they are never read as numbers. 16-byte IDs may also be
//! `{"high": "0x..", "low": "0x.."}` (Occlum / Enclave.xml style: `low` is bytes 0..8 as a
//! little-endian u64, `high` is bytes 8..16).

pub mod convert;

use crate::tcb::TcbStatus;
use crate::verify::{Check, CheckId};
use kss_types::{AttributeFlags, ConfigId, Id128, ReportBody, Sigstruct};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What a policy's TCB status lists may contain.
pub(crate) const ACCEPTABLE_TCB_STATUSES: &str = "one of UpToDate, SWHardeningNeeded, \
    ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded";

/// Why `Revoked` in a policy is an error rather than a no-op: verification rejects a revoked
/// TCB whatever the policy says, so listing it would only mislead the reader of the policy.
pub(crate) const REVOKED_NEVER_ACCEPTED: &str =
    "a status that can be accepted (Revoked never is: a revoked TCB always fails verification)";

/// The JSON form of a [`Policy`], in the key order of the policy file documentation.
#[derive(Serialize)]
struct PolicyOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    mr_enclave: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mr_signer: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    isv_prod_id: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_isv_svn: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    isv_family_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    isv_ext_prod_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_config_svn: Option<u16>,
    allow_debug: bool,
    accepted_tcb_statuses: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted_qe_tcb_statuses: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_advisory_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_collateral_age_days: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report_data_prefix: Option<String>,
}

/// The names of TCB statuses, as in a policy file.
fn status_names(v: &[TcbStatus]) -> Vec<&str> {
    v.iter().map(TcbStatus::as_str).collect()
}

/// A policy file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// JSON syntax, an unknown key or a value of the wrong type.
    #[error("policy {source_name}: {reason}")]
    Json {
        /// Which input.
        source_name: String,
        /// The parser's error in words, naming the key (unknown keys, wrong types, ranges).
        reason: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A value that does not fit its field.
    #[error("policy {source_name}: key \"{key}\": \"{value}\" is not valid: expected {expected}")]
    Value {
        /// Which input.
        source_name: String,
        /// The key.
        key: String,
        /// The value found.
        value: String,
        /// What was expected.
        expected: String,
    },
}

/// A 16-byte ID as written in a policy: hex bytes or `{high, low}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum IdSpec {
    Hex(String),
    HighLow { high: NumSpec, low: NumSpec },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum NumSpec {
    Num(u64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    mr_enclave: Option<Vec<String>>,
    mr_signer: Option<Vec<String>>,
    isv_prod_id: Option<u16>,
    min_isv_svn: Option<u16>,
    isv_family_id: Option<IdSpec>,
    isv_ext_prod_id: Option<IdSpec>,
    config_id: Option<String>,
    min_config_svn: Option<u16>,
    #[serde(default)]
    allow_debug: bool,
    accepted_tcb_statuses: Option<Vec<String>>,
    accepted_qe_tcb_statuses: Option<Vec<String>>,
    allowed_advisory_ids: Option<Vec<String>>,
    max_collateral_age_days: Option<u64>,
    report_data_prefix: Option<String>,
}

/// An appraisal policy. `Policy::default()` accepts any enclave identity that is not a debug
/// enclave, on an `UpToDate` platform. Build one with the `with_*` methods or from JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Accepted MRENCLAVE values (any of them); `None`: not checked.
    pub mr_enclave: Option<Vec<[u8; 32]>>,
    /// Accepted MRSIGNER values; `None`: not checked.
    pub mr_signer: Option<Vec<[u8; 32]>>,
    /// Required ISVPRODID.
    pub isv_prod_id: Option<u16>,
    /// Minimum ISVSVN.
    pub min_isv_svn: Option<u16>,
    /// Required ISVFAMILYID (KSS).
    pub isv_family_id: Option<Id128>,
    /// Required ISVEXTPRODID (KSS).
    pub isv_ext_prod_id: Option<Id128>,
    /// Required CONFIGID (KSS), exact 64 bytes.
    pub config_id: Option<ConfigId>,
    /// Minimum CONFIGSVN (KSS).
    pub min_config_svn: Option<u16>,
    /// Accept enclaves with the DEBUG attribute (default false).
    pub allow_debug: bool,
    /// Accepted final TCB statuses (default `[UpToDate]`).
    pub accepted_tcb_statuses: Vec<TcbStatus>,
    /// Accepted QE TCB statuses; `None`: not checked separately (the final status already
    /// reflects an out-of-date QE).
    pub accepted_qe_tcb_statuses: Option<Vec<TcbStatus>>,
    /// When set, every advisory ID of the verdict must be in this list.
    pub allowed_advisory_ids: Option<Vec<String>>,
    /// Maximum age of the oldest collateral piece (now − oldest issue date), in days.
    pub max_collateral_age_days: Option<u64>,
    /// Required first bytes of REPORTDATA (1 to 64 bytes), e.g. a protocol tag or a key hash.
    pub report_data_prefix: Option<Vec<u8>>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mr_enclave: None,
            mr_signer: None,
            isv_prod_id: None,
            min_isv_svn: None,
            isv_family_id: None,
            isv_ext_prod_id: None,
            config_id: None,
            min_config_svn: None,
            allow_debug: false,
            accepted_tcb_statuses: vec![TcbStatus::UpToDate],
            accepted_qe_tcb_statuses: None,
            allowed_advisory_ids: None,
            max_collateral_age_days: None,
            report_data_prefix: None,
        }
    }
}

/// What the policy is evaluated on besides the report body.
#[derive(Debug, Clone, Copy)]
pub struct TcbFacts<'a> {
    /// Final TCB status, if verification got that far.
    pub tcb_status: Option<&'a TcbStatus>,
    /// Advisory IDs of the verdict.
    pub advisory_ids: &'a [String],
    /// QE TCB status.
    pub qe_tcb_status: Option<&'a TcbStatus>,
    /// Oldest collateral issue time (Unix seconds).
    pub collateral_oldest_issue: Option<u64>,
    /// Verification time (Unix seconds).
    pub at: u64,
}

fn strip_0x(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t)
}

impl Policy {
    /// Parses a policy JSON document; `source_name` names it in errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile = serde_json::from_str(text).map_err(|source| PolicyError::Json {
            source_name: source_name.to_string(),
            reason: json_reason(text, &source),
            source,
        })?;
        let bad = |key: &str, value: &str, expected: &str| PolicyError::Value {
            source_name: source_name.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        };
        let hash_list = |key: &str, v: &Option<Vec<String>>| {
            v.as_ref()
                .map(|list| {
                    list.iter()
                        .map(|h| {
                            hex::decode(strip_0x(h))
                                .ok()
                                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                                .ok_or_else(|| bad(key, h, "32 bytes of hex"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
        };
        let id = |key: &str, v: &Option<IdSpec>| -> Result<Option<Id128>, PolicyError> {
            v.as_ref()
                .map(|spec| parse_id(spec).ok_or_else(|| bad(key, &format!("{spec:?}"), "16 bytes of hex in stored order, or {\"high\": \"0x..\", \"low\": \"0x..\"} with 64-bit values")))
                .transpose()
        };
        let statuses = |key: &str, v: &Option<Vec<String>>| {
            v.as_ref()
                .map(|list| {
                    list.iter()
                        .map(|s| match TcbStatus::from_name(s) {
                            TcbStatus::Other(_) => Err(bad(key, s, ACCEPTABLE_TCB_STATUSES)),
                            TcbStatus::Revoked => Err(bad(key, s, REVOKED_NEVER_ACCEPTED)),
                            st => Ok(st),
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
        };
        let config_id = file
            .config_id
            .as_ref()
            .map(|h| {
                hex::decode(strip_0x(h))
                    .ok()
                    .filter(|b| !b.is_empty())
                    .and_then(|b| ConfigId::from_prefix(&b))
                    .ok_or_else(|| {
                        bad(
                            "config_id",
                            h,
                            "1 to 64 bytes of hex (shorter values are zero-padded on the right)",
                        )
                    })
            })
            .transpose()?;
        let report_data_prefix = file
            .report_data_prefix
            .as_ref()
            .map(|h| {
                hex::decode(strip_0x(h))
                    .ok()
                    .filter(|b| !b.is_empty() && b.len() <= 64)
                    .ok_or_else(|| bad("report_data_prefix", h, "1 to 64 bytes of hex"))
            })
            .transpose()?;
        Ok(Self {
            mr_enclave: hash_list("mr_enclave", &file.mr_enclave)?,
            mr_signer: hash_list("mr_signer", &file.mr_signer)?,
            isv_prod_id: file.isv_prod_id,
            min_isv_svn: file.min_isv_svn,
            isv_family_id: id("isv_family_id", &file.isv_family_id)?,
            isv_ext_prod_id: id("isv_ext_prod_id", &file.isv_ext_prod_id)?,
            config_id,
            min_config_svn: file.min_config_svn,
            allow_debug: file.allow_debug,
            accepted_tcb_statuses: statuses("accepted_tcb_statuses", &file.accepted_tcb_statuses)?
                .unwrap_or_else(|| vec![TcbStatus::UpToDate]),
            accepted_qe_tcb_statuses: statuses(
                "accepted_qe_tcb_statuses",
                &file.accepted_qe_tcb_statuses,
            )?,
            allowed_advisory_ids: file.allowed_advisory_ids,
            max_collateral_age_days: file.max_collateral_age_days,
            report_data_prefix,
        })
    }

    /// The JSON form (every set key; byte strings as lowercase hex in stored order).
    pub fn to_json(&self) -> Value {
        let hexes = |v: &Vec<[u8; 32]>| v.iter().map(hex::encode).collect();
        let out = PolicyOut {
            mr_enclave: self.mr_enclave.as_ref().map(hexes),
            mr_signer: self.mr_signer.as_ref().map(hexes),
            isv_prod_id: self.isv_prod_id,
            min_isv_svn: self.min_isv_svn,
            isv_family_id: self.isv_family_id.as_ref().map(|v| hex::encode(v.0)),
            isv_ext_prod_id: self.isv_ext_prod_id.as_ref().map(|v| hex::encode(v.0)),
            config_id: self.config_id.as_ref().map(|v| hex::encode(v.0)),
            min_config_svn: self.min_config_svn,
            allow_debug: self.allow_debug,
            accepted_tcb_statuses: status_names(&self.accepted_tcb_statuses),
            accepted_qe_tcb_statuses: self.accepted_qe_tcb_statuses.as_deref().map(status_names),
            allowed_advisory_ids: self.allowed_advisory_ids.as_deref(),
            max_collateral_age_days: self.max_collateral_age_days,
            report_data_prefix: self.report_data_prefix.as_ref().map(hex::encode),
        };
        serde_json::to_value(out).unwrap_or(Value::Null)
    }

    /// A starting policy for the enclave a SIGSTRUCT signs: MRENCLAVE = ENCLAVEHASH,
    /// MRSIGNER = SHA-256 of the modulus (little-endian bytes), ISVPRODID, minimum ISVSVN, and
    /// the family / extended product IDs when the SIGSTRUCT sets the KSS attribute.
    pub fn from_sigstruct(sig: &Sigstruct) -> Self {
        let kss = sig.attributes.flags.contains(AttributeFlags::KSS);
        let mut p = Self::default()
            .with_mr_enclave(sig.enclave_hash)
            .with_mr_signer(Sha256::digest(sig.modulus).into())
            .with_isv_prod_id(sig.isv_prod_id)
            .with_min_isv_svn(sig.isv_svn);
        if kss {
            p.isv_family_id = Some(sig.isv_family_id);
            p.isv_ext_prod_id = Some(sig.isv_ext_prod_id);
        }
        p
    }

    /// Adds an accepted MRENCLAVE.
    pub fn with_mr_enclave(mut self, v: [u8; 32]) -> Self {
        self.mr_enclave.get_or_insert_with(Vec::new).push(v);
        self
    }

    /// Adds an accepted MRSIGNER.
    pub fn with_mr_signer(mut self, v: [u8; 32]) -> Self {
        self.mr_signer.get_or_insert_with(Vec::new).push(v);
        self
    }

    /// Requires this ISVPRODID.
    pub fn with_isv_prod_id(mut self, v: u16) -> Self {
        self.isv_prod_id = Some(v);
        self
    }

    /// Requires ISVSVN ≥ `v`.
    pub fn with_min_isv_svn(mut self, v: u16) -> Self {
        self.min_isv_svn = Some(v);
        self
    }

    /// Requires this ISVFAMILYID.
    pub fn with_isv_family_id(mut self, v: Id128) -> Self {
        self.isv_family_id = Some(v);
        self
    }

    /// Requires this ISVEXTPRODID.
    pub fn with_isv_ext_prod_id(mut self, v: Id128) -> Self {
        self.isv_ext_prod_id = Some(v);
        self
    }

    /// Requires this CONFIGID.
    pub fn with_config_id(mut self, v: ConfigId) -> Self {
        self.config_id = Some(v);
        self
    }

    /// Requires CONFIGSVN ≥ `v`.
    pub fn with_min_config_svn(mut self, v: u16) -> Self {
        self.min_config_svn = Some(v);
        self
    }

    /// Accepts (or not) debug enclaves.
    pub fn with_allow_debug(mut self, v: bool) -> Self {
        self.allow_debug = v;
        self
    }

    /// Replaces the accepted TCB statuses.
    pub fn with_accepted_tcb_statuses(mut self, v: Vec<TcbStatus>) -> Self {
        self.accepted_tcb_statuses = v;
        self
    }

    /// Restricts advisory IDs to this list.
    pub fn with_allowed_advisory_ids(mut self, v: Vec<String>) -> Self {
        self.allowed_advisory_ids = Some(v);
        self
    }

    /// Requires REPORTDATA to start with `v` (at most 64 bytes).
    pub fn with_report_data_prefix(mut self, v: Vec<u8>) -> Self {
        self.report_data_prefix = Some(v);
        self
    }

    /// Bounds the collateral age.
    pub fn with_max_collateral_age_days(mut self, v: u64) -> Self {
        self.max_collateral_age_days = Some(v);
        self
    }

    /// Evaluates the identity part of the policy (everything but TCB status and collateral
    /// age) on a report body. Check names start with `policy.`.
    pub fn evaluate_identity(&self, r: &ReportBody) -> Vec<Check> {
        let mut out = Vec::new();
        let debug = r.attributes.flags.contains(AttributeFlags::DEBUG);
        out.push(if !debug {
            Check::pass(CheckId::PolicyDebug, "not a debug enclave")
        } else if self.allow_debug {
            Check::pass(
                CheckId::PolicyDebug,
                "debug enclave, accepted because the policy sets allow_debug",
            )
        } else {
            Check::fail(
                CheckId::PolicyDebug,
                "debug enclave (ATTRIBUTES.DEBUG set): its memory can be read by the host; set allow_debug to accept",
            )
        });
        if let Some(list) = &self.mr_enclave {
            out.push(one_of(
                CheckId::PolicyMrEnclave,
                "MRENCLAVE",
                &r.mr_enclave,
                list,
            ));
        }
        if let Some(list) = &self.mr_signer {
            out.push(one_of(
                CheckId::PolicyMrSigner,
                "MRSIGNER",
                &r.mr_signer,
                list,
            ));
        }
        if let Some(v) = self.isv_prod_id {
            out.push(Check::from_bool(
                CheckId::PolicyIsvProdId,
                r.isv_prod_id == v,
                format!("ISVPRODID is {}, policy requires {v}", r.isv_prod_id),
            ));
        }
        if let Some(v) = self.min_isv_svn {
            out.push(Check::from_bool(
                CheckId::PolicyIsvSvn,
                r.isv_svn >= v,
                format!("ISVSVN is {}, policy requires at least {v}", r.isv_svn),
            ));
        }
        if let Some(v) = &self.isv_family_id {
            out.push(Check::from_bool(
                CheckId::PolicyIsvFamilyId,
                r.isv_family_id == *v,
                format!(
                    "ISVFAMILYID is {}, policy requires {}",
                    hex::encode(r.isv_family_id.0),
                    hex::encode(v.0)
                ),
            ));
        }
        if let Some(v) = &self.isv_ext_prod_id {
            out.push(Check::from_bool(
                CheckId::PolicyIsvExtProdId,
                r.isv_ext_prod_id == *v,
                format!(
                    "ISVEXTPRODID is {}, policy requires {}",
                    hex::encode(r.isv_ext_prod_id.0),
                    hex::encode(v.0)
                ),
            ));
        }
        if let Some(v) = &self.config_id {
            out.push(Check::from_bool(
                CheckId::PolicyConfigId,
                r.config_id == *v,
                format!(
                    "CONFIGID is {}, policy requires {}",
                    hex::encode(r.config_id.0),
                    hex::encode(v.0)
                ),
            ));
        }
        if let Some(v) = self.min_config_svn {
            out.push(Check::from_bool(
                CheckId::PolicyConfigSvn,
                r.config_svn >= v,
                format!(
                    "CONFIGSVN is {}, policy requires at least {v}",
                    r.config_svn
                ),
            ));
        }
        if let Some(p) = &self.report_data_prefix {
            out.push(Check::from_bool(
                CheckId::PolicyReportDataPrefix,
                r.report_data.starts_with(p),
                format!(
                    "REPORTDATA starts with {}, policy requires {}",
                    hex::encode(&r.report_data[..p.len().min(64)]),
                    hex::encode(p)
                ),
            ));
        }
        out
    }

    /// Evaluates the TCB part: accepted statuses, advisory IDs and collateral age.
    pub fn evaluate_tcb(&self, t: &TcbFacts<'_>) -> Vec<Check> {
        let mut out = Vec::new();
        let names = |v: &[TcbStatus]| {
            v.iter()
                .map(|s| s.as_str().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(match t.tcb_status {
            Some(s) => Check::from_bool(
                CheckId::PolicyTcbStatus,
                self.accepted_tcb_statuses.contains(s),
                format!(
                    "TCB status is {s}, policy accepts [{}]",
                    names(&self.accepted_tcb_statuses)
                ),
            ),
            None => Check::skip(CheckId::PolicyTcbStatus, "no TCB status was established"),
        });
        if let Some(acc) = &self.accepted_qe_tcb_statuses {
            out.push(match t.qe_tcb_status {
                Some(s) => Check::from_bool(
                    CheckId::PolicyQeTcbStatus,
                    acc.contains(s),
                    format!("QE TCB status is {s}, policy accepts [{}]", names(acc)),
                ),
                None => Check::skip(
                    CheckId::PolicyQeTcbStatus,
                    "no QE TCB status was established",
                ),
            });
        }
        if let Some(allowed) = &self.allowed_advisory_ids {
            let outside: Vec<&String> = t
                .advisory_ids
                .iter()
                .filter(|a| !allowed.iter().any(|x| x.eq_ignore_ascii_case(a)))
                .collect();
            out.push(if outside.is_empty() {
                Check::pass(
                    CheckId::PolicyAdvisoryIds,
                    format!("all advisories {:?} are allowed", t.advisory_ids),
                )
            } else {
                Check::fail(
                    CheckId::PolicyAdvisoryIds,
                    format!("advisories {outside:?} are not in the policy's allowed_advisory_ids"),
                )
            });
        }
        if let Some(days) = self.max_collateral_age_days {
            out.push(match t.collateral_oldest_issue {
                Some(issued) => {
                    let age = t.at.saturating_sub(issued);
                    Check::from_bool(
                        CheckId::PolicyCollateralAge,
                        age <= days.saturating_mul(86_400),
                        format!(
                            "oldest collateral was issued {} days ago ({}), policy allows at most {days} days",
                            age / 86_400,
                            crate::dcap_time::format_rfc3339(issued)
                        ),
                    )
                }
                None => Check::skip(CheckId::PolicyCollateralAge, "collateral issue dates unknown"),
            });
        }
        out
    }
}

/// Names the key of a type or range error: all keys are optional, so the first key that fails
/// alone is the culprit. Syntax errors and unknown keys keep serde's text (which names them).
fn json_reason(text: &str, e: &serde_json::Error) -> String {
    if e.classify() != serde_json::error::Category::Data {
        return e.to_string();
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return e.to_string();
    };
    for (k, v) in map {
        let mut one = Map::new();
        one.insert(k.clone(), v);
        if let Err(err) = serde_json::from_value::<PolicyFile>(Value::Object(one)) {
            let msg = err.to_string();
            if msg.starts_with("unknown field") {
                return e.to_string();
            }
            return format!("key \"{k}\": {}", crate::serde_words::in_words(&msg));
        }
    }
    e.to_string()
}

fn one_of(name: CheckId, field: &str, v: &[u8; 32], list: &[[u8; 32]]) -> Check {
    Check::from_bool(
        name,
        list.contains(v),
        format!(
            "{field} is {}, policy accepts [{}]",
            hex::encode(v),
            list.iter().map(hex::encode).collect::<Vec<_>>().join(", ")
        ),
    )
}

fn parse_num(n: &NumSpec) -> Option<u64> {
    match n {
        NumSpec::Num(v) => Some(*v),
        NumSpec::Text(t) => {
            let t = t.trim();
            match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => t.parse().ok(),
            }
        }
    }
}

fn parse_id(spec: &IdSpec) -> Option<Id128> {
    match spec {
        IdSpec::Hex(h) => hex::decode(strip_0x(h))
            .ok()
            .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
            .map(Id128),
        IdSpec::HighLow { high, low } => {
            Some(Id128::from_high_low(parse_num(high)?, parse_num(low)?))
        }
    }
}
