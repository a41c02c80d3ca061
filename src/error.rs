//! The one error type of didbill and its mapping to process exit codes.
//!
//! Every failure that reaches `main` is an [`Error`]; [`Error::exit_code`] turns it
//! into the documented exit status (SPEC §3): 1 bad input, config or data; 2 usage;
//! 3 the API failed after retries; 4 ledger conflict; 5 audit findings.

use std::path::PathBuf;

/// Everything that can stop a didbill command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line was wrong in a way clap could not see (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The configuration file is invalid (exit 1).
    #[error("configuration {path}: {message}")]
    Config {
        /// The configuration file, or `<defaults>`.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An input file is missing or malformed (exit 1).
    #[error("{path}: {message}")]
    Input {
        /// The file that could not be used.
        path: PathBuf,
        /// What is wrong, naming the record and field where known.
        message: String,
    },
    /// The data cannot be billed (for example `--strict` with exceptions) (exit 1).
    #[error("{0}")]
    Data(String),
    /// Reading or writing a file failed (exit 1).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The Vobiz API failed after retries, or refused the request (exit 3).
    #[error("Vobiz API: {0}")]
    Api(String),
    /// Invoices already in the ledger would change (exit 4).
    #[error("ledger conflict: {0}")]
    LedgerConflict(String),
    /// The ledger could not be read or written (exit 1).
    #[error("ledger {path}: {message}")]
    Ledger {
        /// The ledger file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// `audit --fail-on-findings` found something (exit 5).
    #[error("{0} finding(s)")]
    Findings(usize),
}

impl Error {
    /// The process exit status for this error (SPEC §3).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Api(_) => 3,
            Error::LedgerConflict(_) => 4,
            Error::Findings(_) => 5,
            Error::Config { .. }
            | Error::Input { .. }
            | Error::Data(_)
            | Error::Io { .. }
            | Error::Ledger { .. } => 1,
        }
    }

    /// An I/O error with the path or action that failed.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A malformed or missing input file.
    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Result alias used throughout didbill.
pub type Result<T, E = Error> = std::result::Result<T, E>;
