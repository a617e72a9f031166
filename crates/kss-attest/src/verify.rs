//! Full DCAP verification of SGX quotes (v3, and v4 with an SGX body) against collateral, then
//! appraisal with a [`Policy`].
//!
//! A [`Verifier`] holds the trust roots, the policy and a cache of collateral that already
//! passed its checks; build it once and call [`Verifier::verify`] for many quotes, from many
//! threads. The checks, in order, are listed in `docs/verification.md`; each produces a named
//! [`Check`] in the [`Verdict`].

mod cache;
pub mod verdict;

pub use verdict::{Check, Outcome, Verdict};

use crate::collateral::{
    Collateral, CollateralError, CollateralRequest, CollateralSource, PckCa, SignedForm, SignedJson,
};
use crate::dcap_time::format_rfc3339 as t;
use crate::pck::{parse_sgx_extension, PckError, SgxExtension, SGX_EXTENSION_OID};
use crate::policy::{Policy, TcbFacts};
use crate::quote::{Quote, ATT_KEY_TYPE_ECDSA_P256, INTEL_QE_VENDOR_ID, TEE_TYPE_SGX};
use crate::tcb::{PlatformTcb, QeIdentity, TcbInfo, TcbStatus};
use crate::x509util::{
    build_chain_by, key_from_xy, pem_block_texts, verify_p256_fixed, Cert, Crl, P256Key, X509Error,
};
use cache::{key, Cache};
use sha2::{Digest, Sha256};
use std::sync::Arc;

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

/// A certificate chain that passed its signature checks, leaf first.
#[derive(Debug)]
struct VerifiedChain {
    certs: Vec<Arc<Cert>>,
}

impl VerifiedChain {
    fn valid_until(&self) -> u64 {
        self.certs.iter().map(|c| c.not_after).min().unwrap_or(0)
    }

    /// The first certificate not valid at `at`, described.
    fn invalid_at(&self, at: u64) -> Option<String> {
        self.certs.iter().find(|c| !c.valid_at(at)).map(|c| {
            let when = if at < c.not_before {
                "is not valid yet"
            } else {
                "has expired"
            };
            format!(
                "certificate \"{}\" {when} (valid {} to {}, checked at {})",
                c.subject_text(),
                t(c.not_before),
                t(c.not_after),
                t(at)
            )
        })
    }

    fn leaf(&self) -> Option<&Cert> {
        self.certs.first().map(|c| &**c)
    }
}

#[derive(Debug)]
struct VerifiedPck {
    chain: VerifiedChain,
    ext: SgxExtension,
}

#[derive(Debug)]
struct VerifiedSigned<T> {
    value: T,
    chain: VerifiedChain,
    /// True when the signature only verified over the compact re-serialization.
    compact: bool,
}

/// Where a signed collateral piece failed, and why.
struct PieceFailure {
    check: &'static str,
    reason: String,
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

    /// Verifies `quote` with collateral fetched from `source`.
    pub fn verify_with_source(
        &self,
        quote: &[u8],
        source: &dyn CollateralSource,
        at: u64,
    ) -> Result<Verdict, CollateralError> {
        let request = Quote::parse(quote)
            .ok()
            .and_then(|q| {
                let p = self.pck(q.pck_chain_pem()?, at).ok()?;
                let ca = p.chain.certs.get(1)?;
                Some(CollateralRequest {
                    fmspc: p.ext.fmspc,
                    pce_id: p.ext.pce_id,
                    ca: pck_ca_of(ca),
                })
            })
            .unwrap_or(CollateralRequest {
                fmspc: [0; 6],
                pce_id: [0; 2],
                ca: PckCa::Processor,
            });
        let collateral = source.collateral_for(&request)?;
        Ok(self.verify(quote, &collateral, at))
    }

