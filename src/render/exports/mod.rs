//! Accounting exports (`run --csv xero,zoho,quickbooks`): one CSV per layout (or, past
//! the layout's `[limits]`, numbered parts `NAME-001.csv`, …), one row per line item,
//! beside the canonical files.
//!
//! A layout is a TOML file of columns whose values are tera templates (see
//! `layout.rs`). The built-in layouts (`templates/csv/*.toml`) are compiled into the
//! binary; `--templates DIR` overrides them or adds new ones from
//! `DIR/csv/NAME.toml`. Rows are written with the `csv` crate in didbill's dialect;
//! `--csv-bom` puts a UTF-8 byte-order mark on these files only.

mod context;
mod filters;
mod layout;
mod tally;

use std::path::{Path, PathBuf};

use tera::{Context, Value};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ledger::store::NoteRecord;
use crate::render::csv::{finish, writer};
use didbill_core::billing::IssuedInvoice;
use didbill_core::notes::NoteKind;
use didbill_core::period::Period;
use layout::{Layout, Limits};

/// The `--csv` name of the canonical `line_items.csv`, which is always written.
const GENERIC: &str = "generic";

/// The `--csv` name of the TallyPrime voucher export (`tally.xml`), which is XML
/// written by [`tally`], not a CSV layout.
const TALLY: &str = "tally";

/// Names that would overwrite a canonical file.
const RESERVED: [&str; 5] = [
    "line_items",
    "invoices",
    "exceptions",
    "not_billable",
    "usage_exceptions",
];

/// The built-in layouts: name and TOML text.
const BUILT_IN: [(&str, &str); 6] = [
    ("xero", include_str!("../../../templates/csv/xero.toml")),
    ("zoho", include_str!("../../../templates/csv/zoho.toml")),
    (
        "quickbooks",
        include_str!("../../../templates/csv/quickbooks.toml"),
    ),
    (
        "xero_credit_notes",
        include_str!("../../../templates/csv/xero_credit_notes.toml"),
    ),
    (
        "zoho_credit_notes",
        include_str!("../../../templates/csv/zoho_credit_notes.toml"),
    ),
    (
        "quickbooks_credit_notes",
        include_str!("../../../templates/csv/quickbooks_credit_notes.toml"),
    ),
];

/// An export file: its name in the output folder and its bytes.
pub type ExportFile = (String, Vec<u8>);

/// UTF-8 byte-order mark, for Excel.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Checks the `--csv` names: drops `generic` (always written) and repeats, and
/// refuses names that could leave the templates folder or overwrite a canonical file.
/// The built-in and reserved names are known in any case (`Xero` is `xero`); other
/// names are kept as typed, since they name a file under `--templates DIR`.
pub fn layout_names(requested: &[String]) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for name in requested.iter().map(|n| canonical_name(n.trim())) {
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !plain {
            return Err(Error::Usage(format!(
                "--csv {name:?}: a layout name is letters, digits, '_' and '-' only \
                 (it names DIR/csv/NAME.toml); built in: {}",
                known()
            )));
        }
        if name.ends_with(CREDIT_NOTES) || name.ends_with(DEBIT_NOTES) {
            return Err(Error::Usage(format!(
                "--csv {name}: NAME{CREDIT_NOTES} and NAME{DEBIT_NOTES} are the files of a \
                 layout's notes; ask for the layout NAME and its notes come with it"
            )));
        }
        if RESERVED.contains(&name) {
            return Err(Error::Usage(format!(
                "--csv {name}: {name}.csv is a canonical output; name the layout differently"
            )));
        }
        if name != GENERIC && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// The built-in, generic or reserved name `name` spells in any case, else `name`.
fn canonical_name(name: &str) -> &str {
    [GENERIC, TALLY]
        .into_iter()
        .chain(RESERVED)
        .chain(built_in_names())
        .find(|known| known.eq_ignore_ascii_case(name))
        .unwrap_or(name)
}

/// The built-in invoice layouts (not their credit-note layouts).
fn built_in_names() -> impl Iterator<Item = &'static str> {
    BUILT_IN
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !n.ends_with(CREDIT_NOTES))
}

