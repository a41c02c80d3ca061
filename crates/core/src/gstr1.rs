//! GSTR-1, the monthly return of outward supplies, from the documents a ledger
//! issued: each document classified into its section (B2B, B2CL, B2CS, exports,
//! nil-rated, credit/debit notes), the HSN/SAC summary and the documents issued,
//! every amount in rupees, with totals that reconcile with the documents.
//!
//! Pure: the application reads the documents from its ledger and writes the
//! sections out (JSON in the GSTN offline-tool shape, CSVs).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::fx::FxRates;
use crate::gst::{self, EXPORT_CODE};
use crate::money::Currency;
use crate::period::Period;

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocKind {
    /// A tax invoice.
    Invoice,
    /// A credit note (reduces an invoice).
    CreditNote,
    /// A debit note (adds to an invoice).
    DebitNote,
}

impl DocKind {
    /// Its nature-of-document code in the documents-issued table (Table 13): 1
    /// invoices for outward supply, 4 debit notes, 5 credit notes.
    pub fn doc_num(self) -> u32 {
        match self {
            DocKind::Invoice => 1,
            DocKind::DebitNote => 4,
            DocKind::CreditNote => 5,
        }
    }

    /// Its name in the documents-issued table.
    pub fn nature(self) -> &'static str {
        match self {
            DocKind::Invoice => "Invoices for outward supply",
            DocKind::DebitNote => "Debit Note",
            DocKind::CreditNote => "Credit Note",
        }
    }
}

/// One issued document as the ledger records it. Amounts are in the document's
/// currency and positive (a credit note's amounts are what it takes off).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Invoice, credit note or debit note.
    pub kind: DocKind,
    /// Its number.
    pub number: String,
    /// Its date.
    pub date: NaiveDate,
    /// The financial year of its series.
    pub financial_year: String,
    /// Its sequence number in that year's series.
    pub seq: i64,
    /// The customer's name as billed.
    pub customer_name: String,
    /// The customer's GSTIN, if it had one.
    pub gstin: Option<String>,
    /// The two-digit place of supply (`96` for an export).
    pub place_of_supply: String,
    /// The currency.
    pub currency: Currency,
    /// The rupee rate recorded with it, if any.
    pub fx_rate: Option<Decimal>,
    /// The taxable value.
    pub subtotal: Decimal,
    /// Central GST.
    pub cgst: Decimal,
    /// State GST.
    pub sgst: Decimal,
    /// Integrated GST.
    pub igst: Decimal,
    /// The document's total (its value).
    pub total: Decimal,
    /// Cancelled: counted in the documents issued only.
    pub cancelled: bool,
    /// A note's original invoice: it decides the note's section.
    pub original: Option<Box<Document>>,
}

/// What the return needs besides the documents.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The seller's GSTIN (the return's `gstin`).
    pub seller_gstin: String,
    /// The month of the return.
    pub period: Period,
    /// The GST rate every document was issued at, in percent.
    pub rate: Decimal,
    /// The SAC of the service.
    pub sac: String,
    /// Rates for documents issued before the ledger recorded rates.
    pub fx: FxRates,
    /// Treat a customer whose GSTIN is invalid as unregistered instead of stopping.
    pub unregistered_if_invalid: bool,
}

/// A document's figures in rupees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// The document's value (its total).
    pub value: Decimal,
    /// Taxable value.
    pub taxable: Decimal,
    /// Integrated GST.
    pub igst: Decimal,
    /// Central GST.
    pub cgst: Decimal,
    /// State GST.
    pub sgst: Decimal,
}

impl Figures {
    fn add(&mut self, other: &Figures, sign: Decimal) {
        self.value += other.value * sign;
        self.taxable += other.taxable * sign;
        self.igst += other.igst * sign;
        self.cgst += other.cgst * sign;
        self.sgst += other.sgst * sign;
    }
}

