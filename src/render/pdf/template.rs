//! The wording: the three tera templates, the context they see, and how the
//! values they print (dates, amounts, rates) are written.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use tera::{Context, Tera};

use super::{PdfError, PdfInvoice, PdfLine, PdfParty, PdfPayment, PdfRenderer, PdfSignatory};
use crate::render::words::{amount_in_words, format_indian, format_international};

/// The wording templates: file name in `templates/pdf/` or `DIR/pdf/`, built-in text.
const TEMPLATES: [(&str, &str); 3] = [
    (
        "labels.txt",
        include_str!("../../../templates/pdf/labels.txt"),
    ),
    ("line.txt", include_str!("../../../templates/pdf/line.txt")),
    (
        "footer.txt",
        include_str!("../../../templates/pdf/footer.txt"),
    ),
];
/// The name of the built-in `labels.txt` inside tera; it is always compiled, as
/// the wording of keys that an older user `labels.txt` does not define.
const BUILTIN_LABELS: &str = "templates/pdf/labels.txt (built-in)";
const LABELS: usize = 0;
const LINE: usize = 1;
const FOOTER: usize = 2;

/// Compiles the wording templates: each file of [`TEMPLATES`] from `DIR/pdf/` when
/// `templates_dir` is `Some(DIR)` and the file exists, else the built-in text.
/// Returns the templates and the file each came from (its name inside tera).
pub(super) fn load(templates_dir: Option<&Path>) -> Result<(Tera, [String; 3]), PdfError> {
    if let Some(dir) = templates_dir.filter(|d| !d.is_dir()) {
        return Err(PdfError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "templates folder not found"),
        });
    }
    let mut tera = Tera::new();
    let mut files: [String; 3] = Default::default();
    for (slot, (name, builtin)) in files.iter_mut().zip(TEMPLATES) {
        let path = templates_dir.map(|dir| dir.join("pdf").join(name));
        let (file, source) = match path.as_deref().map(std::fs::read_to_string) {
            Some(Ok(text)) => (path.unwrap_or_default().display().to_string(), text),
            Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(PdfError::Io {
                    path: path.unwrap_or_default(),
                    source: e,
                })
            }
            _ => (
                format!("templates/pdf/{name} (built-in)"),
                builtin.to_string(),
            ),
        };
        if name == TEMPLATES[LABELS].0 && file != BUILTIN_LABELS {
            tera.add_raw_template(BUILTIN_LABELS, builtin)
                .map_err(|e| PdfError::Template {
                    file: BUILTIN_LABELS.into(),
                    message: e.to_string(),
                })?;
        }
        tera.add_raw_template(&file, &source)
            .map_err(|e| PdfError::Template {
                file: file.clone(),
                message: e.to_string(),
            })?;
        *slot = file;
    }
    Ok((tera, files))
}

#[derive(Serialize)]
struct PartyCtx<'a> {
    name: &'a str,
    gstin: Option<&'a str>,
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct InvoiceCtx<'a> {
    draft: bool,
    number: &'a str,
    invoice_date: String,
    due_date: String,
    invoice_date_iso: String,
    due_date_iso: String,
    period: String,
    period_code: &'a str,
    currency: &'a str,
    currency_symbol: String,
    seller: PartyCtx<'a>,
    customer: PartyCtx<'a>,
    place_of_supply_code: &'a str,
    place_of_supply_name: &'a str,
    sac: &'a str,
    tax_rate: String,
    half_rate: String,
    tax_enabled: bool,
    export: bool,
    export_igst: bool,
    intra_state: bool,
    line_count: usize,
    subtotal: String,
    total: String,
    total_in_words: String,
    fx: Option<RupeesCtx>,
    note: Option<NoteCtx<'a>>,
}

#[derive(Serialize)]
struct NoteCtx<'a> {
    title: &'a str,
    original_number: &'a str,
    original_date: String,
    reason: &'a str,
}

#[derive(Serialize)]
struct RupeesCtx {
    rate: String,
    taxable_value: String,
    cgst: String,
    sgst: String,
    igst: String,
}

#[derive(Serialize)]
struct LineCtx<'a> {
    e164: Option<&'a str>,
    charge: &'a str,
    service_from: String,
    service_to: String,
    billable_days: Option<u32>,
    period_days: Option<u32>,
    unit_amount: Option<String>,
    unit_price: Option<String>,
    amount: String,
    direction: Option<&'a str>,
    calls: Option<u64>,
    billable_minutes: Option<&'a str>,
}

