//! [`measure_stream`]: validate an SGXS stream and compute its MRENCLAVE at hashing speed.
//!
//! A scanner thread reads the stream in 4 MiB blocks, validates every record header in place
//! and lists the byte ranges to hash; the calling thread hashes those ranges, each block in one
//! `update` call. Reading and validation therefore overlap hashing, which is the only
//! per-byte work left on the critical path.
//!
//! Every SGXS record is a whole number of 64-byte blocks (header 64, data 256), so blocks whose
//! size is a multiple of 64 never split a header: a header is always entirely inside one block;
//! only EEXTEND data can continue into the next block.

use crate::error::SgxsError;
use crate::reader::read_full;
use crate::record::{DATA_SIZE, HEADER_SIZE};
use crate::validate::{Kind, Validator};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::ops::Range;
use std::sync::mpsc;

/// Size of one read block (a multiple of 64).
const BLOCK_SIZE: usize = 4 << 20;
/// Blocks in flight between the scanner and the hasher.
const BLOCKS_IN_FLIGHT: usize = 3;

/// Records of each kind in a measured stream (ECREATE is always exactly one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordCounts {
    /// EADD records (pages).
    pub eadd: u64,
    /// EEXTEND records (measured 256-byte chunks).
    pub eextend: u64,
    /// UNMEASRD records (loaded but unmeasured chunks; not hashed).
    pub unmeasured: u64,
}

/// The result of measuring an SGXS stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement {
    /// MRENCLAVE: SHA-256 of every record except UNMEASRD ones.
    pub mr_enclave: [u8; 32],
    /// Enclave SIZE from ECREATE.
    pub size: u64,
    /// SSAFRAMESIZE (pages) from ECREATE.
    pub ssa_frame_size: u32,
    /// Records of each kind.
    pub records: RecordCounts,
    /// Length of the stream in bytes.
    pub stream_bytes: u64,
}

/// Validates an SGXS stream and computes its MRENCLAVE.
///
/// UNMEASRD records are skipped when hashing, as `sgxs-sign` does. A stream starting with
/// UNSIZED fails with [`SgxsError::Unsized`]. The first rule violation fails with
/// [`SgxsError::Invalid`] or [`SgxsError::Truncated`], naming the record index and byte offset.
/// Reading happens on a helper thread while the calling thread hashes.
pub fn measure_stream<R: Read + Send>(reader: R) -> Result<Measurement, SgxsError> {
    measure_stream_with_progress(reader, |_| {})
}

/// Like [`measure_stream`], calling `progress` with the number of bytes processed so far after
/// each block (every 4 MiB).
pub fn measure_stream_with_progress<R: Read + Send>(
    mut reader: R,
    mut progress: impl FnMut(u64),
) -> Result<Measurement, SgxsError> {
    let mut hasher = Sha256::new();
    let pipelined = std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Message>(BLOCKS_IN_FLIGHT);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let reader = &mut reader;
        let spawned = std::thread::Builder::new()
            .name("sgxs-scan".into())
            .spawn_scoped(scope, move || scan_thread(reader, full_tx, free_rx));
        if spawned.is_err() {
            return None;
        }
        let mut done = 0u64;
        loop {
            match full_rx.recv() {
                Ok(Message::Block(block)) => {
                    for range in &block.hash {
                        hasher.update(&block.buf[range.clone()]);
                    }
                    done += block.len as u64;
                    progress(done);
                    // The scanner may already have finished; a lost buffer is harmless.
                    let _ = free_tx.send(block.buf);
                }
                Ok(Message::End(result)) => return Some(result),
                Err(_) => {
                    return Some(Err(SgxsError::read(std::io::Error::other(
                        "the SGXS scanner thread stopped unexpectedly",
                    ))))
                }
            }
        }
    });
    let summary = match pipelined {
        Some(result) => result?,
        // No thread available: do the same work on this thread.
        None => {
            hasher = Sha256::new();
            measure_inline(&mut reader, &mut hasher, &mut progress)?
        }
    };
    Ok(summary.into_measurement(hasher.finalize().into()))
}

/// A block handed from the scanner to the hasher.
struct Block {
    buf: Vec<u8>,
    len: usize,
    hash: Vec<Range<usize>>,
}

enum Message {
    Block(Block),
    End(Result<Summary, SgxsError>),
}

