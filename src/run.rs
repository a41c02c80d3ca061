//! The billing run: source → inventory → billing → numbering → render → commit.
//!
//! [`execute`] is the whole `didbill run` command given resolved [`RunSettings`].
//! Everything is computed in memory first; the outputs are written to a staging
//! folder and renamed into place only when all of them exist, so a failed run
//! leaves nothing behind.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::billing::{self, IssuedInvoice, Line, Rules};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::inventory::{self, Inventory};
use crate::numbering;
use crate::output::StagedDir;
use crate::period::{financial_year, Period};
use crate::render::csv::{self as csv_out, Summary};
use crate::vobiz::client::Credentials;
use crate::vobiz::fetch::{self, ApiSettings, Scope};
use crate::vobiz::snapshot::{self, Snapshot};

/// Where the inventory comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The live Vobiz Partner API.
    Api,
    /// A snapshot folder (`accounts.json`, `numbers.json`).
    Snapshot(PathBuf),
}

impl Source {
    /// Reads a `--source` argument: `api`, or a snapshot folder.
    pub fn from_arg(arg: &str) -> Source {
        match arg {
            "api" => Source::Api,
            dir => Source::Snapshot(PathBuf::from(dir)),
        }
    }
}

/// Everything `didbill run` needs, resolved once from arguments and config.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// The month to invoice.
    pub period: Period,
    /// Where the inventory comes from.
    pub source: Source,
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
    /// The validated configuration.
    pub config: Config,
    /// How to fetch from the API when the source is `api`.
    pub api: ApiSettings,
}

/// What a finished run produced, for the human summary.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The `summary.json` content.
    pub summary: Summary,
    /// Where the outputs are.
    pub out: PathBuf,
}

/// Loads the inventory records from the configured source. The API is asked only
/// for the scope; a snapshot is read whole, so callers still apply
/// [`select_customers`] (which also checks the ids) and any search themselves.
pub fn load(source: &Source, api: &ApiSettings, scope: &Scope) -> Result<Snapshot> {
    match source {
        Source::Snapshot(dir) => snapshot::read(dir),
        Source::Api => Ok(fetch::fetch(api, &Credentials::from_env()?, scope)?.snapshot),
    }
}

/// Keeps only the accounts and numbers of the selected customers.
pub fn select_customers(snapshot: &mut Snapshot, customers: &[String]) -> Result<()> {
    if customers.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<&str> = customers.iter().map(String::as_str).collect();
    let known: HashSet<&str> = snapshot
        .accounts
        .iter()
        .filter_map(|a| a.auth_id.as_deref())
        .collect();
    if let Some(missing) = customers.iter().find(|c| !known.contains(c.as_str())) {
        return Err(Error::Usage(format!(
            "customer {missing} is not in the inventory; check the id (MA_...)"
        )));
    }
    snapshot
        .accounts
        .retain(|a| a.auth_id.as_deref().is_some_and(|id| wanted.contains(id)));
    snapshot
        .numbers
        .retain(|n| n.account_id.as_str().is_some_and(|id| wanted.contains(id)));
    Ok(())
}

/// Billing result of the inventory: every line, and how many numbers got one.
pub struct Charges {
    /// All line items of the period.
    pub lines: Vec<Line>,
    /// Numbers with at least one line.
    pub billed: usize,
    /// Numbers without a line (plus `pending_purchase`).
    pub not_billable: usize,
}

/// Computes every number's charges and sorts numbers into billed and not billable.
pub fn charge_inventory(inventory: &Inventory, rules: &Rules) -> Charges {
    let mut lines = Vec::with_capacity(inventory.numbers.len() + inventory.numbers.len() / 8);
    let mut billed = 0;
    for number in &inventory.numbers {
        let before = lines.len();
        lines.extend(billing::charges(number, rules));
        if lines.len() > before {
            billed += 1;
        }
    }
    Charges {
        lines,
        billed,
        not_billable: inventory.numbers.len() - billed + inventory.pending.len(),
    }
}

/// Gives invoices their numbers: drafts in a dry run, otherwise a fresh sequence
/// (seq 1, 2, … in customer-id then currency order).
pub fn issue(
    invoices: Vec<billing::Invoice>,
    settings: &RunSettings,
) -> Result<Vec<IssuedInvoice>> {
    let format = &settings.config.invoice.number_format;
    let fy = financial_year(settings.invoice_date);
    let due_date =
        settings.invoice_date + chrono::Duration::days(i64::from(settings.config.invoice.due_days));
    if !settings.dry_run && invoices.len() as u64 > format.max_seq() {
        return Err(Error::Data(format!(
            "{} invoices need more sequence numbers than invoice.number_format allows ({})",
            invoices.len(),
            format.max_seq()
        )));
    }
    Ok(invoices
        .into_iter()
        .enumerate()
        .map(|(i, invoice)| {
            let seq = i as u64 + 1;
            IssuedInvoice {
                number: if settings.dry_run {
                    numbering::draft_number(seq)
                } else {
                    format.render(&fy, seq)
                },
                invoice_date: settings.invoice_date,
                due_date,
                invoice,
            }
        })
        .collect())
}

/// Runs `didbill run`.
pub fn execute(settings: &RunSettings) -> Result<RunReport> {
    let scope = Scope {
        customers: settings.customers.clone(),
        search: None,
    };
    let mut snapshot = load(&settings.source, &settings.api, &scope)?;
    select_customers(&mut snapshot, &settings.customers)?;
    let inventory = inventory::validate(&snapshot)?;
    if settings.strict && !inventory.exceptions.is_empty() {
        let listed: Vec<String> = inventory
            .exceptions
            .iter()
            .take(20)
            .map(|e| {
                format!(
                    "  {} {} {}: {}",
                    e.customer_id, e.number_id, e.e164, e.reason
                )
            })
            .collect();
        return Err(Error::Data(format!(
            "--strict: {} number(s) cannot be billed; nothing was written:\n{}{}",
            inventory.exceptions.len(),
            listed.join("\n"),
            if inventory.exceptions.len() > 20 {
                "\n  …"
            } else {
                ""
            }
        )));
    }
    let rules = Rules::new(&settings.config, settings.period, settings.as_of);
    let charges = charge_inventory(&inventory, &rules);
    let line_count = charges.lines.len();
    let (invoices, mut warnings) =
        billing::assemble(charges.lines, &inventory.customers, &settings.config);
    warnings.extend(snapshot.notes.iter().cloned());
    let issued = issue(invoices, settings)?;

    let summary = Summary {
        period: settings.period.to_string(),
        as_of: settings.as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
        customers: inventory.customers.len(),
        numbers_fetched: inventory.numbers_fetched,
        billed: charges.billed,
        not_billable: charges.not_billable,
        exceptions: inventory.exceptions.len(),
        invoices: issued.len(),
        totals: csv_out::totals(&issued),
        lines: line_count,
        dry_run: settings.dry_run,
        warnings,
    };
    debug_assert_eq!(
        summary.billed + summary.not_billable + summary.exceptions,
        summary.numbers_fetched
    );

    let staged = StagedDir::create(&settings.out, "summary.json")?;
    staged.write_file("line_items.csv", &csv_out::line_items(&issued))?;
    staged.write_file("invoices.csv", &csv_out::invoices(&issued))?;
    staged.write_file(
        "exceptions.csv",
        &csv_out::exceptions(&inventory.exceptions),
    )?;
    staged.write_file("summary.json", &csv_out::summary_json(&summary))?;
    staged.commit()?;
    Ok(RunReport {
        summary,
        out: settings.out.clone(),
    })
}
