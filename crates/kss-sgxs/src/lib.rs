//! SGXS streams: write them, read them back record by record, validate them and compute the
//! MRENCLAVE they describe.
//!
//! An SGXS stream is exactly the sequence of 64-byte blocks that SGX hashes into MRENCLAVE
//! (ECREATE, EADD and EEXTEND blocks, each EEXTEND followed by its 256 data bytes), so
//! `SHA-256(stream) == MRENCLAVE` for a stream without extension records. The Fortanix
//! extensions `UNSIZED` (size not known yet) and `UNMEASRD` (page data loaded but not measured)
//! are understood too.
//!
//! * [`SgxsWriter`] emits a canonical stream and hashes it as it writes.
//! * [`SgxsReader`] parses any [`std::io::Read`] into [`Record`]s, validating as it goes.
//! * [`measure_stream`] validates and measures a stream at (nearly) the speed of SHA-256.
//!
//! The validation rules are listed on [`Violation`]; every error names the 0-based record index
//! and the byte offset of the first violation.
#![deny(missing_docs)]

mod error;
mod measure;
mod reader;
mod record;
mod validate;
mod writer;

pub use error::{SgxsError, Violation};
pub use measure::{measure_stream, measure_stream_with_progress, Measurement, RecordCounts};
pub use reader::SgxsReader;
pub use record::{
    eadd, eadd_block, ecreate_block, eextend_block, extend, sizing, tag, tag_name, EaddHeader,
    ExtendHeader, Record, RecordTag, SizingHeader, DATA_SIZE, HEADER_SIZE,
};
pub use writer::SgxsWriter;

/// Bytes measured by one EEXTEND.
pub const CHUNK_SIZE: u64 = 256;
/// Size of an enclave page.
pub const PAGE_SIZE: u64 = kss_types::PAGE_SIZE as u64;
/// Smallest enclave SIZE accepted by ECREATE.
pub const MIN_ENCLAVE_SIZE: u64 = 0x2000;
