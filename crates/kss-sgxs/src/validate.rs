//! The canonical-stream state machine shared by the writer, the reader and the measurer.

use crate::error::{SgxsError, Violation};
use crate::record::{describe_tag, tag, u32_at, u64_at, HEADER_SIZE};
use crate::{CHUNK_SIZE, MIN_ENCLAVE_SIZE, PAGE_SIZE};
use kss_types::{PageType, SecinfoFlags};

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
    /// Whether the first record has been seen.
    started: bool,
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
    match h[first_padding..].iter().position(|&b| b != 0) {
        None => Ok(()),
        Some(i) => Err(Violation::NonZeroPadding {
            record,
            byte: first_padding + i,
            value: h[first_padding + i],
            first_padding,
        }),
    }
}

fn check_eadd_flags(offset: u64, flags: u64) -> Result<(), Violation> {
    let bad = |reason| {
        Err(Violation::EaddFlags {
            offset,
            flags,
            reason,
        })
    };
    if flags & !SecinfoFlags::DEFINED != 0 {
        return bad("reserved bits are set (defined bits are 0x3f and the page type 0xff00)");
    }
    match SecinfoFlags(flags).page_type() {
        Some(PageType::Reg) => Ok(()),
        Some(PageType::Tcs) if flags & SecinfoFlags::RWX != 0 => {
            bad("a TCS page must have no R/W/X bits (the CPU clears them, so the measurement would not match)")
        }
        Some(PageType::Tcs) => Ok(()),
        _ => bad("the page type (bits 15:8) must be REG (2) or TCS (1)"),
    }
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
        let t = u64_at(h, 0);
        if !self.started {
            return match t {
                tag::ECREATE | tag::UNSIZED => self.sizing(t, h),
                _ => Err(Violation::FirstNotEcreate {
                    found: describe_tag(t),
                }),
            };
        }
        match t {
            tag::ECREATE => Err(Violation::RepeatedEcreate { found: "ECREATE" }),
            tag::UNSIZED => Err(Violation::RepeatedEcreate { found: "UNSIZED" }),
            tag::EADD => self.eadd(h),
            tag::EEXTEND => self
                .extend("EEXTEND", h)
                .map(|offset| Kind::Eextend { offset }),
            tag::UNMEASRD => self
                .extend("UNMEASRD", h)
                .map(|offset| Kind::Unmeasured { offset }),
            other => Err(Violation::UnknownTag {
                tag: other,
                description: describe_tag(other),
            }),
        }
    }

    fn sizing(&mut self, t: u64, h: &[u8; HEADER_SIZE]) -> Result<Kind, Violation> {
        let ssa_frame_size = u32_at(h, 8);
        let size = u64_at(h, 12);
        let name = if t == tag::ECREATE {
            "ECREATE"
        } else {
            "UNSIZED"
        };
        padding(name, h, 20)?;
        if ssa_frame_size == 0 {
            return Err(Violation::ZeroSsaFrameSize);
        }
        if t == tag::UNSIZED {
            self.started = true;
            return Ok(Kind::Unsized {
                ssa_frame_size,
                size_offset: size,
            });
        }
        if !size.is_power_of_two() || size < MIN_ENCLAVE_SIZE {
            return Err(Violation::BadSize { size });
        }
        self.started = true;
        self.size = Some(size);
        Ok(Kind::Ecreate {
            ssa_frame_size,
            size,
        })
    }

    fn eadd(&mut self, h: &[u8; HEADER_SIZE]) -> Result<Kind, Violation> {
        let offset = u64_at(h, 8);
        let flags = u64_at(h, 16);
        padding("EADD", h, 24)?;
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
        check_eadd_flags(offset, flags)?;
        self.page = Some(offset);
        self.chunks = 0;
        self.eadd += 1;
        Ok(Kind::Eadd {
            offset,
            flags: SecinfoFlags(flags),
        })
    }

    fn extend(&mut self, record: &'static str, h: &[u8; HEADER_SIZE]) -> Result<u64, Violation> {
        let offset = u64_at(h, 8);
        padding(record, h, 16)?;
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
        if record == "EEXTEND" {
            self.eextend += 1;
        } else {
            self.unmeasured += 1;
        }
        Ok(offset)
    }
}
