//! One document's email: its recipients checked, its subject and body rendered from
//! the tera templates in `templates/email/` (or `--templates DIR/email/`), and the
//! PDF attached as it is on disk.

use std::path::{Path, PathBuf};

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use serde::Serialize;
use tera::{Context, Tera};

use crate::config::{Recipients, Seller};
use crate::error::{Error, Result};
use crate::ledger::report::InvoiceRecord;
use crate::render::{pdf_model, words};

/// The email templates: file name in `templates/email/` or `DIR/email/`, built-in text.
const TEMPLATES: [(&str, &str); 2] = [
    (
        "subject.txt",
        include_str!("../../templates/email/subject.txt"),
    ),
    ("body.txt", include_str!("../../templates/email/body.txt")),
];

/// The compiled subject and body templates.
pub struct Templates(Tera);

impl Templates {
    /// Each template from `DIR/email/` when `dir` is given and the file exists, else
    /// the built-in text.
    pub fn load(dir: Option<&Path>) -> Result<Templates> {
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(Error::Usage(format!(
                "--templates {}: no such folder",
                dir.display()
            )));
        }
        let mut tera = Tera::new();
        for (name, builtin) in TEMPLATES {
            let file = dir.map(|d| d.join("email").join(name));
            let text = match file.as_deref().filter(|f| f.is_file()) {
                Some(f) => std::fs::read_to_string(f)
                    .map_err(|e| Error::io(format!("reading {}", f.display()), e))?,
                None => builtin.to_owned(),
            };
            tera.add_raw_template(name, &text).map_err(|e| {
                let shown = file.map_or(format!("templates/email/{name} (built-in)"), |f| {
                    f.display().to_string()
                });
                Error::input(shown, format!("not a valid template: {}", tera_error(&e)))
            })?;
        }
        Ok(Templates(tera))
    }

    fn render(&self, name: &str, context: &Context) -> std::result::Result<String, String> {
        self.0
            .render(name, context)
            .map_err(|e| format!("templates/email/{name}: {}", tera_error(&e)))
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

/// The recipients of `invoice`: `[delivery.customers]` `to` instead of the
/// account's email when given, and its `cc`.
fn recipients(
    invoice: &InvoiceRecord,
    account_email: Option<&str>,
    configured: Option<&Recipients>,
) -> std::result::Result<(Vec<Mailbox>, Vec<Mailbox>), String> {
    let name = Some(invoice.customer_name.as_str());
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
                    invoice.customer_id, invoice.customer_id
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

/// Builds the message of `invoice` (attempt `attempt`), or says why it cannot go:
/// no or a bad recipient, a missing PDF, a template that fails.
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    templates: &Templates,
    envelope: &Envelope,
    invoice: &InvoiceRecord,
    account_email: Option<&str>,
    configured: Option<&Recipients>,
    run_dir: &Path,
    attempt: u32,
) -> std::result::Result<Prepared, String> {
    let (to, cc) = recipients(invoice, account_email, configured)?;
    let attachment = run_dir.join(pdf_model::file_name(&invoice.invoice_number));
    let bytes = std::fs::read(&attachment).map_err(|e| {
        format!(
            "its PDF {} cannot be read ({e}); write it again with `didbill run --period {}` \
             (same inputs give the same invoice) or pass --out with the run's folder",
            attachment.display(),
            invoice.period
        )
    })?;
    let total: rust_decimal::Decimal = invoice.total.parse().unwrap_or_default();
    let mut context = Context::new();
    context.insert("kind_title", "Invoice");
    context.insert("kind_label", "invoice");
    context.insert("number", &invoice.invoice_number);
    context.insert("date", &invoice.invoice_date);
    context.insert("due_date", &invoice.due_date);
    context.insert("period", &invoice.period);
    context.insert("period_name", &period_name(&invoice.period));
    context.insert("customer_id", &invoice.customer_id);
    context.insert("customer_name", &invoice.customer_name);
    context.insert("currency", &invoice.currency);
    context.insert("total", &invoice.total);
    context.insert(
        "total_in_words",
        &words::amount_in_words(total, &invoice.currency),
    );
    context.insert(
        "seller",
        &SellerContext {
            name: &envelope.seller.name,
            address: &envelope.seller.address,
            gstin: &envelope.seller.gstin,
            email: &envelope.seller.email,
        },
    );
    let subject = templates.render("subject.txt", &context)?;
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = templates.render("body.txt", &context)?;
    let mut builder = Message::builder()
        .from(envelope.from.clone())
        .subject(subject)
        .message_id(Some(message_id(
            &invoice.invoice_number,
            attempt,
            envelope.domain,
        )));
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
    let message = builder
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body))
                .singlepart(
                    Attachment::new(format!(
                        "{}.pdf",
                        pdf_model::file_stem(&invoice.invoice_number)
                    ))
                    .body(bytes, pdf),
                ),
        )
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
