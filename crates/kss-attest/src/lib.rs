//! DCAP attestation for SGX with KSS: quote parsing, a simulated quoting enclave and PCK CA,
//! collateral, full verification and an appraisal policy on the KSS fields.
