//! Launch overhead of `kss run`: whole-process wall time of `kss run -q DIR -- /bin/true` against
//! running `/bin/true` directly, in the same run, interleaved. Target: overhead (difference of the
//! medians) under 20 ms for an instance with the default limits.
//!
//! `cargo bench -p kss --bench launch` (KSS_BENCH_RUNS sets the number of runs, default 40).
//!
//! Cases, all measured round-robin so that load changes hit every case alike:
//! - `/bin/true` directly (the baseline);
//! - `kss --version` (starting the kss binary itself: exec, dynamic linking, argument parsing);
//! - `kss run -q plain -- /bin/true` (default Occlum.json from `kss new`, MRENCLAVE binding);
//! - `kss run -q kss --config-id-hex .. --config-svn 7 -- /bin/true` (the same with
//!   `"enable_kss": true` and a full 64-byte CONFIGID);
//! - `kss run -q nouser -- /bin/true` (default limits except `"user_space_size": "0"`: 8 730
//!   pages instead of 74 266, to show how the launch scales with the number of pages).
//!
//! Then an in-process breakdown of the launch phases of the plain instance, calling the same
//! library functions `kss run` calls, in its order, so that the whole-process number can be
//! attributed to phases.

mod common;

use common::{children_cpu, machine, ms, thread_cpu, time, time_status, Stats, Workspace, KSS};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const TARGET_MS: f64 = 20.0;