/// The sections of GSTR-1 a document can be reported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// Supplies to registered persons.
    B2b,
    /// Inter-state supplies to unregistered persons above the B2CL limit.
    B2cl,
    /// Other supplies to unregistered persons, summarised.
    B2cs,
    /// Exports.
    Exp,
    /// Nil-rated supplies (a 0 % rate).
    Nil,
    /// Credit and debit notes to registered persons.
    Cdnr,
    /// Credit and debit notes to unregistered persons (of B2CL and export invoices).
    Cdnur,
}

impl Section {
    /// The section's key in the return (`b2b`, …).
    pub fn key(self) -> &'static str {
        match self {
            Section::B2b => "b2b",
            Section::B2cl => "b2cl",
            Section::B2cs => "b2cs",
            Section::Exp => "exp",
            Section::Nil => "nil",
            Section::Cdnr => "cdnr",
            Section::Cdnur => "cdnur",
        }
    }

    /// Every section, in the return's order.
    pub const ALL: [Section; 7] = [
        Section::B2b,
        Section::B2cl,
        Section::B2cs,
        Section::Exp,
        Section::Nil,
        Section::Cdnr,
        Section::Cdnur,
    ];
}

/// The inter-state invoice value to an unregistered person above which the
/// invoice is reported one by one (B2CL) rather than summarised (B2CS): ₹1,00,000
/// for invoices dated from 1 August 2024 (CGST Rule 59(4)(b) as amended by
/// Notification 12/2024–Central Tax), ₹2,50,000 before.
pub fn b2cl_limit(date: NaiveDate) -> Decimal {
    match date >= NaiveDate::from_ymd_opt(2024, 8, 1).expect("valid date") {
        true => Decimal::from(100_000),
        false => Decimal::from(250_000),
    }
}

/// Whether the HSN summary (Table 12) is split into B2B and B2C tables: from the
/// May 2025 return (GSTN's phase III of Table 12).
pub fn hsn_split(period: Period) -> bool {
    period.start() >= NaiveDate::from_ymd_opt(2025, 5, 1).expect("valid date")
}

/// One document as reported: its section, place of supply, rate, rupee figures and,
/// for an export, whether IGST was paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    /// The document.
    pub doc: Document,
    /// Its section.
    pub section: Section,
    /// The recipient's GSTIN when reported as registered.
    pub ctin: Option<String>,
    /// The place of supply (the original invoice's, for a note).
    pub pos: String,
    /// Supplied within the seller's state.
    pub intra: bool,
    /// The rate, in percent (0 for an export under LUT).
    pub rate: Decimal,
    /// An export on payment of IGST (`WPAY`), else without (`WOPAY`).
    pub export_with_igst: bool,
    /// For a note in `cdnur`: `B2CL`, `EXPWP` or `EXPWOP`.
    pub unregistered_type: Option<&'static str>,
    /// Its figures in rupees.
    pub figures: Figures,
    /// The rupee rate used, for a document in another currency.
    pub fx_rate: Option<Decimal>,
}

impl Reported {
    /// +1 for invoices and debit notes, −1 for credit notes (what a document adds
    /// to the month's supplies).
    pub fn sign(&self) -> Decimal {
        match self.doc.kind {
            DocKind::CreditNote => Decimal::NEGATIVE_ONE,
            _ => Decimal::ONE,
        }
    }

    /// Whether it goes to the B2B table of the HSN summary (supplies to registered
    /// persons), else the B2C one.
    pub fn hsn_b2b(&self) -> bool {
        matches!(self.section, Section::B2b | Section::Cdnr)
    }
}

/// One row of the B2CS summary: supplies to unregistered persons by supply type,
/// place of supply and rate (notes on B2CS invoices netted in).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct B2csRow {
    /// `INTRA` or `INTER`.
    pub supply_type: &'static str,
    /// Place of supply.
    pub pos: String,
    /// Rate in percent.
    pub rate: Decimal,
    /// Rupee figures.
    pub figures: Figures,
}

