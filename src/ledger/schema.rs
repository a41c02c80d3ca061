//! The ledger's tables and their migrations.
//!
//! A ledger is marked with `PRAGMA application_id` ("DIDB") and versioned with
//! `PRAGMA user_version`: version N means the first N entries of [`MIGRATIONS`] have
//! been applied. Opening a ledger applies the missing ones in one `IMMEDIATE`
//! transaction; a version above [`VERSION`] was written by a newer didbill and is
//! refused rather than guessed at. Migrations are append-only: never edit one that
//! has shipped, add the next.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::sql_error;
use crate::error::{Error, Result};

/// `PRAGMA application_id` of a didbill ledger: "DIDB" in ASCII.
pub const APPLICATION_ID: i32 = 0x4449_4442;

/// The schema version this didbill writes and reads.
pub const VERSION: i32 = MIGRATIONS.len() as i32;

/// Migration `i` brings a ledger from version `i` to `i + 1`.
const MIGRATIONS: [&str; 6] = [V1, V2, V3, V4, V5, V6];

/// Invoices, their lines and setup fees are append-only (triggers refuse updates and
/// deletes: an issued GST invoice is corrected with a new document, never edited),
/// and sequence numbers can only grow by one per financial year.
const V1: &str = "
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    period          TEXT    NOT NULL,
    as_of           TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    out_dir         TEXT    NOT NULL,
    invoice_date    TEXT    NOT NULL,
    customers       INTEGER NOT NULL,
    numbers_fetched INTEGER NOT NULL,
    billed          INTEGER NOT NULL,
    not_billable    INTEGER NOT NULL,
    exceptions      INTEGER NOT NULL,
    invoices        INTEGER NOT NULL,
    invoices_new    INTEGER NOT NULL,
    pid             INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('rendering', 'done', 'recovered')),
    started_at      TEXT    NOT NULL,
    finished_at     TEXT
) STRICT;

CREATE TABLE invoices (
    id              INTEGER PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    financial_year  TEXT    NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    customer_id     TEXT    NOT NULL,
    customer_name   TEXT    NOT NULL,
    customer_gstin  TEXT    NOT NULL,
    place_of_supply TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    period          TEXT    NOT NULL,
    invoice_date    TEXT    NOT NULL,
    due_date        TEXT    NOT NULL,
    subtotal        TEXT    NOT NULL,
    cgst            TEXT    NOT NULL,
    sgst            TEXT    NOT NULL,
    igst            TEXT    NOT NULL,
    round_off       TEXT    NOT NULL,
    total           TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES runs (id),
    created_at      TEXT    NOT NULL,
    UNIQUE (financial_year, seq),
    UNIQUE (customer_id, currency, period)
) STRICT;
CREATE INDEX invoices_by_period ON invoices (period);

CREATE TABLE invoice_lines (
    invoice_id      INTEGER NOT NULL REFERENCES invoices (id),
    line_no         INTEGER NOT NULL,
    number_id       TEXT    NOT NULL,
    e164            TEXT    NOT NULL,
    charge          TEXT    NOT NULL,
    service_from    TEXT    NOT NULL,
    service_to      TEXT    NOT NULL,
    billable_days   INTEGER,
    period_days     INTEGER,
    unit_amount     TEXT    NOT NULL,
    amount          TEXT    NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
) STRICT;

CREATE TABLE setup_charges (
    number_id       TEXT    NOT NULL,
    purchased_at    TEXT    NOT NULL,
    invoice_id      INTEGER NOT NULL REFERENCES invoices (id),
    UNIQUE (number_id, purchased_at)
) STRICT;

CREATE TRIGGER invoices_gap_free BEFORE INSERT ON invoices
WHEN NEW.seq <> (SELECT COALESCE(MAX(seq), 0) + 1 FROM invoices
                 WHERE financial_year = NEW.financial_year)