/// The keys `labels.txt` must define, each exactly once (plus any number of `note`).
const LABEL_KEYS: [&str; 29] = [
    "title",
    "continued",
    "invoice_number",
    "invoice_date",
    "due_date",
    "period",
    "place_of_supply_label",
    "place_of_supply",
    "sac",
    "reverse_charge_label",
    "reverse_charge",
    "gstin",
    "email",
    "unregistered",
    "bill_to",
    "col_index",
    "col_number",
    "col_description",
    "col_period",
    "col_days",
    "col_amount",
    "subtotal",
    "cgst",
    "sgst",
    "igst",
    "zero_rated",
    "round_off",
    "total",
    "in_words",
];

/// Keys `labels.txt` may define (at most once); one it leaves out takes the
/// built-in wording, so a `labels.txt` written before the key existed still works.
const OPTIONAL_LABEL_KEYS: [&str; 9] = [
    "draft_banner",
    "watermark",
    "payment_details",
    "bank_name",
    "bank_account",
    "ifsc",
    "upi_id",
    "for_seller",
    "signatory",
];

/// The words of one invoice, read from the output of `labels.txt`.
pub(super) struct Words {
    labels: HashMap<&'static str, String>,
    pub(super) notes: Vec<String>,
}

impl Words {
    /// The label of `key` (every key of [`LABEL_KEYS`] and
    /// [`OPTIONAL_LABEL_KEYS`] is present).
    pub(super) fn get(&self, key: &str) -> &str {
        self.labels.get(key).map(String::as_str).unwrap_or("")
    }
}

/// A date as printed: `01 Dec 2026`.
pub(super) fn display_date(d: NaiveDate) -> String {
    d.format("%d %b %Y").to_string()
}

/// A `YYYY-MM` period as printed: `November 2026` (or as given if it does not parse).
pub(super) fn display_period(period: &str) -> String {
    NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_else(|_| period.to_string())
}

/// `₹` for INR, else the currency code (for labels such as "Amount (USD)"; an
/// amount is printed with [`money`], which puts a space after a code).
fn currency_symbol(currency: &str) -> String {
    if currency.eq_ignore_ascii_case("INR") {
        "₹".to_string()
    } else {
        currency.to_string()
    }
}

/// An amount as printed in the table: Indian grouping for INR, international
/// grouping for other currencies, no sign.
pub(super) fn plain_amount(amount: Decimal, currency: &str) -> String {
    if currency.eq_ignore_ascii_case("INR") {
        format_indian(amount)
    } else {
        format_international(amount)
    }
}

/// An amount with its currency: `₹1,23,456.78`, `-₹5.00`, `USD 1,234.00`.
pub(super) fn money(amount: Decimal, currency: &str) -> String {
    let plain = plain_amount(amount, currency);
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", plain.as_str()),
    };
    if currency.eq_ignore_ascii_case("INR") {
        format!("{sign}₹{digits}")
    } else {
        format!("{sign}{currency} {digits}")
    }
}

/// A percentage without trailing zeros: 18 → "18", 2.5 → "2.5".
fn percent(rate: Decimal) -> String {
    rate.normalize().to_string()
}

fn party_ctx(p: &PdfParty) -> PartyCtx<'_> {
    PartyCtx {
        name: &p.name,
        gstin: p.gstin.as_deref(),
        email: p.email.as_deref(),
    }
}

fn invoice_ctx(inv: &PdfInvoice) -> InvoiceCtx<'_> {
    InvoiceCtx {
        draft: inv.draft,
        number: &inv.number,
        invoice_date: display_date(inv.invoice_date),
        due_date: display_date(inv.due_date),
        invoice_date_iso: inv.invoice_date.to_string(),
        due_date_iso: inv.due_date.to_string(),
        period: display_period(&inv.period),
        period_code: &inv.period,
        currency: &inv.currency,
        currency_symbol: currency_symbol(&inv.currency),
        seller: party_ctx(&inv.seller),
        customer: party_ctx(&inv.customer),
        place_of_supply_code: &inv.place_of_supply_code,
        place_of_supply_name: &inv.place_of_supply_name,
        sac: &inv.sac,
        tax_rate: percent(inv.tax_rate),
        half_rate: percent(inv.tax_rate / Decimal::TWO),
        tax_enabled: inv.tax_enabled,
        export: inv.export,
        export_igst: inv.export_igst,
        intra_state: inv.intra_state,
        line_count: inv.lines.len(),
        subtotal: money(inv.subtotal, &inv.currency),
        total: money(inv.total, &inv.currency),
        total_in_words: amount_in_words(inv.total, &inv.currency),
        fx: inv.rupees.as_ref().map(|r| RupeesCtx {
            rate: r.rate.to_string(),
            taxable_value: money(r.taxable_value, "INR"),
            cgst: money(r.cgst, "INR"),
            sgst: money(r.sgst, "INR"),
            igst: money(r.igst, "INR"),
        }),
        note: inv.note.as_ref().map(|n| NoteCtx {
            title: &n.title,
            original_number: &n.original_number,
            original_date: display_date(n.original_date),
            reason: &n.reason,
        }),
    }
}

