//! `didbill gstr1`: the month's GSTR-1 from the ledger, written atomically into
//! `gstr1/YYYY-MM/` — `gstr1.json` (the GST offline tool / GSTN API v4.0 shape),
//! one CSV per section in the offline tool's column layout, and the reconciliation.
//!
//! Amounts in the JSON are numbers written from their decimal text (never through
//! floating point), two decimals; rates are plain (`18`). Sections with nothing in
//! them are left out.

use std::path::PathBuf;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::location::LedgerLocation;
use crate::ledger::Ledger;
use crate::output::StagedDir;
use crate::render::csv::{finish, text_cell, writer};
use didbill_core::fx::FxRates;
use didbill_core::gst;
use didbill_core::gstr1::{self, DocKind, Figures, Gstr1, Reported, Section};
use didbill_core::money::format_2dp;
use didbill_core::period::Period;

/// Everything `didbill gstr1` needs, resolved from its arguments.
#[derive(Debug)]
pub struct Gstr1Settings {
    /// The month of the return.
    pub period: Period,
    /// The ledger to read.
    pub ledger: LedgerLocation,
    /// The configuration (seller GSTIN, tax rate, SAC).
    pub config: Config,
    /// Rates for documents the ledger holds no rate for.
    pub fx: FxRates,
    /// The output folder.
    pub out: PathBuf,
    /// Report customers with an invalid GSTIN as unregistered instead of stopping.
    pub unregistered_if_invalid: bool,
}

/// What a finished `gstr1` reports: the summary to print and any warnings.
#[derive(Debug)]
pub struct Gstr1Report {
    /// The reconciliation, as printed.
    pub text: String,
    /// Customers reported as unregistered for an invalid GSTIN.
    pub warnings: Vec<String>,
}

/// The file that marks a folder as a `gstr1` output.
const MARKER: &str = "gstr1.json";

/// Reads the ledger, builds the return and writes its folder.
pub fn execute(settings: &Gstr1Settings) -> Result<Gstr1Report> {
    let mut ledger = Ledger::open_existing(&settings.ledger)?;
    let documents = ledger.documents_dated(settings.period)?;
    let core = gstr1::Settings {
        seller_gstin: settings.config.seller.gstin.clone(),
        period: settings.period,
        rate: settings.config.tax.rate,
        sac: settings.config.tax.sac.clone(),
        fx: settings.fx.clone(),
        unregistered_if_invalid: settings.unregistered_if_invalid,
    };
    let ret = gstr1::build(&documents, &core).map_err(|problems| {
        Error::Data(format!(
            "GSTR-1 for {}: {} problem(s), nothing was written:\n  {}",
            settings.period,
            problems.len(),
            problems.join("\n  ")
        ))
    })?;
    let reconciliation = Reconciliation::of(&ret, &documents);
    reconciliation.check()?;
    let staged = StagedDir::create(&settings.out, MARKER)?;
    staged.write_file(MARKER, &json(&ret))?;
    for (name, bytes) in csvs(&ret) {
        staged.write_file(&name, &bytes)?;
    }
    let text = reconciliation.text(&ret);
    staged.write_file("reconciliation.txt", text.as_bytes())?;
    staged.write_file("reconciliation.json", &reconciliation.json())?;
    staged.commit()?;
    Ok(Gstr1Report {
        text,
        warnings: ret.invalid_gstins.clone(),
    })
}

/// A JSON number written from its decimal text, two decimals.
fn amount(d: Decimal) -> Box<RawValue> {
    RawValue::from_string(format_2dp(d)).expect("a decimal is a JSON number")
}

/// A rate as a JSON number, without trailing zeros (`18`, `12.5`).
fn rate(d: Decimal) -> Box<RawValue> {
    RawValue::from_string(d.normalize().to_string()).expect("a decimal is a JSON number")
}

/// A date as the return writes it, `dd-mm-yyyy`.
fn json_date(d: chrono::NaiveDate) -> String {
    d.format("%d-%m-%Y").to_string()
}

#[derive(Serialize)]
struct Return {
    gstin: String,
    fp: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    b2b: Vec<B2b>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    b2cl: Vec<B2cl>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    b2cs: Vec<B2cs>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exp: Vec<Exp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nil: Option<Nil>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cdnr: Vec<Cdnr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cdnur: Vec<Cdnur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hsn: Option<Hsn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    doc_issue: Option<DocIssue>,
}

