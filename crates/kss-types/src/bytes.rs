//! Fixed-offset little-endian field access. Callers check the buffer length first, so the
//! offsets used here are always in range; the layout tests exercise every one of them.

pub(crate) fn arr<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[off..off + N]);
    a
}

pub(crate) fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(arr(b, off))
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(arr(b, off))
}

pub(crate) fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(arr(b, off))
}

pub(crate) fn put(b: &mut [u8], off: usize, src: &[u8]) {
    b[off..off + src.len()].copy_from_slice(src);
}
