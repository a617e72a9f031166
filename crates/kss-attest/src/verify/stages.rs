//! The verification pipeline, one module per stage. Each stage takes what earlier stages
//! established (typed), appends its checks, and returns what later stages need:
//!
//! 1. [`quote`]: the quote itself → the enclave report body;
//! 2. [`pck`]: the PCK chain → the verified chain and its SGX extension;
//! 3. [`crl`]: CRLs and revocation → the verified CRLs;
//! 4. [`tcb_info`]: the TCB info → the verified TCB info, then the platform's TCB level;
//! 5. [`qe_identity`]: the QE identity → the QE's TCB level;
//! 6. [`tcb_status`]: both levels → the combined TCB status;
//! 7. the policy ([`crate::Policy`]) on the report body and TCB facts.

pub(crate) mod crl;
pub(crate) mod pck;
pub(crate) mod qe_identity;
pub(crate) mod quote;
pub(crate) mod tcb_info;
pub(crate) mod tcb_status;

use crate::tcb::TcbStatus;

/// A matched TCB level: its status and advisories.
#[derive(Debug, Clone)]
pub(crate) struct Level {
    pub status: TcbStatus,
    pub advisory_ids: Vec<String>,
}
