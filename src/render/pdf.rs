//! PDF tax invoices: one A4 document per invoice, drawn with printpdf.
//!
//! The *words* come from three tera templates in `templates/pdf/`, embedded in the
//! binary: `labels.txt` (title, labels, notes; its output is read as `key = value`
//! lines), `line.txt` (the description of one line) and `footer.txt` (the footer of
//! one page). A file of the same name in `DIR/pdf/`, with `--templates DIR`,
//! replaces the built-in one. Everything else (positions, fonts, sizes, page
//! breaks) is fixed here.
//!
//! Layout: seller block and title with the invoice facts on page 1, then the bill-to
//! block and the line table; the table flows onto further pages with its header
//! repeated; subtotal, taxes, round-off (printed only when it is not zero), total
//! and total in words follow the last line, kept together on one page; every page
//! has a "Page X of Y" footer. Long texts wrap by measured glyph advances.
//!
//! Fonts: DejaVu Sans (Latin, `₹`) and Noto Sans Devanagari, regular and bold,
//! embedded in the binary and parsed once per [`PdfRenderer`]. Each run of text is
//! set in the font of its script. A run of ASCII, `₹` and common punctuation (nearly
//! all text) uses a cut of DejaVu Sans made once per renderer and embedded whole,
//! already compressed; any other run uses the full face, subset into that PDF.
//! Devanagari runs are shaped with OpenType (printpdf's own shaping engine, azul-layout/allsorts): conjuncts,
//! half forms, reph and the pre-base `ि` come out as in a browser. Each shaped run
//! carries its logical text as `/ActualText`, so copy-paste and pdftotext return
//! it correctly; extractors that ignore `/ActualText` (pdf-extract) read the
//! glyphs' own text in visual order (`िक` for `कि`, the reph after its cluster).
//! Marks are placed as that engine's GPOS support places them. Scripts other than
//! Latin, Greek, Cyrillic (DejaVu) and Devanagari render as empty boxes.
//!
//! Output is deterministic: document dates come from the invoice date, the file
//! identifier from a hash of the invoice, and font resource names are fixed.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use azul_layout::text3::{
    cache::{BidiDirection, StyleProperties},
    default::shape_text_for_parsed_font,
    script::{Language, Script},
};
use chrono::NaiveDate;
use flate2::{write::ZlibEncoder, Compression};
use printpdf::{
    Codepoint, Color, DictItem, FontId, Greyscale, Line, LinePoint, OffsetDateTime, Op, PaintMode,
    ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage, PdfParseErrorSeverity,
    PdfSaveOptions, Point, Pt, Rect, TextItem, TextMatrix,
};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tera::{Context, Tera};

use super::words::{amount_in_words, format_indian, format_international};

/// A party on the invoice: the seller (partner) or the billed customer.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfParty {
    /// Legal or trade name, printed as given (any script).
    pub name: String,
    /// Postal address, one entry per printed line (long entries wrap).
    pub address_lines: Vec<String>,
    /// GSTIN; `None` prints "Unregistered" for the customer.
    pub gstin: Option<String>,
    /// Billing email address, if any.
    pub email: Option<String>,
}

/// One invoice line (one charge for one number).
#[derive(Debug, Clone, PartialEq)]
pub struct PdfLine {
    /// The number in E.164 (`+918045678901`); `None` for charges not tied to a number.
    pub e164: Option<String>,
    /// `"setup"`, `"rental"` or `"usage"` (other values print as themselves).
    pub charge: String,
    /// First day of service billed (inclusive).
    pub service_from: NaiveDate,
    /// Last day of service billed (inclusive).
    pub service_to: NaiveDate,
    /// Days billed (`None` for setup).
    pub billable_days: Option<u32>,
    /// Days in the period or cycle (`None` for setup).
    pub period_days: Option<u32>,
    /// The fee the line is computed from (monthly or setup fee), if meaningful.
    pub unit_amount: Option<Decimal>,
    /// The line amount, already rounded.
    pub amount: Decimal,
    /// For a usage line, the calls it bills.
    pub usage: Option<PdfUsage>,
}

/// The calls a usage line bills, for its description.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfUsage {
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Calls billed.
    pub calls: u64,
    /// Billable minutes with two decimals, e.g. `"31.25"`.
    pub billable_minutes: String,
}

/// Everything printed on one tax invoice; amounts are final (rounded) values.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfInvoice {
    /// Invoice number, e.g. `DID/26-27/00001`.
    pub number: String,
    /// Date of issue.
    pub invoice_date: NaiveDate,
    /// Payment due date.
    pub due_date: NaiveDate,
    /// Billing period as `YYYY-MM`.
    pub period: String,
    /// ISO 4217 code; `INR` prints `₹` and Indian digit grouping.
    pub currency: String,
    /// The partner issuing the invoice.
    pub seller: PdfParty,
    /// The customer billed.
    pub customer: PdfParty,
    /// GST state code of the place of supply (`"29"`; `"96"` abroad).
    pub place_of_supply_code: String,
    /// Name of the place of supply (`"Karnataka"`, `"Other Country"`).
    pub place_of_supply_name: String,
    /// SAC code of the service.
    pub sac: String,
    /// GST rate in percent (e.g. 18), split in halves for CGST/SGST.
    pub tax_rate: Decimal,
    /// `false` prints no tax rows at all.
    pub tax_enabled: bool,
    /// Export of services: zero-rated, printed with the export note.
    pub export: bool,
    /// Supplied within the seller's state: CGST and SGST rows, not IGST.
    pub intra_state: bool,
    /// The invoice lines in print order.
    pub lines: Vec<PdfLine>,
    /// Sum of the line amounts.
    pub subtotal: Decimal,
    /// Central GST amount.
    pub cgst: Decimal,
    /// State GST amount.
    pub sgst: Decimal,
    /// Integrated GST amount.
    pub igst: Decimal,
    /// Rounding to a whole unit (printed only when not zero).
    pub round_off: Decimal,
    /// Amount payable.
    pub total: Decimal,
}

/// Why a PDF could not be prepared or rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The wording template is invalid or failed to render.
    #[error("PDF template {file}: {message}")]
    Template {
        /// The template file (a path, or the built-in template's name).
        file: String,
        /// What is wrong, as tera reports it.
        message: String,
    },
    /// The templates folder or an override file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A bundled font could not be parsed (a broken build).
    #[error("bundled font {0} cannot be parsed")]
    Font(&'static str),
    /// The PDF could not be serialized.
    #[error("cannot write the PDF: {0}")]
    Write(String),
}

/// Renders [`PdfInvoice`]s to PDF bytes. Holds the parsed fonts and the compiled
/// template; it is `Sync`, so one renderer can serve a rayon parallel iterator.
pub struct PdfRenderer {
    faces: [Face; 4],
    core: [CoreFace; 2],
    tera: Tera,
    /// The file each template came from (also its name inside `tera`), in the
    /// order of [`TEMPLATES`].
    files: [String; 3],
}

