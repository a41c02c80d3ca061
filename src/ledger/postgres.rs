//! The PostgreSQL implementation of [`Store`], for a ledger shared by several
//! operators and machines (`--ledger postgres://…`), with the guarantees of the file.
//!
//! # Schema
//! The tables mirror the SQLite ledger's, with money as `NUMERIC` and dates as
//! `DATE`. Table `didbill_ledger` marks a database as a ledger and holds its schema
//! version; a database with other tables and no mark is refused, as is a version
//! above [`VERSION`]. Migrations run in one transaction under the ledger lock.
//!
//! # Numbers
//! Each series (invoices, credit notes, debit notes, per financial year) has a
//! counter row in `series`, advanced by a trigger in the same transaction that
//! inserts the document, only from `seq - 1` to `seq`: a rollback takes the number
//! back, so numbers are gap-free (a PostgreSQL sequence would leave gaps). Unique
//! indexes on `(financial_year, seq)` are the backstop.
//!
//! # Locks
//! A run's transaction takes a transaction-scoped advisory lock on the ledger
//! ([`LEDGER_LOCK`]), waiting at most [`super::BUSY_TIMEOUT`] (`lock_timeout`):
//! two runs never see the same next number, and a second run waits for the first.
//! A run also holds a session advisory lock on its own run id from the moment its
//! row is written until [`finish_run`]: a run row still `rendering` whose lock is
//! free belongs to a process that died, on whichever machine it ran. A run or note
//! first takes a session lock on its period ([`lock_period`]), so a second run of
//! the month waits for the first, while the ledger lock is held only to number and
//! record: a run commits before it renders its PDFs.
//!
//! # Append-only
//! Triggers refuse `UPDATE`, `DELETE` and `TRUNCATE` of invoices, their lines,
//! setup fees, notes, note lines and cancellations, and any change of a counter
//! other than one step forward.

use std::cell::RefCell;
use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use postgres::error::SqlState;
use postgres::{Client, Row, Transaction};
use rust_decimal::Decimal;

use super::content::{InvoiceContent, LineContent};
use super::plan::StoredInvoice;
use super::store::{
    InterruptedRun, InvoiceOnRecord, NewInvoice, NewNote, NoteLine, NoteRecord, Store,
};
use super::{RunRecord, BUSY_TIMEOUT};
use crate::error::{Error, Result};
use didbill_core::billing::{BilledSetups, SetupKey};
use didbill_core::notes::NoteKind;
use didbill_core::period::Period;

/// The schema version this didbill writes and reads on PostgreSQL.
pub const VERSION: i32 = MIGRATIONS.len() as i32;

/// The advisory lock key of the ledger ("DIDB" "LDGR" in ASCII).
pub const LEDGER_LOCK: i64 = 0x4449_4442_4c44_4752;

/// The first key of a run's session advisory lock (the second is its id).
const RUN_LOCK_CLASS: i32 = 0x4449_4442;

/// The first key of the session advisory lock a run or note holds on its period
/// (the second is the period, `YYYYMM`).
const PERIOD_LOCK_CLASS: i32 = 0x4449_4450;

/// Migration `i` brings a ledger from version `i` to `i + 1`.
const MIGRATIONS: [&str; 3] = [V1, V2, V3];

/// The ledger's tables, counters and guards.
const V1: &str = r#"
CREATE FUNCTION didbill_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;

CREATE TABLE series (
    kind            TEXT    NOT NULL CHECK (kind IN ('invoice', 'credit', 'debit')),
    financial_year  TEXT    NOT NULL,
    last_seq        BIGINT  NOT NULL CHECK (last_seq >= 0),
    PRIMARY KEY (kind, financial_year)
);

CREATE FUNCTION didbill_series_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> OLD.kind OR NEW.financial_year <> OLD.financial_year
       OR NEW.last_seq <> OLD.last_seq + 1 THEN
        RAISE EXCEPTION 'a series counter only moves forward by one'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER series_forward BEFORE UPDATE ON series
    FOR EACH ROW EXECUTE FUNCTION didbill_series_forward();
CREATE TRIGGER series_no_delete BEFORE DELETE ON series
    FOR EACH ROW EXECUTE FUNCTION didbill_refuse('series counters cannot be deleted');
CREATE TRIGGER series_no_truncate BEFORE TRUNCATE ON series
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_refuse('series counters cannot be deleted');

-- Takes the document's number from its series: the counter must stand at seq - 1.
CREATE FUNCTION didbill_take_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    series_kind TEXT := COALESCE(TG_ARGV[0], to_jsonb(NEW) ->> 'kind');
BEGIN
    INSERT INTO series (kind, financial_year, last_seq)
        VALUES (series_kind, NEW.financial_year, 0) ON CONFLICT DO NOTHING;
    UPDATE series SET last_seq = NEW.seq
        WHERE kind = series_kind AND financial_year = NEW.financial_year
          AND last_seq = NEW.seq - 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% sequence numbers must be consecutive within a financial year',
            series_kind USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TABLE runs (
    id              BIGINT  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    period          TEXT    NOT NULL,
    as_of           TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    out_dir         TEXT    NOT NULL,
    invoice_date    DATE    NOT NULL,
    customers       BIGINT  NOT NULL,
    numbers_fetched BIGINT  NOT NULL,
    billed          BIGINT  NOT NULL,
    not_billable    BIGINT  NOT NULL,
    exceptions      BIGINT  NOT NULL,
    invoices        BIGINT  NOT NULL,
    invoices_new    BIGINT  NOT NULL,
    pid             BIGINT  NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('rendering', 'done', 'recovered')),
    started_at      TEXT    NOT NULL,
    finished_at     TEXT
);

CREATE TABLE invoices (
    id              BIGINT  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    financial_year  TEXT    NOT NULL,
    seq             BIGINT  NOT NULL CHECK (seq > 0),
    customer_id     TEXT    NOT NULL,
    customer_name   TEXT    NOT NULL,
    customer_address TEXT   NOT NULL,
    customer_gstin  TEXT    NOT NULL,
    place_of_supply TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    period          TEXT    NOT NULL,
    invoice_date    DATE    NOT NULL,
    due_date        DATE    NOT NULL,
    subtotal        NUMERIC NOT NULL,
    cgst            NUMERIC NOT NULL,
    sgst            NUMERIC NOT NULL,
    igst            NUMERIC NOT NULL,
    round_off       NUMERIC NOT NULL,
    total           NUMERIC NOT NULL,
    fx_rate         NUMERIC,
    content_hash    TEXT    NOT NULL,
    run_id          BIGINT  NOT NULL REFERENCES runs (id),
    created_at      TEXT    NOT NULL,
    UNIQUE (financial_year, seq)
);
CREATE INDEX invoices_by_period ON invoices (period);
CREATE INDEX invoices_by_customer ON invoices (customer_id, currency, period);

