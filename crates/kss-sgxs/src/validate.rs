//! The canonical-stream state machine shared by the writer, the reader and the measurer.

use crate::error::{SgxsError, Violation};
use crate::record::{eadd, extend, sizing, tag, u32_at, u64_at, RecordTag, HEADER_SIZE};
use crate::{CHUNK_SIZE, MIN_ENCLAVE_SIZE, PAGE_SIZE};
use kss_types::SecinfoFlags;

/// What a validated header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// ECREATE with its fields.
    Ecreate { ssa_frame_size: u32, size: u64 },
    /// UNSIZED with its fields.
    Unsized {
        ssa_frame_size: u32,
        size_offset: u64,
    },
    /// EADD.
    Eadd { offset: u64, flags: SecinfoFlags },
    /// EEXTEND: 256 measured bytes follow.
    Eextend { offset: u64 },
    /// UNMEASRD: 256 unmeasured bytes follow.
    Unmeasured { offset: u64 },
}

/// Tracks where we are in the stream and checks each header against the rules on
/// [`Violation`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Validator {
    /// Records accepted so far (= index of the next record).
    pub(crate) records: u64,
    /// SIZE from ECREATE; `None` before the first record or after UNSIZED.
    size: Option<u64>,
    /// Offset of the current EADD page.
    page: Option<u64>,
    /// Chunks of the current page already extended or loaded (bit i = chunk i).
    chunks: u16,
    /// Counts per kind.
    pub(crate) eadd: u64,
    pub(crate) eextend: u64,
    pub(crate) unmeasured: u64,
}

fn padding(
    record: &'static str,
    h: &[u8; HEADER_SIZE],
    first_padding: usize,
) -> Result<(), Violation> {
    const ZEROS: [u8; HEADER_SIZE] = [0; HEADER_SIZE];
    // A slice comparison (memcmp) is much faster than a byte loop on the hot path.
    if h[first_padding..] == ZEROS[first_padding..] {
        return Ok(());
    }
    let byte = first_padding + h[first_padding..].iter().take_while(|&&b| b == 0).count();
    Err(Violation::NonZeroPadding {
        record,
        byte,
        value: h[byte],
        first_padding,
    })
}

impl Validator {
    /// Checks one header; on success the state advances past it.
    pub(crate) fn check(
        &mut self,
        h: &[u8; HEADER_SIZE],
        byte_offset: u64,
    ) -> Result<Kind, SgxsError> {
        match self.check_inner(h) {
            Ok(kind) => {
                self.records += 1;
                Ok(kind)
            }
            Err(violation) => Err(SgxsError::Invalid {
                index: self.records,
                offset: byte_offset,
                violation,
            }),
        }
    }

    fn check_inner(&mut self, h: &[u8; HEADER_SIZE]) -> Result<Kind, Violation> {
        let t = u64_at(h, sizing::TAG);
        if self.records == 0 {
            return match t {
                tag::ECREATE | tag::UNSIZED => self.sizing(t, h),
                _ => Err(Violation::FirstNotEcreate {
                    found: RecordTag(t),
                }),
            };
        }
        match t {
            tag::ECREATE => Err(Violation::RepeatedEcreate { found: "ECREATE" }),
            tag::UNSIZED => Err(Violation::RepeatedEcreate { found: "UNSIZED" }),
            tag::EADD => self.eadd(h),
            tag::EEXTEND => self.extend(true, h).map(|offset| Kind::Eextend { offset }),
            tag::UNMEASRD => self
                .extend(false, h)
                .map(|offset| Kind::Unmeasured { offset }),
            other => Err(Violation::UnknownTag { tag: other }),
        }
    }

    fn sizing(&mut self, t: u64, h: &[u8; HEADER_SIZE]) -> Result<Kind, Violation> {
        let ssa_frame_size = u32_at(h, sizing::SSA_FRAME_SIZE);
        let size = u64_at(h, sizing::ENCLAVE_SIZE);
        let name = if t == tag::ECREATE {
            "ECREATE"
        } else {
            "UNSIZED"
        };
        padding(name, h, sizing::PADDING)?;
        if ssa_frame_size == 0 {
            return Err(Violation::ZeroSsaFrameSize);
        }
        if t == tag::UNSIZED {
            return Ok(Kind::Unsized {
                ssa_frame_size,
                size_offset: size,
            });
        }
        if !size.is_power_of_two() || size < MIN_ENCLAVE_SIZE {
            return Err(Violation::BadSize { size });
        }
        self.size = Some(size);
        Ok(Kind::Ecreate {
            ssa_frame_size,
            size,
        })
    }

    fn eadd(&mut self, h: &[u8; HEADER_SIZE]) -> Result<Kind, Violation> {
        let offset = u64_at(h, eadd::OFFSET);
        let flags = u64_at(h, eadd::FLAGS);
        padding("EADD", h, eadd::SECINFO_RESERVED)?;
        if offset & (PAGE_SIZE - 1) != 0 {
            return Err(Violation::EaddMisaligned { offset });
        }
        if let Some(previous) = self.page {
            if offset <= previous {
                return Err(Violation::EaddNotIncreasing { offset, previous });
            }
        }
        if let Some(size) = self.size {
            if offset >= size {
                return Err(Violation::EaddBeyondSize { offset, size });
            }
        }
        if let Some(problem) = SecinfoFlags(flags).eadd_problem() {
            return Err(Violation::EaddFlags {
                offset,
                flags,
                reason: problem.rule(),
            });
        }
        self.page = Some(offset);
        self.chunks = 0;
        self.eadd += 1;
        Ok(Kind::Eadd {
            offset,
            flags: SecinfoFlags(flags),
        })
    }

    /// Checks an EEXTEND (`measured`) or UNMEASRD header.
    fn extend(&mut self, measured: bool, h: &[u8; HEADER_SIZE]) -> Result<u64, Violation> {
        let record = if measured { "EEXTEND" } else { "UNMEASRD" };
        let offset = u64_at(h, extend::OFFSET);
        padding(record, h, extend::PADDING)?;
        let Some(page) = self.page else {
            return Err(Violation::ExtendWithoutEadd { record, offset });
        };
        if offset & (CHUNK_SIZE - 1) != 0 {
            return Err(Violation::ExtendMisaligned { record, offset });
        }
        if offset < page || offset - page >= PAGE_SIZE {
            return Err(Violation::ExtendOutsidePage {
                record,
                offset,
                page,
            });
        }
        let bit = 1u16 << ((offset - page) / CHUNK_SIZE);
        if self.chunks & bit != 0 {
            return Err(Violation::ExtendRepeated { record, offset });
        }
        self.chunks |= bit;
        if measured {
            self.eextend += 1;
        } else {
            self.unmeasured += 1;
        }
        Ok(offset)
    }
}
