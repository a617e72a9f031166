//! One error type for every command: a message for humans and an exit status for scripts.

use std::fmt;
use std::process::ExitCode;

/// Exit statuses shared by all commands (documented in `docs/cli.md`).
pub mod status {
    /// The operation ran and said no (e.g. a quote was rejected, a signature is invalid).
    pub const REJECTED: u8 = 1;
    /// Bad input: arguments, file contents, values out of range.
    pub const INPUT: u8 = 2;
    /// The environment failed: I/O, missing hardware or driver.
    pub const ENVIRONMENT: u8 = 3;
}

/// An error that ends a command.
#[derive(Debug)]
pub struct CliError {
    /// Exit status to use.
    pub status: u8,
    /// What went wrong: names the input, the field and what was expected.
    pub message: String,
    /// Optional hint on how to fix it.
    pub hint: Option<String>,
}

impl CliError {
    /// Bad input (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            status: status::INPUT,
            message: message.into(),
            hint: None,
        }
    }

    /// A negative verdict (exit 1).
    pub fn rejected(message: impl Into<String>) -> Self {
        Self {
            status: status::REJECTED,
            message: message.into(),
            hint: None,
        }
    }

    /// An environment failure (exit 3).
    pub fn environment(message: impl Into<String>) -> Self {
        Self {
            status: status::ENVIRONMENT,
            message: message.into(),
            hint: None,
        }
    }

    /// Any status.
    pub fn with_status(status: u8, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prints the error to stderr and returns its exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("kss: error: {}", self.message);
        if let Some(h) = &self.hint {
            eprintln!("kss: hint: {h}");
        }
        ExitCode::from(self.status)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Result of a command: the exit code on success (usually 0).
pub type CliResult = Result<ExitCode, CliError>;
