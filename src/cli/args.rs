//! The command line's arguments (clap definitions) and their resolution, once,
//! into the settings each command receives.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, CommandFactory, Parser, Subcommand};
use didbill_core::period::Period;
use rust_decimal::Decimal;
use vobiz::client::{API_BASE_ENV, AUTH_ID_ENV, AUTH_TOKEN_ENV};
use vobiz::settings::FetchMode;
use vobiz::snapshot::MAX_FILE_ENV;

use crate::audit::{self, AuditSettings, Format};
use crate::config::Config;
use crate::delivery::{Mode, SendSettings};
use crate::error::{Error, Result, EXIT_CODES};
use crate::fetch::FetchSettings;
use crate::ledger::location::LedgerLocation;
use crate::ledger::{self, report};
use crate::numbers::NumbersSettings;
use crate::render::exports;
use crate::run::RunSettings;
use crate::source::{Environment, Source, SourceSettings};

/// The command line with the environment variables and exit codes after every
/// command's help, written once here for all of them.
pub fn command() -> clap::Command {
    with_after_help(Cli::command(), &after_help())
}

fn with_after_help(command: clap::Command, text: &str) -> clap::Command {
    command
        .after_help(text.to_owned())
        .mut_subcommands(|sub| with_after_help(sub, text))
}

/// The environment variables didbill reads and its exit codes.
fn after_help() -> String {
    let variables = [
        (
            AUTH_ID_ENV,
            "the partner auth id (MA_...), for the live API",
        ),
        (
            AUTH_TOKEN_ENV,
            "the partner auth token (never a flag or a file)",
        ),
        (API_BASE_ENV, "the API base URL, under --api-base"),
        (
            MAX_FILE_ENV,
            "the largest snapshot file read, in MiB (default 256)",
        ),
        (
            crate::source::SMTP_PASSWORD_ENV,
            "the SMTP password of `send` (never a flag or a file)",
        ),
        ("RUST_LOG", "log filter, e.g. vobiz=debug for every request"),
    ];
    let mut text = String::from("Environment:\n");
    for (name, meaning) in variables {
        text.push_str(&format!("  {name:<26}{meaning}\n"));
    }
    text.push_str("\nExit codes:\n");
    for (code, meaning) in EXIT_CODES {
        text.push_str(&format!("  {code}  {meaning}\n"));
    }
    text
}

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
    /// Check the numbers: no active number or application, renewals at risk, KYC, lapses, billing dates, GSTINs.
    Audit(AuditArgs),
    /// Look up invoices recorded in the ledger.
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// Check the ledger itself: gap-free series, append-only guards, content hashes.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Save the live inventory as a snapshot folder (replay it with `run --source DIR`).
    Fetch(FetchArgs),
    /// List rented numbers: status, application, fees, next billing date, KYC flags.
    Numbers(NumbersArgs),
    /// Write the month's GSTR-1 (offline-tool JSON, section CSVs, reconciliation) from the ledger.
    Gstr1(Gstr1Args),
    /// Issue a credit or debit note against an issued invoice.
    #[command(subcommand)]
    Note(NoteCommand),
    /// Email the period's issued invoices, then their credit and debit notes, with
    /// their PDFs over SMTP ([smtp]); only those the mail server has not accepted yet.
    Send(SendArgs),
}

/// Arguments of `didbill gstr1`.
#[derive(Debug, Args)]
pub struct Gstr1Args {
    /// The return's month, YYYY-MM: the documents dated in it.
    #[arg(long, value_parser = parse_period)]
    pub period: Period,
    /// The ledger: a SQLite file or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
    /// Configuration file (default: ./didbill.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output folder (default: gstr1/YYYY-MM).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rupee rates for documents the ledger has none for: CSV date,currency,inr_per_unit.
    #[arg(long, value_name = "FILE")]
    pub fx_rates: Option<PathBuf>,
    /// Report a customer whose GSTIN is invalid as unregistered instead of stopping.
    #[arg(long)]
    pub unregistered_if_invalid: bool,
}