/// The wording templates: file name in `templates/pdf/` or `DIR/pdf/`, built-in text.
const TEMPLATES: [(&str, &str); 3] = [
    ("labels.txt", include_str!("../../templates/pdf/labels.txt")),
    ("line.txt", include_str!("../../templates/pdf/line.txt")),
    ("footer.txt", include_str!("../../templates/pdf/footer.txt")),
];
const LABELS: usize = 0;
const LINE: usize = 1;
const FOOTER: usize = 2;

// ---------------------------------------------------------------- geometry (pt)
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 40.0;
const MARGIN_TOP: f32 = 40.0;
/// Lowest point (from the top) that content may reach; the footer sits below.
const CONTENT_BOTTOM: f32 = PAGE_H - 58.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const RIGHT_EDGE: f32 = PAGE_W - MARGIN_X;
const SELLER_W: f32 = 290.0;
const META_X: f32 = MARGIN_X + 305.0;
const BILL_TO_W: f32 = 330.0;
const TOTALS_W: f32 = 250.0;
const CELL_PAD_X: f32 = 4.0;
const CELL_PAD_Y: f32 = 4.0;
const LINE_SPACING: f32 = 1.3;
/// Table columns: (width, right-aligned); the description column takes the rest.
const COL_INDEX: (f32, bool) = (30.0, true);
const COL_NUMBER: (f32, bool) = (98.0, false);
const COL_PERIOD: (f32, bool) = (76.0, false);
const COL_DAYS: (f32, bool) = (32.0, true);
const COL_AMOUNT: (f32, bool) = (78.0, true);

const BLACK: f32 = 0.1;
const GREY: f32 = 0.4;
const RULE_GREY: f32 = 0.75;
const BAND_GREY: f32 = 0.92;

// ---------------------------------------------------------------- fonts

const FONT_FILES: [(&str, &[u8]); 4] = [
    (
        "DejaVuSans.ttf",
        include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    ),
    (
        "DejaVuSans-Bold.ttf",
        include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
    ),
    (
        "NotoSansDevanagari-Regular.ttf",
        include_bytes!("../../assets/fonts/NotoSansDevanagari-Regular.ttf"),
    ),
    (
        "NotoSansDevanagari-Bold.ttf",
        include_bytes!("../../assets/fonts/NotoSansDevanagari-Bold.ttf"),
    ),
];

/// Fixed resource names (their first six letters also tag the font subsets).
const FONT_IDS: [&str; 4] = ["DJVREG", "DJVBLD", "NDVREG", "NDVBLD"];
/// Resource names of the core cuts of DejaVu Sans regular and bold.
const CORE_IDS: [&str; 2] = ["DJVCOR", "DJVCOB"];

/// Characters of DejaVu Sans's core cut: printable ASCII, the rupee sign and common
/// punctuation, which cover nearly every invoice. (All of Latin-1 would add 10 KB
/// to every PDF; accented letters take the full face instead.)
fn in_core(c: char) -> bool {
    matches!(
        c as u32,
        0x20..=0x7E | 0xA0 | 0xB7 | 0xD7 | 0x2013 | 0x2014 | 0x2018..=0x201D | 0x2022 | 0x2026 | 0x20B9
    )
}

/// A bundled font, parsed once.
struct Face {
    font: ParsedFont,
    id: FontId,
    units_per_em: f32,
}

/// DejaVu Sans (regular or bold) cut down to [`in_core`] characters once per
/// renderer and embedded whole, already compressed. Subsetting and compressing a
/// font for every PDF was most of the cost of a PDF; a run of text with any other
/// character uses the full face, subset into that PDF as before.
struct CoreFace {
    font: PdfFont,
    id: FontId,
    /// The font program exactly as printpdf embeds it (to recognise its stream).
    program: Vec<u8>,
    /// `program` zlib-compressed at the best level.
    packed: Vec<u8>,
}

impl CoreFace {
    fn new(face: &Face, file: &'static str, bytes: &[u8], id: &str) -> Result<Self, PdfError> {
        use allsorts::{binary::read::ReadScope, font_data::FontData, subset, tag};
        // .notdef first, then the glyphs of the core characters, each once.
        let mut glyphs: Vec<u16> = (0..=0x20B9_u32)
            .filter_map(char::from_u32)
            .filter(|c| in_core(*c))
            .filter_map(|c| face.font.lookup_glyph_index(c as u32))
            .filter(|gid| *gid != 0)
            .collect();
        glyphs.sort_unstable();
        glyphs.dedup();
        glyphs.insert(0, 0);
        let font = ReadScope::new(bytes)
            .read::<FontData<'_>>()
            .map_err(|_| PdfError::Font(file))?;
        let provider = font.table_provider(0).map_err(|_| PdfError::Font(file))?;
        // The tables a PDF TrueType font program needs (ISO 32000 9.9), without the
        // `name` table that printpdf's profile keeps (15 KB of licence text).
        let tables = vec![
            tag::CMAP,
            tag::CVT,
            tag::FPGM,
            tag::GLYF,
            tag::HEAD,
            tag::HHEA,
            tag::HMTX,
            tag::LOCA,
            tag::MAXP,
            tag::POST,
            tag::PREP,
        ];
        let program = subset::subset(
            &provider,
            &glyphs,
            &subset::SubsetProfile::Custom(tables),
            subset::CmapTarget::Unicode,
        )
        .map_err(|_| PdfError::Font(file))?;
        let parsed =
            ParsedFont::from_bytes(&program, 0, &mut Vec::new()).ok_or(PdfError::Font(file))?;
        let meta = printpdf::PrintpdfFontMeta {
            embedding_mode: printpdf::FontEmbeddingMode::Full,
            requires_subsetting: false,
            ..Default::default()
        };
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&program).map_err(|_| PdfError::Font(file))?;
        let packed = z.finish().map_err(|_| PdfError::Font(file))?;
        Ok(CoreFace {
            font: PdfFont::with_meta(parsed, meta),
            id: FontId(id.to_string()),
            program,
            packed,
        })
    }
}

/// The script of a run of text, which picks its font (DejaVu Sans or Noto Sans
/// Devanagari).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RunScript {
    Latin,
    Devanagari,
}

/// How a piece of text is set: weight, size (pt) and grey level.
#[derive(Clone, Copy)]
struct Style {
    bold: bool,
    size: f32,
    grey: f32,
}

impl Style {
    const fn new(size: f32) -> Self {
        Style {
            bold: false,
            size,
            grey: BLACK,
        }
    }
    const fn bold(self) -> Self {
        Style { bold: true, ..self }
    }
    const fn grey(self) -> Self {
        Style { grey: GREY, ..self }
    }
    fn line_height(self) -> f32 {
        self.size * LINE_SPACING
    }
}

