//! [`PccsSource`]: collateral for a quote's [`Need`], each piece from memory, else the disk
//! cache, else the network; a piece from the network is checked before it is cached or used.
//!
//! Fetches are coalesced per piece within one source: when several callers miss the same
//! piece at once, the first fetches it and the others wait for that fetch (at most
//! [`ClientConfig::max_fetch_time`](crate::client::ClientConfig::max_fetch_time)) and share
//! its result, piece or error. So a service verifying many quotes of a new platform at once
//! sends one request per piece, not one per quote.

use crate::cache::{DiskCache, Entry};
use crate::client::{Client, ClientConfig};
use crate::endpoint::Endpoint;
use crate::error::{ErrorKind, FetchError, MalformedAnswer, SetupProblem};
use crate::need::Need;
use crate::piece::Piece;
use crate::validate::{check, Problem};
use kss_attest::{
    format_rfc3339, now, Collateral, CollateralError, CollateralNeed, CollateralSource, P256Key,
    INTEL_SGX_ROOT_CA_PUBLIC_KEY,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

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

/// Collateral from a PCS or PCCS with a cache. `Send + Sync`; share one per process.
#[derive(Debug)]
pub struct PccsSource {
    config: SourceConfig,
    cache: Option<DiskCache>,
    roots_id: [u8; 32],
    client: Mutex<Option<Client>>,
    /// Pieces by cache file name.
    memory: Mutex<HashMap<String, Arc<Entry>>>,
    /// Collateral already assembled from checked pieces, by need: valid while the
    /// verification time lies inside every piece's window.
    assembled: Mutex<HashMap<Need, Assembled>>,
    /// Fetches in flight, by cache file name: later callers wait for the result.
    inflight: Mutex<HashMap<String, watch::Receiver<Flight>>>,
    runtime: OnceLock<tokio::runtime::Runtime>,
}

/// The result of a fetch and where the leading caller found the piece, shared by the callers
/// that waited for it.
type Shared = Result<(Arc<Entry>, Origin), Arc<FetchError>>;

/// A fetch as its waiters see it: `None` until it is done.
type Flight = Option<Shared>;

/// A fetch this caller leads: publishes its result to the callers waiting for it, and removes
/// the fetch from the in-flight map when dropped (also when the leading future is dropped
/// before it finished; waiters then try again themselves).
struct FlightGuard<'a> {
    inflight: &'a Mutex<HashMap<String, watch::Receiver<Flight>>>,
    key: String,
    tx: watch::Sender<Flight>,
}

impl FlightGuard<'_> {
    fn publish(&self, result: Shared) {
        self.tx.send_replace(Some(result));
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        lock(self.inflight).remove(&self.key);
    }
}

