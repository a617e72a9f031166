//! A bounds-checked cursor over untrusted quote bytes: every read names the field it is reading,
//! so a short buffer turns into a [`QuoteError::Truncated`] that says what was missing and where.

use super::QuoteError;

/// Reads fields one after another from a byte slice; never panics.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    base: usize,
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, a window of the quote that starts at absolute offset `base`: reads
    /// cannot leave the window, errors report absolute offsets.
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Self { buf, base, pos: 0 }
    }

    /// The absolute offset of the next byte.
    pub(crate) fn pos(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// True when the whole window has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Takes `len` bytes for `field`.
    pub(crate) fn take(&mut self, field: &'static str, len: usize) -> Result<&'a [u8], QuoteError> {
        let available = self.buf.len().saturating_sub(self.pos);
        let truncated = QuoteError::Truncated {
            field,
            offset: self.pos(),
            needed: len,
            available,
        };
        let end = self.pos.checked_add(len).ok_or(truncated.clone())?;
        let bytes = self.buf.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    /// Takes a fixed-size array for `field`.
    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], QuoteError> {
        let bytes = self.take(field, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Takes a little-endian u16 for `field`.
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, QuoteError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// Takes a little-endian u32 for `field`.
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, QuoteError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }
}
