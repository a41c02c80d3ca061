//! Exchange rates for invoices in another currency: read from `--fx-rates FILE` and
//! `[fx]`, attached to each invoice that needs one, and a run without them refused.
//!
//! The rates file is CSV with the header `date,currency,inr_per_unit` (for example
//! `2026-12-01,USD,84.35`), one row per currency and date; the rules for choosing a
//! rate are [`didbill_core::fx`]'s.

use std::path::Path;

use chrono::NaiveDate;
use didbill_core::billing::{Invoice, IssuedInvoice};
use didbill_core::fx::{needs_rate, FxRates};
use didbill_core::money::{parse_amount, Currency};
use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// Largest accepted rate: far above any real currency's, and a typo guard.
const MAX_RATE: u32 = 1_000_000;

/// The rate `invoice`, dated `date`, is issued with: `None` for an invoice that
/// needs none, or when `rates` has none (see [`refuse_missing_rates`]).
pub fn rate_of(invoice: &Invoice, date: NaiveDate, rates: &FxRates) -> Option<Decimal> {
    needs_rate(invoice)
        .then(|| rates.rate(invoice.currency, date))
        .flatten()
}

/// Refuses (exit 1) when any of `invoices` needs an exchange rate and has none,
/// naming each invoice and the two ways to give the rate.
pub fn refuse_missing_rates<'a>(invoices: impl Iterator<Item = &'a IssuedInvoice>) -> Result<()> {
    match missing_rates(invoices) {
        Some(message) => Err(Error::Data(format!("{message}; nothing was written"))),
        None => Ok(()),
    }
}

/// What is missing when any of `invoices` needs an exchange rate and has none.
pub fn missing_rates<'a>(invoices: impl Iterator<Item = &'a IssuedInvoice>) -> Option<String> {
    let missing: Vec<String> = invoices
        .filter(|i| i.fx_rate.is_none() && needs_rate(&i.invoice))
        .map(|i| {
            format!(
                "{} ({}, {}, dated {})",
                i.number, i.invoice.customer.id, i.invoice.currency, i.invoice_date
            )
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "{} invoice(s) in a currency other than INR are under GST and need the rupee exchange \
         rate of their invoice date (CGST Rule 34), and none is given: {}. Give the rates with \
         --fx-rates FILE (CSV date,currency,inr_per_unit, e.g. 2026-12-01,USD,84.35) or in \
         [fx] of the configuration (e.g. USD = \"84.35\")",
        missing.len(),
        missing.join(", ")
    ))
}

/// Checks one rate: a positive decimal of at most 6 decimals, below [`MAX_RATE`].
pub fn check_rate(text: &str) -> std::result::Result<Decimal, String> {
    parse_amount(text)
        .filter(|r| *r > Decimal::ZERO && *r < Decimal::from(MAX_RATE) && r.scale() <= 6)
        .ok_or_else(|| {
            format!(
                "{text:?} is not an exchange rate: rupees per unit, a positive number with at \
                 most 6 decimals, such as 84.35"
            )
        })
}

/// Reads a rates file (see the module doc) into `rates`' dated rates.
pub fn read_rates_file(path: &Path, mut rates: FxRates) -> Result<FxRates> {
    let input = |message: String| Error::Input {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading --fx-rates {}", path.display()), e))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| input(format!("not CSV: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header != ["date", "currency", "inr_per_unit"] {
        return Err(input(format!(
            "the header is {:?}; it must be date,currency,inr_per_unit",
            header.join(",")
        )));
    }
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| input(format!("line {row}: {e}")))?;
        let field = |n: usize| record.get(n).unwrap_or("");
        let date = NaiveDate::parse_from_str(field(0), "%Y-%m-%d")
            .ok()
            .filter(|_| field(0).len() == 10)
            .ok_or_else(|| input(format!("line {row}: date {:?} is not YYYY-MM-DD", field(0))))?;
        let currency = Currency::parse(field(1))
            .filter(|c| *c != Currency::INR)
            .ok_or_else(|| {
                input(format!(
                    "line {row}: currency {:?} is not a three-letter code other than INR",
                    field(1)
                ))
            })?;
        let rate =
            check_rate(field(2)).map_err(|e| input(format!("line {row}: inr_per_unit {e}")))?;
        if !rates.insert_dated(currency, date, rate) {
            return Err(input(format!(
                "line {row}: a second, different rate for {currency} on {date}; keep one"
            )));
        }
    }
    Ok(rates)
}
