//! The simulated quoting enclave used by `kss run` in simulation mode.

use kss_service::QuotingEnclave;

/// Loads (or creates on first use) the per-user simulated PCK CA and quoting enclave.
pub fn quoting_enclave() -> Result<QuotingEnclave, String> {
    Err("the simulated quoting enclave is not available yet".into())
}