BEGIN SELECT RAISE(ABORT, 'invoice sequence numbers must be consecutive within a financial year'); END;
CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be changed'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
CREATE TRIGGER invoice_lines_no_update BEFORE UPDATE ON invoice_lines
BEGIN SELECT RAISE(ABORT, 'issued invoice lines cannot be changed'); END;
CREATE TRIGGER invoice_lines_no_delete BEFORE DELETE ON invoice_lines
BEGIN SELECT RAISE(ABORT, 'issued invoice lines cannot be deleted'); END;
CREATE TRIGGER setup_charges_no_update BEFORE UPDATE ON setup_charges
BEGIN SELECT RAISE(ABORT, 'billed setup fees cannot be changed'); END;
CREATE TRIGGER setup_charges_no_delete BEFORE DELETE ON setup_charges
BEGIN SELECT RAISE(ABORT, 'billed setup fees cannot be deleted'); END;
";

/// Call usage lines: their direction, calls and billable seconds (null on the
/// lines of numbers).
const V2: &str = "
ALTER TABLE invoice_lines ADD COLUMN call_direction TEXT;
ALTER TABLE invoice_lines ADD COLUMN calls INTEGER;
ALTER TABLE invoice_lines ADD COLUMN billable_seconds INTEGER;
";

/// The exchange rate (rupees per unit) an invoice in another currency was issued
/// with (CGST Rule 34), so every later document and return uses the same figure;
/// null for rupee invoices and for invoices issued before rates were recorded.
const V3: &str = "
ALTER TABLE invoices ADD COLUMN fx_rate TEXT;
";

/// Credit notes, debit notes and cancellations (CGST s.34, Rule 53(1A)).
///
/// Notes have one gap-free series per kind and financial year, reference the
/// invoice they correct, and are append-only like invoices. A cancellation marks
/// an invoice whose number stays burned; the customer's next invoice for that
/// period gets a new number, so the one-invoice-per-customer-currency-period rule
/// and the once-only setup fee now hold among invoices that are not cancelled.
/// Invoices also record the customer's address as billed (a note prints the
/// recipient's address, Rule 53(1A)(e)); older invoices have none.
/// SQLite cannot drop a table constraint, so `invoices` and `setup_charges` are
/// rebuilt (rows, ids and triggers kept) with those rules as triggers.
const V4: &str = "
CREATE TABLE cancellations (
    invoice_id      INTEGER PRIMARY KEY REFERENCES invoices (id),
    reason          TEXT    NOT NULL CHECK (reason <> ''),
    cancelled_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE invoices_v4 (
    id              INTEGER PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    financial_year  TEXT    NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    customer_id     TEXT    NOT NULL,
    customer_name   TEXT    NOT NULL,
    customer_gstin  TEXT    NOT NULL,
    place_of_supply TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    period          TEXT    NOT NULL,
    invoice_date    TEXT    NOT NULL,
    due_date        TEXT    NOT NULL,
    subtotal        TEXT    NOT NULL,
    cgst            TEXT    NOT NULL,
    sgst            TEXT    NOT NULL,
    igst            TEXT    NOT NULL,
    round_off       TEXT    NOT NULL,
    total           TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES runs (id),
    created_at      TEXT    NOT NULL,
    fx_rate         TEXT,
    customer_address TEXT   NOT NULL DEFAULT '',
    UNIQUE (financial_year, seq)
) STRICT;
INSERT INTO invoices_v4 SELECT id, number, financial_year, seq, customer_id, customer_name,
    customer_gstin, place_of_supply, currency, period, invoice_date, due_date, subtotal, cgst,
    sgst, igst, round_off, total, content_hash, run_id, created_at, fx_rate, '' FROM invoices;

CREATE TABLE setup_charges_v4 (
    number_id       TEXT    NOT NULL,
    purchased_at    TEXT    NOT NULL,
    invoice_id      INTEGER NOT NULL REFERENCES invoices (id)
) STRICT;
INSERT INTO setup_charges_v4 SELECT number_id, purchased_at, invoice_id FROM setup_charges;

DROP TABLE setup_charges;
DROP TABLE invoices;
ALTER TABLE invoices_v4 RENAME TO invoices;
ALTER TABLE setup_charges_v4 RENAME TO setup_charges;
CREATE INDEX invoices_by_period ON invoices (period);
CREATE INDEX invoices_by_customer ON invoices (customer_id, currency, period);
CREATE INDEX setup_charges_by_key ON setup_charges (number_id, purchased_at);

CREATE TRIGGER invoices_gap_free BEFORE INSERT ON invoices
WHEN NEW.seq <> (SELECT COALESCE(MAX(seq), 0) + 1 FROM invoices
                 WHERE financial_year = NEW.financial_year)
BEGIN SELECT RAISE(ABORT, 'invoice sequence numbers must be consecutive within a financial year'); END;
CREATE TRIGGER invoices_one_per_period BEFORE INSERT ON invoices
WHEN EXISTS (SELECT 1 FROM invoices i
             WHERE i.customer_id = NEW.customer_id AND i.currency = NEW.currency
               AND i.period = NEW.period
               AND i.id NOT IN (SELECT invoice_id FROM cancellations))
BEGIN SELECT RAISE(ABORT, 'UNIQUE: one invoice per customer, currency and period that is not cancelled'); END;
CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be changed'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
CREATE TRIGGER setup_charges_once BEFORE INSERT ON setup_charges
WHEN EXISTS (SELECT 1 FROM setup_charges s
             WHERE s.number_id = NEW.number_id AND s.purchased_at = NEW.purchased_at
               AND s.invoice_id NOT IN (SELECT invoice_id FROM cancellations))
BEGIN SELECT RAISE(ABORT, 'UNIQUE: a setup fee is billed once on invoices that are not cancelled'); END;
CREATE TRIGGER setup_charges_no_update BEFORE UPDATE ON setup_charges
BEGIN SELECT RAISE(ABORT, 'billed setup fees cannot be changed'); END;
CREATE TRIGGER setup_charges_no_delete BEFORE DELETE ON setup_charges
BEGIN SELECT RAISE(ABORT, 'billed setup fees cannot be deleted'); END;

CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('credit', 'debit')),
    financial_year  TEXT    NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    invoice_id      INTEGER NOT NULL REFERENCES invoices (id),
    note_date       TEXT    NOT NULL,
    reason          TEXT    NOT NULL CHECK (reason <> ''),
    customer_name   TEXT    NOT NULL,
    customer_address TEXT   NOT NULL,
    customer_gstin  TEXT    NOT NULL,
    place_of_supply TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    subtotal        TEXT    NOT NULL,
    cgst            TEXT    NOT NULL,
    sgst            TEXT    NOT NULL,
    igst            TEXT    NOT NULL,
    round_off       TEXT    NOT NULL,
    total           TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    UNIQUE (kind, financial_year, seq)
) STRICT;
CREATE INDEX notes_by_invoice ON notes (invoice_id);

