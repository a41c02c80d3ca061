//! didbill: the monthly DID billing run of a Vobiz partner.
//!
//! The pipeline reads top to bottom: [`vobiz`] (source) → [`inventory`] (validated
//! customers and numbers, plus exceptions) → [`billing`] (pure rules, charges,
//! invoices with tax) → invoice numbering → [`render`] (CSV, PDF) → [`output`]
//! (atomic commit). [`run`] wires the stages; [`cli`] turns arguments into settings.
#![forbid(unsafe_code)]

pub mod error;
pub mod output;
pub mod render;
pub mod vobiz;
