//! A small HTTP/1.1 client for `kss attest`, `kss token verify --jwks URL` and the load
//! generator: `http://` and `https://` (rustls with ring; the server's CA is given explicitly).

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A client failure (connecting, TLS, protocol) — not an HTTP error status.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(pub String);

/// Largest response body read.
const MAX_RESPONSE: usize = 16 << 20;

/// A parsed `http://` or `https://` base URL.
#[derive(Debug, Clone)]
pub struct Target {
    host: String,
    port: u16,
    https: bool,
    base_path: String,
}

impl Target {
    /// Parses `http[s]://host[:port][/base]`.
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| ClientError(format!("{url}: not a URL: {e}")))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(ClientError(format!(
                    "{url}: only http:// and https:// URLs"
                )))
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| ClientError(format!("{url}: no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Self {
            host,
            port,
            https,
            base_path,
        })
    }

    /// True for `https://`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `host:port` (IPv6 hosts in brackets).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The path of `endpoint` under the base URL.
    pub fn path(&self, endpoint: &str) -> String {
        format!("{}{endpoint}", self.base_path)
    }
}

/// Connects to targets, with TLS when they are `https://`.
#[derive(Clone)]
pub struct Client {
    tls: Option<TlsConnector>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("tls", &self.tls.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Client {
    /// A client; `ca` (PEM) is the CA that `https://` servers must chain to.
    pub fn new(ca: Option<&Path>, timeout: Duration) -> Result<Self, ClientError> {
        let tls = match ca {
            None => None,
            Some(p) => {
                let mut roots = tokio_rustls::rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(p)
                    .map_err(|e| ClientError(format!("{}: {e}", p.display())))?;
                for c in certs {
                    let c = c.map_err(|e| ClientError(format!("{}: {e}", p.display())))?;
                    roots
                        .add(c)
                        .map_err(|e| ClientError(format!("{}: {e}", p.display())))?;
                }
                let provider = crate::server::ring_provider();
                let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| ClientError(e.to_string()))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Some(TlsConnector::from(Arc::new(config)))
            }
        };
        Ok(Self { tls, timeout })
    }

    /// Opens a keep-alive HTTP/1.1 connection to `target`.
    pub async fn connect(&self, target: &Target) -> Result<Connection, ClientError> {
        let tcp = tokio::time::timeout(self.timeout, TcpStream::connect(target.authority()))
            .await
            .map_err(|_| ClientError(format!("{}: connection timed out", target.authority())))?
            .map_err(|e| ClientError(format!("{}: cannot connect: {e}", target.authority())))?;
        let _ = tcp.set_nodelay(true);
        let sender = if target.https {
            let tls = self.tls.as_ref().ok_or_else(|| {
                ClientError("an https:// URL needs the server's CA certificate (--ca-cert)".into())
            })?;
            let name = ServerName::try_from(target.host.clone())
                .map_err(|e| ClientError(format!("{}: {e}", target.host)))?;
            let stream = tls
                .connect(name, tcp)
                .await
                .map_err(|e| ClientError(format!("TLS: {e}")))?;
            handshake(TokioIo::new(stream)).await?
        } else {
            handshake(TokioIo::new(tcp)).await?
        };
        Ok(Connection {
            sender,
            host: target.authority(),
            timeout: self.timeout,
        })
    }

    /// One request on a new connection: `(status, body)`.
    pub async fn request(
        &self,
        target: &Target,
        method: &str,
        endpoint: &str,
        json_body: Option<Bytes>,
    ) -> Result<(u16, Bytes), ClientError> {
        let mut c = self.connect(target).await?;
        c.request(method, &target.path(endpoint), json_body).await
    }
}

async fn handshake<I>(io: I) -> Result<SendRequest<Full<Bytes>>, ClientError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| ClientError(format!("HTTP handshake: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// An open HTTP/1.1 connection (requests go one after another).
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    timeout: Duration,
}

impl Connection {
    /// Sends one request; a `json_body` is sent as `application/json`.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        json_body: Option<Bytes>,
    ) -> Result<(u16, Bytes), ClientError> {
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host);
        if json_body.is_some() {
            b = b.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = b
            .body(Full::new(json_body.unwrap_or_default()))
            .map_err(|e| ClientError(e.to_string()))?;
        let work = async {
            self.sender
                .ready()
                .await
                .map_err(|e| ClientError(format!("connection: {e}")))?;
            let resp = self
                .sender
                .send_request(req)
                .await
                .map_err(|e| ClientError(format!("request: {e}")))?;
            let status = resp.status().as_u16();
            let body = http_body_util::Limited::new(resp.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| ClientError(format!("response: {e}")))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| {
                ClientError(format!("no answer within {} s", self.timeout.as_secs_f64()))
            })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.authority(), "127.0.0.1:8080");
        assert_eq!(t.path("/v1/attest"), "/v1/attest");
        let t = Target::parse("https://example.invalid/base/").unwrap();
        assert!(t.is_https());
        assert_eq!(t.authority(), "example.invalid:443");
        assert_eq!(t.path("/v1/nonce"), "/base/v1/nonce");
        let t = Target::parse("http://[::1]:9/").unwrap();
        assert_eq!(t.authority(), "[::1]:9");
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("not a url").is_err());
    }
}
