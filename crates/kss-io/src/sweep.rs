//! Sweeping the temporary files and staging directories (`.kss-…{pid}~…`) that processes which
//! no longer exist left behind, and the process and user helpers it needs.

use std::path::Path;

/// The marker between a temporary file's prefix-and-pid and its random part.
pub(crate) const PID_MARK: char = '~';

/// This process's real user ID.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Whether the process `pid` still exists (an existing process of another user counts).
pub fn process_alive(pid: u32) -> bool {
    let Some(p) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(p) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

/// The pid recorded in a kss temporary file name (`.kss-…{pid}~…`), if it is one.
fn temp_owner(name: &str) -> Option<u32> {
    if !name.starts_with(".kss-") {
        return None;
    }
    let head = &name[..name.rfind(PID_MARK)?];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

/// Removes the kss temporary files in `dir` left by processes that no longer exist (files named
/// `.kss-…{pid}~…`, owned by this user, whose pid is not running), and the staging directories
/// of [`StagedDir`](crate::StagedDir) named so. Temporary files of live processes are left
/// alone. Returns how many were removed; errors are ignored (a sweep is best effort).
pub fn sweep_stale(dir: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id();
    let uid = current_uid();
    let mut removed = 0;
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        let Ok(md) = entry.path().symlink_metadata() else {
            continue;
        };
        if pid == me || md.uid() != uid || process_alive(pid) {
            continue;
        }
        let gone = if md.is_file() {
            std::fs::remove_file(entry.path())
        } else if md.is_dir() {
            std::fs::remove_dir_all(entry.path())
        } else {
            continue;
        };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Staged;

    #[test]
    fn stale_temporary_files_of_dead_processes_are_swept() {
        let d = tempfile::tempdir().unwrap();
        // No process has a pid above the kernel's maximum (2^22).
        let dead = d.path().join(".kss-sealed-99999999~abc123");
        let live = d
            .path()
            .join(format!(".kss-sgxs-{}~abc123", std::process::id()));
        let other = d.path().join("99999999~keep");
        for p in [&dead, &live, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        Staged::new_in(d.path(), ".kss-tmp-", 0o644).unwrap();
        assert!(!dead.exists(), "a dead process's temporary file is swept");
        assert!(live.exists(), "a live process's temporary file is kept");
        assert!(other.exists(), "files not named by kss are kept");
        assert_eq!(temp_owner(".kss-tmp-123~x"), Some(123));
        assert_eq!(temp_owner(".kss-tmp-~x"), None);
        assert_eq!(temp_owner("kss-tmp-1~x"), None);
    }
}
