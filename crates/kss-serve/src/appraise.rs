//! The one verification path shared by `kss verify` and `kss serve`: a warm [`Verifier`] checks
//! the quote and its collateral, then the request's [`Policy`] appraises it, then (optionally)
//! the runtime-data binding is checked. [`verdict_json`] renders the result; `kss verify --json`
//! prints exactly that value, and the service puts the same value in its responses.
//!
//! Everything that depends on the verifier's API is in this module, so that a change of that API
//! stays a local change.

use kss_attest::json::{report_body_json, ByteOrder};
use kss_attest::policy::TcbFacts;
use kss_attest::{Check, CheckId, Collateral, Outcome, Policy, Quote, Verdict, Verifier};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

/// The check that binds `runtime_data` to REPORTDATA (`report_data.runtime_data`).
pub const RUNTIME_DATA_CHECK: CheckId = CheckId::ReportDataRuntimeData;

/// Which hash of the runtime data was found at the start of REPORTDATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeDataHash {
    /// SHA-256 in REPORTDATA\[0..32\].
    Sha256,
    /// SHA-512 in REPORTDATA\[0..64\].
    Sha512,
}

/// Verifies `quote` with `collateral` at `at` (Unix seconds) on the shared warm `verifier`,
/// appraises it with `policy` and, when `runtime_data` is given, checks that its SHA-256 or
/// SHA-512 starts REPORTDATA (check [`RUNTIME_DATA_CHECK`]).
///
/// The verdict equals `Verifier::with_trust_roots(roots, policy.clone()).verify(quote,
/// collateral, at)` (plus the runtime-data check): the verifier's own policy checks (the only
/// checks named `policy.*`) are replaced by those of `policy`, in the same place. That lets one
/// warm verifier, with one collateral cache, serve every policy.
pub fn appraise(
    verifier: &Verifier,
    quote: &[u8],
    collateral: &Collateral,
    at: u64,
    policy: &Policy,
    runtime_data: Option<&[u8]>,
) -> (Verdict, Option<RuntimeDataHash>) {
    let v = match Quote::parse(quote) {
        Ok(q) => verifier.verify_quote(&q, collateral, at),
        // Bytes that are no quote: the verifier reports why, as a failed check.
        Err(_) => verifier.verify(quote, collateral, at),
    };
    finish(verifier, v, at, policy, runtime_data)
}

/// [`appraise`] for an already parsed quote (what `kss verify` has).
pub fn appraise_quote(
    verifier: &Verifier,
    quote: &Quote,
    collateral: &Collateral,
    at: u64,
    policy: &Policy,
    runtime_data: Option<&[u8]>,
) -> (Verdict, Option<RuntimeDataHash>) {
    let v = verifier.verify_quote(quote, collateral, at);
    finish(verifier, v, at, policy, runtime_data)
}

/// Replaces the verifier's policy checks by `policy`'s, adds the runtime-data check, and
/// recomputes `accepted`.
fn finish(
    verifier: &Verifier,
    mut v: Verdict,
    at: u64,
    policy: &Policy,
    runtime_data: Option<&[u8]>,
) -> (Verdict, Option<RuntimeDataHash>) {
    if verifier.policy() != policy {
        if let Some(body) = v.report_body.clone() {
            v.checks.retain(|c| !c.name.as_str().starts_with("policy."));
            v.checks.extend(policy.evaluate_identity(&body));
            let facts = TcbFacts {
                tcb_status: v.tcb_status.as_ref(),
                advisory_ids: &v.advisory_ids,
                qe_tcb_status: v.qe_tcb_status.as_ref(),
                collateral_oldest_issue: v.collateral_oldest_issue,
                at,
            };
            let tcb = policy.evaluate_tcb(&facts);
            v.checks.extend(tcb);
        }
    }
    let mut matched = None;
    if let Some(data) = runtime_data {
        let check = match &v.report_body {
            None => Check::skip(RUNTIME_DATA_CHECK, "no enclave report to check against"),
            Some(body) => {
                let (check, m) = runtime_data_check(&body.report_data, data);
                matched = m;
                check
            }
        };
        v.checks.push(check);
    }
    v.accepted = !v.checks.iter().any(|c| c.outcome == Outcome::Fail);
    (v, matched)
}

/// Checks that SHA-256(`data`) is REPORTDATA\[0..32\] or SHA-512(`data`) is REPORTDATA.
pub fn runtime_data_check(report_data: &[u8; 64], data: &[u8]) -> (Check, Option<RuntimeDataHash>) {
    let s256: [u8; 32] = Sha256::digest(data).into();
    let s512: [u8; 64] = Sha512::digest(data).into();
    if report_data[..32] == s256 {
        (
            Check::pass(
                RUNTIME_DATA_CHECK,
                "REPORTDATA starts with SHA-256(runtime_data)",
            ),
            Some(RuntimeDataHash::Sha256),
        )
    } else if report_data[..] == s512[..] {
        (
            Check::pass(RUNTIME_DATA_CHECK, "REPORTDATA is SHA-512(runtime_data)"),
            Some(RuntimeDataHash::Sha512),
        )
    } else {
        (
            Check::fail(
                RUNTIME_DATA_CHECK,
                format!(
                    "REPORTDATA does not start with SHA-256(runtime_data) = {} nor with SHA-512(runtime_data) = {}: the quote is not bound to this runtime data",
                    hex::encode(s256),
                    hex::encode(s512)
                ),
            ),
            None,
        )
    }
}

/// The verdict as JSON: what `kss verify --json` prints and what `POST /v1/attest` returns
/// under `verdict`. The report body is in the schema of `kss quote inspect --json`.
pub fn verdict_json(v: &Verdict) -> Value {
    v.to_json(|b| report_body_json(b, ByteOrder::Stored))
}

/// The report body as `kss quote inspect --json` shows it.
pub fn report_body_value(v: &Verdict) -> Option<Value> {
    v.report_body
        .as_ref()
        .map(|b| report_body_json(b, ByteOrder::Stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_data_sha256_and_sha512_and_neither() {
        let data = b"hello runtime";
        let mut rd = [0u8; 64];
        rd[..32].copy_from_slice(&Sha256::digest(data));
        assert_eq!(
            runtime_data_check(&rd, data).1,
            Some(RuntimeDataHash::Sha256)
        );
        rd.copy_from_slice(&Sha512::digest(data));
        assert_eq!(
            runtime_data_check(&rd, data).1,
            Some(RuntimeDataHash::Sha512)
        );
        let (c, m) = runtime_data_check(&rd, b"other");
        assert_eq!(m, None);
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(c.reason.contains("not bound"), "{}", c.reason);
    }
}
