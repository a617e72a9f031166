//! Sparse EPC model: which pages are added, and the content of those that are not all zero.
//!
//! A 4 GiB heap of zero pages costs one bit per page (128 KiB) and no page buffers.

use std::collections::{BTreeMap, HashMap};

/// One EPC page of content.
pub type Page = [u8; 4096];

/// Bitmap words kept in a flat vector: the first 2^20 words cover 2^26 pages (256 GiB), grown
/// on demand; pages beyond that (only in absurdly large enclaves) go to a sparse map, so a
/// hostile SGXS with one page at a huge offset cannot make the simulator allocate gigabytes.
const DENSE_WORDS: u64 = 1 << 20;

/// Added pages of one enclave, by page index (offset / 4096).
#[derive(Debug, Default, Clone)]
pub struct SparseMemory {
    /// Bitmap of added pages: word `i` covers pages `64*i .. 64*i+64` (a flat vector is ~20x
    /// faster than a map on the launch path, which EADDs every heap page).
    dense: Vec<u64>,
    /// Bitmap words at or above [`DENSE_WORDS`].
    added: BTreeMap<u64, u64>,
    /// Content of pages that are not all zero.
    content: HashMap<u64, Box<Page>>,
    /// Number of added pages.
    pages: u64,
}

impl SparseMemory {
    /// True if page `index` was added.
    pub fn is_added(&self, index: u64) -> bool {
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if word < DENSE_WORDS {
            self.dense.get(word as usize).is_some_and(|w| w & bit != 0)
        } else {
            self.added.get(&word).is_some_and(|w| w & bit != 0)
        }
    }

    /// Marks page `index` added with `data` (`None` or all zeros stores nothing).
    pub fn add(&mut self, index: u64, data: Option<&Page>) {
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if word < DENSE_WORDS {
            let w = word as usize;
            if w >= self.dense.len() {
                self.dense.resize(w + 1, 0);
            }
            self.dense[w] |= bit;
        } else {
            *self.added.entry(word).or_insert(0) |= bit;
        }
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
        m.add(1 << 40, None);
        assert!(m.is_added(1 << 40) && !m.is_added((1 << 40) + 1));
        assert!(
            m.dense.len() < 1000,
            "a far page does not grow the flat bitmap"
        );
        assert_eq!(m.page_count(), 10_002);
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
