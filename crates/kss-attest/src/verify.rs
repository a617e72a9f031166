//! Full DCAP verification of SGX quotes (v3, and v4 with an SGX body) against collateral, then
//! appraisal with a [`Policy`].
//!
//! A [`Verifier`] holds the trust roots, the policy and a cache of collateral that already
//! passed its checks; build it once and call [`Verifier::verify`] for many quotes, from many
//! threads. The checks, in order, are listed in `docs/verification.md`; each produces a
//! [`Check`] named by a [`CheckId`] in the [`Verdict`]. The stages are in `stages`.

mod cache;
mod chain;
mod check_id;
mod report_data;
mod stages;
mod verdict;

pub use check_id::{CheckId, UnknownCheck};
pub use report_data::{ReportDataExpectation, RuntimeDataHash};
pub use verdict::{Check, Outcome, Verdict, VerdictJson};

use crate::collateral::{
    Collateral, CollateralError, CollateralNeed, CollateralSource, PckCa, TeeType,
};
use crate::policy::{Policy, TcbFacts};
use crate::quote::{Quote, TEE_TYPE_SGX};
use crate::x509util::{Cert, P256Key, X509Error};
use cache::Cache;
use stages::{crl, pck, qe_identity, quote as quote_stage, tcb_info, tcb_status};

/// The public key of the Intel SGX Root CA (uncompressed P-256). Both issuances of the root
/// certificate (2018–2049 and the legacy 2018–2033) carry it, so roots are matched by key.
pub const INTEL_SGX_ROOT_CA_PUBLIC_KEY: P256Key = [
    0x04, 0x0b, 0xa9, 0xc4, 0xc0, 0xc0, 0xc8, 0x61, 0x93, 0xa3, 0xfe, 0x23, 0xd6, 0xb0, 0x2c, 0xda,
    0x10, 0xa8, 0xbb, 0xd4, 0xe8, 0x8e, 0x48, 0xb4, 0x45, 0x85, 0x61, 0xa3, 0x6e, 0x70, 0x55, 0x25,
    0xf5, 0x67, 0x91, 0x8e, 0x2e, 0xdc, 0x88, 0xe4, 0x0d, 0x86, 0x0b, 0xd0, 0xcc, 0x4e, 0xe2, 0x6a,
    0xac, 0xc9, 0x88, 0xe5, 0x05, 0xa9, 0x53, 0x55, 0x8c, 0x45, 0x3f, 0x6b, 0x09, 0x04, 0xae, 0x73,
    0x94,
];

/// Reads a trust root certificate (DER or PEM) and returns its public key.
pub fn trust_root_key(cert: &[u8], what: &str) -> Result<P256Key, X509Error> {
    crate::x509util::parse_cert_any(cert, what).map(|c| c.public_key)
}

/// Verifies quotes against collateral with fixed trust roots and policy. `Send + Sync`.
pub struct Verifier {
    roots: Vec<P256Key>,
    policy: Policy,
    cache: Cache,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new(Policy::default())
    }
}

impl Verifier {
    /// A verifier trusting the Intel SGX Root CA, with `policy`.
    pub fn new(policy: Policy) -> Self {
        Self::with_trust_roots(vec![INTEL_SGX_ROOT_CA_PUBLIC_KEY], policy)
    }

