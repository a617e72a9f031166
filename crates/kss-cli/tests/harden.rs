//! Hardening (issue 15), through the real binary: stopping `kss run` (signals forwarded, grace
//! period, parent-death signal, stale socket directories), the workload's environment, bounded
//! reads, strict `--at`, the kss home's mode, what a killed build leaves, symlinks in image/,
//! a stale mix of build files and the enclave size bound.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support {
    pub mod env;
}

use support::env::{script, text, Env, KSS};

/// A test directory with a kss home (holding a known development key) and a private TMPDIR,
/// where `kss run` puts its socket directories.
fn env() -> Env {
    Env::new().with_tmpdir()
}

impl Env {
    /// A new built instance `name` whose image/bin holds `scripts`.
    fn instance(&self, name: &str, scripts: &[(&str, &str)]) -> PathBuf {
        self.ok(&["new", name]);
        let dir = self.path(name);
        let p = dir.join("Occlum.json");
        let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        c["resource_limits"]["max_num_of_threads"] = 2.into();
        c["metadata"]["enable_kss"] = true.into();
        std::fs::write(&p, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
        for (n, body) in scripts {
            script(&dir.join("image/bin").join(n), body);
        }
        self.ok(&["build", name]);
        dir
    }

    /// The socket directories left in TMPDIR.
    fn socket_dirs(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.path("tmp"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("kss-enclave-")
            })
            .collect()
    }
}

