//! The invoice ledger: a local SQLite file (default `didbill.sqlite`) or a shared
//! PostgreSQL database ([`postgres`], `--ledger postgres://…`, see [`location`])
//! that records every issued invoice, its lines, its content hash and the setup fees
//! it billed, so that numbers are gap-free, re-runs are idempotent and no setup fee
//! is billed twice.
//!
//! # Layers
//! [`plan`] decides (reuse, conflict or the next number of the series) without any
//! storage; [`store::Store`] is what a run's transaction needs of a backend, and
//! [`sqlite`] implements it on the file; [`Book`] carries one run through them.
//!
//! # A run's conversation with the ledger
//! 1. [`Ledger::open`] creates or upgrades the file (see `ledger/schema.rs`).
//! 2. [`Ledger::begin`] takes the write lock (`BEGIN IMMEDIATE`; a second process
//!    waits up to [`BUSY_TIMEOUT`], then fails with a clear message). Nothing below
//!    happens outside this lock, so two processes never see the same next number.
//! 3. [`Book::billed_setups`] says which setup fees other invoices already billed;
//!    the run drops those lines before assembling invoices.
//! 4. [`Book::issue`] matches each assembled invoice with the period's invoices in
//!    the ledger by customer and currency. Same content hash: the invoice is reused
//!    as issued (number, invoice date, due date). Different hash, or an issued
//!    invoice this run no longer produces: [`Error::LedgerConflict`] (exit 4) naming
//!    each invoice and what changed, and nothing is written. New customer/currency:
//!    the next numbers of the invoice date's financial year, in customer-id then
//!    currency order (the order `billing::assemble` returns).
//!    Before that, a changed invoice whose notes already make up the difference, or
//!    (with `--issue-notes`) for which this run issues a credit and/or debit note
//!    ([`notes`]), is settled: it is reused as recorded, rebuilt from the ledger.
//! 5. The run renders every output into its staging folder, still holding the lock.
//! 6. [`Book::commit`] writes the new invoices and a run row in state `rendering`,
//!    and commits. On PostgreSQL ([`Ledger::commits_before_rendering`]) steps 5 and
//!    6 swap for the PDFs: the run commits once its CSVs are staged, then renders
//!    its PDFs without the ledger lock (its period's lock, [`Ledger::lock_period`],
//!    keeps other runs of the month waiting); a failure while rendering then leaves
//!    an interrupted run, as a crash after step 6 does. A run that issues nothing new writes nothing (the file is not
//!    touched), which keeps re-runs free of new rows.
//! 7. The run moves its outputs into place ([`crate::output::StagedDir::commit`]).
//! 8. [`Ledger::finish`] marks the run `done`.
//!
//! # Crash safety
//! Any failure before step 6 (a conflict, a rendering error, a crash) rolls the
//! transaction back: no ledger change and no outputs. A crash between 6 and 8 leaves
//! invoices recorded whose outputs may be missing, and a run row still `rendering`
//! whose process is gone. The next run notices it (see [`Book::issue`]): if it
//! issues all of that run's invoices again (a re-run of the period, which reuses
//! them unchanged), it writes their outputs and marks the old run `recovered`;
//! otherwise it prints which period to re-run. A run row `rendering` whose process
//! is still alive (Linux `/proc`) belongs to a concurrent run, not a crash.
//!
//! # Invoice dates on re-runs
//! An issued invoice keeps its number, invoice date and due date for ever. A re-run
//! whose invoice date (from `--invoice-date` or the default) differs from the stored
//! one reuses the stored dates (outputs stay byte-identical) and says so on stderr;
//! the run's invoice date applies only to invoices it issues new.
//!
//! # What `--dry-run` does
//! Nothing here: a dry run opens no ledger (the file is not even created), numbers
//! drafts `DRAFT-0001`, …, and cannot know which setup fees were billed before.

pub mod content;
pub mod copy;
pub mod location;
pub mod notes;
pub mod plan;
pub mod postgres;
pub mod read;
pub mod report;
mod returns;
mod schema;
pub mod sqlite;
pub mod store;
pub mod verify;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, SecondsFormat, Utc};
use rayon::prelude::*;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::error::{Error, Result};
use crate::fx;
use content::{InvoiceContent, LineContent};
use didbill_core::billing::{BilledSetups, Invoice, IssuedInvoice, Line, SetupKey};
use didbill_core::fx::FxRates;
use didbill_core::numbering::NumberFormat;
use didbill_core::period::{financial_year, Period};
use location::LedgerLocation;
use plan::{Candidate, Change, Decision, Refusal, Series, StoredInvoice};
use sqlite::SqliteStore;
use store::{InterruptedRun, NewInvoice, Store};

