//! The on-disk cache: one JSON file per piece (see [`Piece::file_name`]) under one directory.
//!
//! An entry file is one line of JSON (the header: the piece, its issue date / thisUpdate and
//! nextUpdate, where it came from, the SHA-256 of the trust roots it was checked against, the
//! span and signature of the signed value, and the lengths of what follows), then the PEM issuer
//! chain and the body exactly as served (CRLs as DER). Nothing is re-encoded, so reading an
//! entry costs a read and a slice; a file whose lengths do not add up is not an entry. Entries are written only after the
//! piece passed its checks, through a temporary file in the same directory, `fsync` and
//! `rename`, so a reader in another process sees the old entry or the new one, never a torn
//! file. A file that cannot be read as an entry is treated as absent (and replaced by the next
//! fetch).

use crate::error::FetchError;
use crate::need::Need;
use crate::piece::{ca_name, Piece};
use crate::validate::Checked;
use kss_attest::collateral::piece_check::Malformed;
use kss_attest::collateral::SignedJson;
use kss_attest::{format_rfc3339, parse_rfc3339, P256Key, TimeError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The `format` of the entry files this code writes.
pub const FORMAT: u32 = 2;

/// Prefix of temporary files (removed by [`DiskCache::clear`]).
const TMP_PREFIX: &str = ".kss-tmp-";

/// The largest entry file read ([`kss_io::limits::COLLATERAL`], 8 MiB): an entry holds one
/// piece (a body of at most the client's 4 MiB limit) and its issuer chain. A longer file is
/// not an entry kss wrote; reading it stops at the limit.
pub const MAX_ENTRY_BYTES: u64 = kss_io::limits::COLLATERAL;

/// The largest bundle file read: four entries.
pub const MAX_BUNDLE_BYTES: u64 = 4 * MAX_ENTRY_BYTES;

/// Bundle files are named `need-<FMSPC>-<ca>.bundle`.
const BUNDLE_PREFIX: &str = "need-";
const BUNDLE_SUFFIX: &str = ".bundle";

/// The header line of a bundle file.
#[derive(Serialize, Deserialize)]
struct BundleHeader {
    format: u32,
    /// `<FMSPC>-<ca>`.
    need: String,
    /// The length of each of the four entries that follow, in [`Need::pieces`] order.
    lengths: [usize; 4],
}

/// The `<FMSPC>-<ca>` of a bundle.
fn need_name(need: &Need) -> String {
    format!("{}-{}", hex::encode_upper(need.fmspc), ca_name(need.ca))
}

/// A cached piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The piece, as checked.
    pub checked: Checked,
    /// TCB info / QE identity: the signed value (exact bytes) and its signature.
    pub signed: Option<SignedJson>,
    /// The URL it was fetched from.
    pub source: String,
    /// When it was fetched, Unix seconds.
    pub fetched_at: u64,
    /// SHA-256 of the trust root key it was checked against.
    pub root: [u8; 32],
}

impl Entry {
    /// An entry for a checked piece (splits a signed JSON body into value and signature).
    pub fn new(
        checked: Checked,
        source: String,
        fetched_at: u64,
        root: [u8; 32],
    ) -> Result<Entry, Malformed> {
        let signed = match checked.piece {
            Piece::TcbInfo { .. } | Piece::QeIdentity => Some(checked.signed_json()?),
            Piece::PckCrl { .. } | Piece::RootCaCrl => None,
        };
        Ok(Entry {
            checked,
            signed,
            source,
            fetched_at,
            root,
        })
    }

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

/// The header line of an entry file.
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    piece: String,
    selector: String,
    issued: String,
    next_update: String,
    source: String,
    fetched_at: String,
    trust_roots_sha256: String,
    /// Bytes of PEM issuer chain after the header line (0: none).
    issuer_chain_len: usize,
    /// Bytes of body after the chain.
    body_len: usize,
    /// TCB info / QE identity: `[offset, length]` of the signed value in the body.
    signed_value: Option<[usize; 2]>,
    /// TCB info / QE identity: the signature, hex.
    signature: Option<String>,
}

/// An entry file of [`DiskCache::list`]: its path and its entry, or why it cannot be read.
pub type Listed = (PathBuf, Result<Entry, EntryError>);

