//! Enclave backends for kss.
//!
//! * [`sim`]: a software model of ECREATE, EADD, EEXTEND, EINIT, EREPORT and EGETKEY that applies
//!   every Key Separation and Sharing (KSS) rule and derives keys exactly like the Intel SGX SDK
//!   simulator (`docs/simulator.md`).
//! * [`hw`]: the Linux in-kernel SGX driver (`/dev/sgx_enclave`) and CPUID detection
//!   (`docs/hardware.md`).
//!
//! Both sit behind [`Backend`] (build an enclave) and [`Enclave`] (use one); [`load_sgxs`] loads
//! an SGXS stream into either:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use kss_enclave::{sim, Enclave};
//! # let sig: kss_types::Sigstruct = kss_types::Sigstruct::unsigned();
//! let kss = kss_types::KssConfig { config_svn: 3, ..Default::default() };
//! let file = std::fs::File::open("build/enclave.sgxs")?;
//! let enclave: Arc<dyn Enclave> = Arc::new(sim::load_sgxs(file, &kss, &sig, &sim::SimCpu::default())?);
//! let report = enclave.report(&enclave.target_info(), &[0u8; 64])?;
//! enclave.verify_report(&report)?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod backend;
mod error;
pub mod hw;
mod loader;
pub mod sim;

pub use backend::{Backend, Enclave, EnclaveBuilder, EnclaveParams, PageSpec};
pub use error::{ErrorCode, KeyError, Leaf, SgxError};
pub use loader::{load_sgxs, load_sgxs_with, BackendKind, ChosenBackend, LoadError, Unloadable};