pub use schema::VERSION as SCHEMA_VERSION;

/// The ledger file used when `--ledger` is not given (in the working directory).
pub const DEFAULT_PATH: &str = "didbill.sqlite";

/// How long a run waits for another process holding the ledger before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// An open ledger: a SQLite file or a PostgreSQL database.
#[derive(Debug)]
pub struct Ledger {
    backend: Backend,
    /// The file, or the database URL without its password, as messages show it.
    path: PathBuf,
    created: bool,
}

/// The connection behind a [`Ledger`].
enum Backend {
    Sqlite(Connection),
    Postgres(Box<::postgres::Client>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite(_) => "Sqlite",
            Backend::Postgres(_) => "Postgres",
        })
    }
}

/// Turns an SQLite error into a ledger error that says what was being done.
pub(crate) fn sql_error(path: &Path, context: &str, e: rusqlite::Error) -> Error {
    let message = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "{context}: another didbill process has held the ledger for more than {} s; \
             try again when it has finished",
            BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::NotADatabase) => {
            format!("{context}: not an SQLite database; pass --ledger with the didbill ledger")
        }
        _ => format!("{context}: {e}"),
    };
    Error::Ledger {
        path: path.to_path_buf(),
        message,
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_date(path: &Path, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| Error::Ledger {
        path: path.to_path_buf(),
        message: format!("holds the date {text:?}, which is not YYYY-MM-DD; the file is damaged"),
    })
}

impl Ledger {
    /// Opens the ledger for a run, creating its tables when missing and upgrading
    /// an older schema.
    pub fn open(location: &LedgerLocation) -> Result<Ledger> {
        match location {
            LedgerLocation::File(path) => Ledger::open_file(path),
            LedgerLocation::Postgres(target) => {
                let path = location.shown();
                let mut client = target.connect()?;
                let created = postgres::migrate(&mut client, &path)?;
                Ok(Ledger {
                    backend: Backend::Postgres(Box::new(client)),
                    path,
                    created,
                })
            }
        }
    }

