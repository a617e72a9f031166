//! Atomic sealed-file writes.

use kss_seal::{write_sealed_file, SealError};

#[test]
fn write_replaces_whole_file_and_leaves_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.sealed");
    write_sealed_file(&path, b"first version, longer").unwrap();
    write_sealed_file(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("secret.sealed")]);
}

#[test]
fn failure_names_the_path_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("x.sealed");
    let e = write_sealed_file(&missing, b"data").unwrap_err();
    assert!(matches!(e, SealError::Io { .. }));
    assert!(e.to_string().contains("no-such-dir"), "{e}");
    // Renaming onto a directory fails; the directory stays as it was.
    let target = dir.path().join("occupied");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inner"), b"keep").unwrap();
    assert!(write_sealed_file(&target, b"data").is_err());
    assert_eq!(std::fs::read(target.join("inner")).unwrap(), b"keep");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// The file is readable by its owner only, whatever the umask: `kss enclave unseal` writes
/// plaintext secrets with it.
#[cfg(unix)]
#[test]
fn written_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.key");
    write_sealed_file(&path, b"the database password").unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}
