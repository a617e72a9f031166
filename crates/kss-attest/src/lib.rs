//! DCAP attestation for SGX with KSS: quote parsing, collateral, full verification and an
//! appraisal policy on the KSS fields. The simulated quoting enclave and PCK CA (which hold
//! signing keys) are in the separate `kss-sim-qe` crate.
pub mod collateral;
pub mod dcap_time;
pub mod json;
pub mod pck;
pub mod policy;
pub mod quote;
pub mod tcb;
pub mod verify;
pub mod x509util;
