//! Image digest throughput on all cores against `sha256sum` over the same files and against the
//! single-core SHA-256 limit (SHA-256 of the same bytes in memory), in the same run.
//!
//! `cargo bench -p kss-instance --bench image_digest` (set KSS_BENCH_IMAGE_MB, default 1024).

use sha2::Digest;
use std::time::{Duration, Instant};

fn best_of<F: FnMut()>(n: usize, mut f: F) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let mb: usize = std::env::var("KSS_BENCH_IMAGE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let dir = tempfile::tempdir().expect("tempdir");
    let img = dir.path().join("image");
    std::fs::create_dir_all(img.join("lib")).expect("mkdir");
    // A realistic mix: one large file (half), 8 medium files, many small ones.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut fill = |len: usize| -> Vec<u8> {
        let mut v = vec![0u8; len];
        for chunk in v.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = state.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        v
    };
    let total = mb << 20;
    std::fs::write(img.join("big.bin"), fill(total / 2)).expect("write");
    for i in 0..8 {
        std::fs::write(
            img.join(format!("lib/medium{i}.so")),
            fill(total / 2 / 8 - 512 * 1024),
        )
        .expect("write");
    }
    for i in 0..1024 {
        std::fs::write(img.join(format!("lib/small{i}.txt")), fill(4096)).expect("write");
    }
    let files: Vec<std::path::PathBuf> = kss_instance::image::list(&img)
        .expect("list")
        .iter()
        .filter(|e| e.kind == kss_instance::image::EntryKind::File)
        .map(|e| img.join(String::from_utf8_lossy(&e.path).into_owned()))
        .collect();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    // Warm the page cache.
    let _ = kss_instance::image::digest_dir(&img);

    let ours = best_of(3, || {
        kss_instance::image::digest_dir(&img).expect("digest");
    });
    let sha256sum = best_of(3, || {
        let ok = std::process::Command::new("sha256sum")
            .args(&files)
            .stdout(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "sha256sum failed");
    });
    let data = std::fs::read(img.join("big.bin")).expect("read");
    let one_core = best_of(3, || {
        std::hint::black_box(sha2::Sha256::digest(&data));
    });
    let gbs = |b: u64, d: Duration| b as f64 / d.as_secs_f64() / 1e9;
    let limit = gbs(data.len() as u64, one_core);
    println!(
        "image: {} files, {:.2} GiB, {} cores",
        files.len(),
        bytes as f64 / (1u64 << 30) as f64,
        rayon::current_num_threads()
    );
    println!(
        "kss image digest        {:>8.3} s  {:>6.2} GB/s",
        ours.as_secs_f64(),
        gbs(bytes, ours)
    );
    println!(
        "sha256sum (same files)  {:>8.3} s  {:>6.2} GB/s",
        sha256sum.as_secs_f64(),
        gbs(bytes, sha256sum)
    );
    println!(
        "single-core SHA-256     {:>8}    {:>6.2} GB/s (in memory)",
        "", limit
    );
    println!(
        "speed-up vs sha256sum: {:.2}x; vs the single-core limit: {:.2}x",
        sha256sum.as_secs_f64() / ours.as_secs_f64(),
        gbs(bytes, ours) / limit
    );
}
