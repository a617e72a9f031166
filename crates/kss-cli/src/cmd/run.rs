//! `kss run`: launch an instance's enclave with a KSS configuration and run a workload against it.

use crate::error::{CliError, CliResult};
use kss_enclave::sim::{SimCpu, SimCpuSvn};
use kss_enclave::{BackendKind, Enclave};
use kss_instance::build::Staleness;
use kss_instance::launch::{self, KssValue, LaunchError};
use kss_instance::plan::{CreateError, LaunchPlan, LaunchRequest, PlanError};
use kss_instance::Instance;
use kss_service::{EnclaveServer, Server};
use kss_types::ConfigId;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit statuses of `kss run` when the launcher itself fails (the workload's own status is
/// passed through otherwise). Documented in `docs/run.md`.
pub mod status {
    /// A launch option is invalid (config ID, SVN, KSS not enabled, --debug on a production
    /// enclave...). Nothing was launched.
    pub const BAD_LAUNCH_CONFIG: u8 = 121;
    /// The instance is not built, or changed since `kss build`.
    pub const NOT_BUILT: u8 = 122;
    /// Enclave creation failed (ECREATE/EADD/EEXTEND/EINIT refused it).
    pub const ENCLAVE_FAILED: u8 = 123;
    /// Hardware mode is unavailable here (no SGX, no KSS, no driver).
    pub const NO_HARDWARE: u8 = 124;
    /// The enclave service could not start.
    pub const SERVICE_FAILED: u8 = 125;
    /// The program exists but cannot be executed.
    pub const CANNOT_EXECUTE: u8 = 126;
    /// The program does not exist in the image.
    pub const NOT_FOUND: u8 = 127;
}

/// Which backend runs the enclave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// The SGX simulator (default; works on any machine).
    Sim,
    /// Real SGX through the Linux driver (/dev/sgx_enclave).
    Hw,
}

/// `--cpu-svn`: the names of [`SimCpuSvn`] (parsed by its `FromStr`), each with a line in --help.
fn cpu_svn_parser() -> impl clap::builder::TypedValueParser<Value = SimCpuSvn> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new(SimCpuSvn::Default.name()).help("The normal simulated TCB"),
        PossibleValue::new(SimCpuSvn::Upgraded.name())
            .help("A newer TCB (keys of older CPUSVNs still derivable)"),
        PossibleValue::new(SimCpuSvn::Downgraded.name())
            .help("An older TCB (keys of newer CPUSVNs not derivable)"),
    ])
    .try_map(|name| name.parse::<SimCpuSvn>())
}

/// Launch the instance's enclave with a KSS configuration and run PROGRAM against it.
///
/// CONFIGID (64 bytes) and CONFIGSVN (16 bits) are chosen here, by whoever launches the enclave;
/// they go into the SECS before ECREATE and appear in every REPORT and quote of the enclave.
/// Input is checked fail-closed: an empty, undecodable or too long config ID, an SVN outside
/// 0..=65535, or KSS values for an instance without "enable_kss" stop the launch with an error.
/// A KSS instance launched without them gets zeros.
///
/// PROGRAM is resolved inside the instance's image/ (Occlum semantics: /bin/app is
/// DIR/image/bin/app). It runs as a host process with KSS_ENCLAVE_SOCKET pointing at a private
/// socket where the enclave serves its identity, reports, keys and quotes (use `kss enclave ...`
/// or the kss-service client). `kss run` exits with the workload's status; launcher failures use
/// 121 bad launch configuration, 122 instance not built or stale, 123 enclave creation failed,
/// 124 hardware unavailable, 125 service failed, 126 cannot execute, 127 program not found.
///
/// Example (the RFC's): kss run myapp --config-id "$(base64 64.bin)" --config-svn 0x12ab -- /bin/dcap_test
#[derive(clap::Args)]
pub struct Args {
    /// Instance directory (default: the current directory).
    pub dir: Option<PathBuf>,
    /// Backend: sim (default) or hw.
    #[arg(long, value_enum, default_value_t = Mode::Sim)]
    pub mode: Mode,
    /// CONFIGID as base64 (up to 64 bytes after decoding, zero-padded; whitespace ignored).
    #[arg(long, value_name = "BASE64", conflicts_with_all = ["config_id_hex", "config_id_file"])]
    pub config_id: Option<String>,
    /// CONFIGID as hex (up to 128 hex digits, zero-padded).
    #[arg(long, value_name = "HEX", conflicts_with = "config_id_file")]
    pub config_id_hex: Option<String>,
    /// CONFIGID as the raw bytes of a file (up to 64 bytes, zero-padded).
    #[arg(long, value_name = "PATH")]
    pub config_id_file: Option<PathBuf>,
    /// CONFIGSVN: decimal or 0x hex, 0..=65535 (default 0 for KSS instances).
    // A negative number is taken as the value, so that the range check answers it.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub config_svn: Option<String>,
    /// Simulated CPUSVN (sim mode): default, upgraded or downgraded.
    #[arg(long, value_parser = cpu_svn_parser(), default_value_t = SimCpuSvn::Default)]
    pub cpu_svn: SimCpuSvn,
    /// Launch in debug mode (ATTRIBUTES.DEBUG); only for instances with "debuggable": true.
    /// Quotes of debug enclaves are rejected by verifiers unless their policy allows debug.
    #[arg(long)]
    pub debug: bool,
    /// Don't print the one-line mode notice on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Seconds the workload has to exit after SIGTERM, SIGINT or SIGHUP was forwarded to it
    /// before its process group is killed (SIGKILL).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub stop_grace: u64,
    /// The program to run (inside image/) and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "PROGRAM [ARGS]")]
    pub program: Vec<OsString>,
}

