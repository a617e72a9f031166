//! Record tags, the record headers (declared once with `kss_types::layout!`) and the decoded
//! [`Record`] type.

use kss_types::SecinfoFlags;

/// Size of every record header (one SHA-256 block).
pub const HEADER_SIZE: usize = 64;
/// Size of the data that follows an EEXTEND or UNMEASRD header.
pub const DATA_SIZE: usize = 256;

/// Record tags: the first 8 bytes of a header, as a little-endian u64.
pub mod tag {
    /// `"ECREATE\0"`.
    pub const ECREATE: u64 = 0x0045_5441_4552_4345;
    /// `"EADD\0\0\0\0"`.
    pub const EADD: u64 = 0x0000_0000_4444_4145;
    /// `"EEXTEND\0"`.
    pub const EEXTEND: u64 = 0x0044_4E45_5458_4545;
    /// `"UNSIZED\0"` (Fortanix extension): like ECREATE, but the size is not known yet.
    pub const UNSIZED: u64 = 0x0044_455A_4953_4E55;
    /// `"UNMEASRD"` (Fortanix extension): like EEXTEND, but the data is not measured.
    pub const UNMEASRD: u64 = 0x4452_5341_454D_4E55;
}

/// The name of a record tag, or `None` if the tag is unknown.
pub fn tag_name(t: u64) -> Option<&'static str> {
    Some(match t {
        tag::ECREATE => "ECREATE",
        tag::EADD => "EADD",
        tag::EEXTEND => "EEXTEND",
        tag::UNSIZED => "UNSIZED",
        tag::UNMEASRD => "UNMEASRD",
        _ => return None,
    })
}

/// A record tag as messages show it: the known name, or the tag in hex with its printable
/// ASCII (`unknown tag 0x... ("...")`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordTag(pub u64);

impl std::fmt::Display for RecordTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match tag_name(self.0) {
            Some(n) => f.write_str(n),
            None => {
                let ascii: String = self
                    .0
                    .to_le_bytes()
                    .iter()
                    .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
                    .collect();
                write!(f, "unknown tag {:#018x} (\"{ascii}\")", self.0)
            }
        }
    }
}

/// One decoded SGXS record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// ECREATE: starts the enclave.
    Ecreate {
        /// SSA frame size in pages.
        ssa_frame_size: u32,
        /// Enclave size in bytes (a power of two ≥ 0x2000).
        size: u64,
    },
    /// UNSIZED: like ECREATE, but the enclave size is still to be patched in.
    Unsized {
        /// SSA frame size in pages.
        ssa_frame_size: u32,
        /// Memory offset where the final size will be written (as stored in the SIZE field).
        size_offset: u64,
    },
    /// EADD: adds a page.
    Eadd {
        /// Page offset from the enclave base.
        offset: u64,
        /// SECINFO flags of the page.
        flags: SecinfoFlags,
    },
    /// EEXTEND: measures 256 bytes of the current page.
    Eextend {
        /// Offset of the 256-byte chunk from the enclave base.
        offset: u64,
        /// The measured bytes.
        data: Box<[u8; DATA_SIZE]>,
    },
    /// UNMEASRD: 256 bytes of the current page that are loaded but not measured.
    Unmeasured {
        /// Offset of the 256-byte chunk from the enclave base.
        offset: u64,
        /// The loaded bytes.
        data: Box<[u8; DATA_SIZE]>,
    },
}

kss_types::layout! {
    /// The ECREATE and UNSIZED record header. ECREATE's is also the 64-byte block ECREATE adds
    /// to MRENCLAVE.
    pub struct SizingHeader("SGXS ECREATE header", 64, mod sizing) {
        /// [`tag::ECREATE`] or [`tag::UNSIZED`].
        pub tag: u64 => TAG,
        /// SSAFRAMESIZE in pages.
        pub ssa_frame_size: u32 => SSA_FRAME_SIZE,
        /// SIZE (ECREATE), or where the size will be patched in (UNSIZED).
        pub size: u64 => ENCLAVE_SIZE,
        /// Zero.
        pub padding: [u8; 44] => PADDING,
    }
}

