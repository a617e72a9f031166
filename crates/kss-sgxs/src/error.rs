//! Errors: what is wrong with a stream, and where.

use crate::record::RecordTag;
use std::io;

/// Why a stream (or a record given to [`crate::SgxsWriter`]) is not a canonical SGXS stream.
///
/// The rules enforced, in the order they are checked for each record:
///
/// 1. The first record is ECREATE (or UNSIZED); no later record is.
/// 2. Tags are ECREATE, UNSIZED, EADD, EEXTEND or UNMEASRD.
/// 3. ECREATE: SSAFRAMESIZE ≥ 1; SIZE a power of two ≥ 0x2000 (what ECREATE accepts).
/// 4. Padding is zero: ECREATE/UNSIZED bytes 20..64, EADD bytes 24..64 (the reserved part of
///    SECINFO), EEXTEND/UNMEASRD bytes 16..64. SGX hashes these bytes as zeros, so a stream with
///    anything else there can never match a hardware MRENCLAVE.
/// 5. EADD: offset 4 KiB-aligned, strictly greater than the previous EADD offset and below SIZE;
///    then the SECINFO flags rules of [`kss_types::SecinfoFlags::eadd_problem`] (what Linux
///    checks before EADD): the page type is REG or TCS (the only types EADD accepts), no
///    reserved or EDMM-state bit (PENDING/MODIFIED/PR) is set, a TCS page has no R/W/X bit, and
///    W comes with R.
/// 6. EEXTEND/UNMEASRD: after an EADD, offset 256-aligned, inside the page of the preceding EADD,
///    and each 256-byte chunk of a page appears at most once (counting both record kinds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// The first record is not ECREATE or UNSIZED.
    #[error("the first record must be ECREATE (or UNSIZED), found {found}")]
    FirstNotEcreate {
        /// The tag of the record found.
        found: RecordTag,
    },
    /// A second ECREATE or UNSIZED record.
    #[error("{found} may only appear once, as the first record")]
    RepeatedEcreate {
        /// Name of the record found.
        found: &'static str,
    },
    /// The tag is not one of the five known ones.
    #[error("{}; expected ECREATE, EADD, EEXTEND, UNSIZED or UNMEASRD", RecordTag(*.tag))]
    UnknownTag {
        /// The raw tag.
        tag: u64,
    },
    /// SSAFRAMESIZE is 0.
    #[error("ECREATE SSAFRAMESIZE is 0; expected at least 1 page")]
    ZeroSsaFrameSize,
    /// SIZE is not a power of two ≥ 0x2000.
    #[error("ECREATE SIZE {size:#x} is not a power of two of at least 0x2000")]
    BadSize {
        /// The SIZE field.
        size: u64,
    },
    /// A padding byte is not zero.
    #[error("{record} header byte {byte} is {value:#04x}; bytes {first_padding}..64 are padding and must be zero")]
    NonZeroPadding {
        /// Record name.
        record: &'static str,
        /// Index of the first non-zero padding byte within the 64-byte header.
        byte: usize,
        /// Its value.
        value: u8,
        /// Where the padding starts.
        first_padding: usize,
    },
    /// EADD offset not 4 KiB-aligned.
    #[error("EADD offset {offset:#x} is not 4 KiB-aligned")]
    EaddMisaligned {
        /// The offset.
        offset: u64,
    },
    /// EADD offset not above the previous one.
    #[error("EADD offset {offset:#x} is not above the previous EADD offset {previous:#x}; pages must be added in strictly increasing order")]
    EaddNotIncreasing {
        /// The offset.
        offset: u64,
        /// The previous EADD offset.
        previous: u64,
    },
    /// EADD offset at or beyond SIZE.
    #[error("EADD offset {offset:#x} is outside the enclave (SIZE {size:#x})")]
    EaddBeyondSize {
        /// The offset.
        offset: u64,
        /// Enclave SIZE from ECREATE.
        size: u64,
    },
    /// EADD SECINFO flags not acceptable.
    #[error("EADD at {offset:#x} has SECINFO flags {flags:#x}: {reason}")]
    EaddFlags {
        /// The page offset.
        offset: u64,
        /// The flags.
        flags: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// EEXTEND/UNMEASRD before any EADD.
    #[error("{record} at {offset:#x} comes before any EADD; it must follow the EADD of its page")]
    ExtendWithoutEadd {
        /// Record name.
        record: &'static str,
        /// The chunk offset.
        offset: u64,
    },
    /// EEXTEND/UNMEASRD offset not 256-aligned.
    #[error("{record} offset {offset:#x} is not 256-byte aligned")]
    ExtendMisaligned {
        /// Record name.
        record: &'static str,
        /// The chunk offset.
        offset: u64,
    },
    /// EEXTEND/UNMEASRD outside the page of the preceding EADD.
    #[error("{record} offset {offset:#x} is outside the page {page:#x}..{end:#x} added by the preceding EADD", end = page.saturating_add(4096))]
    ExtendOutsidePage {
        /// Record name.
        record: &'static str,
        /// The chunk offset.
        offset: u64,
        /// The current page offset.
        page: u64,
    },
    /// The same chunk measured (or loaded) twice.
    #[error("{record} offset {offset:#x}: this 256-byte chunk was already extended or loaded")]
    ExtendRepeated {
        /// Record name.
        record: &'static str,
        /// The chunk offset.
        offset: u64,
    },
}

/// An error reading, writing, validating or measuring an SGXS stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SgxsError {
    /// A record breaks a rule of canonical SGXS.
    #[error("invalid SGXS: record {index} at byte offset {offset:#x}: {violation}")]
    Invalid {
        /// 0-based index of the offending record.
        index: u64,
        /// Byte offset of its header in the stream.
        offset: u64,
        /// The rule it breaks.
        violation: Violation,
    },
    /// The stream ends in the middle of a record.
    #[error("truncated SGXS: record {index} at byte offset {offset:#x} needs {needed} bytes of {part} but the stream ends after {available}")]
    Truncated {
        /// 0-based index of the incomplete record.
        index: u64,
        /// Byte offset of its header (or of its first data byte).
        offset: u64,
        /// `"header"` or `"EEXTEND data"` / `"UNMEASRD data"`.
        part: &'static str,
        /// Bytes the part needs.
        needed: u64,
        /// Bytes actually present.
        available: u64,
    },
    /// The stream is empty.
    #[error("empty SGXS stream: expected an ECREATE record first")]
    Empty,
    /// The stream starts with UNSIZED, so its size (and MRENCLAVE) is not final.
    #[error("the SGXS stream starts with an UNSIZED record (SSAFRAMESIZE {ssa_frame_size}, size to be written at {size_offset:#x}): it cannot be measured until the final enclave size is patched in as an ECREATE record")]
    Unsized {
        /// SSA frame size from the UNSIZED record.
        ssa_frame_size: u32,
        /// Memory offset of the pending size.
        size_offset: u64,
    },
    /// Reading or writing failed.
    #[error("I/O error while {action} the SGXS stream: {source}")]
    Io {
        /// `"reading"` or `"writing"`.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl SgxsError {
    /// The violated rule, if this is a validation error.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            SgxsError::Invalid { violation, .. } => Some(violation),
            _ => None,
        }
    }

    pub(crate) fn read(source: io::Error) -> Self {
        SgxsError::Io {
            action: "reading",
            source,
        }
    }

    pub(crate) fn write(source: io::Error) -> Self {
        SgxsError::Io {
            action: "writing",
            source,
        }
    }
}

impl From<SgxsError> for io::Error {
    fn from(e: SgxsError) -> Self {
        match e {
            SgxsError::Io { source, .. } => source,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