/// A glyph placed by the shaper, relative to the start of its run (pt).
struct PlacedGlyph {
    gid: u16,
    x: f32,
    y: f32,
    text: String,
}

fn is_devanagari(c: char) -> bool {
    matches!(c as u32, 0x0900..=0x097F | 0xA8E0..=0xA8FF | 0x1CD0..=0x1CFF)
}

/// Characters that belong to whichever script surrounds them.
fn is_neutral(c: char) -> bool {
    matches!(c, ' ' | '\u{00A0}' | '\u{200C}' | '\u{200D}')
}

/// Splits text into runs of one script each (spaces and joiners stay with the run
/// they are in).
fn script_runs(text: &str) -> Vec<(RunScript, &str)> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut current: Option<RunScript> = None;
    for (i, c) in text.char_indices() {
        if is_neutral(c) {
            continue;
        }
        let script = if is_devanagari(c) {
            RunScript::Devanagari
        } else {
            RunScript::Latin
        };
        match current {
            Some(s) if s != script => {
                runs.push((s, &text[start..i]));
                start = i;
                current = Some(script);
            }
            None => current = Some(script),
            _ => {}
        }
    }
    if start < text.len() {
        runs.push((current.unwrap_or(RunScript::Latin), &text[start..]));
    }
    runs
}

/// The characters a shaped glyph stands for (its text for copy-paste). The shaper
/// reports the first character and the byte length of the glyph's characters, and
/// a byte offset that is right unless glyphs were reordered (pre-base `ि`, reph);
/// then the nearest place in the run that starts with that character is taken.
fn glyph_source(text: &str, offset: usize, len: usize, first: char) -> String {
    let fits = |p: usize| {
        text.get(p..p + len)
            .filter(|s| s.starts_with(first))
            .map(str::to_string)
    };
    fits(offset)
        .or_else(|| {
            text.char_indices()
                .filter(|(_, c)| *c == first)
                .min_by_key(|(p, _)| p.abs_diff(offset))
                .and_then(|(p, _)| fits(p))
        })
        .unwrap_or_else(|| first.to_string())
}

/// May a line break fall before `c` inside a word that must be split? Not before
/// a combining sign and not after a virama or joiner (it would cut a cluster).
fn can_break_between(prev: char, c: char) -> bool {
    let combining = matches!(c as u32,
        0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963 | 0x200C..=0x200D);
    let joining = matches!(prev as u32, 0x094D | 0x200C..=0x200D);
    !combining && !joining
}

// ---------------------------------------------------------------- tera context

#[derive(Serialize)]
struct PartyCtx<'a> {
    name: &'a str,
    gstin: Option<&'a str>,
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct InvoiceCtx<'a> {
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
    intra_state: bool,
    line_count: usize,
    subtotal: String,
    total: String,
    total_in_words: String,
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

/// The words of one invoice, read from the output of `labels.txt`.
struct Words {
    labels: HashMap<&'static str, String>,
    notes: Vec<String>,
}

impl Words {
    fn get(&self, key: &str) -> &str {
        self.labels.get(key).map(String::as_str).unwrap_or("")
    }
}

fn display_date(d: NaiveDate) -> String {
    d.format("%d %b %Y").to_string()
}

fn display_period(period: &str) -> String {
    NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_else(|_| period.to_string())
}

/// `₹` for INR, else the currency code and a space.
fn currency_symbol(currency: &str) -> String {
    if currency.eq_ignore_ascii_case("INR") {
        "₹".to_string()
    } else {
        currency.to_string()
    }
}

/// An amount as printed in the table: Indian grouping for INR, international
/// grouping for other currencies, no sign.
fn plain_amount(amount: Decimal, currency: &str) -> String {
    if currency.eq_ignore_ascii_case("INR") {
        format_indian(amount)
    } else {
        format_international(amount)
    }
}

/// An amount with its currency: `₹1,23,456.78`, `-₹5.00`, `USD 1,234.00`.
fn money(amount: Decimal, currency: &str) -> String {
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

/// A phone number grouped for reading: `+91 80456 78901`, `+91 1800 123 4567`,
/// `+1 415 555 0123`; other numbers are printed as given.
fn group_phone(e164: &str) -> String {
    let Some(digits) = e164
        .strip_prefix('+')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    else {
        return e164.to_string();
    };
    if let Some(n) = digits.strip_prefix("91").filter(|n| n.len() == 10) {
        if n.starts_with("1800") || n.starts_with("1860") {
            return format!("+91 {} {} {}", &n[..4], &n[4..7], &n[7..]);
        }
        return format!("+91 {} {}", &n[..5], &n[5..]);
    }
    if let Some(n) = digits.strip_prefix('1').filter(|n| n.len() == 10) {
        return format!("+1 {} {} {}", &n[..3], &n[3..6], &n[6..]);
    }
    e164.to_string()
}

/// CGST + SGST (rather than IGST): decided by the amounts, and for an invoice
/// without tax amounts by the seller's GSTIN state matching the place of supply.
fn party_ctx(p: &PdfParty) -> PartyCtx<'_> {
    PartyCtx {
        name: &p.name,
        gstin: p.gstin.as_deref(),
        email: p.email.as_deref(),
    }
}

fn invoice_ctx(inv: &PdfInvoice) -> InvoiceCtx<'_> {
    InvoiceCtx {
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
        intra_state: inv.intra_state,
        line_count: inv.lines.len(),
        subtotal: money(inv.subtotal, &inv.currency),
        total: money(inv.total, &inv.currency),
        total_in_words: amount_in_words(inv.total, &inv.currency),
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
        gstin: Some("29ABCDE1234F1Z5".into()),
        email: Some("billing@example.com".into()),
    };
    PdfInvoice {
        number: "DRAFT-0001".into(),
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
    }
}

impl PdfRenderer {
    /// Parses the bundled fonts and compiles the wording template: the built-in
    /// one, or `DIR/pdf/invoice.txt` when `templates_dir` is `Some(DIR)` and that
    /// file exists. A template that does not parse or lacks a block is an error.
    pub fn new(templates_dir: Option<&Path>) -> Result<Self, PdfError> {
        let mut faces = Vec::with_capacity(4);
        for ((file, bytes), id) in FONT_FILES.iter().zip(FONT_IDS) {
            let font =
                ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or(PdfError::Font(file))?;
            let units_per_em = f32::from(font.font_metrics.units_per_em.max(1));
            faces.push(Face {
                font,
                id: FontId(id.to_string()),
                units_per_em,
            });
        }
        let faces: [Face; 4] = faces
            .try_into()
            .unwrap_or_else(|_| unreachable!("four fonts"));
        let core = [
            CoreFace::new(&faces[0], FONT_FILES[0].0, FONT_FILES[0].1, CORE_IDS[0])?,
            CoreFace::new(&faces[1], FONT_FILES[1].0, FONT_FILES[1].1, CORE_IDS[1])?,
        ];

        if let Some(dir) = templates_dir.filter(|d| !d.is_dir()) {
            return Err(PdfError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "templates folder not found",
                ),
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
            tera.add_raw_template(&file, &source)
                .map_err(|e| PdfError::Template {
                    file: file.clone(),
                    message: e.to_string(),
                })?;
            *slot = file;
        }
        let renderer = PdfRenderer {
            faces,
            core,
            tera,
            files,
        };
        // Render a sample so that a template missing a key or using an unknown
        // variable is reported now rather than in the middle of a run.
        let sample = sample_invoice();
        renderer.words(&sample)?;
        renderer.line_description(&sample, &sample.lines[0])?;
        let mut ctx = renderer.context(&sample)?;
        ctx.insert("page", &1);
        ctx.insert("pages", &1);
        renderer.render_template(FOOTER, &ctx)?;
        Ok(renderer)
    }

