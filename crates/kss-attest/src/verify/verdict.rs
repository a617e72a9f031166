//! The result of a verification: named checks and the overall verdict.

use crate::tcb::TcbStatus;
use kss_types::ReportBody;
use serde_json::{json, Value};

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Dotted name: the object checked, then the property.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Plain-words explanation (what was found and what was expected).
    pub reason: String,
}

impl Check {
    /// A passed check.
    pub fn pass(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            outcome: Outcome::Pass,
            reason: reason.into(),
        }
    }

    /// A failed check.
    pub fn fail(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            outcome: Outcome::Fail,
            reason: reason.into(),
        }
    }

    /// A skipped check.
    pub fn skip(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            outcome: Outcome::Skip,
            reason: reason.into(),
        }
    }

    /// Pass when `ok`, else fail; the reason is the same either way.
    pub fn from_bool(name: &str, ok: bool, reason: impl Into<String>) -> Self {
        if ok {
            Self::pass(name, reason)
        } else {
            Self::fail(name, reason)
        }
    }

    /// JSON form `{name, outcome, reason}`.
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "outcome": self.outcome.as_str(), "reason": self.reason})
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
    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.outcome == Outcome::Fail)
    }

    /// The check with this name.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// JSON form: `accepted`, `tcb_status`, `advisory_ids`, `qe_tcb_status`,
    /// `platform_tcb_status`, `report_body` (rendered by `report_body`), `checks`, `at`.
    pub fn to_json(&self, report_body: impl Fn(&ReportBody) -> Value) -> Value {
        json!({
            "accepted": self.accepted,
            "tcb_status": self.tcb_status.as_ref().map(|s| s.as_str().to_string()),
            "advisory_ids": self.advisory_ids,
            "platform_tcb_status": self.platform_tcb_status.as_ref().map(|s| s.as_str().to_string()),
            "qe_tcb_status": self.qe_tcb_status.as_ref().map(|s| s.as_str().to_string()),
            "report_body": self.report_body.as_ref().map(report_body),
            "checks": self.checks.iter().map(Check::to_json).collect::<Vec<_>>(),
            "at": self.at,
        })
    }
}
