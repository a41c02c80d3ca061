//! One document's email: its recipients checked, its subject and body rendered from
//! the tera templates in `templates/email/` (or `--templates DIR/email/`), and the
//! PDF attached as it is on disk.

use std::path::{Path, PathBuf};

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use serde::Serialize;
use tera::{Context, Tera};

use super::outbox::Kind;
use crate::config::{Recipients, Seller};
use crate::error::{Error, Result};
use crate::ledger::report::InvoiceRecord;
use crate::ledger::store::NoteRecord;
use crate::render::{pdf_model, words};

/// The email templates: file name in `templates/email/` or `DIR/email/`, built-in
/// text. Invoices use `subject.txt` and `body.txt`, notes `note_subject.txt` and
/// `note_body.txt`.
const TEMPLATES: [(&str, &str); 4] = [
    (
        "subject.txt",
        include_str!("../../templates/email/subject.txt"),
    ),
    ("body.txt", include_str!("../../templates/email/body.txt")),
    (
        "note_subject.txt",
        include_str!("../../templates/email/note_subject.txt"),
    ),
    (
        "note_body.txt",
        include_str!("../../templates/email/note_body.txt"),
    ),
];

/// HTML bodies, used only when `DIR/email/` has them: the message then carries the
/// plain text and the HTML as alternatives. There is no built-in HTML, so a partner
/// who wants one designs it (and its escaping is tera's, on for `.html`).
const HTML_TEMPLATES: [&str; 2] = ["body.html", "note_body.html"];

/// The compiled subject and body templates.
pub struct Templates {
    tera: Tera,
    html: Vec<&'static str>,
}

impl Templates {
    /// Each template from `DIR/email/` when `dir` is given and the file exists, else
    /// the built-in text; the HTML bodies only from `DIR/email/`.
    pub fn load(dir: Option<&Path>) -> Result<Templates> {
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(Error::Usage(format!(
                "--templates {}: no such folder",
                dir.display()
            )));
        }
        let mut templates = Templates {
            tera: Tera::new(),
            html: Vec::new(),
        };
        let given = |name: &str| {
            dir.map(|d| d.join("email").join(name))
                .filter(|f| f.is_file())
        };
        for (name, builtin) in TEMPLATES {
            match given(name) {
                Some(file) => templates.add_file(name, &file)?,
                None => templates.add(name, builtin, None)?,
            }
        }
        for name in HTML_TEMPLATES {
            if let Some(file) = given(name) {
                templates.add_file(name, &file)?;
                templates.html.push(name);
            }
        }
        Ok(templates)
    }

    fn add_file(&mut self, name: &str, file: &Path) -> Result<()> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
        self.add(name, &text, Some(file))
    }

    fn add(&mut self, name: &str, text: &str, file: Option<&Path>) -> Result<()> {
        self.tera.add_raw_template(name, text).map_err(|e| {
            let shown = file.map_or(format!("templates/email/{name} (built-in)"), |f| {
                f.display().to_string()
            });
            Error::input(shown, format!("not a valid template: {}", tera_error(&e)))
        })
    }

    fn render(&self, name: &str, context: &Context) -> std::result::Result<String, String> {
        self.tera
            .render(name, context)
            .map_err(|e| format!("templates/email/{name}: {}", tera_error(&e)))
    }

    /// The HTML body `name`, when one was given.
    fn render_html(
        &self,
        name: &'static str,
        context: &Context,
    ) -> Option<std::result::Result<String, String>> {
        self.html
            .contains(&name)
            .then(|| self.render(name, context))
    }
}

/// Tera's message with its causes, which say which variable or filter failed.
fn tera_error(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Serialize)]
struct SellerContext<'a> {
    name: &'a str,
    address: &'a [String],
    gstin: &'a str,
    email: &'a str,
}

/// One document `send` delivers, as its message needs it: an invoice or a note.
#[derive(Clone, Debug)]
pub struct Document {
    /// Invoice, credit note or debit note.
    pub kind: Kind,
    /// Its number.
    pub number: String,
    /// Its date.
    pub date: String,
    /// When an invoice is due; none for a note.
    pub due_date: Option<String>,
    /// The invoiced period, `YYYY-MM` (a note's is its invoice's).
    pub period: String,
    /// The customer.
    pub customer_id: String,
    /// The customer's name as billed.
    pub customer_name: String,
    /// Its currency.
    pub currency: String,
    /// Its total.
    pub total: String,
    /// For a note: the invoice it corrects, that invoice's date, and the reason.
    pub note_of: Option<NoteOf>,
}