CREATE TABLE invoice_lines (
    invoice_id      BIGINT  NOT NULL REFERENCES invoices (id),
    line_no         BIGINT  NOT NULL,
    number_id       TEXT    NOT NULL,
    e164            TEXT    NOT NULL,
    charge          TEXT    NOT NULL,
    service_from    TEXT    NOT NULL,
    service_to      TEXT    NOT NULL,
    billable_days   INTEGER,
    period_days     INTEGER,
    unit_amount     NUMERIC,
    amount          NUMERIC NOT NULL,
    call_direction  TEXT,
    calls           BIGINT,
    billable_seconds BIGINT,
    PRIMARY KEY (invoice_id, line_no)
);

CREATE TABLE setup_charges (
    number_id       TEXT    NOT NULL,
    purchased_at    TEXT    NOT NULL,
    invoice_id      BIGINT  NOT NULL REFERENCES invoices (id)
);
CREATE INDEX setup_charges_by_key ON setup_charges (number_id, purchased_at);

CREATE TABLE cancellations (
    invoice_id      BIGINT  PRIMARY KEY REFERENCES invoices (id),
    reason          TEXT    NOT NULL CHECK (reason <> ''),
    cancelled_at    TEXT    NOT NULL
);

CREATE TABLE notes (
    id              BIGINT  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('credit', 'debit')),
    financial_year  TEXT    NOT NULL,
    seq             BIGINT  NOT NULL CHECK (seq > 0),
    invoice_id      BIGINT  NOT NULL REFERENCES invoices (id),
    note_date       DATE    NOT NULL,
    reason          TEXT    NOT NULL CHECK (reason <> ''),
    customer_name   TEXT    NOT NULL,
    customer_address TEXT   NOT NULL,
    customer_gstin  TEXT    NOT NULL,
    place_of_supply TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    subtotal        NUMERIC NOT NULL,
    cgst            NUMERIC NOT NULL,
    sgst            NUMERIC NOT NULL,
    igst            NUMERIC NOT NULL,
    round_off       NUMERIC NOT NULL,
    total           NUMERIC NOT NULL,
    created_at      TEXT    NOT NULL,
    UNIQUE (kind, financial_year, seq)
);
CREATE INDEX notes_by_invoice ON notes (invoice_id);

CREATE TABLE note_lines (
    note_id         BIGINT  NOT NULL REFERENCES notes (id),
    line_no         BIGINT  NOT NULL,
    invoice_line_no BIGINT,
    description     TEXT    NOT NULL,
    number_id       TEXT    NOT NULL,
    e164            TEXT    NOT NULL,
    charge          TEXT    NOT NULL,
    service_from    TEXT    NOT NULL,
    service_to      TEXT    NOT NULL,
    billable_days   INTEGER,
    period_days     INTEGER,
    unit_amount     NUMERIC,
    amount          NUMERIC NOT NULL,
    call_direction  TEXT,
    calls           BIGINT,
    billable_seconds BIGINT,
    PRIMARY KEY (note_id, line_no)
);

CREATE TRIGGER invoices_take_number BEFORE INSERT ON invoices
    FOR EACH ROW EXECUTE FUNCTION didbill_take_number('invoice');
CREATE TRIGGER notes_take_number BEFORE INSERT ON notes
    FOR EACH ROW EXECUTE FUNCTION didbill_take_number();

CREATE FUNCTION didbill_one_per_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM invoices i
               WHERE i.customer_id = NEW.customer_id AND i.currency = NEW.currency
                 AND i.period = NEW.period
                 AND i.id NOT IN (SELECT invoice_id FROM cancellations)) THEN
        RAISE EXCEPTION 'UNIQUE: one invoice per customer, currency and period that is not cancelled'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER invoices_one_per_period BEFORE INSERT ON invoices
    FOR EACH ROW EXECUTE FUNCTION didbill_one_per_period();

CREATE FUNCTION didbill_setup_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM setup_charges s
               WHERE s.number_id = NEW.number_id AND s.purchased_at = NEW.purchased_at
                 AND s.invoice_id NOT IN (SELECT invoice_id FROM cancellations)) THEN
        RAISE EXCEPTION 'UNIQUE: a setup fee is billed once on invoices that are not cancelled'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER setup_charges_once BEFORE INSERT ON setup_charges
    FOR EACH ROW EXECUTE FUNCTION didbill_setup_once();

CREATE FUNCTION didbill_note_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'notes'
       AND NEW.invoice_id IN (SELECT invoice_id FROM cancellations) THEN
        RAISE EXCEPTION 'a cancelled invoice takes no notes' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_TABLE_NAME = 'cancellations'
       AND NEW.invoice_id IN (SELECT invoice_id FROM notes) THEN
        RAISE EXCEPTION 'an invoice with notes cannot be cancelled'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER notes_not_on_cancelled BEFORE INSERT ON notes
    FOR EACH ROW EXECUTE FUNCTION didbill_note_rules();
CREATE TRIGGER cancellations_without_notes BEFORE INSERT ON cancellations
    FOR EACH ROW EXECUTE FUNCTION didbill_note_rules();

CREATE TRIGGER invoices_append_only BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION didbill_refuse('issued invoices cannot be changed or deleted');
CREATE TRIGGER invoice_lines_append_only BEFORE UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION didbill_refuse('issued invoice lines cannot be changed or deleted');
CREATE TRIGGER setup_charges_append_only BEFORE UPDATE OR DELETE ON setup_charges
    FOR EACH ROW EXECUTE FUNCTION didbill_refuse('billed setup fees cannot be changed or deleted');
CREATE TRIGGER notes_append_only BEFORE UPDATE OR DELETE ON notes
    FOR EACH ROW EXECUTE FUNCTION didbill_refuse('issued notes cannot be changed or deleted');
CREATE TRIGGER note_lines_append_only BEFORE UPDATE OR DELETE ON note_lines
    FOR EACH ROW EXECUTE FUNCTION didbill_refuse('issued note lines cannot be changed or deleted');