#[derive(Serialize)]
struct B2b {
    ctin: String,
    inv: Vec<Inv>,
}

#[derive(Serialize)]
struct Inv {
    inum: String,
    idt: String,
    val: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pos: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rchrg: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inv_typ: Option<&'static str>,
    itms: Vec<Item>,
}

#[derive(Serialize)]
struct Item {
    #[serde(skip_serializing_if = "Option::is_none")]
    num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    itm_det: Option<Tax>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    flat: Option<Tax>,
}

#[derive(Serialize)]
struct Tax {
    txval: Box<RawValue>,
    rt: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iamt: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    camt: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samt: Option<Box<RawValue>>,
    csamt: Box<RawValue>,
}

impl Tax {
    /// The tax block of `figures` at `rt`: CGST and SGST for an intra-state
    /// supply, IGST otherwise and wherever the section knows only IGST (`igst_only`).
    fn of(figures: &Figures, rt: Decimal, intra: bool, igst_only: bool) -> Tax {
        let intra = intra && !igst_only;
        Tax {
            txval: amount(figures.taxable),
            rt: rate(rt),
            iamt: (!intra).then(|| amount(figures.igst)),
            camt: intra.then(|| amount(figures.cgst)),
            samt: intra.then(|| amount(figures.sgst)),
            csamt: amount(Decimal::ZERO),
        }
    }
}

#[derive(Serialize)]
struct B2cl {
    pos: String,
    inv: Vec<Inv>,
}

#[derive(Serialize)]
struct B2cs {
    sply_ty: &'static str,
    typ: &'static str,
    pos: String,
    #[serde(flatten)]
    tax: Tax,
}

#[derive(Serialize)]
struct Exp {
    exp_typ: &'static str,
    inv: Vec<Inv>,
}

#[derive(Serialize)]
struct Nil {
    inv: Vec<NilRow>,
}

#[derive(Serialize)]
struct NilRow {
    sply_ty: &'static str,
    expt_amt: Box<RawValue>,
    nil_amt: Box<RawValue>,
    ngsup_amt: Box<RawValue>,
}

#[derive(Serialize)]
struct Cdnr {
    ctin: String,
    nt: Vec<Note>,
}

#[derive(Serialize)]
struct Note {
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'static str>,
    ntty: &'static str,
    nt_num: String,
    nt_dt: String,
    val: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pos: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rchrg: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inv_typ: Option<&'static str>,
    itms: Vec<Item>,
}

type Cdnur = Note;

#[derive(Serialize)]
struct Hsn {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Vec<HsnJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hsn_b2b: Option<Vec<HsnJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hsn_b2c: Option<Vec<HsnJson>>,
}

#[derive(Serialize)]
struct HsnJson {
    num: usize,
    hsn_sc: String,
    uqc: &'static str,
    qty: Box<RawValue>,
    #[serde(flatten)]
    tax: Tax,
}

#[derive(Serialize)]
struct DocIssue {
    doc_det: Vec<DocDet>,
}

#[derive(Serialize)]
struct DocDet {
    doc_num: u32,
    docs: Vec<DocRow>,
}

#[derive(Serialize)]
struct DocRow {
    num: usize,
    from: String,
    to: String,
    totnum: u64,
    cancel: u64,
    net_issue: u64,
}

fn numbered_item(r: &Reported, igst_only: bool) -> Vec<Item> {
    vec![Item {
        num: Some(1),
        itm_det: Some(Tax::of(&r.figures, r.rate, r.intra, igst_only)),
        flat: None,
    }]
}

fn inv(r: &Reported, pos: bool, igst_only: bool) -> Inv {
    Inv {
        inum: r.doc.number.clone(),
        idt: json_date(r.doc.date),
        val: amount(r.figures.value),
        pos: pos.then(|| r.pos.clone()),
        rchrg: pos.then_some("N"),
        inv_typ: pos.then_some("R"),
        itms: numbered_item(r, igst_only),
    }
}

fn note(r: &Reported, registered: bool) -> Note {
    let b2cl = r.unregistered_type == Some("B2CL");
    Note {
        typ: r.unregistered_type,
        ntty: match r.doc.kind {
            DocKind::CreditNote => "C",
            _ => "D",
        },
        nt_num: r.doc.number.clone(),
        nt_dt: json_date(r.doc.date),
        val: amount(r.figures.value),
        pos: (registered || b2cl).then(|| r.pos.clone()),
        rchrg: registered.then_some("N"),
        inv_typ: registered.then_some("R"),
        itms: numbered_item(r, !registered),
    }
}

