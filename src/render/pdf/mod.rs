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
//! and total in words follow the last line, then the notes, the seller's payment
//! details (when set) and the signature block, all kept together on one page; every
//! page has a "Page X of Y" footer. Long texts wrap by measured glyph advances. A
//! draft (a dry run's) has a banner and a diagonal watermark on every page and no
//! payment details or signature block.
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
//! identifier from a hash of the invoice, font resource names are fixed, and each
//! font's subset tag comes from a hash of its font program.
//!
//! The parts: `fonts` loads the faces and the core cuts, `text` splits, shapes,
//! measures and wraps text, `template` holds the wording, `layout` places each
//! part of the invoice, and `draw` turns that into page operations; this file
//! holds the input model and assembles the document.

mod draw;
mod fonts;
mod layout;
mod page;
mod template;
mod text;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::{write::ZlibEncoder, Compression};
use lopdf::Object;
use printpdf::{
    OffsetDateTime, PdfDocument, PdfFont, PdfPage, PdfParseErrorSeverity, PdfSaveOptions,
};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use tera::Tera;

use draw::{Canvas, FontsUsed};
use fonts::{CoreFace, Face};
use template::Words;

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

/// How to pay the seller; a block under the totals when any is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PdfPayment {
    /// The bank's name (and branch).
    pub bank_name: Option<String>,
    /// The account number.
    pub bank_account: Option<String>,
    /// The branch's IFSC.
    pub ifsc: Option<String>,
    /// A UPI ID.
    pub upi_id: Option<String>,
}

impl PdfPayment {
    /// Whether no detail is set (then no payment block is printed).
    pub fn is_empty(&self) -> bool {
        [
            &self.bank_name,
            &self.bank_account,
            &self.ifsc,
            &self.upi_id,
        ]
        .iter()
        .all(|v| v.is_none())
    }
}

/// The person signing for the seller (CGST Rule 46(q)); the signature block is
/// printed on every invoice, with these lines when they are set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PdfSignatory {
    /// Name of the authorised signatory.
    pub name: Option<String>,
    /// Their title, e.g. "Director".
    pub title: Option<String>,
}

/// Everything printed on one tax invoice; amounts are final (rounded) values.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfInvoice {
    /// A dry run's draft (`DRAFT-0001`): titled and watermarked as a draft, with no
    /// payment request, payment details or signature block — it is not a tax invoice.
    pub draft: bool,
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
    /// An export on payment of IGST (`tax.export = "igst"`): an IGST row, not the
    /// zero-rated one, and the endorsement saying so.
    pub export_igst: bool,
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
    /// The seller's payment details.
    pub payment: PdfPayment,
    /// The seller's authorised signatory.
    pub signatory: PdfSignatory,
    /// The GST figures in rupees of an invoice in another currency.
    pub rupees: Option<PdfRupees>,
    /// Set when the document is a credit or debit note rather than an invoice:
    /// `number` and `invoice_date` are then the note's own.
    pub note: Option<PdfNote>,
}

/// What a credit or debit note prints besides an invoice's fields (Rule 53(1A)).
#[derive(Debug, Clone, PartialEq)]
pub struct PdfNote {
    /// The nature of the document: "Credit Note" or "Debit Note".
    pub title: String,
    /// The number of the invoice it corrects.
    pub original_number: String,
    /// That invoice's date.
    pub original_date: NaiveDate,
    /// Why it was issued.
    pub reason: String,
}

/// An invoice's exchange rate and its GST figures in rupees (CGST Rule 34).
#[derive(Debug, Clone, PartialEq)]
pub struct PdfRupees {
    /// Rupees per unit of the invoice currency.
    pub rate: Decimal,
    /// The taxable value in rupees.
    pub taxable_value: Decimal,
    /// Central GST in rupees.
    pub cgst: Decimal,
    /// State GST in rupees.
    pub sgst: Decimal,
    /// Integrated GST in rupees.
    pub igst: Decimal,
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
    /// order of `template::TEMPLATES`.
    files: [String; 3],
}

