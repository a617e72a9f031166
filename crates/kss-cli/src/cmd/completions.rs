//! `kss completions SHELL`: a shell completion script, generated from the same clap definitions
//! as the parser (clap_complete), so it always knows every command and option.

use crate::error::CliResult;
use clap_complete::Shell;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Install (the script goes to stdout):
  bash:        kss completions bash > ~/.local/share/bash-completion/completions/kss
  zsh:         kss completions zsh > \"${fpath[1]}/_kss\"   (a directory on $fpath)
  fish:        kss completions fish > ~/.config/fish/completions/kss.fish
  elvish:      kss completions elvish >> ~/.config/elvish/rc.elv
  powershell:  kss completions powershell >> $PROFILE
Start a new shell afterwards. Regenerate after upgrading kss.";

/// Arguments of `kss completions`.
#[derive(clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The shell to write the completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Runs the command: prints the script on stdout.
pub fn run(args: Args) -> CliResult {
    let mut cmd = crate::cli_command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kss", &mut out);
    crate::util::write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}
