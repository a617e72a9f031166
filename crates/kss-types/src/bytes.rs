//! Fixed-offset little-endian field access, shared by the kss crates. Callers check the buffer
//! length first: every function panics if `off..off + size` is out of range. The layout tests
//! exercise every offset used here.

/// The `N` bytes at `off`.
pub fn arr<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[off..off + N]);
    a
}

/// The little-endian `u16` at `off`.
pub fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(arr(b, off))
}

/// The little-endian `u32` at `off`.
pub fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(arr(b, off))
}

/// The little-endian `u64` at `off`.
pub fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(arr(b, off))
}

/// Copies `src` to `b` at `off`.
pub fn put(b: &mut [u8], off: usize, src: &[u8]) {
    b[off..off + src.len()].copy_from_slice(src);
}
