//! Seal/unseal throughput through the library against raw AES-128-GCM (aes-gcm) on the same
//! buffer sizes. Run: `cargo bench -p kss-seal --bench seal`.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kss_seal::{seal_with_key_id, unseal, KeySource, KeySourceError, SealOptions};
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
        group.bench_function(BenchmarkId::new("kss_seal", label), |b| {
            b.iter(|| {
                black_box(
                    seal_with_key_id(&FixedKey, [7; 32], black_box(&plaintext), &aad, &options)
                        .unwrap(),
                )
            })
        });

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
        let blob = seal_with_key_id(&FixedKey, [7; 32], &plaintext, &aad, &options).unwrap();
        group.bench_function(BenchmarkId::new("kss_unseal", label), |b| {
            b.iter(|| black_box(unseal(&FixedKey, black_box(&blob)).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
