//! `kss serve`: the HTTP attestation service (see docs/serve.md).

use crate::cmd::collateral::{trust_roots, SourceArgs, PCCS_ENV};
use crate::error::{CliError, CliResult};
use kss_attest::parse_time;
use kss_serve::{AppState, CollateralConfig, ServeConfig, Server};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const AFTER_HELP: &str = "\
Endpoints (JSON in and out; see docs/serve.md):
  POST /v1/attest              {\"quote\": b64, \"policy_id\"?, \"nonce\"?, \"runtime_data\"?: b64}
                               -> 200 {\"token\": EAR JWT (ES256), \"verdict\": as kss verify --json}
  GET  /v1/nonce               a stateless nonce (HMAC with the nonce secret)
  GET  /.well-known/jwks.json  the token signing key
  GET  /v1/policies[/{id}]     policies DIR/<id>.json with their SHA-256 (SIGHUP reloads)
  GET  /healthz /readyz /metrics

Signals: SIGHUP reloads the policy directory (a bad policy is refused, the old set stays);
SIGTERM/SIGINT: /readyz goes unready, no new connections, in-flight requests finish (bounded by
--drain-timeout), exit 0.

Logs go to stderr (RUST_LOG-style level with --log-level). Quote bytes and keys are never logged.
Exit status: 0 after a clean shutdown, 2 bad configuration, 3 cannot listen.";

/// Arguments of `kss serve`.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Address and port to listen on (loopback by default; 127.0.0.1:0 picks a free port and
    /// prints it).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,

    /// Token signing key: EC P-256 private key, PEM (PKCS#8 or SEC1), mode 0600 or stricter.
    /// `kss token keygen --out FILE` makes one.
    #[arg(long, value_name = "PEM")]
    pub signing_key: PathBuf,

    /// Directory of policies `<id>.json` (docs/policy.md). `default.json` is used when a
    /// request names no policy; without it, the built-in default.
    #[arg(long, value_name = "DIR")]
    pub policy_dir: PathBuf,

    /// Fixed collateral: a dcap-qvl JSON file or a directory of raw PCS files (as for
    /// `kss verify`). Without it: fetched per quote from --pccs URL (or $KSS_PCCS_URL) and
    /// cached, as `kss verify` does.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["pccs", "pccs_ca", "cache_dir", "no_cache", "offline"])]
    pub collateral: Option<PathBuf>,

    #[command(flatten)]
    pub source: SourceArgs,

    /// Trust this root certificate instead of the Intel SGX Root CA (repeatable).
    #[arg(long = "trust-root", value_name = "CERT")]
    pub trust_roots: Vec<PathBuf>,

    /// File with the nonce secret (at least 16 bytes; mode 0600). Replicas that share it accept
    /// each other's nonces. Default: a random secret for this process.
    #[arg(long, value_name = "FILE")]
    pub nonce_secret_file: Option<PathBuf>,

    /// Verify at this fixed time (Unix seconds or RFC 3339) instead of each request's time.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Token lifetime in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub token_lifetime: u64,

    /// Nonce lifetime in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub nonce_lifetime: u64,

    /// Attestation requests admitted at once; more are answered 503 at once.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_in_flight: usize,

    /// Verification threads (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// Time limit of one request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub request_timeout: f64,

    /// Time in-flight requests get to finish after SIGTERM, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub drain_timeout: f64,

    /// TLS certificate chain (PEM) for HTTPS; needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM, mode 0600); needs --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Log level: error, warn, info, debug or trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
}

fn seconds(v: f64, what: &str) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(v)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| CliError::input(format!("{what}: {v} is not a positive number of seconds")))
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let level: tracing::Level = args.log_level.parse().map_err(|_| {
        CliError::input(format!(
            "--log-level: '{}' is not one of error, warn, info, debug, trace",
            args.log_level
        ))
    })?;
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let pccs_env = std::env::var(PCCS_ENV).is_ok_and(|s| !s.trim().is_empty());
    let collateral = match &args.collateral {
        Some(p) => CollateralConfig::Fixed(p.clone()),
        None if args.source.pccs.is_some() || pccs_env => {
            CollateralConfig::Pccs(args.source.source_config(trust_roots(&args.trust_roots)?)?)
        }
        None => {
            return Err(CliError::input(format!(
                "give --collateral PATH or --pccs URL (or set {PCCS_ENV})"
            ))
            .hint("for Intel's PCS: --pccs https://api.trustedservices.intel.com"))
        }
    };
    let mut config = ServeConfig::new(
        args.listen,
        args.signing_key.clone(),
        args.policy_dir.clone(),
        collateral,
    );
    config.trust_roots = args.trust_roots.clone();
    config.nonce_secret_file = args.nonce_secret_file.clone();
    config.at = args
        .at
        .as_deref()
        .map(|t| parse_time(t, "--at").map_err(|e| CliError::input(e.to_string())))
        .transpose()?;
    config.token_lifetime = args.token_lifetime;
    config.nonce_lifetime = args.nonce_lifetime;
    config.max_in_flight = args.max_in_flight;
    if let Some(w) = args.workers {
        config.workers = w;
    }
    config.request_timeout = seconds(args.request_timeout, "--request-timeout")?;
    config.drain_timeout = seconds(args.drain_timeout, "--drain-timeout")?;
    config.tls = args.tls_cert.clone().zip(args.tls_key.clone());

    let state = Arc::new(AppState::new(&config).map_err(|e| CliError::input(e.to_string()))?);
    let tls = config
        .tls
        .as_ref()
        .map(|(c, k)| kss_serve::server::tls_acceptor(c, k))
        .transpose()
        .map_err(|e| CliError::input(e.to_string()))?;
    // Dropped after the runtime: with --pccs the state owns the collateral source's own
    // runtime, which must not be dropped inside an async context.
    let state_outside = state.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kss-serve")
        .build()
        .map_err(|e| CliError::environment(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let https = tls.is_some();
        let server = Server::bind(config.listen, state.clone(), tls)
            .await
            .map_err(|e| {
                CliError::environment(format!("cannot listen on {}: {e}", config.listen))
            })?;
        let addr = server
            .local_addr()
            .map_err(|e| CliError::environment(e.to_string()))?;
        tracing::info!(
            %addr,
            https,
            policies = state.policies().len(),
            kid = state.signer().kid(),
            "listening"
        );
        // One line on stdout for scripts and tests that start the service on port 0.
        println!(
            "kss serve: listening on {}://{addr}",
            if https { "https" } else { "http" }
        );
        let signals = kss_serve::server::signals(state.clone());
        server.serve(signals).await;
        Ok::<(), CliError>(())
    })?;
    // Blocking threads still finishing a timed-out verification are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    drop(state_outside);
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
