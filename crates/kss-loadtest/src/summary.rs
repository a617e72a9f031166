//! The result of a run: what fails it, the JSON summary (`--summary`) and the printed report.

use std::collections::BTreeMap;

use crate::args::Args;
use crate::merge::{percentile, Merged};
use crate::tokens::TokenCheck;
use crate::Shared;

/// What fails the run: verdicts other than `--expect`, more failures than `--max-failures`,
/// a token that fails its check (or no token checked at all).
pub(crate) fn problems(
    sh: &Shared,
    m: &Merged,
    tc: &TokenCheck,
    token_error: Option<&str>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(exp) = &sh.args.expect {
        let wrong: u64 = m
            .verdicts
            .iter()
            .filter(|(k, _)| *k != exp)
            .map(|(_, v)| v.0)
            .sum();
        if wrong > 0 {
            reasons.push(format!("{wrong} verdicts were not `{exp}`"));
        }
    }
    let failed: u64 = m.failures.values().sum();
    if let Some(max) = sh.args.max_failures {
        if failed > max {
            reasons.push(format!("{failed} failed requests (allowed {max})"));
        }
    }
    if sh.args.jwks_url.is_some() {
        if let Some(e) = token_error {
            reasons.push(format!("token check impossible: {e}"));
        } else {
            if tc.valid != tc.checked {
                reasons.push(format!(
                    "{} of {} sampled tokens failed the check",
                    tc.checked - tc.valid,
                    tc.checked
                ));
            }
            if tc.checked < sh.args.min_tokens {
                reasons.push(format!(
                    "only {} tokens checked against the JWKS, at least {} required",
                    tc.checked, sh.args.min_tokens
                ));
            }
        }
    }
    reasons
}

/// Facts of the run besides the records.
pub(crate) struct RunFacts {
    pub(crate) connections: usize,
    pub(crate) elapsed: f64,
    pub(crate) started_unix_ms: u64,
    pub(crate) driver_cpu: Option<f64>,
}

/// The JSON summary (`--summary`), its fields in output order.
#[derive(serde::Serialize)]
pub(crate) struct Summary<'a> {
    label: &'a str,
    url: &'a str,
    connections: usize,
    threads: usize,
    duration_s: f64,
    warmup_s: f64,
    started_unix_ms: u64,
    requests: u64,
    ok: u64,
    failed: u64,
    failures: &'a BTreeMap<String, u64>,
    /// The first 200 failures: `[completion time in ms, kind]`.
    failure_times_ms: Vec<(f64, &'a str)>,
    failure_bodies: &'a [String],
    rps: f64,
    driver_cpu_s: Option<f64>,
    latency_us: LatencySummary,
    verdicts: BTreeMap<&'a str, VerdictSummary>,
    tokens: TokenSummary<'a>,
    pass: bool,
    problems: &'a [String],
}

/// Latency percentiles of the `ok` answers, in µs.
#[derive(serde::Serialize)]
struct LatencySummary {
    p50: u32,
    p90: u32,
    p99: u32,
    p999: u32,
    max: u32,
    mean: f64,
}

/// One verdict's count and first and last completion time (ms).
#[derive(serde::Serialize)]
struct VerdictSummary {
    count: u64,
    first_ms: f64,
    last_ms: f64,
}

/// The tokens sampled and, with --jwks-url, how their check went.
#[derive(serde::Serialize)]
struct TokenSummary<'a> {
    sampled: usize,
    check: Option<&'a TokenCheck>,
    error: Option<&'a str>,
}

pub(crate) fn summary_json<'a>(
    args: &'a Args,
    m: &'a Merged,
    tc: &'a TokenCheck,
    token_error: Option<&'a str>,
    reasons: &'a [String],
    run: &RunFacts,
) -> Summary<'a> {
    let lat = &m.lat_ok;
    let ok = lat.len() as u64;
    let mean = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|&v| v as f64).sum::<f64>() / lat.len() as f64
    };
    let ms = |us: u64| us as f64 / 1000.0;
    Summary {
        label: &args.label,
        url: &args.url,
        connections: run.connections,
        threads: args.threads,
        duration_s: run.elapsed,
        warmup_s: args.warmup,
        started_unix_ms: run.started_unix_ms,
        requests: m.total,
        ok,
        failed: m.failures.values().sum::<u64>(),
        failures: &m.failures,
        failure_times_ms: m
            .failure_times
            .iter()
            .take(200)
            .map(|(t, k)| (ms(*t), k.as_str()))
            .collect(),
        failure_bodies: &m.failure_bodies,
        rps: ok as f64 / run.elapsed,
        driver_cpu_s: run.driver_cpu,
        latency_us: LatencySummary {
            p50: percentile(lat, 0.50),
            p90: percentile(lat, 0.90),
            p99: percentile(lat, 0.99),
            p999: percentile(lat, 0.999),
            max: lat.last().copied().unwrap_or(0),
            mean: mean.round(),
        },
        verdicts: m
            .verdicts
            .iter()
            .map(|(k, v)| {
                let times = VerdictSummary {
                    count: v.0,
                    first_ms: ms(v.1),
                    last_ms: ms(v.2),
                };
                (k.as_str(), times)
            })
            .collect(),
        tokens: TokenSummary {
            sampled: m.samples.len(),
            check: args.jwks_url.is_some().then_some(tc),
            error: token_error,
        },
        pass: reasons.is_empty(),
        problems: reasons,
    }
}

