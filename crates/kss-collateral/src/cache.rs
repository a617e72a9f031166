//! The on-disk cache: one JSON file per piece (see [`Piece::file_name`]) under one directory.
//!
//! An entry holds the piece as served (signed JSON bodies byte-exact; CRLs as hex of DER), its
//! issuer chain, its issue date / thisUpdate and nextUpdate, where it came from, and the
//! SHA-256 of the trust root key it was checked against. Entries are written only after the
//! piece passed its checks, through a temporary file in the same directory, `fsync` and
//! `rename`, so a reader in another process sees the old entry or the new one, never a torn
//! file. A file that cannot be read as an entry is treated as absent (and replaced by the next
//! fetch).

use crate::error::FetchError;
use crate::piece::Piece;
use crate::validate::Checked;
use kss_attest::dcap_time::{format_rfc3339, parse_rfc3339};
use kss_attest::x509util::P256Key;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The `format` of the entry files this code writes.
pub const FORMAT: u32 = 1;

/// Prefix of temporary files (removed by [`DiskCache::clear`]).
const TMP_PREFIX: &str = ".kss-tmp-";

/// A cached piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The piece, as checked.
    pub checked: Checked,
    /// The URL it was fetched from.
    pub source: String,
    /// When it was fetched, Unix seconds.
    pub fetched_at: u64,
    /// SHA-256 of the trust root key it was checked against.
    pub root: [u8; 32],
}

impl Entry {
    /// True when the piece is valid at `at` (issue date / thisUpdate ≤ `at` ≤ nextUpdate) and
    /// was checked against one of `roots`.
    pub fn usable(&self, at: u64, roots: &[[u8; 32]]) -> bool {
        self.checked.issued <= at && at <= self.checked.next_update && roots.contains(&self.root)
    }
}

/// SHA-256 of a trust root key, as kept in entries.
pub fn root_id(key: &P256Key) -> [u8; 32] {
    Sha256::digest(key).into()
}