    /// Renders one invoice to the bytes of a PDF file (deterministic: the same
    /// invoice and template always give the same bytes).
    pub fn render(&self, invoice: &PdfInvoice) -> Result<Vec<u8>, PdfError> {
        let words = self.words(invoice)?;
        let descriptions = invoice
            .lines
            .iter()
            .map(|line| self.line_description(invoice, line))
            .collect::<Result<Vec<_>, _>>()?;

        let mut page = Canvas::new(self);
        layout(&mut page, invoice, &words, &descriptions);
        let (pages, fonts) = page.finish(self, invoice)?;

        let mut doc = PdfDocument::new(&format!("{} {}", words.get("title"), invoice.number));
        let date = invoice
            .invoice_date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp();
        let stamp = OffsetDateTime::from_unix_timestamp(date)
            .map_err(|e| PdfError::Write(e.to_string()))?;
        let info = &mut doc.metadata.info;
        info.creation_date = stamp;
        info.modification_date = stamp;
        info.metadata_date = stamp;
        info.author = invoice.seller.name.clone();
        info.creator = "didbill".into();
        info.producer = "didbill (printpdf)".into();
        info.subject = invoice.customer.name.clone();
        for (face, used) in self.faces.iter().zip(fonts.full) {
            if used {
                doc.resources
                    .fonts
                    .map
                    .insert(face.id.clone(), PdfFont::new(face.font.clone()));
            }
        }
        for (core, used) in self.core.iter().zip(fonts.core) {
            if used {
                doc.resources
                    .fonts
                    .map
                    .insert(core.id.clone(), core.font.clone());
            }
        }
        doc.with_pages(pages);

        let opts = PdfSaveOptions {
            optimize: true,
            subset_fonts: true,
            secure: true,
            image_optimization: None,
        };
        let mut warnings = Vec::new();
        let mut lopdf = doc.to_lopdf_document(&opts, &mut warnings);
        if let Some(w) = warnings
            .iter()
            .find(|w| w.severity == PdfParseErrorSeverity::Error)
        {
            return Err(PdfError::Write(w.msg.clone()));
        }
        // printpdf fills the file identifier from a process-wide counter; replace
        // it with a hash of the invoice so every render gives the same bytes.
        let digest = Sha256::digest(format!("{invoice:?}").as_bytes());
        let id: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        if let Ok(ids) = lopdf.trailer.get_mut(b"ID").and_then(|o| o.as_array_mut()) {
            for part in ids.iter_mut() {
                if let Ok(s) = part.as_str_mut() {
                    *s = id.clone().into_bytes();
                }
            }
        }
        // The core font cuts go in compressed once per renderer. Everything else
        // (page contents, per-document font subsets) at level 1: lopdf's own
        // `compress` always uses the slowest level, and level 1 costs a 10-line
        // invoice 0.9 KB (2%) and saves a third of its rendering time.
        for object in lopdf.objects.values_mut() {
            if let Ok(stream) = object.as_stream_mut() {
                if let Some(core) = self.core.iter().find(|c| c.program == stream.content) {
                    stream.dict.set("Filter", "FlateDecode");
                    stream.set_content(core.packed.clone());
                } else if stream.allows_compression && stream.dict.get(b"Filter").is_err() {
                    let mut z = ZlibEncoder::new(Vec::new(), Compression::new(1));
                    z.write_all(&stream.content)
                        .and_then(|()| z.finish())
                        .map(|packed| {
                            stream.dict.set("Filter", "FlateDecode");
                            stream.set_content(packed);
                        })
                        .map_err(|e| PdfError::Write(e.to_string()))?;
                }
            }
        }
        let mut bytes = Vec::new();
        lopdf
            .save_to(&mut bytes)
            .map_err(|e| PdfError::Write(e.to_string()))?;
        Ok(bytes)
    }

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
    fn context(&self, inv: &PdfInvoice) -> Result<Context, PdfError> {
        Context::from_serialize(&invoice_ctx(inv))
            .map_err(|e| self.template_error(LABELS, e.to_string()))
    }