/// Locks `m`, also after another thread panicked while holding it (the maps stay consistent:
/// every update is a single insert or remove).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How much longer than the leader's own bound a waiter waits before giving up.
const WAIT_MARGIN: Duration = Duration::from_secs(1);

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
            assembled: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
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
        if let Some(s) = self.cached(need, at)? {
            return Ok(s);
        }
        let [p0, p1, p2, p3] = need.pieces();
        let (r0, r1, r2, r3) = tokio::join!(
            self.piece(p0, at),
            self.piece(p1, at),
            self.piece(p2, at),
            self.piece(p3, at)
        );
        let got = [r0?, r1?, r2?, r3?];
        if let Some(cache) = &self.cache {
            if got.iter().any(|(_, o, _)| *o != Origin::Memory) {
                // Best effort: every fetched piece is in the cache on its own already.
                let _ = cache.write_bundle(need, got.each_ref().map(|(r, _, _)| &**r));
            }
        }
        assemble(got)
    }

    /// The collateral for `need` if every piece is in memory or in the disk cache and valid
    /// at `at`; `None` otherwise. Never uses the network (and needs no async runtime).
    pub fn cached(&self, need: &Need, at: u64) -> Result<Option<Sourced>, FetchError> {
        match self.cached_pieces(need, at)? {
            Some([a, b, c, d]) => {
                let none = |(r, o)| (r, o, None);
                assemble([none(a), none(b), none(c), none(d)]).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Like [`PccsSource::cached`], shared: the collateral assembled from the four pieces is
    /// kept by need, so later calls valid at `at` cost one map lookup. Each piece is read
    /// from the disk cache at most once while it stays valid; only pieces that passed their
    /// checks are ever held. Never uses the network.
    pub fn cached_shared(
        &self,
        need: &Need,
        at: u64,
    ) -> Result<Option<Arc<Collateral>>, FetchError> {
        if let Some(c) = self
            .assembled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(need)
            .filter(|a| a.from <= at && at <= a.until)
        {
            return Ok(Some(c.collateral.clone()));
        }
        let Some(pieces) = self.cached_pieces(need, at)? else {
            return Ok(None);
        };
        let from = pieces
            .iter()
            .map(|(e, _)| e.checked.issued)
            .max()
            .unwrap_or(0);
        let until = pieces
            .iter()
            .map(|(e, _)| e.checked.next_update)
            .min()
            .unwrap_or(0);
        let [a, b, c, d] = pieces;
        let none = |(r, o)| (r, o, None);
        let collateral = Arc::new(assemble([none(a), none(b), none(c), none(d)])?.collateral);
        self.assembled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                *need,
                Assembled {
                    collateral: collateral.clone(),
                    from,
                    until,
                },
            );
        Ok(Some(collateral))
    }

    /// The four pieces of `need` valid at `at` from memory or the disk cache, if all are:
    /// memory first, then the need's bundle file (one read), then the piece files (a bundle is
    /// written when they served). A cache file that cannot be read is an error offline;
    /// otherwise it counts as a miss (the piece is fetched again, with a warning).
    fn cached_pieces(&self, need: &Need, at: u64) -> Result<Option<FourPieces>, FetchError> {
        let pieces = need.pieces();
        let mem = pieces.map(|p| self.in_memory(p, at));
        if let [Some(a), Some(b), Some(c), Some(d)] = &mem {
            return Ok(Some([a, b, c, d].map(|r| (r.clone(), Origin::Memory))));
        }
        let Some(cache) = &self.cache else {
            return Ok(None);
        };
        match cache.read_bundle(need) {
            Ok(Some(entries)) if entries.iter().all(|e| e.usable(at, &[self.roots_id])) => {
                let mut i = 0;
                return Ok(Some(entries.map(|e| {
                    let got = match &mem[i] {
                        Some(r) => (r.clone(), Origin::Memory),
                        None => {
                            let r = Arc::new(e);
                            self.remember(r.clone());
                            (r, Origin::Disk)
                        }
                    };
                    i += 1;
                    got
                })));
            }
            Err(e) if self.config.offline => return Err(e),
            _ => {}
        }
        let look = |p: Piece| match self.lookup(p, at) {
            Err(_) if !self.config.offline => Ok(None),
            other => other,
        };
        let [p0, p1, p2, p3] = pieces;
        let got = [look(p0)?, look(p1)?, look(p2)?, look(p3)?];
        Ok(match got {
            [Some(a), Some(b), Some(c), Some(d)] => {
                let four = [a, b, c, d];
                if four.iter().any(|(_, o)| *o == Origin::Disk) {
                    // Best effort: the pieces are in the cache either way.
                    let _ = cache.write_bundle(need, four.each_ref().map(|(r, _)| &**r));
                }
                Some(four)
            }
            _ => None,
        })
    }

    /// [`PccsSource::collateral`] for callers without an async runtime: runs it on this
    /// source's own single-threaded runtime. Must not be called from inside a Tokio runtime.
    pub fn collateral_blocking(&self, need: &Need, at: u64) -> Result<Sourced, FetchError> {
        // All cached: no runtime needed.
        if let Some(s) = self.cached(need, at)? {
            return Ok(s);
        }
        let rt = match self.runtime.get() {
            Some(rt) => rt,
            None => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| FetchError::setup(SetupProblem::Runtime(e)))?;
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

    fn remember(&self, entry: Arc<Entry>) {
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entry.checked.piece.file_name(), entry);
    }

    /// One piece valid at `at` from memory.
    fn in_memory(&self, piece: Piece, at: u64) -> Option<Arc<Entry>> {
        lock(&self.memory)
            .get(&piece.file_name())
            .filter(|r| r.usable(at, &[self.roots_id]))
            .cloned()
    }

    /// One piece valid at `at` from memory or the disk cache.
    fn lookup(&self, piece: Piece, at: u64) -> Result<Option<(Arc<Entry>, Origin)>, FetchError> {
        let roots = [self.roots_id];
        if let Some(r) = self.in_memory(piece, at) {
            return Ok(Some((r, Origin::Memory)));
        }
        if let Some(cache) = &self.cache {
            if let Some(entry) = cache.read(&piece)?.filter(|e| e.usable(at, &roots)) {
                let r = Arc::new(entry);
                self.remember(r.clone());
                return Ok(Some((r, Origin::Disk)));
            }
        }
        Ok(None)
    }

    /// One piece valid at `at`: memory, disk, network (one fetch per piece at a time, shared
    /// by every caller that misses it meanwhile).
    async fn piece(&self, piece: Piece, at: u64) -> Result<Got, FetchError> {
        let warning = match self.lookup(piece, at) {
            Ok(Some((r, o))) => return Ok((r, o, None)),
            Ok(None) => None,
            Err(e) if self.config.offline => return Err(e),
            Err(e) => Some(format!("{e}; {piece} fetched again")),
        };
        if self.config.offline {
            return Err(FetchError::NotCached {
                piece,
                at: format_rfc3339(at),
            });
        }
        let key = piece.file_name();
        loop {
            // The lock is released before any await (the future stays `Send`).
            let joined = {
                let mut inflight = lock(&self.inflight);
                match inflight.get(&key) {
                    Some(rx) => Ok(rx.clone()),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        inflight.insert(key.clone(), rx);
                        Err(tx)
                    }
                }
            };
            let rx = match joined {
                Ok(rx) => rx,
                Err(tx) => {
                    let guard = FlightGuard {
                        inflight: &self.inflight,
                        key,
                        tx,
                    };
                    return self.lead(piece, at, guard, warning).await;
                }
            };
            if let Some(shared) = self.follow(piece, rx).await? {
                return match shared {
                    Ok((r, o)) => Ok((r, o, warning)),
                    Err(e) => Err(e.duplicate()),
                };
            }
            // The leading caller went away before it finished: try again.
        }
    }

    /// Waits for another caller's fetch of `piece`: its result, or `None` when that caller
    /// went away unfinished. Gives up (a timeout error) after the longest time the fetch can
    /// take.
    async fn follow(
        &self,
        piece: Piece,
        mut rx: watch::Receiver<Flight>,
    ) -> Result<Option<Shared>, FetchError> {
        let limit = self.config.client.max_fetch_time() + WAIT_MARGIN;
        match tokio::time::timeout(limit, rx.wait_for(Option::is_some)).await {
            Ok(Ok(done)) => Ok(done.clone()),
            Ok(Err(_closed)) => Ok(None),
            Err(_elapsed) => Err(FetchError::Timeout {
                piece,
                url: self.config.endpoint.url_of(&piece),
                timeout: limit,
            }),
        }
    }

    /// Fetches `piece` for every caller waiting on `guard`'s flight and publishes the result.
    /// Looks in memory and the cache once more first: a fetch that finished between this
    /// caller's miss and its taking the lead has left the piece there.
    async fn lead(
        &self,
        piece: Piece,
        at: u64,
        guard: FlightGuard<'_>,
        warning: Option<String>,
    ) -> Result<Got, FetchError> {
        if let Ok(Some((r, o))) = self.lookup(piece, at) {
            guard.publish(Ok((r.clone(), o)));
            return Ok((r, o, warning));
        }
        match self.fetch(piece).await {
            Ok((r, w)) => {
                guard.publish(Ok((r.clone(), Origin::Network)));
                Ok((r, Origin::Network, warning.or(w)))
            }
            Err(e) => {
                guard.publish(Err(Arc::new(e.duplicate())));
                Err(e)
            }
        }
    }

    /// Fetches and checks `piece`, writes it to the disk cache (a failed write is a warning)
    /// and keeps it in memory.
    async fn fetch(&self, piece: Piece) -> Result<(Arc<Entry>, Option<String>), FetchError> {
        let resp = self.client()?.fetch(&piece).await?;
        let checked = check(
            &piece,
            &resp.body,
            resp.issuer_chain.as_deref(),
            &self.config.roots,
        )
        .map_err(|p| match p {
            Problem::Malformed(m) => {
                FetchError::malformed(piece, &resp.url, MalformedAnswer::Piece(m))
            }
            Problem::Rejected(r) => FetchError::Rejected {
                piece,
                url: resp.url.clone(),
                problem: Arc::new(r),
            },
        })?;
        let entry = Entry::new(checked, resp.url.clone(), now(), self.roots_id)
            .map_err(|m| FetchError::malformed(piece, &resp.url, MalformedAnswer::Piece(m)))?;
        let mut warning = None;
        if let Some(cache) = &self.cache {
            if let Err(e) = cache.write(&entry) {
                warning = Some(format!("{piece} not cached: {e}"));
            }
        }
        let r = Arc::new(entry);
        self.remember(r.clone());
        Ok((r, warning))
    }
}

