//! [`PccsSource`]: collateral for a quote's [`Need`], each piece from memory, else the disk
//! cache, else the network; a piece from the network is checked before it is cached or used.

use crate::cache::{DiskCache, Entry};
use crate::client::{Client, ClientConfig};
use crate::endpoint::Endpoint;
use crate::error::FetchError;
use crate::need::Need;
use crate::piece::Piece;
use crate::validate::{check, Problem};
use kss_attest::collateral::{
    Collateral, CollateralError, CollateralRequest, CollateralSource, SignedJson,
};
use kss_attest::dcap_time::{format_rfc3339, now};
use kss_attest::verify::INTEL_SGX_ROOT_CA_PUBLIC_KEY;
use kss_attest::x509util::P256Key;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// How a [`PccsSource`] gets collateral.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The PCS or PCCS.
    pub endpoint: Endpoint,
    /// HTTP behaviour: timeout, retries, size limit, extra CA certificates.
    pub client: ClientConfig,
    /// The cache directory; `None`: no disk cache (every piece is fetched once per
    /// [`PccsSource`]).
    pub cache_dir: Option<PathBuf>,
    /// Never use the network: cached pieces only.
    pub offline: bool,
    /// Trust roots (public keys) that issuer chains and the Root CA CRL must lead to.
    pub roots: Vec<P256Key>,
}

impl SourceConfig {
    /// Intel's PCS, default client, no disk cache, the Intel SGX Root CA.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            client: ClientConfig::default(),
            cache_dir: None,
            offline: false,
            roots: vec![INTEL_SGX_ROOT_CA_PUBLIC_KEY],
        }
    }
}

/// Where a piece came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This source's memory (an earlier call).
    Memory,
    /// The disk cache.
    Disk,
    /// The service.
    Network,
}

/// Collateral, and where each piece came from.
#[derive(Debug, Clone)]
pub struct Sourced {
    /// The collateral (without a PCK chain).
    pub collateral: Collateral,
    /// Each piece and its origin, in [`Need::pieces`] order.
    pub origins: Vec<(Piece, Origin)>,
    /// Problems that did not prevent getting the collateral (e.g. a cache entry that could
    /// not be written).
    pub warnings: Vec<String>,
}

/// A piece ready to use: the cache entry and, for signed JSON, its split body.
#[derive(Debug)]
struct Ready {
    entry: Entry,
    signed: Option<SignedJson>,
}

/// Collateral from a PCS or PCCS with a cache. `Send + Sync`; share one per process.
#[derive(Debug)]
pub struct PccsSource {
    config: SourceConfig,
    cache: Option<DiskCache>,
    roots_id: [u8; 32],
    client: Mutex<Option<Client>>,
    /// Pieces by cache file name.
    memory: Mutex<HashMap<String, Arc<Ready>>>,
    runtime: OnceLock<tokio::runtime::Runtime>,
}

/// SHA-256 over the sorted trust root keys: the cache tag of pieces checked against them.
pub fn roots_id(roots: &[P256Key]) -> [u8; 32] {
    let mut keys: Vec<&P256Key> = roots.iter().collect();
    keys.sort();
    keys.dedup();
    let mut h = Sha256::new();
    for k in keys {
        h.update(k);
    }
    h.finalize().into()
}

impl PccsSource {
    /// A source as configured. Nothing is read or fetched yet.
    pub fn new(config: SourceConfig) -> Self {
        Self {
            cache: config.cache_dir.clone().map(DiskCache::new),
            roots_id: roots_id(&config.roots),
            config,
            client: Mutex::new(None),
            memory: Mutex::new(HashMap::new()),
            runtime: OnceLock::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SourceConfig {
        &self.config
    }

    /// The collateral for `need`, every piece valid at `at` when the cache has one, else
    /// freshly fetched. All four pieces or an error: never part of them.
    pub async fn collateral(&self, need: &Need, at: u64) -> Result<Sourced, FetchError> {
        let [p0, p1, p2, p3] = need.pieces();
        let (r0, r1, r2, r3) = tokio::join!(
            self.piece(p0, at),
            self.piece(p1, at),
            self.piece(p2, at),
            self.piece(p3, at)
        );
        let (tcb, o0, w0) = r0?;
        let (qe, o1, w1) = r1?;
        let (pck, o2, w2) = r2?;
        let (root, o3, w3) = r3?;
        let signed = |r: &Ready| {
            r.signed.clone().ok_or_else(|| FetchError::Malformed {
                piece: r.entry.checked.piece,
                url: r.entry.source.clone(),
                reason: "no signed body".into(),
            })
        };
        let chain = |r: &Ready| {
            r.entry
                .checked
                .issuer_chain
                .clone()
                .unwrap_or_default()
                .into_bytes()
        };
        let collateral = Collateral {
            tcb_info: signed(&tcb)?,
            tcb_info_issuer_chain: chain(&tcb),
            qe_identity: signed(&qe)?,
            qe_identity_issuer_chain: chain(&qe),
            pck_crl: Some(pck.entry.checked.body.clone()),
            pck_crl_issuer_chain: Some(chain(&pck)),
            root_ca_crl: Some(root.entry.checked.body.clone()),
            pck_chain: None,
        };
        Ok(Sourced {
            collateral,
            origins: vec![(p0, o0), (p1, o1), (p2, o2), (p3, o3)],
            warnings: [w0, w1, w2, w3].into_iter().flatten().collect(),
        })
    }

    /// [`PccsSource::collateral`] for callers without an async runtime: runs it on this
    /// source's own single-threaded runtime. Must not be called from inside a Tokio runtime.
    pub fn collateral_blocking(&self, need: &Need, at: u64) -> Result<Sourced, FetchError> {
        let rt = match self.runtime.get() {
            Some(rt) => rt,
            None => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| FetchError::Setup {
                        reason: format!("async runtime: {e}"),
                    })?;
                self.runtime.get_or_init(|| rt)
            }
        };
        rt.block_on(self.collateral(need, at))
    }

