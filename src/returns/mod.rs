//! GST returns from the ledger: `didbill gstr1` ([`gstr1`]).

pub mod gstr1;