/// What a note's message says of the invoice it corrects.
#[derive(Clone, Debug)]
pub struct NoteOf {
    /// The invoice's number.
    pub invoice_number: String,
    /// The invoice's date.
    pub invoice_date: String,
    /// Why the note was issued.
    pub reason: String,
}

impl Document {
    /// The invoice `record`.
    pub fn invoice(record: &InvoiceRecord) -> Document {
        Document {
            kind: Kind::Invoice,
            number: record.invoice_number.clone(),
            date: record.invoice_date.clone(),
            due_date: Some(record.due_date.clone()),
            period: record.period.clone(),
            customer_id: record.customer_id.clone(),
            customer_name: record.customer_name.clone(),
            currency: record.currency.clone(),
            total: record.total.clone(),
            note_of: None,
        }
    }

    /// The note `record`.
    pub fn note(record: &NoteRecord) -> Document {
        Document {
            kind: Kind::of_note(record.kind),
            number: record.number.clone(),
            date: record.note_date.to_string(),
            due_date: None,
            period: record.period.clone(),
            customer_id: record.customer_id.clone(),
            customer_name: record.customer_name.clone(),
            currency: record.currency.clone(),
            total: record.total.clone(),
            note_of: Some(NoteOf {
                invoice_number: record.invoice_number.clone(),
                invoice_date: record.invoice_date.to_string(),
                reason: record.reason.clone(),
            }),
        }
    }

    /// The document's nature as its title says it.
    fn title(&self) -> &'static str {
        match self.kind {
            Kind::Invoice => "Invoice",
            Kind::CreditNote => "Credit Note",
            Kind::DebitNote => "Debit Note",
        }
    }
}

/// A message ready to go, and what the report and the outbox say about it.
pub struct Prepared {
    /// The message.
    pub message: Message,
    /// Every envelope recipient, comma-separated, for the report and the outbox.
    pub recipients: String,
    /// SHA-256 of the attached PDF, hex.
    pub attachment_sha256: String,
    /// The attached file.
    pub attachment: PathBuf,
    /// Its size in bytes.
    pub attachment_len: usize,
}

/// What the message of one document needs besides the document.
pub struct Envelope<'a> {
    /// The sender.
    pub from: &'a Mailbox,
    /// Where replies go.
    pub reply_to: Option<&'a Mailbox>,
    /// The archive copy.
    pub bcc: Option<&'a Mailbox>,
    /// The seller, for the templates.
    pub seller: &'a Seller,
    /// The domain of the Message-ID.
    pub domain: &'a str,
}

/// The deterministic `Message-ID` of `number`'s `attempt`-th delivery: a re-sent
/// message is a new one, the same attempt retried keeps its id.
pub fn message_id(number: &str, attempt: u32, domain: &str) -> String {
    format!("<{}.{attempt}@{domain}>", pdf_model::file_stem(number))
}

/// Why `text` cannot go in a header, if it cannot.
fn header_safe(what: &str, text: &str) -> std::result::Result<(), String> {
    if text
        .chars()
        .any(|c| c == '\r' || c == '\n' || c.is_control())
    {
        return Err(format!(
            "{what} {text:?} holds a line break or control character, which could forge \
             mail headers; correct it in the account"
        ));
    }
    Ok(())
}

/// A mailbox from a configured or account address, named `name` when given.
pub fn mailbox(
    what: &str,
    name: Option<&str>,
    email: &str,
) -> std::result::Result<Mailbox, String> {
    header_safe(what, email)?;
    if let Some(name) = name {
        header_safe("the customer name", name)?;
    }
    let address: Address = email.trim().parse().map_err(|_| {
        format!("{what} {email:?} is not a valid mailbox such as billing@example.com")
    })?;
    Ok(Mailbox::new(name.map(str::to_owned), address))
}

/// The recipients of `document`: `[delivery.customers]` `to` instead of the
/// account's email when given, and its `cc`.
fn recipients(
    document: &Document,
    account_email: Option<&str>,
    configured: Option<&Recipients>,
) -> std::result::Result<(Vec<Mailbox>, Vec<Mailbox>), String> {
    let name = Some(document.customer_name.as_str());
    let to: Vec<Mailbox> = match configured.filter(|r| !r.to.is_empty()) {
        Some(r) => {
            r.to.iter()
                .map(|e| mailbox("delivery.customers.to address", name, e))
                .collect::<std::result::Result<_, _>>()?
        }
        None => match account_email.map(str::trim).filter(|e| !e.is_empty()) {
            Some(email) => vec![mailbox("the account's email", name, email)?],
            None => {
                return Err(format!(
                    "the account {} has no email; set it in Vobiz or add \
                     [delivery.customers.\"{}\"] to = [\"…\"]",
                    document.customer_id, document.customer_id
                ))
            }
        },
    };
    let cc = configured
        .map(|r| r.cc.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|e| mailbox("delivery.customers.cc address", None, e))
        .collect::<std::result::Result<_, _>>()?;
    Ok((to, cc))
}

