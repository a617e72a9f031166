//! The image digest: a versioned, domain-separated Merkle tree over the files of `image/`.
//!
//! Format `kss-image-v1` (see `docs/config-binding.md`):
//! - Entries are every file, directory and symlink below `image/` (symlinks are not followed),
//!   keyed by their path relative to `image/` with `/` separators, sorted by path bytes.
//! - Every symlink must resolve to a path inside `image/` (its real path, after every symlink on
//!   the way is resolved): then what it reaches is itself an entry of the image and measured.
//!   A symlink that resolves outside `image/` (an absolute target such as `/usr/bin/x` or `/`,
//!   a `..` that climbs out, a chain through such a link) or not at all (dangling) is an error
//!   naming it, so nothing outside the image can be run without a rebuild.
//! - A regular file's content digest is
//!   `SHA-256("kss-image-content-v1\0" || size u64le || SHA-256(chunk_0) || SHA-256(chunk_1) ...)`
//!   over 1 MiB chunks, so one large file hashes on all cores.
//! - Leaf = `SHA-256("kss-image-entry-v1\0" || kind u8 || mode u32le || size u64le ||
//!   path_len u32le || path || digest)`, with kind 1 = file (digest = content digest),
//!   2 = directory (digest = 32 zero bytes), 3 = symlink (digest = SHA-256 of the link target).
//!   `mode` is the permission bits (`st_mode & 0o7777`).
//! - Inner node = `SHA-256(0x01 || left || right)`; an odd node at the end of a level moves up
//!   unchanged. The root of no entries is 32 zero bytes.
//! - Image digest = `SHA-256("kss-image-v1\0" || entry_count u64le || root)`.

use crate::error::{InstanceError, LayoutProblem};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Chunk size for file content hashing.
pub const CHUNK: u64 = 1 << 20;

/// Kind of an image entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Regular file.
    File = 1,
    /// Directory.
    Dir = 2,
    /// Symbolic link (not followed).
    Symlink = 3,
}

/// One entry of the image, before hashing.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path relative to `image/`, `/`-separated, as bytes.
    pub path: Vec<u8>,
    /// Kind.
    pub kind: EntryKind,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes (files), 0 otherwise.
    pub size: u64,
    fs_path: PathBuf,
}

/// Summary of a digest computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDigest {
    /// The `kss-image-v1` digest.
    pub digest: [u8; 32],
    /// Number of entries.
    pub entries: u64,
    /// Total file bytes hashed.
    pub bytes: u64,
}

