//! Renderers: turn issued invoices and exceptions into output files.
//!
//! [`csv`] writes the canonical files, [`exports`] the accounting layouts, [`pdf`]
//! one PDF tax invoice per invoice; [`words`] holds the Indian amount formatting and
//! amount-in-words helpers the PDF prints with.

pub mod csv;
pub mod exports;
pub mod notes;
pub mod pdf;
pub mod pdf_model;
pub mod words;
