//! DCAP collateral from Intel's Provisioning Certification Service (PCS) or a PCCS (API v4),
//! with an on-disk cache that many processes share.
//!
//! The pieces a quote needs are fetched one by one ([`Piece`]): the TCB info of the
//! platform's FMSPC, the QE identity, the CRL of the PCK's CA and the Intel SGX Root CA CRL.
//! Each piece is checked (signature, issuer chain up to a trusted root) before it is cached
//! or handed out, so a tampered or wrong response never poisons the cache; the full
//! verification of the quote is still [`kss_attest::verify::Verifier`]'s job.
//!
//! - [`endpoint`]: the service's URL (a base or one ending in `/sgx/certification/v4`).
//! - [`client`]: HTTP(S) fetches with a timeout and a bounded retry.
//! - [`headers`]: the URL-encoded PEM issuer chains of the response headers.
//! - [`validate`]: the signature and chain checks made before a piece is used or stored.
//! - [`cache`]: one file per piece under a directory, written atomically.
//! - [`source`]: [`PccsSource`], cache first, then the network.
//! - [`need`]: what a quote needs ([`Need`]: FMSPC and PCK CA), read from its PCK certificate.
//! - [`dcap_qvl`]: collateral written as the dcap-qvl JSON that `kss verify --collateral` reads.
#![deny(missing_docs)]

pub mod cache;
pub mod client;
pub mod dcap_qvl;
pub mod endpoint;
pub mod error;
pub mod headers;
pub mod need;
pub mod piece;
pub mod source;
pub mod validate;

pub use endpoint::Endpoint;
pub use error::{ErrorKind, FetchError};
pub use need::Need;
pub use piece::Piece;
pub use source::{Origin, PccsSource, SourceConfig, Sourced};
