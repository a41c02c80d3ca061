//! Rupee values of invoices in another currency (CGST Rule 34: the taxable value of
//! a supply in foreign currency is converted at the reference rate of the date of
//! supply, and GST is due in rupees).
//!
//! [`FxRates`] holds the rates the finance team supplies: dated rates (a file of
//! `date,currency,inr_per_unit`) and, as a fallback, one rate per currency from the
//! configuration. The rate of an invoice is the dated rate of its invoice date, or
//! else of the latest date up to [`MAX_RATE_AGE_DAYS`] before it (reference rates
//! are not published on holidays); failing that the configured rate.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::billing::{GstTreatment, Invoice, IssuedInvoice};
use crate::money::Currency;

/// How many days before an invoice date a dated rate may be taken from.
pub const MAX_RATE_AGE_DAYS: i64 = 7;

/// The exchange rates of a run, in rupees per unit of each currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FxRates {
    dated: BTreeMap<Currency, BTreeMap<NaiveDate, Decimal>>,
    fixed: BTreeMap<Currency, Decimal>,
}

impl FxRates {
    /// Adds the rate of `currency` on `date`; a second rate for the same day is
    /// refused (returns `false`), since which one to use would be a guess.
    pub fn insert_dated(&mut self, currency: Currency, date: NaiveDate, rate: Decimal) -> bool {
        *self
            .dated
            .entry(currency)
            .or_default()
            .entry(date)
            .or_insert(rate)
            == rate
    }

    /// Sets the rate of `currency` used when no dated rate applies.
    pub fn insert_fixed(&mut self, currency: Currency, rate: Decimal) {
        self.fixed.insert(currency, rate);
    }

    /// The rate of `currency` for an invoice dated `date` (see the module doc).
    pub fn rate(&self, currency: Currency, date: NaiveDate) -> Option<Decimal> {
        let earliest = date - chrono::Duration::days(MAX_RATE_AGE_DAYS);
        self.dated
            .get(&currency)
            .and_then(|by_date| by_date.range(earliest..=date).next_back())
            .map(|(_, rate)| *rate)
            .or_else(|| self.fixed.get(&currency).copied())
    }
}

/// Whether `invoice` needs a rupee rate: it is not in rupees and GST applies to it
/// (charged, or zero-rated as an export, whose value the GST return reports in
/// rupees). Invoices with tax disabled need none.
pub fn needs_rate(invoice: &Invoice) -> bool {
    invoice.currency != Currency::INR && invoice.treatment != GstTreatment::Untaxed
}

/// An invoice's GST figures in rupees at one exchange rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InrValues {
    /// Rupees per unit of the invoice currency.
    pub rate: Decimal,
    /// The taxable value (the subtotal) in rupees.
    pub taxable_value: Decimal,
    /// Central GST in rupees.
    pub cgst: Decimal,
    /// State GST in rupees.
    pub sgst: Decimal,
    /// Integrated GST in rupees.
    pub igst: Decimal,
}

impl InrValues {
    /// `invoice`'s taxable value converted at `rate`, and its GST computed on that
    /// rupee value at `gst_percent` (the tax is due on the rupee taxable value, so it
    /// is not the converted foreign-currency tax): CGST and SGST at half the rate
    /// each, IGST at the whole rate, nothing for a zero-rated or untaxed invoice;
    /// each figure rounded half up to the paisa.
    pub fn of(invoice: &Invoice, rate: Decimal, gst_percent: Decimal) -> InrValues {
        InrValues::of_value(
            invoice.subtotal.amount(),
            invoice.treatment,
            rate,
            gst_percent,
        )
    }

    /// [`InrValues::of`] for any document (an invoice or a note on one) of taxable
    /// value `subtotal`, in its currency, taxed as `treatment`.
    pub fn of_value(
        subtotal: Decimal,
        treatment: GstTreatment,
        rate: Decimal,
        gst_percent: Decimal,
    ) -> InrValues {
        let paise =
            |v: Decimal| v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let taxable_value = paise(subtotal * rate);
        let at = |percent: Decimal| paise(taxable_value * percent / Decimal::ONE_HUNDRED);
        let (cgst, sgst, igst) = match treatment {
            GstTreatment::IntraState => {
                let half = at(gst_percent / Decimal::TWO);
                (half, half, Decimal::ZERO)
            }
            GstTreatment::InterState | GstTreatment::ExportWithIgst => {
                (Decimal::ZERO, Decimal::ZERO, at(gst_percent))
            }
            GstTreatment::ZeroRated | GstTreatment::Untaxed => {
                (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
            }
        };
        InrValues {
            rate,
            taxable_value,
            cgst,
            sgst,
            igst,
        }
    }

    /// `issued`'s GST figures in rupees at GST rate `gst_percent`, when it has an
    /// exchange rate.
    pub fn of_issued(issued: &IssuedInvoice, gst_percent: Decimal) -> Option<InrValues> {
        issued
            .fx_rate
            .map(|rate| InrValues::of(&issued.invoice, rate, gst_percent))
    }

    /// All GST in rupees.
    pub fn tax(&self) -> Decimal {
        self.cgst + self.sgst + self.igst
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_rate_of_the_invoice_date_or_the_latest_within_a_week_or_the_fixed_one() {
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let mut rates = FxRates::default();
        assert!(rates.insert_dated(usd, date("2026-11-27"), d("84.10")));
        assert!(rates.insert_dated(usd, date("2026-12-01"), d("84.35")));
        assert!(
            rates.insert_dated(usd, date("2026-12-01"), d("84.35")),
            "the same rate again"
        );
        assert!(
            !rates.insert_dated(usd, date("2026-12-01"), d("84.40")),
            "a second rate"
        );
        assert_eq!(rates.rate(usd, date("2026-12-01")), Some(d("84.35")));
        assert_eq!(rates.rate(usd, date("2026-11-30")), Some(d("84.10")));
        assert_eq!(rates.rate(usd, date("2026-12-08")), Some(d("84.35")));
        assert_eq!(
            rates.rate(usd, date("2026-12-09")),
            None,
            "older than a week"
        );
        assert_eq!(rates.rate(usd, date("2026-11-26")), None, "no earlier rate");
        rates.insert_fixed(usd, d("83"));
        assert_eq!(rates.rate(usd, date("2026-12-09")), Some(d("83")));
        assert_eq!(
            rates.rate(usd, date("2026-12-01")),
            Some(d("84.35")),
            "dated first"
        );
        assert_eq!(rates.rate(eur, date("2026-12-01")), None);
    }
}
