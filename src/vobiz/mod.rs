//! Everything about the Vobiz Partner API's data: its JSON shapes and snapshots.
//!
//! This layer knows nothing of money rules: it turns bytes into records.

pub mod cdr;
pub mod dto;
pub mod snapshot;