CREATE TRIGGER cancellations_append_only BEFORE UPDATE OR DELETE ON cancellations
    FOR EACH ROW EXECUTE FUNCTION didbill_refuse('cancellations cannot be changed or deleted');
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_refuse('issued invoices cannot be deleted');
CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_refuse('issued invoice lines cannot be deleted');
CREATE TRIGGER setup_charges_no_truncate BEFORE TRUNCATE ON setup_charges
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_refuse('billed setup fees cannot be deleted');
CREATE TRIGGER notes_no_truncate BEFORE TRUNCATE ON notes
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_refuse('issued notes cannot be deleted');
CREATE TRIGGER note_lines_no_truncate BEFORE TRUNCATE ON note_lines
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_refuse('issued note lines cannot be deleted');
CREATE TRIGGER cancellations_no_truncate BEFORE TRUNCATE ON cancellations
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_refuse('cancellations cannot be deleted');
"#;

/// The outbox of `didbill send`, as in the SQLite ledger: one row per delivery
/// attempt, updated as the attempt ends (so not append-only).
const V2: &str = "
CREATE TABLE outbox (
    id                BIGINT  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    document_kind     TEXT    NOT NULL
                      CHECK (document_kind IN ('invoice', 'credit_note', 'debit_note')),
    document_number   TEXT    NOT NULL,
    attempt           BIGINT  NOT NULL CHECK (attempt > 0),
    message_id        TEXT    NOT NULL UNIQUE,
    recipients        TEXT    NOT NULL,
    attachment_sha256 TEXT    NOT NULL,
    resend            BIGINT  NOT NULL CHECK (resend IN (0, 1)),
    state             TEXT    NOT NULL CHECK (state IN ('sending', 'accepted', 'failed')),
    tries             BIGINT  NOT NULL DEFAULT 0,
    reply_code        BIGINT,
    reply_text        TEXT,
    started_at        TEXT    NOT NULL,
    finished_at       TEXT,
    UNIQUE (document_kind, document_number, attempt)
);
";

/// Numbers are taken once per statement, not once per row: one `COPY` of a
/// month's invoices moves each counter once. A counter updated row by row within
/// one transaction leaves a chain of row versions that every later update walks,
/// which made a 120,000-invoice commit take minutes. The counter must still move
/// from the last number to the statement's first minus one, the numbers must be
/// consecutive, and a counter can only be set to the last number issued.
const V3: &str = r#"
DROP TRIGGER invoices_take_number ON invoices;
DROP TRIGGER notes_take_number ON notes;
DROP FUNCTION didbill_take_number();

CREATE FUNCTION didbill_take_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken RECORD;
BEGIN
    FOR taken IN
        SELECT COALESCE(TG_ARGV[0], to_jsonb(n) ->> 'kind') AS kind, n.financial_year,
               min(n.seq) AS first, max(n.seq) AS last, count(*) AS how_many
        FROM new_rows n GROUP BY 1, 2
    LOOP
        INSERT INTO series (kind, financial_year, last_seq)
            VALUES (taken.kind, taken.financial_year, 0) ON CONFLICT DO NOTHING;
        UPDATE series SET last_seq = taken.last
            WHERE kind = taken.kind AND financial_year = taken.financial_year
              AND last_seq = taken.first - 1 AND taken.last - taken.first + 1 = taken.how_many;
        IF NOT FOUND THEN
            RAISE EXCEPTION '% sequence numbers must be consecutive within a financial year',
                taken.kind USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER invoices_take_numbers AFTER INSERT ON invoices
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_take_numbers('invoice');
CREATE TRIGGER notes_take_numbers AFTER INSERT ON notes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION didbill_take_numbers();

CREATE OR REPLACE FUNCTION didbill_series_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> OLD.kind OR NEW.financial_year <> OLD.financial_year
       OR NEW.last_seq <= OLD.last_seq
       OR NEW.last_seq IS DISTINCT FROM (CASE NEW.kind
              WHEN 'invoice' THEN (SELECT max(seq) FROM invoices
                                   WHERE financial_year = NEW.financial_year)
              ELSE (SELECT max(seq) FROM notes
                    WHERE kind = NEW.kind AND financial_year = NEW.financial_year)
          END) THEN
        RAISE EXCEPTION 'a series counter only moves forward, to the last number issued'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
"#;

/// The triggers the current schema keeps, by name: `didbill ledger verify` checks
/// each is present.
pub fn guard_triggers() -> std::collections::BTreeSet<&'static str> {
    super::schema::created_triggers(&MIGRATIONS)
}

/// Turns a PostgreSQL error into a ledger error that says what was being done.
pub(crate) fn pg_error(shown: &Path, context: &str, e: &postgres::Error) -> Error {
    let message = match e.code() {
        Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE => format!(
            "{context}: another didbill run has held the ledger for more than {} s; \
             try again when it has finished",
            BUSY_TIMEOUT.as_secs()
        ),
        _ => match e.as_db_error() {
            Some(db) => format!("{context}: {}", db.message()),
            None => format!("{context}: {e}"),
        },
    };
    Error::Ledger {
        path: shown.to_path_buf(),
        message,
    }
}

fn damaged(shown: &Path, what: String) -> Error {
    Error::Ledger {
        path: shown.to_path_buf(),
        message: format!("{what}; the database is damaged"),
    }
}

/// Takes the ledger lock in `tx`, waiting at most [`BUSY_TIMEOUT`].
fn lock(tx: &mut Transaction<'_>, shown: &Path) -> Result<()> {
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{}s'; SELECT pg_advisory_xact_lock({LEDGER_LOCK})",
        BUSY_TIMEOUT.as_secs()
    ))
    .map_err(|e| pg_error(shown, "locking the ledger", &e))
}

/// The schema version of the ledger, or `None` for an empty database; refuses a
/// database that holds other tables.
fn version(client: &mut impl postgres::GenericClient, shown: &Path) -> Result<Option<i32>> {
    let fail = |e: postgres::Error| pg_error(shown, "reading the schema version", &e);
    let marked: bool = client
        .query_one("SELECT to_regclass('didbill_ledger') IS NOT NULL", &[])
        .map_err(fail)?
        .get(0);
    if !marked {
        let tables: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                &[],
            )
            .map_err(fail)?
            .get(0);
        return if tables == 0 {
            Ok(None)
        } else {
            Err(Error::Ledger {
                path: shown.to_path_buf(),
                message: format!(
                    "holds {tables} table(s) but is not a didbill ledger; point --ledger at \
                     an empty database (didbill creates its tables there) or at the ledger"
                ),
            })
        };
    }
    let version: i32 = client
        .query_one("SELECT version FROM didbill_ledger", &[])
        .map_err(fail)?
        .get(0);
    if version > VERSION {
        return Err(Error::Ledger {
            path: shown.to_path_buf(),
            message: format!(
                "was written by a newer didbill (schema version {version}; this one reads up \
                 to {VERSION}); upgrade didbill"
            ),
        });
    }
    Ok(Some(version))
}