/// Why a cache file is not an entry (or bundle) this code can use.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The file could not be read.
    #[error("{0}")]
    Read(#[source] std::io::Error),
    /// No newline ends a header line.
    #[error("no header line")]
    NoHeaderLine,
    /// The header line does not parse.
    #[error("{0}")]
    Header(#[source] serde_json::Error),
    /// Another format.
    #[error("format {0} (this kss reads {FORMAT})")]
    Format(u32),
    /// The entry of another piece.
    #[error("holds {held} {held_selector}, not {kind} {selector}")]
    OtherPiece {
        /// The kind of piece it holds.
        held: String,
        /// The FMSPC or CA of the piece it holds.
        held_selector: String,
        /// The kind asked for.
        kind: &'static str,
        /// The FMSPC or CA asked for.
        selector: String,
    },
    /// The bytes after the header are not the chain and body the header announces.
    #[error("{rest} bytes after the header, expected {chain} + {body} (torn or edited)")]
    Lengths {
        /// Bytes after the header line.
        rest: usize,
        /// The announced issuer chain length.
        chain: usize,
        /// The announced body length.
        body: usize,
    },
    /// The issuer chain is not UTF-8.
    #[error("issuer chain: not UTF-8")]
    ChainNotUtf8,
    /// The span of the signed value lies outside the body.
    #[error("signed_value: outside the body")]
    SpanOutside,
    /// The signature is not hex.
    #[error("signature: {0}")]
    Signature(#[source] hex::FromHexError),
    /// Only one of the signed value's span and the signature.
    #[error("signed_value and signature go together")]
    SignedHalf,
    /// A signed piece without its signed value, or a CRL with one.
    #[error("signed_value missing or out of place")]
    SignedMisplaced,
    /// A date that does not parse.
    #[error("{0}")]
    Time(#[source] TimeError),
    /// The trust roots' hash is not 32 bytes of hex.
    #[error("trust_roots_sha256: not 32 bytes of hex")]
    RootsId,
    /// The bundle of another need, or of another format.
    #[error("bundle of {need} format {format}")]
    OtherBundle {
        /// The need it holds.
        need: String,
        /// Its format.
        format: u32,
    },
    /// The lengths of a bundle's entries do not add up to the file.
    #[error("the lengths do not add up (torn or edited)")]
    BundleLengths,
    /// A bundle without four entries.
    #[error("not four entries")]
    NotFour,
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

    /// The entry of `piece`: `None` when there is none, or the file is not a well-formed entry
    /// of this piece (torn, edited, another format; the next fetch replaces it). A file that
    /// cannot be read, or is longer than [`MAX_ENTRY_BYTES`] (read no further than that), is
    /// an error naming the file (and the limit).
    pub fn read(&self, piece: &Piece) -> Result<Option<Entry>, FetchError> {
        let path = self.path(piece);
        match kss_io::read_bounded(&path, MAX_ENTRY_BYTES) {
            Ok(bytes) => Ok(decode(piece, &bytes).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(FetchError::Cache { path, source }),
        }
    }

    /// Writes `entry` atomically, replacing any entry of the same piece.
    pub fn write(&self, entry: &Entry) -> Result<(), FetchError> {
        self.write_file(&self.path(&entry.checked.piece), &encode(entry))
    }

    fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<(), FetchError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| FetchError::Cache {
            path: self.dir.clone(),
            source,
        })?;
        kss_io::write_atomic_prefixed(path, bytes, 0o644, TMP_PREFIX).map_err(|e| {
            FetchError::Cache {
                path: e.path,
                source: e.source,
            }
        })
    }

    fn bundle_path(&self, need: &Need) -> PathBuf {
        self.dir
            .join(format!("{BUNDLE_PREFIX}{}{BUNDLE_SUFFIX}", need_name(need)))
    }

    /// The four entries of `need` ([`Need::pieces`] order) from its bundle file, if there is a
    /// well-formed one: the pieces as they were last assembled for this need, kept together
    /// so that a new process reads one file instead of four. A bundle is written only from
    /// entries of the cache (checked pieces) and is a copy of them: the piece files stay the
    /// cache's record, and a bundle whose pieces are not all valid at the verification time
    /// is not used. Errors as [`DiskCache::read`] (limit [`MAX_BUNDLE_BYTES`]).
    pub fn read_bundle(&self, need: &Need) -> Result<Option<[Entry; 4]>, FetchError> {
        let path = self.bundle_path(need);
        match kss_io::read_bounded(&path, MAX_BUNDLE_BYTES) {
            Ok(bytes) => Ok(decode_bundle(need, &bytes).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(FetchError::Cache { path, source }),
        }
    }

    /// Writes the bundle of `need` (its four entries, [`Need::pieces`] order) atomically.
    pub fn write_bundle(&self, need: &Need, entries: [&Entry; 4]) -> Result<(), FetchError> {
        let parts = entries.map(encode);
        let header = BundleHeader {
            format: FORMAT,
            need: need_name(need),
            lengths: [0, 1, 2, 3].map(|i| parts[i].len()),
        };
        let mut out = serde_json::to_vec(&header).unwrap_or_default();
        out.push(b'\n');
        for p in &parts {
            out.extend_from_slice(p);
        }
        self.write_file(&self.bundle_path(need), &out)
    }

    /// Every entry file of the directory, sorted by name, read (or why not).
    pub fn list(&self) -> Result<Vec<Listed>, FetchError> {
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
            let entry = kss_io::read_bounded(&path, MAX_ENTRY_BYTES)
                .map_err(EntryError::Read)
                .and_then(|b| decode(&piece, &b));
            out.push((path, entry));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Removes every entry file (and the bundles, and temporary files left by interrupted
    /// writes). Returns the number of entries removed.
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
            let bundle = name.starts_with(BUNDLE_PREFIX) && name.ends_with(BUNDLE_SUFFIX);
            if !ours && !bundle && !name.starts_with(TMP_PREFIX) {
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

fn encode(entry: &Entry) -> Vec<u8> {
    let c = &entry.checked;
    let chain = c.issuer_chain.as_deref().unwrap_or_default().as_bytes();
    let (signed_value, signature) = match &entry.signed {
        Some(sj) => (span_of(&c.body, &sj.body), Some(hex::encode(&sj.signature))),
        None => (None, None),
    };
    let header = Header {
        format: FORMAT,
        piece: c.piece.kind().into(),
        selector: c.piece.selector(),
        issued: format_rfc3339(c.issued),
        next_update: format_rfc3339(c.next_update),
        source: entry.source.clone(),
        fetched_at: format_rfc3339(entry.fetched_at),
        trust_roots_sha256: hex::encode(entry.root),
        issuer_chain_len: chain.len(),
        body_len: c.body.len(),
        signed_value,
        signature,
    };
    let mut out = serde_json::to_vec(&header).unwrap_or_default();
    out.push(b'\n');
    out.extend_from_slice(chain);
    out.extend_from_slice(&c.body);
    out
}

/// Where `part` (a sub-slice of `whole`, or equal bytes) starts in `whole`, and its length.
fn span_of(whole: &[u8], part: &[u8]) -> Option<[usize; 2]> {
    let off = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    if whole.get(off..off.checked_add(part.len())?) == Some(part) {
        return Some([off, part.len()]);
    }
    whole
        .windows(part.len().max(1))
        .position(|w| w == part)
        .map(|o| [o, part.len()])
}

/// The four entries of a bundle file.
fn decode_bundle(need: &Need, bytes: &[u8]) -> Result<[Entry; 4], EntryError> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(EntryError::NoHeaderLine)?;
    let h: BundleHeader = serde_json::from_slice(&bytes[..nl]).map_err(EntryError::Header)?;
    if h.format != FORMAT || h.need != need_name(need) {
        return Err(EntryError::OtherBundle {
            need: h.need,
            format: h.format,
        });
    }
    let mut rest = &bytes[nl + 1..];
    let total = h.lengths.iter().try_fold(0usize, |a, l| a.checked_add(*l));
    if total != Some(rest.len()) {
        return Err(EntryError::BundleLengths);
    }
    let mut out = Vec::with_capacity(4);
    for (piece, len) in need.pieces().iter().zip(h.lengths) {
        let (part, tail) = rest.split_at(len);
        out.push(decode(piece, part)?);
        rest = tail;
    }
    out.try_into().map_err(|_| EntryError::NotFour)
}

/// An entry from the bytes of its encoding (a piece file, or a part of a bundle file).
fn decode(piece: &Piece, bytes: &[u8]) -> Result<Entry, EntryError> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(EntryError::NoHeaderLine)?;
    let h: Header = serde_json::from_slice(&bytes[..nl]).map_err(EntryError::Header)?;
    if h.format != FORMAT {
        return Err(EntryError::Format(h.format));
    }
    if h.piece != piece.kind() || h.selector != piece.selector() {
        return Err(EntryError::OtherPiece {
            held: h.piece,
            held_selector: h.selector,
            kind: piece.kind(),
            selector: piece.selector(),
        });
    }
    let rest = bytes.len() - (nl + 1);
    if h.issuer_chain_len.checked_add(h.body_len) != Some(rest) {
        return Err(EntryError::Lengths {
            rest,
            chain: h.issuer_chain_len,
            body: h.body_len,
        });
    }
    let body_start = nl + 1 + h.issuer_chain_len;
    let chain = &bytes[nl + 1..body_start];
    let issuer_chain = if chain.is_empty() {
        None
    } else {
        Some(
            std::str::from_utf8(chain)
                .map_err(|_| EntryError::ChainNotUtf8)?
                .to_owned(),
        )
    };
    let body = &bytes[body_start..];
    let signed = match (h.signed_value, &h.signature) {
        (Some([off, len]), Some(sig)) => Some(SignedJson {
            body: off
                .checked_add(len)
                .and_then(|end| body.get(off..end))
                .ok_or(EntryError::SpanOutside)?
                .to_vec(),
            signature: hex::decode(sig).map_err(EntryError::Signature)?,
        }),
        (None, None) => None,
        _ => return Err(EntryError::SignedHalf),
    };
    let is_signed = matches!(piece, Piece::TcbInfo { .. } | Piece::QeIdentity);
    if is_signed != signed.is_some() {
        return Err(EntryError::SignedMisplaced);
    }
    let time = |t: &str, what: &str| parse_rfc3339(t, what).map_err(EntryError::Time);
    let root: [u8; 32] = hex::decode(&h.trust_roots_sha256)
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or(EntryError::RootsId)?;
    let (issued, next_update) = (
        time(&h.issued, "issued")?,
        time(&h.next_update, "next_update")?,
    );
    let fetched_at = time(&h.fetched_at, "fetched_at")?;
    Ok(Entry {
        checked: Checked {
            piece: *piece,
            body: body.to_vec(),
            issuer_chain,
            issued,
            next_update,
        },
        signed,
        source: h.source,
        fetched_at,
        root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(piece: Piece, body: &[u8]) -> Entry {
        Entry::new(
            Checked {
                piece,
                body: body.to_vec(),
                issuer_chain: Some("-----BEGIN CERTIFICATE-----\n...".into()),
                issued: 1_750_000_000,
                next_update: 1_752_000_000,
            },
            "http://127.0.0.1:1/x".into(),
            1_751_000_000,
            [7; 32],
        )
        .unwrap()
    }

    #[test]
    fn write_read_list_clear() {
        let d = tempfile::tempdir().unwrap();
        let c = DiskCache::new(d.path().join("cache"));
        let tcb = Piece::TcbInfo { fmspc: [1; 6] };
        assert_eq!(c.read(&tcb).unwrap(), None);
        assert!(c.list().unwrap().is_empty());
        // Exact bytes survive, whitespace and escapes included.
        let sig = "ab".repeat(64);
        let body = format!(r#"{{"tcbInfo":{{"a": "\u00e9\n"}},"signature":"{sig}"}}"#);
        let e = entry(tcb, body.as_bytes());
        assert_eq!(
            e.signed.as_ref().unwrap().body,
            br#"{"a": "\u00e9\n"}"#.to_vec()
        );
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
        std::fs::write(c.dir().join("qe-identity.json"), b"{\"format\":2,").unwrap();
        assert_eq!(c.read(&Piece::QeIdentity).unwrap(), None);
        // A torn entry (its tail missing) reads as absent.
        let full = std::fs::read(c.dir().join("rootcacrl.json")).unwrap();
        std::fs::write(c.dir().join("rootcacrl.json"), &full[..full.len() - 1]).unwrap();
        assert_eq!(c.read(&Piece::RootCaCrl).unwrap(), None);
        std::fs::write(c.dir().join("rootcacrl.json"), &full).unwrap();
        std::fs::write(c.dir().join("unrelated.txt"), b"keep me").unwrap();
        let l = c.list().unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l.iter().filter(|(_, e)| e.is_err()).count(), 1);
        assert_eq!(c.clear().unwrap(), 3);
        assert!(c.list().unwrap().is_empty());
        assert!(c.dir().join("unrelated.txt").exists());
    }

    #[test]
    fn bundles_hold_a_needs_four_entries() {
        use kss_attest::collateral::PckCa;
        let d = tempfile::tempdir().unwrap();
        let c = DiskCache::new(d.path());
        let need = Need {
            fmspc: [0, 0xA0, 0x67, 0x11, 0, 0],
            ca: PckCa::Processor,
        };
        assert!(c.read_bundle(&need).unwrap().is_none());
        let sig = "cd".repeat(64);
        let [p0, p1, p2, p3] = need.pieces();
        let four = [
            entry(
                p0,
                format!(r#"{{"tcbInfo":{{"x":1}},"signature":"{sig}"}}"#).as_bytes(),
            ),
            entry(
                p1,
                format!(r#"{{"enclaveIdentity":{{"y":2}},"signature":"{sig}"}}"#).as_bytes(),
            ),
            entry(p2, &[0x30, 1, 2]),
            entry(p3, &[0x30, 3, 4, 5]),
        ];
        c.write_bundle(&need, four.each_ref()).unwrap();
        let path = d.path().join("need-00A067110000-processor.bundle");
        assert!(path.exists());
        assert_eq!(c.read_bundle(&need).unwrap(), Some(four.clone()));
        // Another need's bundle is another file; a bundle is not a piece entry.
        let other = Need {
            ca: PckCa::Platform,
            ..need
        };
        assert!(c.read_bundle(&other).unwrap().is_none());
        assert!(c.list().unwrap().is_empty());
        // Torn: absent.
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 1]).unwrap();
        assert!(c.read_bundle(&need).unwrap().is_none());
        // Cleared with the entries (and not counted as one).
        std::fs::write(&path, &full).unwrap();
        c.write(&four[0]).unwrap();
        assert_eq!(c.clear().unwrap(), 1);
        assert!(!path.exists());
    }

    /// The text of why bytes are not an entry (shown by `kss collateral cache list`).
    fn why(piece: Piece, bytes: &[u8]) -> String {
        match decode(&piece, bytes) {
            Ok(e) => panic!("decoded {e:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn undecodable_entries_say_why_in_exact_words() {
        let tcb = Piece::TcbInfo { fmspc: [1; 6] };
        let sig = "ab".repeat(64);
        let body = format!(r#"{{"tcbInfo":{{"a":1}},"signature":"{sig}"}}"#);
        let good = String::from_utf8(encode(&entry(tcb, body.as_bytes()))).unwrap();
        let edit = |from: &str, to: &str| {
            assert!(good.contains(from), "{from}");
            good.replacen(from, to, 1).into_bytes()
        };
        let texts = [
            why(tcb, b"no newline"),
            why(tcb, b"{\"format\":2,\n"),
            why(tcb, &edit("\"format\":2", "\"format\":3")),
            why(Piece::QeIdentity, good.as_bytes()),
            why(tcb, &good.as_bytes()[..good.len() - 1]),
            why(tcb, &edit(&sig, &"zz".repeat(64))),
            why(tcb, &edit("\"issued\":\"", "\"issued\":\"x")),
            why(
                tcb,
                &edit("\"trust_roots_sha256\":\"", "\"trust_roots_sha256\":\"00"),
            ),
        ];
        assert_eq!(
            texts,
            [
                "no header line",
                "EOF while parsing a value at line 1 column 12",
                "format 3 (this kss reads 2)",
                "holds tcb-info 010101010101, not qe-identity -",
                "192 bytes after the header, expected 31 + 162 (torn or edited)",
                "signature: Invalid character 'z' at position 0",
                "issued: \"x2025-06-15T15:06:40Z\" is not a time (expected Unix seconds or RFC 3339 like 2025-07-19T10:01:17Z)",
                "trust_roots_sha256: not 32 bytes of hex",
            ]
        );
        let need = Need {
            fmspc: [1; 6],
            ca: kss_attest::collateral::PckCa::Processor,
        };
        // The parser's error is kept as the cause.
        let e = decode(&tcb, b"{\"format\":2,\n").unwrap_err();
        let cause = std::error::Error::source(&e);
        assert!(cause.is_some_and(|c| c.is::<serde_json::Error>()), "{e:?}");
        let bundle_why = |b: &[u8]| match decode_bundle(&need, b) {
            Ok(e) => panic!("decoded {e:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(bundle_why(b"x"), "no header line");
        assert_eq!(
            bundle_why(b"{}\n"),
            "missing field `format` at line 1 column 2"
        );
        assert_eq!(
            bundle_why(b"{\"format\":2,\"need\":\"x\",\"lengths\":[0,0,0,0]}\n"),
            "bundle of x format 2"
        );
    }
}