CREATE TABLE note_lines (
    note_id         INTEGER NOT NULL REFERENCES notes (id),
    line_no         INTEGER NOT NULL,
    invoice_line_no INTEGER,
    description     TEXT    NOT NULL,
    number_id       TEXT    NOT NULL,
    e164            TEXT    NOT NULL,
    charge          TEXT    NOT NULL,
    service_from    TEXT    NOT NULL,
    service_to      TEXT    NOT NULL,
    billable_days   INTEGER,
    period_days     INTEGER,
    unit_amount     TEXT    NOT NULL,
    amount          TEXT    NOT NULL,
    call_direction  TEXT,
    calls           INTEGER,
    billable_seconds INTEGER,
    PRIMARY KEY (note_id, line_no)
) STRICT;

CREATE TRIGGER notes_gap_free BEFORE INSERT ON notes
WHEN NEW.seq <> (SELECT COALESCE(MAX(seq), 0) + 1 FROM notes
                 WHERE kind = NEW.kind AND financial_year = NEW.financial_year)
BEGIN SELECT RAISE(ABORT, 'note sequence numbers must be consecutive within a financial year'); END;
CREATE TRIGGER notes_not_on_cancelled BEFORE INSERT ON notes
WHEN NEW.invoice_id IN (SELECT invoice_id FROM cancellations)
BEGIN SELECT RAISE(ABORT, 'a cancelled invoice takes no notes'); END;
CREATE TRIGGER cancellations_without_notes BEFORE INSERT ON cancellations
WHEN NEW.invoice_id IN (SELECT invoice_id FROM notes)
BEGIN SELECT RAISE(ABORT, 'an invoice with notes cannot be cancelled'); END;
CREATE TRIGGER notes_no_update BEFORE UPDATE ON notes
BEGIN SELECT RAISE(ABORT, 'issued notes cannot be changed'); END;
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
BEGIN SELECT RAISE(ABORT, 'issued notes cannot be deleted'); END;
CREATE TRIGGER note_lines_no_update BEFORE UPDATE ON note_lines
BEGIN SELECT RAISE(ABORT, 'issued note lines cannot be changed'); END;
CREATE TRIGGER note_lines_no_delete BEFORE DELETE ON note_lines
BEGIN SELECT RAISE(ABORT, 'issued note lines cannot be deleted'); END;
CREATE TRIGGER cancellations_no_update BEFORE UPDATE ON cancellations
BEGIN SELECT RAISE(ABORT, 'cancellations cannot be changed'); END;
CREATE TRIGGER cancellations_no_delete BEFORE DELETE ON cancellations
BEGIN SELECT RAISE(ABORT, 'cancellations cannot be deleted'); END;
";