fn line_ctx<'a>(line: &'a PdfLine, currency: &str) -> LineCtx<'a> {
    LineCtx {
        e164: line.e164.as_deref(),
        charge: &line.charge,
        service_from: display_date(line.service_from),
        service_to: display_date(line.service_to),
        billable_days: line.billable_days,
        period_days: line.period_days,
        unit_amount: line.unit_amount.map(|a| plain_amount(a, currency)),
        unit_price: line.unit_amount.map(|a| money(a, currency)),
        amount: plain_amount(line.amount, currency),
        direction: line.usage.as_ref().map(|u| u.direction.as_str()),
        calls: line.usage.as_ref().map(|u| u.calls),
        billable_minutes: line.usage.as_ref().map(|u| u.billable_minutes.as_str()),
    }
}

/// The invoice used to check a template when the renderer is created.
fn sample_invoice() -> PdfInvoice {
    let date = NaiveDate::from_ymd_opt(2026, 12, 1).expect("valid date");
    let party = PdfParty {
        name: "Sample".into(),
        address_lines: vec![],
        gstin: Some("29ABCDE1234F1ZW".into()),
        email: Some("billing@example.com".into()),
    };
    PdfInvoice {
        draft: false,
        number: "DID/26-27/00001".into(),
        invoice_date: date,
        due_date: date,
        period: "2026-11".into(),
        currency: "INR".into(),
        seller: party.clone(),
        customer: party,
        place_of_supply_code: "29".into(),
        place_of_supply_name: "Karnataka".into(),
        sac: "9984".into(),
        tax_rate: Decimal::from(18),
        tax_enabled: true,
        export: false,
        export_igst: false,
        intra_state: true,
        lines: vec![PdfLine {
            e164: Some("+918045678901".into()),
            charge: "rental".into(),
            service_from: date,
            service_to: date,
            billable_days: Some(16),
            period_days: Some(30),
            unit_amount: Some(Decimal::from(300)),
            amount: Decimal::from(160),
            usage: None,
        }],
        subtotal: Decimal::from(160),
        cgst: Decimal::ZERO,
        sgst: Decimal::ZERO,
        igst: Decimal::ZERO,
        round_off: Decimal::ZERO,
        total: Decimal::from(160),
        payment: PdfPayment::default(),
        signatory: PdfSignatory::default(),
        rupees: None,
        note: None,
    }
}

impl PdfRenderer {
    fn template_error(&self, which: usize, message: String) -> PdfError {
        PdfError::Template {
            file: self.files[which].clone(),
            message,
        }
    }

    fn render_template(&self, which: usize, ctx: &Context) -> Result<String, PdfError> {
        self.tera
            .render(&self.files[which], ctx)
            .map(|s| s.trim().to_string())
            .map_err(|e| self.template_error(which, e.to_string()))
    }

    /// The template context of an invoice (used by `labels.txt` and `footer.txt`).
    /// Checks every template against a sample invoice, so that a template missing a
    /// key or using an unknown variable is reported when the renderer is created
    /// rather than in the middle of a run.
    pub(super) fn check_templates(&self) -> Result<(), PdfError> {
        let sample = sample_invoice();
        self.words(&sample)?;
        let draft = PdfInvoice {
            draft: true,
            number: "DRAFT-0001".into(),
            ..sample.clone()
        };
        self.words(&draft)?;
        let note = PdfInvoice {
            number: "CN/26-27/00001".into(),
            note: Some(super::PdfNote {
                title: "Credit Note".into(),
                original_number: "DID/26-27/00001".into(),
                original_date: sample.invoice_date,
                reason: "Sample".into(),
            }),
            ..sample.clone()
        };
        self.words(&note)?;
        self.footers(&note, 1)?;
        self.line_description(&sample, &sample.lines[0])?;
        self.footers(&sample, 1)?;
        Ok(())
    }

