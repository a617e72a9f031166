//! Why collateral could not be had. Every error names the piece and, when the network was
//! involved, the URL (and the HTTP status when there was one).

use crate::headers::HeaderError;
use crate::piece::Piece;
use kss_attest::collateral::piece_check::{Malformed, Rejection};
use std::path::PathBuf;
use std::sync::Arc;
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
        /// The client's error (shared with callers that waited for the same fetch).
        #[source]
        source: Arc<reqwest::Error>,
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
    #[error("{piece}: the answer of {url} is malformed: {problem}")]
    Malformed {
        /// The piece asked for.
        piece: Piece,
        /// The URL asked.
        url: String,
        /// What is wrong (shared with callers that waited for the same fetch).
        #[source]
        problem: Arc<MalformedAnswer>,
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
    #[error("{piece} from {url} rejected: {problem}")]
    Rejected {
        /// The piece asked for.
        piece: Piece,
        /// Where it came from.
        url: String,
        /// Which check failed and why (shared with callers that waited for the same fetch).
        #[source]
        problem: Arc<Rejection>,
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
    #[error("HTTP client setup: {problem}")]
    Setup {
        /// What failed.
        #[source]
        problem: Arc<SetupProblem>,
    },
}

/// What is wrong with an answer that is not a well-formed piece.
#[derive(Debug, thiserror::Error)]
pub enum MalformedAnswer {
    /// The issuer chain header does not hold a PEM chain.
    #[error("{0}")]
    IssuerChain(#[source] HeaderError),
    /// The answer has no body.
    #[error("empty body")]
    EmptyBody,
    /// The body failed the piece checks as malformed (or, after they passed, its signed body
    /// could not be split out again for the cache entry).
    #[error("{0}")]
    Piece(#[source] Malformed),
    /// A piece held without the signed body it needs.
    #[error("no signed body")]
    NoSignedBody,
}

/// Why the HTTP client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupProblem {
    /// A CA certificate given for the service does not parse.
    #[error("CA certificate for the service: {0}")]
    CaCertificate(#[source] reqwest::Error),
    /// A CA certificate file given for the service holds no certificate.
    #[error("CA certificate for the service: no PEM certificate found")]
    NoCaCertificate,
    /// The client itself could not be built.
    #[error("{0}")]
    Client(#[source] reqwest::Error),
    /// The runtime of a blocking call could not be started.
    #[error("async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl FetchError {
    /// A malformed-answer error.
    pub(crate) fn malformed(piece: Piece, url: &str, problem: MalformedAnswer) -> Self {
        FetchError::Malformed {
            piece,
            url: url.to_string(),
            problem: Arc::new(problem),
        }
    }

    /// A setup error.
    pub(crate) fn setup(problem: SetupProblem) -> Self {
        FetchError::Setup {
            problem: Arc::new(problem),
        }
    }
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

    /// A copy for another caller that waited for the same fetch. Equal in every field, except
    /// that a [`FetchError::Cache`] copy keeps the OS error's kind and text but not its own
    /// source.
    pub(crate) fn duplicate(&self) -> FetchError {
        match self {
            FetchError::Unreachable { piece, url, source } => FetchError::Unreachable {
                piece: *piece,
                url: url.clone(),
                source: source.clone(),
            },
            FetchError::Timeout {
                piece,
                url,
                timeout,
            } => FetchError::Timeout {
                piece: *piece,
                url: url.clone(),
                timeout: *timeout,
            },
            FetchError::Status {
                piece,
                url,
                status,
                detail,
            } => FetchError::Status {
                piece: *piece,
                url: url.clone(),
                status: *status,
                detail: detail.clone(),
            },
            FetchError::MissingHeader {
                piece,
                url,
                expected,
            } => FetchError::MissingHeader {
                piece: *piece,
                url: url.clone(),
                expected: expected.clone(),
            },
            FetchError::Malformed {
                piece,
                url,
                problem,
            } => FetchError::Malformed {
                piece: *piece,
                url: url.clone(),
                problem: problem.clone(),
            },
            FetchError::TooLarge { piece, url, limit } => FetchError::TooLarge {
                piece: *piece,
                url: url.clone(),
                limit: *limit,
            },
            FetchError::Rejected {
                piece,
                url,
                problem,
            } => FetchError::Rejected {
                piece: *piece,
                url: url.clone(),
                problem: problem.clone(),
            },
            FetchError::NotCached { piece, at } => FetchError::NotCached {
                piece: *piece,
                at: at.clone(),
            },
            FetchError::Cache { path, source } => FetchError::Cache {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            FetchError::Setup { problem } => FetchError::Setup {
                problem: problem.clone(),
            },
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
