//! What a run's transaction asks of the ledger's storage, as a trait: the SQLite
//! file implements it ([`super::sqlite::SqliteStore`]), and a shared database can
//! implement it the same way. The decisions (reuse, conflict, next number) are made
//! once, in [`super::plan`], whatever the backend.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::content::{InvoiceContent, LineContent};
use super::plan::StoredInvoice;
use super::RunRecord;
use crate::error::Result;
use didbill_core::billing::{BilledSetups, Line, SetupKey};
use didbill_core::notes::{NoteKind, NoteTotals};
use didbill_core::period::Period;

/// A run that recorded invoices but never marked them done (its process is gone).
#[derive(Clone, Debug)]
pub struct InterruptedRun {
    /// The run's id.
    pub id: i64,
    /// The period it invoiced.
    pub period: String,
    /// The output folder it was writing.
    pub out_dir: String,
    /// The invoice numbers it recorded.
    pub numbers: Vec<String>,
}

/// One invoice a run issues, as the storage records it.
#[derive(Clone, Copy, Debug)]
pub struct NewInvoice<'a> {
    /// Its number.
    pub number: &'a str,
    /// The financial year of its series.
    pub financial_year: &'a str,
    /// Its sequence number within the financial year.
    pub seq: i64,
    /// Its invoice date.
    pub invoice_date: NaiveDate,
    /// Its due date.
    pub due_date: NaiveDate,
    /// The customer's name as billed.
    pub customer_name: &'a str,
    /// The customer's address as billed, one line per line.
    pub customer_address: &'a [String],
    /// Its content (amounts, parties); the lines come from `lines`.
    pub content: &'a InvoiceContent,
    /// The content hash.
    pub hash: &'a str,
    /// The invoice's lines, in order.
    pub lines: &'a [Line],
    /// The setup fees it bills.
    pub setups: &'a [SetupKey],
    /// The exchange rate it was issued with, if it needs one.
    pub fx_rate: Option<Decimal>,
}

/// An issued invoice as a note sees it.
#[derive(Clone, Debug)]
pub struct InvoiceOnRecord {
    /// The storage's own key.
    pub id: i64,
    /// Its number.
    pub number: String,
    /// Its invoice date.
    pub invoice_date: NaiveDate,
    /// The customer's name as billed.
    pub customer_name: String,
    /// The customer's address as billed (empty for invoices issued before it was
    /// recorded).
    pub customer_address: Vec<String>,
    /// Whether it was cancelled.
    pub cancelled: bool,
    /// Its billed content (parties, lines, amounts).
    pub content: InvoiceContent,
}

/// One line of a note: an invoice line (its number on the invoice) or a typed amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteLine {
    /// The line of the invoice it corrects (1-based), if any.
    pub invoice_line_no: Option<i64>,
    /// What the line is, as printed (the charge for invoice lines, the typed
    /// description or reason for amounts).
    pub description: String,
    /// The line, in the layout of invoice lines; its amount is positive.
    pub line: LineContent,
}

/// A note as the ledger records it, with what its documents print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRecord {
    /// Its number.
    pub number: String,
    /// Credit or debit.
    pub kind: NoteKind,
    /// Its date.
    pub note_date: NaiveDate,
    /// Why it was issued.
    pub reason: String,
    /// The invoice it corrects.
    pub invoice_number: String,
    /// That invoice's date.
    pub invoice_date: NaiveDate,
    /// That invoice's total, 2 decimals, in its currency.
    pub invoice_total: String,
    /// That invoice's exchange rate (rupees per unit; none for rupee invoices),
    /// at which the note is converted too.
    pub fx_rate: Option<Decimal>,
    /// The invoice's period, `YYYY-MM`.
    pub period: String,
    /// The customer.
    pub customer_id: String,
    /// The customer's name as billed.
    pub customer_name: String,
    /// The customer's address as billed.
    pub customer_address: Vec<String>,
    /// The customer's GSTIN, empty when none.
    pub customer_gstin: String,
    /// The invoice's place of supply.
    pub place_of_supply: String,
    /// The currency.
    pub currency: String,
    /// Its lines.
    pub lines: Vec<NoteLine>,
    /// Taxable value.
    pub subtotal: String,
    /// Central GST.
    pub cgst: String,
    /// State GST.
    pub sgst: String,
    /// Integrated GST.
    pub igst: String,
    /// Round-off.
    pub round_off: String,
    /// Total.
    pub total: String,
}

/// A note to record.
#[derive(Clone, Copy, Debug)]
pub struct NewNote<'a> {
    /// Its number.
    pub number: &'a str,
    /// Credit or debit.
    pub kind: NoteKind,
    /// The financial year of its series (of the note date).
    pub financial_year: &'a str,
    /// Its sequence number in that year's series of its kind.
    pub seq: i64,
    /// The invoice it corrects.
    pub invoice: &'a InvoiceOnRecord,
    /// Its date.
    pub note_date: NaiveDate,
    /// Why it is issued.
    pub reason: &'a str,
    /// Its lines.
    pub lines: &'a [NoteLine],
    /// Its amounts.
    pub totals: &'a NoteTotals,
}

/// One run's transaction on the ledger's storage: reads see a consistent state,
/// and nothing is visible to others until [`Store::commit`]; dropping the store
/// without committing rolls everything back.
pub trait Store: std::fmt::Debug {
    /// Runs left unfinished by processes that no longer exist.
    fn interrupted_runs(&self) -> Result<Vec<InterruptedRun>>;
    /// Every setup fee the ledger has billed, and on which invoice.
    fn billed_setups(&self) -> Result<BilledSetups>;
    /// The invoices recorded for `period`.
    fn period_invoices(&self, period: Period) -> Result<Vec<StoredInvoice>>;
    /// The highest sequence number of `financial_year`'s invoices (0 when none).
    fn last_seq(&self, financial_year: &str) -> Result<i64>;
    /// Which of `numbers` an invoice already carries (in any year).
    fn numbers_taken(&self, numbers: &[&str]) -> Result<Vec<String>>;
    /// The billed content of a recorded invoice, rebuilt from what was stored.
    fn recorded_content(&self, id: i64) -> Result<InvoiceContent>;
    /// Records a run row (state `rendering`, started at `started_at`) with its new
    /// invoices; returns the run's id.
    fn record(&self, run: &RunRecord, started_at: &str, invoices: &[NewInvoice]) -> Result<i64>;
    /// The issued invoice numbered `number`, if any.
    fn invoice_on_record(&self, number: &str) -> Result<Option<InvoiceOnRecord>>;
    /// The notes recorded against an invoice, in the order they were issued.
    fn invoice_notes(&self, invoice_id: i64) -> Result<Vec<NoteRecord>>;
    /// The notes of the invoices of `period`, in kind then number order.
    fn period_notes(&self, period: &str) -> Result<Vec<NoteRecord>>;
    /// The highest sequence number of `kind`'s notes in `financial_year` (0 when none).
    fn last_note_seq(&self, kind: NoteKind, financial_year: &str) -> Result<i64>;
    /// Whether a note or an invoice already carries `number`.
    fn note_number_taken(&self, number: &str) -> Result<bool>;
    /// Records a note with its lines.
    fn record_note(&self, note: &NewNote) -> Result<()>;
    /// Records the cancellation of an invoice.
    fn record_cancellation(&self, invoice_id: i64, reason: &str) -> Result<()>;
    /// Makes everything recorded visible, atomically.
    fn commit(self: Box<Self>) -> Result<()>;
}
