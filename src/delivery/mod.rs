//! `didbill send`: delivery of the period's issued documents by email, a separate
//! and idempotent step after the run.
//!
//! Each document (an invoice, then the credit and debit notes of the period's
//! invoices, each note only once its invoice was accepted) becomes one message
//! ([`message`]) with its PDF attached as it is in the run's `pdf/` folder. Before a message is handed to the mail server
//! ([`smtp`]) its attempt is recorded in the ledger's outbox as `sending`; the
//! server's reply then makes it `accepted` (2xx) or `failed`. A re-run sends what
//! has no accepted attempt, so a crash loses nothing and at most the messages in
//! flight go twice.

pub mod message;
pub mod outbox;
pub mod smtp;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use didbill_core::period::Period;
use lettre::message::Mailbox;
use tokio::task::JoinSet;
use vobiz::fetch::Scope;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::location::LedgerLocation;
use crate::ledger::Ledger;
use crate::source::SourceSettings;
use crate::text::for_terminal;
use message::{Document, Envelope, Prepared, Templates};
use outbox::{Attempt, Kind, LedgerOutbox, Outbox, Outcome, State};

/// What `send` does with the messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Hand them to the `[smtp]` server and record the replies.
    Send,
    /// Print what would be sent to whom; connect to nothing, record nothing.
    DryRun,
    /// Write each message as `DIR/<number>.eml`; connect to nothing, record nothing.
    Eml(PathBuf),
    /// Print the outbox of the period.
    Status,
}

/// Everything `didbill send` needs, resolved once.
pub struct SendSettings {
    /// The period whose documents go out.
    pub period: Period,
    /// Only these customers (empty: all).
    pub customers: Vec<String>,
    /// What to do.
    pub mode: Mode,
    /// Send documents already accepted again.
    pub resend: bool,
    /// The ledger.
    pub ledger: LedgerLocation,
    /// The run's output folder holding `pdf/` (default: the folder of the period's
    /// last run recorded in the ledger).
    pub out: Option<PathBuf>,
    /// Templates folder with `email/`.
    pub templates: Option<PathBuf>,
    /// The configuration.
    pub config: Config,
    /// Where the accounts (their emails) are read.
    pub source: SourceSettings,
    /// The SMTP password from the environment.
    pub password: Option<String>,
}

/// The outcome of one document.
#[derive(Debug)]
pub struct Line {
    /// The document's number.
    pub number: String,
    /// Whom it went (or would go) to.
    pub recipients: String,
    /// Accepted (or written, or would be sent).
    pub ok: bool,
    /// The server's reply, the file written, or why it was not sent.
    pub detail: String,
}

/// What `send` did.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per document considered, in number order.
    pub lines: Vec<Line>,
    /// Documents skipped because they were accepted before (no `--resend`).
    pub already_accepted: usize,
    /// Printed instead of the lines (`--status`).
    pub status: Option<String>,
    /// What the lines say: sent, would send, wrote.
    pub verb: &'static str,
}

impl Report {
    /// The report as printed on stdout.
    pub fn text(&self) -> String {
        if let Some(status) = &self.status {
            return status.clone();
        }
        let mut out = String::new();
        for line in &self.lines {
            let (head, rest) = if line.ok {
                (
                    self.verb,
                    format!(" to {}: {}", line.recipients, line.detail),
                )
            } else {
                ("not sent", format!(": {}", line.detail))
            };
            out.push_str(&for_terminal(&format!("{head} {}{rest}", line.number)));
            out.push('\n');
        }
        let failed = self.lines.iter().filter(|l| !l.ok).count();
        out.push_str(&format!(
            "{} {}, {failed} not sent, {} accepted before\n",
            self.lines.len() - failed,
            self.verb,
            self.already_accepted
        ));
        out
    }

    /// Exit 6 when a document was not sent.
    pub fn verdict(&self) -> Result<()> {
        match self.lines.iter().filter(|l| !l.ok).count() {
            0 => Ok(()),
            n => Err(Error::NotSent(n)),
        }
    }
}

