//! The text of a verdict, shared by `kss verify` and `kss attest`: the TCB status line, the
//! enclave's REPORT body (through [`kss_attest::render::ReportBodyView`], the renderer of every
//! report body), the checks, and the error that ends a rejected verification (with a hint when
//! the quote is simulated and no simulation root was trusted).

use crate::error::CliError;
use kss_attest::format_rfc3339;
use kss_attest::render::{ByteOrder, ReportBodyView};
use kss_attest::verify::{Outcome, Verdict};
use std::fmt::Write as _;

/// The mark of a quote whose PCK chain ends in a kss simulation root
/// ([`kss_attest::origin`]).
pub const SIMULATED: &str = "simulated (kss sim CA)";

/// Title of the ISV enclave's REPORT body, wherever a quote's body is shown.
pub const ISV_REPORT_TITLE: &str = "ISV enclave report:";

/// What is shown for a TCB status the verification did not reach.
pub const NOT_ESTABLISHED: &str = "not established";

/// The value of the `TCB status:` line: the final status, then the platform's and the QE's when
/// known. A status that was not reached is said once: `not established`, or
/// `not established (platform OutOfDate)` when only part of it was reached.
pub fn tcb_status_text(
    final_status: Option<&str>,
    platform: Option<&str>,
    qe: Option<&str>,
) -> String {
    let parts: Vec<String> = [("platform", platform), ("QE", qe)]
        .iter()
        .filter_map(|(who, s)| s.map(|s| format!("{who} {s}")))
        .collect();
    let head = final_status.unwrap_or(NOT_ESTABLISHED);
    if parts.is_empty() {
        head.to_string()
    } else {
        format!("{head} ({})", parts.join(", "))
    }
}

/// The verdict as text: the quote's name and the decision, the verification time, the TCB
/// status, the advisories, the simulation mark, the ISV enclave's REPORT body and every check.
pub fn verdict_text(quote_name: &str, v: &Verdict, simulated: bool) -> String {
    let mut out = String::new();
    let decision = if v.accepted { "ACCEPTED" } else { "REJECTED" };
    let _ = writeln!(out, "{quote_name}: {decision}");
    let _ = writeln!(out, "verified at:  {} ({})", format_rfc3339(v.at), v.at);
    fn st(s: &Option<kss_attest::tcb::TcbStatus>) -> Option<&str> {
        s.as_ref().map(kss_attest::tcb::TcbStatus::as_str)
    }
    let _ = writeln!(
        out,
        "TCB status:   {}",
        tcb_status_text(
            st(&v.tcb_status),
            st(&v.platform_tcb_status),
            st(&v.qe_tcb_status)
        )
    );
    if !v.advisory_ids.is_empty() {
        let _ = writeln!(out, "advisories:   {}", v.advisory_ids.join(", "));
    }
    if simulated {
        let _ = writeln!(
            out,
            "quote:        {SIMULATED}: its PCK chain ends in a kss simulation root"
        );
    }
    if let Some(b) = &v.report_body {
        out.push_str(&ReportBodyView::new(b, ByteOrder::Stored).text(ISV_REPORT_TITLE));
    }
    let _ = writeln!(out, "checks:");
    for c in &v.checks {
        let mark = match c.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
        };
        let _ = writeln!(out, "  {mark}  {:<26} {}", c.name, c.reason);
    }
    out
}

/// The hint of a rejected simulated quote verified without `--trust-root`.
pub const SIM_ROOT_HINT: &str = "this quote is simulated (kss sim CA): its PCK chain ends in a kss simulation root, which is never trusted by default. To verify it as a simulation, write that root and matching collateral with `kss sim-ca export DIR`, then pass `--trust-root DIR/root.pem --collateral DIR/collateral.json`";

/// The error that ends a rejected verification (exit 1), naming the first failed check; `None`
/// when the verdict accepts. A simulated quote verified without any `--trust-root` (so only
/// against Intel's root) gets a hint at `kss sim-ca export`.
pub fn rejection(v: &Verdict, simulated: bool, trust_roots_given: bool) -> Option<CliError> {
    let f = v.first_failure()?;
    let err = CliError::rejected(format!("quote rejected: {} ({})", f.reason, f.name));
    Some(if simulated && !trust_roots_given {
        err.hint(SIM_ROOT_HINT)
    } else {
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcb_status_says_not_established_once() {
        assert_eq!(tcb_status_text(None, None, None), "not established");
        assert_eq!(
            tcb_status_text(None, Some("OutOfDate"), None),
            "not established (platform OutOfDate)"
        );
        assert_eq!(
            tcb_status_text(Some("UpToDate"), Some("UpToDate"), Some("UpToDate")),
            "UpToDate (platform UpToDate, QE UpToDate)"
        );
        assert_eq!(tcb_status_text(Some("Revoked"), None, None), "Revoked");
    }
}