impl Gstr1Args {
    /// Resolves the arguments and the configuration into `gstr1` settings.
    pub fn settings(&self) -> Result<crate::returns::gstr1::Gstr1Settings> {
        let config = Config::load(self.config.as_deref())?;
        let fx = match &self.fx_rates {
            Some(path) => crate::fx::read_rates_file(path, config.fx.clone())?,
            None => config.fx.clone(),
        };
        Ok(crate::returns::gstr1::Gstr1Settings {
            period: self.period,
            ledger: self.ledger.clone(),
            fx,
            out: self
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from("gstr1").join(self.period.to_string())),
            unregistered_if_invalid: self.unregistered_if_invalid,
            config,
        })
    }
}

/// `didbill note` subcommands.
#[derive(Debug, Subcommand)]
pub enum NoteCommand {
    /// Credit invoice lines (whole) or a taxable amount: the invoice charged too much.
    Credit(NoteCreditArgs),
    /// Debit a taxable amount: the invoice charged too little.
    Debit(NoteDebitArgs),
}

/// Arguments of `didbill note credit`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["lines", "amount"])))]
pub struct NoteCreditArgs {
    /// The invoice number, e.g. DID/26-27/00001.
    #[arg(long)]
    pub invoice: String,
    /// A line of the invoice to credit whole, as `invoices show` numbers it (repeatable).
    #[arg(long = "line", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub lines: Vec<u32>,
    /// The taxable value to credit (GST is added as on the invoice), e.g. 150.00.
    #[arg(long, value_parser = parse_note_amount, conflicts_with = "lines")]
    pub amount: Option<Decimal>,
    /// Common options.
    #[command(flatten)]
    pub note: NoteArgs,
}

impl NoteCommand {
    /// Resolves the arguments and the configuration into the note to issue.
    pub fn settings(&self) -> Result<crate::note::NoteSettings> {
        use crate::ledger::notes::NoteAmount;
        use didbill_core::notes::NoteKind;
        let (kind, invoice, amount, description, note) = match self {
            NoteCommand::Credit(a) => (
                NoteKind::Credit,
                &a.invoice,
                match a.amount {
                    Some(amount) => NoteAmount::Amount(amount),
                    None => NoteAmount::Lines(a.lines.iter().map(|&n| n as usize).collect()),
                },
                None,
                &a.note,
            ),
            NoteCommand::Debit(a) => (
                NoteKind::Debit,
                &a.invoice,
                NoteAmount::Amount(a.amount),
                Some(a.description.clone()),
                &a.note,
            ),
        };
        Ok(crate::note::NoteSettings {
            config: Config::load(note.config.as_deref())?,
            ledger: note.ledger.clone(),
            out: note.out.clone(),
            pdf: !note.no_pdf,
            templates: note.templates.clone(),
            kind,
            invoice: invoice.clone(),
            amount,
            description,
            reason: note.reason.clone(),
            date: note.date,
            as_of: note.as_of.unwrap_or_else(Utc::now),
        })
    }
}

/// Arguments of `didbill note debit`.
#[derive(Debug, Args)]
pub struct NoteDebitArgs {
    /// The invoice number, e.g. DID/26-27/00001.
    #[arg(long)]
    pub invoice: String,
    /// The taxable value to debit (GST is added as on the invoice), e.g. 150.00.
    #[arg(long, value_parser = parse_note_amount)]
    pub amount: Decimal,
    /// What the amount is for, printed as the note's line.
    #[arg(long, value_parser = parse_text)]
    pub description: String,
    /// Common options.
    #[command(flatten)]
    pub note: NoteArgs,
}