fn fail(status: u8, msg: impl Into<String>) -> CliError {
    CliError::with_status(status, msg)
}

/// A launch value `kss run` refuses. The library error describes the value; the message names
/// the option that carried it (`option`, when one did).
fn launch_err(option: Option<&str>, e: LaunchError) -> CliError {
    let hint = matches!(e, LaunchError::KssDisabled(_))
        .then_some("set \"enable_kss\": true in Occlum.json metadata and run `kss build` again");
    let message = match (&e, option) {
        (LaunchError::KssDisabled(KssValue::ConfigSvn), _) => {
            "--config-svn was given, but this instance has \"enable_kss\": false, so its enclave \
             has no CONFIGID/CONFIGSVN (ECREATE would fault)"
                .to_string()
        }
        (_, Some(option)) => format!("{option}: {e}"),
        (_, None) => e.to_string(),
    };
    let err = fail(
        status::BAD_LAUNCH_CONFIG,
        format!("{message}; nothing was launched"),
    );
    match hint {
        Some(h) => err.hint(h),
        None => err,
    }
}

/// Parses the config ID options (at most one is set).
pub fn config_id_arg(args: &Args) -> Result<Option<ConfigId>, CliError> {
    let id = if let Some(b) = &args.config_id {
        Some(launch::config_id_from_base64(b).map_err(|e| launch_err(Some("--config-id"), e))?)
    } else if let Some(h) = &args.config_id_hex {
        Some(launch::config_id_from_hex(h).map_err(|e| launch_err(Some("--config-id-hex"), e))?)
    } else if let Some(p) = &args.config_id_file {
        let bytes = kss_io::read_bounded(p, kss_io::limits::CONFIG_ID).map_err(|e| {
            fail(
                status::BAD_LAUNCH_CONFIG,
                format!(
                    "--config-id-file: cannot read '{}': {e}; nothing was launched",
                    p.display()
                ),
            )
        })?;
        Some(
            launch::config_id_from_raw(&bytes)
                .map_err(|e| launch_err(Some("--config-id-file"), e))?,
        )
    } else {
        None
    };
    Ok(id)
}

/// Maps a refused launch plan to `kss run`'s message, hint and exit status.
fn plan_err(inst: &Instance, e: PlanError) -> CliError {
    let launched = "; nothing was launched";
    match e {
        PlanError::Launch(e) => launch_err(None, e),
        PlanError::ExplicitConfigId => fail(status::BAD_LAUNCH_CONFIG, format!("{e}{launched}"))
            .hint("drop --config-id; use --config-svn to mark upgrades"),
        PlanError::Binding(e) => fail(status::NOT_BUILT, e.to_string()),
        PlanError::Stale(e) => stale_err(inst, e),
        PlanError::SigstructUnreadable { .. } => {
            fail(status::NOT_BUILT, e.to_string()).hint("run `kss build` first")
        }
        PlanError::SigstructInvalid { .. } => fail(status::NOT_BUILT, e.to_string()),
        PlanError::DebugNotAllowed => {
            fail(status::BAD_LAUNCH_CONFIG, format!("--debug: {e}{launched}"))
        }
        PlanError::ProgramOutsideImage { .. } => fail(status::NOT_FOUND, e.to_string()),
        PlanError::ProgramNotFound { .. } => fail(status::NOT_FOUND, e.to_string()).hint(
            "copy the program into the instance's image/ (e.g. image/bin/app) and run it as /bin/app",
        ),
    }
}

