//! One CSV layout: a TOML file listing the columns in order, each a header, a tera
//! expression, and a kind that says how the rendered cell is made safe.
//!
//! ```toml
//! [[columns]]
//! header = "*UnitAmount"
//! value = "{{ line.amount }}"
//! kind = "number"          # text (default) | number | date | e164
//! ```
//!
//! A layout may also say how much one file of it may hold, so a big month is split
//! into files the tool accepts (see `mod.rs`); every key is optional:
//!
//! ```toml
//! [limits]
//! invoices = 500           # invoices per file
//! rows = 1000              # data rows per file (the header not counted)
//! bytes = 10000000         # bytes per file, header and BOM included
//! ```
//!
//! `round_off_row = true` (top level) adds a row to every invoice with a non-zero
//! round-off: its `line` has charge `round_off`, the round-off as `amount`, no tax,
//! and no number or dates, so the tool's total matches the invoice's.
//!
//! Rendered cells are trimmed. `text` cells (names, descriptions, codes) that begin
//! with `=`, `+`, `-`, `@`, tab or carriage return get a leading `'` so spreadsheets
//! do not run them. Structured cells are never altered, so a negative amount stays a
//! number; they are checked instead: `number` must be a plain decimal (`-5.00`),
//! `date` digits and separators, `e164` a `+` and digits (anything else in an `e164`
//! column is treated as text). A problem names the file, the column and, when
//! rendering, the invoice and line.

use serde::Deserialize;
use tera::{Context, Tera, Value};

use super::filters::{self, is_decimal};
use crate::error::{Error, Result};
use crate::inventory::is_e164;
use crate::render::csv::text_cell;

/// How a column's cells are checked or neutralised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Free text: formula-like starts are neutralised with `'`.
    #[default]
    Text,
    /// A plain decimal (`-5.00`, `1`), written unchanged.
    Number,
    /// A date of digits and `/`, `-` or `.`, written unchanged.
    Date,
    /// A phone number: written unchanged when it is `+` and digits, else as text.
    E164,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayoutFile {
    columns: Vec<ColumnFile>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    round_off_row: bool,
}

/// `[limits]`: the most one file may hold; `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Invoices per file.
    pub invoices: Option<usize>,
    /// Data rows per file, the header not counted.
    pub rows: Option<usize>,
    /// Bytes per file, header and byte-order mark included.
    pub bytes: Option<usize>,
}

impl Limits {
    /// Whether a file of `invoices`, `rows` and `bytes` stays within every limit.
    pub fn allow(&self, invoices: usize, rows: usize, bytes: usize) -> bool {
        let within = |limit: Option<usize>, n: usize| limit.is_none_or(|max| n <= max);
        within(self.invoices, invoices) && within(self.rows, rows) && within(self.bytes, bytes)
    }

    /// The limits set, as written in the layout: `invoices = 100, rows = 1000`.
    pub fn describe(&self) -> String {
        [
            ("invoices", self.invoices),
            ("rows", self.rows),
            ("bytes", self.bytes),
        ]
        .into_iter()
        .filter_map(|(key, limit)| limit.map(|n| format!("{key} = {n}")))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    header: String,
    value: String,
    #[serde(default)]
    kind: Kind,
}

/// A column: its header, kind, compiled template, and whether it reads `line`.
#[derive(Debug)]
struct Column {
    header: String,
    kind: Kind,
    template: String,
    per_line: bool,
}

/// A compiled layout, ready to render rows.
#[derive(Debug)]
pub struct Layout {
    /// Where it came from, for messages: a path, or `templates/csv/NAME.toml (built in)`.
    source: String,
    columns: Vec<Column>,
    tera: Tera,
    limits: Limits,
    round_off_row: bool,
}

impl Layout {
    /// Parses and compiles a layout file; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Layout> {
        let fail = |message: String| Error::input(source, message);
        let file: LayoutFile =
            toml::from_str(text).map_err(|e| fail(format!("not a CSV layout: {e}")))?;
        if file.columns.is_empty() {
            return Err(fail(
                "no columns: add [[columns]] tables with header and value".into(),
            ));
        }
        if let Some(key) = [
            ("invoices", file.limits.invoices),
            ("rows", file.limits.rows),
            ("bytes", file.limits.bytes),
        ]
        .into_iter()
        .find_map(|(key, limit)| (limit == Some(0)).then_some(key))
        {
            return Err(fail(format!(
                "limits.{key} = 0: a file must hold at least one; remove the key for no limit"
            )));
        }
        let mut tera = Tera::new();
        filters::register(&mut tera);
        let mut columns: Vec<Column> = Vec::with_capacity(file.columns.len());
        for (i, c) in file.columns.into_iter().enumerate() {
            let n = i + 1;
            let header = c.header.trim().to_owned();
            if header.is_empty() {
                return Err(fail(format!("column {n}: header is empty")));
            }
            if let Some(first) = columns.iter().position(|prev| prev.header == header) {
                return Err(fail(format!(
                    "column {n} {header:?}: the same header as column {}",
                    first + 1
                )));
            }
            let template = format!("column {n} {header}");
            let invalid = |e: tera::Error| {
                fail(format!(
                    "column {n} {header:?}: the value is not a valid template: {}",
                    tera_message(&e)
                ))
            };
            tera.add_raw_template(&template, &c.value)
                .map_err(invalid)?;
            let per_line = tera
                .get_template_variables(&template)
                .map_err(invalid)?
                .contains("line");
            columns.push(Column {
                header,
                kind: c.kind,
                template,
                per_line,
            });
        }
        Ok(Layout {
            source: source.to_owned(),
            columns,
            tera,
            limits: file.limits,
            round_off_row: file.round_off_row,
        })
    }