fn known() -> String {
    std::iter::once(GENERIC)
        .chain(built_in_names())
        .chain([TALLY])
        .collect::<Vec<_>>()
        .join(", ")
}

/// The note files of a run's canonical outputs, which are not layouts either.
const NOTE_FILES: [&str; 2] = ["notes", "note_lines"];

/// What a run's exports left in a period's folder, read by `didbill note`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FolderExports {
    /// The layouts exported (`NAME.csv` or its parts `NAME-001.csv`, …, and
    /// `tally` for `tally.xml`), sorted.
    pub layouts: Vec<String>,
    /// Whether those files carry a byte-order mark.
    pub bom: bool,
    /// The notes' export files there now (`NAME_credit_notes.csv`, their parts,
    /// `tally_notes.xml`, …), which the note's own files replace.
    pub note_files: Vec<String>,
}

/// The name a run's export file `file` was written for (`xero` for `xero.csv` and
/// `xero-002.csv`, `tally` for `tally.xml`), if it is one.
fn exported_layout(file: &str, templates: Option<&Path>) -> Option<String> {
    if file == tally::FILE {
        return Some(TALLY.to_owned());
    }
    let stem = file.strip_suffix(".csv")?;
    // A part number, unless the whole stem names a layout of its own (`sage-200`).
    let name = match stem.rsplit_once('-') {
        Some((name, part))
            if part.len() == 3
                && part.bytes().all(|b| b.is_ascii_digit())
                && !has_layout(stem, templates) =>
        {
            name
        }
        _ => stem,
    };
    // Only a name `--csv` accepts: not an editor's lock file or a renamed copy.
    let name = layout_names(&[name.to_owned()]).ok()?.into_iter().next()?;
    (!NOTE_FILES.contains(&name.as_str())).then_some(name)
}

/// Reads `dir` for [`FolderExports`]. Fails, naming the file, for a layout that is
/// neither built in nor under `templates`.
pub fn found_in(dir: &Path, templates: Option<&Path>) -> Result<FolderExports> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FolderExports::default()),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
    };
    let mut found = FolderExports::default();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let stem = file
            .strip_suffix(".csv")
            .map(|s| s.rsplit_once('-').map_or(s, |(n, _)| n));
        if file == tally::NOTES_FILE
            || stem.is_some_and(|s| s.ends_with(CREDIT_NOTES) || s.ends_with(DEBIT_NOTES))
        {
            found.note_files.push(file);
            continue;
        }
        let Some(name) = exported_layout(&file, templates) else {
            continue;
        };
        if found.layouts.contains(&name) {
            continue;
        }
        if name != TALLY && !has_layout(&name, templates) {
            return Err(Error::Usage(format!(
                "{} holds {file}, an export of the layout {name}, which is not built in{}: pass \
                 the --templates DIR the run used, so the notes are written in that layout too",
                dir.display(),
                match templates {
                    Some(d) => format!(" and not in {}", d.join("csv").display()),
                    None => String::new(),
                }
            )));
        }
        let mut head = [0u8; 3];
        found.bom |= std::fs::File::open(entry.path())
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok_and(|()| head == *BOM);
        found.layouts.push(name);
    }
    found.layouts.sort();
    found.note_files.sort();
    Ok(found)
}

/// The accounting exports of a run: compiled layouts, ready to render.
#[derive(Debug)]
pub struct Exports {
    layouts: Vec<CsvLayout>,
    tally: bool,
    bom: bool,
}

/// One `--csv` layout: its invoice layout, and its credit-note layout when it
/// has one (`NAME_credit_notes.toml`).
#[derive(Debug)]
struct CsvLayout {
    name: String,
    invoices: Layout,
    credit_notes: Option<Layout>,
}

