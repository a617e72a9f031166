//! DCAP attestation for SGX with KSS: quote parsing, collateral, full verification and an
//! appraisal policy on the KSS fields. The simulated quoting enclave and PCK CA (which hold
//! signing keys) are in the separate `kss-sim-qe` crate; this crate only verifies.
//!
//! A [`Verifier`] runs the checks of `docs/verification.md` as a pipeline of stages (quote →
//! PCK chain → CRLs and revocation → TCB info and the platform's TCB level → QE identity → TCB
//! status → policy). Each check is named by a [`CheckId`]; the [`Verdict`] lists them all.
//! Collateral is given directly ([`Collateral`]) or fetched through a [`CollateralSource`].
//!
//! ```
//! use kss_attest::{Collateral, Policy, Quote, TcbStatus, Verifier};
//!
//! let quote = Quote::parse(include_bytes!(
//!     "../../../testdata/phala-dcap-qvl/sgx_quote"
//! ))?;
//! let collateral = Collateral::from_dcap_qvl_json(
//!     include_bytes!("../../../testdata/phala-dcap-qvl/sgx_quote_collateral.json"),
//!     "phala collateral",
//! )?;
//! // This platform needs configuration and SW hardening; accept that status.
//! let policy = Policy::default().with_accepted_tcb_statuses(vec![
//!     TcbStatus::UpToDate,
//!     TcbStatus::ConfigurationAndSWHardeningNeeded,
//! ]);
//! let verifier = Verifier::new(policy);
//! let verdict = verifier.verify_quote(&quote, &collateral, 1_752_919_277);
//! assert!(verdict.accepted, "{:?}", verdict.first_failure());
//! assert_eq!(
//!     verdict.tcb_status,
//!     Some(TcbStatus::ConfigurationAndSWHardeningNeeded)
//! );
//! // At a later time the collateral has expired: rejected, and the check says why.
//! let late = verifier.verify_quote(&quote, &collateral, 1_752_922_572);
//! let failed = late.first_failure().expect("a failed check");
//! println!("{}: {}", failed.name, failed.reason);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod collateral;
mod dcap_time;
pub mod json;
pub mod origin;
pub mod pck;
pub mod policy;
pub mod quote;
pub mod render;
mod serde_words;
pub mod tcb;
pub mod verify;
mod x509util;

#[cfg(test)]
mod tests;

pub use collateral::{
    Collateral, CollateralError, CollateralErrorKind, CollateralNeed, CollateralSource,
    DcapQvlFile, InMemoryCollateral, PckCa, PcsDirectory, TeeType,
};
pub use dcap_time::{format_rfc3339, now, parse_rfc3339, parse_time, TimeError};
pub use policy::{Policy, PolicyError};
pub use quote::{Quote, QuoteError};
pub use tcb::TcbStatus;
pub use verify::{
    trust_root_key, Check, CheckId, Outcome, Verdict, VerdictJson, Verifier,
    INTEL_SGX_ROOT_CA_PUBLIC_KEY,
};
pub use x509util::{P256Key, PemProblem, X509Error};