    /// Whether an invoice's non-zero round-off is written as a row of its own (a
    /// `line` whose charge is `round_off`).
    pub fn round_off_row(&self) -> bool {
        self.round_off_row
    }

    /// How much one file of this layout may hold.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The header row.
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.header.as_str())
    }

    /// Writes the rows of a document (`document` names it in errors: "invoice
    /// DID/…", "credit note CN/…"), one per value in `lines`. `ctx` holds the
    /// document; cells that do not read `line` are rendered once per invoice (without
    /// a `line` in the context, so a missed use fails instead of going stale).
    pub fn write_invoice(
        &self,
        w: &mut csv::Writer<Vec<u8>>,
        ctx: &mut Context,
        document: &str,
        lines: &[Value],
    ) -> Result<()> {
        ctx.remove("line");
        let fixed = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (!c.per_line)
                    .then(|| self.cell(i, ctx, document, None))
                    .transpose()
            })
            .collect::<Result<Vec<Option<String>>>>()?;
        for (n, line) in lines.iter().enumerate() {
            ctx.insert_value("line", line.clone());
            let varying = self
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    c.per_line
                        .then(|| self.cell(i, ctx, document, Some(n + 1)))
                        .transpose()
                })
                .collect::<Result<Vec<Option<String>>>>()?;
            let row = fixed
                .iter()
                .zip(&varying)
                .map(|(f, v)| f.as_deref().or(v.as_deref()).unwrap_or_default());
            w.write_record(row).expect("in-memory CSV");
        }
        Ok(())
    }

    /// Renders column `i` and checks or neutralises it; errors name the column and
    /// the document (and line).
    fn cell(&self, i: usize, ctx: &Context, document: &str, line: Option<usize>) -> Result<String> {
        let c = &self.columns[i];
        let fail = |problem: String| {
            let at = match line {
                Some(n) => format!("{document}, line {n}"),
                None => document.to_owned(),
            };
            Error::input(
                &self.source,
                format!("column {} {:?}, {at}: {problem}", i + 1, c.header),
            )
        };
        let raw = self
            .tera
            .render(&c.template, ctx)
            .map_err(|e| fail(tera_message(&e)))?;
        safe_cell(c.kind, raw.trim()).map_err(fail)
    }
}

