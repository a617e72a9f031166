//! A thread-safe cache of collateral that already passed its signature and chain checks,
//! keyed by the SHA-256 of its bytes.
//!
//! Only time-independent results are cached (parsing, chain building, signatures). Validity
//! windows are re-checked on every verification from the cached objects, and an entry is
//! dropped once the verification time passes the end of its validity (`valid_until`).

use sha2::{Digest, Sha256};
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Most entries kept; past this, expired entries are purged, then everything if still full.
const MAX_ENTRIES: usize = 4096;

struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    valid_until: u64,
}

/// Content-hash keyed cache.
#[derive(Default)]
pub struct Cache {
    map: RwLock<HashMap<[u8; 32], Entry>>,
}

/// A cache key: SHA-256 over a kind tag and length-prefixed parts.
pub type Key = [u8; 32];

/// The cache key of `parts` under a `kind` tag (parts are length-prefixed).
pub fn key(kind: &str, parts: &[&[u8]]) -> Key {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

impl Cache {
    /// Returns the cached value for `key` if present, of type `T`, and still valid at `at`.
    pub fn get<T: Send + Sync + 'static>(&self, key: &[u8; 32], at: u64) -> Option<Arc<T>> {
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
        key: [u8; 32],
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
