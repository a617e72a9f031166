//! `kss quote ...` (not implemented yet).

use crate::error::{CliError, CliResult};

/// Quote subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show every field of a DCAP quote.
    Inspect(InspectArgs),
}

/// Arguments of `kss quote inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {}

/// Runs the command.
pub fn run(_cmd: Command) -> CliResult {
    Err(CliError::environment(
        "'quote inspect' is not implemented yet",
    ))
}
