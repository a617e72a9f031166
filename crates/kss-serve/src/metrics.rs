//! Prometheus text exposition (format 0.0.4), hand-written over atomics: requests by endpoint
//! and result, a verification latency histogram, collateral cache hits and misses, collateral
//! fetch errors, policy reloads.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Upper bounds (seconds) of the verification latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_2, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0,
];

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<Vec<((&'static str, &'static str), u64)>>,
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
    /// Collateral served from the cache.
    pub cache_hits: AtomicU64,
    /// Collateral that had to be fetched or loaded.
    pub cache_misses: AtomicU64,
    /// Failed collateral fetches.
    pub fetch_errors: AtomicU64,
    /// Successful policy reloads.
    pub reloads: AtomicU64,
    /// Refused policy reloads.
    pub reload_errors: AtomicU64,
}

impl Metrics {
    /// Counts one request to `endpoint` that ended with `result` (e.g. `affirming`,
    /// `bad_request`, `overloaded`).
    pub fn request(&self, endpoint: &'static str, result: &'static str) {
        let mut m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        match m.iter_mut().find(|(k, _)| *k == (endpoint, result)) {
            Some((_, n)) => *n += 1,
            None => m.push(((endpoint, result), 1)),
        }
    }

    /// Records one verification that took `seconds`.
    pub fn verification(&self, seconds: f64) {
        for (b, le) in self.buckets.iter().zip(LATENCY_BUCKETS) {
            if seconds <= le {
                b.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_ns
            .fetch_add((seconds * 1e9) as u64, Relaxed);
    }

    /// The count of requests to `endpoint` with `result`.
    pub fn requests_of(&self, endpoint: &str, result: &str) -> u64 {
        let m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        m.iter()
            .find(|((e, r), _)| *e == endpoint && *r == result)
            .map_or(0, |(_, n)| *n)
    }

    /// The text exposition. `extra` gauges (name, help, value) are appended.
    pub fn render(&self, extra: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP kss_requests_total Requests by endpoint and result.\n# TYPE kss_requests_total counter"
        );
        let mut reqs = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        reqs.sort();
        for ((e, r), n) in reqs {
            let _ = writeln!(
                out,
                "kss_requests_total{{endpoint=\"{e}\",result=\"{r}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP kss_verification_seconds Time to verify a quote and sign its token.\n# TYPE kss_verification_seconds histogram"
        );
        for (b, le) in self.buckets.iter().zip(LATENCY_BUCKETS) {
            let _ = writeln!(
                out,
                "kss_verification_seconds_bucket{{le=\"{le}\"}} {}",
                b.load(Relaxed)
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            out,
            "kss_verification_seconds_bucket{{le=\"+Inf\"}} {count}\nkss_verification_seconds_sum {}\nkss_verification_seconds_count {count}",
            self.latency_sum_ns.load(Relaxed) as f64 / 1e9
        );
        let counters = [
            (
                "kss_collateral_cache_hits_total",
                "Verifications whose collateral came from the cache.",
                &self.cache_hits,
            ),
            (
                "kss_collateral_cache_misses_total",
                "Verifications whose collateral had to be fetched or loaded.",
                &self.cache_misses,
            ),
            (
                "kss_collateral_fetch_errors_total",
                "Collateral fetches that failed.",
                &self.fetch_errors,
            ),
            (
                "kss_policy_reloads_total",
                "Policy directory reloads that took effect.",
                &self.reloads,
            ),
            (
                "kss_policy_reload_errors_total",
                "Policy directory reloads refused (the old set stayed in force).",
                &self.reload_errors,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Relaxed)
            );
        }
        for (name, help, v) in extra {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.request("attest", "affirming");
        m.request("attest", "affirming");
        m.request("attest", "bad_request");
        m.verification(0.0003);
        m.verification(2.0);
        let t = m.render(&[("kss_up", "Up.", 1.0)]);
        assert!(t.contains("kss_requests_total{endpoint=\"attest\",result=\"affirming\"} 2"));
        assert!(t.contains("kss_verification_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(t.contains("kss_verification_seconds_bucket{le=\"5\"} 2"));
        assert!(t.contains("kss_verification_seconds_count 2"));
        assert!(t.contains("kss_up 1"));
        assert_eq!(m.requests_of("attest", "affirming"), 2);
    }
}
