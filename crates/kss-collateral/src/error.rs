//! Why collateral could not be had. Every error names the piece and, when the network was
//! involved, the URL (and the HTTP status when there was one).

use crate::piece::Piece;
use std::path::PathBuf;
use std::time::Duration;

/// The broad class of a [`FetchError`], for callers that map errors to exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The service could not give the piece (unreachable, timeout, HTTP error status) and no
    /// valid cached copy exists.
    Unavailable,
    /// The service answered, but the piece failed its signature or chain check.
    Rejected,
    /// The answer is not a well-formed piece (missing header, bad body, too large).
    Malformed,
    /// Something local failed (the cache directory, the configuration).
    Local,
}

/// Collateral that could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No connection to the service (refused, DNS, TLS handshake, ...).
    #[error("{piece}: cannot reach {url}: {source}")]
    Unreachable {
        /// The piece asked for.
        piece: Piece,
        /// The URL asked.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// No complete answer within the timeout.
    #[error("{piece}: {url} did not answer within {} s", timeout.as_secs_f64())]
    Timeout {
        /// The piece asked for.
        piece: Piece,
        /// The URL asked.
        url: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// The service answered with an error status.
    #[error("{piece}: {url} answered HTTP {status}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Status {
        /// The piece asked for.
        piece: Piece,
        /// The URL asked.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// What the status means here, and the service's own error code if it sent one.
        detail: Option<String>,
    },
    /// The issuer chain header is missing.
    #[error("{piece}: the answer of {url} has no issuer chain header (expected {expected})")]
    MissingHeader {
        /// The piece asked for.
        piece: Piece,
        /// The URL asked.
        url: String,
        /// The header name(s) looked for.
        expected: String,
    },
    /// The answer is not a well-formed piece.
    #[error("{piece}: the answer of {url} is malformed: {reason}")]
    Malformed {
        /// The piece asked for.
        piece: Piece,
        /// The URL asked.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The answer is larger than the size limit.
    #[error("{piece}: the answer of {url} is over the size limit of {limit} bytes")]
    TooLarge {
        /// The piece asked for.
        piece: Piece,
        /// The URL asked.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The piece failed its signature or chain check.
    #[error("{piece} from {url} rejected: {reason}")]
    Rejected {
        /// The piece asked for.
        piece: Piece,
        /// Where it came from.
        url: String,
        /// Which check failed and why.
        reason: String,
    },
    /// The network may not be used and the cache has no piece valid at the time asked for.
    #[error("{piece}: no cached copy valid at {at} and network use is disabled")]
    NotCached {
        /// The piece asked for.
        piece: Piece,
        /// The verification time, RFC 3339.
        at: String,
    },
    /// The cache directory could not be read or written.
    #[error("collateral cache {}: {source}", path.display())]
    Cache {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be set up (e.g. a bad CA certificate for the service).
    #[error("HTTP client setup: {reason}")]
    Setup {
        /// What failed.
        reason: String,
    },
}

impl FetchError {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::Unreachable { .. }
            | FetchError::Timeout { .. }
            | FetchError::Status { .. }
            | FetchError::NotCached { .. } => ErrorKind::Unavailable,
            FetchError::Rejected { .. } => ErrorKind::Rejected,
            FetchError::MissingHeader { .. }
            | FetchError::Malformed { .. }
            | FetchError::TooLarge { .. } => ErrorKind::Malformed,
            FetchError::Cache { .. } | FetchError::Setup { .. } => ErrorKind::Local,
        }
    }

    /// The piece concerned, if the error is about one.
    pub fn piece(&self) -> Option<Piece> {
        match self {
            FetchError::Unreachable { piece, .. }
            | FetchError::Timeout { piece, .. }
            | FetchError::Status { piece, .. }
            | FetchError::MissingHeader { piece, .. }
            | FetchError::Malformed { piece, .. }
            | FetchError::TooLarge { piece, .. }
            | FetchError::Rejected { piece, .. }
            | FetchError::NotCached { piece, .. } => Some(*piece),
            FetchError::Cache { .. } | FetchError::Setup { .. } => None,
        }
    }
}
