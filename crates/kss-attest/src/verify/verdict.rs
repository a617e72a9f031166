//! The result of a verification: named checks and the overall verdict.

use super::check_id::CheckId;
use crate::tcb::TcbStatus;
use kss_types::ReportBody;
use serde::Serialize;
use serde_json::Value;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The check passed.
    Pass,
    /// The check failed: the quote is rejected.
    Fail,
    /// The check was not run (a check it depends on failed, or nothing to check).
    Skip,
}

impl Outcome {
    /// "pass", "fail" or "skip".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

/// One named check, e.g. `quote.isv_signature` or `policy.config_svn`.
/// Serializes as `{"name", "outcome", "reason"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check (serialized as its dotted name: the object checked, then the property).
    pub name: CheckId,
    /// How it ended.
    pub outcome: Outcome,
    /// Plain-words explanation (what was found and what was expected).
    pub reason: String,
}

impl Check {
    /// A passed check.
    pub fn pass(name: CheckId, reason: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::Pass,
            reason: reason.into(),
        }
    }

    /// A failed check.
    pub fn fail(name: CheckId, reason: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::Fail,
            reason: reason.into(),
        }
    }

    /// A skipped check.
    pub fn skip(name: CheckId, reason: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::Skip,
            reason: reason.into(),
        }
    }

    /// Pass when `ok`, else fail; the reason is the same either way.
    pub fn from_bool(name: CheckId, ok: bool, reason: impl Into<String>) -> Self {
        if ok {
            Self::pass(name, reason)
        } else {
            Self::fail(name, reason)
        }
    }

    /// JSON form `{name, outcome, reason}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Verdict of a full verification plus appraisal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// True when no check failed.
    pub accepted: bool,
    /// Final TCB status (platform status converged with the QE status), when it was reached.
    pub tcb_status: Option<TcbStatus>,
    /// Advisory IDs of the platform level, then the QE level's (deduplicated).
    pub advisory_ids: Vec<String>,
    /// Platform TCB status from the TCB info alone.
    pub platform_tcb_status: Option<TcbStatus>,
    /// QE TCB status from the QE identity.
    pub qe_tcb_status: Option<TcbStatus>,
    /// The ISV enclave report body, when the quote parsed.
    pub report_body: Option<ReportBody>,
    /// Every check in the order it ran.
    pub checks: Vec<Check>,
    /// Oldest issue time among TCB info, QE identity and CRLs (Unix seconds).
    pub collateral_oldest_issue: Option<u64>,
    /// The verification time (Unix seconds).
    pub at: u64,
}

impl Verdict {
    /// A verdict at `at` with no checks yet.
    pub(crate) fn empty(at: u64) -> Self {
        Verdict {
            accepted: false,
            tcb_status: None,
            advisory_ids: Vec::new(),
            platform_tcb_status: None,
            qe_tcb_status: None,
            report_body: None,
            checks: Vec::new(),
            collateral_oldest_issue: None,
            at,
        }
    }

    /// Appends the checks of `expectations` on the report body (when the quote parsed) and
    /// recomputes `accepted`.
    pub fn check_report_data(&mut self, expectations: &[super::ReportDataExpectation]) {
        if let Some(body) = &self.report_body {
            let extra: Vec<Check> = expectations.iter().map(|e| e.check(body)).collect();
            self.checks.extend(extra);
        }
        self.accepted =
            self.report_body.is_some() && !self.checks.iter().any(|c| c.outcome == Outcome::Fail);
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.outcome == Outcome::Fail)
    }

    /// The check `id`, when it ran.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == id)
    }

    /// The JSON view: `accepted`, `advisory_ids`, `at`, `checks`, `platform_tcb_status`,
    /// `qe_tcb_status`, `report_body` (rendered by `report_body`), `tcb_status`.
    pub fn json_view(&self, report_body: impl Fn(&ReportBody) -> Value) -> VerdictJson<'_> {
        fn st(s: &Option<TcbStatus>) -> Option<&str> {
            s.as_ref().map(TcbStatus::as_str)
        }
        VerdictJson {
            accepted: self.accepted,
            advisory_ids: &self.advisory_ids,
            at: self.at,
            checks: &self.checks,
            platform_tcb_status: st(&self.platform_tcb_status),
            qe_tcb_status: st(&self.qe_tcb_status),
            report_body: self.report_body.as_ref().map(report_body),
            tcb_status: st(&self.tcb_status),
        }
    }

    /// [`Verdict::json_view`] as a JSON value.
    pub fn to_json(&self, report_body: impl Fn(&ReportBody) -> Value) -> Value {
        serde_json::to_value(self.json_view(report_body)).unwrap_or(Value::Null)
    }
}

/// The JSON form of a [`Verdict`] (what `kss verify --json` prints), keys in alphabetical order.
#[derive(Debug, Serialize)]
pub struct VerdictJson<'a> {
    /// True when no check failed.
    pub accepted: bool,
    /// Advisory IDs.
    pub advisory_ids: &'a [String],
    /// The verification time (Unix seconds).
    pub at: u64,
    /// Every check in the order it ran.
    pub checks: &'a [Check],
    /// Platform TCB status.
    pub platform_tcb_status: Option<&'a str>,
    /// QE TCB status.
    pub qe_tcb_status: Option<&'a str>,
    /// The report body, rendered by the caller.
    pub report_body: Option<Value>,
    /// Final TCB status.
    pub tcb_status: Option<&'a str>,
}
