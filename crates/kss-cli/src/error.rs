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
    /// The input (file or option) the error is about, when there is one.
    pub input: Option<String>,
}

impl CliError {
    /// Bad input (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            status: status::INPUT,
            message: message.into(),
            hint: None,
            input: None,
        }
    }

    /// A negative verdict (exit 1).
    pub fn rejected(message: impl Into<String>) -> Self {
        Self {
            status: status::REJECTED,
            message: message.into(),
            hint: None,
            input: None,
        }
    }

    /// An environment failure (exit 3).
    pub fn environment(message: impl Into<String>) -> Self {
        Self {
            status: status::ENVIRONMENT,
            message: message.into(),
            hint: None,
            input: None,
        }
    }

    /// Any status.
    pub fn with_status(status: u8, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hint: None,
            input: None,
        }
    }

    /// Adds a hint line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Names the input (a file path or an option) the error is about.
    pub fn input_name(mut self, input: impl Into<String>) -> Self {
        self.input = Some(input.into());
        self
    }

    /// The kind named in JSON errors: `rejected`, `input` or `environment`.
    pub fn kind(&self) -> &'static str {
        match self.status {
            status::REJECTED => "rejected",
            status::INPUT => "input",
            _ => "environment",
        }
    }

    /// Prints the error to stderr and returns its exit code. With `json` the error is also
    /// printed on stdout as `{"error": {"kind", "message", "input", "hint"}}`.
    pub fn report(&self, json: bool) -> ExitCode {
        if json {
            crate::util::print_json(&JsonError::new(
                self.kind(),
                &self.message,
                self.input.as_deref(),
                self.hint.as_deref(),
            ));
        }
        eprintln!("kss: error: {}", self.message);
        if let Some(h) = &self.hint {
            eprintln!("kss: hint: {h}");
        }
        ExitCode::from(self.status)
    }
}

/// The JSON form of an error on stdout: `{"error": {"kind", "message", "input", "hint"}}`,
/// with `null` for an absent input or hint.
#[derive(serde::Serialize)]
pub struct JsonError<'a> {
    error: JsonErrorBody<'a>,
}

/// The object under `"error"` (fields in output order).
#[derive(serde::Serialize)]
struct JsonErrorBody<'a> {
    kind: &'a str,
    message: &'a str,
    input: Option<&'a str>,
    hint: Option<&'a str>,
}

impl<'a> JsonError<'a> {
    /// An error of `kind` (see [`CliError::kind`]) with its message, input and hint.
    pub fn new(
        kind: &'a str,
        message: &'a str,
        input: Option<&'a str>,
        hint: Option<&'a str>,
    ) -> Self {
        Self {
            error: JsonErrorBody {
                kind,
                message,
                input,
                hint,
            },
        }
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
