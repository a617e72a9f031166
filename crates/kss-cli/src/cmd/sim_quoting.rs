//! The simulated quoting enclave used by `kss run` in simulation mode.

use kss_attest::sim_qe::SimQuotingEnclave;
use kss_enclave::sim::{SimCpu, SimEnclave};
use kss_service::QuotingEnclave;
use kss_types::{Attributes, Secs};

/// Loads (or creates on first use) the per-user simulated PCK CA and quoting enclave, and models
/// the QE as an enclave on the same simulated CPU, so that it can check the MAC of the
/// application's REPORT with its own REPORT key before it signs, as Intel's QE3 does.
pub fn quoting_enclave(cpu: &SimCpu) -> Result<QuotingEnclave, String> {
    let qe = SimQuotingEnclave::load_or_create_default().map_err(|e| e.to_string())?;
    let p = qe.platform();
    let secs = Secs {
        size: 1 << 20,
        base_addr: 1 << 32,
        ssa_frame_size: 1,
        // INIT | MODE64BIT | PROVISIONKEY with legacy + AVX state, as the QE's report says.
        attributes: Attributes::new(0x15, 0xe7),
        mr_enclave: p.qe_mr_enclave,
        mr_signer: p.qe_mr_signer,
        isv_prod_id: p.qe_isv_prod_id,
        isv_svn: p.qe_isv_svn,
        ..Secs::default()
    };
    let enclave = SimEnclave::from_initialized_secs(secs, cpu.clone(), 1);
    Ok(QuotingEnclave {
        enclave: Box::new(enclave),
        sign: Box::new(move |body| qe.quote(body).map_err(|e| e.to_string())),
    })
}
