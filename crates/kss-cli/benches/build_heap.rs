//! `kss build` of an instance with a 4 GiB user space ("user_space_size": "4GB"): first build and
//! rebuild of the unchanged instance, with the SGXS size, against the work that bounds it,
//! measured in the same run: `kss measure` of the same SGXS (read + validate + SHA-256) and
//! SHA-256 of the same bytes in memory (the single-core limit). The default-limits instance from
//! `kss new` is built alongside for scale.
//!
//! `cargo bench -p kss --bench build_heap` (KSS_BENCH_RUNS sets the repetitions, default 3).

mod common;

use common::{machine, mib, secs, time, time_status, Stats, Workspace};
use sha2::Digest;
use std::time::Duration;

fn build_json(ws: &Workspace, name: &str) -> serde_json::Value {
    serde_json::from_str(&ws.ok(&["build", name, "--json"])).expect("kss build --json prints JSON")
}

fn main() {
    let n = common::runs(3);
    if !common::full_run() {
        println!(
            "smoke run (no --bench argument): small sizes and few runs; the numbers mean nothing"
        );
    }
    let ws = Workspace::new("kss-bench-build-");
    ws.instance(
        "heap4g",
        serde_json::json!({}),
        serde_json::json!({"user_space_size": if common::full_run() { "4GB" } else { "64MB" }}),
    );
    ws.instance("default", serde_json::json!({}), serde_json::json!({}));

    let mut rows: Vec<(String, Vec<Duration>, String)> = Vec::new();
    for name in ["default", "heap4g"] {
        let build_dir = ws.path(name).join("build");
        let mut first = Vec::new();
        let mut again = Vec::new();
        let mut facts = String::new();
        for _ in 0..n {
            let _ = std::fs::remove_dir_all(&build_dir);
            let (d, j) = time(|| build_json(&ws, name));
            assert_eq!(j["resigned"], true);
            first.push(d);
            let (d, j) = time(|| build_json(&ws, name));
            assert_eq!(
                j["resigned"], false,
                "an unchanged rebuild keeps the SIGSTRUCT"
            );
            again.push(d);
            facts = format!(
                "{} pages, {} measured, SGXS {:.1} MiB",
                j["pages"],
                j["measured_pages"],
                j["sgxs_bytes"].as_u64().unwrap_or(0) as f64 / (1u64 << 20) as f64
            );
        }
        rows.push((
            format!("`kss build {name}` (first build)"),
            first,
            facts.clone(),
        ));
        rows.push((
            format!("`kss build {name}` (rebuild, unchanged)"),
            again,
            facts,
        ));
    }

    let sgxs = ws.path("heap4g/build/enclave.sgxs");
    let sgxs_arg = sgxs.to_string_lossy().into_owned();
    let measure: Vec<Duration> = (0..n)
        .map(|_| time_status(ws.command(&["measure", &sgxs_arg])))
        .collect();
    rows.push((
        "`kss measure heap4g/build/enclave.sgxs` (baseline)".into(),
        measure,
        String::new(),
    ));
    // What the build's size means at launch: `kss run` re-measures every page in the simulator.
    let run: Vec<Duration> = (0..n)
        .map(|_| time_status(ws.command(&["run", "-q", "heap4g", "--", "/bin/true"])))
        .collect();
    rows.push((
        "`kss run -q heap4g -- /bin/true` (for scale: the launch loads every page)".into(),
        run,
        String::new(),
    ));
    let bytes = std::fs::read(&sgxs).expect("read sgxs");
    let sha: Vec<Duration> = (0..n)
        .map(|_| time(|| std::hint::black_box(sha2::Sha256::digest(&bytes))).0)
        .collect();
    rows.push((
        "SHA-256 of the same SGXS in memory (single-core limit)".into(),
        sha,
        String::new(),
    ));

    println!("`kss build` with a 4 GiB user space ({n} runs each)");
    println!("machine: {}", machine());
    println!("heap4g SGXS: {:.1} MiB", mib(&sgxs));
    println!();
    println!("| what | median s | min s | max s | instance |");
    println!("|---|---|---|---|---|");
    for (name, s, facts) in &rows {
        let st = Stats::of(s);
        println!(
            "| {name} | {} | {} | {} | {facts} |",
            secs(st.median),
            secs(st.min),
            secs(st.max)
        );
    }
    println!();
    println!("command: cargo bench -p kss --bench build_heap");
}