/// Waits up to `secs` for `f`.
fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(secs) {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Whether `pid` is a running process (a zombie nobody reaped counts as gone).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

/// The workload script: records its pid, then waits (trapping TERM when `trap` is given).
const WAITER: &str = r#"#!/bin/sh
out="$1"; shift
[ -n "$1" ] && trap "$1" TERM
echo "$KSS_ENCLAVE_SOCKET" > "$out.sock"
echo $$ > "$out.tmp" && mv "$out.tmp" "$out"
while :; do sleep 0.05; done
"#;

/// Starts `kss run app -- /bin/waiter OUT [TRAP]` and waits until the workload runs; returns
/// the `kss run` child, the workload's pid and its socket path.
fn start_waiter(env: &Env, extra: &[&str], trap: &str) -> (Child, u32, PathBuf) {
    let out = env.path("workload.pid");
    let _ = std::fs::remove_file(&out);
    let mut args = vec!["run", "app", "-q"];
    args.extend_from_slice(extra);
    let out_s = out.to_str().unwrap().to_string();
    args.extend_from_slice(&["--", "/bin/waiter", &out_s, trap]);
    let child = env
        .cmd(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        eventually(10, || out.exists()),
        "the workload did not start"
    );
    let pid: u32 = std::fs::read_to_string(&out)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sock = PathBuf::from(
        std::fs::read_to_string(env.path("workload.pid.sock"))
            .unwrap()
            .trim(),
    );
    (child, pid, sock)
}

fn wait_status(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if t.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("kss run did not exit within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn signals_to_kss_run_reach_the_workload_and_the_socket_directory_goes() {
    use rustix::process::Signal;
    let env = env();
    env.instance("app", &[("waiter", WAITER)]);

    // SIGTERM: the workload's trap runs; kss run exits with the workload's status.
    let (mut run, pid, sock) = start_waiter(&env, &[], "exit 3");
    assert!(sock.is_absolute() && sock.exists());
    signal(run.id(), Signal::TERM);
    assert_eq!(wait_status(&mut run, 10).code(), Some(3));
    assert!(eventually(2, || !running(pid)));
    assert!(!sock.parent().unwrap().exists(), "socket directory removed");

    // SIGINT and SIGHUP to a workload that does not handle them: 128 + signal.
    for (sig, code) in [(Signal::INT, 130), (Signal::HUP, 129)] {
        let (mut run, pid, _) = start_waiter(&env, &[], "");
        signal(run.id(), sig);
        assert_eq!(wait_status(&mut run, 10).code(), Some(code));
        assert!(eventually(2, || !running(pid)));
    }

    // A workload that ignores SIGTERM is killed after the grace period: 128 + SIGKILL.
    let (mut run, pid, _) = start_waiter(&env, &["--stop-grace", "1"], "''");
    let t = Instant::now();
    signal(run.id(), Signal::TERM);
    assert_eq!(wait_status(&mut run, 10).code(), Some(137));
    assert!(t.elapsed() >= Duration::from_millis(900));
    assert!(eventually(2, || !running(pid)));
    assert!(env.socket_dirs().is_empty(), "{:?}", env.socket_dirs());
}

#[test]
fn a_killed_kss_run_takes_its_workload_along_and_the_next_run_sweeps_its_socket_directory() {
    let env = env();
    env.instance("app", &[("waiter", WAITER), ("ok", "#!/bin/sh\nexit 0\n")]);
    let (mut run, pid, sock) = start_waiter(&env, &[], "");
    run.kill().unwrap(); // SIGKILL: kss run cannot forward anything
    run.wait().unwrap();
    assert!(
        eventually(3, || !running(pid)),
        "the workload runs on after kss run died"
    );
    let stale = sock.parent().unwrap().to_path_buf();
    assert!(stale.exists(), "SIGKILL leaves the socket directory");
    env.ok(&["run", "app", "-q", "--", "/bin/ok"]);
    assert!(!stale.exists(), "the next kss run removes it");
    assert!(env.socket_dirs().is_empty());
}

#[test]
fn everything_kss_puts_in_the_workload_environment_is_absolute() {
    let env = env();
    env.instance(
        "app",
        &[(
            "env",
            "#!/bin/sh\necho \"$KSS_INSTANCE\"\necho \"$KSS_ENCLAVE_SOCKET\"\necho \"${PATH%%:*}\"\n",
        )],
    );
    // A relative instance path, and a relative TMPDIR.
    let out = env.ok(&["run", "app", "-q", "--", "env"]);
    let o = env
        .cmd(&["run", "./app", "-q", "--", "/bin/env"])
        .env("TMPDIR", "tmp")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    for out in [out, text(&o.stdout)] {
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        for l in &lines {
            assert!(Path::new(l).is_absolute(), "not absolute: {l}");
        }
        assert_eq!(
            Path::new(lines[0]).canonicalize().unwrap(),
            env.path("app").canonicalize().unwrap()
        );
        assert!(lines[2].ends_with("app/image/bin"), "{}", lines[2]);
    }
}

#[test]
fn an_endless_config_id_file_is_refused_at_its_limit() {
    let env = env();
    env.instance("app", &[("ok", "#!/bin/sh\nexit 0\n")]);
    let t = Instant::now();
    let err = env.fails(
        &[
            "run",
            "app",
            "--config-id-file",
            "/dev/zero",
            "--",
            "/bin/ok",
        ],
        121,
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(
        err.contains("/dev/zero") && err.contains("64-byte limit"),
        "{err}"
    );
    // 65 bytes: refused, 64 accepted.
    std::fs::write(env.path("65.bin"), [1u8; 65]).unwrap();
    let err = env.fails(
        &["run", "app", "--config-id-file", "65.bin", "--", "/bin/ok"],
        121,
    );
    assert!(
        err.contains("65.bin") && err.contains("64-byte limit"),
        "{err}"
    );
    std::fs::write(env.path("64.bin"), [1u8; 64]).unwrap();
    env.ok(&[
        "run",
        "app",
        "-q",
        "--config-id-file",
        "64.bin",
        "--",
        "/bin/ok",
    ]);
    // Other readers: a SIGSTRUCT and a quote.
    let err = env.fails(&["inspect", "sigstruct", "/dev/zero"], 2);
    assert!(err.contains("1808-byte limit"), "{err}");
    let err = env.fails(&["quote", "inspect", "/dev/zero"], 2);
    assert!(err.contains("-byte limit"), "{err}");
}

#[test]
fn verify_parses_at_strictly() {
    let env = env();
    let err = env.fails(
        &["verify", "q", "--collateral", "c", "--at", " 1752919277"],
        2,
    );
    assert!(err.contains("whitespace"), "{err}");
    for big in [
        "9223372036854775808",
        "18446744073709551615",
        "253402300800",
    ] {
        let err = env.fails(&["verify", "q", "--collateral", "c", "--at", big], 2);
        assert!(err.contains("9999-12-31T23:59:59Z"), "{err}");
    }
}

#[test]
fn the_kss_home_is_private_whatever_the_umask() {
    let env = env();
    env.ok(&["new", "app"]);
    let home = env.path("fresh-home/kss");
    let o = Command::new("sh")
        .args(["-c", "umask 000; exec \"$0\" \"$@\"", KSS, "build", "app"])
        .current_dir(env.path(""))
        .env("KSS_HOME", &home)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "kss home mode {mode:o}");
}

/// Sets `resource_limits.KEY` of the instance's Occlum.json.
fn set_limit(dir: &Path, key: &str, value: &str) {
    let p = dir.join("Occlum.json");
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    c["resource_limits"][key] = value.into();
    std::fs::write(&p, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
}

/// The kss temporary files in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".kss-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_killed_build_leaves_no_temporary_file() {
    let env = env();
    env.ok(&["new", "app"]);
    let dir = env.path("app");
    // A large SGXS (128 MiB of EADD records) takes a while to write.
    set_limit(&dir, "user_space_size", "8GB");
    let mut b = env
        .cmd(&["build", "app"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while it writes the SGXS.
    assert!(eventually(10, || dir.join("build").exists()));
    std::thread::sleep(Duration::from_millis(200));
    b.kill().unwrap();
    b.wait().unwrap();
    assert_eq!(temp_files(&dir.join("build")), Vec::<String>::new());
}

#[test]
fn symlinks_leading_out_of_the_image_are_build_errors_and_program_stays_inside() {
    let env = env();
    env.ok(&["new", "app"]);
    let dir = env.path("app");
    script(&env.path("outside.sh"), "#!/bin/sh\necho outside\n");
    script(&dir.join("image/bin/app"), "#!/bin/sh\necho inside\n");
    // A link inside the image is fine (and measured through its target, an image file).
    std::os::unix::fs::symlink("app", dir.join("image/bin/alias")).unwrap();
    env.ok(&["build", "app"]);
    for (link, target) in [
        ("image/bin/ext", env.path("outside.sh")),
        ("image/rootlink", PathBuf::from("/")),
        ("image/bin/up", PathBuf::from("../../../outside.sh")),
    ] {
        std::os::unix::fs::symlink(&target, dir.join(link)).unwrap();
        let o = env.kss(&["build", "app"]);
        let err = text(&o.stderr);
        assert!(!o.status.success(), "{link} accepted");
        assert!(
            err.contains(link) && err.contains("outside image/"),
            "{err}"
        );
        std::fs::remove_file(dir.join(link)).unwrap();
    }
    // PROGRAM resolution checks the real path.
    let image = dir.join("image");
    std::os::unix::fs::symlink("/", image.join("rootlink")).unwrap();
    let e = kss_instance::plan::resolve_program(&image, Path::new("/rootlink/bin/sh"));
    assert!(
        matches!(
            e,
            Err(kss_instance::plan::PlanError::ProgramOutsideImage { .. })
        ),
        "{e:?}"
    );
    let ok = kss_instance::plan::resolve_program(&image, Path::new("alias")).unwrap();
    assert_eq!(ok, image.join("bin/app").canonicalize().unwrap());
}

#[test]
fn a_mix_of_files_from_different_builds_is_refused() {
    let env = env();
    let dir = env.instance("app", &[("ok", "#!/bin/sh\nexit 0\n")]);
    let b = dir.join("build");
    let save = |name: &str| std::fs::copy(b.join(name), env.path(name)).unwrap();
    save("enclave.sgxs");
    save("enclave.sig");
    save("kss-build.json");
    // A new image, a new build.
    script(&dir.join("image/bin/other"), "#!/bin/sh\nexit 1\n");
    env.ok(&["build", "app"]);
    env.ok(&["run", "app", "-q", "--", "/bin/ok"]);
    let restore = |name: &str, from: &Path| std::fs::copy(from, b.join(name)).unwrap();
    let new_sgxs = env.path("new.sgxs");
    let new_sig = env.path("new.sig");
    std::fs::copy(b.join("enclave.sgxs"), &new_sgxs).unwrap();
    std::fs::copy(b.join("enclave.sig"), &new_sig).unwrap();

    // The old SGXS and SIGSTRUCT with the new image and record.
    restore("enclave.sgxs", &env.path("enclave.sgxs"));
    restore("enclave.sig", &env.path("enclave.sig"));
    let err = env.fails(&["run", "app", "--", "/bin/ok"], 122);
    assert!(
        err.contains("enclave.sig") && err.contains("MRENCLAVE"),
        "{err}"
    );
    // Only the old SGXS.
    restore("enclave.sig", &new_sig);
    let err = env.fails(&["run", "app", "--", "/bin/ok"], 122);
    assert!(
        err.contains("enclave.sgxs") && err.contains("SHA-256"),
        "{err}"
    );
    restore("enclave.sgxs", &new_sgxs);
    env.ok(&["run", "app", "-q", "--", "/bin/ok"]);
    // An edited record.
    let rec = b.join("kss-build.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&rec).unwrap()).unwrap();
    v["isv_svn"] = 99.into();
    std::fs::write(&rec, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let err = env.fails(&["run", "app", "--", "/bin/ok"], 122);
    assert!(
        err.contains("kss-build.json") && err.contains("isv_svn"),
        "{err}"
    );
}

#[test]
fn enclave_sizes_beyond_the_maximum_are_build_errors_naming_the_field() {
    let env = env();
    env.ok(&["new", "app"]);
    let dir = env.path("app");
    set_limit(&dir, "user_space_size", "1TB");
    let o = env.kss(&["build", "app"]);
    let err = text(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("resource_limits.user_space_size") && err.contains("32GB"),
        "{err}"
    );
    assert!(!dir.join("build").exists(), "nothing is written");
    // Each field within its bound, the sum beyond the enclave maximum.
    set_limit(&dir, "user_space_size", "32GB");
    set_limit(&dir, "kernel_space_heap_size", "32GB");
    let o = env.kss(&["build", "app"]);
    let err = text(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("resource_limits") && err.contains("at most 64 GiB"),
        "{err}"
    );
    assert!(!dir.join("build").exists(), "nothing is written");
}
