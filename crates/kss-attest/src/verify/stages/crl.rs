//! Stage 3, CRLs and revocation: the Root CA CRL, the PCK CRL, the PCK CRL issuer chain, and
//! whether the PCK certificate or its CA is revoked.

use crate::collateral::Collateral;
use crate::dcap_time::format_rfc3339 as t;
use crate::verify::chain::{revoked_in, VerifiedPck};
use crate::verify::{Check, CheckId, Verifier};
use crate::x509util::Crl;
use std::sync::Arc;

/// The Root CA CRL when it passed its checks (later stages check issuer chains against it), and
/// the issue times of the CRLs that did.
pub(crate) struct Crls {
    /// The Intel SGX Root CA CRL.
    pub root: Option<Arc<Crl>>,
    /// thisUpdate of each verified CRL.
    pub issues: Vec<u64>,
}

/// Checks both CRLs and the PCK CRL issuer chain, then the PCK chain's revocation.
pub(crate) fn check_crls(
    v: &Verifier,
    col: &Collateral,
    pck: Option<&VerifiedPck>,
    at: u64,
    c: &mut Vec<Check>,
) -> Crls {
    let mut issues = Vec::new();
    let root = root_crl(v, col, at, &mut issues, c);
    let pck_crl = pck_crl(v, col, pck, at, &mut issues, c);
    if let Some(chain_pem) = &col.pck_crl_issuer_chain {
        c.push(pck_crl_issuer_chain(v, chain_pem, root.as_deref(), at));
    }
    c.push(match (pck, &root, &pck_crl) {
        (Some(p), Some(rc), Some(pc)) => {
            let leaf_revoked = p.chain.leaf().is_some_and(|l| pc.revokes(l.serial()));
            if leaf_revoked {
                Check::fail(
                    CheckId::PckRevocation,
                    "the PCK certificate is revoked (listed in the PCK CRL)",
                )
            } else if let Some(r) = revoked_in(&p.chain, Some(rc)) {
                Check::fail(CheckId::PckRevocation, r)
            } else {
                Check::pass(
                    CheckId::PckRevocation,
                    "neither the PCK certificate nor its CA is revoked",
                )
            }
        }
        _ => Check::skip(CheckId::PckRevocation, "needs the PCK chain and both CRLs"),
    });
    Crls { root, issues }
}

fn root_crl(
    v: &Verifier,
    col: &Collateral,
    at: u64,
    issues: &mut Vec<u64>,
    c: &mut Vec<Check>,
) -> Option<Arc<Crl>> {
    let Some(bytes) = &col.root_ca_crl else {
        c.push(Check::fail(
            CheckId::CrlRoot,
            "the collateral has no Intel SGX Root CA CRL: a strict verifier cannot tell whether the PCK CA or TCB signing certificate is revoked",
        ));
        return None;
    };
    match v.root_crl(bytes, at) {
        Err(r) => {
            c.push(Check::fail(CheckId::CrlRoot, r.to_string()));
            None
        }
        Ok(crl) => {
            issues.push(crl.this_update);
            c.push(crl_window(CheckId::CrlRoot, "Root CA CRL", &crl, at));
            Some(crl)
        }
    }
}

fn pck_crl(
    v: &Verifier,
    col: &Collateral,
    pck: Option<&VerifiedPck>,
    at: u64,
    issues: &mut Vec<u64>,
    c: &mut Vec<Check>,
) -> Option<Arc<Crl>> {
    let pck_ca = pck.and_then(|p| p.chain.certs.get(1));
    match (&col.pck_crl, pck_ca) {
        (None, _) => {
            c.push(Check::fail(
                CheckId::CrlPck,
                "the collateral has no PCK CRL: a strict verifier cannot tell whether the PCK certificate is revoked",
            ));
            None
        }
        (Some(_), None) => {
            c.push(Check::skip(
                CheckId::CrlPck,
                "no verified PCK CA to check the PCK CRL with",
            ));
            None
        }
        (Some(bytes), Some(ca)) => match v.signed_crl(bytes, &ca.public_key, "PCK CRL", at) {
            Err(r) => {
                c.push(Check::fail(
                    CheckId::CrlPck,
                    format!(
                        "{r} (it must be issued by the PCK's CA, \"{}\")",
                        ca.subject_text()
                    ),
                ));
                None
            }
            Ok(crl) => {
                issues.push(crl.this_update);
                c.push(crl_window(CheckId::CrlPck, "PCK CRL", &crl, at));
                Some(crl)
            }
        },
    }
}

fn pck_crl_issuer_chain(v: &Verifier, chain_pem: &[u8], root: Option<&Crl>, at: u64) -> Check {
    let id = CheckId::CrlPckIssuerChain;
    match v.chain(chain_pem, "PCK CRL issuer chain", at) {
        Err(r) => Check::fail(id, r.to_string()),
        Ok(ch) => match ch.invalid_at(at) {
            Some(r) => Check::fail(id, r),
            None => match revoked_in(&ch, root) {
                Some(r) => Check::fail(id, r),
                None => Check::pass(
                    id,
                    "PCK CRL issuer chain leads to a trusted root and is valid",
                ),
            },
        },
    }
}

fn crl_window(name: CheckId, what: &str, crl: &Crl, at: u64) -> Check {
    if at < crl.this_update {
        Check::fail(
            name,
            format!(
                "{what} thisUpdate {} is in the future at {}",
                t(crl.this_update),
                t(at)
            ),
        )
    } else if at > crl.next_update {
        Check::fail(
            name,
            format!(
                "{what} expired at its nextUpdate {} (checked at {})",
                t(crl.next_update),
                t(at)
            ),
        )
    } else {
        Check::pass(
            name,
            format!(
                "{what} signed and valid {} to {}",
                t(crl.this_update),
                t(crl.next_update)
            ),
        )
    }
}