    /// Renders `labels.txt` and reads its `key = value` lines.
    fn words(&self, inv: &PdfInvoice) -> Result<Words, PdfError> {
        let text = self.render_template(LABELS, &self.context(inv)?)?;
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
            let Some(known) = LABEL_KEYS.iter().find(|k| **k == key) else {
                return Err(self.template_error(
                    LABELS,
                    format!(
                        "unknown key `{key}` (known keys: note, {})",
                        LABEL_KEYS.join(", ")
                    ),
                ));
            };
            if labels.insert(*known, value).is_some() {
                return Err(self.template_error(LABELS, format!("key `{key}` is defined twice")));
            }
        }
        if let Some(missing) = LABEL_KEYS.iter().find(|k| !labels.contains_key(*k)) {
            return Err(self.template_error(LABELS, format!("key `{missing}` is missing")));
        }
        Ok(Words { labels, notes })
    }

    fn line_description(&self, inv: &PdfInvoice, line: &PdfLine) -> Result<String, PdfError> {
        let mut ctx = Context::new();
        ctx.insert("number", &inv.number);
        ctx.insert("currency", &inv.currency);
        ctx.insert("currency_symbol", &currency_symbol(&inv.currency));
        ctx.insert("line", &line_ctx(line, &inv.currency));
        self.render_template(LINE, &ctx)
    }

    fn face(&self, script: RunScript, bold: bool) -> usize {
        match (script, bold) {
            (RunScript::Latin, false) => 0,
            (RunScript::Latin, true) => 1,
            (RunScript::Devanagari, false) => 2,
            (RunScript::Devanagari, true) => 3,
        }
    }

    /// Advance width of a run set in one face without shaping (pt).
    fn plain_width(&self, face: usize, text: &str, size: f32) -> f32 {
        let f = &self.faces[face];
        let units: u32 = text
            .chars()
            .map(|c| {
                let gid = f.font.lookup_glyph_index(c as u32).unwrap_or(0);
                u32::from(f.font.get_horizontal_advance(gid))
            })
            .sum();
        units as f32 * size / f.units_per_em
    }

    /// Shapes a Devanagari run; `None` if the shaper fails (then it is drawn
    /// glyph by glyph).
    fn shape(&self, face: usize, text: &str, size: f32) -> Option<(Vec<PlacedGlyph>, f32)> {
        let style = StyleProperties {
            font_size_px: size,
            ..StyleProperties::default()
        };
        let glyphs = shape_text_for_parsed_font(
            self.faces[face].font.as_azul(),
            text,
            Script::Devanagari,
            Language::EnglishUS,
            BidiDirection::Ltr,
            &style,
        )
        .ok()?;
        let mut pen = 0.0;
        let mut placed = Vec::with_capacity(glyphs.len());
        for g in glyphs {
            placed.push(PlacedGlyph {
                gid: g.glyph_id,
                x: pen + g.offset.x,
                y: g.offset.y,
                text: glyph_source(text, g.logical_byte_index, g.logical_byte_len, g.codepoint),
            });
            pen += g.advance + g.kerning;
        }
        Some((placed, pen))
    }

    /// Width of text in a style, as it will be drawn (pt).
    fn width(&self, text: &str, style: Style) -> f32 {
        script_runs(text)
            .into_iter()
            .map(|(script, run)| {
                let face = self.face(script, style.bold);
                match script {
                    RunScript::Devanagari => match self.shape(face, run, style.size) {
                        Some((_, w)) => w,
                        None => self.plain_width(face, run, style.size),
                    },
                    RunScript::Latin => self.plain_width(face, run, style.size),
                }
            })
            .sum()
    }

    /// Wraps text into lines no wider than `max` (explicit newlines start new
    /// lines; a word longer than a line is split between characters). A line's
    /// width is the sum of its words' and spaces' widths, so each word is measured
    /// once.
    fn wrap(&self, text: &str, style: Style, max: f32) -> Vec<String> {
        // A space is set in the font of the text before it (see `script_runs`).
        let [latin_space, devanagari_space] = [RunScript::Latin, RunScript::Devanagari]
            .map(|script| self.plain_width(self.face(script, style.bold), " ", style.size));
        let space_after = |line: &str| match line.chars().next_back() {
            Some(c) if is_devanagari(c) => devanagari_space,
            _ => latin_space,
        };
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in paragraph.split_whitespace() {
                let word_w = self.width(word, style);
                if line.is_empty() && word_w <= max {
                    line.push_str(word);
                    line_w = word_w;
                    continue;
                }
                let space = space_after(&line);
                if !line.is_empty() && line_w + space + word_w <= max {
                    line.push(' ');
                    line.push_str(word);
                    line_w += space + word_w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if word_w <= max {
                    line = word.to_string();
                    line_w = word_w;
                } else {
                    let mut pieces = self.split_word(word, style, max);
                    line = pieces.pop().unwrap_or_default();
                    line_w = self.width(&line, style);
                    lines.extend(pieces);
                }
            }
            if !line.is_empty() || lines.is_empty() {
                lines.push(line);
            }
        }
        lines
    }

    fn split_word(&self, word: &str, style: Style, max: f32) -> Vec<String> {
        let mut pieces = Vec::new();
        let mut piece = String::new();
        let mut prev: Option<char> = None;
        for c in word.chars() {
            let breakable = prev.is_some_and(|p| can_break_between(p, c));
            let mut candidate = piece.clone();
            candidate.push(c);
            if breakable && !piece.is_empty() && self.width(&candidate, style) > max {
                pieces.push(std::mem::take(&mut piece));
            }
            piece.push(c);
            prev = Some(c);
        }
        pieces.push(piece);
        pieces
    }
}

// ---------------------------------------------------------------- drawing

/// Pages under construction; `y` runs downwards from the top of the page.
struct Canvas<'r> {
    renderer: &'r PdfRenderer,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    fonts: FontsUsed,
}

/// The fonts a document's text uses, which are the ones it embeds.
#[derive(Default, Clone, Copy)]
struct FontsUsed {
    /// Which of the renderer's `faces`.
    full: [bool; 4],
    /// Which of the renderer's `core` cuts.
    core: [bool; 2],
}

impl<'r> Canvas<'r> {
    fn new(renderer: &'r PdfRenderer) -> Self {
        Canvas {
            renderer,
            pages: Vec::new(),
            ops: Vec::new(),
            fonts: FontsUsed::default(),
        }
    }

    fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.ops));
    }

    fn fill(&mut self, grey: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale::new(grey, None)),
        });
    }

    /// One line of text whose line box starts at `top`.
    fn text(&mut self, x: f32, top: f32, text: &str, style: Style) {
        let baseline = PAGE_H - (top + style.size);
        self.fill(style.grey);
        let mut x = x;
        for (script, run) in script_runs(text) {
            let face = self.renderer.face(script, style.bold);
            let id = if script == RunScript::Latin && run.chars().all(in_core) {
                self.fonts.core[face] = true;
                &self.renderer.core[face].id
            } else {
                self.fonts.full[face] = true;
                &self.renderer.faces[face].id
            };
            let font = PdfFontHandle::External(id.clone());
            let shaped = match script {
                RunScript::Devanagari => self.renderer.shape(face, run, style.size),
                RunScript::Latin => None,
            };
            if shaped.is_some() {
                // Shaped glyphs are in visual order; /ActualText gives viewers that
                // support it (Acrobat, poppler) the logical text for copy-paste.
                let utf16: Vec<u8> = [0xFEFF_u16]
                    .into_iter()
                    .chain(run.encode_utf16())
                    .flat_map(u16::to_be_bytes)
                    .collect();
                self.ops.push(Op::BeginMarkedContentWithProperties {
                    tag: "Span".into(),
                    properties: DictItem::Dict {
                        map: [(
                            "ActualText".to_string(),
                            DictItem::String {
                                data: utf16,
                                literal: false,
                            },
                        )]
                        .into(),
                    },
                });
            }
            self.ops.push(Op::StartTextSection);
            self.ops.push(Op::SetFont {
                font,
                size: Pt(style.size),
            });
            let actual_text = shaped.is_some();
            match shaped {
                Some((glyphs, width)) => {
                    for g in glyphs {
                        self.ops.push(Op::SetTextMatrix {
                            matrix: TextMatrix::Translate(Pt(x + g.x), Pt(baseline + g.y)),
                        });
                        self.ops.push(Op::ShowText {
                            items: vec![TextItem::GlyphIds(vec![Codepoint::with_cid(
                                g.gid, 0.0, g.text,
                            )])],
                        });
                    }
                    x += width;
                }
                None => {
                    self.ops.push(Op::SetTextMatrix {
                        matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
                    });
                    self.ops.push(Op::ShowText {
                        items: vec![TextItem::Text(run.to_string())],
                    });
                    x += self.renderer.plain_width(face, run, style.size);
                }
            }
            self.ops.push(Op::EndTextSection);
            if actual_text {
                self.ops.push(Op::EndMarkedContent);
            }
        }
    }

    fn text_right(&mut self, right: f32, top: f32, text: &str, style: Style) {
        let w = self.renderer.width(text, style);
        self.text(right - w, top, text, style);
    }

    fn text_center(&mut self, center: f32, top: f32, text: &str, style: Style) {
        let w = self.renderer.width(text, style);
        self.text(center - w / 2.0, top, text, style);
    }

    /// Wrapped lines, left- or right-aligned in `[x, x + width]`; returns the
    /// height used.
    fn paragraph(
        &mut self,
        x: f32,
        top: f32,
        width: f32,
        text: &str,
        style: Style,
        right: bool,
    ) -> f32 {
        let lines = self.renderer.wrap(text, style, width);
        for (i, line) in lines.iter().enumerate() {
            let y = top + i as f32 * style.line_height();
            if right {
                self.text_right(x + width, y, line, style);
            } else {
                self.text(x, y, line, style);
            }
        }
        lines.len() as f32 * style.line_height()
    }

    fn hrule(&mut self, x0: f32, x1: f32, y: f32, grey: f32, thickness: f32) {
        self.ops.push(Op::SetOutlineColor {
            col: Color::Greyscale(Greyscale::new(grey, None)),
        });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        let point = |x: f32| LinePoint {
            p: Point {
                x: Pt(x),
                y: Pt(PAGE_H - y),
            },
            bezier: false,
        };
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![point(x0), point(x1)],
                is_closed: false,
            },
        });
    }

    fn band(&mut self, x: f32, top: f32, w: f32, h: f32, grey: f32) {
        self.fill(grey);
        let mut rect = Rect::from_xywh(Pt(x), Pt(PAGE_H - top - h), Pt(w), Pt(h));
        rect.mode = Some(PaintMode::Fill);
        self.ops.push(Op::DrawRectangle { rectangle: rect });
    }

    /// Closes the last page, adds "Page X of Y" footers and returns the pages with
    /// the fonts they use.
    fn finish(
        mut self,
        renderer: &PdfRenderer,
        inv: &PdfInvoice,
    ) -> Result<(Vec<PdfPage>, FontsUsed), PdfError> {
        self.new_page();
        let total = self.pages.len();
        let mut ctx = renderer.context(inv)?;
        ctx.insert("pages", &total);
        let style = Style::new(7.5).grey();
        let mut pages = Vec::with_capacity(total);
        for (i, ops) in std::mem::take(&mut self.pages).into_iter().enumerate() {
            ctx.insert("page", &(i + 1));
            let footer = renderer.render_template(FOOTER, &ctx)?;
            self.ops = ops;
            let top = CONTENT_BOTTOM + 22.0;
            self.hrule(MARGIN_X, RIGHT_EDGE, top - 5.0, RULE_GREY, 0.5);
            self.text_center(PAGE_W / 2.0, top, &footer, style);
            pages.push(PdfPage::new(
                printpdf::Mm(210.0),
                printpdf::Mm(297.0),
                std::mem::take(&mut self.ops),
            ));
        }
        Ok((pages, self.fonts))
    }
}

/// Column positions of the line table: (x, width, right-aligned).
fn columns() -> [(f32, f32, bool); 6] {
    let fixed = COL_INDEX.0 + COL_NUMBER.0 + COL_PERIOD.0 + COL_DAYS.0 + COL_AMOUNT.0;
    let widths = [
        COL_INDEX,
        COL_NUMBER,
        (CONTENT_W - fixed, false),
        COL_PERIOD,
        COL_DAYS,
        COL_AMOUNT,
    ];
    let mut x = MARGIN_X;
    widths.map(|(w, right)| {
        let col = (x, w, right);
        x += w;
        col
    })
}

/// The cells of one table row: lines of text per column, with their style.
type Cell = Vec<(String, Style)>;

fn cell_height(cell: &Cell) -> f32 {
    cell.iter().map(|(_, s)| s.line_height()).sum()
}

/// Wraps each (text, style) of a cell to the column width.
fn wrap_cell(r: &PdfRenderer, parts: &[(String, Style)], width: f32) -> Cell {
    parts
        .iter()
        .flat_map(|(text, style)| {
            r.wrap(text, *style, width - 2.0 * CELL_PAD_X)
                .into_iter()
                .map(move |l| (l, *style))
        })
        .collect()
}

fn draw_row(page: &mut Canvas, top: f32, cells: &[Cell; 6]) {
    for ((x, w, right), cell) in columns().into_iter().zip(cells) {
        let mut y = top + CELL_PAD_Y;
        for (line, style) in cell {
            if right {
                page.text_right(x + w - CELL_PAD_X, y, line, *style);
            } else {
                page.text(x + CELL_PAD_X, y, line, *style);
            }
            y += style.line_height();
        }
    }
}

fn header_cells(r: &PdfRenderer, words: &Words) -> [Cell; 6] {
    let style = Style::new(8.0).bold();
    let names = [
        "col_index",
        "col_number",
        "col_description",
        "col_period",
        "col_days",
        "col_amount",
    ];
    let cols = columns();
    std::array::from_fn(|i| wrap_cell(r, &[(words.get(names[i]).to_string(), style)], cols[i].1))
}

fn table_header(page: &mut Canvas, top: f32, cells: &[Cell; 6]) -> f32 {
    let height = cells_height(cells);
    page.band(MARGIN_X, top, CONTENT_W, height, BAND_GREY);
    draw_row(page, top, cells);
    height
}

/// Starts a continuation page; returns the first free y.
fn continuation(page: &mut Canvas, words: &Words) -> f32 {
    page.new_page();
    let style = Style::new(8.5).grey();
    MARGIN_TOP
        + page.paragraph(
            MARGIN_X,
            MARGIN_TOP,
            CONTENT_W,
            words.get("continued"),
            style,
            false,
        )
        + 6.0
}

/// A label and a value on one row, the value right-aligned and wrapped.
fn meta_row(page: &mut Canvas, top: f32, label: &str, value: &str, label_w: f32) -> f32 {
    let lstyle = Style::new(8.5).grey();
    let vstyle = Style::new(8.5).bold();
    let value_x = META_X + label_w + 6.0;
    let h1 = page.paragraph(META_X, top, label_w, label, lstyle, false);
    let h2 = page.paragraph(value_x, top, RIGHT_EDGE - value_x, value, vstyle, true);
    h1.max(h2) + 1.5
}

