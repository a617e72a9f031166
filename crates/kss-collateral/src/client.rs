//! HTTP(S) fetches of single pieces: rustls with the system's roots (plus any CA the caller
//! trusts for its PCCS), proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`), a timeout per attempt, and a bounded retry with exponential
//! backoff on connection errors and on HTTP 5xx/429.

use crate::endpoint::Endpoint;
use crate::error::FetchError;
use crate::headers;
use crate::piece::Piece;
use std::time::Duration;

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The time one attempt may take, from connecting to the last byte of the body. A timeout
    /// is not retried: the service had its chance.
    pub timeout: Duration,
    /// Further attempts after a connection error or an HTTP 5xx/429 answer.
    pub retries: u32,
    /// The wait before the first retry; it doubles each time, up to [`MAX_BACKOFF`].
    pub backoff: Duration,
    /// The largest body accepted, in bytes.
    pub max_body: usize,
    /// PEM certificates of CAs trusted for the service's TLS certificate, besides the system's
    /// roots (e.g. a PCCS's own CA).
    pub extra_roots_pem: Vec<Vec<u8>>,
}

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The default timeout of one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default size limit of a body: 4 MiB (a TCB info is tens of KiB, a CRL a few KiB).
pub const DEFAULT_MAX_BODY: usize = 4 << 20;

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            retries: 2,
            backoff: Duration::from_millis(250),
            max_body: DEFAULT_MAX_BODY,
            extra_roots_pem: Vec::new(),
        }
    }
}

/// A piece as the service sent it.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL it came from.
    pub url: String,
    /// The body, byte-exact.
    pub body: Vec<u8>,
    /// The URL-decoded PEM issuer chain from the header (every piece but the Root CA CRL).
    pub issuer_chain: Option<String>,
}

/// An HTTP client for one PCS or PCCS.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Endpoint,
    config: ClientConfig,
}

impl Client {
    /// A client for `endpoint`. Reads the system's root certificates.
    pub fn new(endpoint: Endpoint, config: ClientConfig) -> Result<Self, FetchError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(true)
            .connect_timeout(config.timeout)
            .user_agent(concat!("kss/", env!("CARGO_PKG_VERSION")));
        for pem in &config.extra_roots_pem {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| FetchError::Setup {
                    reason: format!("CA certificate for the service: {e}"),
                })?;
            if certs.is_empty() {
                return Err(FetchError::Setup {
                    reason: "CA certificate for the service: no PEM certificate found".into(),
                });
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|e| FetchError::Setup {
            reason: e.to_string(),
        })?;
        Ok(Self {
            http,
            endpoint,
            config,
        })
    }

    /// The service.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Fetches one piece, retrying as configured.
    pub async fn fetch(&self, piece: &Piece) -> Result<Response, FetchError> {
        let url = self.endpoint.url_of(piece);
        let mut attempt = 0u32;
        loop {
            match self.fetch_once(piece, &url).await {
                Err(e) if attempt < self.config.retries && retryable(&e) => {
                    let wait = self
                        .config
                        .backoff
                        .saturating_mul(1u32 << attempt.min(16))
                        .min(MAX_BACKOFF);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn fetch_once(&self, piece: &Piece, url: &str) -> Result<Response, FetchError> {
        let net = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout {
                    piece: *piece,
                    url: url.to_string(),
                    timeout: self.config.timeout,
                }
            } else {
                FetchError::Unreachable {
                    piece: *piece,
                    url: url.to_string(),
                    source: e,
                }
            }
        };
        let mut resp = self
            .http
            .get(url)
            .timeout(self.config.timeout)
            .send()
            .await
            .map_err(net)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                piece: *piece,
                url: url.to_string(),
                status: status.as_u16(),
                detail: status_detail(piece, status.as_u16(), resp.headers()),
            });
        }
        let issuer_chain = match chain_headers(piece) {
            None => None,
            Some(names) => {
                let value = names
                    .iter()
                    .find_map(|n| resp.headers().get(*n))
                    .ok_or_else(|| FetchError::MissingHeader {
                        piece: *piece,
                        url: url.to_string(),
                        expected: names.join(" or "),
                    })?;
                Some(
                    headers::decode_pem_chain(value.as_bytes()).map_err(|reason| {
                        FetchError::Malformed {
                            piece: *piece,
                            url: url.to_string(),
                            reason,
                        }
                    })?,
                )
            }
        };
        let limit = self.config.max_body;
        let too_large = || FetchError::TooLarge {
            piece: *piece,
            url: url.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(net)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if body.is_empty() {
            return Err(FetchError::Malformed {
                piece: *piece,
                url: url.to_string(),
                reason: "empty body".into(),
            });
        }
        Ok(Response {
            url: url.to_string(),
            body,
            issuer_chain,
        })
    }
}

/// The issuer chain header names of a piece (`None`: it has none).
fn chain_headers(piece: &Piece) -> Option<&'static [&'static str]> {
    match piece {
        Piece::TcbInfo { .. } => Some(headers::TCB_INFO_ISSUER_CHAIN),
        Piece::QeIdentity => Some(headers::ENCLAVE_IDENTITY_ISSUER_CHAIN),
        Piece::PckCrl { .. } => Some(headers::PCK_CRL_ISSUER_CHAIN),
        Piece::RootCaCrl => None,
    }
}

fn retryable(e: &FetchError) -> bool {
    match e {
        FetchError::Unreachable { source, .. } => !source.is_builder(),
        FetchError::Status { status, .. } => *status >= 500 || *status == 429,
        _ => false,
    }
}

fn status_detail(piece: &Piece, status: u16, h: &reqwest::header::HeaderMap) -> Option<String> {
    let mut parts = Vec::new();
    if status == 404 {
        parts.push(match piece {
            Piece::TcbInfo { .. } => "the service has no TCB info for this FMSPC".to_string(),
            _ => "the service does not have this piece".to_string(),
        });
    }
    for name in ["Error-Code", "Error-Message"] {
        if let Some(v) = h.get(name).and_then(|v| v.to_str().ok()) {
            parts.push(format!(
                "{name}: {}",
                v.chars().take(200).collect::<String>()
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