pub(crate) fn print_report(
    sh: &Shared,
    m: &Merged,
    tc: &TokenCheck,
    token_error: Option<&str>,
    reasons: &[String],
    run: &RunFacts,
) {
    let lat = &m.lat_ok;
    let ok = lat.len() as u64;
    let ms = |us: u32| us as f64 / 1000.0;
    println!(
        "{}: {} requests in {:.1} s, {} ok ({:.0}/s), {} failed {:?}",
        sh.args.label,
        m.total,
        run.elapsed,
        ok,
        ok as f64 / run.elapsed,
        m.failures.values().sum::<u64>(),
        m.failures
    );
    println!(
        "  latency (ok): p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms",
        ms(percentile(lat, 0.5)),
        ms(percentile(lat, 0.99)),
        ms(percentile(lat, 0.999)),
        ms(lat.last().copied().unwrap_or(0))
    );
    for (k, v) in &m.verdicts {
        println!(
            "  verdict {k}: {} (first at {:.3} s, last at {:.3} s)",
            v.0,
            v.1 as f64 / 1e6,
            v.2 as f64 / 1e6
        );
    }
    if sh.args.jwks_url.is_some() {
        match token_error {
            Some(e) => println!("  tokens: not checked: {e}"),
            None => println!(
                "  tokens: {} of {} sampled valid against the JWKS (kids {:?}){}",
                tc.valid,
                tc.checked,
                tc.distinct_kids,
                tc.first_problem
                    .as_ref()
                    .map(|p| format!("; first problem: {p}"))
                    .unwrap_or_default()
            ),
        }
    }
    for b in &m.failure_bodies {
        println!("  failed answer: {b}");
    }
    for r in reasons {
        println!("  FAIL: {r}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::summary_args;

    /// The exact bytes of the summary: key order, nesting, number forms and `null`s.
    #[test]
    fn the_summary_bytes() {
        let mut m = Merged {
            total: 5,
            lat_ok: vec![1000, 2000, 3000],
            ..Merged::default()
        };
        m.failures.insert("status 500".into(), 2);
        m.failure_times = vec![(1500, "status 500".into()), (2500, "timeout".into())];
        m.failure_bodies = vec!["oops".into()];
        m.verdicts.insert("affirming".into(), (3, 1200, 4700));
        let mut tc = TokenCheck {
            checked: 2,
            valid: 1,
            ..TokenCheck::default()
        };
        tc.distinct_kids.push("k1".into());
        let run = RunFacts {
            connections: 4,
            elapsed: 2.0,
            started_unix_ms: 1_700_000_000_000,
            driver_cpu: None,
        };
        let reasons = vec!["2 failed".to_string()];
        let args = summary_args(&[]);
        let v = summary_json(&args, &m, &tc, Some("bad"), &reasons, &run);
        let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
        assert_eq!(text, SUMMARY_BYTES);
        let args = summary_args(&["--jwks-url", "http://127.0.0.1:1/jwks"]);
        let run = RunFacts {
            driver_cpu: Some(0.25),
            ..run
        };
        let empty = Merged::default();
        let v = summary_json(&args, &empty, &tc, None, &[], &run);
        let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
        assert_eq!(text, SUMMARY_WITH_JWKS_BYTES);
    }

    const SUMMARY_BYTES: &str = r#"{
  "label": "pin",
  "url": "http://127.0.0.1:1/v1/attest",
  "connections": 4,
  "threads": 1,
  "duration_s": 2.0,
  "warmup_s": 0.0,
  "started_unix_ms": 1700000000000,
  "requests": 5,
  "ok": 3,
  "failed": 2,
  "failures": {
    "status 500": 2
  },
  "failure_times_ms": [
    [
      1.5,
      "status 500"
    ],
    [
      2.5,
      "timeout"
    ]
  ],
  "failure_bodies": [
    "oops"
  ],
  "rps": 1.5,
  "driver_cpu_s": null,
  "latency_us": {
    "p50": 2000,
    "p90": 3000,
    "p99": 3000,
    "p999": 3000,
    "max": 3000,
    "mean": 2000.0
  },
  "verdicts": {
    "affirming": {
      "count": 3,
      "first_ms": 1.2,
      "last_ms": 4.7
    }
  },
  "tokens": {
    "sampled": 0,
    "check": null,
    "error": "bad"
  },
  "pass": false,
  "problems": [
    "2 failed"
  ]
}
"#;
    const SUMMARY_WITH_JWKS_BYTES: &str = r#"{
  "label": "pin",
  "url": "http://127.0.0.1:1/v1/attest",
  "connections": 4,
  "threads": 1,
  "duration_s": 2.0,
  "warmup_s": 0.0,
  "started_unix_ms": 1700000000000,
  "requests": 0,
  "ok": 0,
  "failed": 0,
  "failures": {},
  "failure_times_ms": [],
  "failure_bodies": [],
  "rps": 0.0,
  "driver_cpu_s": 0.25,
  "latency_us": {
    "p50": 0,
    "p90": 0,
    "p99": 0,
    "p999": 0,
    "max": 0,
    "mean": 0.0
  },
  "verdicts": {},
  "tokens": {
    "sampled": 0,
    "check": {
      "checked": 2,
      "valid": 1,
      "bad_format": 0,
      "wrong_alg": 0,
      "unknown_kid": 0,
      "bad_signature": 0,
      "verdict_mismatch": 0,
      "nonce_mismatch": 0,
      "distinct_kids": [
        "k1"
      ],
      "first_problem": null
    },
    "error": null
  },
  "pass": true,
  "problems": []
}
"#;
}