#[derive(Serialize, Deserialize)]
struct EntryFile {
    format: u32,
    piece: String,
    selector: String,
    issued: String,
    next_update: String,
    source: String,
    fetched_at: String,
    trust_root_sha256: String,
    issuer_chain: Option<String>,
    /// TCB info / QE identity: the response text. CRLs: hex of the DER.
    body: String,
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// A cache in `dir` (created when the first entry is written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, piece: &Piece) -> PathBuf {
        self.dir.join(piece.file_name())
    }

    /// The entry of `piece`, if there is a readable one.
    pub fn read(&self, piece: &Piece) -> Result<Option<Entry>, FetchError> {
        let path = self.path(piece);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(decode(piece, &bytes).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(FetchError::Cache { path, source }),
        }
    }

    /// Writes `entry` atomically, replacing any entry of the same piece.
    pub fn write(&self, entry: &Entry) -> Result<(), FetchError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FetchError::Cache { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.path(&entry.checked.piece);
        let mut tmp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&self.dir)
            .map_err(io(&self.dir))?;
        tmp.write_all(&encode(entry)).map_err(io(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io(tmp.path()))?;
        tmp.persist(&path).map_err(|e| FetchError::Cache {
            path: path.clone(),
            source: e.error,
        })?;
        // Make the rename durable; a failure here loses nothing already visible.
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Every entry file of the directory, sorted by name, read (or why not).
    pub fn list(&self) -> Result<Vec<(PathBuf, Result<Entry, String>)>, FetchError> {
        let mut out = Vec::new();
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(source) => {
                return Err(FetchError::Cache {
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        for de in rd.flatten() {
            let name = de.file_name();
            let Some(piece) = name.to_str().and_then(Piece::from_file_name) else {
                continue;
            };
            let path = de.path();
            let entry = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| decode(&piece, &b));
            out.push((path, entry));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Removes every entry file (and temporary files left by interrupted writes). Returns the
    /// number of entries removed.
    pub fn clear(&self) -> Result<usize, FetchError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(source) => {
                return Err(FetchError::Cache {
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        let mut n = 0;
        for de in rd.flatten() {
            let name = de.file_name();
            let Some(name) = name.to_str() else { continue };
            let ours = Piece::from_file_name(name).is_some();
            if !ours && !name.starts_with(TMP_PREFIX) {
                continue;
            }
            match std::fs::remove_file(de.path()) {
                Ok(()) => n += usize::from(ours),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(FetchError::Cache {
                        path: de.path(),
                        source,
                    })
                }
            }
        }
        Ok(n)
    }
}

fn is_crl(piece: &Piece) -> bool {
    matches!(piece, Piece::PckCrl { .. } | Piece::RootCaCrl)
}

fn encode(entry: &Entry) -> Vec<u8> {
    let c = &entry.checked;
    let body = if is_crl(&c.piece) {
        hex::encode(&c.body)
    } else {
        String::from_utf8_lossy(&c.body).into_owned()
    };
    let file = EntryFile {
        format: FORMAT,
        piece: c.piece.kind().into(),
        selector: c.piece.selector(),
        issued: format_rfc3339(c.issued),
        next_update: format_rfc3339(c.next_update),
        source: entry.source.clone(),
        fetched_at: format_rfc3339(entry.fetched_at),
        trust_root_sha256: hex::encode(entry.root),
        issuer_chain: c.issuer_chain.clone(),
        body,
    };
    let mut out = serde_json::to_vec_pretty(&file).unwrap_or_default();
    out.push(b'\n');
    out
}

fn decode(piece: &Piece, bytes: &[u8]) -> Result<Entry, String> {
    let f: EntryFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if f.format != FORMAT {
        return Err(format!("format {} (this kss reads {FORMAT})", f.format));
    }
    if f.piece != piece.kind() || f.selector != piece.selector() {
        return Err(format!(
            "holds {} {}, not {} {}",
            f.piece,
            f.selector,
            piece.kind(),
            piece.selector()
        ));
    }
    let time = |t: &str, what: &str| parse_rfc3339(t, what).map_err(|e| e.to_string());
    let body = if is_crl(piece) {
        hex::decode(&f.body).map_err(|e| format!("body: {e}"))?
    } else {
        f.body.into_bytes()
    };
    let root: [u8; 32] = hex::decode(&f.trust_root_sha256)
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or("trust_root_sha256: not 32 bytes of hex")?;
    Ok(Entry {
        checked: Checked {
            piece: *piece,
            body,
            issuer_chain: f.issuer_chain,
            issued: time(&f.issued, "issued")?,
            next_update: time(&f.next_update, "next_update")?,
        },
        source: f.source,
        fetched_at: time(&f.fetched_at, "fetched_at")?,
        root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(piece: Piece, body: &[u8]) -> Entry {
        Entry {
            checked: Checked {
                piece,
                body: body.to_vec(),
                issuer_chain: Some("-----BEGIN CERTIFICATE-----\n...".into()),
                issued: 1_750_000_000,
                next_update: 1_752_000_000,
            },
            source: "http://127.0.0.1:1/x".into(),
            fetched_at: 1_751_000_000,
            root: [7; 32],
        }
    }

    #[test]
    fn write_read_list_clear() {
        let d = tempfile::tempdir().unwrap();
        let c = DiskCache::new(d.path().join("cache"));
        let tcb = Piece::TcbInfo { fmspc: [1; 6] };
        assert_eq!(c.read(&tcb).unwrap(), None);
        assert!(c.list().unwrap().is_empty());
        // Exact bytes survive, whitespace and escapes included.
        let e = entry(tcb, b"{\"tcbInfo\":{\"a\": \"\\u00e9\\n\"},\"signature\":\"00\"}");
        c.write(&e).unwrap();
        assert_eq!(c.read(&tcb).unwrap(), Some(e.clone()));
        let crl = entry(Piece::RootCaCrl, &[0x30, 0x82, 0, 1, 0xff]);
        c.write(&crl).unwrap();
        assert_eq!(c.read(&Piece::RootCaCrl).unwrap(), Some(crl));
        assert!(e.usable(1_751_000_000, &[[7; 32]]));
        assert!(!e.usable(1_752_000_001, &[[7; 32]]));
        assert!(!e.usable(1_749_999_999, &[[7; 32]]));
        assert!(!e.usable(1_751_000_000, &[[8; 32]]));
        // A torn or foreign file reads as absent; the list says why.
        std::fs::write(c.dir().join("qe-identity.json"), b"{\"format\":1,").unwrap();
        assert_eq!(c.read(&Piece::QeIdentity).unwrap(), None);
        std::fs::write(c.dir().join("unrelated.txt"), b"keep me").unwrap();
        let l = c.list().unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l.iter().filter(|(_, e)| e.is_err()).count(), 1);
        assert_eq!(c.clear().unwrap(), 3);
        assert!(c.list().unwrap().is_empty());
        assert!(c.dir().join("unrelated.txt").exists());
    }
}
