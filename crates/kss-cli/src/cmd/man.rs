//! `kss man [--out DIR]`: man pages generated from the same clap definitions as the parser
//! (clap_mangen): `kss.1` and one page per subcommand (`kss-verify.1`, `kss-sim-ca-export.1`).

use crate::error::{CliError, CliResult};
use crate::util::write_atomic;
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Without --out, kss.1 is printed on stdout (e.g. `kss man | man -l -`). With --out DIR, every
page is written into DIR (created if missing; pages of the same names are replaced):
  kss man --out ~/.local/share/man/man1      then: man kss, man kss-verify";

/// Arguments of `kss man`.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Write kss.1 and one page per subcommand (kss-SUBCOMMAND.1) into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> CliResult {
    let mut cmd = crate::cli_command();
    cmd.build();
    let Some(dir) = args.out else {
        crate::util::write_stdout(&render(&cmd)?);
        return Ok(ExitCode::SUCCESS);
    };
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::input(format!(
            "--out '{}' is an existing file, not a directory",
            dir.display()
        ))
        .input_name(dir.display().to_string()));
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        CliError::environment(format!("cannot create directory '{}': {e}", dir.display()))
    })?;
    let mut pages = Vec::new();
    collect_pages(&cmd, "kss", &mut pages);
    for (name, page) in pages {
        let bytes = render(&page)?;
        let path = dir.join(format!("{name}.1"));
        write_atomic(&path, &bytes)?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `cmd` under `name`, then every (non-hidden, non-help) subcommand as `name-sub`, depth first.
fn collect_pages(cmd: &clap::Command, name: &str, out: &mut Vec<(String, clap::Command)>) {
    out.push((name.to_string(), cmd.clone().display_name(name.to_string())));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        collect_pages(sub, &format!("{name}-{}", sub.get_name()), out);
    }
}

/// The page of one command, its header naming kss and its version.
fn render(cmd: &clap::Command) -> Result<Vec<u8>, CliError> {
    let mut out = Vec::new();
    let version = cmd.get_version().unwrap_or_default();
    clap_mangen::Man::new(cmd.clone())
        .source(format!("kss {version}"))
        .manual("kss manual")
        .render(&mut out)
        .map_err(|e| CliError::environment(format!("cannot render man page: {e}")))?;
    Ok(out)
}