/// Collateral assembled from four checked pieces, and the window in which all are valid.
#[derive(Debug)]
struct Assembled {
    collateral: Arc<Collateral>,
    /// The latest issue date / thisUpdate of the pieces.
    from: u64,
    /// The earliest nextUpdate of the pieces.
    until: u64,
}

/// A piece, its origin, and a warning.
type Got = (Arc<Entry>, Origin, Option<String>);

/// The collateral of four pieces in [`Need::pieces`] order.
fn assemble(got: [Got; 4]) -> Result<Sourced, FetchError> {
    let [(tcb, o0, w0), (qe, o1, w1), (pck, o2, w2), (root, o3, w3)] = got;
    let signed = |r: &Entry| {
        r.signed.clone().ok_or_else(|| {
            FetchError::malformed(r.checked.piece, &r.source, MalformedAnswer::NoSignedBody)
        })
    };
    let chain = |r: &Entry| {
        r.checked
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
        pck_crl: Some(pck.checked.body.clone()),
        pck_crl_issuer_chain: Some(chain(&pck)),
        root_ca_crl: Some(root.checked.body.clone()),
        pck_chain: None,
    };
    let piece = |r: &Entry| r.checked.piece;
    Ok(Sourced {
        origins: vec![
            (piece(&tcb), o0),
            (piece(&qe), o1),
            (piece(&pck), o2),
            (piece(&root), o3),
        ],
        collateral,
        warnings: [w0, w1, w2, w3].into_iter().flatten().collect(),
    })
}