    /// Verifies `quote` (raw bytes) with `collateral` at time `at` (Unix seconds) and appraises
    /// it with the policy. Never fails: every problem is a failed [`Check`] in the verdict.
    pub fn verify(&self, quote: &[u8], collateral: &Collateral, at: u64) -> Verdict {
        let mut v = Verdict {
            accepted: false,
            tcb_status: None,
            advisory_ids: Vec::new(),
            platform_tcb_status: None,
            qe_tcb_status: None,
            report_body: None,
            checks: Vec::new(),
            collateral_oldest_issue: None,
            at,
        };
        self.run(quote, collateral, at, &mut v);
        v.accepted = !v.checks.iter().any(|c| c.outcome == Outcome::Fail);
        v
    }

    fn run(&self, bytes: &[u8], col: &Collateral, at: u64, v: &mut Verdict) {
        let c = &mut v.checks;
        // 1. Quote structure.
        let quote = match Quote::parse(bytes) {
            Ok(q) => q,
            Err(e) => {
                c.push(Check::fail("quote.structure", e.to_string()));
                return;
            }
        };
        let h = &quote.header;
        let body = match quote.report_body() {
            Some(b) if matches!(h.version, 3 | 4) && h.tee_type == TEE_TYPE_SGX => b.clone(),
            _ => {
                c.push(Check::fail(
                    "quote.structure",
                    format!(
                        "quote v{} with tee_type {:#x}: only SGX quotes v3 and v4 (tee_type 0) are verified",
                        h.version, h.tee_type
                    ),
                ));
                return;
            }
        };
        c.push(Check::pass(
            "quote.structure",
            format!("SGX quote v{}, {} bytes", h.version, bytes.len()),
        ));
        v.report_body = Some(body.clone());
        c.push(Check::from_bool(
            "quote.att_key_type",
            h.att_key_type == ATT_KEY_TYPE_ECDSA_P256,
            format!(
                "attestation key type {} (expected 2, ECDSA P-256)",
                h.att_key_type
            ),
        ));
        c.push(Check::from_bool(
            "quote.qe_vendor_id",
            h.qe_vendor_id == INTEL_QE_VENDOR_ID,
            format!(
                "QE vendor ID {} (expected Intel's {})",
                hex::encode(h.qe_vendor_id),
                hex::encode(INTEL_QE_VENDOR_ID)
            ),
        ));
        let sig = &quote.signature;
        let att_key = key_from_xy(&sig.attestation_key);
        let isv_ok = verify_p256_fixed(&att_key, quote.signed_bytes(), &sig.isv_signature);
        c.push(Check::from_bool(
            "quote.isv_signature",
            isv_ok,
            if isv_ok {
                "the attestation key signed the quote header and enclave report".to_string()
            } else {
                "the quote signature over the header and enclave report is invalid: the quote was altered or not signed by its attestation key".to_string()
            },
        ));
        let mut hasher = Sha256::new();
        hasher.update(sig.attestation_key);
        hasher.update(&sig.qe_auth_data);
        let digest: [u8; 32] = hasher.finalize().into();
        let rd = &sig.qe_report.report_data;
        let bound = rd[..32] == digest && rd[32..] == [0u8; 32];
        c.push(Check::from_bool(
            "qe.report_data_binding",
            bound,
            if bound {
                "QE REPORTDATA = SHA-256(attestation key || QE auth data), then 32 zero bytes"
                    .to_string()
            } else {
                format!(
                    "QE REPORTDATA {} does not bind the attestation key: expected SHA-256(key || auth data) = {} followed by zeros",
                    hex::encode(rd),
                    hex::encode(digest)
                )
            },
        ));

        // 2. PCK chain, QE report signature.
        let pck = match quote
            .pck_chain_pem()
            .or(col.pck_chain.as_deref())
            .ok_or_else(|| {
                format!(
                    "the quote carries no PCK certificate chain (certification data type {}) and the collateral has no pck_chain",
                    sig.certification.cert_type
                )
            })
            .and_then(|pem| self.pck(pem, at))
        {
            Ok(p) => {
                c.push(Check::pass(
                    "pck.chain",
                    format!(
                        "PCK chain of {} certificates leads to a trusted root",
                        p.chain.certs.len()
                    ),
                ));
                Some(p)
            }
            Err(reason) => {
                c.push(Check::fail("pck.chain", reason));
                None
            }
        };
        let pck_leaf = pck.as_ref().and_then(|p| p.chain.leaf());
        match (&pck, pck_leaf) {
            (Some(p), Some(leaf)) => {
                c.push(match p.chain.invalid_at(at) {
                    None => Check::pass(
                        "pck.validity",
                        format!("all PCK chain certificates valid at {}", t(at)),
                    ),
                    Some(r) => Check::fail("pck.validity", r),
                });
                let ok =
                    self.qe_report_signed(leaf, &sig.qe_report_raw, &sig.qe_report_signature, at);
                c.push(Check::from_bool(
                    "qe.report_signature",
                    ok,
                    if ok {
                        "the PCK key signed the QE report".to_string()
                    } else {
                        "the QE report signature does not verify with the PCK certificate's key"
                            .to_string()
                    },
                ));
            }
            _ => {
                c.push(Check::skip("pck.validity", "no verified PCK chain"));
                c.push(Check::skip("qe.report_signature", "no verified PCK chain"));
            }
        }

        // 3. CRLs and revocation.
        let mut issues: Vec<u64> = Vec::new();
        let root_crl = match &col.root_ca_crl {
            None => {
                c.push(Check::fail(
                    "crl.root",
                    "the collateral has no Intel SGX Root CA CRL: a strict verifier cannot tell whether the PCK CA or TCB signing certificate is revoked",
                ));
                None
            }
            Some(bytes) => match self.root_crl(bytes, at) {
                Err(r) => {
                    c.push(Check::fail("crl.root", r));
                    None
                }
                Ok(crl) => {
                    issues.push(crl.this_update);
                    c.push(crl_window("crl.root", "Root CA CRL", &crl, at));
                    Some(crl)
                }
            },
        };
        let pck_ca = pck.as_ref().and_then(|p| p.chain.certs.get(1));
        let pck_crl = match (&col.pck_crl, pck_ca) {
            (None, _) => {
                c.push(Check::fail(
                    "crl.pck",
                    "the collateral has no PCK CRL: a strict verifier cannot tell whether the PCK certificate is revoked",
                ));
                None
            }
            (Some(_), None) => {
                c.push(Check::skip(
                    "crl.pck",
                    "no verified PCK CA to check the PCK CRL with",
                ));
                None
            }
            (Some(bytes), Some(ca)) => {
                match self.signed_crl(bytes, &ca.public_key, "PCK CRL", at) {
                    Err(r) => {
                        c.push(Check::fail(
                            "crl.pck",
                            format!(
                                "{r} (it must be issued by the PCK's CA, \"{}\")",
                                ca.subject_text()
                            ),
                        ));
                        None
                    }
                    Ok(crl) => {
                        issues.push(crl.this_update);
                        c.push(crl_window("crl.pck", "PCK CRL", &crl, at));
                        Some(crl)
                    }
                }
            }
        };
        if let Some(chain_pem) = &col.pck_crl_issuer_chain {
            c.push(match self.chain(chain_pem, "PCK CRL issuer chain", at) {
                Err(r) => Check::fail("crl.pck_issuer_chain", r),
                Ok(ch) => match ch.invalid_at(at) {
                    Some(r) => Check::fail("crl.pck_issuer_chain", r),
                    None => match revoked_in(&ch, root_crl.as_deref()) {
                        Some(r) => Check::fail("crl.pck_issuer_chain", r),
                        None => Check::pass(
                            "crl.pck_issuer_chain",
                            "PCK CRL issuer chain leads to a trusted root and is valid",
                        ),
                    },
                },
            });
        }
        c.push(match (&pck, &root_crl, &pck_crl) {
            (Some(p), Some(rc), Some(pc)) => {
                let leaf_revoked = p.chain.leaf().is_some_and(|l| pc.revokes(l.serial()));
                if leaf_revoked {
                    Check::fail(
                        "pck.revocation",
                        "the PCK certificate is revoked (listed in the PCK CRL)",
                    )
                } else if let Some(r) = revoked_in(&p.chain, Some(rc)) {
                    Check::fail("pck.revocation", r)
                } else {
                    Check::pass(
                        "pck.revocation",
                        "neither the PCK certificate nor its CA is revoked",
                    )
                }
            }
            _ => Check::skip("pck.revocation", "needs the PCK chain and both CRLs"),
        });

        // 4. TCB info.
        let tcb = self.signed_piece(
            &col.tcb_info,
            &col.tcb_info_issuer_chain,
            "tcb_info",
            at,
            |s| TcbInfo::from_json(s).map_err(|e| e.to_string()),
        );
        let tcb = match tcb {
            Err(f) => {
                c.push(Check::fail(f.check, f.reason));
                None
            }
            Ok(ti) => {
                c.push(Check::pass(
                    "tcb_info.signature",
                    if ti.compact {
                        "TCB info signed by a TCB signing certificate of a trusted root (over its compact form: the file was re-formatted)"
                    } else {
                        "TCB info signed by a TCB signing certificate of a trusted root"
                    },
                ));
                Some(ti)
            }
        };
        if let Some(ti) = &tcb {
            let info = &ti.value;
            issues.push(info.issue_date);
            c.push(piece_window(
                "tcb_info.validity",
                "TCB info",
                info.issue_date,
                info.next_update,
                &ti.chain,
                root_crl.as_deref(),
                at,
            ));
            let ok_id = matches!(info.id.as_deref(), None | Some("SGX")) && info.tcb_type == 0;
            c.push(Check::from_bool(
                "tcb_info.id",
                ok_id,
                format!(
                    "TCB info id {:?}, version {}, tcbType {} (expected an SGX TCB info, v2 or v3, tcbType 0)",
                    info.id.as_deref().unwrap_or("(none, v2)"),
                    info.version,
                    info.tcb_type
                ),
            ));
        }
        let mut platform: Option<(TcbStatus, Vec<String>)> = None;
        match (&tcb, &pck) {
            (Some(ti), Some(p)) => {
                let info = &ti.value;
                let ok = info.fmspc == p.ext.fmspc && info.pce_id == p.ext.pce_id;
                c.push(Check::from_bool(
                    "tcb_info.fmspc",
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
                            "tcb_info.level",
                            format!(
                                "platform TCB {:?} with PCESVN {} matches the level of {} ({}) {:?}",
                                plat.sgx_components,
                                plat.pce_svn,
                                t(level.tcb_date),
                                level.status,
                                level.advisory_ids
                            ),
                        ));
                        platform = Some((level.status.clone(), level.advisory_ids.clone()));
                    }
                    None => c.push(Check::fail(
                        "tcb_info.level",
                        format!(
                            "no TCB level matches the platform TCB {:?} with PCESVN {} (TCB status unrecognized)",
                            plat.sgx_components, plat.pce_svn
                        ),
                    )),
                }
            }
            _ => {
                c.push(Check::skip(
                    "tcb_info.fmspc",
                    "needs the PCK extension and the TCB info",
                ));
                c.push(Check::skip(
                    "tcb_info.level",
                    "needs the PCK extension and the TCB info",
                ));
            }
        }

        // 5. QE identity.
        let qe = self.signed_piece(
            &col.qe_identity,
            &col.qe_identity_issuer_chain,
            "qe_identity",
            at,
            |s| QeIdentity::from_json(s).map_err(|e| e.to_string()),
        );
        let mut qe_level: Option<(TcbStatus, Vec<String>)> = None;
        match qe {
            Err(f) => c.push(Check::fail(f.check, f.reason)),
            Ok(qi) => {
                c.push(Check::pass(
                    "qe_identity.signature",
                    "QE identity signed by a TCB signing certificate of a trusted root",
                ));
                let id = &qi.value;
                issues.push(id.issue_date);
                c.push(piece_window(
                    "qe_identity.validity",
                    "QE identity",
                    id.issue_date,
                    id.next_update,
                    &qi.chain,
                    root_crl.as_deref(),
                    at,
                ));
                let r = &sig.qe_report;
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
                c.push(if problems.is_empty() {
                    Check::pass("qe_identity.enclave", "the QE is Intel's quoting enclave (MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES match)")
                } else {
                    Check::fail("qe_identity.enclave", problems.join("; "))
                });
                match id.match_level(r.isv_svn) {
                    Some(l) => {
                        c.push(Check::pass(
                            "qe_identity.level",
                            format!(
                                "QE ISVSVN {} matches the level {} ({})",
                                r.isv_svn, l.isv_svn, l.status
                            ),
                        ));
                        qe_level = Some((l.status.clone(), l.advisory_ids.clone()));
                    }
                    None => c.push(Check::fail(
                        "qe_identity.level",
                        format!(
                            "QE ISVSVN {} is below every level of the QE identity",
                            r.isv_svn
                        ),
                    )),
                }
            }
        }

        // 6. Combined TCB status.
        v.platform_tcb_status = platform.as_ref().map(|p| p.0.clone());
        v.qe_tcb_status = qe_level.as_ref().map(|q| q.0.clone());
        v.collateral_oldest_issue = issues.iter().copied().min();
        match (&platform, &qe_level) {
            (Some((ps, pa)), Some((qs, qa))) => {
                let status = ps.converge_with_qe(qs);
                let mut adv = pa.clone();
                for a in qa {
                    if !adv.contains(a) {
                        adv.push(a.clone());
                    }
                }
                c.push(Check::from_bool(
                    "tcb.status",
                    status != TcbStatus::Revoked,
                    format!("TCB status {status} (platform {ps}, QE {qs}), advisories {adv:?}"),
                ));
                v.tcb_status = Some(status);
                v.advisory_ids = adv;
            }
            _ => c.push(Check::skip(
                "tcb.status",
                "needs the platform and QE TCB levels",
            )),
        }

        // 7. Policy.
        c.extend(self.policy.evaluate_identity(&body));
        c.extend(self.policy.evaluate_tcb(&TcbFacts {
            tcb_status: v.tcb_status.as_ref(),
            advisory_ids: &v.advisory_ids,
            qe_tcb_status: v.qe_tcb_status.as_ref(),
            collateral_oldest_issue: v.collateral_oldest_issue,
            at,
        }));
    }

    /// Parses the certificates of a PEM chain, reusing certificates already parsed. They are
    /// cached under their PEM block text, so a certificate repeated across the chains of one
    /// collateral (the root is in all of them) is decoded and parsed once.
    fn certs(&self, pem: &[u8], what: &str, at: u64) -> Result<Vec<Arc<Cert>>, String> {
        let pem = pem.strip_suffix(&[0]).unwrap_or(pem);
        let text = std::str::from_utf8(pem).map_err(|_| format!("{what}: not UTF-8 PEM text"))?;
        let blocks = pem_block_texts(text, what).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for (i, block) in blocks.iter().enumerate() {
            if block.label != "CERTIFICATE" {
                continue;
            }
            let k = key("cert", &[block.body.as_bytes()]);
            let cert = match self.cache.get::<Cert>(&k, at) {
                Some(c) => c,
                None => {
                    let der = block.decode(what, i + 1).map_err(|e| e.to_string())?;
                    let name = format!("{what}, certificate {}", out.len() + 1);
                    let c = Arc::new(Cert::from_der(&der, &name).map_err(|e| e.to_string())?);
                    self.cache.put(k, c.clone(), c.not_after, at);
                    c
                }
            };
            out.push(cert);
        }
        if out.is_empty() {
            return Err(format!("{what}: no certificate"));
        }
        Ok(out)
    }

    /// True when `issuer_key` signed `cert`; positive results are remembered.
    fn signed_by(&self, cert: &Cert, issuer_key: &P256Key, at: u64) -> bool {
        let k = key("sig", &[cert.der(), issuer_key]);
        if self.cache.get::<()>(&k, at).is_some() {
            return true;
        }
        let ok = cert.is_signed_by(issuer_key);
        if ok {
            self.cache.put(k, Arc::new(()), cert.not_after, at);
        }
        ok
    }

    /// True when the PCK `leaf` signed the QE report. A QE signs the same report for every
    /// quote made with one attestation key, so positive results are remembered by content.
    fn qe_report_signed(&self, leaf: &Cert, report: &[u8], sig: &[u8], at: u64) -> bool {
        let k = key("qe-report", &[report, sig, &leaf.public_key]);
        if self.cache.get::<()>(&k, at).is_some() {
            return true;
        }
        let ok = verify_p256_fixed(&leaf.public_key, report, sig);
        if ok {
            self.cache.put(k, Arc::new(()), leaf.not_after, at);
        }
        ok
    }

    /// Orders and verifies parsed certificates up to a trusted root.
    fn ordered_chain(
        &self,
        certs: &[Arc<Cert>],
        what: &str,
        at: u64,
    ) -> Result<VerifiedChain, String> {
        let refs: Vec<&Cert> = certs.iter().map(|c| &**c).collect();
        let idx = build_chain_by(&refs, &self.roots, &|c: &Cert, k: &P256Key| {
            self.signed_by(c, k, at)
        })
        .map_err(|e| format!("{what}: {e}"))?;
        Ok(VerifiedChain {
            certs: idx.iter().filter_map(|&i| certs.get(i).cloned()).collect(),
        })
    }

    /// Parses and verifies a PEM chain (cached).
    fn chain(&self, pem: &[u8], what: &str, at: u64) -> Result<Arc<VerifiedChain>, String> {
        let k = key("chain", &[pem]);
        if let Some(c) = self.cache.get::<VerifiedChain>(&k, at) {
            return Ok(c);
        }
        let certs = self.certs(pem, what, at)?;
        let chain = Arc::new(self.ordered_chain(&certs, what, at)?);
        self.cache.put(k, chain.clone(), chain.valid_until(), at);
        Ok(chain)
    }

    fn pck(&self, pem: &[u8], at: u64) -> Result<Arc<VerifiedPck>, String> {
        let k = key("pck", &[pem]);
        if let Some(p) = self.cache.get::<VerifiedPck>(&k, at) {
            return Ok(p);
        }
        let certs = self.certs(pem, "PCK chain", at)?;
        let chain = self.ordered_chain(&certs, "PCK chain", at)?;
        let leaf = chain.leaf().ok_or("PCK chain: empty")?;
        let ext = leaf
            .extension(&SGX_EXTENSION_OID)
            .ok_or(PckError::NotPck)
            .and_then(parse_sgx_extension)
            .map_err(|e| format!("PCK certificate SGX extension: {e}"))?;
        let p = Arc::new(VerifiedPck { chain, ext });
        self.cache.put(k, p.clone(), p.chain.valid_until(), at);
        Ok(p)
    }

    fn root_crl(&self, bytes: &[u8], at: u64) -> Result<Arc<Crl>, String> {
        let k = key("root-crl", &[bytes]);
        if let Some(c) = self.cache.get::<Crl>(&k, at) {
            return Ok(c);
        }
        let crl = Crl::parse(bytes, "Root CA CRL").map_err(|e| e.to_string())?;
        if !self.roots.iter().any(|r| crl.is_signed_by(r)) {
            return Err(format!(
                "the Root CA CRL (issuer \"{}\") is not signed by a trusted root",
                crl.issuer_text()
            ));
        }
        let crl = Arc::new(crl);
        self.cache.put(k, crl.clone(), crl.next_update, at);
        Ok(crl)
    }

    fn signed_crl(
        &self,
        bytes: &[u8],
        signer: &P256Key,
        what: &str,
        at: u64,
    ) -> Result<Arc<Crl>, String> {
        let k = key("crl", &[bytes, signer]);
        if let Some(c) = self.cache.get::<Crl>(&k, at) {
            return Ok(c);
        }
        let crl = Crl::parse(bytes, what).map_err(|e| e.to_string())?;
        if !crl.is_signed_by(signer) {
            return Err(format!(
                "the {what} (issuer \"{}\") signature is invalid",
                crl.issuer_text()
            ));
        }
        let crl = Arc::new(crl);
        self.cache.put(k, crl.clone(), crl.next_update, at);
        Ok(crl)
    }

    /// Verifies a signed JSON piece (TCB info or QE identity) and its issuer chain (cached).
    fn signed_piece<T: Send + Sync + 'static>(
        &self,
        piece: &SignedJson,
        chain_pem: &[u8],
        name: &'static str,
        at: u64,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Arc<VerifiedSigned<T>>, PieceFailure> {
        let (sig_check, label) = match name {
            "tcb_info" => ("tcb_info.signature", "TCB info"),
            _ => ("qe_identity.signature", "QE identity"),
        };
        let k = key(name, &[&piece.body, &piece.signature, chain_pem]);
        if let Some(p) = self.cache.get::<VerifiedSigned<T>>(&k, at) {
            return Ok(p);
        }
        let fail = |reason: String| PieceFailure {
            check: sig_check,
            reason,
        };
        let chain = self
            .chain(chain_pem, &format!("{label} issuer chain"), at)
            .map_err(fail)?;
        let leaf = chain
            .leaf()
            .ok_or_else(|| fail(format!("{label} issuer chain is empty")))?;
        let form = piece.signed_form(&leaf.public_key).ok_or_else(|| {
            fail(format!(
                "the {label} signature is invalid: the {label} was altered or not signed by \"{}\"",
                leaf.subject_text()
            ))
        })?;
        let text = piece.text().map_err(|e| fail(e.to_string()))?;
        let value = parse(text).map_err(|reason| PieceFailure {
            check: if name == "tcb_info" {
                "tcb_info.format"
            } else {
                "qe_identity.format"
            },
            reason,
        })?;
        let valid_until = chain.valid_until();
        let out = Arc::new(VerifiedSigned {
            value,
            chain: VerifiedChain {
                certs: chain.certs.clone(),
            },
            compact: form == SignedForm::Compact,
        });
        self.cache.put(k, out.clone(), valid_until, at);
        Ok(out)
    }
}

