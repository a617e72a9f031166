//! Load generator for `kss serve` (and, later, several replicas behind a load balancer).
//!
//! ```text
//! cargo run --release -p kss-serve --example loadgen -- \
//!     --url http://127.0.0.1:8443 --quote testdata/phala-dcap-qvl/sgx_quote --policy lenient \
//!     --concurrency 8 --duration 10 [--warmup 1] [--save-tokens tokens.txt --sample 20]
//! cargo run --release -p kss-serve --example loadgen -- --url URL --get /healthz --requests 10000
//! ```
//!
//! Closed loop: `--concurrency` keep-alive connections, each sends a request as soon as the
//! previous one is answered. Prints requests/s and p50/p99/p99.9 latency, and the count of each
//! status (503 = shed under saturation). Only loopback or your own test hosts are targets.

use clap::Parser;
use kss_serve::client::{Client, Target};
use kss_serve::loadgen::{run, LoadConfig};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Closed-loop HTTP load generator for kss serve")]
struct Args {
    /// Base URL of the service.
    #[arg(long)]
    url: String,
    /// Quote to POST to /v1/attest.
    #[arg(long, conflicts_with = "get")]
    quote: Option<PathBuf>,
    /// Policy id sent with the quote.
    #[arg(long)]
    policy: Option<String>,
    /// GET this path instead of attesting.
    #[arg(long)]
    get: Option<String>,
    /// Connections sending at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds to run.
    #[arg(long)]
    duration: Option<f64>,
    /// Requests to send in all.
    #[arg(long)]
    requests: Option<u64>,
    /// Seconds of unmeasured warm-up first.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Write the tokens of a sample of answers here, one per line.
    #[arg(long)]
    save_tokens: Option<PathBuf>,
    /// How many answers to keep for --save-tokens.
    #[arg(long, default_value_t = 20)]
    sample: usize,
    /// CA certificate (PEM) for an https:// URL.
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let target = Target::parse(&args.url)?;
    let client = Client::new(args.ca_cert.as_deref(), Duration::from_secs(30))?;
    let (method, endpoint, body) = match (&args.quote, &args.get) {
        (Some(q), _) => {
            use base64::Engine as _;
            let quote = std::fs::read(q)?;
            let mut req = serde_json::json!({
                "quote": base64::engine::general_purpose::STANDARD.encode(quote)
            });
            if let Some(p) = &args.policy {
                req["policy_id"] = p.clone().into();
            }
            (
                "POST",
                "/v1/attest".to_string(),
                Some(serde_json::to_vec(&req)?.into()),
            )
        }
        (None, Some(path)) => ("GET", path.clone(), None),
        (None, None) => return Err("give --quote FILE or --get PATH".into()),
    };
    let mut cfg = LoadConfig {
        target,
        method: method.into(),
        endpoint,
        body,
        concurrency: args.concurrency,
        duration: args.duration.map(Duration::from_secs_f64),
        requests: args.requests,
        sample: args.sample,
    };
    if cfg.duration.is_none() && cfg.requests.is_none() {
        cfg.duration = Some(Duration::from_secs(10));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        if args.warmup > 0.0 {
            let mut w = cfg.clone();
            w.duration = Some(Duration::from_secs_f64(args.warmup));
            w.requests = None;
            w.sample = 0;
            run(&client, &w).await?;
        }
        run(&client, &cfg).await
    })?;
    if let Some(p) = &args.save_tokens {
        let mut out = String::new();
        for b in &report.sample {
            let v: serde_json::Value = serde_json::from_slice(b)?;
            if let Some(t) = v["token"].as_str() {
                out.push_str(t);
                out.push('\n');
            }
        }
        std::fs::write(p, out)?;
    }
    if args.json {
        let v = serde_json::json!({
            "url": args.url,
            "concurrency": args.concurrency,
            "answered": report.answered,
            "seconds": report.elapsed.as_secs_f64(),
            "per_second": report.throughput(),
            "p50_ms": report.percentile(0.5) as f64 / 1e3,
            "p99_ms": report.percentile(0.99) as f64 / 1e3,
            "p999_ms": report.percentile(0.999) as f64 / 1e3,
            "by_status": report.by_status.iter().map(|(s, n)| (s.to_string(), serde_json::Value::from(*n))).collect::<serde_json::Map<_, _>>(),
            "client_failures": report.failures,
        });
        println!("{v}");
    } else {
        println!(
            "{} {} x{}:\n{}",
            method,
            args.url,
            args.concurrency,
            report.summary()
        );
    }
    Ok(())
}
