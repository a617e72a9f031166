//! Helpers shared by the kss-cli benchmarks: a scratch workspace with its own `KSS_HOME`,
//! instance set-up through the real `kss` binary, and order statistics.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `kss` binary built with the bench profile.
pub const KSS: &str = env!("CARGO_BIN_EXE_kss");
/// The SDK sample key (RSA-3072, e=3), used as the development key so that no bench waits for
/// RSA key generation.
pub const SIGN_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/fortanix-rust-sgx/sgxs-sign/sig1.key.pem"
);

/// A scratch directory (removed on drop) with `home/` as `KSS_HOME`.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// A fresh workspace under `$TMPDIR` (default /tmp).
    pub fn new(prefix: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("create a temp dir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("create KSS_HOME");
        std::fs::copy(SIGN_KEY, home.join("dev-signing-key.pem"))
            .expect("copy the test signing key");
        Self { dir }
    }

    /// A path inside the workspace.
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `kss ARGS` with this workspace's `KSS_HOME`, output discarded.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(KSS);
        c.args(args)
            .current_dir(self.dir.path())
            .env("KSS_HOME", self.path("home"))
            .env_remove("KSS_ENCLAVE_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// Runs `kss ARGS` and panics with its stderr if it fails; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run kss");
        assert!(
            out.status.success(),
            "kss {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates instance `name` with `kss new`, applies `metadata` and `limits` edits to its
    /// Occlum.json and copies /bin/true to image/bin/true.
    pub fn instance(
        &self,
        name: &str,
        metadata: serde_json::Value,
        limits: serde_json::Value,
    ) -> PathBuf {
        self.ok(&["new", name]);
        let dir = self.path(name);
        let p = dir.join("Occlum.json");
        let mut c: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&p).expect("read Occlum.json"))
                .expect("Occlum.json is JSON");
        for (section, edits) in [("metadata", &metadata), ("resource_limits", &limits)] {
            if let Some(m) = edits.as_object() {
                for (k, v) in m {
                    c[section][k] = v.clone();
                }
            }
        }
        std::fs::write(&p, serde_json::to_vec_pretty(&c).expect("serialize"))
            .expect("write Occlum.json");
        std::fs::copy("/bin/true", dir.join("image/bin/true")).expect("copy /bin/true");
        dir
    }
}

/// Wall time of one whole-process run; panics if the process fails.
pub fn time_status(mut c: Command) -> Duration {
    let t = Instant::now();
    let st = c.status().expect("spawn");
    let d = t.elapsed();
    assert!(st.success(), "{c:?} exited with {st}");
    d
}

/// Wall time of `f`.
pub fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let v = f();
    (t.elapsed(), v)
}

/// Order statistics of a sample of durations.
pub struct Stats {
    pub min: Duration,
    pub median: Duration,
    pub p90: Duration,
    pub max: Duration,
    pub n: usize,
}

impl Stats {
    /// Median (upper median for even n), nearest-rank p90, min and max.
    pub fn of(samples: &[Duration]) -> Self {
        let mut s = samples.to_vec();
        s.sort();
        let n = s.len();
        assert!(n > 0, "no samples");
        let rank = |q: f64| s[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        Self {
            min: s[0],
            median: s[n / 2],
            p90: rank(0.9),
            max: s[n - 1],
            n,
        }
    }
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// Seconds with three decimals.
pub fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// The machine facts every benchmark prints: cores, CPU model, load average.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {model}, load average {}", load())
}

/// The 1/5/15-minute load averages from /proc/loadavg.
pub fn load() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Size of a file in MiB.
pub fn mib(p: &Path) -> f64 {
    std::fs::metadata(p)
        .map(|m| m.len() as f64 / (1u64 << 20) as f64)
        .unwrap_or(0.0)
}

/// Whether this is a measuring run: `cargo bench` passes `--bench`; `cargo test --all-targets`
/// passes nothing and only wants a quick smoke run (small sizes, one or two repetitions).
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Number of runs from `KSS_BENCH_RUNS`, else `default` (at most 2 in a smoke run).
pub fn runs(default: usize) -> usize {
    let default = if full_run() { default } else { default.min(2) };
    std::env::var("KSS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// CPU time the calling thread has run, from /proc/thread-self/schedstat (nanoseconds).
pub fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

/// User + system CPU time of all waited-for children, from /proc/self/stat (cutime + cstime,
/// clock ticks of 10 ms; sums over many runs are accurate to a few tenths of a ms per run).
pub fn children_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesized command name; cutime and cstime are fields 16 and 17.
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