/// One row of the HSN/SAC summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HsnRow {
    /// The SAC.
    pub sac: String,
    /// Rate in percent.
    pub rate: Decimal,
    /// Rupee figures (credit notes subtracted).
    pub figures: Figures,
}

/// One row of the documents issued (Table 13): a run of consecutive numbers of one
/// series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocRange {
    /// What the documents are.
    pub kind: DocKind,
    /// The first number.
    pub from: String,
    /// The last number.
    pub to: String,
    /// How many numbers the run holds.
    pub total: u64,
    /// How many of them are cancelled.
    pub cancelled: u64,
}

/// The return, ready to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gstr1 {
    /// The seller's GSTIN.
    pub gstin: String,
    /// The return period.
    pub period: Period,
    /// The documents reported one by one, in section then number order (not the
    /// cancelled ones).
    pub documents: Vec<Reported>,
    /// The B2CS summary.
    pub b2cs: Vec<B2csRow>,
    /// The HSN summary of supplies to registered persons (or all, before the split).
    pub hsn_b2b: Vec<HsnRow>,
    /// The HSN summary of other supplies (empty before the split).
    pub hsn_b2c: Vec<HsnRow>,
    /// The documents issued.
    pub doc_issue: Vec<DocRange>,
    /// Whether the HSN summary is split.
    pub hsn_split: bool,
    /// Customers treated as unregistered for an invalid GSTIN, with the reason.
    pub invalid_gstins: Vec<String>,
}

impl Gstr1 {
    /// The documents of `section`.
    pub fn section(&self, section: Section) -> impl Iterator<Item = &Reported> {
        self.documents.iter().filter(move |r| r.section == section)
    }

    /// Per section: documents and net figures (credit notes subtracted).
    pub fn section_totals(&self) -> BTreeMap<Section, (usize, Figures)> {
        let mut totals: BTreeMap<Section, (usize, Figures)> = BTreeMap::new();
        for r in &self.documents {
            let entry = totals.entry(r.section).or_default();
            entry.0 += 1;
            entry.1.add(&r.figures, r.sign());
        }
        totals
    }

    /// The month's net figures over every document (credit notes subtracted).
    pub fn total(&self) -> Figures {
        let mut total = Figures::default();
        for r in &self.documents {
            total.add(&r.figures, r.sign());
        }
        total
    }
}

