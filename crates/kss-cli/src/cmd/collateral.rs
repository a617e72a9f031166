//! `kss collateral`: fetch DCAP collateral from Intel PCS or a PCCS into a file, and manage the
//! collateral cache. Also the options `kss verify` uses to fetch collateral.

use crate::error::{status, CliError, CliResult};
use crate::util::{read_file, write_atomic};
use kss_attest::{
    format_rfc3339, now, parse_time, trust_root_key, P256Key, INTEL_SGX_ROOT_CA_PUBLIC_KEY,
};
use kss_collateral::cache::DiskCache;
use kss_collateral::client::ClientConfig;
use kss_collateral::need::Need;
use kss_collateral::{Endpoint, ErrorKind, FetchError, PccsSource, SourceConfig, Sourced};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The environment variable naming the PCCS when `--pccs` is not given.
pub const PCCS_ENV: &str = "KSS_PCCS_URL";

/// Where collateral is fetched from and how (shared by `kss verify` and `kss collateral`).
#[derive(clap::Args, Debug, Clone)]
pub struct SourceArgs {
    /// The PCCS (or PCS) to fetch collateral from: a base URL (`https://host:8081`) or one
    /// ending in /sgx/certification/v4. Default: $KSS_PCCS_URL, else Intel's PCS at
    /// api.trustedservices.intel.com.
    #[arg(long, value_name = "URL")]
    pub pccs: Option<String>,

    /// Trust this CA certificate (PEM) for the PCCS's TLS certificate, besides the system's
    /// roots. Repeat for several.
    #[arg(long = "pccs-ca", value_name = "PEM")]
    pub pccs_ca: Vec<PathBuf>,

    /// Seconds one HTTP attempt may take (connection to last byte). Connection errors and
    /// HTTP 5xx/429 are retried twice with backoff, or after the wait a 429/503 answer's
    /// Retry-After asks for if that is no longer than this timeout (a longer one is not
    /// retried); a timeout is not retried.
    #[arg(long, value_name = "SECS", default_value = "30")]
    pub timeout: f64,

    /// The collateral cache directory. Default: collateral-cache/ in the kss home
    /// ($KSS_HOME, else $XDG_DATA_HOME/kss, else ~/.local/share/kss).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the collateral cache: fetch every piece.
    #[arg(long, conflicts_with = "offline")]
    pub no_cache: bool,

    /// Never use the network: every piece must be in the cache and valid at the
    /// verification time.
    #[arg(long)]
    pub offline: bool,
}

/// The default cache directory: `collateral-cache/` in the kss home.
pub fn default_cache_dir() -> Result<PathBuf, CliError> {
    kss_io::kss_home()
        .map(|h| h.join("collateral-cache"))
        .ok_or_else(|| {
            CliError::environment(
                "no kss home for the collateral cache: none of KSS_HOME, XDG_DATA_HOME or HOME is set",
            )
            .hint("pass --cache-dir DIR or --no-cache")
        })
}

