//! The SQLite implementation of [`Store`]: one `BEGIN IMMEDIATE` transaction on the
//! ledger file per run (the write lock that keeps two processes from seeing the
//! same next number).

use std::path::Path;

use chrono::NaiveDate;
use rusqlite::{params, Connection, Transaction};
use rust_decimal::Decimal;

use super::content::{InvoiceContent, LineContent};
use super::plan::StoredInvoice;
use super::store::{
    InterruptedRun, InvoiceOnRecord, NewInvoice, NewNote, NoteLine, NoteRecord, Store,
};
use super::{parse_date, sql_error, RunRecord};
use crate::error::{Error, Result};
use didbill_core::billing::{BilledSetups, SetupKey};
use didbill_core::notes::NoteKind;
use didbill_core::period::Period;

/// A run's write transaction on the ledger file.
#[derive(Debug)]
pub struct SqliteStore<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
}

impl<'a> SqliteStore<'a> {
    /// Wraps a transaction (opened with the write lock) on the ledger at `path`.
    pub(super) fn new(tx: Transaction<'a>, path: &'a Path) -> SqliteStore<'a> {
        SqliteStore { tx, path }
    }

    fn error(&self, context: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
        let context = context.to_owned();
        move |e| sql_error(self.path, &context, e)
    }
}

