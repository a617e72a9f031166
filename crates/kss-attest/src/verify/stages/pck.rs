//! Stage 2, the PCK chain: it leads to a trusted root, is valid, and its leaf signed the QE
//! report.

use crate::collateral::Collateral;
use crate::dcap_time::format_rfc3339 as t;
use crate::quote::Quote;
use crate::verify::chain::{ChainProblem, VerifiedPck};
use crate::verify::{Check, CheckId, Verifier};
use std::sync::Arc;

/// Verifies the PCK chain (from the quote, else from the collateral) and the QE report
/// signature. Returns the verified chain with its SGX extension.
pub(crate) fn check_pck(
    v: &Verifier,
    quote: &Quote,
    col: &Collateral,
    at: u64,
    c: &mut Vec<Check>,
) -> Option<Arc<VerifiedPck>> {
    let sig = &quote.signature;
    let pck = match quote
        .pck_chain_pem()
        .or(col.pck_chain.as_deref())
        .ok_or(ChainProblem::NoPckChain {
            cert_type: sig.certification.cert_type,
        })
        .and_then(|pem| v.pck(pem, at))
    {
        Ok(p) => {
            c.push(Check::pass(
                CheckId::PckChain,
                format!(
                    "PCK chain of {} certificates leads to a trusted root",
                    p.chain.certs.len()
                ),
            ));
            p
        }
        Err(reason) => {
            c.push(Check::fail(CheckId::PckChain, reason.to_string()));
            c.push(Check::skip(CheckId::PckValidity, "no verified PCK chain"));
            c.push(Check::skip(
                CheckId::QeReportSignature,
                "no verified PCK chain",
            ));
            return None;
        }
    };
    let Some(leaf) = pck.chain.leaf() else {
        c.push(Check::skip(CheckId::PckValidity, "no verified PCK chain"));
        c.push(Check::skip(
            CheckId::QeReportSignature,
            "no verified PCK chain",
        ));
        return Some(pck);
    };
    c.push(match pck.chain.invalid_at(at) {
        None => Check::pass(
            CheckId::PckValidity,
            format!("all PCK chain certificates valid at {}", t(at)),
        ),
        Some(r) => Check::fail(CheckId::PckValidity, r),
    });
    let ok = v.qe_report_signed(leaf, &sig.qe_report_raw, &sig.qe_report_signature, at);
    c.push(Check::from_bool(
        CheckId::QeReportSignature,
        ok,
        if ok {
            "the PCK key signed the QE report".to_string()
        } else {
            "the QE report signature does not verify with the PCK certificate's key".to_string()
        },
    ));
    Some(pck)
}