/// The options every note takes.
#[derive(Debug, Args)]
pub struct NoteArgs {
    /// Why the note is issued (printed on it).
    #[arg(long, value_parser = parse_text)]
    pub reason: String,
    /// The note date, YYYY-MM-DD [default: the as-of date in the configured timezone].
    #[arg(long, value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// The instant the note is issued (RFC 3339) [default: now]; --date may not be later.
    #[arg(long, value_parser = parse_instant)]
    pub as_of: Option<DateTime<Utc>>,
    /// The output folder of the invoice's period [default: out/YYYY-MM].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not write the note's PDF.
    #[arg(long)]
    pub no_pdf: bool,
    /// Folder of templates overriding the built-in ones (pdf/labels.txt, …).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Configuration file [default: ./didbill.toml if present].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The ledger: a SQLite file or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
}

/// Arguments of `didbill send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The month whose documents go out, YYYY-MM.
    #[arg(long, value_parser = parse_period)]
    pub period: Period,
    /// `api` for the live Vobiz API, or a snapshot folder (the accounts' emails).
    #[arg(long, default_value = "api")]
    pub source: String,
    /// The run's output folder holding pdf/ [default: the period's last run in the ledger].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print what would be sent to whom; connect to nothing, record nothing.
    #[arg(long, conflicts_with_all = ["eml_dir", "status"])]
    pub dry_run: bool,
    /// Write each message as DIR/<number>.eml instead of sending it.
    #[arg(long, value_name = "DIR", conflicts_with = "status")]
    pub eml_dir: Option<PathBuf>,
    /// Send documents the server accepted before again (recorded as a resend).
    #[arg(long)]
    pub resend: bool,
    /// Print the outbox of the period: every attempt and its reply.
    #[arg(long)]
    pub status: bool,
    /// Folder of templates overriding the built-in ones (email/subject.txt, body.txt,
    /// note_subject.txt, note_body.txt; body.html and note_body.html add HTML).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// The invoice ledger, which also holds the outbox.
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
    /// Customers, configuration, API and progress.
    #[command(flatten)]
    pub scope: ScopeArgs,
}

impl SendArgs {
    /// Resolves the arguments, the configuration and the environment into send settings.
    pub fn settings(&self, env: &Environment) -> Result<SendSettings> {
        let (config, source) = self.scope.resolve(Some(&self.source), env)?;
        let mode = if self.status {
            Mode::Status
        } else if self.dry_run {
            Mode::DryRun
        } else if let Some(dir) = &self.eml_dir {
            Mode::Eml(dir.clone())
        } else {
            Mode::Send
        };
        Ok(SendSettings {
            period: self.period,
            customers: self.scope.customers.clone(),
            mode,
            resend: self.resend,
            ledger: self.ledger.clone(),
            out: self.out.clone(),
            templates: self.templates.clone(),
            config,
            source,
            password: env.smtp_password.clone(),
        })
    }
}

/// Which endpoint lists the numbers (`--fetch`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FetchArg {
    /// `GET /accounts/{id}/numbers` for each customer (documented, default).
    #[default]
    PerCustomer,
    /// `GET /numbers`: all customers' numbers in one listing.
    Global,
}

impl From<FetchArg> for FetchMode {
    fn from(arg: FetchArg) -> FetchMode {
        match arg {
            FetchArg::PerCustomer => FetchMode::PerCustomer,
            FetchArg::Global => FetchMode::Global,
        }
    }
}

