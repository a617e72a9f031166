//! [`SgxsWriter`]: emits a canonical SGXS stream and hashes it on the way out.

use crate::error::SgxsError;
use crate::record::{eadd_header, extend_header, sizing_header, tag, DATA_SIZE, HEADER_SIZE};
use crate::validate::Validator;
use crate::CHUNK_SIZE;
use kss_types::SecinfoFlags;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Bytes collected before they are hashed and handed to the output in one piece.
const BUFFER_SIZE: usize = 1 << 20;

/// Writes a canonical SGXS stream to `W` and computes its MRENCLAVE as it goes.
///
/// Records are checked against the same rules as the reader (see [`crate::Violation`]), so the
/// writer can only produce streams that [`crate::measure_stream`] accepts. Output is collected
/// in a 1 MiB buffer that is hashed and written in one piece, so millions of small EADD records
/// cost little more than their bytes.
///
/// Dropping the writer without calling [`SgxsWriter::finish`] loses up to 1 MiB of buffered
/// output.
pub struct SgxsWriter<W: Write> {
    out: W,
    buffer: Vec<u8>,
    hasher: Sha256,
    written: u64,
    validator: Validator,
}

impl<W: Write> SgxsWriter<W> {
    /// Writes the ECREATE record.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] (wrapping an [`SgxsError`]) if `size` is not a
    /// power of two of at least 0x2000 or `ssa_frame_size` is 0.
    pub fn new(out: W, ssa_frame_size: u32, size: u64) -> io::Result<Self> {
        let mut w = Self {
            out,
            buffer: Vec::with_capacity(BUFFER_SIZE),
            hasher: Sha256::new(),
            written: 0,
            validator: Validator::default(),
        };
        let header = sizing_header(tag::ECREATE, ssa_frame_size, size);
        match w.validator.check(&header, 0) {
            Ok(_) => {
                w.push(&header).map_err(io::Error::from)?;
                Ok(w)
            }
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
        }
    }

    /// Writes an EADD record for the page at `offset` (4 KiB-aligned, above the previous EADD,
    /// below SIZE) with SECINFO `flags` (REG or TCS; TCS without R/W/X).
    pub fn eadd(&mut self, offset: u64, flags: SecinfoFlags) -> Result<(), SgxsError> {
        let header = eadd_header(offset, flags);
        self.validator.check(&header, self.written)?;
        self.push(&header)
    }

    /// Writes an EEXTEND record for the 256-byte chunk at `offset` (inside the page of the last
    /// EADD, 256-aligned, not yet extended) followed by `chunk`.
    pub fn eextend(&mut self, offset: u64, chunk: &[u8; DATA_SIZE]) -> Result<(), SgxsError> {
        let header = extend_header(tag::EEXTEND, offset);
        self.validator.check(&header, self.written)?;
        self.push(&header)?;
        self.push(chunk)
    }

    /// Writes an UNMEASRD record: `chunk` is loaded at `offset` but not measured (Fortanix
    /// extension; same placement rules as [`SgxsWriter::eextend`]).
    pub fn unmeasured(&mut self, offset: u64, chunk: &[u8; DATA_SIZE]) -> Result<(), SgxsError> {
        let header = extend_header(tag::UNMEASRD, offset);
        self.validator.check(&header, self.written)?;
        self.skip_hash_push(&header, chunk)
    }

    /// Writes EADD for the page at `offset` then, if `data` is `Some`, the 16 EEXTENDs that
    /// measure all of it. `None` adds the page unmeasured (its content is not part of the
    /// stream; the loader fills it with zeros).
    pub fn add_page(
        &mut self,
        offset: u64,
        flags: SecinfoFlags,
        data: Option<&[u8; 4096]>,
    ) -> Result<(), SgxsError> {
        self.eadd(offset, flags)?;
        if let Some(page) = data {
            for (i, chunk) in page.chunks_exact(DATA_SIZE).enumerate() {
                let mut c = [0u8; DATA_SIZE];
                c.copy_from_slice(chunk);
                self.eextend(offset + i as u64 * CHUNK_SIZE, &c)?;
            }
        }
        Ok(())
    }

    /// Bytes of stream produced so far (including bytes still buffered).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Number of records produced so far, ECREATE included.
    pub fn records_written(&self) -> u64 {
        self.validator.records
    }

    /// Flushes everything and returns the writer and the MRENCLAVE (SHA-256 of every measured
    /// byte written).
    pub fn finish(mut self) -> Result<(W, [u8; 32]), SgxsError> {
        self.drain()?;
        self.out.flush().map_err(SgxsError::write)?;
        let digest: [u8; 32] = self.hasher.finalize().into();
        Ok((self.out, digest))
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), SgxsError> {
        self.buffer.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        if self.buffer.len() >= BUFFER_SIZE {
            self.drain()?;
        }
        Ok(())
    }

    /// Writes an unmeasured record: everything buffered so far is hashed first, then these
    /// bytes are written without hashing.
    fn skip_hash_push(
        &mut self,
        header: &[u8; HEADER_SIZE],
        chunk: &[u8; DATA_SIZE],
    ) -> Result<(), SgxsError> {
        self.drain()?;
        self.out.write_all(header).map_err(SgxsError::write)?;
        self.out.write_all(chunk).map_err(SgxsError::write)?;
        self.written += (HEADER_SIZE + DATA_SIZE) as u64;
        Ok(())
    }

    fn drain(&mut self) -> Result<(), SgxsError> {
        if !self.buffer.is_empty() {
            self.hasher.update(&self.buffer);
            self.out.write_all(&self.buffer).map_err(SgxsError::write)?;
            self.buffer.clear();
        }
        Ok(())
    }
}
