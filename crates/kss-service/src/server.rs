//! The server side: serves one enclave on a private Unix socket, one thread per connection.

use crate::protocol::{read_frame, write_frame, ErrorCode, Request, Response};
use kss_types::{KeyRequest, Report, ReportBody, TargetInfo};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use zeroize::{Zeroize, Zeroizing};

/// A failed enclave operation, as sent back to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OpError {
    /// Code for the client.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
}

impl OpError {
    /// Builds an error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// What the service needs from an enclave (simulated or hardware-backed).
pub trait EnclaveOps: Send + Sync {
    /// The enclave's own REPORT body with zero REPORTDATA.
    fn identity(&self) -> Result<ReportBody, OpError>;
    /// TARGETINFO naming the enclave, CONFIGID/CONFIGSVN included.
    fn target_info(&self) -> TargetInfo;
    /// EREPORT.
    fn report(&self, target: &TargetInfo, report_data: &[u8; 64]) -> Result<Report, OpError>;
    /// Verifies a REPORT targeted at this enclave.
    fn verify_report(&self, report: &Report) -> Result<(), OpError>;
    /// EGETKEY.
    fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, OpError>;
    /// A DCAP quote over a REPORT with this REPORTDATA.
    fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, OpError>;
}

/// Handles one decoded request.
pub fn handle(ops: &dyn EnclaveOps, req: &Request) -> Response {
    let r = match req {
        Request::Identity => ops.identity().map(|b| b.to_bytes().to_vec()),
        Request::TargetInfo => Ok(ops.target_info().to_bytes().to_vec()),
        Request::Report(t, d) => ops.report(t, d).map(|r| r.to_bytes().to_vec()),
        Request::VerifyReport(r) => ops.verify_report(r).map(|()| Vec::new()),
        Request::GetKey(k) => ops.get_key(k).map(|key| key.to_vec()),
        Request::Quote(d) => ops.quote(d),
    };
    match r {
        Ok(p) => Response::Ok(p),
        Err(e) => Response::Err(e.code, e.message),
    }
}

/// A running service. Dropping it stops accepting and removes the socket directory.
pub struct Server {
    dir: tempfile::TempDir,
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds a socket in a fresh private directory (0700; socket 0600) and starts serving.
    pub fn start(ops: Arc<dyn EnclaveOps>) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("kss-enclave-").tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        let socket = dir.path().join("enclave.sock");
        let listener = UnixListener::bind(&socket)?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let accept = std::thread::Builder::new()
            .name("kss-accept".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else {
                        // A persistent failure (EMFILE, ENOBUFS) would otherwise spin a
                        // core; pause briefly and keep serving once it clears.
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        continue;
                    };
                    let ops = ops.clone();
                    let _ = std::thread::Builder::new()
                        .name("kss-conn".into())
                        .spawn(move || serve_connection(conn, ops.as_ref()));
                }
            })?;
        Ok(Self {
            dir,
            socket,
            stop,
            accept: Some(accept),
        })
    }

    /// The socket path to hand to the workload.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The private directory holding the socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag. If the wake-up cannot connect (the
        // workload removed the socket file, say), the loop would never return: leave the
        // thread detached rather than hang in join.
        let woke = UnixStream::connect(&self.socket).is_ok();
        if let Some(h) = self.accept.take() {
            if woke {
                let _ = h.join();
            }
        }
    }
}

fn serve_connection(mut conn: UnixStream, ops: &dyn EnclaveOps) {
    loop {
        let body = match read_frame(&mut conn) {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => return,
        };
        let resp = match Request::decode(&body) {
            Ok(req) => handle(ops, &req),
            Err(e) => Response::Err(ErrorCode::BadRequest, e.to_string()),
        };
        let mut out = resp.encode();
        let ok = write_frame(&mut conn, &out).is_ok();
        // Key material never lingers in freed buffers.
        out.zeroize();
        if let Response::Ok(mut p) = resp {
            p.zeroize();
        }
        if !ok {
            return;
        }
    }
}
