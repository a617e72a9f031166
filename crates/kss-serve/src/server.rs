//! The accept loop: HTTP/1.1 over TCP or TLS (rustls with ring), bounded connections, header
//! read timeout, graceful shutdown (readiness off, stop accepting, let in-flight requests
//! finish within the drain timeout), SIGHUP policy reloads.

use crate::state::{AppState, StartError};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Time a client gets to send its request headers (and to finish a TLS handshake).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The rustls crypto provider: ring, the ECDSA/SHA code the verifier already uses (rustls 0.23.48
/// deprecates it only for lacking post-quantum key exchange; aws-lc-rs would add a C/cmake build).
#[allow(deprecated)]
pub(crate) fn ring_provider() -> Arc<tokio_rustls::rustls::crypto::CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}

/// Builds a TLS acceptor from a PEM certificate chain and a PEM private key.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, StartError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| StartError::Tls(format!("{}: {e}", cert.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StartError::Tls(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(StartError::Tls(format!(
            "{}: no certificate",
            cert.display()
        )));
    }
    // The TLS key is a secret like the signing key: refuse one that others may read.
    let key_pem = crate::token::read_key_file(key).map_err(|e| StartError::Tls(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| StartError::Tls(format!("{}: {e}", key.display())))?;
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| StartError::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A bound, not yet serving, service.
pub struct Server {
    state: Arc<AppState>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
}

impl Server {
    /// Binds `addr` (use port 0 for any free port) with `state`, serving TLS when `tls` is set.
    pub async fn bind(
        addr: SocketAddr,
        state: Arc<AppState>,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            state,
            listener,
            tls,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains: readiness goes off, the listener is
    /// closed, and in-flight requests get the drain timeout to finish.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let Self {
            state,
            listener,
            tls,
        } = self;
        let app = crate::routes::router(state.clone());
        let graceful = GracefulShutdown::new();
        let conns = Arc::new(tokio::sync::Semaphore::new(state.max_connections));
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Ok(permit) = conns.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "connection limit reached; closing the new connection");
                drop(tcp);
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let svc = TowerToHyperService::new(app.clone());
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                // A client may shut down its write side and wait for the answer.
                .half_close(true)
                .keep_alive(true);
            let watcher = graceful.watcher();
            match tls.clone() {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(tcp), svc);
                    let conn = watcher.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        drop(permit);
                    });
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        let stream = match tokio::time::timeout(
                            HEADER_TIMEOUT,
                            acceptor.accept(tcp),
                        )
                        .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                        let conn = builder.serve_connection(TokioIo::new(stream), svc);
                        if let Err(e) = watcher.watch(conn).await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        drop(permit);
                    });
                }
            }
        }
        state.start_draining();
        drop(listener);
        tracing::info!("draining: no new connections; finishing in-flight requests");
        match tokio::time::timeout(state.drain_timeout, graceful.shutdown()).await {
            Ok(()) => tracing::info!("all connections closed"),
            Err(_) => tracing::warn!(
                "drain timeout ({} s) reached with connections still open",
                state.drain_timeout.as_secs_f64()
            ),
        }
    }
}

/// Completes on SIGTERM or SIGINT. While waiting, reloads the policies on every SIGHUP.
pub async fn signals(state: Arc<AppState>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        std::future::pending::<()>().await;
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: shutting down"); break; }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading policies");
                let s = state.clone();
                // Reading files is blocking work.
                let _ = tokio::task::spawn_blocking(move || s.reload_policies()).await;
            }
        }
    }
    state.start_draining();
}