impl Store for SqliteStore<'_> {
    fn interrupted_runs(&self) -> Result<Vec<InterruptedRun>> {
        let read = || -> rusqlite::Result<Vec<InterruptedRun>> {
            let mut stmt = self.tx.prepare(
                "SELECT id, period, out_dir, pid FROM runs WHERE state = 'rendering' ORDER BY id",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut numbers = self
                .tx
                .prepare("SELECT number FROM invoices WHERE run_id = ?1 ORDER BY id")?;
            let mut runs = Vec::new();
            for (id, period, out_dir, pid) in rows {
                // A run row `rendering` whose process is alive belongs to a
                // concurrent run, not a crash (Linux `/proc`).
                let alive = pid == i64::from(std::process::id())
                    || Path::new(&format!("/proc/{pid}")).exists();
                if !alive {
                    runs.push(InterruptedRun {
                        id,
                        period,
                        out_dir,
                        numbers: numbers
                            .query_map([id], |r| r.get(0))?
                            .collect::<rusqlite::Result<_>>()?,
                    });
                }
            }
            Ok(runs)
        };
        read().map_err(self.error("reading earlier runs"))
    }

    fn billed_setups(&self) -> Result<BilledSetups> {
        let read = || -> rusqlite::Result<BilledSetups> {
            let mut stmt = self.tx.prepare(
                "SELECT s.number_id, s.purchased_at, i.customer_id, i.currency, i.period
                 FROM setup_charges s JOIN invoices i ON i.id = s.invoice_id
                 WHERE i.id NOT IN (SELECT invoice_id FROM cancellations)",
            )?;
            let mut billed = BilledSetups::default();
            let rows = stmt.query_map([], |r| {
                Ok((
                    SetupKey {
                        number_id: r.get(0)?,
                        purchased_at: r.get(1)?,
                    },
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?;
            for row in rows {
                let (key, customer, currency, period) = row?;
                billed.insert(key, customer, currency, period);
            }
            Ok(billed)
        };
        read().map_err(self.error("reading billed setup fees"))
    }

    fn period_invoices(&self, period: Period) -> Result<Vec<StoredInvoice>> {
        type Row = (
            String,
            String,
            i64,
            String,
            i64,
            String,
            String,
            String,
            Option<String>,
        );
        let read = || -> rusqlite::Result<Vec<Row>> {
            let mut stmt = self.tx.prepare(
                "SELECT customer_id, currency, id, number, seq, invoice_date, due_date, content_hash,
                     fx_rate
                 FROM invoices
                 WHERE period = ?1 AND id NOT IN (SELECT invoice_id FROM cancellations)",
            )?;
            let rows = stmt.query_map([period.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?;
            rows.collect()
        };
        read()
            .map_err(self.error("reading the period's invoices"))?
            .into_iter()
            .map(
                |(
                    customer_id,
                    currency,
                    id,
                    number,
                    seq,
                    invoice_date,
                    due_date,
                    hash,
                    fx_rate,
                )| {
                    let fx_rate = parse_fx_rate(self.path, &number, fx_rate)?;
                    Ok(StoredInvoice {
                        fx_rate,
                        id,
                        customer_id,
                        currency,
                        number,
                        seq,
                        invoice_date: parse_date(self.path, &invoice_date)?,
                        due_date: parse_date(self.path, &due_date)?,
                        hash,
                    })
                },
            )
            .collect()
    }

    fn last_seq(&self, financial_year: &str) -> Result<i64> {
        self.tx
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM invoices WHERE financial_year = ?1",
                [financial_year],
                |r| r.get(0),
            )
            .map_err(self.error("reading the last invoice number"))
    }

    fn numbers_taken(&self, numbers: &[&str]) -> Result<Vec<String>> {
        let read = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM invoices WHERE number = ?1)")?;
            let mut taken = Vec::new();
            for number in numbers {
                if stmt.query_row([number], |r| r.get(0))? {
                    taken.push(number.to_string());
                }
            }
            Ok(taken)
        };
        read().map_err(self.error("checking invoice numbers"))
    }

    fn recorded_content(&self, id: i64) -> Result<InvoiceContent> {
        load_content(&self.tx, id).map_err(self.error("reading an issued invoice"))
    }

    fn record(&self, run: &RunRecord, started_at: &str, invoices: &[NewInvoice]) -> Result<i64> {
        let write = || -> rusqlite::Result<i64> {
            let s = run.summary;
            self.tx.execute(
                "INSERT INTO runs (period, as_of, source, out_dir, invoice_date, customers,
                     numbers_fetched, billed, not_billable, exceptions, invoices, invoices_new,
                     pid, state, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'rendering', ?14)",
                params![
                    s.period,
                    s.as_of,
                    run.source,
                    run.out.display().to_string(),
                    run.invoice_date.to_string(),
                    s.customers as i64,
                    s.numbers_fetched as i64,
                    s.billed as i64,
                    s.not_billable as i64,
                    s.exceptions as i64,
                    s.invoices as i64,
                    invoices.len() as i64,
                    i64::from(std::process::id()),
                    started_at,
                ],
            )?;
            let run_id = self.tx.last_insert_rowid();
            let created_at = super::now();
            let mut invoice = self.tx.prepare(
                "INSERT INTO invoices (number, financial_year, seq, customer_id, customer_name,
                     customer_gstin, place_of_supply, currency, period, invoice_date, due_date,
                     subtotal, cgst, sgst, igst, round_off, total, content_hash, run_id, created_at,
                     fx_rate, customer_address)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21, ?22)",
            )?;
            let mut line = self.tx.prepare(
                "INSERT INTO invoice_lines (invoice_id, line_no, number_id, e164, charge,
                     service_from, service_to, billable_days, period_days, unit_amount, amount,
                     call_direction, calls, billable_seconds)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            let mut setup = self.tx.prepare(
                "INSERT INTO setup_charges (number_id, purchased_at, invoice_id) VALUES (?1, ?2, ?3)",
            )?;
            for f in invoices {
                let c = f.content;
                invoice.execute(params![
                    f.number,
                    f.financial_year,
                    f.seq,
                    c.customer_id,
                    f.customer_name,
                    c.customer_gstin,
                    c.place_of_supply,
                    c.currency,
                    c.period,
                    f.invoice_date.to_string(),
                    f.due_date.to_string(),
                    c.subtotal,
                    c.cgst,
                    c.sgst,
                    c.igst,
                    c.round_off,
                    c.total,
                    f.hash,
                    run_id,
                    created_at,
                    f.fx_rate.map(|r| r.to_string()),
                    f.customer_address.join("\n"),
                ])?;
                let invoice_id = self.tx.last_insert_rowid();
                for (no, l) in f.lines.iter().map(LineContent::of).enumerate() {
                    line.execute(params![
                        invoice_id,
                        no as i64 + 1,
                        l.number_id,
                        l.e164,
                        l.charge,
                        l.service_from,
                        l.service_to,
                        l.billable_days,
                        l.period_days,
                        l.unit_amount,
                        l.amount,
                        l.call_direction,
                        l.calls.map(|n| n as i64),
                        l.billable_seconds.map(|n| n as i64),
                    ])?;
                }
                for key in f.setups {
                    setup.execute(params![key.number_id, key.purchased_at, invoice_id])?;
                }
            }
            Ok(run_id)
        };
        write().map_err(self.error("recording the invoices"))
    }

    fn invoice_on_record(&self, number: &str) -> Result<Option<InvoiceOnRecord>> {
        /// id, invoice date, customer name, customer address, cancelled.
        type Row = (i64, String, String, String, bool);
        let read = || -> rusqlite::Result<Option<Row>> {
            let mut stmt = self.tx.prepare_cached(
                "SELECT id, invoice_date, customer_name, customer_address,
                        id IN (SELECT invoice_id FROM cancellations)
                 FROM invoices WHERE number = ?1",
            )?;
            let mut rows = stmt.query_map([number], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.next().transpose()
        };
        let Some((id, date, customer_name, address, cancelled)) =
            read().map_err(self.error("reading the invoice"))?
        else {
            return Ok(None);
        };
        Ok(Some(InvoiceOnRecord {
            id,
            number: number.to_owned(),
            invoice_date: parse_date(self.path, &date)?,
            customer_name,
            customer_address: address_lines(&address),
            cancelled,
            content: self.recorded_content(id)?,
        }))
    }

    fn invoice_notes(&self, invoice_id: i64) -> Result<Vec<NoteRecord>> {
        load_notes(&self.tx, self.path, "n.invoice_id = ?1", &invoice_id)
    }

    fn period_notes(&self, period: &str) -> Result<Vec<NoteRecord>> {
        load_notes(&self.tx, self.path, "i.period = ?1", &period)
    }

    fn last_note_seq(&self, kind: NoteKind, financial_year: &str) -> Result<i64> {
        self.tx
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM notes WHERE kind = ?1 AND financial_year = ?2",
                [kind.as_str(), financial_year],
                |r| r.get(0),
            )
            .map_err(self.error("reading the last note number"))
    }

    fn note_number_taken(&self, number: &str) -> Result<bool> {
        self.tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM notes WHERE number = ?1)
                     OR EXISTS (SELECT 1 FROM invoices WHERE number = ?1)",
                [number],
                |r| r.get(0),
            )
            .map_err(self.error("checking note numbers"))
    }

    fn record_note(&self, note: &NewNote) -> Result<()> {
        let write = || -> rusqlite::Result<()> {
            let c = &note.invoice.content;
            let t = note.totals;
            self.tx.execute(
                "INSERT INTO notes (number, kind, financial_year, seq, invoice_id, note_date,
                     reason, customer_name, customer_address, customer_gstin, place_of_supply,
                     currency, subtotal, cgst, sgst, igst, round_off, total, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19)",
                params![
                    note.number,
                    note.kind.as_str(),
                    note.financial_year,
                    note.seq,
                    note.invoice.id,
                    note.note_date.to_string(),
                    note.reason,
                    note.invoice.customer_name,
                    note.invoice.customer_address.join("\n"),
                    c.customer_gstin,
                    c.place_of_supply,
                    c.currency,
                    t.subtotal.to_string(),
                    t.cgst.to_string(),
                    t.sgst.to_string(),
                    t.igst.to_string(),
                    t.round_off.to_string(),
                    t.total.to_string(),
                    super::now(),
                ],
            )?;
            let note_id = self.tx.last_insert_rowid();
            let mut line = self.tx.prepare(
                "INSERT INTO note_lines (note_id, line_no, invoice_line_no, description, number_id,
                     e164, charge, service_from, service_to, billable_days, period_days,
                     unit_amount, amount, call_direction, calls, billable_seconds)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?;
            for (no, n) in note.lines.iter().enumerate() {
                let l = &n.line;
                line.execute(params![
                    note_id,
                    no as i64 + 1,
                    n.invoice_line_no,
                    n.description,
                    l.number_id,
                    l.e164,
                    l.charge,
                    l.service_from,
                    l.service_to,
                    l.billable_days,
                    l.period_days,
                    l.unit_amount,
                    l.amount,
                    l.call_direction,
                    l.calls.map(|n| n as i64),
                    l.billable_seconds.map(|n| n as i64),
                ])?;
            }
            Ok(())
        };
        write().map_err(self.error("recording the note"))
    }

    fn record_cancellation(&self, invoice_id: i64, reason: &str) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO cancellations (invoice_id, reason, cancelled_at) VALUES (?1, ?2, ?3)",
                params![invoice_id, reason, super::now()],
            )
            .map(drop)
            .map_err(self.error("recording the cancellation"))
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let path = self.path;
        self.tx
            .commit()
            .map_err(|e| sql_error(path, "committing the invoices", e))
    }
}

