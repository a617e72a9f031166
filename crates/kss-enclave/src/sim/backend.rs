//! The simulator behind the backend-neutral traits, and its SGXS loader.

use super::{SimBuilder, SimCpu, SimEnclave};
use crate::backend::{Backend, Enclave, EnclaveBuilder, EnclaveParams, PageSpec};
use crate::error::{KeyError, SgxError};
use crate::loader::LoadError;
use kss_types::{KeyRequest, KssConfig, Report, Secinfo, Secs, Sigstruct, TargetInfo};
use std::io::Read;
use zeroize::Zeroizing;

/// The simulator as a [`Backend`]: ECREATE/EADD/EEXTEND/EINIT on a [`SimCpu`].
#[derive(Debug, Clone, Default)]
pub struct SimBackend {
    /// The simulated CPU.
    pub cpu: SimCpu,
}

impl SimBackend {
    /// A backend on `cpu`.
    pub fn new(cpu: SimCpu) -> Self {
        Self { cpu }
    }

    /// The BASEADDR the simulator gives an enclave of `size` bytes: 4 GiB, or `size` if larger
    /// (both powers of two, so naturally aligned). No memory is mapped there.
    pub fn base_addr_for(size: u64) -> u64 {
        size.max(1 << 32)
    }
}

impl Backend for SimBackend {
    type Builder = SimBuilder;

    fn name(&self) -> &'static str {
        "sim"
    }

    fn create(&self, params: &EnclaveParams) -> Result<SimBuilder, LoadError> {
        let secs = params.secs(Self::base_addr_for(params.size));
        Ok(self.cpu.ecreate(&secs)?)
    }
}

impl EnclaveBuilder for SimBuilder {
    type Enclave = SimEnclave;

    fn add_page(&mut self, page: &PageSpec<'_>) -> Result<(), LoadError> {
        self.eadd(page.offset, page.data, &Secinfo::new(page.secinfo))?;
        for chunk in 0..16u64 {
            if page.measured_chunks & (1 << chunk) != 0 {
                self.eextend(page.offset + chunk * 256)?;
            }
        }
        Ok(())
    }

    fn init(mut self, sig: &Sigstruct) -> Result<SimEnclave, LoadError> {
        Ok(self.einit(sig)?)
    }
}

impl Enclave for SimEnclave {
    fn backend_name(&self) -> &'static str {
        "sim"
    }

    fn secs(&self) -> &Secs {
        SimEnclave::secs(self)
    }

    fn report(&self, target: &TargetInfo, report_data: &[u8; 64]) -> Result<Report, SgxError> {
        Ok(self.ereport(target, report_data))
    }

    fn verify_report(&self, report: &Report) -> Result<(), SgxError> {
        SimEnclave::verify_report(self, report)
    }

    fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeyError> {
        self.egetkey(request)
    }
}

/// Loads an SGXS stream on the simulated `cpu`: ECREATE (SIZE and SSAFRAMESIZE from the stream,
/// ATTRIBUTES and MISCSELECT from `sig`, CONFIGID/CONFIGSVN from `kss`), EADD/EEXTEND per
/// record, EINIT with `sig` (signature verified, ENCLAVEHASH compared with the measurement).
pub fn load_sgxs(
    sgxs: impl Read,
    kss: &KssConfig,
    sig: &Sigstruct,
    cpu: &SimCpu,
) -> Result<SimEnclave, LoadError> {
    crate::loader::load_sgxs(&SimBackend::new(cpu.clone()), sgxs, kss, sig)
}