/// How to reach the Vobiz API; shared by every command that can fetch.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// API base URL [default: `[api] base_url` of the configuration].
    #[arg(long, env = API_BASE_ENV, value_name = "URL")]
    pub api_base: Option<String>,
    /// List numbers customer by customer, or with the global `/numbers` endpoint.
    #[arg(long = "fetch", value_enum, value_name = "MODE", default_value_t = FetchArg::PerCustomer)]
    pub fetch: FetchArg,
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
    /// source settings resolved over it and the environment: the flags over the
    /// configuration, a progress bar only when stderr is a terminal and not `--quiet`.
    /// `source` is the command's `--source` argument, `None` for a command that has
    /// none and always reads the API (`fetch`): only the others can be told to read a
    /// snapshot instead when the credentials are missing.
    pub fn resolve(
        &self,
        source: Option<&str>,
        env: &Environment,
    ) -> Result<(Config, SourceSettings)> {
        if self.customers.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::Usage(
                "--customer needs a customer id (MA_...)".into(),
            ));
        }
        let config = Config::load(self.config.as_deref())?;
        let mut api = config.api.settings();
        if let Some(base) = &self.api.api_base {
            api.base_url = base.clone();
        }
        api.mode = self.api.fetch.into();
        let credentials = env.credentials().map_err(|message| match source {
            Some(_) => format!("{message} (or use --source DIR with a snapshot)"),
            None => message,
        });
        let settings = SourceSettings {
            source: source.map_or(Source::Api, Source::from_arg),
            api,
            credentials,
            snapshot_limit: env.snapshot_limit()?,
            progress: !self.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        };
        Ok((config, settings))
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
    /// Save no call records even with --period (for a partner account that may not
    /// read CDRs): runs on the snapshot bill the numbers only.
    #[arg(long)]
    pub no_usage: bool,
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
    /// Cancel an invoice that has no notes: its number stays used, and the next run
    /// of its period issues the customer a new invoice.
    Cancel(InvoicesCancelArgs),
}

/// `didbill ledger` subcommands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check that every series is gap-free and in order, every invoice matches its
    /// content hash and the append-only guards are in place; exit 1 on a problem.
    Verify(LedgerVerifyArgs),
    /// Copy a ledger file into an empty PostgreSQL database, row for row, in one
    /// transaction, and check the copy.
    Copy(LedgerCopyArgs),
}

/// Arguments of `didbill ledger copy`.
#[derive(Debug, Args)]
pub struct LedgerCopyArgs {
    /// The ledger file to copy (it is only read).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The empty database to copy it into: postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, value_name = "URL")]
    pub to: LedgerLocation,
}

/// Arguments of `didbill ledger verify`.
#[derive(Debug, Args)]
pub struct LedgerVerifyArgs {
    /// The ledger: a SQLite file or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
}

/// Arguments of `didbill invoices cancel`.
#[derive(Debug, Args)]
pub struct InvoicesCancelArgs {
    /// The invoice number, e.g. DID/26-27/00001.
    pub number: String,
    /// Why it is cancelled.
    #[arg(long, value_parser = parse_text)]
    pub reason: String,
    /// The ledger: a SQLite file or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
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
    /// The ledger: a SQLite file or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
}

/// Arguments of `didbill invoices show`.
#[derive(Debug, Args)]
pub struct InvoicesShowArgs {
    /// The invoice number, e.g. DID/26-27/00001.
    pub number: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: report::Format,
    /// The ledger: a SQLite file or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
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
    #[arg(long, env = "DIDBILL_LEDGER", hide_env_values = true, default_value = ledger::DEFAULT_PATH)]
    pub ledger: LedgerLocation,
    /// Accounting exports to write beside the canonical files, comma-separated:
    /// xero, zoho, quickbooks, tally (TallyPrime vouchers, tally.xml), or NAME for
    /// --templates DIR/csv/NAME.toml (generic is line_items.csv, always written).
    #[arg(long, value_name = "LAYOUTS", value_delimiter = ',')]
    pub csv: Vec<String>,
    /// Start the accounting CSVs (not the canonical files) with a UTF-8 BOM, for Excel.
    #[arg(long)]
    pub csv_bom: bool,
    /// Folder of templates overriding or adding to the built-in ones (csv/NAME.toml,
    /// pdf/labels.txt, pdf/line.txt, pdf/footer.txt).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Exchange rates for invoices in another currency under GST: CSV
    /// `date,currency,inr_per_unit` (dated rates win over `[fx]` in the config).
    #[arg(long, value_name = "FILE")]
    pub fx_rates: Option<PathBuf>,
    /// Do not write PDF invoices.
    #[arg(long)]
    pub no_pdf: bool,
    /// Bill the numbers only: read no call records (CDRs) and bill no call usage.
    #[arg(long)]
    pub no_usage: bool,
    /// When issued invoices of the period changed, issue a credit note (decreases)
    /// and a debit note (increases) for each instead of stopping with exit 4.
    #[arg(long)]
    pub issue_notes: bool,
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

/// The digits of `--search`: people copy numbers as they are printed (`+91 80410`,
/// `080-4100`), so spaces and dashes between the digits are dropped.
fn parse_digits(s: &str) -> std::result::Result<String, String> {
    let digits: String = s
        .trim()
        .strip_prefix('+')
        .unwrap_or(s.trim())
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not digits of a phone number, e.g. 80410 or \"+91 80410\""
        ));
    }
    Ok(digits)
}