/// `build/` is missing or stale: exit 122, with the `kss build` to run.
fn stale_err(inst: &Instance, e: Staleness) -> CliError {
    let hint = match &e {
        Staleness::NotBuilt { .. } => Some("first"),
        Staleness::Changed(_) | Staleness::Mismatch { .. } => Some("again"),
        Staleness::Unreadable { .. } | Staleness::Image(_) => None,
    };
    let err = fail(status::NOT_BUILT, e.to_string());
    match hint {
        Some(when) => err.hint(format!("run `kss build {}` {when}", inst.dir.display())),
        None => err,
    }
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let inst = Instance::open(&dir).map_err(|e| fail(status::NOT_BUILT, e.to_string()))?;
    let (config, config_bytes) = inst
        .config()
        .map_err(|e| fail(status::NOT_BUILT, e.to_string()))?;

    // 1. The launch plan, fail-closed, before anything is created.
    let cpu = SimCpu::with_kss().with_cpu_svn(args.cpu_svn);
    let request = LaunchRequest {
        config_id: config_id_arg(&args)?,
        config_svn: args
            .config_svn
            .as_deref()
            .map(launch::config_svn)
            .transpose()
            .map_err(|e| launch_err(Some("--config-svn"), e))?,
        debug: args.debug,
        program: Path::new(&args.program[0]),
        backend: match args.mode {
            Mode::Sim => BackendKind::Sim(cpu.clone()),
            Mode::Hw => BackendKind::Hw,
        },
    };
    let plan = kss_instance::plan::plan(&inst, &config, &config_bytes, request)
        .map_err(|e| plan_err(&inst, e))?;

    // 2. Create the enclave.
    let enclave = create(&plan)?;
    if !args.quiet {
        let s = enclave.secs();
        eprintln!(
            "kss: simulation mode (no SGX hardware involved): enclave {} CONFIGSVN {} CONFIGID {}…",
            &hex::encode(s.mr_enclave)[..16],
            s.config_svn,
            &hex::encode(s.config_id.0)[..16]
        );
    }

    // 3. Serve it and run the workload.
    // Quotes come from the simulated QE, created on the first QUOTE request; if its CA cannot
    // be loaded then, that request gets a clear error and everything else still works.
    let qe: kss_service::QeLoader =
        Box::new(move || crate::cmd::sim_quoting::quoting_enclave(&cpu));
    let server = Server::start(Arc::new(EnclaveServer::new(enclave, Some(qe)))).map_err(|e| {
        fail(
            status::SERVICE_FAILED,
            format!("cannot start the enclave service: {e}"),
        )
    })?;
    let st = workload(
        &inst,
        &dir,
        &plan.program,
        &args.program[1..],
        &server,
        std::time::Duration::from_secs(args.stop_grace),
    )?;
    drop(server);
    use std::os::unix::process::ExitStatusExt;
    let code = match (st.code(), st.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => 128u8.wrapping_add(sig as u8),
        _ => 1,
    };
    Ok(ExitCode::from(code))
}

/// Creates the planned enclave. In hardware mode the enclave is created and initialized, then
/// the launch stops: running a workload in it needs an enclave runtime.
fn create(plan: &LaunchPlan) -> Result<Box<dyn Enclave>, CliError> {
    let hw = matches!(plan.backend, BackendKind::Hw);
    // Opening the hardware backend detects the platform; its error names every problem.
    let backend = plan.backend.open().map_err(|e| {
        fail(status::NO_HARDWARE, e.to_string())
            .hint("run without --mode hw to use the simulator; `kss detect` explains what this machine supports")
    })?;
    let what = if hw { "hardware enclave" } else { "enclave" };
    let enclave = plan.load(&backend).map_err(|e| match e {
        CreateError::Open { .. } => fail(status::NOT_BUILT, e.to_string()),
        CreateError::Load(e) => fail(
            status::ENCLAVE_FAILED,
            format!("{what} creation failed: {e}"),
        ),
    })?;
    if hw {
        return Err(fail(
            status::NO_HARDWARE,
            "the enclave was created and initialized on SGX hardware with this KSS configuration, but running a workload inside a real enclave needs an enclave runtime, which kss does not ship (see docs/hardware.md)",
        ));
    }
    Ok(enclave)
}