/// Runs `didbill send`.
pub fn execute(settings: &SendSettings) -> Result<Report> {
    // Sending writes the outbox; an existing file is opened for writing (a missing
    // one is refused by `open_existing`, which says how to make one).
    let mut ledger = match (&settings.ledger, &settings.mode) {
        (LedgerLocation::File(path), Mode::Send) if path.exists() => Ledger::open_file(path)?,
        (location, _) => Ledger::open_existing(location)?,
    };
    let path = ledger.path().to_path_buf();
    let in_scope = |customer: &str| {
        settings.customers.is_empty() || settings.customers.iter().any(|c| c == customer)
    };
    // A cancelled invoice is no longer a document to deliver; its notes cannot exist.
    let invoices: Vec<Document> = ledger
        .invoices(Some(settings.period), None)?
        .iter()
        .filter(|i| in_scope(&i.customer_id) && i.status != "cancelled")
        .map(Document::invoice)
        .collect();
    let notes: Vec<Document> = ledger
        .period_notes(settings.period)?
        .iter()
        .filter(|n| in_scope(&n.customer_id))
        .map(Document::note)
        .collect();
    let documents: Vec<(Kind, &str)> = invoices
        .iter()
        .chain(&notes)
        .map(|d| (d.kind, d.number.as_str()))
        .collect();
    let mut outbox = LedgerOutbox::new(&mut ledger);
    let attempts = outbox.attempts(&documents)?;
    if settings.mode == Mode::Status {
        return Ok(Report {
            status: Some(status(&attempts)),
            ..Report::default()
        });
    }
    let run_dir = match &settings.out {
        Some(dir) => dir.clone(),
        None => match outbox.run_folder(&settings.period.to_string())? {
            Some(dir) => PathBuf::from(dir),
            None if invoices.is_empty() => PathBuf::new(),
            None => {
                return Err(Error::Usage(format!(
                    "the ledger {} records no finished run of {}; pass --out with the \
                     folder holding its pdf/",
                    path.display(),
                    settings.period
                )))
            }
        },
    };
    let smtp = &settings.config.smtp;
    let seller = &settings.config.seller;
    let from_text = smtp.from.clone().unwrap_or_else(|| seller.email.clone());
    let from = message::mailbox("smtp.from", Some(&seller.name), &from_text)
        .or_else(|_| message::mailbox("smtp.from", None, &from_text))
        .map_err(|m| config_error(&format!("{m}; set [smtp] from or [seller] email")))?;
    let reply_to = configured_mailbox("smtp.reply_to", smtp.reply_to.as_deref())?;
    let bcc = configured_mailbox("smtp.bcc", smtp.bcc.as_deref())?;
    let domain = from.email.domain().to_owned();
    let mut by_document: BTreeMap<(Kind, String), Vec<&Attempt>> = BTreeMap::new();
    for a in &attempts {
        by_document
            .entry((a.kind, a.number.clone()))
            .or_default()
            .push(a);
    }
    let delivery = Delivery {
        settings,
        templates: Templates::load(settings.templates.as_deref())?,
        envelope: Envelope {
            from: &from,
            reply_to: reply_to.as_ref(),
            bcc: bcc.as_ref(),
            seller,
            domain: &domain,
        },
        emails: account_emails(settings)?,
        run_dir,
        attempts: by_document,
    };
    let mut report = Report {
        verb: match settings.mode {
            Mode::DryRun => "would send",
            Mode::Eml(_) => "wrote",
            _ => "sent",
        },
        ..Report::default()
    };
    delivery.deliver(
        &invoices.iter().collect::<Vec<_>>(),
        &mut outbox,
        &mut report,
    )?;
    // A note goes after its invoice: the customer reads the invoice first, and a
    // note about an invoice they never received would only confuse them.
    let delivered: Vec<&str> = invoices
        .iter()
        .filter(|i| {
            delivery.accepted(i).is_some()
                || report.lines.iter().any(|l| l.ok && l.number == i.number)
        })
        .map(|i| i.number.as_str())
        .collect();
    let (ready, held): (Vec<&Document>, Vec<&Document>) = notes.iter().partition(|n| {
        n.note_of
            .as_ref()
            .is_some_and(|of| delivered.contains(&of.invoice_number.as_str()))
    });
    for note in held {
        let invoice = note.note_of.as_ref().map_or("", |of| &of.invoice_number);
        report.lines.push(Line {
            number: note.number.clone(),
            recipients: String::new(),
            ok: false,
            detail: format!(
                "its invoice {invoice} has not gone to the customer yet; the note follows \
                 it in the `didbill send` that delivers it"
            ),
        });
    }
    delivery.deliver(&ready, &mut outbox, &mut report)?;
    let order: BTreeMap<&str, usize> = documents
        .iter()
        .enumerate()
        .map(|(i, (_, n))| (*n, i))
        .collect();
    report
        .lines
        .sort_by_key(|l| order.get(l.number.as_str()).copied());
    Ok(report)
}

/// What every document's delivery needs, resolved once.
struct Delivery<'a> {
    settings: &'a SendSettings,
    templates: Templates,
    envelope: Envelope<'a>,
    emails: BTreeMap<String, Option<String>>,
    run_dir: PathBuf,
    attempts: BTreeMap<(Kind, String), Vec<&'a Attempt>>,
}

