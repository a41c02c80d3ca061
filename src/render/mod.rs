//! Renderers: turn issued invoices and exceptions into output files.

pub mod csv;
pub mod exports;
