//! Sparse EPC model: which pages are added, and the content of those that are not all zero.
//!
//! A 4 GiB heap of zero pages costs one bit per page (128 KiB) and no page buffers.

use std::collections::{BTreeMap, HashMap};

/// One EPC page of content.
pub type Page = [u8; 4096];

/// Added pages of one enclave, by page index (offset / 4096).
#[derive(Debug, Default, Clone)]
pub struct SparseMemory {
    /// Bitmap of added pages: word `i` covers pages `64*i .. 64*i+64`.
    added: BTreeMap<u64, u64>,
    /// Content of pages that are not all zero.
    content: HashMap<u64, Box<Page>>,
    /// Number of added pages.
    pages: u64,
}

impl SparseMemory {
    /// True if page `index` was added.
    pub fn is_added(&self, index: u64) -> bool {
        self.added
            .get(&(index / 64))
            .is_some_and(|w| w & (1u64 << (index % 64)) != 0)
    }

    /// Marks page `index` added with `data` (`None` or all zeros stores nothing).
    pub fn add(&mut self, index: u64, data: Option<&Page>) {
        *self.added.entry(index / 64).or_insert(0) |= 1u64 << (index % 64);
        self.pages += 1;
        if let Some(d) = data {
            if d.iter().any(|b| *b != 0) {
                self.content.insert(index, Box::new(*d));
            }
        }
    }

    /// The 256 bytes at `chunk` (0..16) of page `index`; zeros for pages without stored content.
    pub fn chunk(&self, index: u64, chunk: usize) -> [u8; 256] {
        let mut out = [0u8; 256];
        if let Some(page) = self.content.get(&index) {
            if let Some(src) = page.get(chunk * 256..chunk * 256 + 256) {
                out.copy_from_slice(src);
            }
        }
        out
    }

    /// Number of added pages.
    pub fn page_count(&self) -> u64 {
        self.pages
    }

    /// Number of pages whose content is stored (not all zero).
    pub fn stored_page_count(&self) -> usize {
        self.content.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_pages_store_no_content() {
        let mut m = SparseMemory::default();
        for i in 0..10_000 {
            m.add(i, Some(&[0; 4096]));
        }
        m.add(20_000, None);
        assert_eq!(m.page_count(), 10_001);
        assert_eq!(m.stored_page_count(), 0);
        assert!(m.is_added(9_999) && m.is_added(20_000) && !m.is_added(10_000));
    }

    #[test]
    fn content_is_returned_by_chunk() {
        let mut m = SparseMemory::default();
        let mut p = [0u8; 4096];
        p[256] = 7;
        p[4095] = 9;
        m.add(3, Some(&p));
        assert_eq!(m.chunk(3, 1)[0], 7);
        assert_eq!(m.chunk(3, 15)[255], 9);
        assert_eq!(m.chunk(3, 0), [0; 256]);
        assert_eq!(m.chunk(4, 0), [0; 256]);
    }
}
