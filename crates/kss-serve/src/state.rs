//! The service's shared state: one warm verifier, the collateral, the policies, the token key,
//! the nonce key, limits and metrics. Built once from a [`ServeConfig`] and shared by every
//! request (and, through the policy directory, nonce secret and key, by every replica).

use crate::appraise::{appraise, report_body_value, verdict_json, RuntimeDataHash};
use crate::config::{CollateralConfig, ServeConfig};
use crate::metrics::Metrics;
use crate::nonce::NonceKey;
use crate::policies::{PolicyEntry, PolicyLoadError, PolicySet};
use crate::token::{
    AnnotatedEvidence, CollateralDigests, EarClaims, EarStatus, FailedCheck, SgxSubmod,
    TokenSigner, VerifierId, EAR_PROFILE, SUBMOD,
};
use kss_attest::collateral::Collateral;
use kss_attest::policy::Policy;
use kss_attest::tcb::TcbStatus;
use kss_attest::verify::{trust_root_key, Verdict, Verifier};
use kss_collateral::need::NeedError;
use kss_collateral::{FetchError, Need, Origin, PccsSource};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// Why an attestation could not be completed (a rejected quote is a verdict, not this).
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    /// The collateral the quote needs cannot be read from it.
    #[error("cannot tell which collateral the quote needs: {0}")]
    Need(#[source] NeedError),
    /// The collateral could not be had.
    #[error("collateral: {0}")]
    Collateral(#[source] FetchError),
    /// The token could not be signed.
    #[error("{0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The signing key.
    #[error(transparent)]
    Key(#[from] crate::token::KeyError),
    /// The policy directory.
    #[error("policy directory: {0}")]
    Policies(#[from] PolicyLoadError),
    /// Collateral.
    #[error("collateral: {0}")]
    Collateral(#[source] kss_attest::CollateralError),
    /// A trust root file that cannot be read.
    #[error("trust root: {}: {source}", path.display())]
    TrustRootRead {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A trust root that is not a usable certificate.
    #[error("trust root: {0}")]
    TrustRoot(#[source] kss_attest::X509Error),
    /// The nonce secret file cannot be used.
    #[error("nonce secret: {0}")]
    NonceFile(#[source] crate::token::KeyError),
    /// The nonce secret is too short.
    #[error("nonce secret: {0}")]
    Nonce(#[source] crate::nonce::ShortSecret),
    /// A TLS certificate or key file that does not decode.
    #[error("TLS: {}: {source}", path.display())]
    TlsPem {
        /// The file.
        path: std::path::PathBuf,
        /// The PEM decoder's error.
        source: rustls_pki_types::pem::Error,
    },
    /// A TLS certificate file without a certificate.
    #[error("TLS: {}: no certificate", path.display())]
    TlsNoCertificate {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The TLS key file cannot be used (unreadable, or readable by others).
    #[error("TLS: {0}")]
    TlsKey(#[source] crate::token::KeyError),
    /// rustls refused the configuration (protocol versions, certificate and key).
    #[error("TLS: {0}")]
    Tls(#[source] tokio_rustls::rustls::Error),
}

/// Collateral with the digests of its pieces, as one verification uses it.
#[derive(Debug)]
pub struct ResolvedCollateral {
    /// The collateral.
    pub collateral: Collateral,
    /// SHA-256 of each piece (for the token).
    pub digests: CollateralDigests,
}

/// Where the service's collateral comes from.
#[derive(Debug)]
enum CollateralHolder {
    /// A fixed bundle (`--collateral PATH`), loaded at start.
    Fixed(Arc<ResolvedCollateral>),
    /// Fetched per quote from a PCCS / PCS (`--pccs URL`), cached in memory and on disk.
    Pccs(Box<PccsSource>),
}

/// The outcome of one attestation: the verdict, its JSON and the signed token.
#[derive(Debug)]
pub struct AttestOutcome {
    /// The signed EAR JWT.
    pub token: String,
    /// The verdict (same JSON as `kss verify --json`).
    pub verdict: serde_json::Value,
    /// The EAR status.
    pub status: EarStatus,
}

/// Shared state of a running service.
pub struct AppState {
    verifier: Verifier,
    collateral: CollateralHolder,
    policies: RwLock<Arc<PolicySet>>,
    signer: TokenSigner,
    nonces: NonceKey,
    /// Metrics.
    pub metrics: Metrics,
    at: Option<u64>,
    token_lifetime: u64,
    /// Requests admitted to `POST /v1/attest` at once; beyond that, `503`.
    pub(crate) attest_slots: Arc<Semaphore>,
    /// Verifications running at once (each on a blocking thread).
    pub(crate) workers: Arc<Semaphore>,
    pub(crate) request_timeout: Duration,
    pub(crate) drain_timeout: Duration,
    pub(crate) max_connections: usize,
    draining: AtomicBool,
    request_counter: AtomicU64,
    id_prefix: u32,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("kid", &self.signer.kid())
            .field("at", &self.at)
            .field("draining", &self.is_draining())
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    kss_attest::now()
}

impl AppState {
    /// Loads everything the configuration names: the key (refused when others may read it),
    /// policies, collateral, trust roots, the nonce secret. Nothing is served until this worked.
    pub fn new(config: &ServeConfig) -> Result<Self, StartError> {
        let signer = TokenSigner::from_file(&config.signing_key)?;
        let policies = PolicySet::load(&config.policy_dir)?;
        let roots = config
            .trust_roots
            .iter()
            .map(|p| {
                let bytes = std::fs::read(p).map_err(|source| StartError::TrustRootRead {
                    path: p.clone(),
                    source,
                })?;
                trust_root_key(&bytes, &p.display().to_string()).map_err(StartError::TrustRoot)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let roots = if roots.is_empty() {
            vec![kss_attest::INTEL_SGX_ROOT_CA_PUBLIC_KEY]
        } else {
            roots
        };
        let collateral = match &config.collateral {
            CollateralConfig::Fixed(path) => {
                let c = Collateral::from_path(path).map_err(StartError::Collateral)?;
                CollateralHolder::Fixed(Arc::new(ResolvedCollateral {
                    digests: CollateralDigests::of(&c),
                    collateral: c,
                }))
            }
            CollateralConfig::Pccs(source) => {
                let mut source = source.clone();
                source.roots = roots.clone();
                CollateralHolder::Pccs(Box::new(PccsSource::new(source)))
            }
        };
        let verifier = Verifier::with_trust_roots(roots, Policy::default());
        let nonces = match &config.nonce_secret_file {
            Some(p) => {
                let secret = crate::token::read_key_file(p).map_err(StartError::NonceFile)?;
                let trimmed = Zeroizing::new(secret.trim_ascii().to_vec());
                NonceKey::new(trimmed, config.nonce_lifetime).map_err(StartError::Nonce)?
            }
            None => NonceKey::random(config.nonce_lifetime),
        };
        let workers = config.workers.max(1);
        Ok(Self {
            verifier,
            collateral,
            policies: RwLock::new(Arc::new(policies)),
            signer,
            nonces,
            metrics: Metrics::default(),
            at: config.at,
            token_lifetime: config.token_lifetime,
            attest_slots: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            workers: Arc::new(Semaphore::new(workers)),
            request_timeout: config.request_timeout,
            drain_timeout: config.drain_timeout,
            max_connections: config.max_connections.max(1),
            draining: AtomicBool::new(false),
            request_counter: AtomicU64::new(0),
            id_prefix: rand::random(),
        })
    }

    /// The current policy set.
    pub fn policies(&self) -> Arc<PolicySet> {
        self.policies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reloads the policy directory (SIGHUP). A directory with a bad policy is refused with its
    /// error and the old set stays in force.
    pub fn reload_policies(&self) -> Result<usize, PolicyLoadError> {
        let dir = self.policies().dir().to_path_buf();
        match PolicySet::load(&dir) {
            Ok(set) => {
                let n = set.len();
                *self.policies.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
                self.metrics.reloads.fetch_add(1, Ordering::Relaxed);
                tracing::info!(policies = n, dir = %dir.display(), "policies reloaded");
                Ok(n)
            }
            Err(e) => {
                self.metrics.reload_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "policy reload refused; the previous policies stay in force");
                Err(e)
            }
        }
    }

    /// The token signer (its JWKS).
    pub fn signer(&self) -> &TokenSigner {
        &self.signer
    }

    /// The nonce key.
    pub fn nonces(&self) -> &NonceKey {
        &self.nonces
    }

    /// True once draining (after SIGTERM/SIGINT).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Marks the service as draining: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Ready: collateral and policies are loaded (they are, once constructed) and not draining.
    pub fn is_ready(&self) -> bool {
        !self.is_draining()
    }

    /// A new request id.
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}-{n:x}", self.id_prefix)
    }

    /// The number of entries in the verifier's cache (a gauge).
    pub fn verifier_cache_len(&self) -> usize {
        self.verifier.cache_len()
    }

    /// The collateral for `quote` valid at `at`. With a PCCS this blocks (disk reads, and on a
    /// miss the network through the source's own runtime): call it from a blocking thread
    /// (`spawn_blocking`), never on an async worker.
    fn collateral_for(
        &self,
        quote: &[u8],
        at: u64,
    ) -> Result<Arc<ResolvedCollateral>, AttestError> {
        match &self.collateral {
            CollateralHolder::Fixed(c) => {
                self.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                Ok(c.clone())
            }
            CollateralHolder::Pccs(source) => {
                let need = Need::of_quote(quote, None).map_err(AttestError::Need)?;
                let sourced = source.collateral_blocking(&need, at).map_err(|e| {
                    self.metrics.fetch_errors.fetch_add(1, Ordering::Relaxed);
                    AttestError::Collateral(e)
                })?;
                for w in &sourced.warnings {
                    tracing::warn!(warning = %w, "collateral");
                }
                if sourced.origins.iter().any(|(_, o)| *o == Origin::Network) {
                    self.metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Arc::new(ResolvedCollateral {
                    digests: CollateralDigests::of(&sourced.collateral),
                    collateral: sourced.collateral,
                }))
            }
        }
    }

    /// Verifies and appraises one quote with `policy` and signs the token. CPU-bound: run it
    /// off the async workers.
    pub fn attest(
        &self,
        quote: &[u8],
        policy: &PolicyEntry,
        nonce: Option<String>,
        runtime_data: Option<&[u8]>,
    ) -> Result<AttestOutcome, AttestError> {
        let start = std::time::Instant::now();
        let at = self.at.unwrap_or_else(now);
        let collateral = self.collateral_for(quote, at)?;
        let (verdict, matched) = appraise(
            &self.verifier,
            quote,
            &collateral.collateral,
            at,
            &policy.policy,
            runtime_data,
        );
        let status = ear_status(&verdict);
        let claims = self.claims(
            &verdict,
            status,
            policy,
            &collateral.digests,
            nonce,
            matched,
        );
        let token = self.signer.sign(&claims).map_err(AttestError::Sign)?;
        self.metrics.verification(start.elapsed().as_secs_f64());
        Ok(AttestOutcome {
            token,
            verdict: verdict_json(&verdict),
            status,
        })
    }

    fn claims(
        &self,
        v: &Verdict,
        status: EarStatus,
        policy: &PolicyEntry,
        digests: &CollateralDigests,
        nonce: Option<String>,
        matched: Option<RuntimeDataHash>,
    ) -> EarClaims {
        let iat = now();
        let evidence = AnnotatedEvidence {
            report_body: report_body_value(v),
            tcb_status: v.tcb_status.as_ref().map(|s| s.as_str().to_string()),
            advisory_ids: v.advisory_ids.clone(),
            first_failed_check: v.first_failure().map(|c| FailedCheck {
                name: c.name.as_str().to_string(),
                reason: c.reason.clone(),
            }),
            verified_at: v.at,
            collateral_sha256: digests.clone(),
            runtime_data_hash: matched,
        };
        let sub = SgxSubmod {
            status,
            appraisal_policy_id: policy.appraisal_policy_id(),
            annotated_evidence: evidence,
        };
        EarClaims {
            iat,
            exp: iat.saturating_add(self.token_lifetime),
            eat_profile: EAR_PROFILE.to_string(),
            verifier_id: VerifierId::default(),
            eat_nonce: nonce,
            submods: [(SUBMOD.to_string(), sub)].into_iter().collect(),
        }
    }
}

/// `affirming` when accepted on an `UpToDate` platform without advisories, `warning` when
/// accepted otherwise, `contraindicated` when rejected.
pub fn ear_status(v: &Verdict) -> EarStatus {
    if !v.accepted {
        EarStatus::Contraindicated
    } else if v.tcb_status == Some(TcbStatus::UpToDate) && v.advisory_ids.is_empty() {
        EarStatus::Affirming
    } else {
        EarStatus::Warning
    }
}
