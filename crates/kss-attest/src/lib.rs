//! DCAP attestation for SGX with KSS: quote parsing, a simulated quoting enclave and PCK CA,
//! collateral, full verification and an appraisal policy on the KSS fields.
pub mod collateral;
pub mod dcap_time;
pub mod json;
pub mod pck;
pub mod policy;
pub mod quote;
pub mod sim_qe;
pub mod tcb;
pub mod verify;
pub mod x509util;
