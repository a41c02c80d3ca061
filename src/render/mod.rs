//! Renderers that turn finished invoices into files for people.
//!
//! [`pdf`] writes one PDF tax invoice per invoice; [`words`] holds the Indian
//! amount formatting and amount-in-words helpers it prints with.

pub mod pdf;
pub mod words;
