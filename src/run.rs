//! The billing run: source → inventory → billing → numbering → render → commit.
//!
//! [`execute`] is the whole `didbill run` command given resolved [`RunSettings`].
//! The outputs are written to a staging folder (the CSV files once computed, each
//! PDF as soon as it is rendered) and renamed into place only when all of them
//! exist, so a failed run leaves nothing behind. Invoice numbers come from the [`crate::ledger`], whose
//! module doc explains how its commit and the output commit are ordered.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use didbill_core::billing::{self, Bill, BilledSetups, IssuedInvoice, NotInvoiced};
use didbill_core::fx::FxRates;
use didbill_core::numbering;
use didbill_core::period::Period;
use rayon::prelude::*;
use vobiz::fetch::Scope;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inventory::{self, calls::Calls};
use crate::ledger::location::LedgerLocation;
use crate::ledger::{IssueRequest, Issued, Ledger, RunFigures, RunRecord};
use crate::output::StagedDir;
use crate::progress;
use crate::render::csv::{self as csv_out, CallCounts, Summary};
use crate::render::exports::Exports;
use crate::render::notes as note_files;
use crate::render::pdf::PdfRenderer;
use crate::render::pdf_model;
use crate::source::{self, calls, SourceSettings};

/// Everything `didbill run` needs, resolved once from arguments and config.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// The month to invoice.
    pub period: Period,
    /// Where the inventory comes from and how to read it.
    pub source: SourceSettings,
    /// Only these customers (empty: all).
    pub customers: Vec<String>,
    /// The output folder.
    pub out: PathBuf,
    /// Exceptions stop the run (exit 1).
    pub strict: bool,
    /// The run's as-of instant.
    pub as_of: DateTime<Utc>,
    /// The invoice date.
    pub invoice_date: NaiveDate,
    /// Draft numbers, no ledger.
    pub dry_run: bool,
    /// The ledger (unused in a dry run).
    pub ledger: LedgerLocation,
    /// The validated configuration.
    pub config: Config,
    /// Accounting CSV layouts to write (`--csv`, without `generic`).
    pub csv: Vec<String>,
    /// Put a UTF-8 BOM on the accounting CSVs.
    pub csv_bom: bool,
    /// User templates folder (`--templates`), overriding the built-in templates.
    pub templates: Option<PathBuf>,
    /// Write one PDF tax invoice per invoice into `pdf/` (off with `--no-pdf`).
    pub pdf: bool,
    /// Bill call usage from CDRs (`false` with `--no-usage`).
    pub usage: bool,
    /// `--issue-notes`: settle changed issued invoices with credit and debit notes
    /// instead of stopping with exit 4.
    pub issue_notes: bool,
    /// Exchange rates for invoices in another currency (`--fx-rates`, `[fx]`).
    pub fx: FxRates,
}

