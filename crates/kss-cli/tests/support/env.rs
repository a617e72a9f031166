//! The set-up the CLI integration tests share: the binary under test, `testdata/`, a test
//! directory with its own kss home ([`Env`]) and small helpers on outputs and files.
//!
//! Included by each test file as `mod support { pub mod env; }`; a test binary uses only part
//! of it.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `kss` binary under test.
pub const KSS: &str = env!("CARGO_BIN_EXE_kss");
/// The repository's `testdata/`.
pub const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

/// `testdata/PATH`.
pub fn testdata(path: &str) -> String {
    format!("{TESTDATA}/{path}")
}

/// `kss ARGS` in the test's environment (no kss home of its own), with `NO_COLOR=1`.
pub fn kss(args: &[&str]) -> Output {
    Command::new(KSS)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run kss")
}

/// Output bytes as text (lossy).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses JSON text; the panic shows the text.
pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_str().expect("utf-8").to_string()
}

/// Writes an executable (mode 0755) script.
pub fn script(p: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, body).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A temporary test directory, the working directory of every `kss` it runs, with a kss home
/// `home/` (`KSS_HOME`) holding a known test key as the development key, so that no test waits
/// for RSA key generation. `KSS_ENCLAVE_SOCKET` is removed from the environment of `kss`;
/// [`Env::with_var`], [`Env::without_var`] and [`Env::with_tmpdir`] change it further.
pub struct Env {
    dir: tempfile::TempDir,
    set: Vec<(&'static str, OsString)>,
    removed: Vec<&'static str>,
}

impl Env {
    /// A new test directory with its kss home.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::copy(
            format!("{TESTDATA}/fortanix-rust-sgx/sgxs-sign/sig1.key.pem"),
            home.join("dev-signing-key.pem"),
        )
        .unwrap();
        Env {
            dir,
            set: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// Sets `name=value` in the environment of every `kss` run.
    pub fn with_var(mut self, name: &'static str, value: impl Into<OsString>) -> Self {
        self.set.push((name, value.into()));
        self
    }

    /// Removes `name` from the environment of every `kss` run.
    pub fn without_var(mut self, name: &'static str) -> Self {
        self.removed.push(name);
        self
    }

    /// A private `tmp/` as `TMPDIR` (where `kss run` puts its socket directories).
    pub fn with_tmpdir(self) -> Self {
        let tmp = self.path("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        self.with_var("TMPDIR", tmp)
    }

    /// The test directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `p` inside the test directory.
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// The command `kss ARGS` in the test directory, not started.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(KSS);
        c.args(args)
            .current_dir(self.dir.path())
            .env("KSS_HOME", self.path("home"))
            .env_remove("KSS_ENCLAVE_SOCKET");
        for (name, value) in &self.set {
            c.env(name, value);
        }
        for name in &self.removed {
            c.env_remove(name);
        }
        c
    }

    /// Runs `kss ARGS` to completion.
    pub fn kss(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs `kss ARGS`, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.kss(args);
        assert!(
            o.status.success(),
            "kss {args:?} failed: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs `kss ARGS`, which must exit with `status`; its stderr.
    pub fn fails(&self, args: &[&str], status: i32) -> String {
        let o = self.kss(args);
        assert_eq!(
            o.status.code(),
            Some(status),
            "kss {args:?}: stdout {} stderr {}",
            text(&o.stdout),
            text(&o.stderr)
        );
        String::from_utf8(o.stderr).unwrap()
    }
}