fn scan_thread<R: Read>(
    reader: &mut R,
    full_tx: mpsc::SyncSender<Message>,
    free_rx: mpsc::Receiver<Vec<u8>>,
) {
    let mut scanner = Scanner::default();
    let mut allocated = 0;
    loop {
        let mut buf = match free_rx.try_recv() {
            Ok(b) => b,
            Err(_) if allocated < BLOCKS_IN_FLIGHT + 1 => {
                allocated += 1;
                vec![0u8; BLOCK_SIZE]
            }
            Err(_) => match free_rx.recv() {
                Ok(b) => b,
                Err(_) => return,
            },
        };
        let step = read_full(reader, &mut buf).and_then(|len| {
            let mut hash = Vec::new();
            let at_end = len < buf.len();
            scanner.scan(&buf[..len], &mut hash)?;
            Ok((len, hash, at_end))
        });
        match step {
            Ok((len, hash, at_end)) => {
                if len > 0
                    && full_tx
                        .send(Message::Block(Block { buf, len, hash }))
                        .is_err()
                {
                    return;
                }
                if at_end {
                    let _ = full_tx.send(Message::End(scanner.finish()));
                    return;
                }
            }
            Err(e) => {
                let _ = full_tx.send(Message::End(Err(e)));
                return;
            }
        }
    }
}

/// Single-threaded version of the pipeline (used when no thread can be spawned).
fn measure_inline<R: Read>(
    reader: &mut R,
    hasher: &mut Sha256,
    progress: &mut impl FnMut(u64),
) -> Result<Summary, SgxsError> {
    let mut scanner = Scanner::default();
    let mut buf = vec![0u8; BLOCK_SIZE];
    let mut hash = Vec::new();
    let mut done = 0u64;
    loop {
        let len = read_full(reader, &mut buf)?;
        hash.clear();
        let block = buf.get(..len).unwrap_or_default();
        scanner.scan(block, &mut hash)?;
        for range in &hash {
            hasher.update(&block[range.clone()]);
        }
        done += len as u64;
        progress(done);
        if len < buf.len() {
            return scanner.finish();
        }
    }
}

/// What the scanner learned about the whole stream.
#[derive(Debug, Default)]
struct Summary {
    size: u64,
    ssa_frame_size: u32,
    records: RecordCounts,
    stream_bytes: u64,
}

impl Summary {
    fn into_measurement(self, mr_enclave: [u8; 32]) -> Measurement {
        Measurement {
            mr_enclave,
            size: self.size,
            ssa_frame_size: self.ssa_frame_size,
            records: self.records,
            stream_bytes: self.stream_bytes,
        }
    }
}

/// Validation state carried from block to block.
#[derive(Debug, Default)]
struct Scanner {
    validator: Validator,
    /// Stream offset of the start of the next block.
    block_start: u64,
    /// Data bytes of the current EEXTEND/UNMEASRD still to come.
    pending: usize,
    /// Whether those bytes are measured.
    pending_measured: bool,
    /// Index of the record the pending data belongs to.
    pending_index: u64,
    summary: Summary,
}

impl Scanner {
    /// Validates one block and appends the ranges to hash to `hash`.
    fn scan(&mut self, block: &[u8], hash: &mut Vec<Range<usize>>) -> Result<(), SgxsError> {
        let mut run_start = if self.pending > 0 && !self.pending_measured {
            None
        } else {
            Some(0)
        };
        let mut pos = 0;
        while pos < block.len() {
            if self.pending > 0 {
                let take = self.pending.min(block.len() - pos);
                pos += take;
                self.pending -= take;
                if self.pending == 0 && !self.pending_measured {
                    run_start = Some(pos);
                }
                continue;
            }
            let offset = self.block_start + pos as u64;
            let Some(header) = block
                .get(pos..pos + HEADER_SIZE)
                .and_then(|h| <&[u8; HEADER_SIZE]>::try_from(h).ok())
            else {
                return Err(SgxsError::Truncated {
                    index: self.validator.records,
                    offset,
                    part: "header",
                    needed: HEADER_SIZE as u64,
                    available: (block.len() - pos) as u64,
                });
            };
            let index = self.validator.records;
            match self.validator.check(header, offset)? {
                Kind::Ecreate {
                    ssa_frame_size,
                    size,
                } => {
                    self.summary.size = size;
                    self.summary.ssa_frame_size = ssa_frame_size;
                }
                Kind::Unsized {
                    ssa_frame_size,
                    size_offset,
                } => {
                    return Err(SgxsError::Unsized {
                        ssa_frame_size,
                        size_offset,
                    })
                }
                Kind::Eadd { .. } => {}
                Kind::Eextend { .. } => {
                    self.pending = DATA_SIZE;
                    self.pending_measured = true;
                    self.pending_index = index;
                }
                Kind::Unmeasured { .. } => {
                    if let Some(start) = run_start.take() {
                        if pos > start {
                            hash.push(start..pos);
                        }
                    }
                    self.pending = DATA_SIZE;
                    self.pending_measured = false;
                    self.pending_index = index;
                }
            }
            pos += HEADER_SIZE;
        }
        if let Some(start) = run_start {
            if block.len() > start {
                hash.push(start..block.len());
            }
        }
        self.block_start += block.len() as u64;
        Ok(())
    }