/// The outbox of `didbill send`: one row per attempt to hand a document to the mail
/// server. A row is written as `sending` before the message goes out and set to
/// `accepted` (2xx) or `failed` with the server's reply once it returns, so a crash
/// leaves at most the messages in flight unresolved, and those are sent again.
const V5: &str = "
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY,
    document_kind     TEXT    NOT NULL CHECK (document_kind IN ('invoice')),
    document_number   TEXT    NOT NULL,
    attempt           INTEGER NOT NULL CHECK (attempt > 0),
    message_id        TEXT    NOT NULL UNIQUE,
    recipients        TEXT    NOT NULL,
    attachment_sha256 TEXT    NOT NULL,
    resend            INTEGER NOT NULL CHECK (resend IN (0, 1)),
    state             TEXT    NOT NULL CHECK (state IN ('sending', 'accepted', 'failed')),
    tries             INTEGER NOT NULL DEFAULT 0,
    reply_code        INTEGER,
    reply_text        TEXT,
    started_at        TEXT    NOT NULL,
    finished_at       TEXT,
    UNIQUE (document_kind, document_number, attempt)
) STRICT;
";

/// The outbox delivers credit and debit notes too. SQLite cannot widen a `CHECK`
/// in place, so the table is rebuilt with its rows, ids and order kept.
const V6: &str = "
CREATE TABLE outbox_v6 (
    id                INTEGER PRIMARY KEY,
    document_kind     TEXT    NOT NULL
                      CHECK (document_kind IN ('invoice', 'credit_note', 'debit_note')),
    document_number   TEXT    NOT NULL,
    attempt           INTEGER NOT NULL CHECK (attempt > 0),
    message_id        TEXT    NOT NULL UNIQUE,
    recipients        TEXT    NOT NULL,
    attachment_sha256 TEXT    NOT NULL,
    resend            INTEGER NOT NULL CHECK (resend IN (0, 1)),
    state             TEXT    NOT NULL CHECK (state IN ('sending', 'accepted', 'failed')),
    tries             INTEGER NOT NULL DEFAULT 0,
    reply_code        INTEGER,
    reply_text        TEXT,
    started_at        TEXT    NOT NULL,
    finished_at       TEXT,
    UNIQUE (document_kind, document_number, attempt)
) STRICT;
INSERT INTO outbox_v6 SELECT * FROM outbox ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_v6 RENAME TO outbox;
";

/// The triggers the current schema keeps (append-only guards, gap-free series,
/// one invoice per period), by name: `didbill ledger verify` checks each is present.
pub fn guard_triggers() -> std::collections::BTreeSet<&'static str> {
    created_triggers(&MIGRATIONS)
}

/// The names of the triggers `migrations` leave in place: created, and not dropped
/// by a later statement.
pub(super) fn created_triggers(
    migrations: &[&'static str],
) -> std::collections::BTreeSet<&'static str> {
    let mut triggers = std::collections::BTreeSet::new();
    for sql in migrations {
        for statement in sql.split(';') {
            let words: Vec<&'static str> = statement
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .flat_map(str::split_whitespace)
                .collect();
            match words.as_slice() {
                ["CREATE", "TRIGGER", name, ..] => {
                    triggers.insert(*name);
                }
                ["DROP", "TRIGGER", name, ..] => {
                    triggers.remove(name);
                }
                _ => {}
            }
        }
    }
    triggers
}

