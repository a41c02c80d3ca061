//! What the GST return reads from the ledger: every document dated in a month —
//! invoices (cancelled ones marked), credit notes and debit notes with their
//! original invoice — as [`didbill_core::gstr1::Document`]s.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::{parse_date, sql_error, Ledger};
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
    fn read(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Columns> {
        Ok(Columns {
            number: r.get(at)?,
            date: r.get(at + 1)?,
            financial_year: r.get(at + 2)?,
            seq: r.get(at + 3)?,
            name: r.get(at + 4)?,
            gstin: r.get(at + 5)?,
            pos: r.get(at + 6)?,
            currency: r.get(at + 7)?,
            fx: r.get(at + 8)?,
            amounts: [
                r.get(at + 9)?,
                r.get(at + 10)?,
                r.get(at + 11)?,
                r.get(at + 12)?,
                r.get(at + 13)?,
            ],
        })
    }
}

impl Ledger {
    /// The invoices, credit notes and debit notes dated in `period`, in series
    /// order; a note carries its original invoice (whatever its date).
    pub fn documents_dated(&self, period: Period) -> Result<Vec<Document>> {
        let range = rusqlite::params![period.start().to_string(), period.end().to_string()];
        type Read = (DocKind, Columns, bool, Option<Columns>);
        let conn = self.sqlite()?;
        let read = || -> rusqlite::Result<Vec<Read>> {
            let mut invoices = conn.prepare(&format!(
                "SELECT {}, i.id IN (SELECT invoice_id FROM cancellations)
                 FROM invoices i WHERE i.invoice_date >= ?1 AND i.invoice_date < ?2
                 ORDER BY i.financial_year, i.seq",
                columns("i", "invoice_date")
            ))?;
            let mut rows: Vec<Read> = invoices
                .query_map(range, |r| {
                    Ok((DocKind::Invoice, Columns::read(r, 0)?, r.get(WIDTH)?, None))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut notes = conn.prepare(&format!(
                "SELECT {}, n.kind, {} FROM notes n JOIN invoices i ON i.id = n.invoice_id
                 WHERE n.note_date >= ?1 AND n.note_date < ?2
                 ORDER BY n.kind, n.financial_year, n.seq",
                columns("n", "note_date"),
                columns("i", "invoice_date")
            ))?;
            let note_rows = notes.query_map(range, |r| {
                let kind = match r.get::<_, String>(WIDTH)?.as_str() {
                    "credit" => DocKind::CreditNote,
                    _ => DocKind::DebitNote,
                };
                Ok((
                    kind,
                    Columns::read(r, 0)?,
                    false,
                    Some(Columns::read(r, WIDTH + 1)?),
                ))
            })?;
            for row in note_rows {
                rows.push(row?);
            }
            Ok(rows)
        };
        let rows = read().map_err(|e| sql_error(&self.path, "reading the month's documents", e))?;
        rows.into_iter()
            .map(|(kind, own, cancelled, original)| {
                let original = original
                    .map(|c| self.document(DocKind::Invoice, c, false, None))
                    .transpose()?;
                self.document(kind, own, cancelled, original.map(Box::new))
            })
            .collect()
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
