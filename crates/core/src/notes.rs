//! Credit and debit notes (CGST Act s.34, Rule 53(1A)): the arithmetic of a note
//! against an issued invoice, without any storage.
//!
//! A note repeats its invoice's tax treatment (CGST+SGST, IGST, zero-rated or
//! untaxed) and place of supply whatever the customer's data says now; its lines
//! are rounded once each (they already are, as invoice lines or typed amounts),
//! its taxes once each on the note's subtotal (SPEC §2.2, §2.3).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::billing::invoice::{round_off, taxes_of, GstTreatment};
use crate::money::{Currency, Money, Rounding};

/// Which way a note corrects its invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoteKind {
    /// The invoice charged too much (s.34(1)).
    Credit,
    /// The invoice charged too little (s.34(3)).
    Debit,
}

impl NoteKind {
    /// `credit` or `debit`, as stored and written in `notes.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Credit => "credit",
            NoteKind::Debit => "debit",
        }
    }

    /// The nature of the document printed on it (Rule 53(1A)(b)).
    pub fn title(self) -> &'static str {
        match self {
            NoteKind::Credit => "Credit Note",
            NoteKind::Debit => "Debit Note",
        }
    }

    /// The kind named by [`NoteKind::as_str`].
    pub fn parse(text: &str) -> Option<NoteKind> {
        match text {
            "credit" => Some(NoteKind::Credit),
            "debit" => Some(NoteKind::Debit),
            _ => None,
        }
    }
}

/// The amounts of one note, all positive (the kind says which way they go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoteTotals {
    /// Sum of the note's line amounts (the taxable value).
    pub subtotal: Money,
    /// Central GST.
    pub cgst: Money,
    /// State GST.
    pub sgst: Money,
    /// Integrated GST.
    pub igst: Money,
    /// Brings the total to a whole unit when `round_off` is on.
    pub round_off: Money,
    /// Subtotal + taxes + round-off.
    pub total: Money,
}

impl NoteTotals {
    /// All GST on the note.
    pub fn tax(&self) -> Money {
        Money::sum(
            self.subtotal.currency(),
            [&self.cgst, &self.sgst, &self.igst],
        )
    }
}

/// The totals of a note of `lines` (amounts already rounded) under its invoice's
/// `treatment`, at `rate` percent.
pub fn note_totals(
    currency: Currency,
    lines: &[Money],
    treatment: GstTreatment,
    rate: Decimal,
    rounding: Rounding,
    with_round_off: bool,
) -> NoteTotals {
    let subtotal = Money::sum(currency, lines);
    let t = taxes_of(subtotal, treatment, rate, rounding);
    let before = Money::sum(currency, [&subtotal, &t.cgst, &t.sgst, &t.igst]);
    let round_off = match with_round_off {
        true => round_off(before),
        false => Money::zero(currency),
    };
    NoteTotals {
        subtotal,
        cgst: t.cgst,
        sgst: t.sgst,
        igst: t.igst,
        round_off,
        total: Money::sum(currency, [&before, &round_off]),
    }
}

/// The tax treatment an issued invoice was given, read from what it charged:
/// CGST/SGST or IGST when it charged them; otherwise (nothing to read, such as a
/// zero subtotal) as the place of supply and tax setting decide.
pub fn issued_treatment(
    cgst: Decimal,
    sgst: Decimal,
    igst: Decimal,
    place_of_supply: &str,
    seller_state_code: &str,
    tax_enabled: bool,
) -> GstTreatment {
    if !cgst.is_zero() || !sgst.is_zero() {
        GstTreatment::IntraState
    } else if !igst.is_zero() && place_of_supply == crate::gst::EXPORT_CODE {
        GstTreatment::ExportWithIgst
    } else if !igst.is_zero() {
        GstTreatment::InterState
    } else if place_of_supply == crate::gst::EXPORT_CODE {
        GstTreatment::ZeroRated
    } else if !tax_enabled {
        GstTreatment::Untaxed
    } else if place_of_supply == seller_state_code {
        GstTreatment::IntraState
    } else {
        GstTreatment::InterState
    }
}

/// The last day a credit note with tax may be issued for supplies made on
/// `supplied` (CGST s.34(2)): 30 November after the end of that financial year.
pub fn credit_deadline(supplied: NaiveDate) -> NaiveDate {
    let fy_end_year = supplied.year() + i32::from(supplied.month() >= 4);
    NaiveDate::from_ymd_opt(fy_end_year, 11, 30).expect("30 November exists")
}

/// What is left to credit on an invoice of `total` after the credit notes
/// `credited` (never below zero: the cap is never exceeded).
pub fn credit_left(total: Money, credited: &[Money]) -> Money {
    let used = Money::sum(total.currency(), credited);
    let left = total.amount() - used.amount();
    Money::round(left.max(Decimal::ZERO), total.currency(), Rounding::HalfUp)
}

/// One line whose amount differs between what an invoice billed and what the data
/// says now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineChange<K> {
    /// The line's identity (its charge, number and first day).
    pub key: K,
    /// What was billed for it (0 for a line the invoice did not have).
    pub billed: Decimal,
    /// What the data says now (0 for a line that vanished).
    pub now: Decimal,
}

impl<K> LineChange<K> {
    /// `now − billed`: positive for a debit, negative for a credit.
    pub fn difference(&self) -> Decimal {
        self.now - self.billed
    }
}

