//! The SQLite implementation of [`Store`]: one `BEGIN IMMEDIATE` transaction on the
//! ledger file per run (the write lock that keeps two processes from seeing the
//! same next number).

use std::path::Path;

use rusqlite::{params, Connection, Transaction};
use rust_decimal::Decimal;

use super::content::{InvoiceContent, LineContent};
use super::plan::StoredInvoice;
use super::store::{InterruptedRun, NewInvoice, Store};
use super::{parse_date, sql_error, RunRecord};
use crate::error::{Error, Result};
use didbill_core::billing::{BilledSetups, SetupKey};
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
                |(customer_id, currency, id, number, seq, invoice_date, due_date, hash, fx_rate)| {
                    let fx_rate = fx_rate
                        .map(|text| {
                            text.parse::<Decimal>().map_err(|_| Error::Ledger {
                                path: self.path.to_path_buf(),
                                message: format!(
                                    "invoice {number} has the exchange rate {text:?}, which is not a number"
                                ),
                            })
                        })
                        .transpose()?;
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

    fn number_taken(&self, number: &str) -> Result<bool> {
        self.tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM invoices WHERE number = ?1)")
            .and_then(|mut stmt| stmt.query_row([number], |r| r.get(0)))
            .map_err(self.error("checking invoice numbers"))
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
                     fx_rate)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21)",
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

    fn commit(self) -> Result<()> {
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