impl SourceArgs {
    /// The service: `--pccs`, else `$KSS_PCCS_URL`, else Intel's PCS.
    pub fn endpoint(&self) -> Result<Endpoint, CliError> {
        let from_env = std::env::var(PCCS_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        match (&self.pccs, from_env) {
            (Some(u), _) => Endpoint::parse(u)
                .map_err(|e| CliError::input(format!("--pccs: {e}")).input_name("--pccs")),
            (None, Some(u)) => Endpoint::parse(&u)
                .map_err(|e| CliError::input(format!("{PCCS_ENV}: {e}")).input_name(PCCS_ENV)),
            (None, None) => Ok(Endpoint::intel_pcs()),
        }
    }

    /// The cache directory to use (`None` with `--no-cache`).
    pub fn cache_dir(&self) -> Result<Option<PathBuf>, CliError> {
        match (&self.cache_dir, self.no_cache) {
            (_, true) => Ok(None),
            (Some(d), false) => Ok(Some(d.clone())),
            (None, false) => default_cache_dir().map(Some),
        }
    }

    /// A source trusting `roots` for the collateral's chains.
    pub fn source(&self, roots: Vec<P256Key>) -> Result<PccsSource, CliError> {
        self.source_config(roots).map(PccsSource::new)
    }

    /// The configuration of [`SourceArgs::source`] (what `kss serve` hands to the service).
    pub fn source_config(&self, roots: Vec<P256Key>) -> Result<SourceConfig, CliError> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(CliError::input(format!(
                "--timeout: {} is not a number of seconds in (0, 3600]",
                self.timeout
            ))
            .input_name("--timeout"));
        }
        let extra_roots_pem = self
            .pccs_ca
            .iter()
            .map(|p| read_file(p, "PCCS CA certificate", kss_io::limits::COLLATERAL))
            .collect::<Result<Vec<_>, _>>()?;
        let client = ClientConfig {
            timeout: Duration::from_secs_f64(self.timeout),
            extra_roots_pem,
            ..ClientConfig::default()
        };
        Ok(SourceConfig {
            endpoint: self.endpoint()?,
            client,
            cache_dir: self.cache_dir()?,
            offline: self.offline,
            roots,
        })
    }

    /// Fetches (or reads from the cache) the collateral of `quote` valid at `at`. Warnings go
    /// to stderr.
    pub fn fetch(
        &self,
        quote: &[u8],
        pck_chain: Option<&[u8]>,
        roots: Vec<P256Key>,
        at: u64,
    ) -> Result<Sourced, CliError> {
        let need = Need::of_quote(quote, pck_chain).map_err(|e| {
            CliError::input(format!("cannot tell which collateral the quote needs: {e}"))
        })?;
        let source = self.source(roots)?;
        let sourced = source.collateral_blocking(&need, at).map_err(fetch_error)?;
        for w in &sourced.warnings {
            eprintln!("kss: warning: {w}");
        }
        Ok(sourced)
    }
}

/// Maps a fetch error to an exit status: unavailable 3, rejected 1, malformed 2, local 3.
pub fn fetch_error(e: FetchError) -> CliError {
    let kind = e.kind();
    let mut message = format!("collateral: {e}");
    // The causes that the messages so far do not already word (the HTTP client's terse
    // errors keep the OS reason further down the chain).
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        src = s.source();
    }
    let err = CliError::with_status(
        match kind {
            ErrorKind::Unavailable | ErrorKind::Local => status::ENVIRONMENT,
            ErrorKind::Rejected => status::REJECTED,
            ErrorKind::Malformed => status::INPUT,
        },
        message,
    );
    match (kind, &e) {
        (_, FetchError::NotCached { .. }) => {
            err.hint("run once without --offline to fill the cache, or give --collateral FILE")
        }
        (ErrorKind::Unavailable, _) => err.hint(
            "check --pccs / KSS_PCCS_URL and the network, or give --collateral FILE \
             (`kss collateral fetch` writes one where the service is reachable)",
        ),
        (ErrorKind::Rejected, _) => {
            err.hint("the service sent collateral that does not verify; nothing was cached")
        }
        _ => err,
    }
}

/// The trust roots from `--trust-root` files, else the Intel SGX Root CA.
pub fn trust_roots(files: &[PathBuf]) -> Result<Vec<P256Key>, CliError> {
    if files.is_empty() {
        return Ok(vec![INTEL_SGX_ROOT_CA_PUBLIC_KEY]);
    }
    files
        .iter()
        .map(|p| {
            let bytes = read_file(p, "trust root", kss_io::limits::COLLATERAL)?;
            trust_root_key(&bytes, &p.display().to_string())
                .map_err(|e| CliError::input(e.to_string()).input_name(p.display().to_string()))
        })
        .collect()
}

/// The verification time from `--at` (default now).
pub fn time_arg(at: Option<&str>) -> Result<u64, CliError> {
    match at {
        Some(text) => parse_at(text),
        None => Ok(now()),
    }
}

/// 9999-12-31T23:59:59Z: the latest time an X.509 certificate or CRL can state.
const LATEST_AT: u64 = 253_402_300_799;

/// Parses `--at` strictly: no surrounding whitespace, and no time after [`LATEST_AT`] (nothing
/// could be verified then, and the time could not be printed).
fn parse_at(text: &str) -> Result<u64, CliError> {
    if text.trim() != text {
        return Err(CliError::input(format!(
            "--at: '{text}' has leading or trailing whitespace; give Unix seconds or an RFC 3339 time exactly"
        )).input_name("--at"));
    }
    let at =
        parse_time(text, "--at").map_err(|e| CliError::input(e.to_string()).input_name("--at"))?;
    if at > LATEST_AT {
        return Err(CliError::input(format!(
            "--at: {text} is after 9999-12-31T23:59:59Z ({LATEST_AT}), the latest time a certificate can state"
        )).input_name("--at"));
    }
    Ok(at)
}