fn paise(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Builds the return of `settings.period` from `documents` (those dated in it).
/// Fails with every problem found: an invalid GSTIN (unless
/// `unregistered_if_invalid`), a document in another currency without a rate, a
/// document whose tax is not the configured rate, an invalid seller GSTIN.
pub fn build(documents: &[Document], settings: &Settings) -> Result<Gstr1, Vec<String>> {
    let mut problems = Vec::new();
    if let Err(e) = gst::check_gstin(&settings.seller_gstin) {
        problems.push(format!(
            "seller.gstin {:?} {e}; GSTR-1 is filed under a valid GSTIN",
            settings.seller_gstin
        ));
    }
    let seller_state = settings.seller_gstin.get(..2).unwrap_or("").to_owned();
    let mut invalid_gstins = Vec::new();
    let mut reported = Vec::new();
    let mut issued = Vec::new();
    for doc in documents {
        issued.push((doc.kind, doc.financial_year.clone(), doc.seq, doc));
        if doc.cancelled {
            continue;
        }
        match report(doc, settings, &seller_state, &mut invalid_gstins) {
            Ok(r) => reported.push(r),
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    reported.sort_by(|a, b| {
        (a.section, a.doc.kind, &a.doc.financial_year, a.doc.seq).cmp(&(
            b.section,
            b.doc.kind,
            &b.doc.financial_year,
            b.doc.seq,
        ))
    });
    let split = hsn_split(settings.period);
    let mut b2cs: BTreeMap<(&'static str, String, Decimal), Figures> = BTreeMap::new();
    let mut hsn: [BTreeMap<Decimal, Figures>; 2] = Default::default();
    for r in &reported {
        if r.section == Section::B2cs {
            let supply = if r.intra { "INTRA" } else { "INTER" };
            b2cs.entry((supply, r.pos.clone(), r.rate))
                .or_default()
                .add(&r.figures, r.sign());
        }
        let table = usize::from(split && !r.hsn_b2b());
        hsn[table]
            .entry(r.rate)
            .or_default()
            .add(&r.figures, r.sign());
    }
    let rows = |table: &BTreeMap<Decimal, Figures>| -> Vec<HsnRow> {
        table
            .iter()
            .map(|(rate, figures)| HsnRow {
                sac: settings.sac.clone(),
                rate: *rate,
                figures: *figures,
            })
            .collect()
    };
    let [hsn_b2b, hsn_b2c] = &hsn;
    Ok(Gstr1 {
        gstin: settings.seller_gstin.clone(),
        period: settings.period,
        b2cs: b2cs
            .into_iter()
            .map(|((supply_type, pos, rate), figures)| B2csRow {
                supply_type,
                pos,
                rate,
                figures,
            })
            .collect(),
        hsn_b2b: rows(hsn_b2b),
        hsn_b2c: rows(hsn_b2c),
        doc_issue: doc_ranges(issued),
        hsn_split: split,
        documents: reported,
        invalid_gstins,
    })
}

/// Runs of consecutive sequence numbers per kind and financial year.
fn doc_ranges(mut issued: Vec<(DocKind, String, i64, &Document)>) -> Vec<DocRange> {
    // In the table's order of natures: invoices (1), debit notes (4), credit notes (5).
    issued.sort_by(|a, b| (a.0.doc_num(), &a.1, a.2).cmp(&(b.0.doc_num(), &b.1, b.2)));
    let mut ranges: Vec<(DocRange, DocKind, String, i64)> = Vec::new();
    for (kind, year, seq, doc) in issued {
        let cancelled = u64::from(doc.cancelled);
        match ranges.last_mut() {
            Some((range, k, y, last)) if *k == kind && *y == year && *last + 1 == seq => {
                range.to = doc.number.clone();
                range.total += 1;
                range.cancelled += cancelled;
                *last = seq;
            }
            _ => ranges.push((
                DocRange {
                    kind,
                    from: doc.number.clone(),
                    to: doc.number.clone(),
                    total: 1,
                    cancelled,
                },
                kind,
                year,
                seq,
            )),
        }
    }
    ranges.into_iter().map(|(range, ..)| range).collect()
}

/// Classifies one document and converts it to rupees.
fn report(
    doc: &Document,
    settings: &Settings,
    seller_state: &str,
    invalid_gstins: &mut Vec<String>,
) -> Result<Reported, String> {
    // A note is reported against its original invoice's recipient, place of supply
    // and treatment.
    let basis = doc.original.as_deref().unwrap_or(doc);
    let ctin = match &basis.gstin {
        Some(g) => match gst::check_gstin(g) {
            Ok(()) => Some(g.clone()),
            Err(e) if settings.unregistered_if_invalid => {
                invalid_gstins.push(format!(
                    "{} ({}): GSTIN {g:?} {e}; reported as unregistered",
                    doc.number, basis.customer_name
                ));
                None
            }
            Err(e) => {
                return Err(format!(
                    "{} ({}): GSTIN {g:?} {e}; correct it in the customer's account and \
                     re-issue, or pass --unregistered-if-invalid to report the document as \
                     to an unregistered person",
                    doc.number, basis.customer_name
                ))
            }
        },
        None => None,
    };
    let fx_rate = match doc.currency == Currency::INR {
        true => None,
        false => Some(
            doc.fx_rate
                .or_else(|| settings.fx.rate(doc.currency, doc.date))
                .ok_or_else(|| {
                    format!(
                        "{} ({}, {}, dated {}) has no rupee rate in the ledger: give it with \
                         --fx-rates FILE (CSV date,currency,inr_per_unit)",
                        doc.number, basis.customer_name, doc.currency, doc.date
                    )
                })?,
        ),
    };
    let export = basis.place_of_supply == EXPORT_CODE;
    let intra = !export && basis.place_of_supply == seller_state;
    let taxed = !(doc.cgst + doc.sgst + doc.igst).is_zero();
    let export_with_igst = export && taxed;
    // An export under LUT is zero-rated; everything else is at the one rate.
    let rate = match export && !taxed {
        true => Decimal::ZERO,
        false => settings.rate,
    };
    check_tax(doc, rate, intra)?;
    let figures = match fx_rate {
        None => Figures {
            value: doc.total,
            taxable: doc.subtotal,
            igst: doc.igst,
            cgst: doc.cgst,
            sgst: doc.sgst,
        },
        Some(fx) => {
            // GST is due on the rupee taxable value (CGST Rule 34), as the invoice's
            // rupee note printed it.
            let taxable = paise(doc.subtotal * fx);
            let at = |percent: Decimal| paise(taxable * percent / Decimal::ONE_HUNDRED);
            let (cgst, sgst, igst) = match (taxed, intra) {
                (false, _) => (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
                (true, true) => (
                    at(rate / Decimal::TWO),
                    at(rate / Decimal::TWO),
                    Decimal::ZERO,
                ),
                (true, false) => (Decimal::ZERO, Decimal::ZERO, at(rate)),
            };
            Figures {
                value: paise(doc.total * fx),
                taxable,
                igst,
                cgst,
                sgst,
            }
        }
    };
    let section = match (doc.kind, export, &ctin, rate.is_zero() && !export) {
        (DocKind::Invoice, true, _, _) => Section::Exp,
        (DocKind::Invoice, false, _, true) => Section::Nil,
        (DocKind::Invoice, false, Some(_), false) => Section::B2b,
        (DocKind::Invoice, false, None, false) => {
            match !intra && b2cl_value(basis, settings) > b2cl_limit(basis.date) {
                true => Section::B2cl,
                false => Section::B2cs,
            }
        }
        (_, _, Some(_), _) => Section::Cdnr,
        (_, true, None, _) => Section::Cdnur,
        (_, false, None, _) => match !intra && b2cl_value(basis, settings) > b2cl_limit(basis.date)
        {
            true => Section::Cdnur,
            false => Section::B2cs,
        },
    };
    let unregistered_type =
        (section == Section::Cdnur).then_some(match (export, export_with_igst) {
            (false, _) => "B2CL",
            (true, true) => "EXPWP",
            (true, false) => "EXPWOP",
        });
    Ok(Reported {
        doc: doc.clone(),
        section,
        ctin,
        pos: basis.place_of_supply.clone(),
        intra,
        rate,
        export_with_igst,
        unregistered_type,
        figures,
        fx_rate,
    })
}

/// The invoice value compared with the B2CL limit: in rupees (at its rate) for an
/// invoice in another currency; a document without a rate counts at its own value.
fn b2cl_value(invoice: &Document, settings: &Settings) -> Decimal {
    match invoice.currency == Currency::INR {
        true => invoice.total,
        false => invoice
            .fx_rate
            .or_else(|| settings.fx.rate(invoice.currency, invoice.date))
            .map(|fx| paise(invoice.total * fx))
            .unwrap_or(invoice.total),
    }
}

/// Refuses a document whose GST is not `rate` % of its taxable value: a return must
/// state each document at the rate it was issued at, and didbill knows only one.
fn check_tax(doc: &Document, rate: Decimal, intra: bool) -> Result<(), String> {
    let tax = doc.cgst + doc.sgst + doc.igst;
    let expected = doc.subtotal * rate / Decimal::ONE_HUNDRED;
    // Each tax is rounded on its own (and a note's per line): allow five paise or
    // 0.1 % of rounding; a different slab is off by far more.
    let slack = Decimal::new(5, 2);
    let split_ok = if intra {
        doc.igst.is_zero()
    } else {
        doc.cgst.is_zero() && doc.sgst.is_zero()
    };
    if (tax - expected).abs() > slack.max(expected.abs() / Decimal::from(1000)) || !split_ok {
        return Err(format!(
            "{} ({}): its GST {} on a taxable value of {} is not tax.rate {}% {}; GSTR-1 \
             reports each document at the rate it was issued at — set tax.rate to that rate",
            doc.number,
            doc.customer_name,
            tax,
            doc.subtotal,
            rate.normalize(),
            if intra { "as CGST + SGST" } else { "as IGST" }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn date(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// An invoice of `subtotal` at 18 % to `pos` (intra-state when `29`).
    fn invoice(seq: i64, subtotal: &str, pos: &str, gstin: Option<&str>) -> Document {
        let subtotal = d(subtotal);
        let tax = paise(subtotal * d("0.18"));
        let (cgst, sgst, igst) = match pos {
            "29" => (tax / Decimal::TWO, tax / Decimal::TWO, Decimal::ZERO),
            "96" => (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
            _ => (Decimal::ZERO, Decimal::ZERO, tax),
        };
        Document {
            kind: DocKind::Invoice,
            number: format!("DID/26-27/{seq:05}"),
            date: date(2026, 11, 30),
            financial_year: "26-27".into(),
            seq,
            customer_name: format!("Customer {seq}"),
            gstin: gstin.map(Into::into),
            place_of_supply: pos.into(),
            currency: Currency::INR,
            fx_rate: None,
            subtotal,
            cgst,
            sgst,
            igst,
            total: subtotal + cgst + sgst + igst,
            cancelled: false,
            original: None,
        }
    }

    fn note(kind: DocKind, seq: i64, of: &Document, subtotal: &str) -> Document {
        let mut n = invoice(seq, subtotal, &of.place_of_supply, of.gstin.as_deref());
        n.kind = kind;
        n.number = format!("CN/26-27/{seq:05}");
        n.original = Some(Box::new(of.clone()));
        n
    }

    fn settings() -> Settings {
        Settings {
            seller_gstin: "29ABCDE1234F1ZW".into(),
            period: "2026-11".parse().unwrap(),
            rate: Decimal::from(18),
            sac: "9984".into(),
            fx: FxRates::default(),
            unregistered_if_invalid: false,
        }
    }

    fn sections(ret: &Gstr1) -> Vec<(String, Section)> {
        ret.documents
            .iter()
            .map(|r| (r.doc.number.clone(), r.section))
            .collect()
    }

    #[test]
    fn the_b2cl_limit_is_dated() {
        assert_eq!(b2cl_limit(date(2024, 7, 31)), Decimal::from(250_000));
        assert_eq!(b2cl_limit(date(2024, 8, 1)), Decimal::from(100_000));
        assert!(!hsn_split("2025-04".parse().unwrap()));
        assert!(hsn_split("2025-05".parse().unwrap()));
    }

    #[test]
    fn notes_follow_their_original_invoice() {
        let b2b = invoice(1, "1000", "27", Some("27AAFFB5678C1ZG"));
        let b2cl = invoice(2, "90000", "33", None);
        let b2cs = invoice(3, "500", "29", None);
        let export = invoice(4, "1200", "96", None);
        let docs = vec![
            b2b.clone(),
            b2cl.clone(),
            b2cs.clone(),
            export.clone(),
            note(DocKind::CreditNote, 1, &b2b, "100"),
            note(DocKind::CreditNote, 2, &b2cl, "100"),
            note(DocKind::DebitNote, 3, &b2cs, "100"),
            note(DocKind::CreditNote, 4, &export, "100"),
        ];
        let ret = build(&docs, &settings()).unwrap();
        let cdnur: Vec<_> = ret
            .section(Section::Cdnur)
            .map(|r| (r.doc.number.as_str(), r.unregistered_type))
            .collect();
        assert_eq!(
            cdnur,
            [
                ("CN/26-27/00002", Some("B2CL")),
                ("CN/26-27/00004", Some("EXPWOP"))
            ]
        );
        assert_eq!(ret.section(Section::Cdnr).count(), 1);
        // The debit note on a B2CS invoice is netted into its B2CS row.
        assert_eq!(ret.b2cs.len(), 1);
        assert_eq!(ret.b2cs[0].figures.taxable, d("600"));
        assert_eq!(ret.b2cs[0].supply_type, "INTRA");
        // Credit notes come off the totals and the HSN summary.
        let total = ret.total();
        assert_eq!(
            total.taxable,
            d("1000") + d("90000") + d("500") + d("1200") - d("200")
        );
        let hsn_taxable: Decimal = ret
            .hsn_b2b
            .iter()
            .chain(&ret.hsn_b2c)
            .map(|h| h.figures.taxable)
            .sum();
        assert_eq!(hsn_taxable, total.taxable);
        assert_eq!(ret.hsn_b2b[0].figures.taxable, d("900"));
    }

    #[test]
    fn documents_issued_are_runs_of_consecutive_numbers_with_cancellations() {
        let mut cancelled = invoice(3, "500", "29", None);
        cancelled.cancelled = true;
        let docs = vec![
            invoice(1, "500", "29", None),
            invoice(2, "500", "29", None),
            cancelled,
            // 4 and 5 were dated in another month.
            invoice(6, "500", "29", None),
        ];
        let ret = build(&docs, &settings()).unwrap();
        assert_eq!(
            ret.doc_issue,
            [
                DocRange {
                    kind: DocKind::Invoice,
                    from: "DID/26-27/00001".into(),
                    to: "DID/26-27/00003".into(),
                    total: 3,
                    cancelled: 1,
                },
                DocRange {
                    kind: DocKind::Invoice,
                    from: "DID/26-27/00006".into(),
                    to: "DID/26-27/00006".into(),
                    total: 1,
                    cancelled: 0,
                },
            ]
        );
        // The cancelled invoice is reported in no section.
        assert_eq!(ret.documents.len(), 3);
    }

    #[test]
    fn problems_are_all_listed() {
        let mut usd = invoice(1, "25", "27", Some("27AAFFB5678C1ZG"));
        usd.currency = Currency::parse("USD").unwrap();
        let mut wrong_rate = invoice(2, "1000", "27", None);
        wrong_rate.igst = d("120.00");
        let bad_gstin = invoice(3, "1000", "27", Some("27AAFFB5678C1ZH"));
        let problems = build(&[usd, wrong_rate, bad_gstin.clone()], &settings()).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("DID/26-27/00001") && problems[0].contains("--fx-rates"));
        assert!(
            problems[1].contains("is not tax.rate 18% as IGST"),
            "{}",
            problems[1]
        );
        assert!(
            problems[2].contains("fails its checksum"),
            "{}",
            problems[2]
        );
        // With a rate from the file, the USD invoice is converted at it.
        let mut s = settings();
        s.unregistered_if_invalid = true;
        s.fx.insert_fixed(Currency::parse("USD").unwrap(), d("84.35"));
        let mut usd = invoice(1, "25", "27", Some("27AAFFB5678C1ZG"));
        usd.currency = Currency::parse("USD").unwrap();
        let ret = build(&[usd, bad_gstin], &s).unwrap();
        assert_eq!(ret.documents[0].figures.taxable, d("2108.75"));
        assert_eq!(ret.documents[0].figures.igst, d("379.58"));
        assert_eq!(ret.documents[1].section, Section::B2cs);
        assert_eq!(ret.invalid_gstins.len(), 1);
        assert_eq!(
            sections(&ret),
            [
                ("DID/26-27/00001".to_owned(), Section::B2b),
                ("DID/26-27/00003".to_owned(), Section::B2cs)
            ]
        );
    }
}
