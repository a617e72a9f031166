//! Requests per second for REPORT and GET_KEY over the enclave endpoint (the Unix socket that
//! `kss run` serves), with 1 and 2 client threads (one connection each), against calling the
//! simulated enclave in process (the baseline), in the same run.
//!
//! `cargo bench -p kss-service --bench endpoint` (KSS_BENCH_SECS sets the seconds per case,
//! default 2).

use kss_enclave::sim::{SimCpu, SimEnclave};
use kss_enclave::Enclave;
use kss_service::{Client, EnclaveServer, Server};
use kss_types::*;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/common/secs.rs"]
mod secs;

use secs::kss_secs;

fn key_request(cpu_svn: CpuSvn) -> KeyRequest {
    KeyRequest {
        key_name: KeyName::Seal as u16,
        key_policy: KeyPolicy(0x3A),
        isv_svn: 3,
        config_svn: 5,
        cpu_svn,
        attribute_mask: Attributes::new(0xFF0000000000000B, 0),
        misc_mask: 0xF0000000,
        ..KeyRequest::default()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Report,
    GetKey,
}

/// Runs `op` on `threads` threads for `dur`; each thread makes its own `Client` when `socket`
/// is given, else calls `enclave` directly. Returns (requests, elapsed).
fn measure(
    op: Op,
    threads: usize,
    dur: Duration,
    socket: Option<&Path>,
    enclave: &SimEnclave,
) -> (u64, Duration) {
    let target = enclave.target_info();
    let req = key_request(
        enclave
            .report(&target, &[0; 64])
            .map(|r| r.body.cpu_svn)
            .unwrap_or_default(),
    );
    let start = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (target, req) = (target.clone(), req.clone());
                s.spawn(move || {
                    let client = socket.map(|p| Client::connect(p).expect("connect"));
                    let mut data = [t as u8; 64];
                    let mut n = 0u64;
                    while start.elapsed() < dur {
                        for _ in 0..64 {
                            data[1] = data[1].wrapping_add(1);
                            match (op, &client) {
                                (Op::Report, Some(c)) => {
                                    std::hint::black_box(c.report(&target, &data).expect("report"));
                                }
                                (Op::Report, None) => {
                                    std::hint::black_box(
                                        enclave.report(&target, &data).expect("report"),
                                    );
                                }
                                (Op::GetKey, Some(c)) => {
                                    std::hint::black_box(c.get_key(&req).expect("key"));
                                }
                                (Op::GetKey, None) => {
                                    std::hint::black_box(enclave.get_key(&req).expect("key"));
                                }
                            }
                        }
                        n += 64;
                    }
                    n
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    (counts.iter().sum(), start.elapsed())
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` passes nothing: a smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let secs: f64 = std::env::var("KSS_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 2.0 } else { 0.05 });
    let dur = Duration::from_secs_f64(secs);
    let enclave = SimEnclave::from_initialized_secs(kss_secs(5), SimCpu::with_kss(), 1);
    let server = Server::start(Arc::new(EnclaveServer::new(
        Box::new(enclave.clone()),
        None,
    )))
    .expect("start the service");
    let socket = server.socket_path().to_path_buf();

    // Sanity: the endpoint answers what the enclave answers.
    let c = Client::connect(&socket).expect("connect");
    let req = key_request(c.identity().expect("identity").cpu_svn);
    assert_eq!(
        *c.get_key(&req).expect("key"),
        *enclave.get_key(&req).expect("key")
    );
    drop(c);
    // Warm-up.
    let _ = measure(
        Op::Report,
        1,
        Duration::from_millis(200),
        Some(&socket),
        &enclave,
    );

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!("enclave endpoint throughput ({secs} s per case)");
    println!(
        "machine: {cores} cores, {model}, load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    println!("| request | client threads | in process (baseline) req/s | over the socket req/s | socket µs/req per thread | socket / in process |");
    println!("|---|---|---|---|---|---|");
    for (op, name) in [(Op::Report, "REPORT"), (Op::GetKey, "GET_KEY")] {
        for threads in [1usize, 2] {
            let (n_local, d_local) = measure(op, threads, dur, None, &enclave);
            let (n_sock, d_sock) = measure(op, threads, dur, Some(&socket), &enclave);
            let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
            let (local, sock) = (rate(n_local, d_local), rate(n_sock, d_sock));
            println!(
                "| {name} | {threads} | {local:.0} | {sock:.0} | {:.1} | {:.1} % |",
                threads as f64 * 1e6 / sock,
                100.0 * sock / local
            );
        }
    }
    println!();
    println!("command: cargo bench -p kss-service --bench endpoint");
}
