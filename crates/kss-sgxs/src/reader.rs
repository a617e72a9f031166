//! [`SgxsReader`]: a validating record-by-record parser for any [`Read`].

use crate::error::SgxsError;
use crate::record::{Record, DATA_SIZE, HEADER_SIZE};
use crate::validate::{Kind, Validator};
use std::io::{self, BufReader, Read};

/// Reads up to `buf.len()` bytes, stopping early only at end of stream. Returns the count.
pub(crate) fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, SgxsError> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SgxsError::read(e)),
        }
    }
    Ok(filled)
}

/// Parses an SGXS stream into [`Record`]s, validating each one (see [`crate::Violation`]).
///
/// Iteration yields `Ok(record)` for every valid record, then either ends (clean end of stream
/// at a record boundary) or yields one `Err` naming the record index and byte offset of the
/// first problem, after which it ends. An empty stream yields [`SgxsError::Empty`].
///
/// To compute MRENCLAVE use [`crate::measure_stream`], which is much faster.
pub struct SgxsReader<R: Read> {
    input: BufReader<R>,
    validator: Validator,
    offset: u64,
    done: bool,
}

impl<R: Read> SgxsReader<R> {
    /// Wraps `input` (buffered internally).
    pub fn new(input: R) -> Self {
        Self {
            input: BufReader::with_capacity(256 * 1024, input),
            validator: Validator::default(),
            offset: 0,
            done: false,
        }
    }

    /// Byte offset of the next record.
    pub fn byte_offset(&self) -> u64 {
        self.offset
    }

    /// Number of records read and accepted so far.
    pub fn records_read(&self) -> u64 {
        self.validator.records
    }

    fn next_record(&mut self) -> Result<Option<Record>, SgxsError> {
        let index = self.validator.records;
        let mut header = [0u8; HEADER_SIZE];
        let got = read_full(&mut self.input, &mut header)?;
        if got == 0 {
            return if index == 0 {
                Err(SgxsError::Empty)
            } else {
                Ok(None)
            };
        }
        if got < HEADER_SIZE {
            return Err(SgxsError::Truncated {
                index,
                offset: self.offset,
                part: "header",
                needed: HEADER_SIZE as u64,
                available: got as u64,
            });
        }
        let kind = self.validator.check(&header, self.offset)?;
        self.offset += HEADER_SIZE as u64;
        let record = match kind {
            Kind::Ecreate {
                ssa_frame_size,
                size,
            } => Record::Ecreate {
                ssa_frame_size,
                size,
            },
            Kind::Unsized {
                ssa_frame_size,
                size_offset,
            } => Record::Unsized {
                ssa_frame_size,
                size_offset,
            },
            Kind::Eadd { offset, flags } => Record::Eadd { offset, flags },
            Kind::Eextend { offset } => Record::Eextend {
                offset,
                data: self.data(index, "EEXTEND data")?,
            },
            Kind::Unmeasured { offset } => Record::Unmeasured {
                offset,
                data: self.data(index, "UNMEASRD data")?,
            },
        };
        Ok(Some(record))
    }

    fn data(&mut self, index: u64, part: &'static str) -> Result<Box<[u8; DATA_SIZE]>, SgxsError> {
        let mut data = Box::new([0u8; DATA_SIZE]);
        let got = read_full(&mut self.input, &mut data[..])?;
        if got < DATA_SIZE {
            return Err(SgxsError::Truncated {
                index,
                offset: self.offset,
                part,
                needed: DATA_SIZE as u64,
                available: got as u64,
            });
        }
        self.offset += DATA_SIZE as u64;
        Ok(data)
    }
}

impl<R: Read> Iterator for SgxsReader<R> {
    type Item = Result<Record, SgxsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