impl RunSettings {
    /// The first instant a real run of the period may be made: midnight at the
    /// start of the next month in the billing timezone.
    pub fn period_closes_at(&self) -> DateTime<Utc> {
        let midnight = self.period.end().and_time(chrono::NaiveTime::MIN);
        // A zone may skip midnight (a DST change); the first instant after the gap is
        // then the month's end.
        (0..=3)
            .find_map(|h| {
                self.config
                    .timezone
                    .from_local_datetime(&(midnight + chrono::Duration::hours(h)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc())
    }

    /// Whether the period is still open at the as-of instant, so its figures can
    /// still change (numbers bought or released before the month ends).
    pub fn period_open(&self) -> bool {
        self.as_of < self.period_closes_at()
    }

    /// Refuses a real run that would issue permanent, gap-free tax invoices too early
    /// or from a seller that is not configured: for a period not over at the as-of
    /// instant, with an invoice date after the as-of date, or while a seller key
    /// still holds the demo value. A dry run is never refused here.
    pub fn refuse_unsafe_real_run(&self) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        let shown = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        if self.period_open() {
            let closes = self.period_closes_at();
            return Err(Error::Usage(format!(
                "period {} has not ended at the as-of instant {}: its invoices can be issued \
                 from {} ({} in {}); until then use --dry-run for provisional figures",
                self.period,
                shown(self.as_of),
                shown(closes),
                closes
                    .with_timezone(&self.config.timezone)
                    .format("%Y-%m-%d %H:%M"),
                self.config.timezone,
            )));
        }
        let as_of_date = self.as_of.with_timezone(&self.config.timezone).date_naive();
        if self.invoice_date > as_of_date {
            return Err(Error::Usage(format!(
                "--invoice-date {} is after the as-of date {as_of_date} ({}): a tax invoice \
                 cannot be dated in the future; give an earlier --invoice-date or run on or after {}",
                self.invoice_date,
                self.config.timezone,
                self.invoice_date,
            )));
        }
        if !self.config.seller.unset.is_empty() {
            return Err(Error::Usage(format!(
                "a real run issues tax invoices in the seller's name, and {} {} not set in the \
                 configuration (the built-in values are a demo seller's, for --dry-run only): \
                 set them in [seller] of didbill.toml or the --config file",
                self.config.seller.unset.join(", "),
                if self.config.seller.unset.len() == 1 {
                    "is"
                } else {
                    "are"
                },
            )));
        }
        Ok(())
    }
}

/// What a finished run produced, for the human summary.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The `summary.json` content.
    pub summary: Summary,
    /// Where the outputs are.
    pub out: PathBuf,
    /// Things to tell the user that are not part of the outputs (stderr).
    pub notes: Vec<String>,
    /// Invoices this run numbered new (`None` for a dry run); the others of
    /// `summary.invoices` were reused as issued.
    pub new_invoices: Option<usize>,
}

impl RunReport {
    /// A short human summary of the run, printed on stdout.
    pub fn text(&self) -> String {
        let r = self;
        let s = &r.summary;
        let mut out = format!(
            "didbill {}period {} (as of {}) → {}\n  customers {} · numbers {}: billed {}, not billable {}, exceptions {}\n  invoices {}{} · lines {}\n",
            if s.dry_run { "dry run, " } else { "" },
            s.period,
            s.as_of,
            r.out.display(),
            s.customers,
            s.numbers_fetched,
            s.billed,
            s.not_billable,
            s.exceptions,
            s.invoices,
            match r.new_invoices {
                Some(new) => format!(" ({} reused as issued, {new} new)", s.invoices - new),
                None => " (drafts)".to_owned(),
            },
            s.lines
        );
        for (currency, t) in &s.totals {
            out.push_str(&format!(
                "  {currency}  subtotal {}  tax {}  total {}",
                t.subtotal, t.tax, t.total
            ));
            if let (Some(cost), Some(margin)) = (&t.provider_cost, &t.margin) {
                out.push_str(&format!("  (provider cost {cost}, margin {margin})"));
            }
            out.push('\n');
        }
        if s.exceptions > 0 {
            out.push_str(&format!(
                "  {} exception(s): see {}\n",
                s.exceptions,
                r.out.join("exceptions.csv").display()
            ));
        }
        if s.calls.exceptions > 0 {
            out.push_str(&format!(
                "  {} call record(s) not billed: see {}\n",
                s.calls.exceptions,
                r.out.join("usage_exceptions.csv").display()
            ));
        }
        if let Some(notes) = &s.notes {
            out.push_str(&format!(
                "  notes against the period's invoices: {} credit, {} debit: see {}\n",
                notes.credit_notes,
                notes.debit_notes,
                r.out.join("notes.csv").display()
            ));
        }
        out
    }
}

/// Numbers the invoices of a `--dry-run` `DRAFT-0001`, … in customer-id then
/// currency order.
/// A draft without the exchange rate it needs has no rupee values; the run's notes
/// say that a real run would stop there.
pub fn drafts(
    invoices: Vec<billing::Invoice>,
    invoice_date: NaiveDate,
    due_date: NaiveDate,
    fx: &FxRates,
) -> Issued {
    let invoices: Vec<IssuedInvoice> = invoices
        .into_iter()
        .enumerate()
        .map(|(i, invoice)| IssuedInvoice {
            number: numbering::draft_number(i as u64 + 1),
            invoice_date,
            due_date,
            fx_rate: crate::fx::rate_of(&invoice, invoice_date, fx),
            invoice,
        })
        .collect();
    let notes = crate::fx::missing_rates(invoices.iter())
        .map(|missing| format!("a real run would stop here: {missing}"))
        .into_iter()
        .collect();
    Issued {
        invoices,
        notes,
        new: None,
    }
}

/// Renders every invoice's PDF and writes it into the staging folder, on all cores
/// (each file is written as soon as it is rendered, so creating files overlaps
/// rendering and the PDFs are never all in memory at once).
fn write_pdfs(
    renderer: &PdfRenderer,
    issued: &[IssuedInvoice],
    settings: &RunSettings,
    staged: &StagedDir,
) -> Result<()> {
    let bar = progress::bar(
        settings.source.progress,
        "rendering PDF invoices",
        "invoices",
        issued.len() as u64,
    );
    let written = issued.par_iter().try_for_each(|invoice| {
        let model =
            pdf_model::pdf_invoice(invoice, &settings.config, settings.period, settings.dry_run);
        let bytes = renderer.render(&model)?;
        staged.write_file(&pdf_model::file_name(&invoice.number), &bytes)?;
        bar.inc(1);
        Ok::<_, Error>(())
    });
    bar.finish_and_clear();
    written
}

/// Refuses an `--out` folder holding another period's outputs, or a real run's
/// outputs that a dry run would replace with drafts (read from its `summary.json`).
/// A re-run of the same period, and a real run over its own dry run, go ahead.
fn refuse_replacing_other_outputs(settings: &RunSettings) -> Result<()> {
    let path = settings.out.join("summary.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let held: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let period = held.get("period").and_then(|p| p.as_str());
    let dry_run = held.get("dry_run").and_then(|d| d.as_bool());
    let (Some(period), Some(dry_run)) = (period, dry_run) else {
        return Err(Error::Usage(format!(
            "{} holds a summary.json that is not a didbill run's; choose another --out or move it",
            settings.out.display()
        )));
    };
    let kind = |dry: bool| {
        if dry {
            "dry-run drafts"
        } else {
            "issued invoices"
        }
    };
    if period != settings.period.to_string() {
        return Err(Error::Usage(format!(
            "{} holds the {} of period {period}, not {}: a run never replaces another \
             period's outputs; choose another --out (the default is out/{})",
            settings.out.display(),
            kind(dry_run),
            settings.period,
            settings.period,
        )));
    }
    if settings.dry_run && !dry_run {
        return Err(Error::Usage(format!(
            "{} holds the issued invoices of period {period}; a dry run does not replace them \
             with drafts: give the dry run another --out",
            settings.out.display(),
        )));
    }
    Ok(())
}

/// What became of the call records read: billed on an issued invoice, on an
/// invoice not issued (all 0.00), listed as exceptions, or outside the period.
fn call_counts(
    calls: &Calls,
    invoices: &[billing::Invoice],
    not_invoiced: &[NotInvoiced],
) -> CallCounts {
    let billed: u64 = invoices.iter().map(billing::Invoice::calls).sum();
    let free: u64 = not_invoiced.iter().map(|n| n.calls).sum();
    let (billed, free) = (billed as usize, free as usize);
    CallCounts {
        fetched: calls.fetched(),
        billed,
        // Usage lines hold every valid call of the period; the rest are the
        // calls of the fetch's margin days.
        outside_period: calls.calls.len() - billed - free,
        not_invoiced: free,
        exceptions: calls.problems.len(),
    }
}

/// Runs `didbill run`.
pub fn execute(settings: &RunSettings) -> Result<RunReport> {
    settings.refuse_unsafe_real_run()?;
    // Refused before anything is fetched: the amounts would be a guess.
    if let Some(ambiguity) = settings.config.pricing.ambiguity() {
        return Err(Error::Usage(format!("configuration: {ambiguity}")));
    }
    let exports = Exports::load(
        &settings.csv,
        settings.templates.as_deref(),
        settings.csv_bom,
    )?;
    // Templates are compiled (and checked) before any work is done.
    let pdf = match settings.pdf {
        true => Some(PdfRenderer::new(settings.templates.as_deref())?),
        false => None,
    };
    let scope = Scope {
        customers: settings.customers.clone(),
        search: None,
    };
    let mut snapshot = settings.source.load(&scope)?;
    source::select_customers(&mut snapshot, &settings.customers)?;
    let inventory = inventory::validate(&snapshot)?;
    // The raw records are not needed past validation; free them before billing
    // (on all cores: a million records are eleven million allocations).
    let fetch_notes = std::mem::take(&mut snapshot.notes);
    std::mem::take(&mut snapshot.numbers)
        .into_par_iter()
        .for_each(drop);
    drop(snapshot);
    let unknown_priced: Vec<String> = match settings.customers.is_empty() {
        true => {
            let known = |id: &str| inventory.customers.contains_key(id);
            settings.config.pricing.unknown_customers(known).collect()
        }
        false => Vec::new(),
    };
    if !settings.dry_run && !unknown_priced.is_empty() {
        return Err(Error::Usage(format!(
            "{}; a real run does not issue invoices at the wrong prices: correct the customer id \
             or remove the entry (a --dry-run only warns)",
            unknown_priced.join("; ")
        )));
    }
    if settings.strict && !inventory.exceptions.is_empty() {
        let exceptions = &inventory.exceptions;
        return Err(Error::strict_refusal(
            "number(s)",
            exceptions.len(),
            exceptions
                .iter()
                .map(|e| format!("{} {} {}: {}", e.customer_id, e.number_id, e.e164, e.reason)),
        ));
    }
    let calls = if settings.usage {
        let ids: Vec<&str> = inventory.customers.keys().map(String::as_str).collect();
        calls::load(&settings.source, &ids, settings.period)?
    } else {
        Calls::default()
    };
    if settings.strict {
        calls::refuse_problems(&calls)?;
    }
    // The output folder is staged before the ledger is opened, so an unusable
    // `--out` stops the run before the ledger file is created or locked.
    refuse_replacing_other_outputs(settings)?;
    let staged = StagedDir::create(&settings.out, "summary.json")?;
    // From here until `book.commit` the ledger's write lock is held (none in a dry run).
    let mut ledger = if settings.dry_run {
        None
    } else {
        Some(Ledger::open(&settings.ledger)?)
    };
    if let Some(ledger) = ledger.as_mut() {
        ledger.lock_period(settings.period)?;
    }
    let commit_first = ledger
        .as_ref()
        .is_some_and(Ledger::commits_before_rendering);
    let mut book = ledger.as_mut().map(Ledger::begin).transpose()?;
    let billed_setups = match &book {
        Some(book) => book.billed_setups()?,
        None => BilledSetups::default(),
    };
    let rules = settings.config.rules(settings.period, settings.as_of);
    let Bill {
        invoices,
        mut warnings,
        billed,
        not_billable,
        lines: line_count,
        not_invoiced,
    } = billing::bill(&inventory, &calls.calls, &rules, &billed_setups);
    let call_counts = call_counts(&calls, &invoices, &not_invoiced);
    warnings.extend(fetch_notes);
    warnings.extend(calls.notes.iter().cloned());
    warnings.extend(calls.problems.iter().map(ToString::to_string));
    warnings.extend(not_invoiced.iter().map(ToString::to_string));
    warnings.extend(unknown_priced);
    warnings.extend(settings.config.seller.gstin_warning());
    if settings.dry_run && settings.period_open() {
        warnings.push(format!(
            "period {} has not ended at the as-of instant: these figures are provisional \
             (numbers bought or released before the month ends will change them)",
            settings.period
        ));
    }
    let due_date =
        settings.invoice_date + chrono::Duration::days(i64::from(settings.config.invoice.due_days));
    let Issued {
        invoices: issued,
        notes,
        new: new_invoices,
    } = match &mut book {
        Some(book) => book.issue(
            invoices,
            &IssueRequest {
                period: settings.period,
                invoice_date: settings.invoice_date,
                due_date,
                format: &settings.config.invoice.number_format,
                customers: &settings.customers,
                fx: &settings.fx,
                tax: crate::ledger::notes::NoteTax::of(&settings.config),
                auto_notes: settings
                    .issue_notes
                    .then(|| crate::ledger::notes::AutoNotes {
                        credit_format: &settings.config.notes.credit_format,
                        debit_format: &settings.config.notes.debit_format,
                        date: settings
                            .as_of
                            .with_timezone(&settings.config.timezone)
                            .date_naive(),
                    }),
            },
        )?,
        None => drafts(invoices, settings.invoice_date, due_date, &settings.fx),
    };

    // The period's credit and debit notes are rewritten with its invoices, so a
    // re-run keeps them in the folder it replaces.
    let period_notes = match &book {
        Some(book) => book.period_notes(settings.period)?,
        None => Vec::new(),
    };
    let (mut export_files, export_warnings) =
        exports.render(&issued, &settings.config, settings.period)?;
    warnings.extend(export_warnings);
    let (note_exports, note_warnings) =
        exports.render_notes(&period_notes, &settings.config, settings.period)?;
    export_files.extend(note_exports);
    warnings.extend(note_warnings);
    let summary = Summary {
        period: settings.period.to_string(),
        as_of: settings.as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
        customers: inventory.customers.len(),
        numbers_fetched: inventory.numbers_fetched,
        billed,
        not_billable: not_billable.len(),
        exceptions: inventory.exceptions.len(),
        invoices: issued.len(),
        totals: csv_out::totals(&issued, settings.config.pricing.is_active()),
        lines: line_count,
        dry_run: settings.dry_run,
        calls: call_counts,
        warnings,
        notes: note_files::summary(&period_notes),
    };
    debug_assert_eq!(
        summary.billed + summary.not_billable + summary.exceptions,
        summary.numbers_fetched
    );

    staged.write_file("line_items.csv", &csv_out::line_items(&issued))?;
    staged.write_file(
        "invoices.csv",
        &csv_out::invoices(&issued, settings.config.tax.rate),
    )?;
    staged.write_file(
        "exceptions.csv",
        &csv_out::exceptions(&inventory.exceptions),
    )?;
    staged.write_file("not_billable.csv", &csv_out::not_billable(&not_billable))?;
    staged.write_file(
        "usage_exceptions.csv",
        &csv_out::usage_exceptions(&calls.problems),
    )?;
    staged.write_file("summary.json", &csv_out::summary_json(&summary))?;
    for (file, bytes) in &export_files {
        staged.write_file(file, bytes)?;
    }
    // Ledger first, then outputs, then the run is marked done (see `ledger`).
    let figures = RunFigures {
        period: summary.period.clone(),
        as_of: summary.as_of.clone(),
        customers: summary.customers,
        numbers_fetched: summary.numbers_fetched,
        billed: summary.billed,
        not_billable: summary.not_billable,
        exceptions: summary.exceptions,
        invoices: summary.invoices,
    };
    let record = RunRecord {
        summary: &figures,
        source: settings.source.source.describe(),
        out: &settings.out,
        invoice_date: settings.invoice_date,
    };
    // On a shared database the invoices are committed before their PDFs render, so
    // that other operators' runs and notes do not wait for them (this period's do,
    // on the period lock). A failure while rendering then leaves them recorded with
    // the run `rendering`, which the next run of the period completes.
    let render = || -> Result<()> {
        if let Some(renderer) = &pdf {
            write_pdfs(renderer, &issued, settings, &staged)?;
        }
        note_files::write(&staged, &period_notes, &settings.config, pdf.as_ref())
    };
    let recorded = if commit_first {
        let recorded = book.map(|b| b.commit(&record, &issued)).transpose()?;
        render().map_err(|e| Error::Ledger {
            path: settings.ledger.shown(),
            message: format!(
                "the invoices are recorded, but writing their documents failed ({e}); no \
                 output was put in place: run {} again to write them (it reuses the recorded \
                 invoices)",
                settings.period
            ),
        })?;
        recorded
    } else {
        render()?;
        book.map(|b| b.commit(&record, &issued)).transpose()?
    };
    staged.commit()?;
    if let (Some(ledger), Some(recorded)) = (ledger.as_mut(), recorded) {
        ledger.finish(recorded)?;
    }
    Ok(RunReport {
        summary,
        out: settings.out.clone(),
        notes,
        new_invoices,
    })
}
