//! The simulated quoting enclave used by `kss run` in simulation mode.

use kss_enclave::sim::{SimCpu, SimEnclave};
use kss_service::QuotingEnclave;
use kss_sim_qe::SimQuotingEnclave;
use kss_types::Secs;

/// Loads (or creates on first use) the per-user simulated PCK CA and quoting enclave, and models
/// the QE as an enclave on the same simulated CPU, so that it can check the MAC of the
/// application's REPORT with its own REPORT key before it signs, as Intel's QE3 does.
pub fn quoting_enclave(cpu: &SimCpu) -> Result<QuotingEnclave, String> {
    let qe = SimQuotingEnclave::load_or_create_default().map_err(|e| e.to_string())?;
    // The QE's identity is exactly what its own REPORT body (in every quote) says.
    let id = qe.platform().qe_report_body([0; 64]);
    let secs = Secs {
        size: 1 << 20,
        base_addr: 1 << 32,
        ssa_frame_size: 1,
        misc_select: id.misc_select,
        attributes: id.attributes,
        mr_enclave: id.mr_enclave,
        mr_signer: id.mr_signer,
        isv_prod_id: id.isv_prod_id,
        isv_svn: id.isv_svn,
        ..Secs::default()
    };
    let enclave = SimEnclave::from_initialized_secs(secs, cpu.clone(), 1);
    Ok(QuotingEnclave {
        enclave: Box::new(enclave),
        sign: Box::new(move |body| qe.quote(body).map_err(|e| e.to_string())),
    })
}