    fn client(&self) -> Result<Client, FetchError> {
        let mut slot = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = &*slot {
            return Ok(c.clone());
        }
        let c = Client::new(self.config.endpoint.clone(), self.config.client.clone())?;
        *slot = Some(c.clone());
        Ok(c)
    }

    fn remember(&self, ready: Arc<Ready>) {
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ready.entry.checked.piece.file_name(), ready);
    }

    /// One piece valid at `at`: memory, disk, network.
    async fn piece(
        &self,
        piece: Piece,
        at: u64,
    ) -> Result<(Arc<Ready>, Origin, Option<String>), FetchError> {
        let roots = [self.roots_id];
        let hit = self
            .memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&piece.file_name())
            .filter(|r| r.entry.usable(at, &roots))
            .cloned();
        if let Some(r) = hit {
            return Ok((r, Origin::Memory, None));
        }
        if let Some(cache) = &self.cache {
            if let Some(entry) = cache.read(&piece)?.filter(|e| e.usable(at, &roots)) {
                // A cache file that parses as an entry but not as the piece is treated as
                // absent: it is fetched again and replaced.
                if let Ok(r) = ready(entry) {
                    let r = Arc::new(r);
                    self.remember(r.clone());
                    return Ok((r, Origin::Disk, None));
                }
            }
        }
        if self.config.offline {
            return Err(FetchError::NotCached {
                piece,
                at: format_rfc3339(at),
            });
        }
        let resp = self.client()?.fetch(&piece).await?;
        let checked = check(
            &piece,
            &resp.body,
            resp.issuer_chain.as_deref(),
            &self.config.roots,
        )
        .map_err(|p| match p {
            Problem::Malformed(reason) => FetchError::Malformed {
                piece,
                url: resp.url.clone(),
                reason,
            },
            Problem::Rejected(reason) => FetchError::Rejected {
                piece,
                url: resp.url.clone(),
                reason,
            },
        })?;
        let entry = Entry {
            checked,
            source: resp.url.clone(),
            fetched_at: now(),
            root: self.roots_id,
        };
        let mut warning = None;
        if let Some(cache) = &self.cache {
            if let Err(e) = cache.write(&entry) {
                warning = Some(format!("{piece} not cached: {e}"));
            }
        }
        let r = Arc::new(ready(entry).map_err(|reason| FetchError::Malformed {
            piece,
            url: resp.url,
            reason,
        })?);
        self.remember(r.clone());
        Ok((r, Origin::Network, warning))
    }
}

fn ready(entry: Entry) -> Result<Ready, String> {
    let signed = match entry.checked.piece {
        Piece::TcbInfo { .. } | Piece::QeIdentity => Some(
            entry
                .checked
                .signed_json()
                .map_err(|p| format!("{p:?}"))?,
        ),
        _ => None,
    };
    Ok(Ready { entry, signed })
}

/// The trait the verifier knows. The trait has no verification time, so pieces must be
/// valid now; errors lose their kind (use [`PccsSource::collateral`] to keep it).
impl CollateralSource for PccsSource {
    fn collateral_for(&self, request: &CollateralRequest) -> Result<Collateral, CollateralError> {
        let need = Need {
            fmspc: request.fmspc,
            ca: request.ca,
        };
        self.collateral_blocking(&need, now())
            .map(|s| s.collateral)
            .map_err(|e| CollateralError::Missing {
                source_name: self.config.endpoint.api().to_string(),
                what: e
                    .piece()
                    .map_or_else(|| "collateral".to_string(), |p| p.to_string()),
                looked_for: e.to_string(),
            })
    }
}
