//! Seal/unseal throughput through the library against raw AES-128-GCM (aes-gcm) on the same
//! buffer sizes. Run: `cargo bench -p kss-seal --bench seal`.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kss_seal::{
    seal_into, seal_with_key_id, unseal, unseal_in_place, KeySource, KeySourceError, SealOptions,
};
use kss_types::{Attributes, KeyRequest, ReportBody};
use std::time::Duration;
use zeroize::Zeroizing;

/// A key source that returns a fixed key at once, so only sealing itself is measured.
struct FixedKey;

impl KeySource for FixedKey {
    fn self_report(&self) -> Result<ReportBody, KeySourceError> {
        Ok(ReportBody {
            attributes: Attributes::new(0x87, 0x3),
            mr_signer: [0x22; 32],
            isv_svn: 1,
            ..ReportBody::default()
        })
    }

    fn get_key(&self, _: &KeyRequest) -> Result<Zeroizing<[u8; 16]>, KeySourceError> {
        Ok(Zeroizing::new([0x5A; 16]))
    }
}

const SIZES: [(usize, &str); 3] = [(1 << 10, "1KiB"), (1 << 20, "1MiB"), (64 << 20, "64MiB")];

fn bench(c: &mut Criterion) {
    let cipher = Aes128Gcm::new(&[0x5A; 16].into());
    let options = SealOptions::default();
    for (size, label) in SIZES {
        let mut group = c.benchmark_group(format!("seal_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 1 << 20 {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(if size > 1 << 20 { 8 } else { 3 }));
        }
        group.warm_up_time(Duration::from_millis(500));
        let plaintext = vec![0xA5u8; size];
        let aad = [0x11u8; 32];

        group.bench_function(
            BenchmarkId::new("raw_aes_gcm_encrypt_in_place", label),
            |b| {
                let mut buf = plaintext.clone();
                b.iter(|| {
                    black_box(
                        cipher
                            .encrypt_in_place_detached(&Nonce::default(), &aad, &mut buf)
                            .unwrap(),
                    )
                })
            },
        );
        // Same work as the allocating seal API minus the format: a fresh Vec, copy, encrypt.
        group.bench_function(
            BenchmarkId::new("raw_aes_gcm_new_vec_encrypt", label),
            |b| {
                b.iter(|| {
                    let mut buf = black_box(&plaintext).clone();
                    let tag = cipher
                        .encrypt_in_place_detached(&Nonce::default(), &aad, &mut buf)
                        .unwrap();
                    black_box((buf, tag))
                })
            },
        );
        group.bench_function(BenchmarkId::new("kss_seal", label), |b| {
            b.iter(|| {
                black_box(
                    seal_with_key_id(&FixedKey, [7; 32], black_box(&plaintext), &aad, &options)
                        .unwrap(),
                )
            })
        });
        group.bench_function(
            BenchmarkId::new("kss_seal_into_reused_buffer", label),
            |b| {
                let mut out = Vec::new();
                b.iter(|| {
                    seal_into(&FixedKey, black_box(&plaintext), &aad, &options, &mut out).unwrap();
                    black_box(&out);
                })
            },
        );

        let mut ct = plaintext.clone();
        let tag = cipher
            .encrypt_in_place_detached(&Nonce::default(), &aad, &mut ct)
            .unwrap();
        group.bench_function(
            BenchmarkId::new("raw_aes_gcm_decrypt_in_place", label),
            |b| {
                let mut buf = ct.clone();
                b.iter(|| {
                    buf.copy_from_slice(&ct);
                    cipher
                        .decrypt_in_place_detached(&Nonce::default(), &aad, &mut buf, &tag)
                        .unwrap();
                    black_box(&buf);
                })
            },
        );
        // Same work as the allocating unseal API minus the format: a fresh Vec, copy, decrypt.
        group.bench_function(
            BenchmarkId::new("raw_aes_gcm_new_vec_decrypt", label),
            |b| {
                b.iter(|| {
                    let mut buf = black_box(&ct).clone();
                    cipher
                        .decrypt_in_place_detached(&Nonce::default(), &aad, &mut buf, &tag)
                        .unwrap();
                    black_box(buf)
                })
            },
        );
        let blob = seal_with_key_id(&FixedKey, [7; 32], &plaintext, &aad, &options).unwrap();
        group.bench_function(BenchmarkId::new("kss_unseal", label), |b| {
            b.iter(|| black_box(unseal(&FixedKey, black_box(&blob)).unwrap()))
        });
        group.bench_function(BenchmarkId::new("kss_unseal_in_place", label), |b| {
            let mut buf = blob.clone();
            b.iter(|| {
                buf.copy_from_slice(&blob);
                let out = unseal_in_place(&FixedKey, &mut buf).unwrap();
                black_box(out.plaintext.len());
            })
        });
        group.finish();
    }
}

/// CPU time (user + system) of the calling thread, from /proc (clock ticks of 10 ms).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After "pid (comm) ", field 3 is the state; utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Throughput per CPU second, which the scheduler share on a loaded machine does not distort.
/// Prints one line per variant; each processes about 1 GiB. Only under `cargo bench`: a test
/// run (`cargo test --benches`, `--all-targets`) skips it.
fn cpu_time_report(_: &mut Criterion) {
    // `cargo bench` passes `--bench`; a test run does not and must not process ~12 GiB.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if thread_cpu_seconds().is_none() {
        println!("\nCPU-time report skipped: /proc/thread-self/stat is not readable here");
        return;
    }
    let cipher = Aes128Gcm::new(&[0x5A; 16].into());
    let options = SealOptions::default();
    let aad = [0x11u8; 32];
    println!("\nCPU-time throughput (GiB per CPU second of this thread, ~1 GiB per line):");
    for (size, label) in [(1usize << 20, "1MiB"), (64 << 20, "64MiB")] {
        let runs = (1usize << 30) / size;
        let plaintext = vec![0xA5u8; size];
        let blob = seal_with_key_id(&FixedKey, [7; 32], &plaintext, &aad, &options).unwrap();
        let mut ct = plaintext.clone();
        let tag = cipher
            .encrypt_in_place_detached(&Nonce::default(), &aad, &mut ct)
            .unwrap();
        let mut buf = plaintext.clone();
        let mut out = Vec::new();
        let mut blob_buf = blob.clone();
        let measure = |name: &str, f: &mut dyn FnMut()| {
            let start = thread_cpu_seconds();
            for _ in 0..runs {
                f();
            }
            let (Some(start), Some(end)) = (start, thread_cpu_seconds()) else {
                println!("  {label:>5} {name:<32} skipped: thread CPU time unavailable");
                return;
            };
            let cpu = end - start;
            let gib = (runs * size) as f64 / (1u64 << 30) as f64;
            println!(
                "  {label:>5} {name:<32} {:>6.2} GiB/s  ({cpu:.2} s CPU)",
                gib / cpu.max(0.01)
            );
        };
        measure("raw_aes_gcm_encrypt_in_place", &mut || {
            black_box(
                cipher
                    .encrypt_in_place_detached(&Nonce::default(), &aad, &mut buf)
                    .unwrap(),
            );
        });
        measure("kss_seal", &mut || {
            black_box(seal_with_key_id(&FixedKey, [7; 32], &plaintext, &aad, &options).unwrap());
        });
        measure("kss_seal_into_reused_buffer", &mut || {
            seal_into(&FixedKey, &plaintext, &aad, &options, &mut out).unwrap();
            black_box(&out);
        });
        measure("raw_aes_gcm_decrypt_in_place", &mut || {
            buf.copy_from_slice(&ct);
            cipher
                .decrypt_in_place_detached(&Nonce::default(), &aad, &mut buf, &tag)
                .unwrap();
            black_box(&buf);
        });
        measure("kss_unseal", &mut || {
            black_box(unseal(&FixedKey, &blob).unwrap());
        });
        measure("kss_unseal_in_place", &mut || {
            blob_buf.copy_from_slice(&blob);
            black_box(
                unseal_in_place(&FixedKey, &mut blob_buf)
                    .unwrap()
                    .plaintext
                    .len(),
            );
        });
    }
}

criterion_group!(benches, bench, cpu_time_report);
criterion_main!(benches);
