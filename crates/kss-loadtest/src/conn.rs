//! Connections to a loopback target: the loopback address check, TLS for https://, the
//! connect and HTTP/1.1 handshake, one request/response exchange, and building requests.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::record::Outcome;
use crate::Shared;

/// TLS for an https:// target: the connector and the name the certificate must carry.
pub(crate) type Tls = (TlsConnector, ServerName<'static>);

pub(crate) fn loopback_addr(uri: &Uri) -> Result<SocketAddr, String> {
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err(format!("{uri}: only http:// and https:// URLs")),
    };
    let host = uri.host().ok_or_else(|| format!("{uri}: no host"))?;
    let ip: IpAddr = if host == "localhost" {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("{uri}: the host must be a loopback IP address or localhost"))?
    };
    if !ip.is_loopback() {
        return Err(format!(
            "{uri}: {ip} is not a loopback address; this driver only loads this machine"
        ));
    }
    Ok(SocketAddr::new(ip, uri.port_u16().unwrap_or(default_port)))
}

/// The rustls crypto provider: ring, as `kss serve` uses (rustls deprecates it only for
/// lacking post-quantum key exchange, which a loopback benchmark does not need).
#[allow(deprecated)]
fn ring_provider() -> Arc<tokio_rustls::rustls::crypto::CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}

/// TLS for `uri` when it is https://: a client that trusts only the CA certificates in
/// `ca_cert`. `None` for http://.
pub(crate) fn tls_for(uri: &Uri, ca_cert: Option<&std::path::Path>) -> Result<Option<Tls>, String> {
    if uri.scheme_str() != Some("https") {
        return Ok(None);
    }
    let path = ca_cert.ok_or_else(|| format!("{uri}: an https:// URL needs --ca-cert PEM"))?;
    let at = |e: &dyn std::fmt::Display| format!("--ca-cert {}: {e}", path.display());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| at(&e))? {
        roots.add(cert.map_err(|e| at(&e))?).map_err(|e| at(&e))?;
    }
    if roots.is_empty() {
        return Err(at(&"no certificate in the file"));
    }
    let provider = ring_provider();
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{uri}: {e}"))?;
    Ok(Some((TlsConnector::from(Arc::new(config)), name)))
}

pub(crate) type Sender = SendRequest<Full<Bytes>>;

pub(crate) async fn connect(addr: SocketAddr, tls: Option<&Tls>) -> Result<Sender, Outcome> {
    let stream = match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await
    {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return Err(Outcome::Connect),
        Err(_) => return Err(Outcome::Connect),
    };
    let _ = stream.set_nodelay(true);
    match tls {
        None => handshake(stream).await,
        Some((connector, name)) => {
            let secured = tokio::time::timeout(
                Duration::from_secs(2),
                connector.connect(name.clone(), stream),
            )
            .await
            .map_err(|_| Outcome::Connect)?
            .map_err(|_| Outcome::Connect)?;
            handshake(secured).await
        }
    }
}

async fn handshake<S>(stream: S) -> Result<Sender, Outcome>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| Outcome::Connect)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn classify_error(e: &hyper::Error) -> Outcome {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        Outcome::Closed
    } else {
        Outcome::Io
    }
}

/// One request on `sender`; the body of a 200 answer comes back with it.
pub(crate) async fn exchange(
    sender: &mut Sender,
    req: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(u16, Bytes), Outcome> {
    let fut = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| classify_error(&e))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| classify_error(&e))?
            .to_bytes();
        Ok((status, body))
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(Outcome::Timeout),
    }
}

pub(crate) fn request(
    sh: &Shared,
    method: Method,
    path: &str,
    body: Bytes,
) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, sh.authority.as_str());
    if !body.is_empty() {
        b = b.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    b.body(Full::new(body)).expect("a valid request")
}

pub(crate) async fn fetch_json(sh: &Shared, url: &str) -> Result<Value, String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let addr = loopback_addr(&uri)?;
    let tls = tls_for(&uri, sh.args.ca_cert.as_deref())?;
    let mut s = connect(addr, tls.as_ref())
        .await
        .map_err(|_| format!("{url}: cannot connect"))?;
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or("/".into());
    let req = request(sh, Method::GET, &path, Bytes::new());
    match exchange(&mut s, req, Duration::from_secs(10)).await {
        Ok((200, b)) => serde_json::from_slice(&b).map_err(|e| format!("{url}: {e}")),
        Ok((st, _)) => Err(format!("{url}: HTTP {st}")),
        Err(o) => Err(format!("{url}: {}", o.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        for ok in [
            "http://127.0.0.1:8080/v1/attest",
            "http://localhost:1/",
            "http://[::1]:9/",
        ] {
            assert!(loopback_addr(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:80/",
            "http://192.168.1.1/",
            "http://example.com/",
            "https://10.0.0.1/",
            "ftp://127.0.0.1/",
        ] {
            assert!(loopback_addr(&bad.parse().unwrap()).is_err(), "{bad}");
        }
        // https:// on loopback: port 443 by default, and only with a CA to trust.
        let tls: Uri = "https://127.0.0.1/v1/attest".parse().unwrap();
        assert_eq!(loopback_addr(&tls).unwrap().port(), 443);
        let e = tls_for(&tls, None).err().unwrap();
        assert_eq!(
            e,
            "https://127.0.0.1/v1/attest: an https:// URL needs --ca-cert PEM"
        );
        assert!(tls_for(&"http://127.0.0.1/".parse().unwrap(), None)
            .unwrap()
            .is_none());
    }
}
