//! The files of a period's credit and debit notes: `notes.csv`, `note_lines.csv`
//! and one PDF per note in `pdf/`, written beside the period's invoices by every
//! run and every `didbill note` of the period (always from the ledger, so they
//! are complete and byte-identical however often they are rewritten).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::Config;
use crate::csv_file::{finish, text_cell, writer, LINE_ITEMS_HEADER};
use crate::error::Result;
use crate::ledger::store::NoteRecord;
use crate::output::StagedDir;
use crate::render::pdf::PdfRenderer;
use crate::render::pdf_model;
use didbill_core::money::format_2dp;
use didbill_core::notes::NoteKind;

/// Columns of `notes.csv`; amounts are positive, `note_type` says which way.
pub const NOTES_HEADER: [&str; 18] = [
    "note_number",
    "note_type",
    "note_date",
    "original_invoice_number",
    "original_invoice_date",
    "customer_id",
    "customer_name",
    "customer_gstin",
    "place_of_supply",
    "currency",
    "reason",
    "lines",
    "subtotal",
    "cgst",
    "sgst",
    "igst",
    "round_off",
    "total",
];

/// `notes.csv`: one row per note, credit notes then debit notes, each in number order.
pub fn notes_csv(notes: &[NoteRecord]) -> Vec<u8> {
    let mut w = writer();
    w.write_record(NOTES_HEADER).expect("in-memory CSV");
    for n in notes {
        let row: [&str; 18] = [
            &n.number,
            n.kind.as_str(),
            &n.note_date.to_string(),
            &n.invoice_number,
            &n.invoice_date.to_string(),
            &n.customer_id,
            &text_cell(&n.customer_name),
            &n.customer_gstin,
            &n.place_of_supply,
            &n.currency,
            &text_cell(&n.reason),
            &n.lines.len().to_string(),
            &n.subtotal,
            &n.cgst,
            &n.sgst,
            &n.igst,
            &n.round_off,
            &n.total,
        ];
        w.write_record(row).expect("in-memory CSV");
    }
    finish(w)
}

/// `note_lines.csv`: `note_number`, then the `line_items.csv` layout (its
/// `invoice_number` and `invoice_date` the original invoice's), then the line's
/// `description` (what a typed amount is for; the charge of an invoice line).
pub fn note_lines_csv(notes: &[NoteRecord]) -> Vec<u8> {
    let mut w = writer();
    let header: Vec<&str> = std::iter::once("note_number")
        .chain(LINE_ITEMS_HEADER)
        .chain(["description"])
        .collect();
    w.write_record(&header).expect("in-memory CSV");
    for n in notes {
        let invoice_date = n.invoice_date.to_string();
        let name = text_cell(&n.customer_name);
        for nl in &n.lines {
            let l = &nl.line;
            let days = |d: Option<u32>| d.map(|d| d.to_string()).unwrap_or_default();
            let row: [&str; 16] = [
                &n.number,
                &n.invoice_number,
                &invoice_date,
                &n.customer_id,
                &name,
                &n.currency,
                &l.number_id,
                &l.e164,
                &l.charge,
                &l.service_from,
                &l.service_to,
                &days(l.billable_days),
                &days(l.period_days),
                &l.unit_amount,
                &l.amount,
                &text_cell(&nl.description),
            ];
            w.write_record(row).expect("in-memory CSV");
        }
    }
    finish(w)
}

/// The notes of a period in `summary.json`: counts and totals per kind and currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NotesSummary {
    /// Credit notes issued against the period's invoices.
    pub credit_notes: usize,
    /// Debit notes issued against them.
    pub debit_notes: usize,
    /// Per kind (`credit`, `debit`), per currency: subtotal, tax and total.
    pub totals: BTreeMap<String, BTreeMap<String, NoteAmounts>>,
}

/// The sums of some notes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NoteAmounts {
    /// Taxable value.
    pub subtotal: String,
    /// All GST.
    pub tax: String,
    /// Total.
    pub total: String,
}

/// The summary of `notes` (`None` when there are none, so a period without notes
/// keeps its `summary.json` as before).
pub fn summary(notes: &[NoteRecord]) -> Option<NotesSummary> {
    if notes.is_empty() {
        return None;
    }
    let amount = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let mut sums: BTreeMap<(&str, &str), [Decimal; 3]> = BTreeMap::new();
    for n in notes {
        let tax = amount(&n.cgst) + amount(&n.sgst) + amount(&n.igst);
        let entry = sums.entry((n.kind.as_str(), &n.currency)).or_default();
        entry[0] += amount(&n.subtotal);
        entry[1] += tax;
        entry[2] += amount(&n.total);
    }
    let mut totals: BTreeMap<String, BTreeMap<String, NoteAmounts>> = BTreeMap::new();
    for ((kind, currency), [subtotal, tax, total]) in sums {
        totals.entry(kind.to_owned()).or_default().insert(
            currency.to_owned(),
            NoteAmounts {
                subtotal: format_2dp(subtotal),
                tax: format_2dp(tax),
                total: format_2dp(total),
            },
        );
    }
    let count = |kind| notes.iter().filter(|n| n.kind == kind).count();
    Some(NotesSummary {
        credit_notes: count(NoteKind::Credit),
        debit_notes: count(NoteKind::Debit),
        totals,
    })
}

/// Writes the note files of a period into `staged` (nothing when it has no notes);
/// PDFs only with a renderer (`--no-pdf` leaves them out).
pub fn write(
    staged: &StagedDir,
    notes: &[NoteRecord],
    config: &Config,
    pdf: Option<&PdfRenderer>,
) -> Result<()> {
    if notes.is_empty() {
        return Ok(());
    }
    staged.write_file("notes.csv", &notes_csv(notes))?;
    staged.write_file("note_lines.csv", &note_lines_csv(notes))?;
    if let Some(renderer) = pdf {
        for note in notes {
            let bytes = renderer.render(&pdf_model::pdf_note(note, config))?;
            staged.write_file(&pdf_model::file_name(&note.number), &bytes)?;
        }
    }
    Ok(())
}
