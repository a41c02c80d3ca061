//! The outbox: what was handed to the mail server, when, and what it replied.
//!
//! Storage is behind [`Outbox`] so that another ledger backend can keep it; the
//! SQLite ledger's implementation is [`SqliteOutbox`].

use std::path::Path;

use chrono::{SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::ledger::sql_error;
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
    fn attempts(&self, documents: &[(Kind, &str)]) -> Result<Vec<Attempt>>;
    /// Records, all or nothing, the outcomes of the attempts `finished` (by
    /// Message-ID) and the attempts `started` (state `sending`), before any of the
    /// started ones is handed over. One call is one sync to disk: `send` groups the
    /// replies that came in while the previous call was syncing.
    fn record(&mut self, finished: &[(&str, &Outcome)], started: &[&Attempt]) -> Result<()>;
}

/// The outbox table of an SQLite ledger.
pub struct SqliteOutbox<'a> {
    conn: &'a Connection,
    path: &'a Path,
}

impl<'a> SqliteOutbox<'a> {
    /// The outbox of the ledger open on `conn` at `path`.
    pub fn new(conn: &'a Connection, path: &'a Path) -> Self {
        SqliteOutbox { conn, path }
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Outbox for SqliteOutbox<'_> {
    fn attempts(&self, documents: &[(Kind, &str)]) -> Result<Vec<Attempt>> {
        let read = || -> rusqlite::Result<Vec<Attempt>> {
            let mut stmt = self.conn.prepare(
                "SELECT document_number, attempt, message_id, recipients, attachment_sha256,
                        resend, state, tries, reply_code, reply_text, started_at
                 FROM outbox WHERE document_kind = ?1 AND document_number = ?2
                 ORDER BY attempt",
            )?;
            let mut all = Vec::new();
            for (kind, number) in documents {
                let rows = stmt.query_map(params![kind.as_str(), number], |r| {
                    Ok(Attempt {
                        kind: *kind,
                        number: r.get(0)?,
                        attempt: r.get(1)?,
                        message_id: r.get(2)?,
                        recipients: r.get(3)?,
                        attachment_sha256: r.get(4)?,
                        resend: r.get::<_, i64>(5)? == 1,
                        state: State::parse(&r.get::<_, String>(6)?),
                        tries: r.get(7)?,
                        reply_code: r.get(8)?,
                        reply_text: r.get(9)?,
                        started_at: r.get(10)?,
                    })
                })?;
                for row in rows {
                    all.push(row?);
                }
            }
            Ok(all)
        };
        read().map_err(|e| sql_error(self.path, "reading the outbox", e))
    }

    fn record(&mut self, finished: &[(&str, &Outcome)], started: &[&Attempt]) -> Result<()> {
        let write = || -> rusqlite::Result<()> {
            let tx = self.conn.unchecked_transaction()?;
            for (message_id, o) in finished {
                tx.execute(
                    "UPDATE outbox SET state = ?2, tries = ?3, reply_code = ?4, reply_text = ?5,
                         finished_at = ?6
                     WHERE message_id = ?1",
                    params![
                        message_id,
                        o.state.as_str(),
                        o.tries,
                        o.reply_code,
                        o.reply_text,
                        now()
                    ],
                )?;
            }
            for a in started {
                tx.execute(
                    "INSERT INTO outbox (document_kind, document_number, attempt, message_id,
                         recipients, attachment_sha256, resend, state, started_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'sending', ?8)",
                    params![
                        a.kind.as_str(),
                        a.number,
                        a.attempt,
                        a.message_id,
                        a.recipients,
                        a.attachment_sha256,
                        i64::from(a.resend),
                        a.started_at
                    ],
                )?;
            }
            tx.commit()
        };
        write().map_err(|e| sql_error(self.path, "recording delivery attempts", e))
    }
}

/// The output folder of the last finished run of `period`, if any.
pub fn run_folder(conn: &Connection, path: &Path, period: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT out_dir FROM runs WHERE period = ?1 AND state = 'done' ORDER BY id DESC LIMIT 1",
        params![period],
        |r| r.get(0),
    )
    .optional()
    .map_err(|e| sql_error(path, "finding the period's run", e))
}

/// The time an attempt starts.
pub fn started_now() -> String {
    now()
}
