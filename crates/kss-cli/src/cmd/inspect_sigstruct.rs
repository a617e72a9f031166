//! `kss inspect_sigstruct` (not implemented yet).

use crate::error::{CliError, CliResult};

/// Arguments.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> CliResult {
    Err(CliError::environment(
        "'inspect_sigstruct' is not implemented yet",
    ))
}
