//! The command line: clap definitions, resolution into settings, and exit codes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use rust_decimal::Decimal;

use crate::audit::{self, AuditSettings, Format};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::{self, report, Ledger};
use crate::numbers;
use crate::period::Period;
use crate::render::exports;
use crate::run::{self, RunReport, RunSettings, Source};
use crate::text::for_terminal;
use crate::vobiz::client::{Credentials, API_BASE_ENV};
use crate::vobiz::fetch::{self, ApiSettings, FetchMode, Scope};
use crate::vobiz::snapshot;

/// didbill: the monthly DID billing run of a Vobiz partner.
#[derive(Debug, Parser)]
#[command(name = "didbill", version, about, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// didbill's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bill a month: line items, invoices, exceptions and a summary.
    Run(RunArgs),
    /// Check the numbers: no active number or application, renewals at risk, KYC, lapses, billing dates.
    Audit(AuditArgs),
    /// Look up invoices recorded in the ledger.
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// Save the live inventory as a snapshot folder (replay it with `run --source DIR`).
    Fetch(FetchArgs),
    /// List rented numbers: status, application, fees, next billing date, KYC flags.
    Numbers(NumbersArgs),
}

/// How to reach the Vobiz API; shared by every command that can fetch.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// API base URL [default: `[api] base_url` of the configuration].
    #[arg(long, env = API_BASE_ENV, value_name = "URL")]
    pub api_base: Option<String>,
    /// List numbers customer by customer, or with the global `/numbers` endpoint.
    #[arg(long = "fetch", value_enum, value_name = "MODE", default_value_t = FetchMode::PerCustomer)]
    pub fetch: FetchMode,
}

impl ApiArgs {
    /// API settings: the flags over the configuration; a progress bar only when
    /// stderr is a terminal and not `--quiet`.
    pub fn settings(&self, config: &Config, quiet: bool) -> ApiSettings {
        let mut settings = ApiSettings::new(&config.api);
        if let Some(base) = &self.api_base {
            settings.base_url = base.clone();
        }
        settings.mode = self.fetch;
        settings.progress = !quiet && std::io::stderr().is_terminal();
        settings
    }
}

/// The flags every command that reads the inventory shares: which customers, the
/// configuration, how to reach the API and whether to show progress.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Only this customer (repeatable).
    #[arg(long = "customer", value_name = "MA_ID")]
    pub customers: Vec<String>,
    /// Configuration file [default: ./didbill.toml if present].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// API options.
    #[command(flatten)]
    pub api: ApiArgs,
    /// No progress output on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl ScopeArgs {
    /// Checks the `--customer` ids and loads the configuration; returns it with the
    /// API settings resolved over it.
    pub fn resolve(&self) -> Result<(Config, ApiSettings)> {
        if self.customers.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::Usage(
                "--customer needs a customer id (MA_...)".into(),
            ));
        }
        let config = Config::load(self.config.as_deref())?;
        let api = self.api.settings(&config, self.quiet);
        Ok((config, api))
    }
}