kss_types::layout! {
    /// The EADD record header, also the block EADD adds to MRENCLAVE: the page offset and the
    /// first 48 bytes of SECINFO (its flags, then reserved bytes).
    pub struct EaddHeader("SGXS EADD header", 64, mod eadd) {
        /// [`tag::EADD`].
        pub tag: u64 => TAG,
        /// Page offset from the enclave base.
        pub offset: u64 => OFFSET,
        /// SECINFO.FLAGS.
        pub flags: u64 => FLAGS,
        /// SECINFO bytes 8..48: zero in an SGXS stream.
        pub secinfo_reserved: [u8; 40] => SECINFO_RESERVED,
    }
}

kss_types::layout! {
    /// The EEXTEND and UNMEASRD record header; EEXTEND's is also the block EEXTEND adds to
    /// MRENCLAVE before the 256 measured bytes.
    pub struct ExtendHeader("SGXS EEXTEND header", 64, mod extend) {
        /// [`tag::EEXTEND`] or [`tag::UNMEASRD`].
        pub tag: u64 => TAG,
        /// Offset of the 256-byte chunk from the enclave base.
        pub offset: u64 => OFFSET,
        /// Zero.
        pub padding: [u8; 48] => PADDING,
    }
}

const _: () = assert!(
    SizingHeader::SIZE == HEADER_SIZE
        && EaddHeader::SIZE == HEADER_SIZE
        && ExtendHeader::SIZE == HEADER_SIZE
);

pub(crate) fn u32_at(h: &[u8; HEADER_SIZE], at: usize) -> u32 {
    kss_types::bytes::u32_at(h, at)
}

pub(crate) fn u64_at(h: &[u8; HEADER_SIZE], at: usize) -> u64 {
    kss_types::bytes::u64_at(h, at)
}

/// Encodes an ECREATE (or UNSIZED) header.
pub(crate) fn sizing_header(t: u64, ssa_frame_size: u32, size: u64) -> [u8; HEADER_SIZE] {
    SizingHeader {
        tag: t,
        ssa_frame_size,
        size,
        padding: [0; 44],
    }
    .to_bytes()
}

/// Encodes an EADD header.
pub(crate) fn eadd_header(offset: u64, flags: SecinfoFlags) -> [u8; HEADER_SIZE] {
    EaddHeader {
        tag: tag::EADD,
        offset,
        flags: flags.0,
        secinfo_reserved: [0; 40],
    }
    .to_bytes()
}

/// The 64-byte block ECREATE adds to MRENCLAVE: tag, SSAFRAMESIZE, SIZE, zeros. It is also the
/// SGXS ECREATE header, which is why SHA-256 of a measured-only stream is MRENCLAVE.
pub fn ecreate_block(ssa_frame_size: u32, size: u64) -> [u8; HEADER_SIZE] {
    sizing_header(tag::ECREATE, ssa_frame_size, size)
}

/// The 64-byte block EADD adds to MRENCLAVE: tag, page offset, the first 48 bytes of SECINFO
/// (the SGXS EADD header when the SECINFO has only flags).
pub fn eadd_block(offset: u64, secinfo_first_48: &[u8; 48]) -> [u8; HEADER_SIZE] {
    let mut h = eadd_header(offset, SecinfoFlags(0));
    h[eadd::FLAGS..].copy_from_slice(secinfo_first_48);
    h
}

/// The 64-byte block EEXTEND adds to MRENCLAVE before the 256 measured bytes (the SGXS EEXTEND
/// header).
pub fn eextend_block(offset: u64) -> [u8; HEADER_SIZE] {
    extend_header(tag::EEXTEND, offset)
}

/// Encodes an EEXTEND (or UNMEASRD) header.
pub(crate) fn extend_header(t: u64, offset: u64) -> [u8; HEADER_SIZE] {
    ExtendHeader {
        tag: t,
        offset,
        padding: [0; 48],
    }
    .to_bytes()
}
