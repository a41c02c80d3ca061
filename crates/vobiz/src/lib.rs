//! The Vobiz Partner API as didbill reads it: its JSON shapes ([`dto`], [`cdr`]),
//! inventory snapshots ([`snapshot`]), and the client ([`client`], [`retry`]) that
//! fetches the live inventory page by page ([`fetch`]).
//!
//! This layer knows nothing of money rules, of didbill's command line or of its
//! configuration file: it turns requests and files into records, exactly as sent.
//! It reads no environment variable; the application passes in what it resolved.
#![forbid(unsafe_code)]

pub mod cdr;
pub mod client;
pub mod dto;
pub mod error;
pub mod fetch;
pub mod retry;
pub mod settings;
pub mod snapshot;

pub use error::{Error, Result};
