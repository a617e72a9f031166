//! HTTP(S) fetches of single pieces: rustls with the system's roots (plus any CA the caller
//! trusts for its PCCS), proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`), a timeout per attempt, and a bounded retry with exponential
//! backoff on connection errors and on HTTP 5xx/429. A 429 or 503 answer with a `Retry-After`
//! header (seconds or an HTTP date) is retried after the time the service asked for instead,
//! if that is no longer than the client waits for one attempt (and [`MAX_RETRY_AFTER`]);
//! a longer one is not retried at all, so the service is never asked again earlier than told.

use crate::endpoint::Endpoint;
use crate::error::{FetchError, MalformedAnswer, SetupProblem};
use crate::headers;
use crate::piece::Piece;
use std::time::{Duration, SystemTime};

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

/// The longest `Retry-After` wait honoured (it is also capped by the timeout of one attempt).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The default timeout of one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default size limit of a body: 4 MiB (a TCB info is tens of KiB, a CRL a few KiB).
pub const DEFAULT_MAX_BODY: usize = 4 << 20;

impl ClientConfig {
    /// The longest wait before a retry: the backoff's maximum, or a `Retry-After` the client
    /// honours (no longer than one attempt's timeout and [`MAX_RETRY_AFTER`]).
    pub fn max_wait(&self) -> Duration {
        self.retry_after_cap().max(self.backoff.min(MAX_BACKOFF))
    }

    /// The longest `Retry-After` honoured: the timeout of one attempt, at most
    /// [`MAX_RETRY_AFTER`].
    pub fn retry_after_cap(&self) -> Duration {
        self.timeout.min(MAX_RETRY_AFTER)
    }

