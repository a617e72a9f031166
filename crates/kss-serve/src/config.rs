//! The service configuration (what `kss serve`'s flags fill in).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where collateral comes from.
#[derive(Debug, Clone)]
pub enum CollateralConfig {
    /// A fixed bundle: a dcap-qvl JSON file or a directory of raw PCS files.
    Fixed(PathBuf),
    /// A PCCS or Intel PCS (fetched per quote through `kss_collateral::PccsSource`: memory,
    /// then the disk cache, then the network). Its `roots` are replaced by the service's trust
    /// roots, so collateral is checked against the same roots as quotes.
    Pccs(kss_collateral::SourceConfig),
}

/// Everything `kss serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The token signing key (P-256 PEM; mode 0600 or stricter).
    pub signing_key: PathBuf,
    /// Directory of policies `<id>.json`.
    pub policy_dir: PathBuf,
    /// Collateral source.
    pub collateral: CollateralConfig,
    /// Trusted roots (certificates); empty: the Intel SGX Root CA.
    pub trust_roots: Vec<PathBuf>,
    /// File holding the nonce secret (shared by replicas); `None`: a random per-process secret.
    pub nonce_secret_file: Option<PathBuf>,
    /// Fixed verification time (Unix seconds); `None`: the time of each request.
    pub at: Option<u64>,
    /// Token lifetime in seconds.
    pub token_lifetime: u64,
    /// Nonce lifetime in seconds.
    pub nonce_lifetime: u64,
    /// Attestation requests admitted at once; more get `503` at once.
    pub max_in_flight: usize,
    /// Verifications running at once (threads).
    pub workers: usize,
    /// Open connections at once; more are closed at once.
    pub max_connections: usize,
    /// Time limit of one request (reading the body, verifying, signing).
    pub request_timeout: Duration,
    /// Time in-flight requests get to finish after SIGTERM.
    pub drain_timeout: Duration,
    /// TLS certificate chain and key (PEM) for HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl ServeConfig {
    /// A configuration with the defaults for everything but the required paths.
    pub fn new(
        listen: SocketAddr,
        signing_key: PathBuf,
        policy_dir: PathBuf,
        collateral: CollateralConfig,
    ) -> Self {
        Self {
            listen,
            signing_key,
            policy_dir,
            collateral,
            trust_roots: Vec::new(),
            nonce_secret_file: None,
            at: None,
            token_lifetime: 600,
            nonce_lifetime: 300,
            max_in_flight: 256,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_connections: 4096,
            request_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(10),
            tls: None,
        }
    }
}