/// A tera error with its causes (tera puts the useful part in the source chain).
fn tera_message(e: &tera::Error) -> String {
    let shown = e.to_string();
    let mut message = shown.strip_prefix("error: ").unwrap_or(&shown).to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// Checks or neutralises a rendered, trimmed cell by its column's kind.
fn safe_cell(kind: Kind, value: &str) -> std::result::Result<String, String> {
    match kind {
        Kind::Text => Ok(text_cell(value).into_owned()),
        Kind::E164 if is_e164(value) => Ok(value.to_owned()),
        Kind::E164 => Ok(text_cell(value).into_owned()),
        Kind::Number if value.is_empty() || is_decimal(value) => Ok(value.to_owned()),
        Kind::Number => Err(format!(
            "{value:?} is not a plain decimal number (kind = \"number\"); use the amount filter"
        )),
        Kind::Date
            if value.is_empty()
                || (value.starts_with(|c: char| c.is_ascii_digit())
                    && value
                        .chars()
                        .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.'))) =>
        {
            Ok(value.to_owned())
        }
        Kind::Date => Err(format!(
            "{value:?} is not a date of digits and separators (kind = \"date\"); use the date filter"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_neutralised_or_checked_by_kind() {
        assert_eq!(
            safe_cell(Kind::Text, "=HYPERLINK(\"x\")").unwrap(),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(
            safe_cell(Kind::Text, "+91 Traders").unwrap(),
            "'+91 Traders"
        );
        assert_eq!(safe_cell(Kind::Text, "-5").unwrap(), "'-5");
        assert_eq!(safe_cell(Kind::Text, "Acme").unwrap(), "Acme");
        assert_eq!(safe_cell(Kind::Number, "-5.00").unwrap(), "-5.00");
        assert_eq!(safe_cell(Kind::Number, "").unwrap(), "");
        assert!(safe_cell(Kind::Number, "=1+2")
            .unwrap_err()
            .contains("=1+2"));
        assert!(safe_cell(Kind::Number, "1,000").is_err());
        assert_eq!(safe_cell(Kind::Date, "30/11/2026").unwrap(), "30/11/2026");
        assert_eq!(safe_cell(Kind::Date, "2026-11-30").unwrap(), "2026-11-30");
        assert!(safe_cell(Kind::Date, "-30/11").is_err());
        assert!(safe_cell(Kind::Date, "Nov 30").is_err());
        assert_eq!(
            safe_cell(Kind::E164, "+918041000001").unwrap(),
            "+918041000001"
        );
        assert_eq!(safe_cell(Kind::E164, "+91 80").unwrap(), "'+91 80");
        assert_eq!(safe_cell(Kind::E164, "=1").unwrap(), "'=1");
    }

    #[test]
    fn layout_problems_name_the_file_and_column() {
        let cases = [
            ("", "columns"),
            ("columns = []", "no columns"),
            ("[[columns]]\nheader = \"A\"", "value"),
            ("[[columns]]\nheader = \"A\"\nvalue = \"x\"\nkidn = \"text\"", "kidn"),
            ("[[columns]]\nheader = \"A\"\nvalue = \"x\"\nkind = \"money\"", "money"),
            ("[[columns]]\nheader = \" \"\nvalue = \"x\"", "column 1: header is empty"),
            (
                "[[columns]]\nheader = \"A\"\nvalue = \"1\"\n[[columns]]\nheader = \"A\"\nvalue = \"2\"",
                "column 2 \"A\": the same header as column 1",
            ),
            (
                "[[columns]]\nheader = \"A\"\nvalue = \"1\"\n[[columns]]\nheader = \"B\"\nvalue = \"{{ line.amount | money }}\"",
                "column 2 \"B\"",
            ),
            (
                "[[columns]]\nheader = \"A\"\nvalue = \"{% if x %}\"",
                "column 1 \"A\"",
            ),
            (
                "[limits]\nrows = 0\n[[columns]]\nheader = \"A\"\nvalue = \"1\"",
                "limits.rows = 0: a file must hold at least one",
            ),
            (
                "[limits]\nlines = 5\n[[columns]]\nheader = \"A\"\nvalue = \"1\"",
                "lines",
            ),
        ];
        for (text, needle) in cases {
            let err = Layout::parse("my/layout.toml", text)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("my/layout.toml: "), "{err}");
            assert!(err.contains(needle), "{text}\n→ {err}");
        }
    }

    #[test]
    fn limits_are_read_from_the_layout_and_default_to_none() {
        let one = "[[columns]]\nheader = \"A\"\nvalue = \"1\"";
        assert_eq!(Layout::parse("x", one).unwrap().limits(), Limits::default());
        let limited = format!("[limits]\ninvoices = 100\nrows = 1000\n{one}");
        let limits = Layout::parse("x", &limited).unwrap().limits();
        assert_eq!(
            limits,
            Limits {
                invoices: Some(100),
                rows: Some(1000),
                bytes: None
            }
        );
        assert!(limits.allow(100, 1000, usize::MAX));
        assert!(!limits.allow(101, 1, 1) && !limits.allow(1, 1001, 1));
    }

    #[test]
    fn rendering_problems_name_the_column_and_row() {
        let layout = Layout::parse(
            "x.toml",
            "[[columns]]\nheader = \"A\"\nvalue = \"{{ invoice.number }}\"\n\
             [[columns]]\nheader = \"B\"\nvalue = \"{{ line.amount }}\"\nkind = \"number\"",
        )
        .unwrap();
        let render = |invoice: serde_json::Value, lines: &[serde_json::Value]| {
            let mut ctx = Context::new();
            ctx.insert("invoice", &invoice);
            let lines: Vec<Value> = lines.iter().map(Value::from_serializable).collect();
            let mut w = crate::render::csv::writer();
            layout
                .write_invoice(&mut w, &mut ctx, "invoice X", &lines)
                .map(|()| String::from_utf8(crate::render::csv::finish(w)).unwrap())
                .map_err(|e| e.to_string())
        };
        let one = serde_json::json!({"number": "X"});
        let rows = render(
            one.clone(),
            &[
                serde_json::json!({"amount": "1.00"}),
                serde_json::json!({"amount": "-2.00"}),
            ],
        );
        assert_eq!(rows.unwrap(), "X,1.00\nX,-2.00\n");
        let err = render(
            serde_json::json!({}),
            &[serde_json::json!({"amount": "1.00"})],
        )
        .unwrap_err();
        assert!(
            err.starts_with("x.toml: column 1 \"A\", invoice X: "),
            "{err}"
        );
        let err = render(
            one,
            &[
                serde_json::json!({"amount": "1.00"}),
                serde_json::json!({"amount": "abc"}),
            ],
        )
        .unwrap_err();
        assert!(
            err.starts_with(
                "x.toml: column 2 \"B\", invoice X, line 2: \"abc\" is not a plain decimal"
            ),
            "{err}"
        );
    }
}
