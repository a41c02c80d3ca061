//! The command line: parse the arguments ([`args`]), read the environment once,
//! resolve both with the configuration into a command's settings, run it, and turn
//! the outcome into an exit status.
//!
//! Everything a command prints on stdout goes through [`Stdout`]: a reader that
//! closes the pipe early (`didbill invoices list | head -1`) ends the printing
//! quietly, and the command exits with the status it would have had anyway (0, or 5
//! for `audit --fail-on-findings` with findings). A run has already committed its
//! ledger and outputs before it prints its summary.

pub mod args;

use std::io::{IsTerminal, Write};

use clap::FromArgMatches;

pub use args::{Cli, Command, InvoicesCommand, LedgerCommand};

use crate::audit;
use crate::delivery;
use crate::error::{Error, Result};
use crate::fetch;
use crate::ledger::{self, report, Ledger};
use crate::note;
use crate::numbers;
use crate::render::pdf_model;
use crate::run;
use crate::source::Environment;
use crate::text::for_terminal;

/// Standard output for a command's results, where a closed pipe is not an error.
pub struct Stdout(std::io::StdoutLock<'static>);

impl Stdout {
    /// The process's standard output.
    pub fn new() -> Stdout {
        Stdout(std::io::stdout().lock())
    }

    /// Writes `bytes` and flushes; a reader that went away (`| head`) is not a
    /// failure: the rest is dropped.
    pub fn print(&mut self, bytes: &[u8]) -> Result<()> {
        match self.0.write_all(bytes).and_then(|()| self.0.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Error::io("writing to stdout", e))
            }
            _ => Ok(()),
        }
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Stdout::new()
    }
}

/// Prints each warning on stderr, escaped for a terminal.
fn warn(prefix: &str, lines: &[String]) {
    for line in lines {
        eprintln!("{prefix}: {}", for_terminal(line));
    }
}

/// Runs the parsed command with the environment read at start.
pub fn dispatch(cli: &Cli, env: &Environment) -> Result<()> {
    let mut out = Stdout::new();
    match &cli.command {
        Command::Run(args) => {
            let report = run::execute(&args.settings(env)?)?;
            warn("warning", &report.summary.warnings);
            warn("note", &report.notes);
            out.print(report.text().as_bytes())
        }
        Command::Audit(args) => {
            let settings = args.settings(env)?;
            let report = audit::execute(&settings)?;
            warn("warning", &report.warnings);
            out.print(&audit::render(&report, settings.format))?;
            report.verdict(settings.fail_on_findings)
        }
        Command::Invoices(InvoicesCommand::List(args)) => {
            let mut ledger = Ledger::open_existing(&args.ledger)?;
            let records = ledger.invoices(args.period, args.customer.as_deref())?;
            out.print(report::list(&records, args.format).as_bytes())
        }
        Command::Invoices(InvoicesCommand::Show(args)) => {
            let mut ledger = Ledger::open_existing(&args.ledger)?;
            let (invoice, lines) = find_invoice(&mut ledger, &args.number)?;
            let notes = ledger.invoice_notes(&invoice.invoice_number)?;
            out.print(report::show(&invoice, &lines, &notes, args.format).as_bytes())
        }
        Command::Ledger(LedgerCommand::Verify(args)) => {
            let (text, failure) = ledger::verify::verify(&args.ledger)?;
            out.print(text.as_bytes())?;
            failure.map_or(Ok(()), Err)
        }
        Command::Ledger(LedgerCommand::Copy(args)) => {
            out.print(ledger::copy::copy(&args.from, &args.to)?.as_bytes())
        }
        Command::Invoices(InvoicesCommand::Cancel(args)) => {
            out.print(note::cancel(&args.ledger, &args.number, &args.reason)?.as_bytes())
        }
        Command::Note(command) => {
            let settings = command.settings()?;
            let (line, warnings) = note::issue(&settings)?;
            warn("warning", &warnings);
            out.print(line.as_bytes())
        }
        Command::Fetch(args) => {
            let report = fetch::execute(&args.settings(env)?)?;
            warn("warning", &report.warnings);
            out.print(report.summary.as_bytes())
        }
        Command::Send(args) => {
            let report = delivery::execute(&args.settings(env)?)?;
            out.print(report.text().as_bytes())?;
            report.verdict()
        }
        Command::Numbers(args) => {
            let (listing, warnings) = numbers::execute(&args.settings(env)?)?;
            warn("warning", &warnings);
            out.print(&listing)
        }
        Command::Gstr1(args) => {
            let report = crate::returns::gstr1::execute(&args.settings()?)?;
            warn("warning", &report.warnings);
            out.print(report.text.as_bytes())
        }
    }
}

/// The invoice `number` names: its number as issued, or the name of its PDF
/// (`DID-26-27-00001`, with or without `pdf/` and `.pdf`), which is what a user
/// holding the file has to hand.
fn find_invoice(
    ledger: &mut Ledger,
    number: &str,
) -> Result<(
    report::InvoiceRecord,
    Vec<crate::ledger::content::LineContent>,
)> {
    if let Some(found) = ledger.invoice(number)? {
        return Ok(found);
    }
    let stem = number.trim_start_matches("pdf/").trim_end_matches(".pdf");
    let matching: Vec<String> = ledger
        .invoices(None, None)?
        .into_iter()
        .map(|record| record.invoice_number)
        .filter(|issued| pdf_model::file_stem(issued) == stem)
        .collect();
    match matching.as_slice() {
        [issued] => Ok(ledger.invoice(issued)?.expect("listed by the same ledger")),
        [] => Err(Error::Data(format!(
            "invoice {number} is not in the ledger {}; `didbill invoices list` shows the numbers",
            ledger.path().display()
        ))),
        several => Err(Error::Data(format!(
            "{number} names the PDF of several invoices in the ledger {}: {}; \
             give the number as issued",
            ledger.path().display(),
            several.join(", ")
        ))),
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
    let cli = args::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .unwrap_or_else(|e| e.exit());
    init_logging();
    match dispatch(&cli, &Environment::from_process()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", for_terminal(&e.to_string()));
            e.exit_code()
        }
    }
}
