//! The command line: every option of `kss-loadtest`, its help text and defaults (clap).

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Closed-loop load driver for kss serve (loopback targets only)"
)]
pub(crate) struct Args {
    /// The verification endpoint, e.g. http://127.0.0.1:8080/v1/attest (loopback only;
    /// https:// needs --ca-cert).
    #[arg(long)]
    pub(crate) url: String,
    /// A JSON request body: `{"quote": "<base64>", "policy_id": ...}`. With --nonce-every a
    /// fresh `nonce` is set in it.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["quote", "get"], conflicts_with_all = ["quote", "get"])]
    pub(crate) body: Option<PathBuf>,
    /// A quote file (binary): the body is `{"quote": "<base64>"}`, plus `policy_id`.
    #[arg(long, value_name = "FILE", conflicts_with = "get")]
    pub(crate) quote: Option<PathBuf>,
    /// The `policy_id` sent with --quote.
    #[arg(long, value_name = "ID", requires = "quote")]
    pub(crate) policy_id: Option<String>,
    /// Send `GET` to --url instead of attesting (e.g. /healthz): a 200 counts as `ok`, the
    /// body is not read as a verdict; no nonces, verdicts or tokens.
    #[arg(long, conflicts_with_all = ["expect", "jwks_url", "nonce_every", "nonce_url", "tokens_out"])]
    pub(crate) get: bool,
    /// The CA certificate (PEM) an https:// target's certificate must chain to.
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, default_value_t = 32)]
    pub(crate) connections: usize,
    /// Worker threads of the driver's runtime.
    #[arg(long, default_value_t = 1)]
    pub(crate) threads: usize,
    /// Seconds of recorded load (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    pub(crate) duration: f64,
    /// Seconds of unrecorded load first (warms connections and the replicas' caches).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) warmup: f64,
    /// Stop after this many requests in all (warm-up included).
    #[arg(long, default_value_t = 2_000_000)]
    pub(crate) max_requests: u64,
    /// Fetch a new nonce every N requests on each connection and send it (0: no nonce).
    #[arg(long, default_value_t = 0)]
    pub(crate) nonce_every: u64,
    /// Where nonces come from (default: /v1/nonce on the --url host).
    #[arg(long)]
    pub(crate) nonce_url: Option<String>,
    /// Fetch this JWKS after the run and check the sampled tokens against it.
    #[arg(long)]
    pub(crate) jwks_url: Option<String>,
    /// Keep every N-th token (per connection) for the check.
    #[arg(long, default_value_t = 5)]
    pub(crate) token_every: u64,
    /// Keep at most this many tokens in all.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) token_cap: usize,
    /// Every verdict must be this (`accepted` or `rejected`); otherwise exit 1.
    #[arg(long)]
    pub(crate) expect: Option<String>,
    /// Exit 1 if more requests than this failed.
    #[arg(long)]
    pub(crate) max_failures: Option<u64>,
    /// With --jwks-url: exit 1 unless at least this many tokens were checked (and all valid).
    #[arg(long, default_value_t = 1)]
    pub(crate) min_tokens: u64,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) timeout: f64,
    /// Write the summary as JSON here.
    #[arg(long, value_name = "FILE")]
    pub(crate) summary: Option<PathBuf>,
    /// Write the sampled tokens here, one per line.
    #[arg(long, value_name = "FILE")]
    pub(crate) tokens_out: Option<PathBuf>,
    /// A name for this run in the output.
    #[arg(long, default_value = "run")]
    pub(crate) label: String,
}

/// Arguments for the tests: a `--quote q.bin` run against `http://127.0.0.1:1/v1/attest`
/// labelled `pin`, plus `extra`.
#[cfg(test)]
pub(crate) fn summary_args(extra: &[&str]) -> Args {
    let mut argv = vec![
        "kss-loadtest",
        "--url",
        "http://127.0.0.1:1/v1/attest",
        "--quote",
        "q.bin",
        "--label",
        "pin",
    ];
    argv.extend_from_slice(extra);
    Args::try_parse_from(argv).expect("arguments")
}
