//! A closed-loop load generator: `concurrency` keep-alive connections each send one request,
//! wait for its answer, and send the next, until a duration or a request count is reached.
//! Reports throughput and latency percentiles; optionally keeps a sample of response bodies
//! (tokens). Used by the `loadgen` example and reused for scale-out measurements.

use crate::client::{Client, ClientError, Target};
use axum::body::Bytes;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to send, how much and how hard.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Base URL of the service.
    pub target: Target,
    /// Method (`POST` or `GET`).
    pub method: String,
    /// Endpoint path, e.g. `/v1/attest`.
    pub endpoint: String,
    /// JSON body sent with every request (`None`: no body).
    pub body: Option<Bytes>,
    /// Connections sending at once.
    pub concurrency: usize,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many requests in all.
    pub requests: Option<u64>,
    /// Keep up to this many `200` response bodies.
    pub sample: usize,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Requests answered (any status).
    pub answered: u64,
    /// Answers by status.
    pub by_status: BTreeMap<u16, u64>,
    /// Client-side failures (connect, protocol, timeout).
    pub failures: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Sorted latencies of answered requests, in microseconds.
    pub latencies_us: Vec<u64>,
    /// A sample of `200` bodies.
    pub sample: Vec<Bytes>,
    /// The first client-side failure, if any.
    pub first_failure: Option<String>,
}

impl LoadReport {
    /// Answers per second.
    pub fn throughput(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile latency (0 ≤ q ≤ 1), in microseconds.
    pub fn percentile(&self, q: f64) -> u64 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let i = ((self.latencies_us.len() as f64 * q).ceil() as usize)
            .clamp(1, self.latencies_us.len());
        self.latencies_us[i - 1]
    }

    /// A one-paragraph summary.
    pub fn summary(&self) -> String {
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        format!(
            "requests: {} in {:.2} s = {:.0} req/s\nlatency: p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms\nstatus: {}\nclient failures: {}{}",
            self.answered,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.percentile(0.50) as f64 / 1e3,
            self.percentile(0.99) as f64 / 1e3,
            self.percentile(0.999) as f64 / 1e3,
            self.latencies_us.last().copied().unwrap_or(0) as f64 / 1e3,
            statuses.join(", "),
            self.failures,
            self.first_failure
                .as_ref()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default()
        )
    }
}

struct WorkerResult {
    latencies: Vec<u64>,
    by_status: BTreeMap<u16, u64>,
    failures: u64,
    sample: Vec<Bytes>,
    first_failure: Option<String>,
}

/// Runs the load. Needs at least one of `duration` and `requests`; stops by itself.
pub async fn run(client: &Client, cfg: &LoadConfig) -> Result<LoadReport, ClientError> {
    if cfg.duration.is_none() && cfg.requests.is_none() {
        return Err(ClientError("give a duration or a request count".into()));
    }
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = cfg.duration.map(|d| start + d);
    let mut tasks = Vec::new();
    for w in 0..cfg.concurrency.max(1) {
        let client = client.clone();
        let cfg = cfg.clone();
        let issued = issued.clone();
        let sample_quota = if w == 0 { cfg.sample } else { 0 };
        tasks.push(tokio::spawn(async move {
            let mut r = WorkerResult {
                latencies: Vec::new(),
                by_status: BTreeMap::new(),
                failures: 0,
                sample: Vec::new(),
                first_failure: None,
            };
            let mut conn = None;
            let path = cfg.target.path(&cfg.endpoint);
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                if let Some(max) = cfg.requests {
                    if issued.fetch_add(1, Ordering::Relaxed) >= max {
                        break;
                    }
                }
                if conn.is_none() {
                    match client.connect(&cfg.target).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            r.failures += 1;
                            r.first_failure.get_or_insert(e.0);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                let t = Instant::now();
                match c.request(&cfg.method, &path, cfg.body.clone()).await {
                    Ok((status, body)) => {
                        r.latencies.push(t.elapsed().as_micros() as u64);
                        *r.by_status.entry(status).or_default() += 1;
                        if status == 200 && r.sample.len() < sample_quota {
                            r.sample.push(body);
                        }
                    }
                    Err(e) => {
                        r.failures += 1;
                        r.first_failure.get_or_insert(e.0);
                        conn = None;
                    }
                }
            }
            r
        }));
    }
    let mut report = LoadReport {
        answered: 0,
        by_status: BTreeMap::new(),
        failures: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        sample: Vec::new(),
        first_failure: None,
    };
    for t in tasks {
        let r = t
            .await
            .map_err(|e| ClientError(format!("load worker: {e}")))?;
        report.latencies_us.extend(r.latencies);
        for (s, n) in r.by_status {
            *report.by_status.entry(s).or_default() += n;
        }
        report.failures += r.failures;
        report.sample.extend(r.sample);
        if report.first_failure.is_none() {
            report.first_failure = r.first_failure;
        }
    }
    report.elapsed = start.elapsed();
    report.answered = report.latencies_us.len() as u64;
    report.latencies_us.sort_unstable();
    Ok(report)
}
