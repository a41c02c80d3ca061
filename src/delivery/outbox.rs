//! The outbox: what was handed to the mail server, when, and what it replied.
//!
//! Storage is behind [`Outbox`]; [`LedgerOutbox`] keeps it in the ledger's
//! `outbox` table, in a file or in PostgreSQL alike.

use chrono::{SecondsFormat, Utc};

use crate::error::Result;
use crate::ledger::Ledger;
use didbill_core::notes::NoteKind;

/// The kind of document delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A tax invoice (or bill of supply).
    Invoice,
    /// A credit note against an invoice.
    CreditNote,
    /// A debit note against an invoice.
    DebitNote,
}

impl Kind {
    /// The name stored in the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::CreditNote => "credit_note",
            Kind::DebitNote => "debit_note",
        }
    }

    /// The kind of a note.
    pub fn of_note(kind: NoteKind) -> Kind {
        match kind {
            NoteKind::Credit => Kind::CreditNote,
            NoteKind::Debit => Kind::DebitNote,
        }
    }
}

/// Where an attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Handed over, no reply recorded yet (or didbill stopped before it came).
    Sending,
    /// The server replied 2xx: it took responsibility for the message.
    Accepted,
    /// The server refused it, or it could not be handed over after retries.
    Failed,
}

impl State {
    /// The name stored in the outbox and printed by `--status`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Sending => "sending",
            State::Accepted => "accepted",
            State::Failed => "failed",
        }
    }

    fn parse(text: &str) -> State {
        match text {
            "accepted" => State::Accepted,
            "failed" => State::Failed,
            _ => State::Sending,
        }
    }
}

/// One attempt to deliver one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The kind of document.
    pub kind: Kind,
    /// The document's number as issued.
    pub number: String,
    /// 1 for the first attempt at this document, then 2, …
    pub attempt: u32,
    /// The message's `Message-ID`.
    pub message_id: String,
    /// Every envelope recipient, comma-separated.
    pub recipients: String,
    /// SHA-256 of the attached PDF.
    pub attachment_sha256: String,
    /// Whether `--resend` asked for it after an accepted attempt.
    pub resend: bool,
    /// Where it stands.
    pub state: State,
    /// How many times the message was handed over in this attempt (transient
    /// failures are retried).
    pub tries: u32,
    /// The server's last reply code, if it replied.
    pub reply_code: Option<u16>,
    /// The server's last reply text, or what went wrong.
    pub reply_text: Option<String>,
    /// When the attempt started (UTC, RFC 3339).
    pub started_at: String,
}

/// The final word on one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Accepted or failed.
    pub state: State,
    /// Times handed over.
    pub tries: u32,
    /// The last reply code.
    pub reply_code: Option<u16>,
    /// The last reply text or error.
    pub reply_text: String,
}

/// Storage of delivery attempts.
pub trait Outbox {
    /// Every attempt at the documents `documents` (kind and number), oldest first.
    fn attempts(&mut self, documents: &[(Kind, &str)]) -> Result<Vec<Attempt>>;
    /// Records, all or nothing, the outcomes of the attempts `finished` (by
    /// Message-ID) and the attempts `started` (state `sending`), before any of the
    /// started ones is handed over. One call is one sync to disk: `send` groups the
    /// replies that came in while the previous call was syncing.
    fn record(&mut self, finished: &[(&str, &Outcome)], started: &[&Attempt]) -> Result<()>;
}

/// The outbox table of a ledger, a file or a PostgreSQL database (the same table
/// and the same SQL on both).
pub struct LedgerOutbox<'a> {
    ledger: &'a mut Ledger,
}

impl<'a> LedgerOutbox<'a> {
    /// The outbox of `ledger`.
    pub fn new(ledger: &'a mut Ledger) -> Self {
        LedgerOutbox { ledger }
    }

    /// The output folder of the last finished run of `period`, if any.
    pub fn run_folder(&mut self, period: &str) -> Result<Option<String>> {
        let rows = self.ledger.rows(
            "finding the period's run",
            "SELECT out_dir FROM runs WHERE period = ?1 AND state = 'done' ORDER BY id DESC LIMIT 1",
            &[Some(period)],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `?N` as an integer parameter: sent as text, converted by the database.
fn integer(n: usize) -> String {
    format!("CAST(CAST(?{n} AS TEXT) AS BIGINT)")
}

impl Outbox for LedgerOutbox<'_> {
    fn attempts(&mut self, documents: &[(Kind, &str)]) -> Result<Vec<Attempt>> {
        let mut all = Vec::new();
        for (kind, number) in documents {
            let rows = self.ledger.rows(
                "reading the outbox",
                "SELECT document_number, attempt, message_id, recipients, attachment_sha256,
                        resend, state, tries, reply_code, reply_text, started_at
                 FROM outbox WHERE document_kind = ?1 AND document_number = ?2
                 ORDER BY attempt",
                &[Some(kind.as_str()), Some(number)],
            )?;
            for r in rows.iter() {
                all.push(Attempt {
                    kind: *kind,
                    number: r.text(0)?,
                    // Written from these types (see `record`).
                    attempt: r.int(1)? as u32,
                    message_id: r.text(2)?,
                    recipients: r.text(3)?,
                    attachment_sha256: r.text(4)?,
                    resend: r.flag(5)?,
                    state: State::parse(&r.text(6)?),
                    tries: r.int(7)? as u32,
                    reply_code: r.opt_text(8)?.and_then(|c| c.parse().ok()),
                    reply_text: r.opt_text(9)?,
                    started_at: r.text(10)?,
                });
            }
        }
        Ok(all)
    }

    fn record(&mut self, finished: &[(&str, &Outcome)], started: &[&Attempt]) -> Result<()> {
        let update = format!(
            "UPDATE outbox SET state = ?2, tries = {}, reply_code = {}, reply_text = ?5,
                 finished_at = ?6
             WHERE message_id = ?1",
            integer(3),
            integer(4)
        );
        let insert = format!(
            "INSERT INTO outbox (document_kind, document_number, attempt, message_id,
                 recipients, attachment_sha256, resend, state, started_at)
             VALUES (?1, ?2, {}, ?4, ?5, ?6, {}, 'sending', ?8)",
            integer(3),
            integer(7)
        );
        let finished_at = now();
        let statements = finished
            .iter()
            .map(|(message_id, o)| {
                let values = vec![
                    Some(message_id.to_string()),
                    Some(o.state.as_str().to_owned()),
                    Some(o.tries.to_string()),
                    o.reply_code.map(|c| c.to_string()),
                    Some(o.reply_text.clone()),
                    Some(finished_at.clone()),
                ];
                (update.as_str(), values)
            })
            .chain(started.iter().map(|a| {
                let values = vec![
                    Some(a.kind.as_str().to_owned()),
                    Some(a.number.clone()),
                    Some(a.attempt.to_string()),
                    Some(a.message_id.clone()),
                    Some(a.recipients.clone()),
                    Some(a.attachment_sha256.clone()),
                    Some(u8::from(a.resend).to_string()),
                    Some(a.started_at.clone()),
                ];
                (insert.as_str(), values)
            }))
            .collect::<Vec<_>>();
        self.ledger
            .execute_all("recording delivery attempts", &statements)
    }
}

/// The time an attempt starts.
pub fn started_now() -> String {
    now()
}