/// Creates the ledger's tables in an empty database or applies the missing
/// migrations; returns whether the ledger was created.
pub(super) fn migrate(client: &mut Client, shown: &Path) -> Result<bool> {
    let fail = |e: postgres::Error| pg_error(shown, "upgrading the schema", &e);
    let mut tx = client.transaction().map_err(fail)?;
    lock(&mut tx, shown)?;
    let found = version(&mut tx, shown)?;
    if found == Some(VERSION) {
        return Ok(false);
    }
    if found.is_none() {
        tx.batch_execute(
            "CREATE TABLE didbill_ledger (
                 application TEXT    NOT NULL CHECK (application = 'didbill'),
                 version     INTEGER NOT NULL
             );
             INSERT INTO didbill_ledger VALUES ('didbill', 0);",
        )
        .map_err(fail)?;
    }
    let from = found.unwrap_or(0);
    for (at, migration) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.batch_execute(migration).map_err(fail)?;
        tx.execute(
            "UPDATE didbill_ledger SET version = $1",
            &[&(at as i32 + 1)],
        )
        .map_err(fail)?;
    }
    tx.commit().map_err(fail)?;
    Ok(found.is_none())
}

/// Starts a run's transaction under the ledger lock.
pub(super) fn begin<'a>(client: &'a mut Client, shown: &'a Path) -> Result<PgStore<'a>> {
    let mut tx = client
        .transaction()
        .map_err(|e| pg_error(shown, "locking the ledger", &e))?;
    lock(&mut tx, shown)?;
    Ok(PgStore {
        tx: RefCell::new(tx),
        shown,
    })
}

/// Starts a read-only snapshot of the ledger; it takes no lock, so reading never
/// waits for a run.
pub(super) fn read<'a>(client: &'a mut Client, shown: &'a Path) -> Result<PgStore<'a>> {
    let tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|e| pg_error(shown, "reading the ledger", &e))?;
    Ok(PgStore {
        tx: RefCell::new(tx),
        shown,
    })
}

/// Opens a database that must already be a ledger (for what only reads one),
/// upgrading an older schema.
pub(super) fn existing(client: &mut Client, shown: &Path) -> Result<()> {
    if version(client, shown)?.is_none() {
        return Err(Error::Ledger {
            path: shown.to_path_buf(),
            message: "is not a didbill ledger yet (it has no tables); `didbill run --ledger \
                      URL` creates one, or pass the ledger's URL"
                .into(),
        });
    }
    migrate(client, shown).map(|_| ())
}

/// The schema version and the trigger names found in the database.
pub(super) fn schema_facts(
    client: &mut Client,
    shown: &Path,
) -> Result<(i32, std::collections::BTreeSet<String>)> {
    let version = version(client, shown)?.unwrap_or(0);
    let triggers = client
        .query(
            "SELECT tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace",
            &[],
        )
        .map_err(|e| pg_error(shown, "reading the schema's triggers", &e))?;
    Ok((version, triggers.iter().map(|r| r.get(0)).collect()))
}

/// Takes the session lock on `period` (held until [`finish_run`] or the end of the
/// connection), waiting at most [`BUSY_TIMEOUT`] for another run of the period.
pub(super) fn lock_period(client: &mut Client, shown: &Path, period: Period) -> Result<()> {
    use chrono::Datelike;
    let key = period.start().year() * 100 + period.start().month() as i32;
    let refused = |e: postgres::Error| match e.code() {
        Some(code) if *code == SqlState::LOCK_NOT_AVAILABLE => Error::Ledger {
            path: shown.to_path_buf(),
            message: format!(
                "another didbill run or note of {period} has been at work for more than {} s; \
                 try again when it has finished",
                BUSY_TIMEOUT.as_secs()
            ),
        },
        _ => pg_error(shown, "locking the period", &e),
    };
    let mut tx = client.transaction().map_err(refused)?;
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{}s'; SELECT pg_advisory_lock({PERIOD_LOCK_CLASS}, {key})",
        BUSY_TIMEOUT.as_secs()
    ))
    .map_err(refused)?;
    tx.commit().map_err(refused)
}

/// Marks a run `done` and the runs it repaired `recovered`, and lets go of its lock.
pub(super) fn finish_run(
    client: &mut Client,
    shown: &Path,
    run: Option<i64>,
    repairs: &[i64],
) -> Result<()> {
    let fail = |e: postgres::Error| {
        pg_error(
            shown,
            "the outputs were written, but marking the run finished failed \
             (the next run will report it as interrupted; re-running the period is safe)",
            &e,
        )
    };
    let finished = super::now();
    let mut tx = client.transaction().map_err(fail)?;
    if let Some(run) = run {
        tx.execute(
            "UPDATE runs SET state = 'done', finished_at = $2 WHERE id = $1",
            &[&run, &finished],
        )
        .map_err(fail)?;
    }
    for id in repairs {
        tx.execute(
            "UPDATE runs SET state = 'recovered', finished_at = $2
             WHERE id = $1 AND state = 'rendering'",
            &[id, &finished],
        )
        .map_err(fail)?;
    }
    tx.commit().map_err(fail)?;
    // The run's own lock and its period's.
    client
        .batch_execute("SELECT pg_advisory_unlock_all()")
        .map_err(fail)?;
    Ok(())
}

/// The second key of a run's session lock (run ids wrap after 2^31 runs).
fn run_lock_id(run: i64) -> i32 {
    run as i32
}

/// A run's transaction on the shared ledger.
pub struct PgStore<'a> {
    tx: RefCell<Transaction<'a>>,
    shown: &'a Path,
}

impl std::fmt::Debug for PgStore<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("ledger", &self.shown)
            .finish()
    }
}

/// An amount bound to a `NUMERIC` column. `NUMERIC` keeps the scale it is given
/// ("1.50"), but rust_decimal sends every zero as a bare `0`, which would read back
/// as "0" where didbill wrote "0.00" (and break the content hash): a zero is sent
/// here with its scale.
#[derive(Debug)]
struct Numeric(Decimal);

