//! `didbill ledger copy --from FILE --to postgres://…`: moves a ledger file into an
//! empty PostgreSQL database row for row, in one transaction, and checks it.
//!
//! Rows keep their ids and go in the order they were written, so the database's
//! own guards check each as it arrives: every series must count 1, 2, 3, … (its
//! counter ends at the file's last number), an invoice issued again after a
//! cancellation comes after that cancellation, and setup fees and notes come after
//! the invoices. Each table goes in with `COPY`. Before the commit, every invoice's
//! content as the database now holds it must hash to what the file recorded, and
//! each counter must stand at its series' last number; after it, the checks of
//! `didbill ledger verify` run on the database. Any failure before the commit
//! leaves the database as it was. A file with problems of its own is not copied.

use std::collections::BTreeMap;
use std::path::Path;

use super::location::LedgerLocation;
use super::read::{Cells, Rows};
use super::store::Store;
use super::verify::problems;
use super::{postgres, Backend, Ledger};
use crate::error::{Error, Result};
use didbill_core::notes::NoteKind;

/// The customer, currency and period of an invoice: one per key is not cancelled.
type PeriodKey = (String, String, String);

/// Copies the ledger file `from` into the database `to`; the report to print.
pub fn copy(from: &Path, to: &LedgerLocation) -> Result<String> {
    if !matches!(to, LedgerLocation::Postgres(_)) {
        return Err(Error::Usage(format!(
            "--to {}: a ledger is copied into PostgreSQL (postgres://USER@HOST:PORT/DATABASE); \
             copy a ledger file with cp while no run uses it",
            to.shown().display()
        )));
    }
    if from.to_str().is_some_and(|f| f.contains("://")) {
        return Err(Error::Usage(
            "--from takes a ledger file; a PostgreSQL ledger is copied with pg_dump and \
             pg_restore"
                .into(),
        ));
    }
    let mut source = Ledger::open_read_only(from)?;
    let facts = source.facts()?;
    let found = problems(&facts);
    if !found.is_empty() {
        return Err(Error::Ledger {
            path: from.to_path_buf(),
            message: format!(
                "has {} problem(s) (`didbill ledger verify --ledger {}` lists them); nothing \
                 was copied",
                found.len(),
                from.display()
            ),
        });
    }
    let mut target = Ledger::open(to)?;
    let shown = target.path.clone();
    let Backend::Postgres(client) = &mut target.backend else {
        unreachable!("a postgres:// location opens a PostgreSQL ledger")
    };
    let store = postgres::begin(client, &shown)?;
    let held = store.rows_held()?;
    if held > 0 {
        return Err(Error::Ledger {
            path: shown.clone(),
            message: format!(
                "already holds {held} row(s) of runs, invoices, notes or deliveries; copy into \
                 an empty database (nothing was copied)"
            ),
        });
    }
    let mut copied = BTreeMap::new();
    copied.insert("runs", copy_table(&store, &mut source, "runs", "id")?);
    let (invoices, cancellations) = copy_invoices(&store, &mut source)?;
    copied.insert("invoices", invoices);
    copied.insert("cancellations", cancellations);
    for (table, order) in [
        ("invoice_lines", "invoice_id, line_no"),
        ("setup_charges", "rowid"),
        ("notes", "id"),
        ("note_lines", "note_id, line_no"),
        ("outbox", "id"),
    ] {
        copied.insert(table, copy_table(&store, &mut source, table, order)?);
    }
    store.restart_identities()?;

    let mismatch = |message: String| Error::Ledger {
        path: shown.clone(),
        message: format!("{message}; nothing was copied"),
    };
    for invoice in &facts.invoices {
        let hash = store.recorded_content(invoice.id)?.hash();
        if hash != invoice.stored_hash {
            return Err(mismatch(format!(
                "invoice {} reads back with another content hash ({}…, the file recorded {}…)",
                invoice.number,
                &hash[..12],
                &invoice.stored_hash[..invoice.stored_hash.len().min(12)]
            )));
        }
    }
    let mut last: BTreeMap<(String, String), i64> = BTreeMap::new();
    let series = facts
        .invoices
        .iter()
        .map(|i| ("invoice", &i.financial_year, i.seq))
        .chain(facts.notes.iter().map(|n| {
            let kind = match n.kind {
                NoteKind::Credit => "credit",
                NoteKind::Debit => "debit",
            };
            (kind, &n.financial_year, n.seq)
        }));
    for (kind, year, seq) in series {
        let at = last.entry((kind.to_owned(), year.clone())).or_default();
        *at = (*at).max(seq);
    }
    let counters: BTreeMap<(String, String), i64> = store
        .counters()?
        .into_iter()
        .map(|(kind, year, seq)| ((kind, year), seq))
        .collect();
    if counters != last {
        return Err(mismatch(format!(
            "the series counters stand at {counters:?}, not at the file's last numbers {last:?}"
        )));
    }
    Box::new(store).commit()?;

    let after = problems(&target.facts()?);
    if !after.is_empty() {
        return Err(Error::Ledger {
            path: shown.clone(),
            message: format!(
                "was copied, but `didbill ledger verify` finds: {}",
                after.join("; ")
            ),
        });
    }
    let n = |table: &str| copied.get(table).copied().unwrap_or(0);
    Ok(format!(
        "copied {} to {}: {} run(s), {} invoice(s) with {} line(s), {} setup fee(s), {} \
         cancellation(s), {} note(s) with {} line(s), {} delivery attempt(s)\n\
         checked: every invoice's content hash matches the file's, every series counter \
         stands at its last number, and `didbill ledger verify` finds no problem\n",
        from.display(),
        shown.display(),
        n("runs"),
        n("invoices"),
        n("invoice_lines"),
        n("setup_charges"),
        n("cancellations"),
        n("notes"),
        n("note_lines"),
        n("outbox"),
    ))
}