/// Arguments of `didbill fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Snapshot folder to write (accounts.json and numbers.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Also save every customer's call records (CDRs) of this month, YYYY-MM, in
    /// cdrs/, so `run --source DIR` bills call usage.
    #[arg(long, value_parser = parse_period)]
    pub period: Option<Period>,
    /// Customers, configuration, API and progress.
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Arguments of `didbill numbers`.
#[derive(Debug, Args)]
pub struct NumbersArgs {
    /// Only numbers whose E.164 contains these digits.
    #[arg(long, value_name = "DIGITS", value_parser = parse_digits)]
    pub search: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// `api` for the live Vobiz API, or a snapshot folder.
    #[arg(long, default_value = "api")]
    pub source: String,
    /// Customers, configuration, API and progress.
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// `didbill invoices` subcommands.
#[derive(Debug, Subcommand)]
pub enum InvoicesCommand {
    /// List issued invoices in invoice-number order.
    List(InvoicesListArgs),
    /// Show one invoice with its lines.
    Show(InvoicesShowArgs),
}

/// Arguments of `didbill invoices list`.
#[derive(Debug, Args)]
pub struct InvoicesListArgs {
    /// Only invoices of this month, YYYY-MM.
    #[arg(long, value_parser = parse_period)]
    pub period: Option<Period>,
    /// Only invoices of this customer.
    #[arg(long, value_name = "MA_ID")]
    pub customer: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: report::Format,
    /// The ledger file.
    #[arg(long, default_value = ledger::DEFAULT_PATH)]
    pub ledger: PathBuf,
}

/// Arguments of `didbill invoices show`.
#[derive(Debug, Args)]
pub struct InvoicesShowArgs {
    /// The invoice number, e.g. DID/26-27/00001.
    pub number: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: report::Format,
    /// The ledger file.
    #[arg(long, default_value = ledger::DEFAULT_PATH)]
    pub ledger: PathBuf,
}

/// Arguments of `didbill run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The month to invoice, YYYY-MM.
    #[arg(long, value_parser = parse_period)]
    pub period: Period,
    /// `api` for the live Vobiz API, or a snapshot folder.
    #[arg(long, default_value = "api")]
    pub source: String,
    /// Output folder [default: out/YYYY-MM].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stop with exit 1 if any number cannot be billed.
    #[arg(long)]
    pub strict: bool,
    /// The instant the run is as of (RFC 3339) [default: now].
    #[arg(long, value_parser = parse_instant)]
    pub as_of: Option<DateTime<Utc>>,
    /// Invoice date, YYYY-MM-DD [default: the day after the period].
    #[arg(long, value_parser = parse_date)]
    pub invoice_date: Option<NaiveDate>,
    /// Number invoices DRAFT-0001, … and touch no ledger.
    #[arg(long)]
    pub dry_run: bool,
    /// The invoice ledger (numbers, issued invoices, billed setup fees).
    #[arg(long, default_value = ledger::DEFAULT_PATH)]
    pub ledger: PathBuf,
    /// Accounting CSVs to write beside the canonical files, comma-separated: xero,
    /// zoho, quickbooks, or NAME for --templates DIR/csv/NAME.toml (generic is
    /// line_items.csv, always written).
    #[arg(long, value_name = "LAYOUTS", value_delimiter = ',')]
    pub csv: Vec<String>,
    /// Start the accounting CSVs (not the canonical files) with a UTF-8 BOM, for Excel.
    #[arg(long)]
    pub csv_bom: bool,
    /// Folder of templates overriding or adding to the built-in ones (csv/NAME.toml,
    /// pdf/labels.txt, pdf/line.txt, pdf/footer.txt).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Do not write PDF invoices.
    #[arg(long)]
    pub no_pdf: bool,
    /// Bill the numbers only: read no call records (CDRs) and bill no call usage.
    #[arg(long)]
    pub no_usage: bool,
    /// Customers, configuration, API and progress.
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Arguments of `didbill audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// `api` for the live Vobiz API, or a snapshot folder.
    #[arg(long, default_value = "api")]
    pub source: String,
    /// The instant the audit is as of (RFC 3339) [default: now].
    #[arg(long, value_parser = parse_instant)]
    pub as_of: Option<DateTime<Utc>>,
    /// Check renewals due within this many days after the as-of instant.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(0..=366))]
    pub renewal_days: u32,
    /// A balance below this puts every renewal in the window at risk.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_low_balance)]
    pub low_balance: Option<Decimal>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: audit::Format,
    /// Exit 5 when anything is found (for cron and CI).
    #[arg(long)]
    pub fail_on_findings: bool,
    /// Customers, configuration, API and progress.
    #[command(flatten)]
    pub scope: ScopeArgs,
}

fn parse_digits(s: &str) -> std::result::Result<String, String> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not digits of a phone number, e.g. 80410"));
    }
    Ok(digits.to_owned())
}

fn parse_period(s: &str) -> std::result::Result<Period, String> {
    s.parse()
}

fn parse_instant(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 instant such as 2026-12-02T00:00:00Z: {e}"))
}

fn parse_low_balance(s: &str) -> std::result::Result<Decimal, String> {
    crate::money::parse_amount(s)
        .filter(|d| !d.is_sign_negative())
        .ok_or_else(|| format!("{s:?} is not an amount of zero or more, such as 500 or 1250.50"))
}

fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    // chrono's %Y also takes `+262143`, whose date arithmetic overflows.
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or_else(|| format!("{s:?} is not a date YYYY-MM-DD"))
}

impl RunArgs {
    /// Resolves the arguments and the configuration into run settings.
    pub fn settings(&self) -> Result<RunSettings> {
        let (config, api) = self.scope.resolve()?;
        Ok(RunSettings {
            period: self.period,
            source: Source::from_arg(&self.source),
            customers: self.scope.customers.clone(),
            out: self
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from("out").join(self.period.to_string())),
            strict: self.strict,
            as_of: self.as_of.unwrap_or_else(Utc::now),
            invoice_date: self.invoice_date.unwrap_or_else(|| self.period.end()),
            dry_run: self.dry_run,
            ledger: self.ledger.clone(),
            config,
            csv: exports::layout_names(&self.csv)?,
            csv_bom: self.csv_bom,
            pdf: !self.no_pdf,
            templates: self.templates.clone(),
            api,
            usage: !self.no_usage,
        })
    }
}

impl AuditArgs {
    /// Resolves the arguments and the configuration into audit settings.
    pub fn settings(&self) -> Result<AuditSettings> {
        let (config, api) = self.scope.resolve()?;
        Ok(AuditSettings {
            api,
            source: Source::from_arg(&self.source),
            customers: self.scope.customers.clone(),
            params: audit::Params::new(
                &config,
                self.as_of.unwrap_or_else(Utc::now),
                self.renewal_days,
                self.low_balance,
            ),
            format: self.format,
            fail_on_findings: self.fail_on_findings,
        })
    }
}

/// A short human summary of a run, printed on stdout.
pub fn report(r: &RunReport) -> String {
    let s = &r.summary;
    let mut out = format!(
        "didbill {}period {} (as of {}) → {}\n  customers {} · numbers {}: billed {}, not billable {}, exceptions {}\n  invoices {} · lines {}\n",
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
    out
}

/// Runs the parsed command.
pub fn dispatch(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Run(args) => {
            let settings = args.settings()?;
            let report = run::execute(&settings)?;
            for w in &report.summary.warnings {
                eprintln!("warning: {}", for_terminal(w));
            }
            for n in &report.notes {
                eprintln!("note: {}", for_terminal(n));
            }
            print!("{}", self::report(&report));
            Ok(())
        }
        Command::Audit(args) => {
            let settings = args.settings()?;
            let report = audit::execute(&settings)?;
            for w in &report.warnings {
                eprintln!("warning: {}", for_terminal(w));
            }
            let mut stdout = std::io::stdout().lock();
            std::io::Write::write_all(&mut stdout, &audit::render(&report, settings.format))
                .and_then(|()| std::io::Write::flush(&mut stdout))
                .map_err(|e| Error::io("writing the audit to stdout", e))?;
            report.verdict(settings.fail_on_findings)
        }
        Command::Invoices(InvoicesCommand::List(args)) => {
            let ledger = Ledger::open_read_only(&args.ledger)?;
            let records = ledger.invoices(args.period, args.customer.as_deref())?;
            print!("{}", report::list(&records, args.format));
            Ok(())
        }
        Command::Invoices(InvoicesCommand::Show(args)) => {
            let ledger = Ledger::open_read_only(&args.ledger)?;
            let (invoice, lines) = ledger.invoice(&args.number)?.ok_or_else(|| {
                Error::Data(format!(
                    "invoice {} is not in the ledger {}; `didbill invoices list` shows the numbers",
                    args.number,
                    args.ledger.display()
                ))
            })?;
            print!("{}", report::show(&invoice, &lines, args.format));
            Ok(())
        }
        Command::Fetch(args) => fetch_command(args),
        Command::Numbers(args) => numbers_command(args),
    }
}

fn warn_notes(notes: &[String]) {
    for note in notes {
        eprintln!("warning: {}", for_terminal(note));
    }
}

/// `didbill fetch`: the scope's records, exactly as sent, into a snapshot folder.
fn fetch_command(args: &FetchArgs) -> Result<()> {
    let (_, api) = args.scope.resolve()?;
    let scope = Scope {
        customers: args.scope.customers.clone(),
        search: None,
    };
    let credentials = Credentials::from_env()?;
    let fetched = fetch::fetch(&api, &credentials, &scope)?;
    warn_notes(&fetched.snapshot.notes);
    let calls = match args.period {
        Some(period) => {
            let ids: Vec<String> = fetched
                .snapshot
                .accounts
                .iter()
                .filter_map(|a| a.auth_id.clone())
                .filter(|id| !id.trim().is_empty())
                .collect();
            let dates = crate::billing::usage::fetch_dates(period);
            let (cdrs, notes) = fetch::fetch_cdrs(&api, &credentials, &ids, dates)?;
            warn_notes(&notes);
            cdrs
        }
        None => Vec::new(),
    };
    let files: Vec<(String, Vec<u8>)> = calls.iter().map(|c| c.snapshot_file()).collect();
    snapshot::write_with(&args.out, &fetched.accounts, &fetched.numbers, &files)?;
    let rows: usize = calls.iter().map(|c| c.raw.len()).sum();
    let saved_calls = match args.period {
        Some(period) => format!(" and {rows} call record(s) of {period}"),
        None => " (no call records: without --period, runs on it bill no call usage)".into(),
    };
    println!(
        "fetched {} account(s) and {} number record(s){saved_calls} → {}",
        fetched.accounts.len(),
        fetched.numbers.len(),
        args.out.display()
    );
    Ok(())
}

/// `didbill numbers`: the listing on stdout.
fn numbers_command(args: &NumbersArgs) -> Result<()> {
    let (_, api) = args.scope.resolve()?;
    let scope = Scope {
        customers: args.scope.customers.clone(),
        search: args.search.clone(),
    };
    let mut snapshot = run::load(&Source::from_arg(&args.source), &api, &scope)?;
    run::select_customers(&mut snapshot, &args.scope.customers)?;
    warn_notes(&snapshot.notes);
    let rows = numbers::rows(&snapshot.numbers, args.search.as_deref());
    match std::io::stdout().write_all(&numbers::render(&rows, args.format)) {
        // `didbill numbers | head` is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("writing the listing to stdout", e))
        }
        _ => Ok(()),
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings only).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing_subscriber::filter::LevelFilter::WARN.into())
        .from_env_lossy();
    // A second initialisation (tests calling `main` twice) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Parses the process arguments, runs, and returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    init_logging();
    match dispatch(&cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", for_terminal(&e.to_string()));
            e.exit_code()
        }
    }
}
