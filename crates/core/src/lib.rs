//! didbill's pure core: money, periods, GST, country names, invoice number formats, partner prices,
//! the validated inventory and the billing rules that turn it into invoices.
//!
//! Nothing in this crate reads a file, the network, a database or the clock: its
//! only dependencies are decimal, date/time and serde, so the compiler
//! (not a convention) keeps billing pure. The application crate reads the source,
//! validates it into [`inventory`] types, calls [`billing::bill`], numbers the
//! invoices in its ledger and renders them.
#![forbid(unsafe_code)]

pub mod billing;
pub mod country;
pub mod fx;
pub mod gst;
pub mod gstr1;
pub mod inventory;
pub mod money;
pub mod notes;
pub mod numbering;
pub mod period;
pub mod pricing;
