//! Config binding: rebuild time after a one-byte image change in CONFIGID mode against MRENCLAVE
//! mode, for a 1 GiB image and a 4 GiB user space, in the same run; plus `kss config-id` and the
//! launch (`kss run -- /bin/true`) of each mode, which compute the image digest.
//!
//! `cargo bench -p kss --bench config_binding` (KSS_BENCH_RUNS sets the repetitions, default 3;
//! KSS_BENCH_IMAGE_MB the image size, default 1024). Needs 2 × the image size free under $TMPDIR.

mod common;

use common::{machine, secs, time, time_status, Stats, Workspace};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

/// Fills `len` bytes with xorshift64 output (incompressible, cheap).
fn random_bytes(state: &mut u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    for chunk in v.chunks_mut(8) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let b = state.to_le_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
    v
}

/// A `mb` MiB image: one file of half the size, 8 medium files and 256 small ones.
fn write_image(image: &Path, mb: usize) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let total = mb << 20;
    std::fs::create_dir_all(image.join("lib")).expect("mkdir");
    std::fs::write(image.join("big.bin"), random_bytes(&mut state, total / 2)).expect("write");
    let small = 256 * 16 * 1024;
    for i in 0..8 {
        std::fs::write(
            image.join(format!("lib/medium{i}.so")),
            random_bytes(&mut state, (total / 2 - small) / 8),
        )
        .expect("write");
    }
    for i in 0..256 {
        std::fs::write(
            image.join(format!("lib/small{i}.txt")),
            random_bytes(&mut state, 16 * 1024),
        )
        .expect("write");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let t = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).expect("copy");
        }
    }
}

/// Flips the byte at `at` (modulo the length) of `file`, in place.
fn flip_byte(file: &Path, at: u64) {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .expect("open");
    let len = f.metadata().expect("metadata").len();
    assert!(
        len > 0,
        "{} is empty: KSS_BENCH_IMAGE_MB is too small",
        file.display()
    );
    let at = at % len;
    let mut b = [0u8; 1];
    use std::io::Read;
    f.seek(SeekFrom::Start(at)).expect("seek");
    f.read_exact(&mut b).expect("read");
    b[0] ^= 0xFF;
    f.seek(SeekFrom::Start(at)).expect("seek");
    f.write_all(&b).expect("write");
}

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
    let full = common::full_run();
    let mb: usize = std::env::var("KSS_BENCH_IMAGE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 1024 } else { 32 });
    let ws = Workspace::new("kss-bench-binding-");
    let limits = serde_json::json!({"user_space_size": if full { "4GB" } else { "64MB" }});
    let cid = ws.instance(
        "cid",
        serde_json::json!({"enable_kss": true, "config_binding": "config_id"}),
        limits.clone(),
    );
    let mre = ws.instance("mre", serde_json::json!({"enable_kss": true}), limits);
    write_image(&cid.join("image"), mb);
    copy_dir(&cid.join("image"), &mre.join("image"));

    let (first_cid, j_cid) = time(|| build_json(&ws, "cid"));
    let (first_mre, _) = time(|| build_json(&ws, "mre"));
    let mr_cid = j_cid["mr_enclave"].clone();

    let mut samples: [Vec<Duration>; 6] = Default::default();
    let edited = "image/lib/medium3.so";
    for i in 0..n {
        let at = 1000 + 4096 * i as u64;
        flip_byte(&cid.join(edited), at);
        flip_byte(&mre.join(edited), at);
        let (d, j) = time(|| build_json(&ws, "cid"));
        assert_eq!(
            j["remeasured"], false,
            "CONFIGID mode: an image change re-measures nothing"
        );
        assert_eq!(
            j["mr_enclave"], mr_cid,
            "CONFIGID mode: MRENCLAVE does not depend on the image"
        );
        samples[0].push(d);
        let (d, j) = time(|| build_json(&ws, "mre"));
        assert_eq!(j["remeasured"], true);
        samples[1].push(d);
        samples[2].push(time_status(ws.command(&["config-id", "cid"])));
        samples[3].push(time_status(ws.command(&[
            "run",
            "-q",
            "cid",
            "--config-svn",
            "1",
            "--",
            "/bin/true",
        ])));
        samples[4].push(time_status(ws.command(&[
            "run",
            "-q",
            "mre",
            "--",
            "/bin/true",
        ])));
        samples[5].push(time_status(
            ws.command(&["measure", "mre/build/enclave.sgxs"]),
        ));
    }

    let names = [
        "`kss build` rebuild after a 1-byte image change, CONFIGID mode",
        "`kss build` rebuild after a 1-byte image change, MRENCLAVE mode (baseline)",
        "`kss config-id cid` (image digest + SHA-512)",
        "`kss run -q cid --config-svn 1 -- /bin/true`, CONFIGID mode (digest at launch)",
        "`kss run -q mre -- /bin/true`, MRENCLAVE mode (digest in the staleness check)",
        "`kss measure mre/build/enclave.sgxs` (re-measuring the 4 GiB-heap SGXS)",
    ];
    println!("config binding: {mb} MiB image, 4 GiB user space ({n} runs each, page cache warm)");
    println!("machine: {}", machine());
    println!(
        "first builds: CONFIGID mode {} s, MRENCLAVE mode {} s",
        secs(first_cid),
        secs(first_mre)
    );
    println!();
    println!("| what | median s | min s | max s |");
    println!("|---|---|---|---|");
    for (name, s) in names.iter().zip(&samples) {
        let st = Stats::of(s);
        println!(
            "| {name} | {} | {} | {} |",
            secs(st.median),
            secs(st.min),
            secs(st.max)
        );
    }
    let speedup =
        Stats::of(&samples[1]).median.as_secs_f64() / Stats::of(&samples[0]).median.as_secs_f64();
    println!();
    println!("rebuild speed-up of CONFIGID mode over MRENCLAVE mode: {speedup:.1}x");
    println!("command: cargo bench -p kss --bench config_binding");
}
