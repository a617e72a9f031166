//! A software model of the SGX instructions that build and use an enclave: ECREATE, EADD,
//! EEXTEND, EINIT (ENCLS) and EREPORT, EGETKEY (ENCLU), with every KSS rule of
//! `docs/sgx-reference.md` and the Intel SDK simulator's key derivation.
//!
//! Flow: [`SimCpu::ecreate`] → [`SimBuilder::eadd`] / [`SimBuilder::eextend`] →
//! [`SimBuilder::einit`] → [`SimEnclave`] (`ereport`, `egetkey`, `verify_report`).
//! [`load_sgxs`] drives that flow from an SGXS stream. [`SimBackend`] plugs the simulator into
//! the backend-neutral [`crate::Backend`] trait.
//!
//! What this does **not** prove is listed in `docs/simulator.md`: keys differ from hardware,
//! there is no memory protection and no code runs inside the "enclave".

mod backend;
mod build;
mod cpu;
pub mod derive;
mod enclave;
mod measure;
mod memory;
mod signature;

pub use backend::{load_sgxs, SimBackend};
pub use build::SimBuilder;
pub use cpu::{
    ssa_frame_bytes_needed, xfrm_problem, xsave_size, SimCpu, SimCpuSvn, UnknownCpuSvnMode,
};
pub use enclave::SimEnclave;
pub use measure::Measurement;
pub use memory::Page;
pub use signature::mr_signer;