impl Delivery<'_> {
    /// The attempts at `document` so far, oldest first.
    fn attempts_at(&self, document: &Document) -> &[&Attempt] {
        self.attempts
            .get(&(document.kind, document.number.clone()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The last attempt at `document` the server accepted, if any.
    fn accepted(&self, document: &Document) -> Option<&Attempt> {
        self.attempts_at(document)
            .iter()
            .rev()
            .find(|a| a.state == State::Accepted)
            .copied()
    }

    /// Sends (or lists, or writes) the `documents` not accepted before (all of them
    /// with `--resend`), adding a line per document to `report`.
    fn deliver(
        &self,
        documents: &[&Document],
        outbox: &mut dyn Outbox,
        report: &mut Report,
    ) -> Result<()> {
        let settings = self.settings;
        // The documents to hand over, each with its attempt number and the attempt
        // the server accepted before (a resend); their messages are built one at a
        // time as they go, so memory stays that of the messages in flight.
        let mut pending: Vec<(&Document, u32, Option<&Attempt>)> = Vec::new();
        for document in documents {
            let accepted = self.accepted(document);
            if accepted.is_some() && !settings.resend {
                report.already_accepted += 1;
                continue;
            }
            let attempt = self
                .attempts_at(document)
                .last()
                .map_or(1, |a| a.attempt + 1);
            pending.push((document, attempt, accepted));
        }
        if pending.is_empty() {
            return Ok(());
        }
        // Documents that cannot go (bad address, unreadable PDF), listed with the rest.
        let refused = RefCell::new(Vec::new());
        let mut ready = pending.iter().filter_map(|item| match self.prepare(item) {
            Ok(ready) => Some(ready),
            Err(reason) => {
                refused.borrow_mut().push(Line {
                    number: item.0.number.clone(),
                    recipients: String::new(),
                    ok: false,
                    detail: reason,
                });
                None
            }
        });
        match &settings.mode {
            Mode::DryRun => {
                for (p, a) in ready.by_ref() {
                    report.lines.push(Line {
                        number: a.number,
                        recipients: p.recipients,
                        ok: true,
                        detail: format!(
                            "{} ({} bytes), Message-ID {}",
                            p.attachment.display(),
                            p.attachment_len,
                            a.message_id
                        ),
                    });
                }
            }
            Mode::Eml(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("creating --eml-dir {}", dir.display()), e))?;
                for (p, a) in ready.by_ref() {
                    let file = dir.join(format!(
                        "{}.eml",
                        crate::render::pdf_model::file_stem(&a.number)
                    ));
                    std::fs::write(&file, p.message.formatted())
                        .map_err(|e| Error::io(format!("writing {}", file.display()), e))?;
                    report.lines.push(Line {
                        number: a.number,
                        recipients: p.recipients,
                        ok: true,
                        detail: file.display().to_string(),
                    });
                }
            }
            Mode::Send => send_all(settings, outbox, &mut ready, report)?,
            Mode::Status => unreachable!("answered before any delivery"),
        }
        drop(ready);
        report.lines.append(&mut refused.borrow_mut());
        Ok(())
    }

    /// The message of one pending document and the attempt that records it.
    fn prepare(
        &self,
        (document, attempt, accepted): &(&Document, u32, Option<&Attempt>),
    ) -> std::result::Result<(Prepared, Attempt), String> {
        let p = message::prepare(
            &self.templates,
            &self.envelope,
            document,
            self.emails
                .get(&document.customer_id)
                .and_then(|e| e.as_deref()),
            self.settings
                .config
                .delivery
                .customers
                .get(&document.customer_id),
            &self.run_dir,
            *attempt,
        )?;
        if let Some(a) = accepted.filter(|a| a.attachment_sha256 != p.attachment_sha256) {
            return Err(format!(
                "its PDF {} is not the file accepted in attempt {} ({}); the document was \
                 issued as sent, so restore that file (or send the new one deliberately by \
                 correcting the invoice with a credit or debit note)",
                p.attachment.display(),
                a.attempt,
                a.started_at
            ));
        }
        let a = Attempt {
            kind: document.kind,
            number: document.number.clone(),
            attempt: *attempt,
            message_id: message::message_id(&document.number, *attempt, self.envelope.domain),
            recipients: p.recipients.clone(),
            attachment_sha256: p.attachment_sha256.clone(),
            resend: accepted.is_some(),
            state: State::Sending,
            tries: 0,
            reply_code: None,
            reply_text: None,
            started_at: outbox::started_now(),
        };
        Ok((p, a))
    }
}

fn config_error(message: &str) -> Error {
    Error::Config {
        path: "[smtp]".into(),
        message: message.to_owned(),
    }
}

fn configured_mailbox(key: &str, value: Option<&str>) -> Result<Option<Mailbox>> {
    value
        .map(|v| message::mailbox(key, None, v).map_err(|m| config_error(&m)))
        .transpose()
}

