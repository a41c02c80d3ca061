//! The one error type of didbill and its mapping to process exit codes.
//!
//! Every failure that reaches `main` is an [`Error`]; [`Error::exit_code`] turns it
//! into the documented exit status (SPEC §3): 1 bad input, config or data; 2 usage;
//! 3 the API failed after retries; 4 ledger conflict; 5 audit findings; 6 `send`
//! did not deliver everything.

use std::path::PathBuf;

/// Every exit status didbill returns and what it means, as `--help` and the README
/// list them.
pub const EXIT_CODES: [(i32, &str); 7] = [
    (0, "success"),
    (
        1,
        "bad input, configuration or data (including --strict with exceptions)",
    ),
    (
        2,
        "usage: a wrong flag or value, missing credentials, an output folder didbill did not write, a real run refused (month not over, seller not configured, …)",
    ),
    (
        3,
        "the Vobiz API failed after retries, or refused the request",
    ),
    (4, "ledger conflict: an invoice already issued would change"),
    (5, "audit --fail-on-findings found something"),
    (
        6,
        "send: not every document was accepted by the mail server (each is listed), or the server could not be reached or refused the login (nothing sent)",
    ),
];

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
    /// `send`: documents were not accepted by the mail server (exit 6).
    #[error("{0} document(s) not sent; fix what is listed and run `didbill send` again")]
    NotSent(usize),
    /// `send`: the mail server could not be reached or refused the login (exit 6).
    #[error("{0}")]
    Smtp(String),
}

impl Error {
    /// The refusal of `--strict` when `count` `what` (e.g. "number(s)") cannot be
    /// billed, listing the first 20 of `items`.
    pub fn strict_refusal(what: &str, count: usize, items: impl Iterator<Item = String>) -> Error {
        let listed: Vec<String> = items.take(20).collect();
        Error::Data(format!(
            "--strict: {count} {what} cannot be billed; nothing was written:\n  {}{}",
            listed.join("\n  "),
            if count > 20 { "\n  …" } else { "" }
        ))
    }

    /// The process exit status for this error (SPEC §3).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Api(_) => 3,
            Error::LedgerConflict(_) => 4,
            Error::Findings(_) => 5,
            Error::NotSent(_) | Error::Smtp(_) => 6,
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

impl From<vobiz::Error> for Error {
    fn from(e: vobiz::Error) -> Error {
        match e {
            vobiz::Error::Usage(message) => Error::Usage(message),
            vobiz::Error::Api(message) => Error::Api(message),
            vobiz::Error::Input { path, message } => Error::Input { path, message },
            vobiz::Error::Io { context, source } => Error::Io { context, source },
        }
    }
}

/// Result alias used throughout didbill.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_is_listed_once() {
        let errors = [
            Error::Data(String::new()),
            Error::Usage(String::new()),
            Error::Api(String::new()),
            Error::LedgerConflict(String::new()),
            Error::Findings(1),
            Error::NotSent(1),
            Error::Smtp(String::new()),
        ];
        let listed: Vec<i32> = EXIT_CODES.iter().map(|(code, _)| *code).collect();
        assert_eq!(listed, [0, 1, 2, 3, 4, 5, 6]);
        for error in errors {
            assert!(listed.contains(&error.exit_code()), "{error:?}");
        }
    }

    #[test]
    fn strict_refusals_list_the_first_twenty_and_are_data_errors() {
        let items = (1..=25).map(|i| format!("item {i}"));
        let error = Error::strict_refusal("number(s)", 25, items);
        assert_eq!(error.exit_code(), 1);
        let text = error.to_string();
        assert!(
            text.contains(
                "--strict: 25 number(s) cannot be billed; nothing was written:\n  item 1\n"
            ),
            "{text}"
        );
        assert!(text.contains("\n  item 20\n  …"), "{text}");
        assert!(!text.contains("item 21"), "{text}");
        let two = Error::strict_refusal("call record(s)", 2, ["a".into(), "b".into()].into_iter());
        assert!(two.to_string().ends_with("written:\n  a\n  b"), "{two}");
    }
}
