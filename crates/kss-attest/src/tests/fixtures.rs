//! Fixtures shared by the unit tests (`src/tests/verify_collateral.rs`) and the integration
//! test `tests/verify_verdicts.rs`, each of which includes this file as its child module
//! `fixtures` (by `#[path]`): the files of `testdata/`, a policy accepting every TCB status but
//! Revoked, and the failed checks of a verdict.
//!
//! The crate is `crate` in one and `kss_attest` in the other, so the types come from the
//! including module, which imports them.

use super::{Outcome, Policy, TcbStatus, Verdict};

/// The repository's `testdata/`, with a trailing `/`.
pub const TD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

/// The bytes of `testdata/REL`.
pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{TD}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The default policy, accepting every TCB status but Revoked.
pub fn any_status() -> Policy {
    use TcbStatus::*;
    Policy::default().with_accepted_tcb_statuses(vec![
        UpToDate,
        SWHardeningNeeded,
        ConfigurationNeeded,
        ConfigurationAndSWHardeningNeeded,
        OutOfDate,
        OutOfDateConfigurationNeeded,
    ])
}

/// The failed checks of `v` as `name: reason`.
pub fn failed(v: &Verdict) -> Vec<String> {
    v.checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}: {}", c.name, c.reason))
        .collect()
}