/// The lines of a recorded invoice, in their recorded order.
pub(super) fn load_lines(conn: &Connection, invoice_id: i64) -> rusqlite::Result<Vec<LineContent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT number_id, e164, charge, service_from, service_to, billable_days, period_days,
                unit_amount, amount, call_direction, calls, billable_seconds
         FROM invoice_lines WHERE invoice_id = ?1 ORDER BY line_no",
    )?;
    let rows = stmt.query_map([invoice_id], |r| {
        Ok(LineContent {
            number_id: r.get(0)?,
            e164: r.get(1)?,
            charge: r.get(2)?,
            service_from: r.get(3)?,
            service_to: r.get(4)?,
            billable_days: r.get(5)?,
            period_days: r.get(6)?,
            unit_amount: r.get(7)?,
            amount: r.get(8)?,
            call_direction: r.get(9)?,
            // Written from u64 counts far below 2^63 (see `commit`).
            calls: r.get::<_, Option<i64>>(10)?.map(|n| n as u64),
            billable_seconds: r.get::<_, Option<i64>>(11)?.map(|n| n as u64),
        })
    })?;
    rows.collect()
}

/// The billed content of a recorded invoice, rebuilt from its rows.
pub(super) fn load_content(conn: &Connection, invoice_id: i64) -> rusqlite::Result<InvoiceContent> {
    let mut content = conn.query_row(
        "SELECT customer_id, currency, period, customer_gstin, place_of_supply,
                subtotal, cgst, sgst, igst, round_off, total
         FROM invoices WHERE id = ?1",
        [invoice_id],
        |r| {
            Ok(InvoiceContent {
                customer_id: r.get(0)?,
                currency: r.get(1)?,
                period: r.get(2)?,
                customer_gstin: r.get(3)?,
                place_of_supply: r.get(4)?,
                lines: Vec::new(),
                subtotal: r.get(5)?,
                cgst: r.get(6)?,
                sgst: r.get(7)?,
                igst: r.get(8)?,
                round_off: r.get(9)?,
                total: r.get(10)?,
            })
        },
    )?;
    content.lines = load_lines(conn, invoice_id)?;
    Ok(content)
}