impl PdfRenderer {
    /// Parses the bundled fonts and compiles the wording templates: the built-in
    /// ones, or `labels.txt`, `line.txt` and `footer.txt` from `DIR/pdf/` when
    /// `templates_dir` is `Some(DIR)` and the file exists. A template that does not
    /// parse, or fails on a sample invoice, is an error.
    pub fn new(templates_dir: Option<&Path>) -> Result<Self, PdfError> {
        let (faces, core) = fonts::load()?;
        let (tera, files) = template::load(templates_dir)?;
        let renderer = PdfRenderer {
            faces,
            core,
            tera,
            files,
        };
        renderer.check_templates()?;
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
        layout::layout(&mut page, invoice, &words, &descriptions);
        let (pages, fonts) = page.finish(invoice, &words)?;
        let doc = self.document(invoice, &words, pages, fonts)?;
        self.save(&doc, invoice)
    }

    /// The document of an invoice's pages: metadata dated by the invoice (for
    /// deterministic bytes) and the fonts the pages use.
    fn document(
        &self,
        invoice: &PdfInvoice,
        words: &Words,
        pages: Vec<PdfPage>,
        fonts: FontsUsed,
    ) -> Result<PdfDocument, PdfError> {
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
        Ok(doc)
    }

    /// Serializes a document to PDF bytes with a file identifier and stream
    /// compression that depend only on the invoice.
    fn save(&self, doc: &PdfDocument, invoice: &PdfInvoice) -> Result<Vec<u8>, PdfError> {
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
        self.tag_subsets(&mut lopdf);
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

    /// Names every embedded font as the subset it is, `ABCDEF+DejaVuSans` (ISO
    /// 32000-1 §9.6.4), on the Type0 font's and its descendant's /BaseFont and the
    /// descriptor's /FontName, which must agree. Every font here is a subset: the
    /// core cuts are cut once per renderer (printpdf sees them as whole fonts and
    /// tags nothing), the others per PDF (printpdf tags them with the fixed
    /// resource name). The tag comes from the font program ([`fonts::subset_tag`]).
    fn tag_subsets(&self, doc: &mut lopdf::Document) {
        let mut renames = Vec::new();
        for (&font_id, object) in &doc.objects {
            let Ok(font) = object.as_dict() else { continue };
            let subtype = font.get(b"Subtype").and_then(Object::as_name);
            if !font.has_type(b"Font") || subtype.ok() != Some(b"Type0".as_slice()) {
                continue;
            }
            let descriptor = font
                .get(b"DescendantFonts")
                .and_then(Object::as_array)
                .ok()
                .and_then(|fonts| fonts.first())
                .and_then(|d| d.as_dict().ok())
                .and_then(|d| d.get(b"FontDescriptor").and_then(Object::as_reference).ok());
            let program = descriptor
                .and_then(|id| doc.get_dictionary(id).ok())
                .and_then(|d| d.get(b"FontFile2").and_then(Object::as_reference).ok())
                .and_then(|id| doc.get_object(id).and_then(Object::as_stream).ok());
            let (Some(descriptor), Some(program), Ok(base)) = (
                descriptor,
                program,
                font.get(b"BaseFont").and_then(Object::as_name),
            ) else {
                continue;
            };
            let tag = match self.core.iter().find(|c| c.program == program.content) {
                Some(core) => core.tag.clone(),
                None => fonts::subset_tag(&program.content),
            };
            let base = String::from_utf8_lossy(base);
            // A tag printpdf put there is six capitals and `+`.
            let name = match base.split_once('+') {
                Some((old, name))
                    if old.len() == 6 && old.bytes().all(|b| b.is_ascii_uppercase()) =>
                {
                    name
                }
                _ => &base,
            };
            renames.push((font_id, descriptor, format!("{tag}+{name}")));
        }
        for (font_id, descriptor, name) in renames {
            let name = || Object::Name(name.clone().into_bytes());
            if let Ok(font) = doc.get_dictionary_mut(font_id) {
                font.set("BaseFont", name());
                if let Ok(Object::Array(descendants)) = font.get_mut(b"DescendantFonts") {
                    if let Some(Object::Dictionary(cid_font)) = descendants.first_mut() {
                        cid_font.set("BaseFont", name());
                    }
                }
            }
            if let Ok(d) = doc.get_dictionary_mut(descriptor) {
                d.set("FontName", name());
            }
        }
    }
}