/// Groups `items` by `key`, keeping first-seen order of keys (one hash lookup per
/// item: a month holds tens of thousands of recipients).
fn grouped<K: std::hash::Hash + Eq + Clone, T>(
    items: impl Iterator<Item = (K, T)>,
) -> Vec<(K, Vec<T>)> {
    let mut index: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for (key, item) in items {
        match index.get(&key) {
            Some(&i) => groups[i].1.push(item),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![item]));
            }
        }
    }
    groups
}

/// `gstr1.json`.
fn json(ret: &Gstr1) -> Vec<u8> {
    let mut b2b_docs: Vec<&Reported> = ret.section(Section::B2b).collect();
    b2b_docs.sort_by(|a, b| a.ctin.cmp(&b.ctin));
    let hsn_rows = |rows: &[gstr1::HsnRow]| -> Vec<HsnJson> {
        rows.iter()
            .enumerate()
            .map(|(i, row)| HsnJson {
                num: i + 1,
                hsn_sc: row.sac.clone(),
                uqc: "NA",
                qty: amount(Decimal::ZERO),
                tax: Tax {
                    txval: amount(row.figures.taxable),
                    rt: rate(row.rate),
                    iamt: Some(amount(row.figures.igst)),
                    camt: Some(amount(row.figures.cgst)),
                    samt: Some(amount(row.figures.sgst)),
                    csamt: amount(Decimal::ZERO),
                },
            })
            .collect()
    };
    let hsn = (!ret.hsn_b2b.is_empty() || !ret.hsn_b2c.is_empty()).then(|| match ret.hsn_split {
        true => Hsn {
            data: None,
            hsn_b2b: Some(hsn_rows(&ret.hsn_b2b)),
            hsn_b2c: Some(hsn_rows(&ret.hsn_b2c)),
        },
        false => Hsn {
            data: Some(hsn_rows(&ret.hsn_b2b)),
            hsn_b2b: None,
            hsn_b2c: None,
        },
    });
    let doc_det: Vec<DocDet> = grouped(ret.doc_issue.iter().map(|r| (r.kind.doc_num(), r)))
        .into_iter()
        .map(|(doc_num, ranges)| DocDet {
            doc_num,
            docs: ranges
                .into_iter()
                .enumerate()
                .map(|(i, r)| DocRow {
                    num: i + 1,
                    from: r.from.clone(),
                    to: r.to.clone(),
                    totnum: r.total,
                    cancel: r.cancelled,
                    net_issue: r.total - r.cancelled,
                })
                .collect(),
        })
        .collect();
    let nil: Vec<NilRow> = grouped(ret.section(Section::Nil).map(|r| {
        let kind = match (r.intra, r.ctin.is_some()) {
            (true, true) => "INTRAB2B",
            (true, false) => "INTRAB2C",
            (false, true) => "INTRB2B",
            (false, false) => "INTRB2C",
        };
        (kind, r.figures.taxable * r.sign())
    }))
    .into_iter()
    .map(|(sply_ty, values)| NilRow {
        sply_ty,
        expt_amt: amount(Decimal::ZERO),
        nil_amt: amount(values.into_iter().sum()),
        ngsup_amt: amount(Decimal::ZERO),
    })
    .collect();
    let doc = Return {
        gstin: ret.gstin.clone(),
        fp: ret.period.start().format("%m%Y").to_string(),
        b2b: grouped(b2b_docs.into_iter().map(|r| (r.ctin.clone(), r)))
            .into_iter()
            .map(|(ctin, docs)| B2b {
                ctin: ctin.unwrap_or_default(),
                inv: docs.into_iter().map(|r| inv(r, true, false)).collect(),
            })
            .collect(),
        b2cl: grouped(ret.section(Section::B2cl).map(|r| (r.pos.clone(), r)))
            .into_iter()
            .map(|(pos, docs)| B2cl {
                pos,
                inv: docs.into_iter().map(|r| inv(r, false, true)).collect(),
            })
            .collect(),
        b2cs: ret
            .b2cs
            .iter()
            .map(|row| B2cs {
                sply_ty: row.supply_type,
                typ: "OE",
                pos: row.pos.clone(),
                tax: Tax::of(&row.figures, row.rate, row.supply_type == "INTRA", false),
            })
            .collect(),
        exp: grouped(ret.section(Section::Exp).map(|r| {
            let typ = if r.export_with_igst { "WPAY" } else { "WOPAY" };
            (typ, r)
        }))
        .into_iter()
        .map(|(exp_typ, docs)| Exp {
            exp_typ,
            inv: docs
                .into_iter()
                .map(|r| Inv {
                    itms: vec![Item {
                        num: None,
                        itm_det: None,
                        flat: Some(Tax::of(&r.figures, r.rate, false, true)),
                    }],
                    ..inv(r, false, true)
                })
                .collect(),
        })
        .collect(),
        nil: (!nil.is_empty()).then_some(Nil { inv: nil }),
        cdnr: grouped(ret.section(Section::Cdnr).map(|r| (r.ctin.clone(), r)))
            .into_iter()
            .map(|(ctin, docs)| Cdnr {
                ctin: ctin.unwrap_or_default(),
                nt: docs.into_iter().map(|r| note(r, true)).collect(),
            })
            .collect(),
        cdnur: ret
            .section(Section::Cdnur)
            .map(|r| note(r, false))
            .collect(),
        hsn,
        doc_issue: (!doc_det.is_empty()).then_some(DocIssue { doc_det }),
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("serialising to memory");
    bytes.push(b'\n');
    bytes
}

/// A date as the offline tool's CSVs write it, `01-Dec-2026`.
fn csv_date(d: chrono::NaiveDate) -> String {
    d.format("%d-%b-%Y").to_string()
}

/// A place of supply as the offline tool's CSVs write it, `29-Karnataka`.
fn csv_pos(code: &str) -> String {
    format!("{code}-{}", gst::state_name(code).unwrap_or(""))
}

fn csv_rate(d: Decimal) -> String {
    d.normalize().to_string()
}

/// One CSV per section with anything in it, in the offline tool's column layout.
fn csvs(ret: &Gstr1) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut file = |name: &str, header: &[&str], rows: Vec<Vec<String>>| {
        if rows.is_empty() {
            return;
        }
        let mut w = writer();
        w.write_record(header).expect("in-memory CSV");
        for row in rows {
            w.write_record(row.iter().map(|c| text_cell(c).into_owned()))
                .expect("in-memory CSV");
        }
        files.push((format!("{name}.csv"), finish(w)));
    };
    file(
        "b2b",
        &[
            "GSTIN/UIN of Recipient",
            "Receiver Name",
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Place Of Supply",
            "Reverse Charge",
            "Applicable % of Tax Rate",
            "Invoice Type",
            "E-Commerce GSTIN",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
        ret.section(Section::B2b)
            .map(|r| {
                vec![
                    r.ctin.clone().unwrap_or_default(),
                    r.doc.customer_name.clone(),
                    r.doc.number.clone(),
                    csv_date(r.doc.date),
                    format_2dp(r.figures.value),
                    csv_pos(&r.pos),
                    "N".into(),
                    String::new(),
                    "Regular B2B".into(),
                    String::new(),
                    csv_rate(r.rate),
                    format_2dp(r.figures.taxable),
                    "0.00".into(),
                ]
            })
            .collect(),
    );
    file(
        "b2cl",
        &[
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Place Of Supply",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
            "E-Commerce GSTIN",
        ],
        ret.section(Section::B2cl)
            .map(|r| {
                vec![
                    r.doc.number.clone(),
                    csv_date(r.doc.date),
                    format_2dp(r.figures.value),
                    csv_pos(&r.pos),
                    String::new(),
                    csv_rate(r.rate),
                    format_2dp(r.figures.taxable),
                    "0.00".into(),
                    String::new(),
                ]
            })
            .collect(),
    );
    file(
        "b2cs",
        &[
            "Type",
            "Place Of Supply",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
            "E-Commerce GSTIN",
        ],
        ret.b2cs
            .iter()
            .map(|row| {
                vec![
                    "OE".into(),
                    csv_pos(&row.pos),
                    String::new(),
                    csv_rate(row.rate),
                    format_2dp(row.figures.taxable),
                    "0.00".into(),
                    String::new(),
                ]
            })
            .collect(),
    );
    file(
        "exp",
        &[
            "Export Type",
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
            "Port Code",
            "Shipping Bill Number",
            "Shipping Bill Date",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
        ret.section(Section::Exp)
            .map(|r| {
                vec![
                    if r.export_with_igst { "WPAY" } else { "WOPAY" }.into(),
                    r.doc.number.clone(),
                    csv_date(r.doc.date),
                    format_2dp(r.figures.value),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    csv_rate(r.rate),
                    format_2dp(r.figures.taxable),
                    "0.00".into(),
                ]
            })
            .collect(),
    );
    let note_type = |r: &Reported| match r.doc.kind {
        DocKind::CreditNote => "C",
        _ => "D",
    };
    file(
        "cdnr",
        &[
            "GSTIN/UIN of Recipient",
            "Receiver Name",
            "Note Number",
            "Note Date",
            "Note Type",
            "Place Of Supply",
            "Reverse Charge",
            "Note Supply Type",
            "Note Value",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
        ret.section(Section::Cdnr)
            .map(|r| {
                vec![
                    r.ctin.clone().unwrap_or_default(),
                    r.doc.customer_name.clone(),
                    r.doc.number.clone(),
                    csv_date(r.doc.date),
                    note_type(r).into(),
                    csv_pos(&r.pos),
                    "N".into(),
                    "Regular B2B".into(),
                    format_2dp(r.figures.value),
                    String::new(),
                    csv_rate(r.rate),
                    format_2dp(r.figures.taxable),
                    "0.00".into(),
                ]
            })
            .collect(),
    );
    file(
        "cdnur",
        &[
            "UR Type",
            "Note Number",
            "Note Date",
            "Note Type",
            "Place Of Supply",
            "Note Value",
            "Applicable % of Tax Rate",
            "Rate",
            "Taxable Value",
            "Cess Amount",
        ],
        ret.section(Section::Cdnur)
            .map(|r| {
                vec![
                    r.unregistered_type.unwrap_or("").into(),
                    r.doc.number.clone(),
                    csv_date(r.doc.date),
                    note_type(r).into(),
                    match r.unregistered_type {
                        Some("B2CL") => csv_pos(&r.pos),
                        _ => String::new(),
                    },
                    format_2dp(r.figures.value),
                    String::new(),
                    csv_rate(r.rate),
                    format_2dp(r.figures.taxable),
                    "0.00".into(),
                ]
            })
            .collect(),
    );
    let hsn_header = [
        "HSN",
        "Description",
        "UQC",
        "Total Quantity",
        "Total Value",
        "Rate",
        "Taxable Value",
        "Integrated Tax Amount",
        "Central Tax Amount",
        "State/UT Tax Amount",
        "Cess Amount",
    ];
    let hsn_rows = |rows: &[gstr1::HsnRow]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|row| {
                let f = &row.figures;
                vec![
                    row.sac.clone(),
                    String::new(),
                    "NA".into(),
                    "0".into(),
                    format_2dp(f.taxable + f.igst + f.cgst + f.sgst),
                    csv_rate(row.rate),
                    format_2dp(f.taxable),
                    format_2dp(f.igst),
                    format_2dp(f.cgst),
                    format_2dp(f.sgst),
                    "0.00".into(),
                ]
            })
            .collect()
    };
    match ret.hsn_split {
        true => {
            file("hsn_b2b", &hsn_header, hsn_rows(&ret.hsn_b2b));
            file("hsn_b2c", &hsn_header, hsn_rows(&ret.hsn_b2c));
        }
        false => file("hsn", &hsn_header, hsn_rows(&ret.hsn_b2b)),
    }
    file(
        "docs",
        &[
            "Nature of Document",
            "Sr. No. From",
            "Sr. No. To",
            "Total Number",
            "Cancelled",
        ],
        ret.doc_issue
            .iter()
            .map(|r| {
                vec![
                    r.kind.nature().into(),
                    r.from.clone(),
                    r.to.clone(),
                    r.total.to_string(),
                    r.cancelled.to_string(),
                ]
            })
            .collect(),
    );
    files
}

/// The return against the ledger: per section and in total, documents and rupee
/// figures; the ledger's side is every document of the month added up directly.
#[derive(Debug, Serialize)]
struct Reconciliation {
    period: String,
    sections: Vec<SectionTotal>,
    total: SectionTotal,
    ledger: SectionTotal,
    cancelled: usize,
    rates: Vec<RateUsed>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
struct SectionTotal {
    section: String,
    documents: usize,
    taxable_value: String,
    igst: String,
    cgst: String,
    sgst: String,
}

#[derive(Debug, Serialize)]
struct RateUsed {
    document: String,
    currency: String,
    date: String,
    inr_per_unit: String,
}

impl SectionTotal {
    fn of(section: &str, documents: usize, f: &Figures) -> SectionTotal {
        SectionTotal {
            section: section.into(),
            documents,
            taxable_value: format_2dp(f.taxable),
            igst: format_2dp(f.igst),
            cgst: format_2dp(f.cgst),
            sgst: format_2dp(f.sgst),
        }
    }
}

impl Reconciliation {
    fn of(ret: &Gstr1, documents: &[gstr1::Document]) -> Reconciliation {
        let totals = ret.section_totals();
        let sections = Section::ALL
            .iter()
            .filter_map(|s| totals.get(s).map(|(n, f)| SectionTotal::of(s.key(), *n, f)))
            .collect();
        let reported: usize = totals.values().map(|(n, _)| n).sum();
        // The ledger's side: each of its documents once, a rupee document at the
        // figures it was recorded with, a foreign one at its reported conversion.
        let converted: std::collections::HashMap<(DocKind, &str), &Figures> = ret
            .documents
            .iter()
            .map(|r| ((r.doc.kind, r.doc.number.as_str()), &r.figures))
            .collect();
        let mut ledger = Figures::default();
        let mut counted = 0;
        for d in documents.iter().filter(|d| !d.cancelled) {
            let sign = match d.kind {
                DocKind::CreditNote => Decimal::NEGATIVE_ONE,
                _ => Decimal::ONE,
            };
            let own = Figures {
                value: d.total,
                taxable: d.subtotal,
                igst: d.igst,
                cgst: d.cgst,
                sgst: d.sgst,
            };
            let figures = match d.currency == didbill_core::money::Currency::INR {
                true => Some(&own),
                false => converted.get(&(d.kind, d.number.as_str())).copied(),
            };
            if let Some(f) = figures {
                counted += 1;
                ledger.taxable += f.taxable * sign;
                ledger.igst += f.igst * sign;
                ledger.cgst += f.cgst * sign;
                ledger.sgst += f.sgst * sign;
            }
        }
        let cancelled = documents.iter().filter(|d| d.cancelled).count();
        Reconciliation {
            period: ret.period.to_string(),
            sections,
            total: SectionTotal::of("total", reported, &ret.total()),
            ledger: SectionTotal::of("ledger", counted, &ledger),
            cancelled,
            rates: ret
                .documents
                .iter()
                .filter_map(|r| {
                    r.fx_rate.map(|fx| RateUsed {
                        document: r.doc.number.clone(),
                        currency: r.doc.currency.to_string(),
                        date: r.doc.date.to_string(),
                        inr_per_unit: fx.to_string(),
                    })
                })
                .collect(),
        }
    }

    /// Refuses to write a return that does not add up to the ledger (a bug, never
    /// a user error: every document is reported exactly once).
    fn check(&self) -> Result<()> {
        let strip = |t: &SectionTotal| {
            (
                t.documents,
                t.taxable_value.clone(),
                t.igst.clone(),
                t.cgst.clone(),
                t.sgst.clone(),
            )
        };
        match strip(&self.total) == strip(&self.ledger) {
            true => Ok(()),
            false => Err(Error::Data(format!(
                "GSTR-1 for {}: the sections ({:?}) do not add up to the ledger ({:?}); \
                 nothing was written — please report this",
                self.period, self.total, self.ledger
            ))),
        }
    }

    fn text(&self, ret: &Gstr1) -> String {
        let mut text = format!(
            "GSTR-1 {} for GSTIN {} (in rupees)\n\n{:<8} {:>9} {:>16} {:>14} {:>14} {:>14}\n",
            self.period, ret.gstin, "section", "documents", "taxable value", "IGST", "CGST", "SGST"
        );
        for t in self.sections.iter().chain([&self.total, &self.ledger]) {
            text.push_str(&format!(
                "{:<8} {:>9} {:>16} {:>14} {:>14} {:>14}\n",
                t.section, t.documents, t.taxable_value, t.igst, t.cgst, t.sgst
            ));
        }
        text.push_str(&format!(
            "\ncancelled invoices: {} (in the documents issued only)\n",
            self.cancelled
        ));
        for r in &self.rates {
            text.push_str(&format!(
                "{} in {} at {} INR per unit (dated {})\n",
                r.document, r.currency, r.inr_per_unit, r.date
            ));
        }
        text
    }

    fn json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("serialising to memory");
        bytes.push(b'\n');
        bytes
    }
}