fn pck_ca_of(ca: &Cert) -> PckCa {
    if ca.subject_text().contains("Platform") {
        PckCa::Platform
    } else {
        PckCa::Processor
    }
}

/// The first non-root certificate of `chain` listed in the root CRL, described.
fn revoked_in(chain: &VerifiedChain, root_crl: Option<&Crl>) -> Option<String> {
    let crl = root_crl?;
    chain
        .certs
        .iter()
        .filter(|c| !c.is_self_issued())
        .find(|c| crl.revokes(c.serial()))
        .map(|c| {
            format!(
                "certificate \"{}\" is revoked (listed in the Root CA CRL)",
                c.subject_text()
            )
        })
}

fn crl_window(name: &str, what: &str, crl: &Crl, at: u64) -> Check {
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

fn piece_window(
    name: &str,
    what: &str,
    issue: u64,
    next: u64,
    chain: &VerifiedChain,
    root_crl: Option<&Crl>,
    at: u64,
) -> Check {
    if at < issue {
        Check::fail(
            name,
            format!(
                "{what} issue date {} is in the future at {}",
                t(issue),
                t(at)
            ),
        )
    } else if at > next {
        Check::fail(
            name,
            format!(
                "{what} expired at its nextUpdate {} (checked at {})",
                t(next),
                t(at)
            ),
        )
    } else if let Some(r) = chain.invalid_at(at) {
        Check::fail(name, format!("{what} issuer chain: {r}"))
    } else if let Some(r) = revoked_in(chain, root_crl) {
        Check::fail(name, format!("{what} issuer chain: {r}"))
    } else {
        Check::pass(name, format!("{what} valid {} to {}", t(issue), t(next)))
    }
}
