//! didbill: the monthly DID billing run of a Vobiz partner.
//!
//! The pipeline reads top to bottom: [`vobiz`] (source) → [`inventory`] (validated
//! customers and numbers, plus exceptions) → [`billing`] (pure rules, charges,
//! invoices with tax) → [`numbering`] and [`ledger`] (gap-free numbers, idempotent
//! re-runs) → [`render`] (CSV, PDF) → [`output`] (atomic commit). [`run`] wires the
//! stages; [`cli`] turns arguments into settings.
#![forbid(unsafe_code)]

pub mod audit;
pub mod billing;
pub mod calls;
pub mod cli;
pub mod config;
pub mod error;
pub mod format;
pub mod gst;
pub mod inventory;
pub mod ledger;
pub mod money;
pub mod numbering;
pub mod numbers;
pub mod output;
pub mod period;
pub mod pricing;
pub mod progress;
pub mod render;
pub mod run;
pub mod text;
pub mod vobiz;
