//! What the GST return reads from the ledger: every document dated in a month —
//! invoices (cancelled ones marked), credit notes and debit notes with their
//! original invoice — as [`didbill_core::gstr1::Document`]s.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::read::Cells;
use super::{parse_date, Ledger};
use crate::error::{Error, Result};
use didbill_core::gstr1::{DocKind, Document};
use didbill_core::money::Currency;
use didbill_core::period::Period;

/// The columns of one document, in [`Columns::read`]'s order; `{t}` is the table
/// alias. An invoice's own rate is its `fx_rate`; a note is converted at its
/// invoice's rate, so both are written as `i.fx_rate`.
const COLUMNS: &str = "{t}.number, {t}.DATE, {t}.financial_year, {t}.seq, {t}.customer_name,
    {t}.customer_gstin, {t}.place_of_supply, {t}.currency, i.fx_rate, {t}.subtotal, {t}.cgst,
    {t}.sgst, {t}.igst, {t}.total";

/// How many columns [`COLUMNS`] holds.
const WIDTH: usize = 14;

fn columns(alias: &str, date: &str) -> String {
    COLUMNS
        .replace("{t}.DATE", &format!("{alias}.{date}"))
        .replace("{t}", alias)
}

/// One document's columns as read, before they are checked.
struct Columns {
    number: String,
    date: String,
    financial_year: String,
    seq: i64,
    name: String,
    gstin: String,
    pos: String,
    currency: String,
    fx: Option<String>,
    amounts: [String; 5],
}

impl Columns {
    /// The columns starting at `at`.
    fn read(r: Cells, at: usize) -> Result<Columns> {
        Ok(Columns {
            number: r.text(at)?,
            date: r.text(at + 1)?,
            financial_year: r.text(at + 2)?,
            seq: r.int(at + 3)?,
            name: r.text(at + 4)?,
            gstin: r.text(at + 5)?,
            pos: r.text(at + 6)?,
            currency: r.text(at + 7)?,
            fx: r.opt_text(at + 8)?,
            amounts: [
                r.text(at + 9)?,
                r.text(at + 10)?,
                r.text(at + 11)?,
                r.text(at + 12)?,
                r.text(at + 13)?,
            ],
        })
    }
}

impl Ledger {
    /// The invoices, credit notes and debit notes dated in `period`, in series
    /// order; a note carries its original invoice (whatever its date).
    pub fn documents_dated(&mut self, period: Period) -> Result<Vec<Document>> {
        let (start, end) = (period.start().to_string(), period.end().to_string());
        let range = [Some(start.as_str()), Some(end.as_str())];
        let context = "reading the month's documents";
        let invoices = self.rows(
            context,
            &format!(
                "SELECT {}, i.id IN (SELECT invoice_id FROM cancellations)
                 FROM invoices i
                 WHERE CAST(i.invoice_date AS TEXT) >= ?1 AND CAST(i.invoice_date AS TEXT) < ?2
                 ORDER BY i.financial_year, i.seq",
                columns("i", "invoice_date")
            ),
            &range,
        )?;
        let mut documents = Vec::new();
        for r in invoices.iter() {
            documents.push(self.document(
                DocKind::Invoice,
                Columns::read(r, 0)?,
                r.flag(WIDTH)?,
                None,
            )?);
        }
        let notes = self.rows(
            context,
            &format!(
                "SELECT {}, n.kind, {} FROM notes n JOIN invoices i ON i.id = n.invoice_id
                 WHERE CAST(n.note_date AS TEXT) >= ?1 AND CAST(n.note_date AS TEXT) < ?2
                 ORDER BY n.kind, n.financial_year, n.seq",
                columns("n", "note_date"),
                columns("i", "invoice_date")
            ),
            &range,
        )?;
        for r in notes.iter() {
            let kind = match r.text(WIDTH)?.as_str() {
                "credit" => DocKind::CreditNote,
                _ => DocKind::DebitNote,
            };
            let original =
                self.document(DocKind::Invoice, Columns::read(r, WIDTH + 1)?, false, None)?;
            documents.push(self.document(
                kind,
                Columns::read(r, 0)?,
                false,
                Some(Box::new(original)),
            )?);
        }
        Ok(documents)
    }

    /// Checks and converts one document's columns.
    fn document(
        &self,
        kind: DocKind,
        c: Columns,
        cancelled: bool,
        original: Option<Box<Document>>,
    ) -> Result<Document> {
        let damaged = |what: &str, value: &str| Error::Ledger {
            path: self.path.clone(),
            message: format!(
                "document {} holds the {what} {value:?}, which didbill did not write; the \
                 file is damaged",
                c.number
            ),
        };
        let decimal =
            |what: &str, value: &str| Decimal::from_str(value).map_err(|_| damaged(what, value));
        let [subtotal, cgst, sgst, igst, total] = &c.amounts;
        Ok(Document {
            kind,
            date: parse_date(&self.path, &c.date)?,
            currency: Currency::parse(&c.currency)
                .ok_or_else(|| damaged("currency", &c.currency))?,
            fx_rate: c
                .fx
                .as_deref()
                .map(|f| decimal("exchange rate", f))
                .transpose()?,
            subtotal: decimal("subtotal", subtotal)?,
            cgst: decimal("CGST", cgst)?,
            sgst: decimal("SGST", sgst)?,
            igst: decimal("IGST", igst)?,
            total: decimal("total", total)?,
            financial_year: c.financial_year,
            seq: c.seq,
            customer_name: c.name,
            gstin: (!c.gstin.is_empty()).then_some(c.gstin),
            place_of_supply: c.pos,
            cancelled,
            original,
            number: c.number,
        })
    }
}