/// The trait the verifier knows: collateral valid at the need's time. Unavailable pieces are
/// [`CollateralError::Unavailable`], the others [`CollateralError::Content`], both with the
/// [`FetchError`] as source; [`PccsSource::collateral`] keeps the full error.
impl CollateralSource for PccsSource {
    fn collateral(&self, need: &CollateralNeed) -> Result<Arc<Collateral>, CollateralError> {
        let n = Need {
            fmspc: need.fmspc,
            ca: need.ca,
        };
        if let Ok(Some(c)) = self.cached_shared(&n, need.at) {
            return Ok(c);
        }
        match self.collateral_blocking(&n, need.at) {
            Ok(s) => Ok(Arc::new(s.collateral)),
            Err(e) => {
                let what = e
                    .piece()
                    .map_or_else(|| "collateral".to_string(), |p| p.to_string());
                Err(match e.kind() {
                    ErrorKind::Unavailable | ErrorKind::Local => CollateralError::Unavailable {
                        what: format!("{what} from {}", self.config.endpoint.api()),
                        source: Box::new(e),
                    },
                    ErrorKind::Rejected | ErrorKind::Malformed => CollateralError::Content {
                        source_name: self.config.endpoint.api().to_string(),
                        field: what,
                        source: Box::new(e),
                    },
                })
            }
        }
    }
}

/// The four collateral pieces of a need, each with where it came from.
type FourPieces = [(Arc<Entry>, Origin); 4];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Checked;
    use std::future::{poll_fn, Future};
    use std::task::Poll;

    #[test]
    fn a_caller_that_joined_a_fetch_reports_where_the_leader_found_the_piece() {
        // A service that is never asked: the leader finds the piece in memory.
        let endpoint = Endpoint::parse("http://127.0.0.1:9").expect("url");
        let src = PccsSource::new(SourceConfig::new(endpoint));
        let (piece, at) = (Piece::RootCaCrl, 1_752_919_277);
        // Another caller leads a fetch of the piece: this one misses and waits for it.
        let (tx, rx) = watch::channel(None);
        lock(&src.inflight).insert(piece.file_name(), rx);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut follower = std::pin::pin!(src.piece(piece, at));
            let first = poll_fn(|cx| Poll::Ready(follower.as_mut().poll(cx))).await;
            assert!(first.is_pending(), "the follower waits for the flight");
            // Meanwhile the piece got into memory; the leader looks again and finds it there.
            let checked = Checked {
                piece,
                body: vec![0x30, 0],
                issuer_chain: None,
                issued: at - 1,
                next_update: at + 1,
            };
            let entry = Entry::new(checked, "memory".into(), at, src.roots_id).expect("entry");
            src.remember(Arc::new(entry));
            let guard = FlightGuard {
                inflight: &src.inflight,
                key: piece.file_name(),
                tx,
            };
            let (_, led, _) = src.lead(piece, at, guard, None).await.expect("led");
            assert_eq!(led, Origin::Memory);
            let (r, followed, warning) = follower.await.expect("followed");
            assert_eq!(followed, Origin::Memory, "not Network: nothing was fetched");
            assert_eq!((r.checked.piece, warning), (piece, None));
        });
    }
}