/// The lines whose amounts differ, in key order: the amounts of each key summed on
/// either side (a key on one side only counts 0 on the other).
pub fn line_changes<K: Ord + Clone>(
    billed: &[(K, Decimal)],
    now: &[(K, Decimal)],
) -> Vec<LineChange<K>> {
    let mut sums: std::collections::BTreeMap<K, (Decimal, Decimal)> = Default::default();
    for (key, amount) in billed {
        sums.entry(key.clone()).or_default().0 += *amount;
    }
    for (key, amount) in now {
        sums.entry(key.clone()).or_default().1 += *amount;
    }
    sums.into_iter()
        .filter(|(_, (billed, now))| billed != now)
        .map(|(key, (billed, now))| LineChange { key, billed, now })
        .collect()
}

/// The GST on a signed difference of taxable value under an invoice's treatment,
/// each tax rounded once (a negative difference has negative tax).
pub fn tax_of_difference(
    difference: Money,
    treatment: GstTreatment,
    rate: Decimal,
    rounding: Rounding,
) -> Money {
    let t = taxes_of(difference, treatment, rate, rounding);
    Money::sum(difference.currency(), [&t.cgst, &t.sgst, &t.igst])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inr(s: &str) -> Money {
        Money::round(s.parse().unwrap(), Currency::INR, Rounding::HalfUp)
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_note_repeats_its_invoices_treatment_and_rounds_each_tax_once() {
        let lines = [inr("100.05"), inr("0.50")];
        let intra = note_totals(
            Currency::INR,
            &lines,
            GstTreatment::IntraState,
            Decimal::from(18),
            Rounding::HalfUp,
            false,
        );
        // 100.55 × 9% = 9.0495 → 9.05 each, rounded once on the subtotal.
        assert_eq!(
            (
                intra.subtotal,
                intra.cgst,
                intra.sgst,
                intra.igst,
                intra.total
            ),
            (
                inr("100.55"),
                inr("9.05"),
                inr("9.05"),
                inr("0.00"),
                inr("118.65")
            )
        );
        let inter = note_totals(
            Currency::INR,
            &lines,
            GstTreatment::InterState,
            Decimal::from(18),
            Rounding::HalfEven,
            true,
        );
        // 100.55 × 18% = 18.099 → 18.10; 118.65 rounds off to 119.
        assert_eq!(
            (inter.igst, inter.round_off, inter.total, inter.tax()),
            (inr("18.10"), inr("0.35"), inr("119.00"), inr("18.10"))
        );
        let export = note_totals(
            Currency::INR,
            &lines,
            GstTreatment::ZeroRated,
            Decimal::from(18),
            Rounding::HalfUp,
            false,
        );
        assert_eq!((export.tax(), export.total), (inr("0.00"), inr("100.55")));
    }

    #[test]
    fn the_treatment_is_read_from_what_the_invoice_charged() {
        let z = Decimal::ZERO;
        let t = Decimal::ONE;
        assert_eq!(
            issued_treatment(t, t, z, "29", "27", true),
            GstTreatment::IntraState
        );
        assert_eq!(
            issued_treatment(z, z, t, "29", "29", true),
            GstTreatment::InterState
        );
        assert_eq!(
            issued_treatment(z, z, z, "96", "29", true),
            GstTreatment::ZeroRated
        );
        // An export on payment of IGST charged IGST to place of supply 96.
        assert_eq!(
            issued_treatment(z, z, t, "96", "29", true),
            GstTreatment::ExportWithIgst
        );
        assert_eq!(
            issued_treatment(z, z, z, "29", "29", false),
            GstTreatment::Untaxed
        );
        assert_eq!(
            issued_treatment(z, z, z, "29", "29", true),
            GstTreatment::IntraState
        );
        assert_eq!(
            issued_treatment(z, z, z, "27", "29", true),
            GstTreatment::InterState
        );
    }

    #[test]
    fn the_credit_deadline_is_30_november_after_the_financial_year() {
        assert_eq!(credit_deadline(date("2026-11-01")), date("2027-11-30"));
        assert_eq!(credit_deadline(date("2026-04-01")), date("2027-11-30"));
        assert_eq!(credit_deadline(date("2027-03-01")), date("2027-11-30"));
        assert_eq!(credit_deadline(date("2027-04-01")), date("2028-11-30"));
    }

    #[test]
    fn line_changes_name_vanished_new_and_changed_lines_with_signed_differences() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let billed = [("a", d("300.00")), ("b", d("100.00")), ("c", d("5.00"))];
        let now = [("a", d("250.00")), ("c", d("5.00")), ("n", d("40.00"))];
        let changes = line_changes(&billed, &now);
        let shown: Vec<(&str, Decimal)> = changes.iter().map(|c| (c.key, c.difference())).collect();
        assert_eq!(
            shown,
            [("a", d("-50.00")), ("b", d("-100.00")), ("n", d("40.00"))]
        );
        assert_eq!(
            tax_of_difference(
                inr("-50.05"),
                GstTreatment::IntraState,
                Decimal::from(18),
                Rounding::HalfUp
            ),
            inr("-9.00")
        );
        assert_eq!(
            tax_of_difference(
                inr("40.00"),
                GstTreatment::InterState,
                Decimal::from(18),
                Rounding::HalfUp
            ),
            inr("7.20")
        );
    }

    #[test]
    fn credit_left_is_the_total_less_every_credit_note() {
        assert_eq!(credit_left(inr("354.00"), &[]), inr("354.00"));
        assert_eq!(
            credit_left(inr("354.00"), &[inr("118.00"), inr("118.00")]),
            inr("118.00")
        );
        assert_eq!(credit_left(inr("354.00"), &[inr("354.00")]), inr("0.00"));
    }
}