/// The marks of an opened database file.
struct Marks {
    application_id: i32,
    version: i32,
    tables: i64,
}

fn marks(conn: &Connection, path: &Path) -> Result<Marks> {
    let read = || -> rusqlite::Result<Marks> {
        Ok(Marks {
            application_id: conn.pragma_query_value(None, "application_id", |r| r.get(0))?,
            version: conn.pragma_query_value(None, "user_version", |r| r.get(0))?,
            tables: conn.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))?,
        })
    };
    read().map_err(|e| sql_error(path, "reading the ledger", e))
}

/// Refuses files that are not didbill ledgers or are from a newer didbill; returns
/// the version found (0 for an empty file).
fn check(marks: &Marks, path: &Path) -> Result<i32> {
    let fail = |message: String| Error::Ledger {
        path: path.to_path_buf(),
        message,
    };
    if marks.application_id != APPLICATION_ID && (marks.application_id != 0 || marks.tables > 0) {
        return Err(fail(
            "is an SQLite database but not a didbill ledger; pass --ledger with the right file"
                .into(),
        ));
    }
    if marks.version > VERSION {
        return Err(fail(format!(
            "was written by a newer didbill (ledger schema version {}, this didbill knows up to {VERSION}); \
             upgrade didbill to use it",
            marks.version
        )));
    }
    Ok(marks.version)
}

/// Checks a ledger opened for reading: it must be a didbill ledger of this version.
pub fn check_current(conn: &Connection, path: &Path) -> Result<()> {
    let version = check(&marks(conn, path)?, path)?;
    if version < VERSION {
        return Err(Error::Ledger {
            path: path.to_path_buf(),
            message: if version == 0 {
                "is empty: no run has recorded invoices in it yet".into()
            } else {
                format!(
                    "has schema version {version}; any `didbill run` with this ledger upgrades it to {VERSION}"
                )
            },
        });
    }
    Ok(())
}

/// Brings the ledger to [`VERSION`], creating the tables in a new file.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    if check(&marks(conn, path)?, path)? == VERSION {
        return Ok(());
    }
    // Rebuilding a table (V4) must not cascade through foreign keys; SQLite only
    // lets them be switched off outside a transaction. They are checked before the
    // commit and switched back on after it.
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(|e| sql_error(path, "preparing the upgrade", e))?;
    let upgraded = upgrade(conn, path);
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| sql_error(path, "finishing the upgrade", e))?;
    upgraded
}

