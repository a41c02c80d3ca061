//! `didbill note credit|debit` and `didbill invoices cancel`: correcting issued
//! invoices the GST way (CGST Act s.34), by hand.
//!
//! A note is issued in one ledger transaction and its files are written into the
//! output folder of its invoice's period with the same atomic staging as a run:
//! the folder is copied, the period's `notes.csv`, `note_lines.csv` and note PDFs
//! are written from the ledger, and the copy replaces the folder. The folder's
//! lock is taken before the ledger's (as a run does), so a note and a run of the
//! same period take turns. A crash after the ledger commit leaves the note
//! recorded and its files missing until the next note or run of the period
//! rewrites them.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::location::LedgerLocation;
use crate::ledger::notes::{NoteAmount, NoteRequest, NoteTax};
use crate::ledger::Ledger;
use crate::output::StagedDir;
use crate::render::exports::{self, Exports};
use crate::render::notes as note_files;
use crate::render::pdf::PdfRenderer;
use didbill_core::notes::NoteKind;
use didbill_core::period::Period;

/// What `didbill note` was asked to issue.
#[derive(Clone, Debug)]
pub struct NoteSettings {
    /// The configuration (seller, tax, note series).
    pub config: Config,
    /// The ledger.
    pub ledger: LedgerLocation,
    /// The output folder (default `out/YYYY-MM` of the invoice's period).
    pub out: Option<PathBuf>,
    /// Whether to write the note's PDF.
    pub pdf: bool,
    /// `--templates`.
    pub templates: Option<PathBuf>,
    /// Credit or debit.
    pub kind: NoteKind,
    /// The invoice number.
    pub invoice: String,
    /// The lines or amount.
    pub amount: NoteAmount,
    /// A debit note's line description.
    pub description: Option<String>,
    /// The reason.
    pub reason: String,
    /// `--date` (default the as-of date in the configured timezone).
    pub date: Option<NaiveDate>,
    /// `--as-of` (default now).
    pub as_of: DateTime<Utc>,
}

/// Opens an existing ledger (upgrading it): notes and cancellations need issued
/// invoices, so a missing file is an error rather than a new ledger.
fn existing_ledger(location: &LedgerLocation) -> Result<Ledger> {
    match location {
        LedgerLocation::File(path) if !path.exists() => Err(Error::Ledger {
            path: path.to_path_buf(),
            message: "does not exist; `didbill run` creates it, or pass --ledger PATH".into(),
        }),
        _ => Ledger::open(location),
    }
}

/// Refuses a document in the name of the built-in demo seller.
fn refuse_demo_seller(config: &Config, what: &str) -> Result<()> {
    if config.seller.unset.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{what} is issued in the seller's name, and {} not set in the configuration: set them \
         in [seller] of didbill.toml or the --config file",
        config.seller.unset.join(", ")
    )))
}

/// Refuses an output folder that holds another period's run (its `summary.json`):
/// a note belongs beside its own invoice.
fn refuse_other_period(out: &std::path::Path, period: Period) -> Result<()> {
    let Ok(text) = std::fs::read(out.join("summary.json")) else {
        return Ok(());
    };
    let held = serde_json::from_slice::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("period").and_then(|p| p.as_str()).map(str::to_owned));
    match held {
        Some(held) if held != period.to_string() => Err(Error::Usage(format!(
            "{} holds the outputs of period {held}, and the invoice is of {period}; pass the \
             --out folder of {period}",
            out.display()
        ))),
        _ => Ok(()),
    }
}

/// Issues the note; returns the line to print and the warnings (a layout of the
/// folder's exports that has no credit-note layout).
pub fn issue(s: &NoteSettings) -> Result<(String, Vec<String>)> {
    refuse_demo_seller(&s.config, &format!("a {}", s.kind.title().to_lowercase()))?;
    let today = s.as_of.with_timezone(&s.config.timezone).date_naive();
    let date = s.date.unwrap_or(today);
    if date > today {
        return Err(Error::Usage(format!(
            "--date {date} is after the as-of date {} ({}): a note cannot be dated later than \
             the day it is issued",
            today, s.config.timezone
        )));
    }
    let renderer = match s.pdf {
        true => Some(PdfRenderer::new(s.templates.as_deref())?),
        false => None,
    };
    let mut ledger = existing_ledger(&s.ledger)?;
    // The period (hence the folder, whose lock comes before the ledger's) is read
    // first; the transaction below checks the invoice again under the lock.
    let period = ledger.begin()?.invoice_period(&s.invoice)?;
    let period: Period = period.parse().map_err(|_| Error::Ledger {
        path: ledger.path().to_path_buf(),
        message: format!(
            "invoice {} has the period {period:?}; the ledger is damaged",
            s.invoice
        ),
    })?;
    let out = s
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(period.to_string()));
    refuse_other_period(&out, period)?;
    // The folder's accounting exports get the notes too, in the same layouts.
    let found = exports::found_in(&out, s.templates.as_deref())?;
    let exports = Exports::load(&found.layouts, s.templates.as_deref(), found.bom)?;
    exports.refuse_other_columns(&out)?;
    let staged = StagedDir::create(&out, "summary.json")?;
    // A run of the period writing the same folder elsewhere finishes first.
    ledger.lock_period(period)?;
    let mut book = ledger.begin()?;
    let notes = &s.config.notes;
    let request = NoteRequest {
        kind: s.kind,
        invoice: &s.invoice,
        amount: s.amount.clone(),
        description: s.description.as_deref(),
        reason: &s.reason,
        date,
        format: match s.kind {
            NoteKind::Credit => &notes.credit_format,
            NoteKind::Debit => &notes.debit_format,
        },
        tax: NoteTax::of(&s.config),
    };
    let (note, period) = book.issue_note(&request)?;
    let period_notes = book.period_notes(period)?;
    staged.carry_over()?;
    note_files::write(&staged, &period_notes, &s.config, renderer.as_ref())?;
    let (note_exports, warnings) = exports.render_notes(&period_notes, &s.config, period)?;
    // Replaced whole: a file split into parts (or joined again) leaves no stale part.
    for file in &found.note_files {
        staged.remove_file(file)?;
    }
    for (file, bytes) in &note_exports {
        staged.write_file(file, bytes)?;
    }
    book.commit_documents()?;
    staged.commit()?;
    let line = format!(
        "issued {} {} against invoice {} ({}): taxable value {}, GST {}, total {} {}; wrote {}\n",
        note.kind.title().to_lowercase(),
        note.number,
        note.invoice_number,
        note.invoice_date,
        note.subtotal,
        didbill_core::money::format_2dp(
            [&note.cgst, &note.sgst, &note.igst]
                .iter()
                .map(|t| t.parse::<rust_decimal::Decimal>().unwrap_or_default())
                .sum()
        ),
        note.total,
        note.currency,
        out.display()
    );
    Ok((line, warnings))
}

/// Cancels an invoice; returns the line to print.
pub fn cancel(ledger: &LedgerLocation, number: &str, reason: &str) -> Result<String> {
    let mut ledger = existing_ledger(ledger)?;
    let mut book = ledger.begin()?;
    let period = book.cancel(number, reason)?;
    book.commit_documents()?;
    Ok(format!(
        "cancelled invoice {number}; its number stays used and is never issued again. The next \
         run of {period} issues the customer a new invoice with a new number\n"
    ))
}