/// The month of `period` (`2026-11`) as people write it: November 2026.
fn period_name(period: &str) -> String {
    chrono::NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
        .map_or_else(|_| period.to_owned(), |d| d.format("%B %Y").to_string())
}

/// Builds the message of `document` (attempt `attempt`), or says why it cannot go:
/// no or a bad recipient, a missing PDF, a template that fails.
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    templates: &Templates,
    envelope: &Envelope,
    document: &Document,
    account_email: Option<&str>,
    configured: Option<&Recipients>,
    run_dir: &Path,
    attempt: u32,
) -> std::result::Result<Prepared, String> {
    let (to, cc) = recipients(document, account_email, configured)?;
    let attachment = run_dir.join(pdf_model::file_name(&document.number));
    let bytes = std::fs::read(&attachment).map_err(|e| {
        let again = match document.kind {
            Kind::Invoice => format!(
                "write it again with `didbill run --period {}` (same inputs give the same \
                 invoice)",
                document.period
            ),
            _ => format!(
                "the next `didbill run --period {}` or `didbill note` of the period writes \
                 the period's note PDFs again",
                document.period
            ),
        };
        format!(
            "its PDF {} cannot be read ({e}); {again}, or pass --out with the run's folder",
            attachment.display(),
        )
    })?;
    let total: rust_decimal::Decimal = document.total.parse().unwrap_or_default();
    let mut context = Context::new();
    context.insert("kind_title", document.title());
    context.insert("kind_label", &document.title().to_lowercase());
    context.insert("number", &document.number);
    context.insert("date", &document.date);
    context.insert("due_date", &document.due_date);
    context.insert("period", &document.period);
    context.insert("period_name", &period_name(&document.period));
    context.insert("customer_id", &document.customer_id);
    context.insert("customer_name", &document.customer_name);
    context.insert("currency", &document.currency);
    context.insert("total", &document.total);
    context.insert(
        "total_in_words",
        &words::amount_in_words(total, &document.currency),
    );
    if let Some(of) = &document.note_of {
        context.insert("invoice_number", &of.invoice_number);
        context.insert("invoice_date", &of.invoice_date);
        context.insert("reason", &of.reason);
    }
    context.insert(
        "seller",
        &SellerContext {
            name: &envelope.seller.name,
            address: &envelope.seller.address,
            gstin: &envelope.seller.gstin,
            email: &envelope.seller.email,
        },
    );
    let (subject_name, body_name, html_name) = match document.kind {
        Kind::Invoice => ("subject.txt", "body.txt", "body.html"),
        _ => ("note_subject.txt", "note_body.txt", "note_body.html"),
    };
    let subject = templates.render(subject_name, &context)?;
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = SinglePart::plain(templates.render(body_name, &context)?);
    let html = templates.render_html(html_name, &context).transpose()?;
    let mut builder = Message::builder()
        .from(envelope.from.clone())
        .subject(subject)
        .message_id(Some(message_id(&document.number, attempt, envelope.domain)));
    if let Some(reply_to) = envelope.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let mut listed = Vec::new();
    for m in &to {
        builder = builder.to(m.clone());
        listed.push(m.email.to_string());
    }
    for m in &cc {
        builder = builder.cc(m.clone());
        listed.push(m.email.to_string());
    }
    if let Some(bcc) = envelope.bcc {
        builder = builder.bcc(bcc.clone());
        listed.push(bcc.email.to_string());
    }
    let attachment_sha256 = hex_sha256(&bytes);
    let attachment_len = bytes.len();
    let pdf = ContentType::parse("application/pdf").expect("a valid MIME type");
    let attached =
        Attachment::new(format!("{}.pdf", pdf_model::file_stem(&document.number))).body(bytes, pdf);
    let parts = match html {
        Some(html) => MultiPart::mixed().multipart(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(SinglePart::html(html)),
        ),
        None => MultiPart::mixed().singlepart(text),
    }
    .singlepart(attached);
    let message = builder
        .multipart(parts)
        .map_err(|e| format!("the message cannot be built: {e}"))?;
    Ok(Prepared {
        message,
        recipients: listed.join(", "),
        attachment_sha256,
        attachment,
        attachment_len,
    })
}

/// SHA-256 of `bytes` in lowercase hex.
fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
