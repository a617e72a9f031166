//! Intel SGX sealing with Key Separation and Sharing (KSS) key policies.
//!
//! Sealed blobs use the Intel SGX SDK's `sgx_sealed_data_t` layout byte for byte (see
//! [`format`](mod@format)): the 512-byte KEYREQUEST used to derive the seal key, the sizes, the
//! AES-128-GCM tag, then the ciphertext followed by the additional authenticated data (AAD) in
//! clear.
//!
//! * [`seal`] / [`unseal`] / [`reseal`] work against any [`KeySource`] (the enclave's
//!   `EGETKEY` and self report), so the same code runs on the simulator or, later, on hardware.
//! * [`policy`] has the SDK default policy, named presets (`enclave`, `signer`, `config`,
//!   `family`, `product`) and the SDK's validity rules.
//! * Unseal re-derives the key from the request stored in the blob, so an enclave whose ISVSVN or
//!   CONFIGSVN went up can still read old data, and [`reseal`] moves data forward.
//! * [`write_sealed_file`] writes blobs atomically and durably.
//! * [`SealedData::parse`] never panics and [`SealedData::inspect`] shows the metadata without
//!   secrets.
#![deny(missing_docs)]

mod error;
mod file;
pub mod format;
mod inspect;
mod key_source;
pub mod policy;
mod seal;

pub use error::{PolicyTextProblem, SealError};
pub use file::write_sealed_file;
pub use format::SealedData;
pub use inspect::SealedInfo;
pub use key_source::{KeySource, KeySourceError};
pub use policy::{parse_policy, Preset, SealOptions};
pub use seal::{
    mac_aad, mac_aad_with_key_id, reseal, reseal_with_key_id, seal, seal_into, seal_with_key_id,
    unseal, unseal_in_place, Unsealed, UnsealedInPlace,
};

pub use kss_types::{KeyPolicy, KeyRequest, ReportBody};