fn direct() -> Command {
    let mut c = Command::new("/bin/true");
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn main() {
    let n = common::runs(40);
    if !common::full_run() {
        println!(
            "smoke run (no --bench argument): small sizes and few runs; the numbers mean nothing"
        );
    }
    let ws = Workspace::new("kss-bench-launch-");
    ws.instance("plain", serde_json::json!({}), serde_json::json!({}));
    ws.instance(
        "kss",
        serde_json::json!({"enable_kss": true}),
        serde_json::json!({}),
    );
    ws.instance(
        "nouser",
        serde_json::json!({}),
        serde_json::json!({"user_space_size": "0"}),
    );
    ws.ok(&["build", "plain"]);
    ws.ok(&["build", "kss"]);
    ws.ok(&["build", "nouser"]);
    let config_id_hex: String = (0u8..64)
        .map(|b| format!("{:02x}", b.wrapping_mul(37)))
        .collect();

    let plain_args = ["run", "-q", "plain", "--", "/bin/true"];
    let nouser_args = ["run", "-q", "nouser", "--", "/bin/true"];
    let kss_args = [
        "run",
        "-q",
        "kss",
        "--config-id-hex",
        &config_id_hex,
        "--config-svn",
        "7",
        "--",
        "/bin/true",
    ];
    // Warm-up: page cache, and the simulated CA that the first `kss run` creates in KSS_HOME.
    for _ in 0..3 {
        time_status(direct());
        time_status(ws.command(&["--version"]));
        time_status(ws.command(&plain_args));
        time_status(ws.command(&kss_args));
        time_status(ws.command(&nouser_args));
    }

    let mut samples: [Vec<Duration>; 5] = Default::default();
    let mut child_cpu = [Duration::ZERO; 5];
    for _ in 0..n {
        let cases = [
            direct(),
            ws.command(&["--version"]),
            ws.command(&plain_args),
            ws.command(&kss_args),
            ws.command(&nouser_args),
        ];
        for (i, c) in cases.into_iter().enumerate() {
            let before = children_cpu();
            samples[i].push(time_status(c));
            child_cpu[i] += children_cpu().saturating_sub(before);
        }
    }
    let stats: Vec<Stats> = samples.iter().map(|s| Stats::of(s)).collect();
    let base = stats[0].median;
    let sgxs = ws.path("plain/build/enclave.sgxs");

    println!("launch overhead of `kss run` ({n} whole-process runs each, interleaved)");
    println!("machine: {}", machine());
    println!("instance: default limits from `kss new` (8 threads, 32 MiB kernel heap, 256 MiB user space); SGXS {:.1} MiB", common::mib(&sgxs));
    println!();
    println!("| command | median ms | p90 ms | min ms | median − /bin/true ms | mean CPU ms/run | target |");
    println!("|---|---|---|---|---|---|---|");
    let names = [
        "`/bin/true` (baseline)".to_string(),
        "`kss --version`".to_string(),
        "`kss run -q plain -- /bin/true`".to_string(),
        "`kss run -q kss --config-id-hex <64 B> --config-svn 7 -- /bin/true`".to_string(),
        format!(
            "`kss run -q nouser -- /bin/true` (user_space_size 0, SGXS {:.1} MiB)",
            common::mib(&ws.path("nouser/build/enclave.sgxs"))
        ),
    ];
    for (i, (name, s)) in names.iter().zip(&stats).enumerate() {
        let over = s.median.saturating_sub(base);
        let verdict = match i {
            2 | 3 if over.as_secs_f64() * 1e3 < TARGET_MS => "< 20 ms: met",
            2 | 3 => "< 20 ms: NOT met",
            _ => "",
        };
        println!(
            "| {name} | {} | {} | {} | {} | {} | {verdict} |",
            ms(s.median),
            ms(s.p90),
            ms(s.min),
            if i == 0 { "—".into() } else { ms(over) },
            ms(child_cpu[i] / n as u32)
        );
    }

    println!();
    phases(&ws, n);
}

/// The phases of `kss run -q plain -- /bin/true`, in process, medians over `n` runs: wall time
/// and CPU time of this thread (the spawn row: wall only, the work is in the child).
fn phases(ws: &Workspace, n: usize) {
    use kss_instance::Instance;
    use sha2::Digest;
    // The simulated quoting enclave reads its CA from KSS_HOME, as in `kss run`.
    std::env::set_var("KSS_HOME", ws.path("home"));
    let dir = ws.path("plain");
    let names = [
        "open instance, parse Occlum.json",
        "staleness check: kss-build.json, SHA-256(Occlum.json), image digest",
        "read + parse SIGSTRUCT",
        "RSA-3072 verify of the SIGSTRUCT alone (part of the load below)",
        "SHA-256 of the SGXS bytes alone (≈ the MRENCLAVE work, part of the load below)",
        "load SGXS into the simulator (ECREATE/EADD/EEXTEND/EINIT)",
        "load simulated quoting enclave (CA from KSS_HOME)",
        "start the enclave service (private dir, Unix socket, accept thread)",
        "spawn + wait /bin/true with the workload environment",
        "stop the enclave service (wake and join the accept thread, remove the dir)",
        "what-if: the load of row 6 with the File passed directly (one buffer, in SgxsReader)",
        "what-if: page bookkeeping as SparseMemory does it (BTreeMap<u64, u64> bitmap: get + entry per EADD)",
        "what-if: the same bookkeeping in a flat Vec<u64> bitmap",
    ];
    // Rows that are parts of, or alternatives to, other rows: not summed.
    let not_summed = [3usize, 4, 10, 11, 12];
    // The page indices of the EADD records, for the bookkeeping rows.
    let pages: Vec<u64> = {
        let f = std::fs::File::open(dir.join("build/enclave.sgxs")).expect("open sgxs");
        kss_sgxs::SgxsReader::new(f)
            .filter_map(|r| match r.expect("record") {
                kss_sgxs::Record::Eadd { offset, .. } => Some(offset / 4096),
                _ => None,
            })
            .collect()
    };
    let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut cpu: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut phase = |i: usize, f: &mut dyn FnMut()| {
        let c = thread_cpu();
        let (d, ()) = time(f);
        wall[i].push(d);
        cpu[i].push(thread_cpu().saturating_sub(c));
    };
    for _ in 0..n {
        let mut opened = None;
        phase(0, &mut || {
            let inst = Instance::open(&dir).expect("open");
            let (config, bytes) = inst.config().expect("config");
            opened = Some((inst, config, bytes));
        });
        let (inst, config, bytes) = opened.expect("opened");
        phase(1, &mut || {
            let text = std::fs::read_to_string(inst.build_json_path()).expect("kss-build.json");
            let summary: serde_json::Value = serde_json::from_str(&text).expect("json");
            let want = hex::encode(sha2::Sha256::digest(&bytes));
            let image = inst.image_digest().expect("image digest");
            assert_eq!(summary["occlum_json_sha256"].as_str(), Some(want.as_str()));
            assert_eq!(
                summary["image_digest"].as_str(),
                Some(hex::encode(image.digest).as_str())
            );
        });
        let mut sig = None;
        phase(2, &mut || {
            let b = std::fs::read(inst.sig_path()).expect("sig");
            sig = Some(kss_types::Sigstruct::from_bytes(&b).expect("SIGSTRUCT"));
        });
        let sig = sig.expect("sig");
        phase(3, &mut || kss_sign::verify(&sig).expect("signature"));
        phase(4, &mut || {
            let b = std::fs::read(inst.sgxs_path()).expect("sgxs");
            std::hint::black_box(sha2::Sha256::digest(&b));
        });
        let kss = kss_instance::launch::launch_config(config.metadata.enable_kss, None, None)
            .expect("launch config");
        let mut enclave = None;
        phase(5, &mut || {
            let f = std::fs::File::open(inst.sgxs_path()).expect("open sgxs");
            let backend = kss_enclave::sim::SimBackend::new(kss_enclave::sim::SimCpu::with_kss());
            let r = std::io::BufReader::with_capacity(1 << 20, f);
            enclave =
                Some(kss_enclave::load_sgxs_with(&backend, r, &kss, &sig, false).expect("load"));
        });
        let enclave = enclave.expect("enclave");
        phase(6, &mut || {
            std::hint::black_box(
                kss_sim_qe::SimQuotingEnclave::load_or_create_default().expect("sim QE"),
            );
        });
        let mut server = None;
        let mut enclave = Some(enclave);
        phase(7, &mut || {
            let e = enclave.take().expect("enclave");
            let ops = Arc::new(kss_service::EnclaveServer::new(Box::new(e), None));
            server = Some(kss_service::Server::start(ops).expect("service"));
        });
        let server = server.expect("server");
        phase(8, &mut || {
            let mut c = direct();
            c.env(kss_service::SOCKET_ENV, server.socket_path())
                .env("KSS_INSTANCE", &dir)
                .env("KSS_MODE", "sim");
            time_status(c);
        });
        let mut server = Some(server);
        phase(9, &mut || drop(server.take()));
        phase(10, &mut || {
            let f = std::fs::File::open(inst.sgxs_path()).expect("open sgxs");
            let backend = kss_enclave::sim::SimBackend::new(kss_enclave::sim::SimCpu::with_kss());
            std::hint::black_box(
                kss_enclave::load_sgxs_with(&backend, f, &kss, &sig, false).expect("load"),
            );
        });
        phase(11, &mut || {
            let mut added = std::collections::BTreeMap::<u64, u64>::new();
            for &i in &pages {
                let seen = added
                    .get(&(i / 64))
                    .is_some_and(|w| w & (1u64 << (i % 64)) != 0);
                assert!(!seen, "page {i} added twice");
                *added.entry(i / 64).or_insert(0) |= 1u64 << (i % 64);
            }
            std::hint::black_box(added);
        });
        phase(12, &mut || {
            let words = pages.iter().max().map_or(0, |m| m / 64 + 1) as usize;
            let mut added = vec![0u64; words];
            for &i in &pages {
                let (w, bit) = ((i / 64) as usize, 1u64 << (i % 64));
                let word = added.get_mut(w).expect("index in range");
                assert!(*word & bit == 0, "page {i} added twice");
                *word |= bit;
            }
            std::hint::black_box(added);
        });
    }
    println!("in-process phases of `kss run -q plain -- /bin/true` (medians of {n}; rows 4 and 5 are parts of row 6, rows 11-13 what-if variants, none of them summed)");
    println!();
    println!("| phase | wall median ms | wall p90 ms | mean CPU ms (this thread) |");
    println!("|---|---|---|---|");
    let (mut total, mut total_cpu) = (Duration::ZERO, Duration::ZERO);
    for (i, name) in names.iter().enumerate() {
        let w = Stats::of(&wall[i]);
        // The thread CPU clock ticks coarsely here: the mean over n runs is the usable figure.
        let c = cpu[i].iter().sum::<Duration>() / n as u32;
        if !not_summed.contains(&i) {
            total += w.median;
            total_cpu += c;
        }
        println!("| {name} | {} | {} | {} |", ms(w.median), ms(w.p90), ms(c));
    }
    println!(
        "| sum of phases (rows 1-3, 6-10) | {} | | {} |",
        ms(total),
        ms(total_cpu)
    );
    println!();
    println!("command: cargo bench -p kss --bench launch   (kss = {KSS})");
}