/// Lists the entries below `root` (sorted by path). A missing `root` is an empty image.
pub fn list(root: &Path) -> Result<Vec<Entry>, InstanceError> {
    let mut out = Vec::new();
    if root.exists() {
        let real_root = root
            .canonicalize()
            .map_err(|e| InstanceError::io(root, e))?;
        walk(root, &real_root, &[], &mut out)?;
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Refuses a symlink of the image (`link`) whose real path is not inside `real_root`.
fn check_symlink(link: &Path, real_root: &Path) -> Result<(), InstanceError> {
    let target = std::fs::read_link(link).map_err(|e| InstanceError::io(link, e))?;
    let outside = |why: &str| {
        Err(InstanceError::Layout(LayoutProblem::SymlinkOutside {
            link: link.to_path_buf(),
            target: target.clone(),
            why: why.to_string(),
        }))
    };
    match link.canonicalize() {
        Ok(real) if real.starts_with(real_root) => Ok(()),
        Ok(real) => outside(&format!("resolves to '{}', outside image/", real.display())),
        Err(_) => outside("does not resolve to an existing file"),
    }
}

fn walk(
    dir: &Path,
    real_root: &Path,
    prefix: &[u8],
    out: &mut Vec<Entry>,
) -> Result<(), InstanceError> {
    let rd = std::fs::read_dir(dir).map_err(|e| InstanceError::io(dir, e))?;
    for item in rd {
        let item = item.map_err(|e| InstanceError::io(dir, e))?;
        let fs_path = item.path();
        let meta =
            std::fs::symlink_metadata(&fs_path).map_err(|e| InstanceError::io(&fs_path, e))?;
        let mut path = prefix.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(item.file_name().as_bytes());
        let mode = meta.mode() & 0o7777;
        let ft = meta.file_type();
        if ft.is_symlink() {
            check_symlink(&fs_path, real_root)?;
            out.push(Entry {
                path,
                kind: EntryKind::Symlink,
                mode,
                size: 0,
                fs_path,
            });
        } else if ft.is_dir() {
            out.push(Entry {
                path: path.clone(),
                kind: EntryKind::Dir,
                mode,
                size: 0,
                fs_path: fs_path.clone(),
            });
            walk(&fs_path, real_root, &path, out)?;
        } else if ft.is_file() {
            out.push(Entry {
                path,
                kind: EntryKind::File,
                mode,
                size: meta.len(),
                fs_path,
            });
        } else {
            return Err(InstanceError::Layout(LayoutProblem::UnsupportedFileType {
                path: fs_path,
            }));
        }
    }
    Ok(())
}

/// Computes the `kss-image-v1` digest of the directory `root`, hashing chunks on all cores.
pub fn digest_dir(root: &Path) -> Result<ImageDigest, InstanceError> {
    let entries = list(root)?;
    digest_entries(&entries)
}

/// Computes the digest of listed entries.
pub fn digest_entries(entries: &[Entry]) -> Result<ImageDigest, InstanceError> {
    // Flatten every file into (entry, chunk) jobs so one big file still uses every core.
    let mut jobs: Vec<(usize, u64)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.kind == EntryKind::File {
            let chunks = e.size.div_ceil(CHUNK);
            jobs.extend((0..chunks).map(|c| (i, c)));
        }
    }
    let chunk_hashes: Vec<[u8; 32]> = jobs
        .par_iter()
        .map_init(
            || vec![0u8; CHUNK as usize],
            |buf, &(i, c)| hash_chunk(&entries[i], c, buf),
        )
        .collect::<Result<_, _>>()?;

    let mut leaves = Vec::with_capacity(entries.len());
    let mut next = 0usize;
    let mut total = 0u64;
    for e in entries {
        let digest: [u8; 32] = match e.kind {
            EntryKind::File => {
                let n = e.size.div_ceil(CHUNK) as usize;
                let mut h = Sha256::new();
                h.update(b"kss-image-content-v1\0");
                h.update(e.size.to_le_bytes());
                for ch in &chunk_hashes[next..next + n] {
                    h.update(ch);
                }
                next += n;
                total += e.size;
                h.finalize().into()
            }
            EntryKind::Dir => [0; 32],
            EntryKind::Symlink => {
                let target = std::fs::read_link(&e.fs_path)
                    .map_err(|err| InstanceError::io(&e.fs_path, err))?;
                Sha256::digest(target.as_os_str().as_bytes()).into()
            }
        };
        leaves.push(leaf(e, &digest));
    }
    let root = merkle_root(leaves);
    let mut h = Sha256::new();
    h.update(b"kss-image-v1\0");
    h.update((entries.len() as u64).to_le_bytes());
    h.update(root);
    Ok(ImageDigest {
        digest: h.finalize().into(),
        entries: entries.len() as u64,
        bytes: total,
    })
}

fn hash_chunk(e: &Entry, chunk: u64, buf: &mut [u8]) -> Result<[u8; 32], InstanceError> {
    let file = std::fs::File::open(&e.fs_path).map_err(|err| InstanceError::io(&e.fs_path, err))?;
    let off = chunk * CHUNK;
    let len = (e.size - off).min(CHUNK) as usize;
    let buf = &mut buf[..len];
    file.read_exact_at(buf, off)
        .map_err(|err| InstanceError::io(&e.fs_path, changed_while_hashing(err)))?;
    Ok(Sha256::digest(buf).into())
}

/// A read error while hashing a file that was listed with a size: the same kind, with the likely
/// reason added to its message and the read's own error kept as the source.
fn changed_while_hashing(err: std::io::Error) -> std::io::Error {
    std::io::Error::new(err.kind(), ChangedWhileHashing { source: err })
}

/// See [`changed_while_hashing`].
#[derive(Debug, thiserror::Error)]
#[error("{source} (did the file change while hashing?)")]
struct ChangedWhileHashing {
    source: std::io::Error,
}

fn leaf(e: &Entry, digest: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"kss-image-entry-v1\0");
    h.update([e.kind as u8]);
    h.update(e.mode.to_le_bytes());
    h.update(e.size.to_le_bytes());
    h.update((e.path.len() as u32).to_le_bytes());
    h.update(&e.path);
    h.update(digest);
    h.finalize().into()
}

