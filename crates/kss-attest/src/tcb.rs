//! Intel TCB info (v2 and v3) and QE identity (v2) models, TCB level matching and the QVL rule
//! that combines the platform and QE statuses.

use crate::dcap_time::parse_rfc3339;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// A TCB status as Intel names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcbStatus {
    /// The platform is patched.
    UpToDate,
    /// Patched, but software hardening is needed in the enclave.
    SWHardeningNeeded,
    /// Patched, but the platform configuration must change.
    ConfigurationNeeded,
    /// Both of the above.
    ConfigurationAndSWHardeningNeeded,
    /// Missing security updates.
    OutOfDate,
    /// Missing updates and the configuration must change.
    OutOfDateConfigurationNeeded,
    /// Revoked: never acceptable.
    Revoked,
    /// A status this verifier does not know.
    Other(String),
}

impl TcbStatus {
    /// Intel's name for the status.
    pub fn as_str(&self) -> &str {
        match self {
            Self::UpToDate => "UpToDate",
            Self::SWHardeningNeeded => "SWHardeningNeeded",
            Self::ConfigurationNeeded => "ConfigurationNeeded",
            Self::ConfigurationAndSWHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            Self::OutOfDate => "OutOfDate",
            Self::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            Self::Revoked => "Revoked",
            Self::Other(s) => s,
        }
    }

    /// Reads Intel's name (unknown names become [`TcbStatus::Other`]).
    pub fn from_name(s: &str) -> Self {
        match s {
            "UpToDate" => Self::UpToDate,
            "SWHardeningNeeded" => Self::SWHardeningNeeded,
            "ConfigurationNeeded" => Self::ConfigurationNeeded,
            "ConfigurationAndSWHardeningNeeded" => Self::ConfigurationAndSWHardeningNeeded,
            "OutOfDate" => Self::OutOfDate,
            "OutOfDateConfigurationNeeded" => Self::OutOfDateConfigurationNeeded,
            "Revoked" => Self::Revoked,
            other => Self::Other(other.to_string()),
        }
    }

    /// Combines the platform status (`self`) with the QE status like Intel QVL's
    /// `convergeTcbStatus`: only an `OutOfDate` or `Revoked` QE changes the platform status.
    pub fn converge_with_qe(&self, qe: &TcbStatus) -> TcbStatus {
        use TcbStatus::*;
        match (qe, self) {
            (Revoked, _) => Revoked,
            (OutOfDate, UpToDate | SWHardeningNeeded) => OutOfDate,
            (OutOfDate, ConfigurationNeeded | ConfigurationAndSWHardeningNeeded) => {
                OutOfDateConfigurationNeeded
            }
            _ => self.clone(),
        }
    }
}

impl fmt::Display for TcbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TcbStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        Ok(Self::from_name(&s))
    }
}

/// Borrowed JSON text (owned only when it contains escapes).
type Text<'a> = Cow<'a, str>;

/// A v3 `sgxtcbcomponents` array read straight into its 16 SVNs (other keys of the component
/// objects, `category` and `type`, are skipped); `count` is how many entries there were.
struct SvnList {
    svns: [u8; 16],
    count: usize,
}

