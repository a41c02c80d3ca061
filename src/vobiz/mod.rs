//! Everything about the Vobiz Partner API: its JSON shapes, snapshots, and the
//! client that fetches the live inventory.
//!
//! This layer knows nothing of money rules: it turns bytes into records.

pub mod cdr;
pub mod client;
pub mod dto;
pub mod fetch;
pub mod retry;
pub mod snapshot;