impl postgres::types::ToSql for Numeric {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        if !self.0.is_zero() {
            return self.0.to_sql(ty, out);
        }
        // The binary NUMERIC header: no digit groups, weight 0, positive, the scale.
        for field in [0, 0, 0, self.0.scale() as u16] {
            out.extend_from_slice(&field.to_be_bytes());
        }
        Ok(postgres::types::IsNull::No)
    }

    postgres::types::accepts!(NUMERIC);
    postgres::types::to_sql_checked!();
}

/// A stored amount, from the text didbill computed.
fn amount(shown: &Path, text: &str) -> Result<Numeric> {
    Decimal::from_str(text).map(Numeric).map_err(|_| {
        damaged(
            shown,
            format!("the amount {text:?} is not a decimal number"),
        )
    })
}

fn text_of(row: &Row, column: usize) -> String {
    row.get::<_, Decimal>(column).to_string()
}

fn calls_of(row: &Row, column: usize) -> Option<u64> {
    // Written from u64 counts far below 2^63.
    row.get::<_, Option<i64>>(column).map(|n| n as u64)
}

fn days_of(row: &Row, column: usize) -> Option<u32> {
    row.get::<_, Option<i32>>(column).map(|n| n as u32)
}

/// A line of an invoice or note from `row`, its columns starting at `at`.
fn line_of(row: &Row, at: usize) -> LineContent {
    LineContent {
        number_id: row.get(at),
        e164: row.get(at + 1),
        charge: row.get(at + 2),
        service_from: row.get(at + 3),
        service_to: row.get(at + 4),
        billable_days: days_of(row, at + 5),
        period_days: days_of(row, at + 6),
        // Adjustment lines of notes have no unit amount (stored NULL).
        unit_amount: row
            .get::<_, Option<Decimal>>(at + 7)
            .map_or_else(String::new, |d| d.to_string()),
        amount: text_of(row, at + 8),
        call_direction: row.get(at + 9),
        calls: calls_of(row, at + 10),
        billable_seconds: calls_of(row, at + 11),
    }
}

/// The columns [`line_of`] reads, in order.
const LINE_COLUMNS: &str = "number_id, e164, charge, service_from, service_to, billable_days, \
     period_days, unit_amount, amount, call_direction, calls, billable_seconds";

impl<'a> PgStore<'a> {
    fn fail(&self, context: &str) -> impl FnOnce(postgres::Error) -> Error + 'a {
        let (shown, context) = (self.shown, context.to_owned());
        move |e| pg_error(shown, &context, &e)
    }

    fn query(
        &self,
        context: &str,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        self.tx
            .borrow_mut()
            .query(sql, params)
            .map_err(self.fail(context))
    }

    fn lines(&self, invoice_id: i64) -> Result<Vec<LineContent>> {
        let rows = self.query(
            "reading an issued invoice's lines",
            &format!(
                "SELECT {LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no"
            ),
            &[&invoice_id],
        )?;
        Ok(rows.iter().map(|r| line_of(r, 0)).collect())
    }

    fn notes_where(
        &self,
        filter: &str,
        param: &(dyn postgres::types::ToSql + Sync),
    ) -> Result<Vec<NoteRecord>> {
        let rows = self.query(
            "reading notes",
            &format!(
                "SELECT n.id, n.number, n.kind, n.note_date, n.reason, i.number, i.invoice_date,
                        i.period, i.customer_id, n.customer_name, n.customer_address,
                        n.customer_gstin, n.place_of_supply, n.currency, n.subtotal, n.cgst,
                        n.sgst, n.igst, n.round_off, n.total, i.total, i.fx_rate
                 FROM notes n JOIN invoices i ON i.id = n.invoice_id
                 WHERE {filter}
                 ORDER BY n.kind, n.financial_year, n.seq"
            ),
            &[param],
        )?;
        let mut notes = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.get(0);
            let number: String = r.get(1);
            let kind: String = r.get(2);
            let kind = NoteKind::parse(&kind).ok_or_else(|| {
                damaged(self.shown, format!("note {number} has the kind {kind:?}"))
            })?;
            let line_rows = self.query(
                "reading note lines",
                &format!(
                    "SELECT invoice_line_no, description, {LINE_COLUMNS}
                     FROM note_lines WHERE note_id = $1 ORDER BY line_no"
                ),
                &[&id],
            )?;
            notes.push(NoteRecord {
                number,
                kind,
                note_date: r.get(3),
                reason: r.get(4),
                invoice_number: r.get(5),
                invoice_date: r.get(6),
                period: r.get(7),
                customer_id: r.get(8),
                customer_name: r.get(9),
                customer_address: super::sqlite::address_lines(&r.get::<_, String>(10)),
                customer_gstin: r.get(11),
                place_of_supply: r.get(12),
                currency: r.get(13),
                subtotal: text_of(r, 14),
                cgst: text_of(r, 15),
                sgst: text_of(r, 16),
                igst: text_of(r, 17),
                round_off: text_of(r, 18),
                total: text_of(r, 19),
                invoice_total: text_of(r, 20),
                fx_rate: r.get(21),
                lines: line_rows
                    .iter()
                    .map(|l| NoteLine {
                        invoice_line_no: l.get(0),
                        description: l.get(1),
                        line: line_of(l, 2),
                    })
                    .collect(),
            });
        }
        Ok(notes)
    }
}

