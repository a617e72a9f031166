//! The server side: serves one enclave on a private Unix socket, one thread per connection, at
//! most [`MAX_CONNECTIONS`] connections at once. A connection beyond the cap gets one error
//! response ("busy", [`ErrorCode::Internal`]) to its first request and is closed; the service
//! itself keeps serving.

use crate::protocol::{read_frame, write_frame, ErrorCode, Request, Response};
use kss_types::{KeyRequest, Report, ReportBody, TargetInfo};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// Connections served at once. More are refused with a "busy" error: thread creation never
/// fails under a connection flood, and a flood never stops the service.
pub const MAX_CONNECTIONS: usize = 128;

/// Refused connections kept open (their write side shut) after their "busy" answer, so the
/// client can still write its request and read the answer; the oldest is closed beyond this.
const REFUSED_KEPT: usize = 256;

/// The file in the socket directory holding the pid of the process serving it, so a later
/// [`Server::start`] can remove the directory of a process that died without cleaning up.
pub const OWNER_FILE: &str = "owner.pid";

/// The prefix of socket directory names (in the temporary directory).
pub const DIR_PREFIX: &str = "kss-enclave-";

/// Removes the socket directories in `tmp` left by dead processes: directories named
/// `kss-enclave-…`, owned by this user, whose [`OWNER_FILE`] names a process that no longer
/// exists. Directories of live processes and of other users are left alone. Returns how many
/// were removed.
pub fn sweep_stale_dirs(tmp: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(tmp) else {
        return 0;
    };
    let uid = kss_io::current_uid();
    let mut removed = 0;
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        let dir = e.path();
        let Ok(md) = dir.symlink_metadata() else {
            continue;
        };
        if !md.is_dir() || md.uid() != uid {
            continue;
        }
        let owner = kss_io::read_bounded(&dir.join(OWNER_FILE), 32)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.trim().parse::<u32>().ok());
        if owner.is_some_and(|pid| !kss_io::process_alive(pid))
            && std::fs::remove_dir_all(&dir).is_ok()
        {
            removed += 1;
        }
    }
    removed
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
    /// First removes the socket directories of dead processes ([`sweep_stale_dirs`]).
    pub fn start(ops: Arc<dyn EnclaveOps>) -> std::io::Result<Self> {
        sweep_stale_dirs(&std::env::temp_dir());
        let dir = tempfile::Builder::new().prefix(DIR_PREFIX).tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        std::fs::write(
            dir.path().join(OWNER_FILE),
            format!("{}\n", std::process::id()),
        )?;
        let socket = dir.path().join("enclave.sock");
        let listener = UnixListener::bind(&socket)?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let mut refused = std::collections::VecDeque::with_capacity(REFUSED_KEPT);
        let active = Arc::new(AtomicUsize::new(0));
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
                    if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                        active.fetch_sub(1, Ordering::SeqCst);
                        refuse(&conn);
                        if refused.len() == REFUSED_KEPT {
                            refused.pop_front();
                        }
                        refused.push_back(conn);
                        continue;
                    }
                    let ops = ops.clone();
                    let slot = Slot(active.clone());
                    // A failed spawn drops the closure: the slot is released, the connection
                    // closed, and the service goes on.
                    let _ = std::thread::Builder::new()
                        .name("kss-conn".into())
                        .spawn(move || {
                            let _slot = slot;
                            serve_connection(conn, ops.as_ref())
                        });
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

/// One of the [`MAX_CONNECTIONS`] connection slots, released when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers a connection beyond the cap with a "busy" error, without waiting for its request
/// (the small frame fits the socket buffer; the write never blocks), and shuts its write side.
/// The client reads the error as the response to its first request.
fn refuse(conn: &UnixStream) {
    let msg = format!(
        "the enclave service is busy: {MAX_CONNECTIONS} connections are open; close one or retry later"
    );
    let _ = conn.set_nonblocking(true);
    let mut w = conn;
    let _ = write_frame(&mut w, &Response::Err(ErrorCode::Internal, msg).encode());
    let _ = conn.shutdown(std::net::Shutdown::Write);
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