fn layout(page: &mut Canvas, inv: &PdfInvoice, words: &Words, descriptions: &[String]) {
    let r = page.renderer;
    let cur = &inv.currency;
    let body = Style::new(9.0);

    // Seller block (left).
    let mut left = MARGIN_TOP;
    left += page.paragraph(
        MARGIN_X,
        left,
        SELLER_W,
        &inv.seller.name,
        Style::new(13.0).bold(),
        false,
    );
    left += 2.0;
    for line in &inv.seller.address_lines {
        left += page.paragraph(MARGIN_X, left, SELLER_W, line, body, false);
    }
    if let Some(gstin) = &inv.seller.gstin {
        let text = format!("{}: {gstin}", words.get("gstin"));
        left += page.paragraph(MARGIN_X, left, SELLER_W, &text, body, false);
    }
    if let Some(email) = &inv.seller.email {
        let text = format!("{}: {email}", words.get("email"));
        left += page.paragraph(MARGIN_X, left, SELLER_W, &text, body, false);
    }

    // Title and invoice facts (right).
    let mut right = MARGIN_TOP;
    right += page.paragraph(
        META_X,
        right,
        RIGHT_EDGE - META_X,
        words.get("title"),
        Style::new(18.0).bold(),
        true,
    );
    right += 6.0;
    let rows = [
        ("invoice_number", inv.number.clone()),
        ("invoice_date", display_date(inv.invoice_date)),
        ("due_date", display_date(inv.due_date)),
        ("period", display_period(&inv.period)),
        (
            "place_of_supply_label",
            words.get("place_of_supply").to_string(),
        ),
        ("sac", inv.sac.clone()),
        (
            "reverse_charge_label",
            words.get("reverse_charge").to_string(),
        ),
    ];
    let lstyle = Style::new(8.5).grey();
    let label_w = rows
        .iter()
        .map(|(l, _)| r.width(words.get(l), lstyle))
        .fold(0.0, f32::max)
        .min(100.0);
    for (label, value) in &rows {
        right += meta_row(page, right, words.get(label), value, label_w);
    }

    let mut y = left.max(right) + 8.0;
    page.hrule(MARGIN_X, RIGHT_EDGE, y, RULE_GREY, 0.8);
    y += 10.0;

    // Bill-to block: may be long (customer data), so it breaks like the table.
    let mut bill_to: Vec<(String, Style)> = vec![(
        words.get("bill_to").to_string(),
        Style::new(8.5).bold().grey(),
    )];
    bill_to.push((inv.customer.name.clone(), Style::new(11.0).bold()));
    bill_to.extend(inv.customer.address_lines.iter().map(|l| (l.clone(), body)));
    let gstin = inv
        .customer
        .gstin
        .as_deref()
        .unwrap_or(words.get("unregistered"));
    bill_to.push((format!("{}: {gstin}", words.get("gstin")), body));
    if let Some(email) = &inv.customer.email {
        bill_to.push((format!("{}: {email}", words.get("email")), body));
    }
    for (text, style) in &bill_to {
        for line in r.wrap(text, *style, BILL_TO_W) {
            if y + style.line_height() > CONTENT_BOTTOM {
                y = continuation(page, words);
            }
            page.text(MARGIN_X, y, &line, *style);
            y += style.line_height();
        }
    }
    y += 12.0;

    // Line table.
    let header = header_cells(r, words);
    let header_h = cells_height(&header);
    let cols = columns();
    let cell = Style::new(8.5);
    let small = Style::new(7.5).grey();
    let mut header_due = true;
    for (i, (line, description)) in inv.lines.iter().zip(descriptions).enumerate() {
        let number_parts = match &line.e164 {
            Some(e164) => {
                let grouped = group_phone(e164);
                if grouped == *e164 {
                    vec![(e164.clone(), cell)]
                } else {
                    vec![(grouped, cell), (e164.clone(), small)]
                }
            }
            None => vec![("—".to_string(), cell)],
        };
        let period = if line.service_from == line.service_to {
            display_date(line.service_from)
        } else {
            format!(
                "{} – {}",
                display_date(line.service_from),
                display_date(line.service_to)
            )
        };
        let days = line
            .billable_days
            .map(|d| d.to_string())
            .unwrap_or_default();
        let cells: [Cell; 6] = [
            wrap_cell(r, &[((i + 1).to_string(), cell)], cols[0].1),
            wrap_cell(r, &number_parts, cols[1].1),
            wrap_cell(r, &[(description.clone(), cell)], cols[2].1),
            wrap_cell(r, &[(period, cell)], cols[3].1),
            wrap_cell(r, &[(days, cell)], cols[4].1),
            wrap_cell(r, &[(plain_amount(line.amount, cur), cell)], cols[5].1),
        ];
        let row_h = cells_height(&cells);
        let needed = row_h + if header_due { header_h } else { 0.0 };
        if y + needed > CONTENT_BOTTOM {
            y = continuation(page, words);
            header_due = true;
        }
        if header_due {
            y += table_header(page, y, &header);
            header_due = false;
        }
        draw_row(page, y, &cells);
        y += row_h;
        page.hrule(MARGIN_X, RIGHT_EDGE, y, RULE_GREY, 0.4);
    }
    if inv.lines.is_empty() {
        y += table_header(page, y, &header);
    }
    y += 10.0;

    // Totals, words and notes, kept together.
    let mut totals: Vec<(String, String, Style)> = vec![(
        words.get("subtotal").to_string(),
        money(inv.subtotal, cur),
        body,
    )];
    if inv.export {
        totals.push((
            words.get("zero_rated").to_string(),
            money(inv.igst, cur),
            body,
        ));
    } else if inv.tax_enabled {
        if inv.intra_state {
            totals.push((words.get("cgst").to_string(), money(inv.cgst, cur), body));
            totals.push((words.get("sgst").to_string(), money(inv.sgst, cur), body));
        } else {
            totals.push((words.get("igst").to_string(), money(inv.igst, cur), body));
        }
    }
    if !inv.round_off.is_zero() {
        totals.push((
            words.get("round_off").to_string(),
            money(inv.round_off, cur),
            body,
        ));
    }
    let total_style = Style::new(11.0).bold();
    let label_w = TOTALS_W * 0.55;
    let totals_x = RIGHT_EDGE - TOTALS_W;
    let row_height = |label: &str, style: Style| {
        r.wrap(label, style, label_w).len() as f32 * style.line_height() + 2.0
    };

    let words_label_style = Style::new(8.0).bold().grey();
    let in_words = amount_in_words(inv.total, cur);
    let note_style = Style::new(8.0).grey();
    let notes = &words.notes;

    let mut block_h: f32 = totals
        .iter()
        .map(|(l, _, s)| row_height(l, *s))
        .sum::<f32>()
        + 6.0
        + row_height(words.get("total"), total_style)
        + 12.0
        + r.wrap(words.get("in_words"), words_label_style, CONTENT_W)
            .len() as f32
            * words_label_style.line_height()
        + r.wrap(&in_words, body, CONTENT_W).len() as f32 * body.line_height();
    for note in notes {
        block_h +=
            6.0 + r.wrap(note, note_style, CONTENT_W).len() as f32 * note_style.line_height();
    }
    if y + block_h > CONTENT_BOTTOM {
        y = continuation(page, words);
    }
    for (label, value, style) in &totals {
        let h = row_height(label, *style);
        page.paragraph(totals_x, y, label_w, label, *style, false);
        page.text_right(RIGHT_EDGE - CELL_PAD_X, y, value, *style);
        y += h;
    }
    y += 2.0;
    page.hrule(totals_x, RIGHT_EDGE, y, BLACK, 0.8);
    y += 4.0;
    let h = row_height(words.get("total"), total_style);
    page.paragraph(totals_x, y, label_w, words.get("total"), total_style, false);
    page.text_right(
        RIGHT_EDGE - CELL_PAD_X,
        y,
        &money(inv.total, cur),
        total_style,
    );
    y += h + 12.0;
    y += page.paragraph(
        MARGIN_X,
        y,
        CONTENT_W,
        words.get("in_words"),
        words_label_style,
        false,
    );
    y += page.paragraph(MARGIN_X, y, CONTENT_W, &in_words, body, false);
    for note in notes {
        y += 6.0;
        y += page.paragraph(MARGIN_X, y, CONTENT_W, note, note_style, false);
    }
}