/// What `didbill ledger copy` needs of the target's transaction.
impl PgStore<'_> {
    /// How many documents, runs and delivery attempts the ledger already holds.
    pub(super) fn rows_held(&self) -> Result<i64> {
        let rows = self.query(
            "reading the target",
            "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM invoices)
                  + (SELECT count(*) FROM notes) + (SELECT count(*) FROM outbox)",
            &[],
        )?;
        Ok(rows.first().map_or(0, |r| r.get(0)))
    }

    /// The columns of `table`, in their order, each with whether it is `NUMERIC`.
    pub(super) fn columns(&self, table: &str) -> Result<Vec<(String, bool)>> {
        let rows = self.query(
            "reading the schema",
            "SELECT column_name::text, data_type = 'numeric' FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
            &[&table],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Copies `rows` into `table (columns)` with one `COPY`, in their order (the
    /// triggers see them one by one, as if each were inserted).
    pub(super) fn copy_rows(
        &self,
        table: &str,
        columns: &[String],
        rows: impl IntoIterator<Item = Vec<Option<String>>>,
    ) -> Result<u64> {
        let mut tx = self.tx.borrow_mut();
        let copied = || -> std::result::Result<u64, CopyError> {
            let mut copy = CopyRows::start(&mut tx, table, &columns.join(", "))?;
            for row in rows {
                copy.row(row.iter().map(Option::as_deref))?;
            }
            copy.finish()
        };
        copied().map_err(|e| e.ledger(self.shown, &format!("copying {table}")))
    }

    /// Moves each identity past the ids copied in, so that new rows do not collide.
    pub(super) fn restart_identities(&self) -> Result<()> {
        for table in ["runs", "invoices", "notes", "outbox"] {
            self.query(
                "copying the ledger",
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                ),
                &[],
            )?;
        }
        Ok(())
    }

    /// Each series' counter: kind, financial year, last number.
    pub(super) fn counters(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = self.query(
            "reading the counters",
            "SELECT kind, financial_year, last_seq FROM series ORDER BY kind, financial_year",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}

impl Store for PgStore<'_> {
    fn interrupted_runs(&self) -> Result<Vec<InterruptedRun>> {
        let rows = self.query(
            "reading earlier runs",
            "SELECT r.id, r.period, r.out_dir,
                    ARRAY(SELECT i.number FROM invoices i WHERE i.run_id = r.id ORDER BY i.id)
             FROM runs r
             WHERE r.state = 'rendering'
               AND NOT EXISTS (SELECT 1 FROM pg_locks l
                               WHERE l.locktype = 'advisory' AND l.granted
                                 AND l.classid::bigint = $1
                                 AND l.objid::bigint = r.id % 4294967296
                                 AND l.objsubid = 2)
             ORDER BY r.id",
            &[&i64::from(RUN_LOCK_CLASS)],
        )?;
        Ok(rows
            .iter()
            .map(|r| InterruptedRun {
                id: r.get(0),
                period: r.get(1),
                out_dir: r.get(2),
                numbers: r.get(3),
            })
            .collect())
    }

    fn billed_setups(&self) -> Result<BilledSetups> {
        let rows = self.query(
            "reading billed setup fees",
            "SELECT s.number_id, s.purchased_at, i.customer_id, i.currency, i.period
             FROM setup_charges s JOIN invoices i ON i.id = s.invoice_id
             WHERE i.id NOT IN (SELECT invoice_id FROM cancellations)",
            &[],
        )?;
        let mut billed = BilledSetups::default();
        for r in rows {
            let key = SetupKey {
                number_id: r.get(0),
                purchased_at: r.get(1),
            };
            billed.insert(key, r.get(2), r.get(3), r.get(4));
        }
        Ok(billed)
    }

    fn period_invoices(&self, period: Period) -> Result<Vec<StoredInvoice>> {
        let rows = self.query(
            "reading the period's invoices",
            "SELECT customer_id, currency, id, number, seq, invoice_date, due_date, content_hash,
                    fx_rate
             FROM invoices
             WHERE period = $1 AND id NOT IN (SELECT invoice_id FROM cancellations)",
            &[&period.to_string()],
        )?;
        Ok(rows
            .iter()
            .map(|r| StoredInvoice {
                customer_id: r.get(0),
                currency: r.get(1),
                id: r.get(2),
                number: r.get(3),
                seq: r.get(4),
                invoice_date: r.get(5),
                due_date: r.get(6),
                hash: r.get(7),
                fx_rate: r.get(8),
            })
            .collect())
    }

    fn last_seq(&self, financial_year: &str) -> Result<i64> {
        let rows = self.query(
            "reading the last invoice number",
            "SELECT last_seq FROM series WHERE kind = 'invoice' AND financial_year = $1",
            &[&financial_year],
        )?;
        Ok(rows.first().map_or(0, |r| r.get(0)))
    }

    fn numbers_taken(&self, numbers: &[&str]) -> Result<Vec<String>> {
        // One round trip for a whole run's new numbers.
        let rows = self.query(
            "checking invoice numbers",
            "SELECT number FROM invoices WHERE number = ANY($1) ORDER BY id",
            &[&numbers],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn recorded_content(&self, id: i64) -> Result<InvoiceContent> {
        let rows = self.query(
            "reading an issued invoice",
            "SELECT customer_id, currency, period, customer_gstin, place_of_supply,
                    subtotal, cgst, sgst, igst, round_off, total
             FROM invoices WHERE id = $1",
            &[&id],
        )?;
        let r = rows
            .first()
            .ok_or_else(|| damaged(self.shown, format!("invoice id {id} is missing")))?;
        Ok(InvoiceContent {
            customer_id: r.get(0),
            currency: r.get(1),
            period: r.get(2),
            customer_gstin: r.get(3),
            place_of_supply: r.get(4),
            lines: self.lines(id)?,
            subtotal: text_of(r, 5),
            cgst: text_of(r, 6),
            sgst: text_of(r, 7),
            igst: text_of(r, 8),
            round_off: text_of(r, 9),
            total: text_of(r, 10),
        })
    }

    fn record(&self, run: &RunRecord, started_at: &str, invoices: &[NewInvoice]) -> Result<i64> {
        let s = run.summary;
        let fail = || self.fail("recording the invoices");
        let mut tx = self.tx.borrow_mut();
        let run_id: i64 = tx
            .query_one(
                "INSERT INTO runs (period, as_of, source, out_dir, invoice_date, customers,
                     numbers_fetched, billed, not_billable, exceptions, invoices, invoices_new,
                     pid, state, started_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'rendering', $14)
                 RETURNING id",
                &[
                    &s.period,
                    &s.as_of,
                    &run.source,
                    &run.out.display().to_string(),
                    &run.invoice_date,
                    &(s.customers as i64),
                    &(s.numbers_fetched as i64),
                    &(s.billed as i64),
                    &(s.not_billable as i64),
                    &(s.exceptions as i64),
                    &(s.invoices as i64),
                    &(invoices.len() as i64),
                    &i64::from(std::process::id()),
                    &started_at,
                ],
            )
            .map_err(fail())?
            .get(0);
        // Held by this session until `finish_run`: while it is, the run is alive.
        tx.execute(
            "SELECT pg_advisory_lock($1, $2)",
            &[&RUN_LOCK_CLASS, &run_lock_id(run_id)],
        )
        .map_err(fail())?;
        let created_at = super::now();
        // Ids are drawn first, in ascending order, so that each table goes in with one
        // COPY (the triggers still see every row) instead of a statement per row.
        let mut ids: Vec<i64> = tx
            .query(
                "SELECT nextval(pg_get_serial_sequence('invoices', 'id'))
                 FROM generate_series(1, $1::bigint)",
                &[&(invoices.len() as i64)],
            )
            .map_err(fail())?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ids.sort_unstable();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let run_id_text = run_id.to_string();
        let mut copied = || -> std::result::Result<u64, CopyError> {
            let mut copy = CopyRows::start(
                &mut tx,
                "invoices",
                "id, number, financial_year, seq, customer_id, customer_name, customer_gstin,
                 place_of_supply, currency, period, invoice_date, due_date, subtotal, cgst, sgst,
                 igst, round_off, total, content_hash, run_id, created_at, fx_rate,
                 customer_address",
            )?;
            for (f, id) in invoices.iter().zip(&ids) {
                let c = f.content;
                let (seq, invoice_date, due_date) = (
                    f.seq.to_string(),
                    f.invoice_date.to_string(),
                    f.due_date.to_string(),
                );
                let fx_rate = f.fx_rate.map(|r| r.to_string());
                let address = f.customer_address.join("\n");
                copy.row([
                    Some(id.as_str()),
                    Some(f.number),
                    Some(f.financial_year),
                    Some(&seq),
                    Some(&c.customer_id),
                    Some(f.customer_name),
                    Some(&c.customer_gstin),
                    Some(&c.place_of_supply),
                    Some(&c.currency),
                    Some(&c.period),
                    Some(&invoice_date),
                    Some(&due_date),
                    Some(&c.subtotal),
                    Some(&c.cgst),
                    Some(&c.sgst),
                    Some(&c.igst),
                    Some(&c.round_off),
                    Some(&c.total),
                    Some(f.hash),
                    Some(&run_id_text),
                    Some(&created_at),
                    fx_rate.as_deref(),
                    Some(&address),
                ])?;
            }
            copy.finish()?;
            let mut copy = CopyRows::start(
                &mut tx,
                "setup_charges",
                "number_id, purchased_at, invoice_id",
            )?;
            for (f, id) in invoices.iter().zip(&ids) {
                for key in f.setups {
                    copy.row([
                        Some(key.number_id.as_str()),
                        Some(&key.purchased_at),
                        Some(id),
                    ])?;
                }
            }
            copy.finish()?;
            // A month of a million numbers is a million lines.
            let mut copy = CopyRows::start(
                &mut tx,
                "invoice_lines",
                &format!("invoice_id, line_no, {LINE_COLUMNS}"),
            )?;
            for (f, id) in invoices.iter().zip(&ids) {
                for (no, l) in f.lines.iter().map(LineContent::of).enumerate() {
                    let line_no = (no + 1).to_string();
                    let fields = line_fields(&l);
                    copy.row(
                        [Some(id.as_str()), Some(line_no.as_str())]
                            .into_iter()
                            .chain(fields.iter().map(Option::as_deref)),
                    )?;
                }
            }
            copy.finish()
        };
        copied().map_err(|e| e.ledger(self.shown, "recording the invoices"))?;
        Ok(run_id)
    }

    fn invoice_on_record(&self, number: &str) -> Result<Option<InvoiceOnRecord>> {
        let rows = self.query(
            "reading the invoice",
            "SELECT id, invoice_date, customer_name, customer_address,
                    id IN (SELECT invoice_id FROM cancellations)
             FROM invoices WHERE number = $1",
            &[&number],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let id: i64 = r.get(0);
        Ok(Some(InvoiceOnRecord {
            id,
            number: number.to_owned(),
            invoice_date: r.get::<_, NaiveDate>(1),
            customer_name: r.get(2),
            customer_address: super::sqlite::address_lines(&r.get::<_, String>(3)),
            cancelled: r.get(4),
            content: self.recorded_content(id)?,
        }))
    }

    fn invoice_notes(&self, invoice_id: i64) -> Result<Vec<NoteRecord>> {
        self.notes_where("n.invoice_id = $1", &invoice_id)
    }

    fn period_notes(&self, period: &str) -> Result<Vec<NoteRecord>> {
        self.notes_where("i.period = $1", &period)
    }

    fn last_note_seq(&self, kind: NoteKind, financial_year: &str) -> Result<i64> {
        let rows = self.query(
            "reading the last note number",
            "SELECT last_seq FROM series WHERE kind = $1 AND financial_year = $2",
            &[&kind.as_str(), &financial_year],
        )?;
        Ok(rows.first().map_or(0, |r| r.get(0)))
    }

    fn note_number_taken(&self, number: &str) -> Result<bool> {
        let rows = self.query(
            "checking note numbers",
            "SELECT EXISTS (SELECT 1 FROM notes WHERE number = $1)
                 OR EXISTS (SELECT 1 FROM invoices WHERE number = $1)",
            &[&number],
        )?;
        Ok(rows.first().is_some_and(|r| r.get(0)))
    }

    fn record_note(&self, note: &NewNote) -> Result<()> {
        let fail = || self.fail("recording the note");
        let c = &note.invoice.content;
        let t = note.totals;
        let [subtotal, cgst, sgst, igst, round_off, total] =
            [t.subtotal, t.cgst, t.sgst, t.igst, t.round_off, t.total]
                .map(|m| amount(self.shown, &m.to_string()));
        let mut tx = self.tx.borrow_mut();
        let note_id: i64 = tx
            .query_one(
                "INSERT INTO notes (number, kind, financial_year, seq, invoice_id, note_date,
                     reason, customer_name, customer_address, customer_gstin, place_of_supply,
                     currency, subtotal, cgst, sgst, igst, round_off, total, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                     $17, $18, $19)
                 RETURNING id",
                &[
                    &note.number,
                    &note.kind.as_str(),
                    &note.financial_year,
                    &note.seq,
                    &note.invoice.id,
                    &note.note_date,
                    &note.reason,
                    &note.invoice.customer_name,
                    &note.invoice.customer_address.join("\n"),
                    &c.customer_gstin,
                    &c.place_of_supply,
                    &c.currency,
                    &subtotal?,
                    &cgst?,
                    &sgst?,
                    &igst?,
                    &round_off?,
                    &total?,
                    &super::now(),
                ],
            )
            .map_err(fail())?
            .get(0);
        let note_id = note_id.to_string();
        let mut copied = || -> std::result::Result<u64, CopyError> {
            let mut copy = CopyRows::start(
                &mut tx,
                "note_lines",
                &format!("note_id, line_no, invoice_line_no, description, {LINE_COLUMNS}"),
            )?;
            for (no, n) in note.lines.iter().enumerate() {
                let line_no = (no + 1).to_string();
                let invoice_line_no = n.invoice_line_no.map(|l| l.to_string());
                let fields = line_fields(&n.line);
                copy.row(
                    [
                        Some(note_id.as_str()),
                        Some(line_no.as_str()),
                        invoice_line_no.as_deref(),
                        Some(n.description.as_str()),
                    ]
                    .into_iter()
                    .chain(fields.iter().map(Option::as_deref)),
                )?;
            }
            copy.finish()
        };
        copied().map_err(|e| e.ledger(self.shown, "recording the note"))?;
        Ok(())
    }

    fn record_cancellation(&self, invoice_id: i64, reason: &str) -> Result<()> {
        self.tx
            .borrow_mut()
            .execute(
                "INSERT INTO cancellations (invoice_id, reason, cancelled_at) VALUES ($1, $2, $3)",
                &[&invoice_id, &reason, &super::now()],
            )
            .map(drop)
            .map_err(self.fail("recording the cancellation"))
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let shown = self.shown;
        self.tx
            .into_inner()
            .commit()
            .map_err(|e| pg_error(shown, "committing the invoices", &e))
    }
}

/// Rows for `COPY … FROM STDIN` in PostgreSQL's text format, written in chunks.
pub(super) struct CopyRows<'t> {
    writer: postgres::CopyInWriter<'t>,
    buffer: Vec<u8>,
}

impl<'t> CopyRows<'t> {
    /// Starts copying into `table (columns)`.
    pub(super) fn start(
        tx: &'t mut Transaction<'_>,
        table: &str,
        columns: &str,
    ) -> std::result::Result<CopyRows<'t>, postgres::Error> {
        Ok(CopyRows {
            writer: tx.copy_in(&format!("COPY {table} ({columns}) FROM STDIN"))?,
            buffer: Vec::with_capacity(1 << 20),
        })
    }

    /// Adds one row; `None` is `NULL`.
    pub(super) fn row<'f>(
        &mut self,
        fields: impl IntoIterator<Item = Option<&'f str>>,
    ) -> std::io::Result<()> {
        encode_row(&mut self.buffer, fields);
        if self.buffer.len() >= 1 << 20 {
            std::io::Write::write_all(&mut self.writer, &self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// Sends the last rows and ends the copy: the number of rows copied.
    pub(super) fn finish(mut self) -> Result<u64, CopyError> {
        std::io::Write::write_all(&mut self.writer, &self.buffer).map_err(CopyError::Io)?;
        self.writer.finish().map_err(CopyError::Db)
    }
}

/// Appends one row in `COPY`'s text format: tab-separated, `\N` for `NULL`, and
/// backslash, tab, newline and carriage return escaped (an address has newlines).
fn encode_row<'f>(buffer: &mut Vec<u8>, fields: impl IntoIterator<Item = Option<&'f str>>) {
    for (at, field) in fields.into_iter().enumerate() {
        if at > 0 {
            buffer.push(b'\t');
        }
        let Some(text) = field else {
            buffer.extend_from_slice(b"\\N");
            continue;
        };
        for byte in text.bytes() {
            match byte {
                b'\\' => buffer.extend_from_slice(b"\\\\"),
                b'\t' => buffer.extend_from_slice(b"\\t"),
                b'\n' => buffer.extend_from_slice(b"\\n"),
                b'\r' => buffer.extend_from_slice(b"\\r"),
                _ => buffer.push(byte),
            }
        }
    }
    buffer.push(b'\n');
}

/// Why a copy failed: the server refused a row (or the copy), or sending it failed.
#[derive(Debug)]
pub(super) enum CopyError {
    Db(postgres::Error),
    Io(std::io::Error),
}

impl CopyError {
    /// The ledger error, saying what was being done.
    pub(super) fn ledger(self, shown: &Path, context: &str) -> Error {
        match self {
            CopyError::Db(e) => pg_error(shown, context, &e),
            CopyError::Io(e) => Error::Ledger {
                path: shown.to_path_buf(),
                message: format!("{context}: {e}"),
            },
        }
    }
}

impl From<std::io::Error> for CopyError {
    fn from(e: std::io::Error) -> CopyError {
        CopyError::Io(e)
    }
}

impl From<postgres::Error> for CopyError {
    fn from(e: postgres::Error) -> CopyError {
        CopyError::Db(e)
    }
}

/// The [`LINE_COLUMNS`] of `l` as `COPY` fields (an empty unit amount is `NULL`).
fn line_fields(l: &LineContent) -> [Option<String>; 12] {
    let number = |n: Option<u64>| n.map(|n| n.to_string());
    let days = |d: Option<u32>| d.map(|d| d.to_string());
    [
        Some(l.number_id.clone()),
        Some(l.e164.clone()),
        Some(l.charge.clone()),
        Some(l.service_from.clone()),
        Some(l.service_to.clone()),
        days(l.billable_days),
        days(l.period_days),
        (!l.unit_amount.is_empty()).then(|| l.unit_amount.clone()),
        Some(l.amount.clone()),
        l.call_direction.clone(),
        number(l.calls),
        number(l.billable_seconds),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_what_the_text_format_reserves() {
        let mut buffer = Vec::new();
        encode_row(
            &mut buffer,
            [
                Some("1"),
                None,
                Some("a\tb\\c\nd\re"),
                Some(""),
                Some("शर्मा"),
            ],
        );
        encode_row(&mut buffer, [Some("2")]);
        assert_eq!(
            String::from_utf8(buffer).unwrap(),
            "1\t\\N\ta\\tb\\\\c\\nd\\re\t\tशर्मा\n2\n"
        );
    }

    #[test]
    fn the_guards_are_the_triggers_the_migrations_leave() {
        let guards = guard_triggers();
        for name in [
            "invoices_take_numbers",
            "notes_take_numbers",
            "series_forward",
        ] {
            assert!(guards.contains(name), "{guards:?}");
        }
        assert!(!guards.contains("invoices_take_number"), "{guards:?}");
    }

    #[test]
    fn a_zero_amount_is_sent_with_its_scale() {
        use postgres::types::{ToSql, Type};
        let mut out = bytes::BytesMut::new();
        Numeric(Decimal::new(0, 2))
            .to_sql(&Type::NUMERIC, &mut out)
            .unwrap();
        assert_eq!(&out[..], &[0, 0, 0, 0, 0, 0, 0, 2]);
    }
}