/// The target's columns of `table`, and the file's rows of them in `order`.
fn read(
    store: &postgres::PgStore<'_>,
    source: &mut Ledger,
    table: &str,
    order: &str,
) -> Result<(Vec<String>, Rows)> {
    let (columns, rows) = read_typed(store, source, table, order)?;
    Ok((columns.into_iter().map(|(name, _)| name).collect(), rows))
}

/// [`read`], with whether each column is `NUMERIC`.
fn read_typed(
    store: &postgres::PgStore<'_>,
    source: &mut Ledger,
    table: &str,
    order: &str,
) -> Result<(Vec<(String, bool)>, Rows)> {
    let columns = store.columns(table)?;
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let rows = source.rows(
        &format!("reading {table}"),
        &format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", ")),
        &[],
    )?;
    Ok((columns, rows))
}

/// Copies the file's `table` in `order`; how many rows.
fn copy_table(
    store: &postgres::PgStore<'_>,
    source: &mut Ledger,
    table: &str,
    order: &str,
) -> Result<u64> {
    let (columns, rows) = read_typed(store, source, table, order)?;
    let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
    // The file keeps an absent amount (a note's adjustment line has no unit amount)
    // as empty text; NUMERIC keeps it as NULL, which reads back as the same "".
    let fields = |r: Cells| -> Vec<Option<String>> {
        r.fields()
            .into_iter()
            .zip(&columns)
            .map(|(field, (_, numeric))| field.filter(|text| !(*numeric && text.is_empty())))
            .collect()
    };
    store.copy_rows(table, &names, rows.iter().map(fields))
}

/// Copies the invoices in id order, each cancellation just before the next
/// invoice of the same customer, currency and period (which the database accepts
/// only once the earlier one is cancelled), the rest after them; how many of each.
fn copy_invoices(store: &postgres::PgStore<'_>, source: &mut Ledger) -> Result<(u64, u64)> {
    let (columns, invoices) = read(store, source, "invoices", "id")?;
    let (cancel_columns, cancellations) = read(store, source, "cancellations", "invoice_id")?;
    let at = |name: &str| columns.iter().position(|c| c == name);
    let (Some(id), Some(customer), Some(currency), Some(period)) =
        (at("id"), at("customer_id"), at("currency"), at("period"))
    else {
        unreachable!("the invoices table has these columns")
    };
    let key = |r: Cells| -> Result<PeriodKey> {
        Ok((r.text(customer)?, r.text(currency)?, r.text(period)?))
    };
    let mut cancelled: BTreeMap<i64, Vec<Option<String>>> = BTreeMap::new();
    let cancelled_invoice = cancel_columns
        .iter()
        .position(|c| c == "invoice_id")
        .expect("the cancellations table has an invoice_id");
    for r in cancellations.iter() {
        cancelled.insert(r.int(cancelled_invoice)?, r.fields());
    }
    let mut pending: BTreeMap<PeriodKey, Vec<Vec<Option<String>>>> = BTreeMap::new();
    let mut batch = Vec::new();
    let (mut invoices_copied, mut cancellations_copied) = (0, 0);
    for r in invoices.iter() {
        let key = key(r)?;
        if let Some(earlier) = pending.remove(&key) {
            invoices_copied += store.copy_rows("invoices", &columns, batch.drain(..))?;
            cancellations_copied += store.copy_rows("cancellations", &cancel_columns, earlier)?;
        }
        batch.push(r.fields());
        if let Some(cancellation) = cancelled.remove(&r.int(id)?) {
            pending.entry(key).or_default().push(cancellation);
        }
    }
    invoices_copied += store.copy_rows("invoices", &columns, batch)?;
    cancellations_copied += store.copy_rows(
        "cancellations",
        &cancel_columns,
        pending.into_values().flatten(),
    )?;
    Ok((invoices_copied, cancellations_copied))
}
