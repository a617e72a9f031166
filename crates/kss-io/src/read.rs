//! Bounded reads: every input format has a size limit ([`limits`]), enforced while reading.

use std::io::Read;
use std::path::Path;

/// Size limits of the files kss reads, one per format. A reader never holds more than its
/// limit plus one byte of a file, whatever the file is (`/dev/zero`, a huge sparse file, a pipe).
pub mod limits {
    /// A raw config ID file (`--config-id-file`): CONFIGID is 64 bytes.
    pub const CONFIG_ID: u64 = 64;
    /// A SIGSTRUCT (`enclave.sig`): exactly 1808 bytes.
    pub const SIGSTRUCT: u64 = 1808;
    /// A TARGETINFO (512 bytes) or REPORT (432 bytes) file.
    pub const SGX_STRUCT: u64 = 512;
    /// A DCAP quote: header, body, signature data and certification data (a PCK chain of a few
    /// KiB); 1 MiB is far above any real quote.
    pub const QUOTE: u64 = 1 << 20;
    /// One collateral file (PCK chain, CRLs, TCB info, QE identity, a dcap-qvl JSON file of all
    /// of them, trust roots): 8 MiB.
    pub const COLLATERAL: u64 = 8 << 20;
    /// A policy file (JSON): 1 MiB.
    pub const POLICY: u64 = 1 << 20;
    /// A PEM key file: 64 KiB.
    pub const KEY: u64 = 64 << 10;
    /// `Occlum.json` and `build/kss-build.json`: 1 MiB.
    pub const CONFIG_JSON: u64 = 1 << 20;
    /// A sealed blob, and the plaintext or AAD to seal: the format keeps every size in a u32
    /// (4 GiB - 1).
    pub const SEALED: u64 = u32::MAX as u64;
}

/// Reads the file at `path`, refusing one longer than `limit` bytes. The limit is enforced
/// while reading (at most `limit + 1` bytes are ever read), so an endless or huge input
/// (`/dev/zero`, a sparse file) costs no more memory than the limit. A file that is too long is
/// an error of kind [`std::io::ErrorKind::FileTooLarge`] whose message states the limit; callers
/// add the path (as they do for every I/O error).
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    // The size the file has now, as a capacity hint: one read of the whole file instead of a
    // growing buffer (the limit is still enforced while reading, as the file may grow or be
    // endless). A regular file already longer than the limit is refused without reading it.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(too_large(limit));
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    read_bounded_into(file, limit, &mut out)?;
    Ok(out)
}

/// [`read_bounded`] for any reader.
pub fn read_bounded_from(r: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    read_bounded_into(r, limit, &mut out)?;
    Ok(out)
}

fn read_bounded_into(r: impl Read, limit: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
    r.take(limit.saturating_add(1)).read_to_end(out)?;
    if out.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

/// [`read_bounded`] for UTF-8 text; invalid UTF-8 is an [`std::io::ErrorKind::InvalidData`]
/// error.
pub fn read_bounded_string(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// The error of a file longer than `limit` bytes.
pub fn too_large(limit: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!("larger than the {limit}-byte limit for this kind of file"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bounded_limits() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, [1u8; 64]).unwrap();
        assert_eq!(read_bounded(&p, 64).unwrap().len(), 64);
        let e = read_bounded(&p, 63).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(e.to_string().contains("63-byte limit"), "{e}");
        let e = read_bounded(Path::new("/dev/zero"), 64).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
    }
}