/// `kss collateral` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Fetch the collateral a quote needs and write it as dcap-qvl JSON (what
    /// `kss verify --collateral` reads), for offline verification elsewhere.
    Fetch(FetchArgs),
    /// The collateral cache: list or clear it.
    #[command(subcommand)]
    Cache(CacheCommand),
}

/// Arguments of `kss collateral fetch`.
#[derive(clap::Args)]
pub struct FetchArgs {
    /// The DCAP quote whose collateral to fetch (its PCK certificate names the FMSPC and CA).
    pub quote: PathBuf,

    /// Where to write the collateral (dcap-qvl JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// The time the collateral must be valid at (cached pieces; fetched pieces are the
    /// service's current ones). Unix seconds or RFC 3339. Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// PCK certificate chain (PEM) for quotes that do not carry one.
    #[arg(long, value_name = "PEM")]
    pub pck_chain: Option<PathBuf>,

    /// Check the collateral's chains against this root (PEM or DER) instead of the Intel SGX
    /// Root CA. Repeat for several.
    #[arg(long = "trust-root", value_name = "CERT")]
    pub trust_roots: Vec<PathBuf>,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// `kss collateral cache` subcommands.
#[derive(clap::Subcommand)]
pub enum CacheCommand {
    /// List the cached pieces: piece, FMSPC or CA, issue date, next update.
    List(CacheArgs),
    /// Remove every cached piece.
    Clear(CacheArgs),
}

/// Arguments of `kss collateral cache list|clear`.
#[derive(clap::Args)]
pub struct CacheArgs {
    /// The cache directory. Default: collateral-cache/ in the kss home.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Runs a `kss collateral` command.
pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Fetch(a) => fetch(a),
        Command::Cache(CacheCommand::List(a)) => list(&cache_of(&a)?),
        Command::Cache(CacheCommand::Clear(a)) => {
            let cache = cache_of(&a)?;
            let n = cache.clear().map_err(fetch_error)?;
            println!("removed {n} cached piece(s) from {}", cache.dir().display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn cache_of(a: &CacheArgs) -> Result<DiskCache, CliError> {
    Ok(DiskCache::new(match &a.cache_dir {
        Some(d) => d.clone(),
        None => default_cache_dir()?,
    }))
}

fn fetch(a: FetchArgs) -> CliResult {
    let quote = read_file(&a.quote, "quote", kss_io::limits::QUOTE)?;
    let pck_chain = a
        .pck_chain
        .as_deref()
        .map(|p| read_file(p, "PCK chain", kss_io::limits::COLLATERAL))
        .transpose()?;
    let at = time_arg(a.at.as_deref())?;
    let sourced = a.source.fetch(
        &quote,
        pck_chain.as_deref(),
        trust_roots(&a.trust_roots)?,
        at,
    )?;
    let json = kss_collateral::dcap_qvl::to_json(&sourced.collateral)
        .map_err(|e| CliError::with_status(status::ENVIRONMENT, format!("collateral: {e}")))?;
    write_atomic(&a.out, json.as_bytes())?;
    for (piece, origin) in &sourced.origins {
        eprintln!("{piece}: {}", origin_text(*origin));
    }
    println!("{}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

fn origin_text(o: kss_collateral::Origin) -> &'static str {
    match o {
        kss_collateral::Origin::Memory | kss_collateral::Origin::Disk => "from the cache",
        kss_collateral::Origin::Network => "fetched",
    }
}

fn list(cache: &DiskCache) -> CliResult {
    let entries = cache.list().map_err(fetch_error)?;
    if entries.is_empty() {
        println!("no cached collateral in {}", cache.dir().display());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<12} {:<13} {:<21} {:<21} source",
        "piece", "fmspc/ca", "issued", "next update"
    );
    for (path, entry) in entries {
        match entry {
            Ok(e) => {
                let c = &e.checked;
                println!(
                    "{:<12} {:<13} {:<21} {:<21} {}",
                    c.piece.kind(),
                    c.piece.selector(),
                    format_rfc3339(c.issued),
                    format_rfc3339(c.next_update),
                    e.source
                );
            }
            Err(reason) => println!("{}: unreadable ({reason})", file_name(&path)),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