fn merkle_root(mut level: Vec<[u8; 32]>) -> [u8; 32] {
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        let mut up = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            if let [l, r] = pair {
                let mut h = Sha256::new();
                h.update([1u8]);
                h.update(l);
                h.update(r);
                up.push(h.finalize().into());
            } else {
                up.push(pair[0]);
            }
        }
        level = up;
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// The message adds the likely reason to the read's own; the read's error is the source.
    #[test]
    fn a_failed_read_keeps_the_read_error() {
        use std::io::ErrorKind::UnexpectedEof;
        let err = std::io::Error::from(UnexpectedEof);
        let text = err.to_string();
        let e = changed_while_hashing(err);
        assert_eq!(e.kind(), UnexpectedEof);
        assert_eq!(
            e.to_string(),
            format!("{text} (did the file change while hashing?)")
        );
        let cause = std::error::Error::source(&e).expect("a cause");
        assert_eq!(
            cause
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
            Some(UnexpectedEof)
        );
    }

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("bin")).unwrap();
        std::fs::write(d.path().join("bin/app"), b"#!/bin/sh\necho hi\n").unwrap();
        std::fs::write(d.path().join("data.txt"), vec![7u8; 3 * CHUNK as usize + 5]).unwrap();
        d
    }

    #[test]
    fn known_answer_for_empty_image() {
        let d = tempfile::tempdir().unwrap();
        let got = digest_dir(d.path()).unwrap();
        // SHA-256("kss-image-v1\0" || 0u64 || 32 zero bytes), computed independently:
        let mut h = Sha256::new();
        h.update(b"kss-image-v1\0");
        h.update([0u8; 8]);
        h.update([0u8; 32]);
        assert_eq!(got.digest, <[u8; 32]>::from(h.finalize()));
        assert_eq!(got.entries, 0);
        // A missing directory is the same empty image.
        assert_eq!(digest_dir(&d.path().join("nope")).unwrap(), got);
    }

    #[test]
    fn single_file_matches_the_documented_formula() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), b"abc").unwrap();
        std::fs::set_permissions(d.path().join("a"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let content: [u8; 32] = {
            let mut h = Sha256::new();
            h.update(b"kss-image-content-v1\0");
            h.update(3u64.to_le_bytes());
            h.update(Sha256::digest(b"abc"));
            h.finalize().into()
        };
        let leaf: [u8; 32] = {
            let mut h = Sha256::new();
            h.update(b"kss-image-entry-v1\0");
            h.update([1u8]);
            h.update(0o644u32.to_le_bytes());
            h.update(3u64.to_le_bytes());
            h.update(1u32.to_le_bytes());
            h.update(b"a");
            h.update(content);
            h.finalize().into()
        };
        let mut h = Sha256::new();
        h.update(b"kss-image-v1\0");
        h.update(1u64.to_le_bytes());
        h.update(leaf);
        assert_eq!(
            digest_dir(d.path()).unwrap().digest,
            <[u8; 32]>::from(h.finalize())
        );
    }

    #[test]
    fn every_change_changes_the_digest() {
        let d = tree();
        let base = digest_dir(d.path()).unwrap();
        assert_eq!(base.entries, 3);
        assert_eq!(base.bytes, 3 * CHUNK + 5 + 18);
        assert_eq!(digest_dir(d.path()).unwrap(), base, "deterministic");

        // One byte in the last chunk of a multi-chunk file.
        let p = d.path().join("data.txt");
        let mut data = std::fs::read(&p).unwrap();
        let last = data.len() - 1;
        data[last] ^= 1;
        std::fs::write(&p, &data).unwrap();
        let changed = digest_dir(d.path()).unwrap();
        assert_ne!(changed.digest, base.digest);
        data[last] ^= 1;
        std::fs::write(&p, &data).unwrap();
        assert_eq!(digest_dir(d.path()).unwrap(), base);

        // Mode change.
        std::fs::set_permissions(
            d.path().join("bin/app"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let moded = digest_dir(d.path()).unwrap();
        assert_ne!(moded.digest, base.digest);

        // Rename.
        std::fs::rename(d.path().join("bin/app"), d.path().join("bin/app2")).unwrap();
        assert_ne!(digest_dir(d.path()).unwrap().digest, moded.digest);

        // Symlink target.
        std::os::unix::fs::symlink("data.txt", d.path().join("link")).unwrap();
        let l1 = digest_dir(d.path()).unwrap();
        std::fs::remove_file(d.path().join("link")).unwrap();
        std::os::unix::fs::symlink("bin/app2", d.path().join("link")).unwrap();
        assert_ne!(digest_dir(d.path()).unwrap().digest, l1.digest);
    }

    #[test]
    fn symlinks_must_resolve_inside_the_image() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("image");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/app"), b"x").unwrap();
        std::fs::write(outer.path().join("outside.sh"), b"y").unwrap();
        std::os::unix::fs::symlink("app", root.join("bin/ok")).unwrap();
        std::os::unix::fs::symlink("../bin", root.join("bin/dir")).unwrap();
        digest_dir(&root).unwrap();
        let bad: [(&str, &str); 5] = [
            ("bin/abs", "/bin/sh"),
            ("rootlink", "/"),
            ("bin/up", "../../outside.sh"),
            ("bin/dangling", "nothing-here"),
            // Through another symlink of the image: `bin/dir/../..` is the image root
            // lexically, but the kernel resolves `dir` (-> image/bin) first: outside.
            ("bin/chain", "dir/../.."),
        ];
        for (link, target) in bad {
            let p = root.join(link);
            std::os::unix::fs::symlink(target, &p).unwrap();
            let e = digest_dir(&root).unwrap_err().to_string();
            assert!(e.contains(link) && e.contains("symlink"), "{link}: {e}");
            std::fs::remove_file(&p).unwrap();
        }
    }

    /// A fixed tree: directory `d` (0755), symlink `d/l` -> `../f`, file `f` (0644) of two
    /// chunks (CHUNK + 3 bytes, byte i = i mod 251).
    #[test]
    fn known_answer_for_dir_symlink_and_multi_chunk_file() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir(root.join("d")).unwrap();
        std::fs::set_permissions(root.join("d"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("../f", root.join("d/l")).unwrap();
        let data: Vec<u8> = (0..CHUNK as usize + 3).map(|i| (i % 251) as u8).collect();
        std::fs::write(root.join("f"), &data).unwrap();
        std::fs::set_permissions(root.join("f"), std::fs::Permissions::from_mode(0o644)).unwrap();

        let got = digest_dir(root).unwrap();
        assert_eq!(got.entries, 3);
        assert_eq!(got.bytes, CHUNK + 3);
        // Fixed value: changes to the encoding must be deliberate (and renamed kss-image-v2).
        assert_eq!(
            hex::encode(got.digest),
            "33a222c088a6fa6b83aed684a42aca38402e15c819d8ca2465d874e3056f264e"
        );

        // The same value from the documented formula, with sha2 directly.
        let sha = |parts: &[&[u8]]| -> [u8; 32] {
            let mut h = Sha256::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().into()
        };
        let leaf = |kind: u8, mode: u32, size: u64, path: &[u8], digest: &[u8; 32]| {
            sha(&[
                b"kss-image-entry-v1\0",
                &[kind],
                &mode.to_le_bytes(),
                &size.to_le_bytes(),
                &(path.len() as u32).to_le_bytes(),
                path,
                digest,
            ])
        };
        let (c0, c1) = data.split_at(CHUNK as usize);
        let content = sha(&[
            b"kss-image-content-v1\0",
            &(CHUNK + 3).to_le_bytes(),
            &sha(&[c0]),
            &sha(&[c1]),
        ]);
        let l_dir = leaf(2, 0o755, 0, b"d", &[0; 32]);
        let l_link = leaf(3, 0o777, 0, b"d/l", &sha(&[b"../f"]));
        let l_file = leaf(1, 0o644, CHUNK + 3, b"f", &content);
        let node = |l: &[u8; 32], r: &[u8; 32]| sha(&[&[1u8], l, r]);
        let root_hash = node(&node(&l_dir, &l_link), &l_file);
        let expected = sha(&[b"kss-image-v1\0", &3u64.to_le_bytes(), &root_hash]);
        assert_eq!(got.digest, expected);
    }

    #[test]
    fn merkle_shapes() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        let c = [3u8; 32];
        let node = |l: &[u8; 32], r: &[u8; 32]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(l);
            h.update(r);
            h.finalize().into()
        };
        assert_eq!(merkle_root(vec![a]), a);
        assert_eq!(merkle_root(vec![a, b]), node(&a, &b));
        assert_eq!(merkle_root(vec![a, b, c]), node(&node(&a, &b), &c));
    }
}