fn upgrade(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error(path, "locking the ledger to upgrade it", e))?;
    // Another process may have migrated while this one waited for the lock.
    let from = check(&marks(&tx, path)?, path)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", i as i32 + 1))
            .map_err(|e| sql_error(path, &format!("upgrading to schema version {}", i + 1), e))?;
    }
    let broken: i64 = tx
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(|e| sql_error(path, "checking the upgraded ledger", e))?;
    if broken > 0 {
        return Err(Error::Ledger {
            path: path.to_path_buf(),
            message: format!(
                "has {broken} row(s) referring to missing rows; the file is damaged and was not upgraded"
            ),
        });
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .and_then(|_| tx.commit())
        .map_err(|e| sql_error(path, "upgrading the ledger", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_ledger_is_upgraded_and_keeps_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.sqlite");
        let mut conn = Connection::open(&path).unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO runs (period, as_of, source, out_dir, invoice_date, customers,
                 numbers_fetched, billed, not_billable, exceptions, invoices, invoices_new, pid,
                 state, started_at)
             VALUES ('2026-11', '', '', '', '', 0, 0, 0, 0, 0, 1, 1, 0, 'done', '');
             INSERT INTO invoices (number, financial_year, seq, customer_id, customer_name,
                 customer_gstin, place_of_supply, currency, period, invoice_date, due_date,
                 subtotal, cgst, sgst, igst, round_off, total, content_hash, run_id, created_at)
             VALUES ('DID/26-27/00001', '26-27', 1, 'MA_1', '', '', '29', 'INR', '2026-11',
                 '2026-12-01', '2026-12-16', '1.00', '0.00', '0.00', '0.00', '0.00', '1.00', '',
                 1, '');
             INSERT INTO invoice_lines (invoice_id, line_no, number_id, e164, charge,
                 service_from, service_to, billable_days, period_days, unit_amount, amount)
             VALUES (1, 1, 'n1', '+91', 'rental', '2026-11-01', '2026-11-30', 30, 30, '1.00',
                 '1.00');",
        )
        .unwrap();
        assert!(check_current(&conn, &path)
            .unwrap_err()
            .to_string()
            .contains("schema version 1"));

        migrate(&mut conn, &path).unwrap();
        check_current(&conn, &path).unwrap();
        let old: (String, Option<String>, Option<i64>) = conn
            .query_row(
                "SELECT charge, call_direction, calls FROM invoice_lines WHERE line_no = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(old, ("rental".into(), None, None));
        conn.execute(
            "INSERT INTO invoice_lines (invoice_id, line_no, number_id, e164, charge,
                 service_from, service_to, unit_amount, amount, call_direction, calls,
                 billable_seconds)
             VALUES (1, 2, '', '', 'usage', '2026-11-01', '2026-11-30', '', '0.50', 'inbound',
                 3, 95)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn notes_and_cancellations_keep_their_series_gap_free_and_their_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.sqlite");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        let invoice = |number: &str, seq: i64| {
            format!(
                "INSERT INTO invoices (number, financial_year, seq, customer_id, customer_name,
                     customer_gstin, place_of_supply, currency, period, invoice_date, due_date,
                     subtotal, cgst, sgst, igst, round_off, total, content_hash, run_id, created_at)
                 VALUES ('{number}', '26-27', {seq}, 'MA_1', '', '', '29', 'INR', '2026-11',
                     '2026-12-01', '2026-12-16', '1.00', '0.00', '0.00', '0.00', '0.00', '1.00',
                     '', 1, '');"
            )
        };
        conn.execute_batch(&format!(
            "INSERT INTO runs (period, as_of, source, out_dir, invoice_date, customers,
                 numbers_fetched, billed, not_billable, exceptions, invoices, invoices_new, pid,
                 state, started_at)
             VALUES ('2026-11', '', '', '', '', 0, 0, 0, 0, 0, 1, 1, 0, 'done', '');
             {}
             INSERT INTO setup_charges VALUES ('n1', '2026-11-03', 1);",
            invoice("DID/26-27/00001", 1)
        ))
        .unwrap();
        migrate(&mut conn, &path).unwrap();
        check_current(&conn, &path).unwrap();
        let kept: (String, String) = conn
            .query_row(
                "SELECT i.number, s.number_id FROM invoices i JOIN setup_charges s ON s.invoice_id = i.id",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, ("DID/26-27/00001".into(), "n1".into()));
        // Still one invoice per customer, currency and period, and one setup fee.
        let twice = conn
            .execute_batch(&invoice("DID/26-27/00002", 2))
            .unwrap_err();
        assert!(twice.to_string().contains("not cancelled"), "{twice}");
        let setup = conn
            .execute(
                "INSERT INTO setup_charges VALUES ('n1', '2026-11-03', 1)",
                [],
            )
            .unwrap_err();
        assert!(setup.to_string().contains("billed once"), "{setup}");
        let note = |number: &str, seq: i64, invoice_id: i64| {
            format!(
                "INSERT INTO notes (number, kind, financial_year, seq, invoice_id, note_date,
                     reason, customer_name, customer_address, customer_gstin, place_of_supply, currency, subtotal,
                     cgst, sgst, igst, round_off, total, created_at)
                 VALUES ('{number}', 'credit', '26-27', {seq}, {invoice_id}, '2026-12-05', 'r',
                     '', '', '', '29', 'INR', '1.00', '0.00', '0.00', '0.00', '0.00', '1.00', '');"
            )
        };
        let gap = conn
            .execute_batch(&note("CN/26-27/00002", 2, 1))
            .unwrap_err();
        assert!(gap.to_string().contains("consecutive"), "{gap}");
        conn.execute_batch(&note("CN/26-27/00001", 1, 1)).unwrap();
        let cancel = "INSERT INTO cancellations VALUES (1, 'duplicate', '')";
        let with_notes = conn.execute(cancel, []).unwrap_err();
        assert!(
            with_notes.to_string().contains("with notes"),
            "{with_notes}"
        );
        for edit in ["UPDATE notes SET total = '0.00'", "DELETE FROM notes"] {
            let err = conn.execute(edit, []).unwrap_err();
            assert!(err.to_string().contains("issued notes cannot"), "{err}");
        }

        // A cancelled invoice frees its customer's period and setup fee, not its number.
        conn.execute_batch(
            "INSERT INTO runs (period, as_of, source, out_dir, invoice_date, customers,
                 numbers_fetched, billed, not_billable, exceptions, invoices, invoices_new, pid,
                 state, started_at)
             VALUES ('2026-11', '', '', '', '', 0, 0, 0, 0, 0, 1, 1, 0, 'done', '');",
        )
        .unwrap();
        let other = invoice("DID/26-27/00002", 2).replace("'MA_1'", "'MA_2'");
        conn.execute_batch(&other).unwrap();
        conn.execute("INSERT INTO cancellations VALUES (2, 'duplicate', '')", [])
            .unwrap();
        let on_cancelled = conn
            .execute_batch(&note("CN/26-27/00002", 2, 2))
            .unwrap_err();
        assert!(
            on_cancelled.to_string().contains("cancelled"),
            "{on_cancelled}"
        );
        conn.execute_batch(&invoice("DID/26-27/00003", 3).replace("'MA_1'", "'MA_2'"))
            .unwrap();
        let reused = conn
            .execute_batch(&invoice("DID/26-27/00002", 4).replace("'MA_1'", "'MA_3'"))
            .unwrap_err();
        assert!(reused.to_string().contains("UNIQUE"), "{reused}");
    }

    #[test]
    fn a_version_5_outbox_keeps_its_attempts_and_takes_notes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.sqlite");
        let mut conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        let attempt = |kind: &str, number: &str, id: &str| {
            format!(
                "INSERT INTO outbox (document_kind, document_number, attempt, message_id,
                     recipients, attachment_sha256, resend, state, tries, reply_code,
                     reply_text, started_at, finished_at)
                 VALUES ('{kind}', '{number}', 1, '{id}', 'a@example.com', 'ab', 0,
                     'accepted', 1, 250, 'OK', '2026-12-02T10:00:00Z', '2026-12-02T10:00:01Z');"
            )
        };
        conn.execute_batch(&attempt("invoice", "DID/26-27/00001", "<m1@x>"))
            .unwrap();
        let early = conn
            .execute_batch(&attempt("credit_note", "CN/26-27/00001", "<m2@x>"))
            .unwrap_err();
        assert!(early.to_string().contains("CHECK"), "{early}");

        migrate(&mut conn, &path).unwrap();
        check_current(&conn, &path).unwrap();
        let kept: (i64, String, i64, String, String) = conn
            .query_row(
                "SELECT id, document_number, reply_code, reply_text, finished_at FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            kept,
            (
                1,
                "DID/26-27/00001".into(),
                250,
                "OK".into(),
                "2026-12-02T10:00:01Z".into()
            )
        );
        conn.execute_batch(&attempt("credit_note", "CN/26-27/00001", "<m2@x>"))
            .unwrap();
        conn.execute_batch(&attempt("debit_note", "DN/26-27/00001", "<m3@x>"))
            .unwrap();
        let unknown = conn
            .execute_batch(&attempt("receipt", "R1", "<m4@x>"))
            .unwrap_err();
        assert!(unknown.to_string().contains("CHECK"), "{unknown}");
        let twice = conn
            .execute_batch(&attempt("invoice", "DID/26-27/00002", "<m1@x>"))
            .unwrap_err();
        assert!(twice.to_string().contains("UNIQUE"), "{twice}");
    }
}
