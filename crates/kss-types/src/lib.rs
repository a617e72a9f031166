//! Byte-exact Intel SGX architectural structures, with every Key Separation and Sharing (KSS)
//! field named.
//!
//! Each structure is declared once, as its fields in layout order with their types; from that
//! declaration come its `SIZE`, an offsets module with where each field lives, `from_bytes`
//! (which checks the length and never panics) and `to_bytes` (which round-trips exactly,
//! reserved bytes included). All integers are little-endian, as in the SDM.
//!
//! The layouts follow the Intel SDM and the Intel SGX SDK headers; `docs/sgx-reference.md`
//! lists them with their sources. Tests in `tests/layout.rs` pin every
//! offset and size.
#![no_std]
#![deny(missing_docs)]

pub mod bytes;
mod error;
mod layout;

pub mod attributes;
pub mod civil;
pub mod ids;
pub mod keyrequest;
pub mod report;
pub mod secinfo;
pub mod secs;
pub mod sigstruct;
pub mod targetinfo;

pub use attributes::{xfrm, AttributeFlags, Attributes, MiscSelect};
pub use error::LayoutError;
pub use ids::{ConfigId, CpuSvn, Id128, KssConfig};
pub use keyrequest::{KeyName, KeyPolicy, KeyRequest, UnknownPolicyName};
pub use report::{Report, ReportBody};
pub use secinfo::{EaddFlagsProblem, PageType, Secinfo, SecinfoFlags};
pub use secs::Secs;
pub use sigstruct::Sigstruct;
pub use targetinfo::TargetInfo;

/// Size of an EPC page.
pub const PAGE_SIZE: usize = 4096;
