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

use crate::config::Config;
use crate::error::{Error, Result};
use crate::render::csv::{finish, writer};
use didbill_core::billing::IssuedInvoice;
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
const BUILT_IN: [(&str, &str); 3] = [
    ("xero", include_str!("../../../templates/csv/xero.toml")),
    ("zoho", include_str!("../../../templates/csv/zoho.toml")),
    (
        "quickbooks",
        include_str!("../../../templates/csv/quickbooks.toml"),
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
        .chain(BUILT_IN.iter().map(|(n, _)| *n))
        .find(|known| known.eq_ignore_ascii_case(name))
        .unwrap_or(name)
}

fn known() -> String {
    std::iter::once(GENERIC)
        .chain(BUILT_IN.iter().map(|(n, _)| *n))
        .chain([TALLY])
        .collect::<Vec<_>>()
        .join(", ")
}

/// The accounting exports of a run: compiled layouts, ready to render.
#[derive(Debug)]
pub struct Exports {
    layouts: Vec<(String, Layout)>,
    tally: bool,
    bom: bool,
}

impl Exports {
    /// Finds and compiles the layouts `names` (from [`layout_names`]): `DIR/csv/NAME.toml`
    /// when `templates` has it, else the built-in one. Runs before any work, so a
    /// wrong name or a broken template stops the run at once.
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
            .map(|name| Ok((name.clone(), find(name, templates)?)))
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
        let (mut files, warnings) = self.render_layouts(invoices, config, period)?;
        if self.tally {
            files.push((
                tally::FILE.to_owned(),
                tally::render(invoices, config, period)?,
            ));
        }
        Ok((files, warnings))
    }

    /// The CSV layouts' files and warnings (see [`Exports::render`]).
    fn render_layouts(
        &self,
        invoices: &[IssuedInvoice],
        config: &Config,
        period: Period,
    ) -> Result<(Vec<ExportFile>, Vec<String>)> {
        if self.layouts.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // Each invoice's rows of each layout, kept apart so files can be cut
        // between invoices.
        let mut rendered: Vec<Vec<Rendered>> =
            vec![Vec::with_capacity(invoices.len()); self.layouts.len()];
        let run = context::run_context(config, period);
        for issued in invoices {
            let mut ctx = run.clone();
            ctx.insert_value("invoice", context::invoice(issued, config));
            let mut lines: Vec<_> = issued
                .invoice
                .lines
                .iter()
                .zip(issued.invoice.line_taxes())
                .enumerate()
                .map(|(i, (line, taxes))| context::line(i + 1, line, &taxes))
                .collect();
            let items = lines.len();
            // The round-off row goes last, only to the layouts that ask for it.
            let round_off = issued.invoice.round_off;
            if !round_off.amount().is_zero() {
                lines.push(context::round_off_line(items + 1, round_off));
            }
            for ((_, layout), out) in self.layouts.iter().zip(&mut rendered) {
                let rows = match layout.round_off_row() {
                    true => &lines[..],
                    false => &lines[..items],
                };
                let mut w = writer();
                layout.write_invoice(&mut w, &mut ctx, &issued.number, rows)?;
                out.push(Rendered {
                    rows: rows.len(),
                    bytes: finish(w),
                });
            }
        }
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        for ((name, layout), rows) in self.layouts.iter().zip(rendered) {
            let mut w = writer();
            w.write_record(layout.headers()).expect("in-memory CSV");
            let mut head = finish(w);
            if self.bom {
                head.splice(0..0, BOM.iter().copied());
            }
            let limits = layout.limits();
            for (issued, r) in invoices.iter().zip(&rows) {
                if !limits.allow(1, r.rows, head.len() + r.bytes.len()) {
                    warnings.push(format!(
                        "invoice {}: its {} rows ({} bytes) alone exceed one {name} file \
                         ({}); it is in a file of its own, which the tool will refuse — enter \
                         that invoice by hand",
                        issued.number,
                        r.rows,
                        head.len() + r.bytes.len(),
                        limits.describe()
                    ));
                }
            }
            let parts = pack(&head, rows, limits);
            let split = parts.len() > 1;
            files.extend(parts.into_iter().enumerate().map(|(i, bytes)| {
                let file = match split {
                    true => format!("{name}-{:03}.csv", i + 1),
                    false => format!("{name}.csv"),
                };
                (file, bytes)
            }));
        }
        Ok((files, warnings))
    }
}

/// One invoice's rows in one layout.
#[derive(Clone)]
struct Rendered {
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
