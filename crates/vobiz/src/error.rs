//! The errors of the Vobiz layer; the application maps each to its exit status.

use std::path::PathBuf;

/// Everything that can stop a fetch or a snapshot read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is wrong in a way the user must fix: credentials, the base URL, a
    /// customer id that is not the partner's.
    #[error("{0}")]
    Usage(String),
    /// The Vobiz API failed after retries, or refused the request.
    #[error("Vobiz API: {0}")]
    Api(String),
    /// A snapshot or CDR file is missing or malformed.
    #[error("{path}: {message}")]
    Input {
        /// The file that could not be used.
        path: PathBuf,
        /// What is wrong, naming the record and field where known.
        message: String,
    },
    /// The operating system refused something (starting the HTTP runtime).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The operating-system error.
        source: std::io::Error,
    },
}

impl Error {
    /// A malformed or missing input file.
    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An I/O error with the action that failed.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias of the Vobiz layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
