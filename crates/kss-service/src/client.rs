//! The client side, used by the workload (and by `kss enclave ...`).

use crate::protocol::{read_frame, write_frame, ErrorCode, ProtocolError, Request, Response};
use crate::SOCKET_ENV;
use kss_seal::{KeySource, KeySourceError};
use kss_types::{KeyRequest, Report, ReportBody, TargetInfo};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::{Zeroize, Zeroizing};

/// A client error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// `KSS_ENCLAVE_SOCKET` is not set.
    #[error("{SOCKET_ENV} is not set: run this inside `kss run` (the enclave service sets it for the workload)")]
    NotInEnclave,
    /// Could not reach the service.
    #[error("cannot reach the enclave service at {path}: {source}")]
    Connect {
        /// Socket path.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// I/O failure mid-request.
    #[error("enclave service I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Malformed data from the service.
    #[error("enclave service protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The service closed the connection.
    #[error("the enclave service closed the connection")]
    Closed,
    /// The enclave refused the request.
    #[error("{message}")]
    Enclave {
        /// Code.
        code: ErrorCode,
        /// Message from the enclave.
        message: String,
    },
    /// A payload of the wrong size.
    #[error("enclave service returned {actual} bytes for {what}, expected {expected}")]
    Payload {
        /// What.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Actual size.
        actual: usize,
    },
}

/// A connection to the enclave service. Thread-safe: requests are serialized on one
/// connection; open one client per thread for parallelism.
pub struct Client {
    conn: Mutex<UnixStream>,
}

impl Client {
    /// Connects to the socket named by `KSS_ENCLAVE_SOCKET`.
    pub fn from_env() -> Result<Self, ClientError> {
        let path = std::env::var_os(SOCKET_ENV)
            .filter(|p| !p.is_empty())
            .ok_or(ClientError::NotInEnclave)?;
        Self::connect(Path::new(&path))
    }

    /// Connects to a socket path.
    pub fn connect(path: &Path) -> Result<Self, ClientError> {
        let conn = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Sends a request and returns the OK payload.
    pub fn call(&self, req: &Request) -> Result<Vec<u8>, ClientError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        write_frame(&mut *conn, &req.encode())?;
        let mut body = read_frame(&mut *conn)?.ok_or(ClientError::Closed)?;
        let resp = Response::decode(&body);
        body.zeroize();
        match resp? {
            Response::Ok(p) => Ok(p),
            Response::Err(code, message) => Err(ClientError::Enclave { code, message }),
        }
    }

    fn fixed<const N: usize>(
        &self,
        req: &Request,
        what: &'static str,
    ) -> Result<Vec<u8>, ClientError> {
        let p = self.call(req)?;
        if p.len() != N {
            return Err(ClientError::Payload {
                what,
                expected: N,
                actual: p.len(),
            });
        }
        Ok(p)
    }

    /// The enclave's own REPORT body.
    pub fn identity(&self) -> Result<ReportBody, ClientError> {
        let p = self.fixed::<384>(&Request::Identity, "IDENTITY")?;
        ReportBody::from_bytes(&p).map_err(|e| ClientError::Protocol(e.into()))
    }

    /// TARGETINFO of the enclave.
    pub fn target_info(&self) -> Result<TargetInfo, ClientError> {
        let p = self.fixed::<512>(&Request::TargetInfo, "TARGET_INFO")?;
        TargetInfo::from_bytes(&p).map_err(|e| ClientError::Protocol(e.into()))
    }

    /// EREPORT for `target` with `report_data`.
    pub fn report(
        &self,
        target: &TargetInfo,
        report_data: &[u8; 64],
    ) -> Result<Report, ClientError> {
        let p = self.fixed::<432>(
            &Request::Report(Box::new(target.clone()), *report_data),
            "REPORT",
        )?;
        Report::from_bytes(&p).map_err(|e| ClientError::Protocol(e.into()))
    }

    /// Verifies a REPORT targeted at this enclave.
    pub fn verify_report(&self, report: &Report) -> Result<(), ClientError> {
        self.call(&Request::VerifyReport(Box::new(report.clone())))
            .map(|_| ())
    }

    /// EGETKEY.
    pub fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, ClientError> {
        let mut p = self.fixed::<16>(&Request::GetKey(Box::new(request.clone())), "GET_KEY")?;
        let mut key = Zeroizing::new([0u8; 16]);
        key.copy_from_slice(&p);
        p.zeroize();
        Ok(key)
    }

    /// A DCAP quote with `report_data`.
    pub fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, ClientError> {
        self.call(&Request::Quote(*report_data))
    }
}

impl KeySource for Client {
    fn self_report(&self) -> Result<ReportBody, KeySourceError> {
        self.identity().map_err(KeySourceError::unavailable)
    }

    fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeySourceError> {
        Client::get_key(self, request).map_err(|e| match e {
            ClientError::Enclave {
                code: ErrorCode::InvalidCpuSvn,
                ..
            } => KeySourceError::InvalidCpuSvn,
            ClientError::Enclave {
                code: ErrorCode::InvalidIsvSvn,
                ..
            } => KeySourceError::InvalidIsvSvn,
            ClientError::Enclave {
                code: ErrorCode::InvalidKeyName | ErrorCode::InvalidAttribute,
                ..
            } => KeySourceError::InvalidKeyName {
                key_name: request.key_name,
            },
            ClientError::Enclave {
                code: ErrorCode::InvalidParameter,
                message,
            } => KeySourceError::InvalidRequest { reason: message },
            other => KeySourceError::unavailable(other),
        })
    }
}