    /// A verifier trusting exactly `roots` (public keys), with `policy`.
    pub fn with_trust_roots(roots: Vec<P256Key>, policy: Policy) -> Self {
        Self {
            roots,
            policy,
            cache: Cache::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The trusted root keys.
    pub fn trust_roots(&self) -> &[P256Key] {
        &self.roots
    }

    /// Number of cached collateral entries.
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// Empties the collateral cache.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// What collateral `quote` needs at time `at`: the FMSPC, PCE ID and issuing CA of its PCK
    /// certificate (all zeros and the Processor CA when its PCK chain does not verify), and the
    /// TEE type.
    pub fn collateral_need(&self, quote: &Quote, at: u64) -> CollateralNeed {
        let tee = if quote.header.tee_type == TEE_TYPE_SGX {
            TeeType::Sgx
        } else {
            TeeType::Tdx
        };
        let pck = quote
            .pck_chain_pem()
            .and_then(|pem| self.pck(pem, at).ok())
            .and_then(|p| {
                let ca = p.chain.certs.get(1)?;
                Some((p.ext.fmspc, p.ext.pce_id, pck_ca_of(ca)))
            });
        let (fmspc, pce_id, ca) = pck.unwrap_or(([0; 6], [0; 2], PckCa::Processor));
        CollateralNeed {
            fmspc,
            pce_id,
            ca,
            tee,
            at,
        }
    }

    /// Verifies an already parsed `quote` with collateral fetched from `source`. Fails only
    /// when the source cannot provide collateral.
    pub fn verify_with_source(
        &self,
        quote: &Quote,
        source: &dyn CollateralSource,
        at: u64,
    ) -> Result<Verdict, CollateralError> {
        let collateral = source.collateral(&self.collateral_need(quote, at))?;
        Ok(self.verify_quote(quote, &collateral, at))
    }

    /// Verifies `quote` (raw bytes) with `collateral` at time `at` (Unix seconds) and appraises
    /// it with the policy. Never fails: every problem, including bytes that are no quote, is a
    /// failed [`Check`] in the verdict.
    pub fn verify(&self, quote: &[u8], collateral: &Collateral, at: u64) -> Verdict {
        match Quote::parse(quote) {
            Ok(q) => self.verify_quote(&q, collateral, at),
            Err(e) => {
                let mut v = Verdict::empty(at);
                v.checks
                    .push(Check::fail(CheckId::QuoteStructure, e.to_string()));
                v
            }
        }
    }

    /// Verifies an already parsed `quote` with `collateral` at time `at` (Unix seconds) and
    /// appraises it with the policy. Never fails: every problem is a failed [`Check`].
    pub fn verify_quote(&self, quote: &Quote, collateral: &Collateral, at: u64) -> Verdict {
        let mut v = Verdict::empty(at);
        self.run(quote, collateral, at, &mut v);
        v.accepted = !v.checks.iter().any(|c| c.outcome == Outcome::Fail);
        v
    }

    /// The pipeline: each stage appends its checks and hands what it established on.
    fn run(&self, quote: &Quote, col: &Collateral, at: u64, v: &mut Verdict) {
        let c = &mut v.checks;
        let Some(body) = quote_stage::check_quote(quote, c) else {
            return;
        };
        v.report_body = Some(body.clone());
        let pck = pck::check_pck(self, quote, col, at, c);
        let crls = crl::check_crls(self, col, pck.as_deref(), at, c);
        let root_crl = crls.root.as_deref();
        let mut issues = crls.issues;
        let tcb = tcb_info::check_tcb_info(self, col, root_crl, at, &mut issues, c);
        let platform = tcb_info::match_platform_level(tcb.as_deref(), pck.as_deref(), c);
        let qe = qe_identity::check_qe_identity(self, quote, col, root_crl, at, &mut issues, c);
        let combined = tcb_status::combine(platform.as_ref(), qe.as_ref(), c);
        v.platform_tcb_status = platform.map(|p| p.status);
        v.qe_tcb_status = qe.map(|q| q.status);
        v.collateral_oldest_issue = issues.iter().copied().min();
        if let Some(l) = combined {
            v.tcb_status = Some(l.status);
            v.advisory_ids = l.advisory_ids;
        }
        // The policy, on the enclave identity and the TCB facts.
        c.extend(self.policy.evaluate_identity(&body));
        c.extend(self.policy.evaluate_tcb(&TcbFacts {
            tcb_status: v.tcb_status.as_ref(),
            advisory_ids: &v.advisory_ids,
            qe_tcb_status: v.qe_tcb_status.as_ref(),
            collateral_oldest_issue: v.collateral_oldest_issue,
            at,
        }));
    }
}

fn pck_ca_of(ca: &Cert) -> PckCa {
    if ca.subject_text().contains("Platform") {
        PckCa::Platform
    } else {
        PckCa::Processor
    }
}
