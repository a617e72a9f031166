//! Every worker's records merged into one tally, and the percentiles of its latencies.

use std::collections::BTreeMap;

use crate::record::{Outcome, Sample, WorkerOut};

/// Every worker's records, merged.
#[derive(Default)]
pub(crate) struct Merged {
    pub(crate) total: u64,
    /// Latencies of the `ok` answers, sorted.
    pub(crate) lat_ok: Vec<u32>,
    pub(crate) failures: BTreeMap<String, u64>,
    pub(crate) failure_times: Vec<(u64, String)>,
    /// Verdict -> (count, first, last completion time in µs).
    pub(crate) verdicts: BTreeMap<String, (u64, u64, u64)>,
    pub(crate) samples: Vec<Sample>,
    pub(crate) failure_bodies: Vec<String>,
}

pub(crate) fn merge(outs: Vec<WorkerOut>) -> Merged {
    let mut m = Merged::default();
    for mut o in outs {
        for r in &o.records {
            m.total += 1;
            match r.outcome {
                Outcome::Ok(i) => {
                    m.lat_ok.push(r.lat_us);
                    let e =
                        m.verdicts
                            .entry(o.classes[i as usize].clone())
                            .or_insert((0, u64::MAX, 0));
                    e.0 += 1;
                    e.1 = e.1.min(r.t_us);
                    e.2 = e.2.max(r.t_us);
                }
                other => {
                    *m.failures.entry(other.name()).or_default() += 1;
                    m.failure_times.push((r.t_us, other.name()));
                }
            }
        }
        m.samples.append(&mut o.samples);
        for b in o.failure_bodies.drain(..) {
            if m.failure_bodies.len() < 10 && !m.failure_bodies.contains(&b) {
                m.failure_bodies.push(b);
            }
        }
    }
    m.lat_ok.sort_unstable();
    m.failure_times.sort();
    m
}

pub(crate) fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), 500);
        assert_eq!(percentile(&v, 0.99), 990);
        assert_eq!(percentile(&v, 0.999), 999);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[3], 0.999), 3);
    }
}
