//! Stage 6, the QE identity: signature, validity, the QE's identity and its level.

use crate::collateral::Collateral;
use crate::quote::Quote;
use crate::tcb::QeIdentity;
use crate::verify::chain::{piece_window, Piece};
use crate::verify::stages::Level;
use crate::verify::{Check, CheckId, Verifier};
use crate::x509util::Crl;
use kss_types::ReportBody;

/// Verifies the signed QE identity, that the quote's QE is the enclave it describes, and
/// returns the QE's level.
pub(crate) fn check_qe_identity(
    v: &Verifier,
    quote: &Quote,
    col: &Collateral,
    root_crl: Option<&Crl>,
    at: u64,
    issues: &mut Vec<u64>,
    c: &mut Vec<Check>,
) -> Option<Level> {
    let qi = match v.signed_piece(
        &col.qe_identity,
        &col.qe_identity_issuer_chain,
        Piece::QeIdentity,
        at,
        QeIdentity::from_json,
    ) {
        Err(f) => {
            c.push(Check::fail(f.check, f.reason));
            return None;
        }
        Ok(qi) => qi,
    };
    c.push(Check::pass(
        CheckId::QeIdentitySignature,
        "QE identity signed by a TCB signing certificate of a trusted root",
    ));
    let id = &qi.value;
    issues.push(id.issue_date);
    c.push(piece_window(
        CheckId::QeIdentityValidity,
        "QE identity",
        (id.issue_date, id.next_update),
        &qi.chain,
        root_crl,
        at,
    ));
    let r = &quote.signature.qe_report;
    let problems = identity_mismatches(id, r);
    c.push(if problems.is_empty() {
        Check::pass(CheckId::QeIdentityEnclave, "the QE is Intel's quoting enclave (MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES match)")
    } else {
        Check::fail(CheckId::QeIdentityEnclave, problems.join("; "))
    });
    match id.match_level(r.isv_svn) {
        Some(l) => {
            c.push(Check::pass(
                CheckId::QeIdentityLevel,
                format!(
                    "QE ISVSVN {} matches the level {} ({})",
                    r.isv_svn, l.isv_svn, l.status
                ),
            ));
            Some(Level {
                status: l.status.clone(),
                advisory_ids: l.advisory_ids.clone(),
            })
        }
        None => {
            c.push(Check::fail(
                CheckId::QeIdentityLevel,
                format!(
                    "QE ISVSVN {} is below every level of the QE identity",
                    r.isv_svn
                ),
            ));
            None
        }
    }
}

/// How the QE report differs from the QE identity, in words (empty: it matches).
fn identity_mismatches(id: &QeIdentity, r: &ReportBody) -> Vec<String> {
    let mut problems = Vec::new();
    if id.id != "QE" {
        problems.push(format!("identity is for \"{}\", expected \"QE\"", id.id));
    }
    if r.mr_signer != id.mrsigner {
        problems.push(format!(
            "QE MRSIGNER {} is not {}",
            hex::encode(r.mr_signer),
            hex::encode(id.mrsigner)
        ));
    }
    if r.isv_prod_id != id.isv_prod_id {
        problems.push(format!(
            "QE ISVPRODID {} is not {}",
            r.isv_prod_id, id.isv_prod_id
        ));
    }
    if r.misc_select.0 & id.miscselect_mask != id.miscselect & id.miscselect_mask {
        problems.push(format!(
            "QE MISCSELECT {:08x} masked with {:08x} is not {:08x}",
            r.misc_select.0, id.miscselect_mask, id.miscselect
        ));
    }
    let attrs = r.attributes.to_bytes();
    let masked_eq = attrs
        .iter()
        .zip(id.attributes_mask.iter())
        .zip(id.attributes.iter())
        .all(|((a, m), e)| a & m == e & m);
    if !masked_eq {
        problems.push(format!(
            "QE ATTRIBUTES {} masked with {} is not {}",
            hex::encode(attrs),
            hex::encode(id.attributes_mask),
            hex::encode(id.attributes)
        ));
    }
    problems
}