/// The signals `kss run` forwards to the workload's process group.
const FORWARDED: [i32; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// `path` as an absolute path (relative to the current directory), for the workload's
/// environment: the workload may change directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Runs the workload with the enclave service's socket and `image/bin` first on its PATH (every
/// path kss puts in its environment is absolute), in its own process group.
///
/// SIGTERM, SIGINT and SIGHUP sent to `kss run` are forwarded to that group; if the workload
/// has not exited `grace` after the first one, the group is killed (SIGKILL). If `kss run` dies
/// without forwarding (SIGKILL), the workload gets SIGKILL too (parent-death signal), so it never
/// runs on against a dead endpoint.
fn workload(
    inst: &Instance,
    dir: &Path,
    program: &Path,
    args: &[OsString],
    server: &Server,
    grace: std::time::Duration,
) -> Result<std::process::ExitStatus, CliError> {
    use std::os::unix::process::CommandExt;
    let image_bin = absolute(&inst.image_dir().join("bin"));
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut v = vec![image_bin];
            v.extend(std::env::split_paths(&p));
            std::env::join_paths(v).unwrap_or(p)
        }
        None => image_bin.into_os_string(),
    };
    // Registered before the workload starts: a signal arriving in between is delivered to the
    // iterator below, not lost.
    let mut signals = signal_hook::iterator::Signals::new(FORWARDED).map_err(|e| {
        fail(
            status::SERVICE_FAILED,
            format!("cannot install the signal handlers: {e}"),
        )
    })?;
    let mut cmd = std::process::Command::new(absolute(program));
    cmd.args(args)
        .env(kss_service::SOCKET_ENV, absolute(server.socket_path()))
        .env("KSS_INSTANCE", absolute(dir))
        .env("KSS_MODE", "sim")
        .env("PATH", path)
        .process_group(0);
    die_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| {
        fail(
            status::CANNOT_EXECUTE,
            format!("cannot execute {}: {e}", program.display()),
        )
        .hint("make it executable (chmod +x) and check its #! line")
    })?;
    let group = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    let handle = signals.handle();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done2 = done.clone();
    let forwarder = std::thread::Builder::new()
        .name("kss-signals".into())
        .spawn(move || {
            let mut deadline = None;
            for sig in signals.forever() {
                if let Some(g) = group {
                    let _ = rustix::process::kill_process_group(g, signal_of(sig));
                }
                deadline.get_or_insert_with(|| {
                    let done = done2.clone();
                    std::thread::spawn(move || {
                        std::thread::sleep(grace);
                        if !done.load(std::sync::atomic::Ordering::SeqCst) {
                            if let Some(g) = group {
                                let _ = rustix::process::kill_process_group(
                                    g,
                                    rustix::process::Signal::KILL,
                                );
                            }
                        }
                    })
                });
            }
        });
    let st = child.wait();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    handle.close();
    if let Ok(t) = forwarder {
        let _ = t.join();
    }
    st.map_err(|e| {
        fail(
            status::SERVICE_FAILED,
            format!("cannot wait for {}: {e}", program.display()),
        )
    })
}

/// The forwarded signal as a rustix signal.
fn signal_of(sig: i32) -> rustix::process::Signal {
    use rustix::process::Signal;
    match sig {
        libc::SIGINT => Signal::INT,
        libc::SIGHUP => Signal::HUP,
        _ => Signal::TERM,
    }
}

/// Makes the child get SIGKILL when `kss run` dies (Linux `PR_SET_PDEATHSIG`), so a workload
/// never outlives its enclave endpoint. The signal is tied to the spawning thread: the main
/// thread spawns the workload and lives until it has been waited for.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // The pre_exec hook; see the SAFETY comment.
fn die_with_parent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let parent = rustix::process::getpid();
    // SAFETY: the hook runs in the child between fork and exec, where only async-signal-safe
    // operations are allowed. It makes two system calls (prctl, getppid), allocates nothing
    // and takes no lock; its error is built from a raw errno without allocating.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            // `kss run` died before the prctl: the child was already reparented.
            if rustix::process::getppid() != Some(parent) {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// No parent-death signal outside Linux.
#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut std::process::Command) {}