impl<'de> Deserialize<'de> for SvnList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Component {
            svn: u8,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SvnList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of {\"svn\": n} objects")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<SvnList, A::Error> {
                let mut out = SvnList {
                    svns: [0; 16],
                    count: 0,
                };
                while let Some(c) = seq.next_element::<Component>()? {
                    if let Some(slot) = out.svns.get_mut(out.count) {
                        *slot = c.svn;
                    }
                    out.count += 1;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

/// A malformed TCB info or QE identity.
#[derive(Debug, thiserror::Error)]
pub enum TcbError {
    /// JSON syntax or shape.
    #[error("{what}: {source}")]
    Json {
        /// Which input.
        what: &'static str,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A field with a wrong value.
    #[error("{what}: field \"{field}\" is \"{value}\", expected {expected}")]
    Field {
        /// Which input.
        what: &'static str,
        /// The JSON field.
        field: &'static str,
        /// What was found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// An SGX platform TCB: 16 component SVNs and the PCE SVN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformTcb {
    /// SGX TCB component SVNs (CPUSVN bytes as the PCK certificate lists them).
    pub sgx_components: [u8; 16],
    /// PCE SVN.
    pub pce_svn: u16,
}

impl PlatformTcb {
    /// True when every component of `self` is at least the level's, and the PCE SVN too.
    pub fn meets(&self, level: &PlatformTcb) -> bool {
        self.sgx_components
            .iter()
            .zip(level.sgx_components.iter())
            .all(|(a, b)| a >= b)
            && self.pce_svn >= level.pce_svn
    }
}

/// One TCB level of a TCB info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcbLevel {
    /// Minimum SVNs of the level.
    pub tcb: PlatformTcb,
    /// tcbDate, Unix seconds.
    pub tcb_date: u64,
    /// Status of platforms at this level.
    pub status: TcbStatus,
    /// Intel security advisories that apply (v3 only; empty in v2).
    pub advisory_ids: Vec<String>,
}

/// A parsed SGX TCB info (v2 or v3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcbInfo {
    /// `id` ("SGX"; absent in v2).
    pub id: Option<String>,
    /// 2 or 3.
    pub version: u32,
    /// issueDate, Unix seconds.
    pub issue_date: u64,
    /// nextUpdate, Unix seconds.
    pub next_update: u64,
    /// FMSPC (6 bytes).
    pub fmspc: [u8; 6],
    /// PCEID (2 bytes, as written: big-endian hex).
    pub pce_id: [u8; 2],
    /// tcbType (0).
    pub tcb_type: u32,
    /// tcbEvaluationDataNumber.
    pub tcb_evaluation_data_number: u32,
    /// Levels in Intel's order (best first).
    pub levels: Vec<TcbLevel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTcbInfo<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    version: u32,
    #[serde(borrow)]
    issue_date: Text<'a>,
    #[serde(borrow)]
    next_update: Text<'a>,
    #[serde(borrow)]
    fmspc: Text<'a>,
    #[serde(borrow)]
    pce_id: Text<'a>,
    #[serde(default)]
    tcb_type: u32,
    #[serde(default)]
    tcb_evaluation_data_number: u32,
    #[serde(borrow)]
    tcb_levels: Vec<RawTcbLevel<'a>>,
}

/// A level's `tcb` object: v3 `sgxtcbcomponents` or v2 `sgxtcbcompNNsvn` keys.
#[derive(Deserialize)]
struct RawTcb {
    sgxtcbcomponents: Option<SvnList>,
    pcesvn: Option<u16>,
    sgxtcbcomp01svn: Option<u8>,
    sgxtcbcomp02svn: Option<u8>,
    sgxtcbcomp03svn: Option<u8>,
    sgxtcbcomp04svn: Option<u8>,
    sgxtcbcomp05svn: Option<u8>,
    sgxtcbcomp06svn: Option<u8>,
    sgxtcbcomp07svn: Option<u8>,
    sgxtcbcomp08svn: Option<u8>,
    sgxtcbcomp09svn: Option<u8>,
    sgxtcbcomp10svn: Option<u8>,
    sgxtcbcomp11svn: Option<u8>,
    sgxtcbcomp12svn: Option<u8>,
    sgxtcbcomp13svn: Option<u8>,
    sgxtcbcomp14svn: Option<u8>,
    sgxtcbcomp15svn: Option<u8>,
    sgxtcbcomp16svn: Option<u8>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTcbLevel<'a> {
    tcb: RawTcb,
    #[serde(borrow)]
    tcb_date: Text<'a>,
    tcb_status: TcbStatus,
    #[serde(rename = "advisoryIDs", default)]
    advisory_ids: Vec<String>,
}

fn hex_array<const N: usize>(
    what: &'static str,
    field: &'static str,
    s: &str,
    expected: &'static str,
) -> Result<[u8; N], TcbError> {
    let bad = || TcbError::Field {
        what,
        field,
        value: s.to_string(),
        expected,
    };
    let v = hex::decode(s).map_err(|_| bad())?;
    <[u8; N]>::try_from(v.as_slice()).map_err(|_| bad())
}

fn date(what: &'static str, field: &'static str, s: &str) -> Result<u64, TcbError> {
    parse_rfc3339(s, what).map_err(|_| TcbError::Field {
        what,
        field,
        value: s.to_string(),
        expected: "an RFC 3339 UTC time",
    })
}

const TCB: &str = "TCB info";
const QEID: &str = "QE identity";

fn level_tcb(raw: &RawTcb) -> Result<PlatformTcb, TcbError> {
    let pce_svn = raw.pcesvn.ok_or(TcbError::Field {
        what: TCB,
        field: "tcb.pcesvn",
        value: "(missing)".into(),
        expected: "a number 0..=65535",
    })?;
    let mut comps = [0u8; 16];
    if let Some(list) = &raw.sgxtcbcomponents {
        if list.count != 16 {
            return Err(TcbError::Field {
                what: TCB,
                field: "tcb.sgxtcbcomponents",
                value: format!("{} entries", list.count),
                expected: "16 entries",
            });
        }
        comps = list.svns;
    } else {
        let v2 = [
            raw.sgxtcbcomp01svn,
            raw.sgxtcbcomp02svn,
            raw.sgxtcbcomp03svn,
            raw.sgxtcbcomp04svn,
            raw.sgxtcbcomp05svn,
            raw.sgxtcbcomp06svn,
            raw.sgxtcbcomp07svn,
            raw.sgxtcbcomp08svn,
            raw.sgxtcbcomp09svn,
            raw.sgxtcbcomp10svn,
            raw.sgxtcbcomp11svn,
            raw.sgxtcbcomp12svn,
            raw.sgxtcbcomp13svn,
            raw.sgxtcbcomp14svn,
            raw.sgxtcbcomp15svn,
            raw.sgxtcbcomp16svn,
        ];
        for (i, (c, v)) in comps.iter_mut().zip(v2).enumerate() {
            *c = v.ok_or_else(|| TcbError::Field {
                what: TCB,
                field: "tcb.sgxtcbcompNNsvn",
                value: format!("sgxtcbcomp{:02}svn missing", i + 1),
                expected: "16 components (v2) or sgxtcbcomponents (v3)",
            })?;
        }
    }
    Ok(PlatformTcb {
        sgx_components: comps,
        pce_svn,
    })
}

impl TcbInfo {
    /// Parses the `tcbInfo` JSON object (the signed body, not the `{"tcbInfo":..}` wrapper).
    pub fn from_json(text: &str) -> Result<Self, TcbError> {
        let raw: RawTcbInfo =
            serde_json::from_str(text).map_err(|source| TcbError::Json { what: TCB, source })?;
        if !(2..=3).contains(&raw.version) {
            return Err(TcbError::Field {
                what: TCB,
                field: "version",
                value: raw.version.to_string(),
                expected: "2 or 3",
            });
        }
        let levels = raw
            .tcb_levels
            .into_iter()
            .map(|l| {
                Ok(TcbLevel {
                    tcb: level_tcb(&l.tcb)?,
                    tcb_date: date(TCB, "tcbLevels.tcbDate", &l.tcb_date)?,
                    status: l.tcb_status,
                    advisory_ids: l.advisory_ids,
                })
            })
            .collect::<Result<Vec<_>, TcbError>>()?;
        Ok(Self {
            id: raw.id.map(Cow::into_owned),
            version: raw.version,
            issue_date: date(TCB, "issueDate", &raw.issue_date)?,
            next_update: date(TCB, "nextUpdate", &raw.next_update)?,
            fmspc: hex_array(TCB, "fmspc", &raw.fmspc, "6 bytes of hex")?,
            pce_id: hex_array(TCB, "pceId", &raw.pce_id, "2 bytes of hex")?,
            tcb_type: raw.tcb_type,
            tcb_evaluation_data_number: raw.tcb_evaluation_data_number,
            levels,
        })
    }

    /// The first level (in Intel's order) that `platform` meets.
    pub fn match_level(&self, platform: &PlatformTcb) -> Option<&TcbLevel> {
        self.levels.iter().find(|l| platform.meets(&l.tcb))
    }
}

/// One TCB level of a QE identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QeTcbLevel {
    /// Minimum ISVSVN of the QE.
    pub isv_svn: u16,
    /// tcbDate, Unix seconds.
    pub tcb_date: u64,
    /// Status of QEs at this level.
    pub status: TcbStatus,
    /// Advisories that apply.
    pub advisory_ids: Vec<String>,
}

/// A parsed QE identity (`enclaveIdentity`, v2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QeIdentity {
    /// "QE" for the SGX quoting enclave ("TD_QE", "QVE" for others).
    pub id: String,
    /// 2.
    pub version: u32,
    /// issueDate, Unix seconds.
    pub issue_date: u64,
    /// nextUpdate, Unix seconds.
    pub next_update: u64,
    /// tcbEvaluationDataNumber.
    pub tcb_evaluation_data_number: u32,
    /// Expected MISCSELECT (the JSON hex is the 4 bytes in report order, i.e. little-endian).
    pub miscselect: u32,
    /// MISCSELECT mask.
    pub miscselect_mask: u32,
    /// Expected ATTRIBUTES (16 bytes in report order).
    pub attributes: [u8; 16],
    /// ATTRIBUTES mask.
    pub attributes_mask: [u8; 16],
    /// Expected MRSIGNER.
    pub mrsigner: [u8; 32],
    /// Expected ISVPRODID.
    pub isv_prod_id: u16,
    /// Levels, best first.
    pub levels: Vec<QeTcbLevel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawQeIdentity<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    version: u32,
    #[serde(borrow)]
    issue_date: Text<'a>,
    #[serde(borrow)]
    next_update: Text<'a>,
    #[serde(default)]
    tcb_evaluation_data_number: u32,
    #[serde(borrow)]
    miscselect: Text<'a>,
    #[serde(borrow)]
    miscselect_mask: Text<'a>,
    #[serde(borrow)]
    attributes: Text<'a>,
    #[serde(borrow)]
    attributes_mask: Text<'a>,
    #[serde(borrow)]
    mrsigner: Text<'a>,
    isvprodid: u16,
    #[serde(borrow)]
    tcb_levels: Vec<RawQeLevel<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawQeLevel<'a> {
    tcb: RawQeTcb,
    #[serde(borrow)]
    tcb_date: Text<'a>,
    tcb_status: TcbStatus,
    #[serde(rename = "advisoryIDs", default)]
    advisory_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawQeTcb {
    isvsvn: u16,
}

impl QeIdentity {
    /// Parses the `enclaveIdentity` JSON object (the signed body).
    pub fn from_json(text: &str) -> Result<Self, TcbError> {
        let raw: RawQeIdentity =
            serde_json::from_str(text).map_err(|source| TcbError::Json { what: QEID, source })?;
        if raw.version != 2 {
            return Err(TcbError::Field {
                what: QEID,
                field: "version",
                value: raw.version.to_string(),
                expected: "2",
            });
        }
        // MISCSELECT is written as its 4 bytes in report order (Intel's QVL sample QE
        // identity "D182B18C" matches a report MISCSELECT of 0x8CB182D1).
        let misc = |field, s: &str| {
            hex_array::<4>(QEID, field, s, "4 bytes of hex").map(u32::from_le_bytes)
        };
        let levels = raw
            .tcb_levels
            .into_iter()
            .map(|l| {
                Ok(QeTcbLevel {
                    isv_svn: l.tcb.isvsvn,
                    tcb_date: date(QEID, "tcbLevels.tcbDate", &l.tcb_date)?,
                    status: l.tcb_status,
                    advisory_ids: l.advisory_ids,
                })
            })
            .collect::<Result<Vec<_>, TcbError>>()?;
        Ok(Self {
            id: raw.id.into_owned(),
            version: raw.version,
            issue_date: date(QEID, "issueDate", &raw.issue_date)?,
            next_update: date(QEID, "nextUpdate", &raw.next_update)?,
            tcb_evaluation_data_number: raw.tcb_evaluation_data_number,
            miscselect: misc("miscselect", &raw.miscselect)?,
            miscselect_mask: misc("miscselectMask", &raw.miscselect_mask)?,
            attributes: hex_array(QEID, "attributes", &raw.attributes, "16 bytes of hex")?,
            attributes_mask: hex_array(
                QEID,
                "attributesMask",
                &raw.attributes_mask,
                "16 bytes of hex",
            )?,
            mrsigner: hex_array(QEID, "mrsigner", &raw.mrsigner, "32 bytes of hex")?,
            isv_prod_id: raw.isvprodid,
            levels,
        })
    }

    /// The first level whose ISVSVN the QE meets.
    pub fn match_level(&self, isv_svn: u16) -> Option<&QeTcbLevel> {
        self.levels.iter().find(|l| isv_svn >= l.isv_svn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converge_follows_qvl() {
        use TcbStatus::*;
        assert_eq!(UpToDate.converge_with_qe(&OutOfDate), OutOfDate);
        assert_eq!(
            ConfigurationNeeded.converge_with_qe(&OutOfDate),
            OutOfDateConfigurationNeeded
        );
        assert_eq!(
            SWHardeningNeeded.converge_with_qe(&UpToDate),
            SWHardeningNeeded
        );
        assert_eq!(UpToDate.converge_with_qe(&Revoked), Revoked);
        assert_eq!(OutOfDate.converge_with_qe(&OutOfDate), OutOfDate);
    }
}
