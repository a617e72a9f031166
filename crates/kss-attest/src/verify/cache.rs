//! A thread-safe cache of collateral that already passed its signature and chain checks,
//! keyed by the exact bytes it was computed from.
//!
//! Keys are the content itself (a kind tag and length-prefixed parts), compared byte for byte
//! on lookup, so a hit means "these very bytes were checked before" without relying on a hash
//! being collision-free. The map's hasher (foldhash, randomly seeded per process) only picks
//! buckets. Only time-independent results are cached (parsing, chain building, signatures).
//! Validity windows are re-checked on every verification from the cached objects, and an entry
//! is dropped once the verification time passes the end of its validity (`valid_until`).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Most entries kept; past this, expired entries are purged, then everything if still full.
const MAX_ENTRIES: usize = 4096;

struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    valid_until: u64,
}

/// A cache key: a kind tag and length-prefixed parts, concatenated.
pub type Key = Vec<u8>;

/// Content-keyed cache.
pub struct Cache {
    map: RwLock<HashMap<Key, Entry, foldhash::fast::RandomState>>,
}

impl Default for Cache {
    fn default() -> Self {
        // One verification stores about 15 entries; starting with room for them avoids
        // rehashing (keys are whole certificates and JSON bodies) while the first one runs.
        Self {
            map: RwLock::new(HashMap::with_capacity_and_hasher(
                32,
                foldhash::fast::RandomState::default(),
            )),
        }
    }
}

/// The cache key of `parts` under a `kind` tag (parts are length-prefixed, so different
/// splits of the same bytes are different keys).
pub fn key(kind: &str, parts: &[&[u8]]) -> Key {
    let len = kind.len() + 1 + parts.iter().map(|p| p.len() + 8).sum::<usize>();
    let mut k = Vec::with_capacity(len);
    k.extend_from_slice(kind.as_bytes());
    k.push(0);
    for p in parts {
        k.extend_from_slice(&(p.len() as u64).to_le_bytes());
        k.extend_from_slice(p);
    }
    k
}

impl Cache {
    /// Returns the cached value for `key` if present, of type `T`, and still valid at `at`.
    pub fn get<T: Send + Sync + 'static>(&self, key: &[u8], at: u64) -> Option<Arc<T>> {
        let map = self.map.read().ok()?;
        let e = map.get(key)?;
        if at > e.valid_until {
            return None;
        }
        e.value.clone().downcast::<T>().ok()
    }

    /// Stores a value that stays usable until `valid_until` (Unix seconds).
    pub fn put<T: Send + Sync + 'static>(
        &self,
        key: Key,
        value: Arc<T>,
        valid_until: u64,
        at: u64,
    ) {
        if let Ok(mut map) = self.map.write() {
            if map.len() >= MAX_ENTRIES {
                map.retain(|_, e| e.valid_until >= at);
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
            }
            map.insert(key, Entry { value, valid_until });
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Drops every entry.
    pub fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_kinds_and_part_boundaries() {
        assert_ne!(key("a", &[b"bc"]), key("ab", &[b"c"]));
        assert_ne!(key("k", &[b"ab", b"c"]), key("k", &[b"a", b"bc"]));
        assert_eq!(key("k", &[b"ab", b"c"]), key("k", &[b"ab", b"c"]));
    }

    #[test]
    fn hits_need_the_same_bytes_type_and_time() {
        let c = Cache::default();
        c.put(key("k", &[b"content"]), Arc::new(7u32), 100, 0);
        assert_eq!(
            c.get::<u32>(&key("k", &[b"content"]), 100).as_deref(),
            Some(&7)
        );
        assert!(c.get::<u32>(&key("k", &[b"contend"]), 50).is_none());
        assert!(c.get::<u64>(&key("k", &[b"content"]), 50).is_none());
        assert!(c.get::<u32>(&key("k", &[b"content"]), 101).is_none());
    }
}
