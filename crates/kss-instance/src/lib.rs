//! kss instances: an Occlum-style directory (`Occlum.json` + `image/`) that `kss build` turns
//! into a measured and signed enclave.
//!
//! - [`config`]: the Occlum.json model with KSS metadata, validated with path-named errors.
//! - [`image`]: the `kss-image-v1` Merkle digest of `image/`, computed on all cores.
//! - [`layout`]: the enclave memory layout and its canonical SGXS stream.
//! - [`enclave_xml`]: the Intel SDK `sgx_sign` configuration and a checker with its rules.
//! - [`build`](mod@build): `kss new` and `kss build`, replacing each file of `build/` atomically.
#![deny(missing_docs)]

pub mod binding;
pub mod build;
pub mod config;
pub mod enclave_xml;
pub mod error;
mod freshness;
pub mod image;
pub mod launch;
pub mod layout;
pub mod paths;
pub mod plan;
pub mod size;
mod summary;

pub use build::{build, new_instance, BuildOptions, BuildReport, Instance};
pub use config::{ConfigBinding, InstanceConfig, Metadata, ResourceLimits};
pub use error::{ConfigError, ConfigRule, InstanceError, LayoutProblem};