fn parse_period(s: &str) -> std::result::Result<Period, String> {
    s.parse()
}

/// An RFC 3339 instant. A bare date is refused rather than guessed at: midnight of
/// which zone is the user's to say, so the message shows both forms.
fn parse_instant(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| match parse_date(s) {
            Ok(date) => format!(
                "{s:?} is a date, not an instant: write the instant in RFC 3339, \
                 {date}T00:00:00Z for midnight UTC or {date}T00:00:00+05:30 for midnight in India"
            ),
            Err(_) => format!(
                "{s:?} is not an RFC 3339 instant: a date, T, a time and Z or an offset, \
                 such as 2026-12-02T00:00:00Z"
            ),
        })
}

fn parse_low_balance(s: &str) -> std::result::Result<Decimal, String> {
    didbill_core::money::parse_amount(s)
        .filter(|d| !d.is_sign_negative())
        .ok_or_else(|| format!("{s:?} is not an amount of zero or more, such as 500 or 1250.50"))
}

/// A note's amount: positive, at most 2 decimals (never rounded: a typo is refused).
fn parse_note_amount(s: &str) -> std::result::Result<Decimal, String> {
    didbill_core::money::parse_amount(s)
        .filter(|d| d.is_sign_positive() && !d.is_zero() && d.normalize().scale() <= 2)
        .ok_or_else(|| {
            format!(
                "{s:?} is not an amount above zero with at most 2 decimals, such as 150 or 150.25"
            )
        })
}

/// Free text that must say something (a reason, a description), trimmed.
fn parse_text(s: &str) -> std::result::Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = t.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    Ok(t.to_owned())
}

fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    // chrono's %Y also takes `+262143`, whose date arithmetic overflows.
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or_else(|| format!("{s:?} is not a date YYYY-MM-DD"))
}

impl RunArgs {
    /// Resolves the arguments, the configuration and the environment into run settings.
    pub fn settings(&self, env: &Environment) -> Result<RunSettings> {
        let (config, source) = self.scope.resolve(Some(&self.source), env)?;
        let fx = match &self.fx_rates {
            Some(path) => crate::fx::read_rates_file(path, config.fx.clone())?,
            None => config.fx.clone(),
        };
        Ok(RunSettings {
            fx,
            period: self.period,
            source,
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
            usage: !self.no_usage,
            issue_notes: self.issue_notes,
        })
    }
}

impl FetchArgs {
    /// Resolves the arguments, the configuration and the environment into fetch settings.
    pub fn settings(&self, env: &Environment) -> Result<FetchSettings> {
        let (_, source) = self.scope.resolve(None, env)?;
        Ok(FetchSettings {
            out: self.out.clone(),
            period: self.period.filter(|_| !self.no_usage),
            customers: self.scope.customers.clone(),
            source,
        })
    }
}

impl NumbersArgs {
    /// Resolves the arguments, the configuration and the environment into listing settings.
    pub fn settings(&self, env: &Environment) -> Result<NumbersSettings> {
        let (_, source) = self.scope.resolve(Some(&self.source), env)?;
        Ok(NumbersSettings {
            search: self.search.clone(),
            format: self.format,
            customers: self.scope.customers.clone(),
            source,
        })
    }
}

impl AuditArgs {
    /// Resolves the arguments, the configuration and the environment into audit settings.
    pub fn settings(&self, env: &Environment) -> Result<AuditSettings> {
        let (config, source) = self.scope.resolve(Some(&self.source), env)?;
        Ok(AuditSettings {
            source,
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
