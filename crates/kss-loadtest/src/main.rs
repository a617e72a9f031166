//! `kss-loadtest`: the project's one load driver: a closed-loop HTTP/1.1 load generator (hyper)
//! for `kss serve` and for a cluster of replicas behind a load balancer.
//!
//! Each of `--connections` tasks keeps one keep-alive connection and sends `POST /v1/attest`
//! (the body from `--body`, or built from `--quote` and `--policy-id`) back to back, like
//! `wrk`; with `--get` it sends `GET` to the URL instead (e.g. `/healthz`). `https://` targets
//! are loaded through TLS with `--ca-cert`. Unlike a plain throughput tool it keeps what a
//! fault run needs:
//!
//! * every response's completion time, latency, HTTP status (a `503` from a saturated service
//!   is counted as `http_503`) or transport error (the driver never retries: a failure
//!   counted here is one a client saw);
//! * every verdict (`verdict.accepted` of the JSON answer), with the first and last time each
//!   kind was seen, so a policy reload shows how long old and new verdicts overlapped;
//! * a sample of the tokens (every `--token-every`-th answer), checked after the run against
//!   the JWKS fetched from `--jwks-url`: ES256 signature, a known `kid`, the token's verdict
//!   equal to the answer's, and the nonce that was sent.
//!
//! Targets are restricted to loopback addresses: this is a benchmark for one machine.

mod args;
mod body;
mod clock;
mod conn;
mod merge;
mod record;
mod summary;
mod tokens;
mod worker;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use hyper::Uri;
use serde_json::Value;

use crate::args::Args;
use crate::body::base_body;
use crate::clock::{own_cpu_seconds, unix_ms};
use crate::conn::{loopback_addr, tls_for, Tls};
use crate::merge::merge;
use crate::summary::{print_report, problems, summary_json, RunFacts};
use crate::tokens::check_tokens;
use crate::worker::worker;

/// The state every worker shares: the target, the request parts, the clock of the run and the
/// arguments.
struct Shared {
    addr: SocketAddr,
    tls: Option<Tls>,
    authority: String,
    path: String,
    nonce_path: String,
    base_body: Value,
    record_from: Instant,
    deadline: Instant,
    issued: AtomicU64,
    args: Args,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("kss-loadtest: {e}");
            ExitCode::from(2)
        }
    }
}

/// Reads and checks the arguments into the state every worker shares.
fn setup(args: Args) -> Result<Shared, String> {
    let uri: Uri = args.url.parse().map_err(|e| format!("{}: {e}", args.url))?;
    let addr = loopback_addr(&uri)?;
    let tls = tls_for(&uri, args.ca_cert.as_deref())?;
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or("/".into());
    let nonce_path = match &args.nonce_url {
        Some(u) => {
            let nu: Uri = u.parse().map_err(|e| format!("{u}: {e}"))?;
            if loopback_addr(&nu)? != addr || nu.scheme() != uri.scheme() {
                return Err(
                    "--nonce-url must be on the same scheme, host and port as --url".into(),
                );
            }
            nu.path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or("/".into())
        }
        None => "/v1/nonce".into(),
    };
    let base_body = base_body(&args)?;
    if let Some(e) = &args.expect {
        if e != "accepted" && e != "rejected" {
            return Err("--expect is `accepted` or `rejected`".into());
        }
    }
    let start = Instant::now();
    let record_from = start + Duration::from_secs_f64(args.warmup);
    let deadline = record_from + Duration::from_secs_f64(args.duration);
    Ok(Shared {
        addr,
        tls,
        authority,
        path,
        nonce_path,
        base_body,
        record_from,
        deadline,
        issued: AtomicU64::new(0),
        args,
    })
}

async fn run(args: Args) -> Result<bool, String> {
    let started_unix_ms = unix_ms(SystemTime::now()) + (args.warmup * 1000.0) as u64;
    let connections = args.connections.max(1);
    let sh = Arc::new(setup(args)?);
    let handles: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(worker(sh.clone())))
        .collect();
    // CPU used by the driver itself over the recorded part of the run.
    tokio::time::sleep_until(sh.record_from.into()).await;
    let cpu_at_start = own_cpu_seconds();
    let mut outs = Vec::with_capacity(connections);
    for h in handles {
        outs.push(h.await.map_err(|e| format!("worker: {e}"))?);
    }
    let end = Instant::now();
    let driver_cpu = own_cpu_seconds()
        .zip(cpu_at_start)
        .map(|(b, a)| ((b - a) * 100.0).round() / 100.0);
    let elapsed = end
        .duration_since(sh.record_from)
        .as_secs_f64()
        .max(1e-9)
        .min(sh.args.duration.max(1e-9) + sh.args.timeout);
    let m = merge(outs);
    let (tc, token_error) = check_tokens(&sh, &m.samples).await;
    if let Some(p) = &sh.args.tokens_out {
        let text: String = m.samples.iter().map(|s| format!("{}\n", s.token)).collect();
        std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let reasons = problems(&sh, &m, &tc, token_error.as_deref());
    let run = RunFacts {
        connections,
        elapsed,
        started_unix_ms,
        driver_cpu,
    };
    print_report(&sh, &m, &tc, token_error.as_deref(), &reasons, &run);
    if let Some(p) = &sh.args.summary {
        let summary = summary_json(&sh.args, &m, &tc, token_error.as_deref(), &reasons, &run);
        std::fs::write(
            p,
            serde_json::to_string_pretty(&summary).expect("json") + "\n",
        )
        .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(reasons.is_empty())
}
