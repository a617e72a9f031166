//! Stage 4, the TCB info (signature, format, validity, id), and stage 5, matching the
//! platform's TCB (from the PCK extension) to a TCB level.

use crate::collateral::Collateral;
use crate::dcap_time::format_rfc3339 as t;
use crate::tcb::{PlatformTcb, TcbInfo};
use crate::verify::chain::{piece_window, Piece, VerifiedPck, VerifiedSigned};
use crate::verify::stages::Level;
use crate::verify::{Check, CheckId, Verifier};
use crate::x509util::Crl;
use std::sync::Arc;

/// Verifies the signed TCB info and its validity at `at`; returns it when its signature holds.
pub(crate) fn check_tcb_info(
    v: &Verifier,
    col: &Collateral,
    root_crl: Option<&Crl>,
    at: u64,
    issues: &mut Vec<u64>,
    c: &mut Vec<Check>,
) -> Option<Arc<VerifiedSigned<TcbInfo>>> {
    let ti = match v.signed_piece(
        &col.tcb_info,
        &col.tcb_info_issuer_chain,
        Piece::TcbInfo,
        at,
        TcbInfo::from_json,
    ) {
        Err(f) => {
            c.push(Check::fail(f.check, f.reason));
            return None;
        }
        Ok(ti) => ti,
    };
    c.push(Check::pass(
        CheckId::TcbInfoSignature,
        if ti.compact {
            "TCB info signed by a TCB signing certificate of a trusted root (over its compact form: the file was re-formatted)"
        } else {
            "TCB info signed by a TCB signing certificate of a trusted root"
        },
    ));
    let info = &ti.value;
    issues.push(info.issue_date);
    c.push(piece_window(
        CheckId::TcbInfoValidity,
        "TCB info",
        (info.issue_date, info.next_update),
        &ti.chain,
        root_crl,
        at,
    ));
    let ok_id = matches!(info.id.as_deref(), None | Some("SGX")) && info.tcb_type == 0;
    c.push(Check::from_bool(
        CheckId::TcbInfoId,
        ok_id,
        format!(
            "TCB info id {:?}, version {}, tcbType {} (expected an SGX TCB info, v2 or v3, tcbType 0)",
            info.id.as_deref().unwrap_or("(none, v2)"),
            info.version,
            info.tcb_type
        ),
    ));
    Some(ti)
}

/// Matches the platform TCB of the PCK certificate to a level of the TCB info.
pub(crate) fn match_platform_level(
    tcb: Option<&VerifiedSigned<TcbInfo>>,
    pck: Option<&VerifiedPck>,
    c: &mut Vec<Check>,
) -> Option<Level> {
    let (Some(ti), Some(p)) = (tcb, pck) else {
        let why = "needs the PCK extension and the TCB info";
        c.push(Check::skip(CheckId::TcbInfoFmspc, why));
        c.push(Check::skip(CheckId::TcbInfoLevel, why));
        return None;
    };
    let info = &ti.value;
    let ok = info.fmspc == p.ext.fmspc && info.pce_id == p.ext.pce_id;
    c.push(Check::from_bool(
        CheckId::TcbInfoFmspc,
        ok,
        format!(
            "TCB info is for FMSPC {} PCEID {}, the PCK certificate has FMSPC {} PCEID {}",
            hex::encode_upper(info.fmspc),
            hex::encode_upper(info.pce_id),
            hex::encode_upper(p.ext.fmspc),
            hex::encode_upper(p.ext.pce_id)
        ),
    ));
    let plat = PlatformTcb {
        sgx_components: p.ext.tcb.comp_svn,
        pce_svn: p.ext.tcb.pce_svn,
    };
    match info.match_level(&plat) {
        Some(level) => {
            c.push(Check::pass(
                CheckId::TcbInfoLevel,
                format!(
                    "platform TCB {:?} with PCESVN {} matches the level of {} ({}) {:?}",
                    plat.sgx_components,
                    plat.pce_svn,
                    t(level.tcb_date),
                    level.status,
                    level.advisory_ids
                ),
            ));
            Some(Level {
                status: level.status.clone(),
                advisory_ids: level.advisory_ids.clone(),
            })
        }
        None => {
            c.push(Check::fail(
                CheckId::TcbInfoLevel,
                format!(
                    "no TCB level matches the platform TCB {:?} with PCESVN {} (TCB status unrecognized)",
                    plat.sgx_components, plat.pce_svn
                ),
            ));
            None
        }
    }
}
