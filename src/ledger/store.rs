//! What a run's transaction asks of the ledger's storage, as a trait: the SQLite
//! file implements it ([`super::sqlite::SqliteStore`]), and a shared database can
//! implement it the same way. The decisions (reuse, conflict, next number) are made
//! once, in [`super::plan`], whatever the backend.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::content::InvoiceContent;
use super::plan::StoredInvoice;
use super::RunRecord;
use crate::error::Result;
use didbill_core::billing::{BilledSetups, Line, SetupKey};
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

/// One run's transaction on the ledger's storage: reads see a consistent state,
/// and nothing is visible to others until [`Store::commit`]; dropping the store
/// without committing rolls everything back.
pub trait Store {
    /// Runs left unfinished by processes that no longer exist.
    fn interrupted_runs(&self) -> Result<Vec<InterruptedRun>>;
    /// Every setup fee the ledger has billed, and on which invoice.
    fn billed_setups(&self) -> Result<BilledSetups>;
    /// The invoices recorded for `period`.
    fn period_invoices(&self, period: Period) -> Result<Vec<StoredInvoice>>;
    /// The highest sequence number of `financial_year`'s invoices (0 when none).
    fn last_seq(&self, financial_year: &str) -> Result<i64>;
    /// Whether an invoice already carries `number` (in any year).
    fn number_taken(&self, number: &str) -> Result<bool>;
    /// The billed content of a recorded invoice, rebuilt from what was stored.
    fn recorded_content(&self, id: i64) -> Result<InvoiceContent>;
    /// Records a run row (state `rendering`, started at `started_at`) with its new
    /// invoices; returns the run's id.
    fn record(&self, run: &RunRecord, started_at: &str, invoices: &[NewInvoice]) -> Result<i64>;
    /// Makes everything recorded visible, atomically.
    fn commit(self) -> Result<()>;
}
