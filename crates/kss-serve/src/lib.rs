//! `kss serve`: an HTTP attestation service. It verifies SGX DCAP quotes (full verification
//! plus a KSS policy, the same code path as `kss verify`) with one shared warm verifier, and
//! answers with an EAT Attestation Result (EAR) signed as a JWT (ES256).
//!
//! Modules:
//! - [`config`]: what the service needs to start;
//! - [`state`]: the shared state (verifier, collateral, policies, keys, limits, metrics);
//! - [`routes`]: the HTTP API; [`request`]: parsing attestation requests;
//! - [`server`]: the accept loop, TLS, graceful shutdown, signals;
//! - [`appraise`]: the verification path shared with `kss verify`;
//! - [`token`]: EAR claims, ES256 signing, JWKS; [`nonce`]: stateless nonces;
//! - [`policies`]: the policy directory; [`metrics`]: Prometheus text;
//! - [`client`] and [`loadgen`]: an HTTP client for `kss attest` and a load generator.
//!
//! Replicas are stateless: nonces are MAC'd with a shared secret, tokens are signed with a
//! shared key, and policies come from the same directory.

#![deny(missing_docs)]

pub mod appraise;
pub mod client;
pub mod config;
pub mod loadgen;
pub mod metrics;
pub mod nonce;
pub mod policies;
pub mod request;
pub mod routes;
pub mod server;
pub mod state;
pub mod token;

pub use config::{CollateralConfig, ServeConfig};
pub use server::Server;
pub use state::{AppState, StartError};
