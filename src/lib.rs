//! didbill: the monthly DID billing run of a Vobiz partner — the application.
//!
//! The pipeline reads top to bottom: [`source`] (the Vobiz API through the `vobiz`
//! crate, or a snapshot) → [`inventory`] (validated customers and numbers, plus
//! exceptions) → `didbill_core::billing` (pure rules, charges, invoices with tax)
//! → [`ledger`] (gap-free numbers, idempotent re-runs) → [`render`] (CSV, PDF) →
//! [`output`] (atomic commit). [`run`] wires the stages; [`cli`] turns arguments,
//! the configuration file and the environment into settings once.
#![forbid(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod config;
pub mod csv_file;
pub mod delivery;
pub mod error;
pub mod fetch;
pub mod format;
pub mod fx;
pub mod inventory;
pub mod ledger;
pub mod note;
pub mod numbers;
pub mod output;
pub mod progress;
pub mod render;
pub mod returns;
pub mod run;
pub mod source;
pub mod text;