/// One document ready for a layout: what a row's templates see it as (`invoice`
/// or `note`), its rows, and how many of them are lines (the others a round-off
/// row, only for layouts that ask for one).
struct Document {
    number: String,
    key: &'static str,
    view: Value,
    rows: Vec<Value>,
    items: usize,
}

/// The suffix of the file of a layout's credit notes (and of their layout).
const CREDIT_NOTES: &str = "_credit_notes";

/// The suffix of the file of a layout's debit notes, written in its invoice layout.
const DEBIT_NOTES: &str = "_debit_notes";

impl Exports {
    /// Finds and compiles the layouts `names` (from [`layout_names`]): `DIR/csv/NAME.toml`
    /// when `templates` has it, else the built-in one, and likewise its credit-note
    /// layout `NAME_credit_notes.toml`. Runs before any work, so a wrong name or a
    /// broken template stops the run at once.
    pub fn load(names: &[String], templates: Option<&Path>, bom: bool) -> Result<Exports> {
        if let Some(dir) = templates.filter(|d| !names.is_empty() && !d.is_dir()) {
            return Err(Error::Usage(format!(
                "--templates {}: not a folder",
                dir.display()
            )));
        }
        let layouts = names
            .iter()
            .filter(|name| *name != TALLY)
            .map(|name| {
                let credit = format!("{name}{CREDIT_NOTES}");
                Ok(CsvLayout {
                    name: name.clone(),
                    invoices: find(name, templates)?,
                    credit_notes: match has_layout(&credit, templates) {
                        true => Some(find(&credit, templates)?),
                        false => None,
                    },
                })
            })
            .collect::<Result<_>>()?;
        Ok(Exports {
            layouts,
            tally: names.iter().any(|name| name == TALLY),
            bom,
        })
    }

    /// Renders every layout over the invoices (in the order given, which is
    /// invoice-number order; lines in order): output file names and bytes, and a
    /// warning for each invoice too big for one file of its layout. A layout with
    /// `[limits]` is split into as many files as its tool needs (see [`pack`]);
    /// `tally.xml`, when asked for, comes last.
    pub fn render(
        &self,
        invoices: &[IssuedInvoice],
        config: &Config,
        period: Period,
    ) -> Result<(Vec<ExportFile>, Vec<String>)> {
        let run = context::run_context(config, period);
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        let documents = || {
            invoices.iter().map(|issued| {
                let mut rows: Vec<_> = issued
                    .invoice
                    .lines
                    .iter()
                    .zip(issued.invoice.line_taxes())
                    .enumerate()
                    .map(|(i, (line, taxes))| context::line(i + 1, line, &taxes))
                    .collect();
                let items = rows.len();
                let round_off = issued.invoice.round_off;
                if !round_off.amount().is_zero() {
                    rows.push(context::round_off_line(items + 1, round_off));
                }
                Document {
                    number: issued.number.clone(),
                    key: "invoice",
                    view: context::invoice(issued, config),
                    rows,
                    items,
                }
            })
        };
        for layout in &self.layouts {
            let (f, w) = self.render_layout(&layout.name, &layout.invoices, documents(), &run)?;
            files.extend(f);
            warnings.extend(w);
        }
        if self.tally {
            files.push((
                tally::FILE.to_owned(),
                tally::render(invoices, config, period)?,
            ));
        }
        Ok((files, warnings))
    }