    /// Checks the stream ended at a record boundary and returns the summary.
    fn finish(mut self) -> Result<Summary, SgxsError> {
        if self.validator.records == 0 {
            return Err(SgxsError::Empty);
        }
        if self.pending > 0 {
            return Err(SgxsError::Truncated {
                index: self.pending_index,
                offset: self.block_start - (DATA_SIZE - self.pending) as u64,
                part: if self.pending_measured {
                    "EEXTEND data"
                } else {
                    "UNMEASRD data"
                },
                needed: DATA_SIZE as u64,
                available: (DATA_SIZE - self.pending) as u64,
            });
        }
        self.summary.records = RecordCounts {
            eadd: self.validator.eadd,
            eextend: self.validator.eextend,
            unmeasured: self.validator.unmeasured,
        };
        self.summary.stream_bytes = self.block_start;
        Ok(self.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SgxsWriter;
    use kss_types::SecinfoFlags;

    /// The single-threaded fallback (taken when no thread can be spawned) on its own.
    fn inline(bytes: &[u8]) -> Result<Measurement, SgxsError> {
        let mut hasher = Sha256::new();
        let mut calls = Vec::new();
        let summary = measure_inline(&mut &bytes[..], &mut hasher, &mut |n| calls.push(n))?;
        assert_eq!(
            calls.last(),
            Some(&(bytes.len() as u64)),
            "progress ends at the length"
        );
        Ok(summary.into_measurement(hasher.finalize().into()))
    }

    /// A valid stream of `pages` measured pages (about 5 KiB of stream per page).
    fn stream(pages: u64) -> Vec<u8> {
        let mut w = SgxsWriter::new(Vec::new(), 1, (pages * 4096).next_power_of_two()).unwrap();
        for p in 0..pages {
            let page = [p as u8; 4096];
            w.add_page(p * 4096, SecinfoFlags(0x203), Some(&page))
                .unwrap();
        }
        w.finish().unwrap().0
    }

    /// The fallback and the pipeline agree on every field, on the real SGXS of the testdata, on
    /// a stream spanning several 4 MiB blocks, and on the exact error of a truncated or
    /// corrupted stream.
    #[test]
    fn inline_fallback_agrees_with_the_pipeline() {
        let fortanix = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/fortanix-rust-sgx/sgx_detect/test_enclave.sgxs"
        ))
        .expect("testdata");
        let big = stream(2500);
        assert!(big.len() > 2 * BLOCK_SIZE, "spans blocks: {}", big.len());
        let mut corrupt = big.clone();
        corrupt[BLOCK_SIZE + 7] ^= 0xff;
        for (name, bytes) in [
            ("fortanix", &fortanix[..]),
            ("big", &big[..]),
            ("exactly one block", &big[..BLOCK_SIZE]),
            ("truncated", &big[..big.len() - 100]),
            ("corrupt", &corrupt[..]),
            ("empty", &[][..]),
        ] {
            let (a, b) = (inline(bytes), measure_stream(bytes));
            match (a, b) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
                (a, b) => panic!("{name}: inline {a:?}, pipeline {b:?}"),
            }
        }
        for bad in [&corrupt[..], &[][..], &big[..big.len() - 100]] {
            assert!(inline(bad).is_err() && measure_stream(bad).is_err());
        }
        let m = inline(&big).expect("valid");
        assert_eq!(m.mr_enclave, <[u8; 32]>::from(Sha256::digest(&big)));
    }
}