    /// Opens (creating or upgrading) a ledger file. The folder must exist: a
    /// mistyped `--ledger` should not quietly start a second numbering.
    pub fn open_file(path: &Path) -> Result<Ledger> {
        let created = !path.exists();
        if created {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(dir) = parent.filter(|d| !d.is_dir()) {
                return Err(Error::Ledger {
                    path: path.to_path_buf(),
                    message: format!("cannot be created: folder {} does not exist", dir.display()),
                });
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Self::connect(path, flags)?;
        schema::migrate(&mut conn, path)?;
        Ok(Ledger {
            backend: Backend::Sqlite(conn),
            path: path.to_path_buf(),
            created,
        })
    }

    /// Opens an existing ledger for reading only (`didbill invoices`).
    pub fn open_read_only(path: &Path) -> Result<Ledger> {
        if !path.exists() {
            return Err(Error::Ledger {
                path: path.to_path_buf(),
                message: "does not exist; `didbill run` creates it, or pass --ledger PATH".into(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Self::connect(path, flags)?;
        schema::check_current(&conn, path)?;
        Ok(Ledger {
            backend: Backend::Sqlite(conn),
            path: path.to_path_buf(),
            created: false,
        })
    }

    /// Opens an existing ledger, a file or a database, for what reads it (`didbill
    /// invoices`, `gstr1`, `ledger verify`): a missing file or an empty database is an
    /// error, not a new ledger.
    pub fn open_existing(location: &LedgerLocation) -> Result<Ledger> {
        match location {
            LedgerLocation::File(path) => Ledger::open_read_only(path),
            LedgerLocation::Postgres(target) => {
                let path = location.shown();
                let mut client = target.connect()?;
                postgres::existing(&mut client, &path)?;
                Ok(Ledger {
                    backend: Backend::Postgres(Box::new(client)),
                    path,
                    created: false,
                })
            }
        }
    }

    fn connect(path: &Path, flags: OpenFlags) -> Result<Connection> {
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| sql_error(path, "opening", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .and_then(|_| conn.pragma_update(None, "foreign_keys", true))
            .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
            .map_err(|e| sql_error(path, "configuring the connection", e))?;
        Ok(conn)
    }

    /// The ledger file (or its URL without password).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes another run or note of `period` wait until this one has finished (on
    /// PostgreSQL; a file's write lock already covers a whole run).
    pub fn lock_period(&mut self, period: Period) -> Result<()> {
        match &mut self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(client) => postgres::lock_period(client, &self.path, period),
        }
    }

    /// Whether a run commits its invoices before it renders their PDFs, so that the
    /// ledger's lock is not held meanwhile: on a database shared by several
    /// operators. A file ledger commits after, so that a failed run changes nothing.
    pub fn commits_before_rendering(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Takes the ledger's write lock for one run (waiting for another run to finish).
    pub fn begin(&mut self) -> Result<Book<'_>> {
        let path = self.path.as_path();
        let store: Box<dyn Store + '_> = match &mut self.backend {
            Backend::Sqlite(conn) => {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| sql_error(path, "locking the ledger", e))?;
                Box::new(SqliteStore::new(tx, path))
            }
            Backend::Postgres(client) => Box::new(postgres::begin(client, path)?),
        };
        let interrupted = store.interrupted_runs()?;
        let mut notes = Vec::new();
        if self.created {
            notes.push(format!(
                "created a new ledger {}; invoice numbers start at 1 in each financial year. \
                 Keep it (back it up): it is what makes numbers gap-free and re-runs safe",
                path.display()
            ));
        }
        Ok(Book {
            store,
            path: path.to_path_buf(),
            started_at: now(),
            notes,
            interrupted,
            fresh: Vec::new(),
            repairs: Vec::new(),
            documents: false,
        })
    }

    /// Marks a committed run `done` (and the interrupted runs it repaired
    /// `recovered`) once its outputs are in place.
    pub fn finish(&mut self, recorded: Recorded) -> Result<()> {
        if recorded.run.is_none() && recorded.repairs.is_empty() {
            return Ok(());
        }
        let path = self.path.as_path();
        let conn = match &mut self.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Postgres(client) => {
                return postgres::finish_run(client, path, recorded.run, &recorded.repairs)
            }
        };
        let fail = |e| {
            sql_error(
                path,
                "the outputs were written, but marking the run finished failed \
                 (the next run will report it as interrupted; re-running the period is safe)",
                e,
            )
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let finished = now();
        if let Some(run) = recorded.run {
            tx.execute(
                "UPDATE runs SET state = 'done', finished_at = ?2 WHERE id = ?1",
                params![run, finished],
            )
            .map_err(fail)?;
        }
        for id in recorded.repairs {
            tx.execute(
                "UPDATE runs SET state = 'recovered', finished_at = ?2
                 WHERE id = ?1 AND state = 'rendering'",
                params![id, finished],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }
}

/// What [`Book::issue`] needs besides the invoices.
#[derive(Clone, Debug)]
pub struct IssueRequest<'a> {
    /// The period being invoiced.
    pub period: Period,
    /// Invoice date of invoices issued new.
    pub invoice_date: NaiveDate,
    /// Due date of invoices issued new.
    pub due_date: NaiveDate,
    /// `invoice.number_format`.
    pub format: &'a NumberFormat,
    /// The customers this run covers (`--customer`); empty means all.
    pub customers: &'a [String],
    /// Exchange rates for the invoices issued new that need one.
    pub fx: &'a FxRates,
    /// How the GST of a line difference is computed (the exit-4 message, notes).
    pub tax: notes::NoteTax<'a>,
    /// `--issue-notes`: settle changed invoices with credit and debit notes.
    pub auto_notes: Option<notes::AutoNotes<'a>>,
}

/// The figures of a run's `summary.json` that the `runs` table keeps.
#[derive(Clone, Debug)]
pub struct RunFigures {
    /// `YYYY-MM`.
    pub period: String,
    /// The as-of instant, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub as_of: String,
    /// Accounts fetched.
    pub customers: usize,
    /// Distinct number ids plus records without id.
    pub numbers_fetched: usize,
    /// Numbers with at least one line.
    pub billed: usize,
    /// Numbers without a charge in the period.
    pub not_billable: usize,
    /// Numbers listed as exceptions.
    pub exceptions: usize,
    /// Invoices of the run (reused and new).
    pub invoices: usize,
}

/// The run facts kept in the `runs` table.
#[derive(Clone, Debug)]
pub struct RunRecord<'a> {
    /// The run's figures, as in its `summary.json`.
    pub summary: &'a RunFigures,
    /// `api` or the snapshot folder.
    pub source: String,
    /// The output folder.
    pub out: &'a Path,
    /// The run's invoice date.
    pub invoice_date: NaiveDate,
}

/// Invoices with their numbers, in invoice-number order, and things to tell the user.
#[derive(Clone, Debug)]
pub struct Issued {
    /// Every invoice of the run, reused or new, in invoice-number order.
    pub invoices: Vec<IssuedInvoice>,
    /// Notes for stderr (a new ledger, stored dates kept, interrupted runs).
    pub notes: Vec<String>,
    /// How many of `invoices` this run numbered new (`None` for dry-run drafts); the
    /// rest were already issued and are reused unchanged.
    pub new: Option<usize>,
}

/// Proof that a run's invoices are committed; handed to [`Ledger::finish`].
#[derive(Debug)]
#[must_use = "pass it to Ledger::finish once the outputs are committed"]
pub struct Recorded {
    run: Option<i64>,
    repairs: Vec<i64>,
}

/// An issued invoice settled by notes that this run no longer produces, with its
/// sequence number (for invoice-number order).
type Settled = (i64, IssuedInvoice);

/// An invoice this run numbers, waiting for [`Book::commit`].
#[derive(Debug)]
struct Fresh {
    number: String,
    financial_year: String,
    seq: i64,
    invoice_date: NaiveDate,
    due_date: NaiveDate,
    customer_name: String,
    /// The invoice's content without its lines (`commit` writes the lines from
    /// the issued invoice of the same number).
    content: InvoiceContent,
    hash: String,
    setups: Vec<SetupKey>,
}

/// One run's transaction on the ledger, over any [`Store`]; dropping it rolls
/// everything back.
#[derive(Debug)]
pub struct Book<'a> {
    store: Box<dyn Store + 'a>,
    path: PathBuf,
    started_at: String,
    notes: Vec<String>,
    interrupted: Vec<InterruptedRun>,
    fresh: Vec<Fresh>,
    repairs: Vec<i64>,
    /// Whether notes or cancellations were recorded (they commit without invoices).
    documents: bool,
}

impl Book<'_> {
    /// Every setup fee the ledger has billed, and on which invoice.
    pub fn billed_setups(&self) -> Result<BilledSetups> {
        self.store.billed_setups()
    }

    /// Gives every invoice its number: the issued one when the ledger has the same
    /// content for its customer, currency and period, else the next free one.
    /// Fails with [`Error::LedgerConflict`] when issued invoices would change.
    pub fn issue(&mut self, invoices: Vec<Invoice>, request: &IssueRequest) -> Result<Issued> {
        let in_scope: HashSet<&str> = request.customers.iter().map(String::as_str).collect();
        let stored: Vec<StoredInvoice> = self
            .store
            .period_invoices(request.period)?
            .into_iter()
            .filter(|s| in_scope.is_empty() || in_scope.contains(s.customer_id.as_str()))
            .collect();
        // Contents and hashes on all cores; the contents' lines are dropped at once
        // (a conflict rebuilds them, `commit` writes the invoices' own lines), so the
        // ledger never holds a second copy of every line.
        let mut hashed: Vec<(Invoice, InvoiceContent, String)> = invoices
            .into_par_iter()
            .map(|invoice| {
                let mut content = InvoiceContent::of(&invoice, request.period);
                let hash = content.hash();
                content.lines = Vec::new();
                (invoice, content, hash)
            })
            .collect();
        let (stored, settled) = self.settle_changed(&mut hashed, stored, request)?;
        let candidates: Vec<Candidate> = hashed
            .iter()
            .map(|(_, content, hash)| Candidate {
                customer_id: &content.customer_id,
                currency: &content.currency,
                hash,
            })
            .collect();
        let fy = financial_year(request.invoice_date);
        let series = Series {
            financial_year: &fy,
            last_seq: self.store.last_seq(&fy)?,
            format: request.format,
        };
        let planned = match plan::plan(&candidates, stored, &series, request.invoice_date) {
            Ok(planned) => planned,
            Err(Refusal::Changed(changed)) => return Err(self.conflict(request, &changed, &hashed)),
            Err(Refusal::SeriesFull { needed, max }) => {
                return Err(Error::Data(format!(
                    "financial year {fy} would need invoice sequence number {needed}, more than \
                     invoice.number_format allows ({max}); widen {{seq:0N}}"
                )))
            }
        };

        let new_numbers: Vec<&str> = planned
            .decisions
            .iter()
            .filter_map(|d| match d {
                Decision::New { number, .. } => Some(number.as_str()),
                Decision::Reuse(_) => None,
            })
            .collect();
        if let Some(number) = self.store.numbers_taken(&new_numbers)?.first() {
            return Err(Error::Ledger {
                path: self.path.clone(),
                message: format!(
                    "already holds invoice number {number} (under another financial year or \
                     number format); invoice.number_format must keep {{fy}} so numbers stay unique"
                ),
            });
        }
        let mut issued: Vec<((i32, i64), IssuedInvoice)> = Vec::with_capacity(hashed.len());
        for ((invoice, content, hash), decision) in hashed.into_iter().zip(planned.decisions) {
            match decision {
                Decision::Reuse(s) => issued.push((
                    plan::number_order(s.invoice_date, s.seq),
                    IssuedInvoice {
                        number: s.number,
                        invoice_date: s.invoice_date,
                        due_date: s.due_date,
                        invoice,
                        fx_rate: s.fx_rate,
                    },
                )),
                Decision::New { number, seq } => {
                    self.fresh.push(Fresh {
                        number: number.clone(),
                        financial_year: fy.clone(),
                        seq,
                        invoice_date: request.invoice_date,
                        due_date: request.due_date,
                        customer_name: invoice.customer.name.clone(),
                        content,
                        hash,
                        setups: invoice
                            .lines
                            .iter()
                            .filter_map(|l| l.setup_key.clone())
                            .collect(),
                    });
                    issued.push((
                        plan::number_order(request.invoice_date, seq),
                        IssuedInvoice {
                            fx_rate: fx::rate_of(&invoice, request.invoice_date, request.fx),
                            number,
                            invoice_date: request.invoice_date,
                            due_date: request.due_date,
                            invoice,
                        },
                    ));
                }
            }
        }
        issued.extend(
            settled
                .into_iter()
                .map(|(seq, i)| (plan::number_order(i.invoice_date, seq), i)),
        );
        issued.sort_by_key(|(order, _)| *order);
        let invoices: Vec<IssuedInvoice> = issued.into_iter().map(|(_, i)| i).collect();
        // Only invoices issued now can lack a rate: stored ones keep what they had.
        let fresh: HashSet<&str> = self.fresh.iter().map(|f| f.number.as_str()).collect();
        fx::refuse_missing_rates(
            invoices
                .iter()
                .filter(|i| fresh.contains(i.number.as_str())),
        )?;

        let mut notes = std::mem::take(&mut self.notes);
        for (date, n) in planned.dates_kept {
            notes.push(format!(
                "{n} invoice(s) of {} were issued on {date} and keep that date and their numbers; \
                 this run's invoice date {} applies only to invoices it issues new",
                request.period, request.invoice_date
            ));
        }
        self.note_interrupted(&invoices, &mut notes);
        Ok(Issued {
            invoices,
            notes,
            new: Some(self.fresh.len()),
        })
    }

    /// Settles the issued invoices whose content changed (see [`Book::settle`]):
    /// a settled invoice that this run still produces is replaced in `hashed` by
    /// the invoice as recorded (so the plan reuses it); a settled one it no longer
    /// produces is returned to be written as recorded. Returns the stored invoices
    /// left for the plan (the unsettled ones conflict there).
    fn settle_changed(
        &mut self,
        hashed: &mut [(Invoice, InvoiceContent, String)],
        stored: Vec<StoredInvoice>,
        request: &IssueRequest,
    ) -> Result<(Vec<StoredInvoice>, Vec<Settled>)> {
        let by_key: HashMap<(&str, &str), &StoredInvoice> = stored
            .iter()
            .map(|s| ((s.customer_id.as_str(), s.currency.as_str()), s))
            .collect();
        let mut produced = HashSet::new();
        for (invoice, content, hash) in hashed.iter_mut() {
            produced.insert((content.customer_id.clone(), content.currency.clone()));
            let Some(s) = by_key.get(&(content.customer_id.as_str(), content.currency.as_str()))
            else {
                continue;
            };
            if s.hash == *hash {
                continue;
            }
            let now = InvoiceContent::of(invoice, request.period);
            let auto = request.auto_notes.as_ref();
            if let Some(record) = self.settle(&s.number, Some(&now), auto, request.tax)? {
                let providers: HashMap<_, _> = invoice
                    .lines
                    .iter()
                    .map(|l| (LineContent::of(l), l.provider_amount))
                    .map(|(c, p)| (content::owned_key(&c), p))
                    .collect();
                *invoice = self.rebuild(&record, invoice.customer.clone(), request, |l| {
                    providers.get(&content::owned_key(l)).copied()
                })?;
                *hash = s.hash.clone();
            }
        }
        drop(by_key);
        let mut remaining = Vec::with_capacity(stored.len());
        let mut settled = Vec::new();
        for s in stored {
            if produced.contains(&(s.customer_id.clone(), s.currency.clone())) {
                remaining.push(s);
                continue;
            }
            let auto = request.auto_notes.as_ref();
            match self.settle(&s.number, None, auto, request.tax)? {
                Some(record) => {
                    let gstin = &record.content.customer_gstin;
                    let customer = didbill_core::inventory::Customer {
                        id: s.customer_id.clone(),
                        name: record.customer_name.clone(),
                        address: record.customer_address.clone(),
                        gstin: (!gstin.is_empty()).then(|| gstin.clone()),
                        ..Default::default()
                    };
                    settled.push((
                        s.seq,
                        IssuedInvoice {
                            invoice: self.rebuild(&record, customer, request, |_| None)?,
                            number: s.number,
                            invoice_date: s.invoice_date,
                            due_date: s.due_date,
                            fx_rate: s.fx_rate,
                        },
                    ));
                }
                None => remaining.push(s),
            }
        }
        Ok((remaining, settled))
    }

    /// The invoice `record` as issued, for `customer`.
    fn rebuild(
        &self,
        record: &store::InvoiceOnRecord,
        customer: didbill_core::inventory::Customer,
        request: &IssueRequest,
        provider: impl Fn(&LineContent) -> Option<didbill_core::money::Money>,
    ) -> Result<Invoice> {
        let c = &record.content;
        let amount = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap_or_default();
        let treatment = didbill_core::notes::issued_treatment(
            amount(&c.cgst),
            amount(&c.sgst),
            amount(&c.igst),
            &c.place_of_supply,
            request.tax.seller_state_code,
            request.tax.enabled,
        );
        c.to_invoice(customer, treatment, provider)
            .ok_or_else(|| Error::Ledger {
                path: self.path.clone(),
                message: format!(
                    "invoice {} has unreadable lines or amounts; the file is damaged",
                    record.number
                ),
            })
    }

    /// Decides which interrupted runs this run repairs (all their invoices are among
    /// its outputs) and tells the user about the others.
    fn note_interrupted(&mut self, invoices: &[IssuedInvoice], notes: &mut Vec<String>) {
        let numbers: HashSet<&str> = invoices.iter().map(|i| i.number.as_str()).collect();
        for run in &self.interrupted {
            let span = match run.numbers.as_slice() {
                [only] => only.clone(),
                [first, .., last] => format!("{first} … {last}"),
                [] => String::new(),
            };
            if run.numbers.iter().all(|n| numbers.contains(n.as_str())) {
                notes.push(format!(
                    "run #{} of {} was interrupted before its outputs were written; this run \
                     writes its {} invoice(s) ({span}) again and marks it recovered",
                    run.id,
                    run.period,
                    run.numbers.len()
                ));
                self.repairs.push(run.id);
            } else {
                notes.push(format!(
                    "run #{} of {} recorded {} invoice(s) ({span}) but was interrupted before \
                     writing its outputs to {}; re-run period {} to write them (the same numbers are reused)",
                    run.id,
                    run.period,
                    run.numbers.len(),
                    run.out_dir,
                    run.period
                ));
            }
        }
    }

    /// The exit-4 error for issued invoices that would change (`changed` in
    /// invoice-number order; `hashed` the run's invoices the changes point into).
    fn conflict(
        &self,
        request: &IssueRequest,
        changed: &[Change],
        hashed: &[(Invoice, InvoiceContent, String)],
    ) -> Error {
        const SHOWN: usize = 8;
        let period = request.period;
        let mut late_usage = false;
        // Invoices whose amounts are unchanged: only their parties differ.
        let mut parties_only: Vec<&str> = Vec::new();
        let mut text = format!(
            "period {period} is already invoiced and this run would change {} issued invoice(s); \
             nothing was written:",
            changed.len()
        );
        for change in changed {
            let before = self.store.recorded_content(change.stored.id);
            let now = change
                .now
                .map(|index| InvoiceContent::of(&hashed[index].0, period));
            let (who, details) = match (&before, &now) {
                (Ok(before), Some(now)) => {
                    let late = before.usage_change(now);
                    late_usage |= late.is_some();
                    let mut d: Vec<String> = late.into_iter().collect();
                    d.extend(before.differences(now));
                    if d.is_empty() {
                        d.push(
                            "its recorded lines do not match its content hash (was the ledger edited?)"
                                .into(),
                        );
                    }
                    (format!("{} {}", before.customer_id, before.currency), d)
                }
                (Ok(before), None) => (
                    format!("{} {}", before.customer_id, before.currency),
                    vec![format!(
                        "no longer billed by this run ({} line(s), total {} in the ledger)",
                        before.lines.len(),
                        before.total
                    )],
                ),
                (Err(e), _) => (String::new(), vec![format!("cannot be read: {e}")]),
            };
            let shown: Vec<&str> = details.iter().take(SHOWN).map(String::as_str).collect();
            let more = details.len().saturating_sub(SHOWN);
            text.push_str(&format!(
                "\n  {} ({who}): {}",
                change.stored.number,
                shown.join("; ")
            ));
            if more > 0 {
                text.push_str(&format!("; and {more} more change(s)"));
            }
            if let Ok(before) = &before {
                let notes = self
                    .store
                    .invoice_notes(change.stored.id)
                    .unwrap_or_default();
                let lines = notes::differences_shown(before, &notes, now.as_ref(), &request.tax);
                if lines.is_empty() && now.is_some() {
                    parties_only.push(&change.stored.number);
                }
                for line in lines.iter().take(SHOWN) {
                    text.push_str(&format!("\n      {line}"));
                }
                if lines.len() > SHOWN {
                    text.push_str(&format!(
                        "\n      … and {} more line(s)",
                        lines.len() - SHOWN
                    ));
                }
            }
        }
        if parties_only.len() < changed.len() {
            text.push_str(&format!(
                "\nAn issued invoice cannot change: GST corrects it with a credit note (the \
                 negative differences above) or a debit note (the positive ones). Re-run with \
                 --issue-notes to issue them line by line, or issue them with `didbill note \
                 credit|debit --invoice NUMBER`; or re-run with the inventory snapshot the \
                 invoices of {period} were made from."
            ));
        }
        if !parties_only.is_empty() {
            text.push_str(&format!(
                "\n{}: no amount changed, only the customer's details (GSTIN or place of \
                 supply). No note corrects that: a note always carries its invoice's parties \
                 and tax treatment. If the invoice must show the new details, cancel it with \
                 `didbill invoices cancel NUMBER --reason TEXT` (possible while no note refers \
                 to it) and re-run {period}, which issues it anew under a new number; otherwise \
                 re-run with the inventory snapshot the invoices were made from.",
                parties_only.join(", ")
            ));
        }
        if late_usage {
            text.push_str(&format!(
                "\nCall usage changed: calls that reached the API after {period} was invoiced are \
                 billed by no later run (a call belongs to the month it started in). Bill the \
                 difference shown above with a debit note (a credit note when it is negative): \
                 re-run with --issue-notes. To see \
                 {period}'s invoices as they would be now, run it with --dry-run --out \
                 ANOTHER_FOLDER."
            ));
        }
        Error::LedgerConflict(text)
    }

    /// Records the invoices numbered by [`Book::issue`] (whose lines are read from
    /// `issued`, the invoices it returned) and a run row in state `rendering`, and
    /// commits. Call it after staging the outputs, before committing them. Issues
    /// nothing new: nothing is written.
    pub fn commit(self, run: &RunRecord, issued: &[IssuedInvoice]) -> Result<Recorded> {
        if self.fresh.is_empty() && !self.documents {
            return Ok(Recorded {
                run: None,
                repairs: self.repairs,
            });
        }
        type Rendered<'i> = (&'i [Line], Option<rust_decimal::Decimal>, &'i [String]);
        let by_number: HashMap<&str, Rendered> = issued
            .iter()
            .map(|i| {
                (
                    i.number.as_str(),
                    (
                        &i.invoice.lines[..],
                        i.fx_rate,
                        &i.invoice.customer.address[..],
                    ),
                )
            })
            .collect();
        let new = self
            .fresh
            .iter()
            .map(|f| {
                let (lines, fx_rate, customer_address) = by_number
                    .get(f.number.as_str())
                    .copied()
                    .ok_or_else(|| Error::Ledger {
                        path: self.path.clone(),
                        message: format!(
                            "cannot record invoice {}: it is not among the invoices rendered",
                            f.number
                        ),
                    })?;
                Ok(NewInvoice {
                    number: &f.number,
                    financial_year: &f.financial_year,
                    seq: f.seq,
                    invoice_date: f.invoice_date,
                    due_date: f.due_date,
                    customer_name: &f.customer_name,
                    customer_address,
                    content: &f.content,
                    hash: &f.hash,
                    lines,
                    setups: &f.setups,
                    fx_rate,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let started = std::time::Instant::now();
        let run_id = self.store.record(run, &self.started_at, &new)?;
        let lines: usize = new.iter().map(|n| n.lines.len()).sum();
        let invoices = new.len();
        drop(new);
        self.store.commit()?;
        // What `scripts/bench.sh` reads for the ledger commit's figure.
        tracing::debug!(
            "ledger commit: {invoices} invoice(s) with {lines} line(s) recorded in {} ms",
            started.elapsed().as_millis()
        );
        Ok(Recorded {
            run: Some(run_id),
            repairs: self.repairs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(conn: &Connection, number: &str, fy: &str, seq: i64) -> rusqlite::Result<usize> {
        conn.execute(
            "INSERT INTO invoices (number, financial_year, seq, customer_id, customer_name,
                 customer_gstin, place_of_supply, currency, period, invoice_date, due_date,
                 subtotal, cgst, sgst, igst, round_off, total, content_hash, run_id, created_at)
             VALUES (?1, ?2, ?3, ?1, '', '', '29', 'INR', '2026-11', '2026-12-01', '2026-12-16',
                 '1.00', '0.00', '0.00', '0.00', '0.00', '1.00', '', 1, '')",
            params![number, fy, seq],
        )
    }

    fn file_connection(ledger: &Ledger) -> &Connection {
        match &ledger.backend {
            Backend::Sqlite(conn) => conn,
            Backend::Postgres(_) => unreachable!("a file was opened"),
        }
    }

    #[test]
    fn the_schema_refuses_gaps_and_edits_of_issued_invoices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let ledger = Ledger::open_file(&path).unwrap();
        assert!(ledger.created);
        let conn = file_connection(&ledger);
        conn.execute(
            "INSERT INTO runs (period, as_of, source, out_dir, invoice_date, customers,
                 numbers_fetched, billed, not_billable, exceptions, invoices, invoices_new, pid,
                 state, started_at)
             VALUES ('2026-11', '', '', '', '', 0, 0, 0, 0, 0, 0, 0, 0, 'done', '')",
            [],
        )
        .unwrap();
        let gap = insert(conn, "A/26-27/2", "26-27", 2).unwrap_err();
        assert!(gap.to_string().contains("consecutive"), "{gap}");
        insert(conn, "A/26-27/1", "26-27", 1).unwrap();
        insert(conn, "A/27-28/1", "27-28", 1).unwrap();
        let dup = insert(conn, "A/26-27/1", "26-27", 2).unwrap_err();
        assert!(dup.to_string().contains("UNIQUE"), "{dup}");
        for edit in ["UPDATE invoices SET total = '0.00'", "DELETE FROM invoices"] {
            let err = conn.execute(edit, []).unwrap_err();
            assert!(err.to_string().contains("issued invoices cannot"), "{err}");
        }
        drop(ledger);

        let again = Ledger::open_file(&path).unwrap();
        assert!(!again.created);
        let version: i32 = file_connection(&again)
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
