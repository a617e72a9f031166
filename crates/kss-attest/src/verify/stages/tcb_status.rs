//! Stage 7, the TCB status: the platform level converged with the QE level.

use crate::tcb::TcbStatus;
use crate::verify::stages::Level;
use crate::verify::{Check, CheckId};

/// The combined TCB status and advisories (platform's first, then the QE's new ones), when
/// both levels were established.
pub(crate) fn combine(
    platform: Option<&Level>,
    qe: Option<&Level>,
    c: &mut Vec<Check>,
) -> Option<Level> {
    let (Some(p), Some(q)) = (platform, qe) else {
        c.push(Check::skip(
            CheckId::TcbStatus,
            "needs the platform and QE TCB levels",
        ));
        return None;
    };
    let status = p.status.converge_with_qe(&q.status);
    let mut adv = p.advisory_ids.clone();
    for a in &q.advisory_ids {
        if !adv.contains(a) {
            adv.push(a.clone());
        }
    }
    c.push(Check::from_bool(
        CheckId::TcbStatus,
        status != TcbStatus::Revoked,
        format!(
            "TCB status {status} (platform {}, QE {}), advisories {adv:?}",
            p.status, q.status
        ),
    ));
    Some(Level {
        status,
        advisory_ids: adv,
    })
}