    /// The footer of each of an invoice's `pages` pages, from `footer.txt`.
    pub(super) fn footers(&self, inv: &PdfInvoice, pages: usize) -> Result<Vec<String>, PdfError> {
        let mut ctx = self.context(inv)?;
        ctx.insert("pages", &pages);
        (1..=pages)
            .map(|page| {
                ctx.insert("page", &page);
                self.render_template(FOOTER, &ctx)
            })
            .collect()
    }

    fn context(&self, inv: &PdfInvoice) -> Result<Context, PdfError> {
        Context::from_serialize(&invoice_ctx(inv))
            .map_err(|e| self.template_error(LABELS, e.to_string()))
    }

    /// Renders `labels.txt` and reads its `key = value` lines; optional keys it
    /// leaves out come from the built-in `labels.txt`.
    pub(super) fn words(&self, inv: &PdfInvoice) -> Result<Words, PdfError> {
        let ctx = self.context(inv)?;
        let (mut labels, notes) = self.read_labels(&self.render_template(LABELS, &ctx)?)?;
        if let Some(missing) = LABEL_KEYS.iter().find(|k| !labels.contains_key(*k)) {
            return Err(self.template_error(LABELS, format!("key `{missing}` is missing")));
        }
        if OPTIONAL_LABEL_KEYS.iter().any(|k| !labels.contains_key(k)) {
            let builtin = self
                .tera
                .render(BUILTIN_LABELS, &ctx)
                .map_err(|e| self.template_error(LABELS, e.to_string()))?;
            for (key, value) in self.read_labels(&builtin)?.0 {
                labels.entry(key).or_insert(value);
            }
        }
        Ok(Words { labels, notes })
    }

    /// The labels and notes of a rendered `labels.txt`: every line `key = value`,
    /// each key known and defined at most once (`note` any number of times).
    fn read_labels(
        &self,
        text: &str,
    ) -> Result<(HashMap<&'static str, String>, Vec<String>), PdfError> {
        let mut labels = HashMap::new();
        let mut notes = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let Some((key, value)) = line.split_once('=') else {
                return Err(self
                    .template_error(LABELS, format!("output line {line:?} is not `key = value`")));
            };
            let (key, value) = (key.trim(), value.trim().to_string());
            if key == "note" {
                notes.push(value);
                continue;
            }
            let mut known_keys = LABEL_KEYS.iter().chain(&OPTIONAL_LABEL_KEYS);
            let Some(known) = known_keys.find(|k| **k == key) else {
                return Err(self.template_error(
                    LABELS,
                    format!(
                        "unknown key `{key}` (known keys: note, {}, {})",
                        LABEL_KEYS.join(", "),
                        OPTIONAL_LABEL_KEYS.join(", ")
                    ),
                ));
            };
            if labels.insert(*known, value).is_some() {
                return Err(self.template_error(LABELS, format!("key `{key}` is defined twice")));
            }
        }
        Ok((labels, notes))
    }

    /// The description of one line, from `line.txt`.
    pub(super) fn line_description(
        &self,
        inv: &PdfInvoice,
        line: &PdfLine,
    ) -> Result<String, PdfError> {
        let mut ctx = Context::new();
        ctx.insert("number", &inv.number);
        ctx.insert("currency", &inv.currency);
        ctx.insert("currency_symbol", &currency_symbol(&inv.currency));
        ctx.insert("line", &line_ctx(line, &inv.currency));
        self.render_template(LINE, &ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_carry_their_currency() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(money(d("123456.78"), "INR"), "₹1,23,456.78");
        assert_eq!(money(d("-5"), "INR"), "-₹5.00");
        assert_eq!(money(d("1234"), "USD"), "USD 1,234.00");
        assert_eq!(percent(d("18")), "18");
        assert_eq!(percent(d("18") / Decimal::TWO), "9");
        assert_eq!(percent(d("5") / Decimal::TWO), "2.5");
        assert_eq!(display_period("2026-11"), "November 2026");
        assert_eq!(display_period("bad"), "bad");
    }
}
