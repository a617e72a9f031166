//! The enclave service: how a workload launched by `kss run` talks to "its" enclave.
//!
//! `kss run` creates the enclave, then serves it on a private Unix socket (a fresh 0700
//! directory, socket mode 0600) whose path is in the workload's `KSS_ENCLAVE_SOCKET`. The
//! workload asks for its identity, TARGETINFO, REPORTs, keys and quotes with the small binary
//! protocol in [`protocol`] through the [`Client`]. Sealing runs in the client on top of
//! `GET_KEY` ([`Client`] implements [`kss_seal::KeySource`]), the way `sgx_seal_data` runs inside
//! an enclave on top of EGETKEY.
#![deny(missing_docs)]

pub mod client;
pub mod enclave_ops;
pub mod protocol;
pub mod server;

pub use client::{Client, ClientError};
pub use enclave_ops::{EnclaveServer, QeLoader, QuotingEnclave};
pub use protocol::{ErrorCode, Op, ProtocolError, Request, Response};
pub use server::{EnclaveOps, OpError, Server};

/// Environment variable holding the socket path.
pub const SOCKET_ENV: &str = "KSS_ENCLAVE_SOCKET";