/// An address stored as its lines joined by newlines.
pub(super) fn address_lines(stored: &str) -> Vec<String> {
    stored
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An invoice's recorded exchange rate, if it has one.
fn parse_fx_rate(path: &Path, invoice: &str, text: Option<String>) -> Result<Option<Decimal>> {
    text.map(|text| {
        text.parse::<Decimal>().map_err(|_| Error::Ledger {
            path: path.to_path_buf(),
            message: format!(
                "invoice {invoice} has the exchange rate {text:?}, which is not a number"
            ),
        })
    })
    .transpose()
}

/// The notes matching `filter` (an SQL condition on `n` (notes) and `i` (their
/// invoices) with one parameter), in kind, then number order.
pub(super) fn load_notes(
    conn: &Connection,
    path: &Path,
    filter: &str,
    param: &dyn rusqlite::ToSql,
) -> Result<Vec<NoteRecord>> {
    /// A row before its kind and dates are checked.
    struct Raw {
        id: i64,
        kind: String,
        note_date: String,
        invoice_date: String,
        address: String,
        fx_rate: Option<String>,
        note: NoteRecord,
    }
    let placeholder = NaiveDate::MIN;
    let read = || -> rusqlite::Result<Vec<Raw>> {
        let mut stmt = conn.prepare(&format!(
            "SELECT n.id, n.number, n.kind, n.note_date, n.reason, i.number, i.invoice_date,
                    i.period, i.customer_id, n.customer_name, n.customer_address,
                    n.customer_gstin, n.place_of_supply, n.currency, n.subtotal, n.cgst, n.sgst,
                    n.igst, n.round_off, n.total, i.total, i.fx_rate
             FROM notes n JOIN invoices i ON i.id = n.invoice_id
             WHERE {filter}
             ORDER BY n.kind, n.financial_year, n.seq"
        ))?;
        let rows = stmt.query_map([param], |r| {
            Ok(Raw {
                id: r.get(0)?,
                kind: r.get(2)?,
                note_date: r.get(3)?,
                invoice_date: r.get(6)?,
                address: r.get(10)?,
                fx_rate: r.get(21)?,
                note: NoteRecord {
                    number: r.get(1)?,
                    kind: NoteKind::Credit,
                    note_date: placeholder,
                    reason: r.get(4)?,
                    invoice_number: r.get(5)?,
                    invoice_date: placeholder,
                    invoice_total: r.get(20)?,
                    fx_rate: None,
                    period: r.get(7)?,
                    customer_id: r.get(8)?,
                    customer_name: r.get(9)?,
                    customer_address: Vec::new(),
                    customer_gstin: r.get(11)?,
                    place_of_supply: r.get(12)?,
                    currency: r.get(13)?,
                    lines: Vec::new(),
                    subtotal: r.get(14)?,
                    cgst: r.get(15)?,
                    sgst: r.get(16)?,
                    igst: r.get(17)?,
                    round_off: r.get(18)?,
                    total: r.get(19)?,
                },
            })
        })?;
        rows.collect()
    };
    let rows = read().map_err(|e| sql_error(path, "reading notes", e))?;
    let mut notes = Vec::with_capacity(rows.len());
    for raw in rows {
        let mut note = raw.note;
        note.kind = NoteKind::parse(&raw.kind).ok_or_else(|| Error::Ledger {
            path: path.to_path_buf(),
            message: format!(
                "note {} has the kind {:?}; the file is damaged",
                note.number, raw.kind
            ),
        })?;
        note.note_date = parse_date(path, &raw.note_date)?;
        note.invoice_date = parse_date(path, &raw.invoice_date)?;
        note.customer_address = address_lines(&raw.address);
        note.fx_rate = parse_fx_rate(path, &note.invoice_number, raw.fx_rate)?;
        note.lines =
            load_note_lines(conn, raw.id).map_err(|e| sql_error(path, "reading note lines", e))?;
        notes.push(note);
    }
    Ok(notes)
}

fn load_note_lines(conn: &Connection, note_id: i64) -> rusqlite::Result<Vec<NoteLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT invoice_line_no, description, number_id, e164, charge, service_from, service_to,
                billable_days, period_days, unit_amount, amount, call_direction, calls,
                billable_seconds
         FROM note_lines WHERE note_id = ?1 ORDER BY line_no",
    )?;
    let rows = stmt.query_map([note_id], |r| {
        Ok(NoteLine {
            invoice_line_no: r.get(0)?,
            description: r.get(1)?,
            line: LineContent {
                number_id: r.get(2)?,
                e164: r.get(3)?,
                charge: r.get(4)?,
                service_from: r.get(5)?,
                service_to: r.get(6)?,
                billable_days: r.get(7)?,
                period_days: r.get(8)?,
                unit_amount: r.get(9)?,
                amount: r.get(10)?,
                call_direction: r.get(11)?,
                calls: r.get::<_, Option<i64>>(12)?.map(|n| n as u64),
                billable_seconds: r.get::<_, Option<i64>>(13)?.map(|n| n as u64),
            },
        })
    })?;
    rows.collect()
}