/// The email of each account in scope, read from the source.
fn account_emails(settings: &SendSettings) -> Result<BTreeMap<String, Option<String>>> {
    let snapshot = settings.source.load(&Scope {
        customers: settings.customers.clone(),
        search: None,
    })?;
    Ok(snapshot
        .accounts
        .into_iter()
        .filter_map(|a| a.auth_id.map(|id| (id, a.email)))
        .collect())
}

/// Hands every prepared message to the server, `concurrency` at a time and at most
/// `max_per_minute`, recording each attempt before and after.
fn send_all(
    settings: &SendSettings,
    outbox: &mut dyn Outbox,
    ready: &mut dyn Iterator<Item = (Prepared, Attempt)>,
    report: &mut Report,
) -> Result<()> {
    let config = &settings.config.smtp;
    let Some(host) = config.host.clone() else {
        return Err(config_error(
            "host is not set; add [smtp] host = \"smtp.example.com\" (or use --dry-run or --eml-dir)",
        ));
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the mail sender", e))?;
    let spacing =
        (config.max_per_minute > 0).then(|| Duration::from_secs(60) / config.max_per_minute);
    // The pool lives and dies inside the runtime: lettre spawns its tasks on it.
    runtime.block_on(async {
        let transport = smtp::transport(config, &host, settings.password.as_deref())?;
        smtp::check(&transport, config, &host).await?;
        let mut running = JoinSet::new();
        let mut next = tokio::time::Instant::now();
        let mut done: Vec<(Attempt, String, Outcome)> = Vec::new();
        loop {
            let mut begun: Vec<(Prepared, Attempt)> = Vec::new();
            while running.len() + begun.len() < config.concurrency {
                match ready.next() {
                    Some(item) => begun.push(item),
                    None => break,
                }
            }
            // One transaction (one sync to disk) records the replies that came in
            // and the attempts about to start, before any of those is handed over.
            let finished: Vec<(&str, &Outcome)> = done
                .iter()
                .map(|(a, _, o)| (a.message_id.as_str(), o))
                .collect();
            let started: Vec<&Attempt> = begun.iter().map(|(_, a)| a).collect();
            // The PostgreSQL client blocks (it runs its own runtime): off the async
            // workers, while the others go on handing messages over.
            tokio::task::block_in_place(|| outbox.record(&finished, &started))?;
            for (a, recipients, outcome) in done.drain(..) {
                report.lines.push(line(a, recipients, &outcome));
            }
            for (p, a) in begun {
                if let Some(spacing) = spacing {
                    tokio::time::sleep_until(next).await;
                    next += spacing;
                }
                let transport = transport.clone();
                running.spawn(async move {
                    let outcome = smtp::deliver(&transport, &p.message).await;
                    (a, p.recipients, outcome)
                });
            }
            let Some(first) = running.join_next().await else {
                return Ok(());
            };
            done.push(joined(first)?);
            while let Some(more) = running.try_join_next() {
                done.push(joined(more)?);
            }
        }
    })
}

fn joined(
    done: std::result::Result<(Attempt, String, Outcome), tokio::task::JoinError>,
) -> Result<(Attempt, String, Outcome)> {
    done.map_err(|e| Error::Smtp(format!("a sending task stopped: {e}")))
}

/// The report line of a document the server answered for.
fn line(a: Attempt, recipients: String, outcome: &Outcome) -> Line {
    let reply = match outcome.reply_code {
        Some(code) => format!("{code} {}", outcome.reply_text),
        None => outcome.reply_text.clone(),
    };
    let tries = if outcome.tries > 1 {
        format!(" after {} tries", outcome.tries)
    } else {
        String::new()
    };
    let ok = outcome.state == State::Accepted;
    Line {
        number: a.number,
        detail: if ok {
            format!("{reply}{tries}")
        } else {
            format!("not accepted{tries}: {reply}; the next `didbill send` tries it again")
        },
        recipients,
        ok,
    }
}

/// The outbox as `send --status` prints it: one row per attempt.
fn status(attempts: &[Attempt]) -> String {
    let mut out = String::from("number\tattempt\tstate\ttries\treply\trecipients\tstarted_at\n");
    for a in attempts {
        let reply = match (a.reply_code, &a.reply_text) {
            (Some(code), Some(text)) => format!("{code} {text}"),
            (None, Some(text)) => text.clone(),
            _ => String::new(),
        };
        let fields = [
            a.number.clone(),
            format!("{}{}", a.attempt, if a.resend { " (resend)" } else { "" }),
            a.state.as_str().to_owned(),
            a.tries.to_string(),
            reply,
            a.recipients.clone(),
            a.started_at.clone(),
        ];
        // Each field escaped on its own: the tabs between them are the layout.
        let escaped: Vec<String> = fields
            .iter()
            .map(|f| for_terminal(f).into_owned())
            .collect();
        out.push_str(&escaped.join("\t"));
        out.push('\n');
    }
    out
}