    /// An upper bound of the time one fetch takes with all its attempts and waits (what a
    /// caller waiting for another caller's fetch of the same piece waits at most).
    pub fn max_fetch_time(&self) -> Duration {
        let attempts = self.retries.saturating_add(1);
        self.timeout
            .saturating_mul(attempts)
            .saturating_add(self.max_wait().saturating_mul(self.retries))
    }
}

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
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| FetchError::setup(SetupProblem::CaCertificate(e)))?;
            if certs.is_empty() {
                return Err(FetchError::setup(SetupProblem::NoCaCertificate));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder
            .build()
            .map_err(|e| FetchError::setup(SetupProblem::Client(e)))?;
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

    /// Fetches one piece, retrying as configured: after a connection error or an HTTP
    /// 5xx/429 answer, with exponential backoff, or after the time a 429/503 answer's
    /// `Retry-After` header asks for (see the module documentation).
    pub async fn fetch(&self, piece: &Piece) -> Result<Response, FetchError> {
        let url = self.endpoint.url_of(piece);
        let mut attempt = 0u32;
        loop {
            let failed = match self.fetch_once(piece, &url).await {
                Ok(r) => return Ok(r),
                Err(f) => f,
            };
            if attempt >= self.config.retries || !retryable(&failed.error) {
                return Err(failed.error);
            }
            let wait = match failed.retry_after {
                Some(asked) if asked > self.config.retry_after_cap() => {
                    return Err(not_retried(failed.error, self.config.retry_after_cap()));
                }
                Some(asked) => asked,
                None => self
                    .config
                    .backoff
                    .saturating_mul(1u32 << attempt.min(16))
                    .min(MAX_BACKOFF),
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt. A failure carries the wait a 429/503 answer's `Retry-After` asked for.
    async fn fetch_once(&self, piece: &Piece, url: &str) -> Result<Response, Failed> {
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
                    source: std::sync::Arc::new(e),
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
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let retry_after = match status {
                429 | 503 => retry_after(resp.headers(), SystemTime::now()),
                _ => None,
            };
            return Err(Failed {
                error: FetchError::Status {
                    piece: *piece,
                    url: url.to_string(),
                    status,
                    detail: status_detail(piece, status, resp.headers(), retry_after),
                },
                retry_after,
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
                Some(headers::decode_pem_chain(value.as_bytes()).map_err(|e| {
                    FetchError::malformed(*piece, url, MalformedAnswer::IssuerChain(e))
                })?)
            }
        };
        let limit = self.config.max_body;
        let too_large = || FetchError::TooLarge {
            piece: *piece,
            url: url.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large().into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(net)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large().into());
            }
            body.extend_from_slice(&chunk);
        }
        if body.is_empty() {
            return Err(FetchError::malformed(*piece, url, MalformedAnswer::EmptyBody).into());
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

fn status_detail(
    piece: &Piece,
    status: u16,
    h: &reqwest::header::HeaderMap,
    retry_after: Option<Duration>,
) -> Option<String> {
    let mut parts = Vec::new();
    if status == 404 {
        parts.push(match piece {
            Piece::TcbInfo { .. } => "the service has no TCB info for this FMSPC".to_string(),
            _ => "the service does not have this piece".to_string(),
        });
    }
    if let Some(wait) = retry_after {
        parts.push(format!("Retry-After: {} s", wait.as_secs_f64().ceil()));
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

/// A failed attempt, and the wait its answer's `Retry-After` asked for.
#[derive(Debug)]
struct Failed {
    error: FetchError,
    retry_after: Option<Duration>,
}

impl From<FetchError> for Failed {
    fn from(error: FetchError) -> Self {
        Failed {
            error,
            retry_after: None,
        }
    }
}

/// The wait a `Retry-After` header asks for at `now`: delay-seconds, or an HTTP date (a date
/// in the past is no wait). `None` when there is none or it is neither form.
fn retry_after(h: &reqwest::header::HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64: as good as forever.
        return Some(Duration::from_secs(v.parse().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A 429/503 error whose `Retry-After` is longer than `cap`: given up on, saying why.
fn not_retried(mut error: FetchError, cap: Duration) -> FetchError {
    if let FetchError::Status { detail, .. } = &mut error {
        let note = format!(
            "not retried: longer than the {} s this client waits",
            cap.as_secs_f64()
        );
        *detail = Some(match detail.take() {
            Some(d) => format!("{d}, {note}"),
            None => note,
        });
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
        assert_eq!(
            retry_after(&with("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(retry_after(&with(" 0 "), now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&with("99999999999999999999999"), now),
            Some(Duration::from_secs(u64::MAX))
        );
        // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT.
        assert_eq!(
            retry_after(&with("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&with("Wed, 21 Oct 2015 07:27:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&with("-5"), now), None);
        assert_eq!(retry_after(&with("soon"), now), None);
    }

    #[test]
    fn the_longest_wait_is_bounded() {
        let c = ClientConfig {
            timeout: Duration::from_secs(5),
            ..ClientConfig::default()
        };
        assert_eq!(c.retry_after_cap(), Duration::from_secs(5));
        assert_eq!(c.max_wait(), Duration::from_secs(5));
        // Three attempts of 5 s and two waits of at most 5 s.
        assert_eq!(c.max_fetch_time(), Duration::from_secs(25));
        let d = ClientConfig::default();
        assert_eq!(d.retry_after_cap(), Duration::from_secs(30));
        let e = not_retried(
            FetchError::Status {
                piece: Piece::QeIdentity,
                url: "http://x/qe/identity".into(),
                status: 503,
                detail: Some("Retry-After: 600 s".into()),
            },
            Duration::from_secs(30),
        );
        assert_eq!(
            e.to_string(),
            "QE identity: http://x/qe/identity answered HTTP 503 (Retry-After: 600 s, not retried: longer than the 30 s this client waits)"
        );
    }

    #[test]
    fn bad_service_ca_certificates_say_why_in_exact_words() {
        let why = |pem: &[u8]| {
            let config = ClientConfig {
                extra_roots_pem: vec![pem.to_vec()],
                ..ClientConfig::default()
            };
            Client::new(Endpoint::intel_pcs(), config)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            why(b"no pem"),
            "HTTP client setup: CA certificate for the service: no PEM certificate found"
        );
        assert_eq!(
            why(b"-----BEGIN CERTIFICATE-----\nzz\n-----END CERTIFICATE-----\n"),
            "HTTP client setup: builder error"
        );
    }
}
