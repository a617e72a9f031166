//! [`EnclaveOps`] for any [`kss_enclave::Enclave`] (the simulator today), with quotes from a
//! quoting enclave that verifies the application's REPORT first, as DCAP's QE3 does.

use crate::protocol::ErrorCode;
use crate::server::{EnclaveOps, OpError};
use kss_enclave::{Enclave, ErrorCode as SgxCode, SgxError};
use kss_types::{KeyRequest, Report, ReportBody, TargetInfo};
use zeroize::Zeroizing;

/// Signs a quote over a REPORT body that the quoting enclave has already verified.
pub type QuoteSigner = Box<dyn Fn(&ReportBody) -> Result<Vec<u8>, String> + Send + Sync>;

/// A quoting enclave: an enclave identity (to receive REPORTs and check their MAC) and the
/// quote signer.
pub struct QuotingEnclave {
    /// The QE as an enclave on the same platform (its REPORT key checks application reports).
    pub enclave: Box<dyn Enclave>,
    /// Builds and signs the quote.
    pub sign: QuoteSigner,
}

/// Creates the quoting enclave on first use (loading a CA costs milliseconds that a launch
/// should not pay when the workload never asks for a quote). A failed load is not remembered:
/// the next QUOTE request tries again, so fixing the CA helps without restarting the workload.
/// The server calls it from one thread at a time.
pub type QeLoader = Box<dyn Fn() -> Result<QuotingEnclave, String> + Send + Sync>;

/// An application enclave served to its workload.
pub struct EnclaveServer {
    enclave: Box<dyn Enclave>,
    qe_loader: Option<QeLoader>,
    qe: std::sync::OnceLock<QuotingEnclave>,
    /// Held while loading, so concurrent first QUOTE requests load once (the loader may create
    /// the CA on disk) and the others wait for its result.
    loading: std::sync::Mutex<()>,
}

impl EnclaveServer {
    /// Serves `enclave`; quotes come from the quoting enclave `qe` creates on first use, or
    /// are refused (`Unsupported`) when there is none.
    pub fn new(enclave: Box<dyn Enclave>, qe: Option<QeLoader>) -> Self {
        Self {
            enclave,
            qe_loader: qe,
            qe: std::sync::OnceLock::new(),
            loading: std::sync::Mutex::new(()),
        }
    }

    /// The application enclave.
    pub fn enclave(&self) -> &dyn Enclave {
        self.enclave.as_ref()
    }
}

/// Maps an SGX instruction error to a protocol error.
pub fn op_error(e: SgxError) -> OpError {
    let code = match &e {
        SgxError::Fault { .. } => ErrorCode::InvalidParameter,
        SgxError::Status {
            code: SgxCode::InvalidCpuSvn,
            ..
        } => ErrorCode::InvalidCpuSvn,
        SgxError::Status {
            code: SgxCode::InvalidIsvSvn,
            ..
        } => ErrorCode::InvalidIsvSvn,
        SgxError::Status {
            code: SgxCode::InvalidKeyName,
            ..
        } => ErrorCode::InvalidKeyName,
        SgxError::Status {
            code: SgxCode::InvalidAttribute,
            ..
        } => ErrorCode::InvalidAttribute,
        SgxError::ReportMacMismatch { .. } => ErrorCode::MacMismatch,
        SgxError::Unsupported { .. } => ErrorCode::Unsupported,
        _ => ErrorCode::Internal,
    };
    OpError::new(code, e.to_string())
}

impl EnclaveOps for EnclaveServer {
    fn identity(&self) -> Result<ReportBody, OpError> {
        // EREPORT for itself, as sgx_self_report does; an error is passed on, never replaced
        // by an all-zero identity.
        let target = self.target_info();
        self.enclave
            .report(&target, &[0; 64])
            .map(|r| r.body)
            .map_err(op_error)
    }

    fn target_info(&self) -> TargetInfo {
        self.enclave.target_info()
    }

    fn report(&self, target: &TargetInfo, report_data: &[u8; 64]) -> Result<Report, OpError> {
        self.enclave.report(target, report_data).map_err(op_error)
    }

    fn verify_report(&self, report: &Report) -> Result<(), OpError> {
        self.enclave.verify_report(report).map_err(op_error)
    }

    fn get_key(&self, request: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, OpError> {
        self.enclave.get_key(request).map_err(op_error)
    }

    fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, OpError> {
        let loader = self.qe_loader.as_ref().ok_or_else(|| {
            OpError::new(
                ErrorCode::Unsupported,
                "no quoting enclave is available in this mode",
            )
        })?;
        let qe = match self.qe.get() {
            Some(qe) => qe,
            None => {
                // Double-checked: one loader at a time; a thread that waited finds it loaded.
                let _guard = self.loading.lock().unwrap_or_else(|p| p.into_inner());
                if self.qe.get().is_none() {
                    let loaded = loader().map_err(|e| {
                        OpError::new(ErrorCode::Unsupported, format!("quotes unavailable: {e}"))
                    })?;
                    let _ = self.qe.set(loaded);
                }
                self.qe.get().ok_or_else(|| {
                    OpError::new(ErrorCode::Internal, "the quoting enclave was not kept")
                })?
            }
        };
        let qe_target = qe.enclave.target_info();
        // The application's EREPORT for the QE, which checks the MAC with its own REPORT key
        // before it signs anything.
        let report = self
            .enclave
            .report(&qe_target, report_data)
            .map_err(op_error)?;
        qe.enclave.verify_report(&report).map_err(op_error)?;
        (qe.sign)(&report.body).map_err(|m| OpError::new(ErrorCode::Internal, m))
    }
}