fn cells_height(cells: &[Cell; 6]) -> f32 {
    cells.iter().map(cell_height).fold(0.0, f32::max) + 2.0 * CELL_PAD_Y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_grouped_for_reading() {
        assert_eq!(group_phone("+918045678901"), "+91 80456 78901");
        assert_eq!(group_phone("+919876543210"), "+91 98765 43210");
        assert_eq!(group_phone("+9118001234567"), "+9118001234567");
        assert_eq!(group_phone("+911800123456"), "+91 1800 123 456");
        assert_eq!(group_phone("+14155550123"), "+1 415 555 0123");
        assert_eq!(group_phone("+442079460958"), "+442079460958");
        assert_eq!(group_phone("not a number"), "not a number");
        assert_eq!(group_phone("+"), "+");
    }

    #[test]
    fn text_is_split_into_script_runs() {
        assert_eq!(script_runs("Sharma"), vec![(RunScript::Latin, "Sharma")]);
        assert_eq!(
            script_runs("शर्मा ट्रेडर्स (Sharma)"),
            vec![
                (RunScript::Devanagari, "शर्मा ट्रेडर्स "),
                (RunScript::Latin, "(Sharma)")
            ]
        );
        assert_eq!(
            script_runs("Plot 12, नई दिल्ली"),
            vec![
                (RunScript::Latin, "Plot 12, "),
                (RunScript::Devanagari, "नई दिल्ली")
            ]
        );
        assert_eq!(script_runs("  "), vec![(RunScript::Latin, "  ")]);
        assert!(script_runs("").is_empty());
    }

    #[test]
    fn wrapped_lines_fit_their_width() {
        let r = PdfRenderer::new(None).unwrap();
        let style = Style::new(9.0);
        let text = "No. 14, 3rd Cross, Peenya Industrial Area Phase II, मकान नं. 12, \
                    गांधी मार्ग, श्रीनगर कॉलोनी, Bengaluru AVeryLongWordWithoutSpacesAtAll";
        for width in [40.0, 80.0, 150.0, 300.0] {
            let lines = r.wrap(text, style, width);
            assert!(lines.len() > 1);
            for line in &lines {
                assert!(
                    r.width(line, style) <= width + 0.01,
                    "{line:?} wider than {width}"
                );
            }
            let rejoined: String = lines.concat().split_whitespace().collect();
            let original: String = text.split_whitespace().collect();
            assert_eq!(rejoined, original, "wrapping lost text at width {width}");
        }
        assert_eq!(r.wrap("", style, 100.0), vec![String::new()]);
        assert_eq!(r.wrap("a\nb", style, 100.0), vec!["a", "b"]);
    }

    #[test]
    fn wrapping_by_word_widths_breaks_where_measuring_whole_lines_does() {
        let r = PdfRenderer::new(None).unwrap();
        // The reference: every candidate line measured whole, as it is drawn.
        let reference = |text: &str, style: Style, max: f32| {
            let mut lines = Vec::new();
            let mut line = String::new();
            for word in text.split_whitespace() {
                let candidate = match line.is_empty() {
                    true => word.to_string(),
                    false => format!("{line} {word}"),
                };
                if r.width(&candidate, style) <= max {
                    line = candidate;
                } else {
                    lines.push(std::mem::replace(&mut line, word.to_string()));
                }
            }
            lines.push(line);
            lines
        };
        let texts = [
            "मकान नं. 12, गांधी मार्ग, क्षेत्र 4, नई दिल्ली 110001 शर्मा ट्रेडर्स प्राइवेट लिमिटेड कार्यालय",
            "Sharma ट्रेडर्स (Private) Limited, प्लॉट 14, 3rd Cross, Peenya Industrial Area Phase II",
            "Monthly rental (₹1,250.00/month), 16 of 30 days — Société Générale, Zürich",
        ];
        let mut lines = 0;
        for text in texts {
            for max in [90.0, 110.0, 130.0, 150.0, 190.0, 230.0] {
                for style in [Style::new(9.0), Style::new(11.0).bold()] {
                    // (Words longer than a line are split, which the reference does not.)
                    if text.split_whitespace().any(|w| r.width(w, style) > max) {
                        continue;
                    }
                    let wrapped = r.wrap(text, style, max);
                    assert_eq!(wrapped, reference(text, style, max), "{text} in {max} pt");
                    lines += wrapped.len();
                }
            }
        }
        assert!(lines > 60, "the texts wrap ({lines} lines)");
    }

    #[test]
    fn devanagari_is_shaped_into_conjuncts() {
        let r = PdfRenderer::new(None).unwrap();
        // क्ष is one conjunct glyph in Noto Sans Devanagari, not क + ् + ष.
        let (glyphs, width) = r.shape(2, "क्ष", 10.0).expect("shapes");
        assert_eq!(glyphs.len(), 1, "conjunct not formed");
        assert_eq!(glyphs[0].text, "क्ष");
        assert!(width > 0.0);
        // The pre-base matra of कि is drawn first, and each glyph keeps its text.
        let (glyphs, _) = r.shape(2, "कि", 10.0).expect("shapes");
        assert_eq!(glyphs.len(), 2);
        assert_eq!(
            (glyphs[0].text.as_str(), glyphs[1].text.as_str()),
            ("ि", "क")
        );
        // Reph: र् is drawn above the end of the cluster.
        let (glyphs, _) = r.shape(2, "र्म", 10.0).expect("shapes");
        let texts: Vec<&str> = glyphs.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(texts, ["म", "र्"]);
    }

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