    /// Renders the period's credit and debit notes for every layout: credit notes
    /// in the layout's credit-note layout to `NAME_credit_notes.csv`, debit notes
    /// (which the tools import as further invoices) in its invoice layout to
    /// `NAME_debit_notes.csv`, and all of them to `tally_notes.xml`; nothing for a
    /// kind the period has none of. A layout without a credit-note layout gets a
    /// warning instead of the file.
    pub fn render_notes(
        &self,
        notes: &[NoteRecord],
        config: &Config,
        period: Period,
    ) -> Result<(Vec<ExportFile>, Vec<String>)> {
        let run = context::run_context(config, period);
        let documents = |kind: NoteKind, key: &'static str| {
            notes
                .iter()
                .filter(move |n| n.kind == kind)
                .map(move |note| {
                    let (rows, items) = context::note_lines(note);
                    Document {
                        number: note.number.clone(),
                        key,
                        view: context::note(note, config),
                        rows,
                        items,
                    }
                })
        };
        let has = |kind: NoteKind| notes.iter().any(|n| n.kind == kind);
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        for layout in &self.layouts {
            if has(NoteKind::Credit) {
                match &layout.credit_notes {
                    Some(credit) => {
                        let (f, w) = self.render_layout(
                            &format!("{}{CREDIT_NOTES}", layout.name),
                            credit,
                            documents(NoteKind::Credit, "note"),
                            &run,
                        )?;
                        files.extend(f);
                        warnings.extend(w);
                    }
                    None => warnings.push(format!(
                        "--csv {0}: the layout has no credit-note layout ({0}{CREDIT_NOTES}.toml \
                         under --templates DIR/csv/), so the period's credit notes are not in a \
                         {0} file: enter them by hand or add that layout",
                        layout.name
                    )),
                }
            }
            if has(NoteKind::Debit) {
                let (f, w) = self.render_layout(
                    &format!("{}{DEBIT_NOTES}", layout.name),
                    &layout.invoices,
                    documents(NoteKind::Debit, "invoice"),
                    &run,
                )?;
                files.extend(f);
                warnings.extend(w);
            }
        }
        if self.tally && !notes.is_empty() {
            files.push((
                tally::NOTES_FILE.to_owned(),
                tally::render_notes(notes, config)?,
            ));
        }
        Ok((files, warnings))
    }

    /// Refuses a folder whose exports have other columns than these layouts (a run
    /// with a `--templates` override that the note was not given), naming the file:
    /// its notes would not import beside its invoices.
    pub fn refuse_other_columns(&self, dir: &Path) -> Result<()> {
        for layout in &self.layouts {
            let head = header_row(&layout.invoices);
            for file in [
                format!("{}.csv", layout.name),
                format!("{}-001.csv", layout.name),
            ] {
                let Ok(bytes) = std::fs::read(dir.join(&file)) else {
                    continue;
                };
                if !bytes.strip_prefix(BOM).unwrap_or(&bytes).starts_with(&head) {
                    return Err(Error::Usage(format!(
                        "{}: its header row is not that of the layout {} as didbill reads it \
                         now (built in, or from --templates): pass the --templates DIR the run \
                         used, so the notes have the same columns",
                        dir.join(&file).display(),
                        layout.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// The files `stem.csv` (or `stem-001.csv`, … past its limits) of one layout
    /// over `documents`, and a warning for each document too big for one file.
    fn render_layout(
        &self,
        stem: &str,
        layout: &Layout,
        documents: impl Iterator<Item = Document>,
        run: &Context,
    ) -> Result<(Vec<ExportFile>, Vec<String>)> {
        let document = match stem {
            _ if stem.ends_with(CREDIT_NOTES) => "credit note",
            _ if stem.ends_with(DEBIT_NOTES) => "debit note",
            _ => "invoice",
        };
        let mut ctx = run.clone();
        let mut rendered = Vec::new();
        for doc in documents {
            ctx.insert_value(doc.key, doc.view);
            let rows = match layout.round_off_row() {
                true => &doc.rows[..],
                false => &doc.rows[..doc.items],
            };
            let mut w = writer();
            layout.write_invoice(
                &mut w,
                &mut ctx,
                &format!("{document} {}", doc.number),
                rows,
            )?;
            rendered.push(Rendered {
                number: doc.number,
                rows: rows.len(),
                bytes: finish(w),
            });
        }
        let mut head = header_row(layout);
        if self.bom {
            head.splice(0..0, BOM.iter().copied());
        }
        let limits = layout.limits();
        let warnings = rendered
            .iter()
            .filter(|r| !limits.allow(1, r.rows, head.len() + r.bytes.len()))
            .map(|r| {
                format!(
                    "{} {}: its {} rows ({} bytes) alone exceed one {stem} file ({}); it is in a \
                     file of its own, which the tool will refuse — enter it by hand",
                    document,
                    r.number,
                    r.rows,
                    head.len() + r.bytes.len(),
                    limits.describe()
                )
            })
            .collect();
        let parts = pack(&head, rendered, limits);
        let split = parts.len() > 1;
        let files = parts
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| {
                let file = match split {
                    true => format!("{stem}-{:03}.csv", i + 1),
                    false => format!("{stem}.csv"),
                };
                (file, bytes)
            })
            .collect();
        Ok((files, warnings))
    }
}

/// The header row of `layout`, as written.
fn header_row(layout: &Layout) -> Vec<u8> {
    let mut w = writer();
    w.write_record(layout.headers()).expect("in-memory CSV");
    finish(w)
}

/// One document's rows in one layout.
struct Rendered {
    number: String,
    rows: usize,
    bytes: Vec<u8>,
}

/// Packs invoices, in order, into as few files as `limits` allow: a file takes the
/// next invoice while it stays within every limit, and an invoice is never split
/// (one that is too big alone gets a file of its own, which the tool may refuse).
/// Every file starts with `head` (the header row, after the BOM if any); with no
/// invoices there is one file holding only `head`.
fn pack(head: &[u8], invoices: Vec<Rendered>, limits: Limits) -> Vec<Vec<u8>> {
    let mut files = vec![head.to_vec()];
    let (mut count, mut rows) = (0, 0);
    for invoice in invoices {
        let current = files.last_mut().expect("one file at least");
        let fits = limits.allow(
            count + 1,
            rows + invoice.rows,
            current.len() + invoice.bytes.len(),
        );
        if count > 0 && !fits {
            files.push(head.to_vec());
            (count, rows) = (0, 0);
        }
        let current = files.last_mut().expect("one file at least");
        current.extend_from_slice(&invoice.bytes);
        count += 1;
        rows += invoice.rows;
    }
    files
}

/// Whether `name` is a layout: the user's or a built-in one.
fn has_layout(name: &str, templates: Option<&Path>) -> bool {
    templates.is_some_and(|d| d.join("csv").join(format!("{name}.toml")).is_file())
        || BUILT_IN.iter().any(|(n, _)| *n == name)
}

/// The layout `name`: the user's file if there is one, else the built-in one.
fn find(name: &str, templates: Option<&Path>) -> Result<Layout> {
    let user: Option<PathBuf> = templates.map(|d| d.join("csv").join(format!("{name}.toml")));
    if let Some(path) = user.as_ref().filter(|p| p.is_file()) {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        return Layout::parse(&path.display().to_string(), &text);
    }
    match BUILT_IN.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => Layout::parse(&format!("templates/csv/{name}.toml (built in)"), text),
        None => Err(Error::Usage(format!(
            "--csv {name}: no such layout (built in: {}){}",
            known(),
            match &user {
                Some(p) => format!("; {} does not exist", p.display()),
                None => format!("; add your own with --templates DIR and DIR/csv/{name}.toml"),
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    use super::*;
    use didbill_core::billing::{self, ChargeKind, Line};
    use didbill_core::gst::PlaceOfSupply;
    use didbill_core::inventory::Customer;
    use didbill_core::money::{Currency, Money, Rounding};

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn layout_names_drop_generic_and_repeats_and_refuse_paths() {
        assert_eq!(
            layout_names(&names(&["xero", "generic", " zoho", "xero", "my-layout_2"])).unwrap(),
            names(&["xero", "zoho", "my-layout_2"])
        );
        assert!(layout_names(&names(&["generic"])).unwrap().is_empty());
        assert_eq!(
            layout_names(&names(&[
                "Xero",
                "ZOHO",
                "xero",
                "QuickBooks",
                "Generic",
                "MyLayout"
            ]))
            .unwrap(),
            names(&["xero", "zoho", "quickbooks", "MyLayout"])
        );
        for bad in [
            "../x",
            "/etc/passwd",
            "a/b",
            "x.toml",
            ".",
            "",
            "invoices",
            "line_items",
            "Invoices",
            "usage_exceptions",
        ] {
            let err = layout_names(&names(&[bad])).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn unknown_layouts_are_usage_errors_naming_what_exists() {
        let err = Exports::load(&names(&["sage"]), None, false).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(
            msg.contains("sage") && msg.contains("xero, zoho, quickbooks"),
            "{msg}"
        );
        let err =
            Exports::load(&names(&["x"]), Some(Path::new("/nonexistent")), false).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("/nonexistent"), "{err}");
    }

    fn money(s: &str) -> Money {
        Money::round(
            Decimal::from_str(s).unwrap(),
            Currency::INR,
            Rounding::HalfUp,
        )
    }

    /// An invoice with a negative (credit) line and a formula-like customer name.
    fn hostile_invoice(config: &Config) -> IssuedInvoice {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let customer = Customer {
            id: "MA_X".into(),
            name: "=HYPERLINK(\"http://evil.example\",\"x\")".into(),
            company: true,
            email: Some("@evil".into()),
            address: vec![],
            street: Some("-1 Road".into()),
            city: None,
            postal_code: None,
            country: None,
            gstin: None,
            state: Some("KA".into()),
            cash_credits: None,
        };
        let line = Line {
            customer_id: "MA_X".into(),
            currency: Currency::INR,
            number_id: "n1".into(),
            e164: "+918041000001".into(),
            charge: ChargeKind::Rental,
            service_from: day(1),
            service_to: day(30),
            billable_days: Some(30),
            period_days: Some(30),
            unit_amount: Some(money("-5")),
            amount: money("-5"),
            provider_amount: money("-5"),
            setup_key: None,
            usage: None,
        };
        let invoice = billing::invoice::invoice(
            customer,
            Currency::INR,
            vec![line],
            PlaceOfSupply::State("29"),
            &config.rules("2026-11".parse().unwrap(), chrono::DateTime::UNIX_EPOCH),
        );
        IssuedInvoice {
            number: "DID/26-27/00001".into(),
            invoice_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 16).unwrap(),
            invoice,
            fx_rate: None,
        }
    }

    #[test]
    fn negative_amounts_stay_numbers_and_formula_text_is_neutralised() {
        let config = Config::default();
        let exports = Exports::load(&names(&["xero", "zoho", "quickbooks"]), None, false).unwrap();
        let (files, _) = exports
            .render(
                &[hostile_invoice(&config)],
                &config,
                "2026-11".parse().unwrap(),
            )
            .unwrap();
        let rows: Vec<Vec<csv::StringRecord>> = files
            .iter()
            .map(|(_, bytes)| {
                csv::Reader::from_reader(bytes.as_slice())
                    .records()
                    .map(Result::unwrap)
                    .collect()
            })
            .collect();
        let xero = &rows[0][0];
        assert_eq!(&xero[0], "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(&xero[1], "'@evil");
        assert_eq!(&xero[2], "'-1 Road");
        assert_eq!(&xero[17], "-5.00");
        let zoho = &rows[1][0];
        assert_eq!(&zoho[3], "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(&zoho[16], "-5.00");
        let quickbooks = &rows[2][0];
        assert_eq!((&quickbooks[9], &quickbooks[10]), ("-5.00", "-5.00"));
    }

    #[test]
    fn tally_xml_escapes_markup_and_hidden_characters_and_adds_no_formula_guard() {
        let config = Config::default();
        let mut invoice = hostile_invoice(&config);
        invoice.invoice.customer.name = "A&B <Traders> \u{1b}[31m".into();
        let exports = Exports::load(&names(&["tally", "xero"]), None, false).unwrap();
        let (files, _) = exports
            .render(&[invoice], &config, "2026-11".parse().unwrap())
            .unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["xero.csv", "tally.xml"]);
        let xml = String::from_utf8(files[1].1.clone()).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ENVELOPE>"));
        assert!(
            xml.contains("<PARTYLEDGERNAME>A&amp;B &lt;Traders&gt; \\u{1b}[31m</PARTYLEDGERNAME>"),
            "{xml}"
        );
        assert!(!xml.contains('\u{1b}'));
        // A credit line makes the total negative: the party is credited, the sales
        // and tax ledgers debited.
        let party = "<LEDGERNAME>A&amp;B &lt;Traders&gt; \\u{1b}[31m</LEDGERNAME>
       <ISDEEMEDPOSITIVE>No</ISDEEMEDPOSITIVE>
       <ISPARTYLEDGER>Yes</ISPARTYLEDGER>
       <AMOUNT>5.90</AMOUNT>";
        assert!(xml.contains(party), "{xml}");
        let sales = "<LEDGERNAME>Sales</LEDGERNAME>
       <ISDEEMEDPOSITIVE>Yes</ISDEEMEDPOSITIVE>
       <AMOUNT>-5.00</AMOUNT>";
        assert!(xml.contains(sales), "{xml}");
        assert!(xml.contains("<AMOUNT>-0.45</AMOUNT>"), "{xml}");
    }

    fn rendered(rows: usize, bytes: &str) -> Rendered {
        Rendered {
            number: String::new(),
            rows,
            bytes: bytes.as_bytes().to_vec(),
        }
    }

    #[test]
    fn packing_cuts_between_invoices_at_each_limit() {
        let text = |files: Vec<Vec<u8>>| -> Vec<String> {
            files
                .into_iter()
                .map(|f| String::from_utf8(f).unwrap())
                .collect()
        };
        let three = || {
            vec![
                rendered(2, "a\na\n"),
                rendered(1, "b\n"),
                rendered(3, "c\nc\nc\n"),
            ]
        };
        let none = Limits::default();
        assert_eq!(text(pack(b"H\n", three(), none)), ["H\na\na\nb\nc\nc\nc\n"]);
        let two_invoices = Limits {
            invoices: Some(2),
            ..none
        };
        assert_eq!(
            text(pack(b"H\n", three(), two_invoices)),
            ["H\na\na\nb\n", "H\nc\nc\nc\n"]
        );
        let three_rows = Limits {
            rows: Some(3),
            ..none
        };
        assert_eq!(
            text(pack(b"H\n", three(), three_rows)),
            ["H\na\na\nb\n", "H\nc\nc\nc\n"]
        );
        // The header counts towards the bytes; an invoice too big alone still gets
        // a file of its own rather than being cut.
        let seven_bytes = Limits {
            bytes: Some(7),
            ..none
        };
        assert_eq!(
            text(pack(b"H\n", three(), seven_bytes)),
            ["H\na\na\n", "H\nb\n", "H\nc\nc\nc\n"]
        );
        assert_eq!(text(pack(b"H\n", Vec::new(), two_invoices)), ["H\n"]);
    }

    #[test]
    fn the_bom_goes_only_on_exports_and_nothing_renders_without_layouts() {
        let config = Config::default();
        let invoices = [hostile_invoice(&config)];
        let period = "2026-11".parse().unwrap();
        let with = Exports::load(&names(&["zoho"]), None, true).unwrap();
        let without = Exports::load(&names(&["zoho"]), None, false).unwrap();
        let a = &with.render(&invoices, &config, period).unwrap().0[0];
        let b = &without.render(&invoices, &config, period).unwrap().0[0];
        assert_eq!(a.0, "zoho.csv");
        assert_eq!(a.1, [BOM, &b.1].concat());
        let none = Exports::load(&[], None, true).unwrap();
        assert!(none
            .render(&invoices, &config, period)
            .unwrap()
            .0
            .is_empty());
    }
}
