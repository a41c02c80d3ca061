//! `didbill numbers`: the rented numbers as a table, CSV or JSON.
//!
//! A view of the records as the source holds them, before billing validation: every
//! record is listed (identical duplicates once), sorted by customer, e164 and id, so
//! ops staff can look up a number whatever state its data is in. Fees keep their
//! exact value, padded to at least two decimals (`300` → `300.00`, `0.125` stays).
//! The same columns appear in every format; missing values are empty (JSON `null`).

use std::borrow::Cow;

use chrono::SecondsFormat;
use rust_decimal::Decimal;
use serde::Serialize;

use vobiz::dto::{parse_decimal, JsonDecimal, Loose, NumberRecord};
use vobiz::fetch::Scope;

use crate::error::Result;
use crate::inventory::{clean_text, is_e164, parse_datetime};
use crate::render::csv::{finish, text_cell, writer};
use crate::source::{self, SourceSettings};

pub use crate::format::Format;

/// The columns of the listing, in order.
pub const HEADER: [&str; 11] = [
    "customer_id",
    "e164",
    "number_id",
    "status",
    "application_id",
    "currency",
    "monthly_fee",
    "setup_fee",
    "next_billing_date",
    "kyc_required",
    "kyc_verified",
];

/// One number as listed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Row {
    /// The owning customer (`account_id`).
    pub customer_id: Option<String>,
    /// The number, as the record carries it.
    pub e164: Option<String>,
    /// The number's id.
    pub number_id: Option<String>,
    /// `active`, `released`, ….
    pub status: Option<String>,
    /// The voice application the number routes to.
    pub application_id: Option<String>,
    /// Currency of the fees.
    pub currency: Option<String>,
    /// Monthly rental, exact (or the record's text when it is not a number).
    pub monthly_fee: Option<String>,
    /// One-time setup fee, exact (or the record's text when it is not a number).
    pub setup_fee: Option<String>,
    /// Next renewal, UTC `YYYY-MM-DDTHH:MM:SSZ` (or the record's text).
    pub next_billing_date: Option<String>,
    /// `aadhaar_verification_required`.
    pub kyc_required: Option<bool>,
    /// `aadhaar_verified`.
    pub kyc_verified: Option<bool>,
}

impl Row {
    /// The listing row of a number record.
    pub fn new(r: &NumberRecord) -> Row {
        Row {
            customer_id: text(&r.account_id),
            e164: text(&r.e164),
            number_id: text(&r.id),
            status: text(&r.status),
            application_id: text(&r.application_id),
            currency: text(&r.currency),
            monthly_fee: fee(&r.monthly_fee),
            setup_fee: fee(&r.setup_fee),
            next_billing_date: text(&r.next_billing_date).map(|s| {
                parse_datetime(&s)
                    .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
                    .unwrap_or(s)
            }),
            kyc_required: r.aadhaar_verification_required.value().copied(),
            kyc_verified: r.aadhaar_verified.value().copied(),
        }
    }

    fn cells(&self) -> [Option<Cow<'_, str>>; 11] {
        fn s(v: &Option<String>) -> Option<Cow<'_, str>> {
            v.as_deref().map(Cow::Borrowed)
        }
        let b = |v: Option<bool>| v.map(|b| Cow::Borrowed(if b { "true" } else { "false" }));
        [
            s(&self.customer_id),
            s(&self.e164),
            s(&self.number_id),
            s(&self.status),
            s(&self.application_id),
            s(&self.currency),
            s(&self.monthly_fee),
            s(&self.setup_fee),
            s(&self.next_billing_date),
            b(self.kyc_required),
            b(self.kyc_verified),
        ]
    }
}

fn text(field: &Loose<String>) -> Option<String> {
    field.as_str().map(clean_text)
}

fn fee(field: &JsonDecimal) -> Option<String> {
    match field {
        JsonDecimal::Amount(d) => Some(fee_text(*d)),
        // A string that is not a number is shown without its JSON quotes.
        JsonDecimal::Invalid(raw) => Some(clean_text(
            &serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.clone()),
        )),
        JsonDecimal::Absent | JsonDecimal::Null => None,
    }
}

/// A fee with its exact digits, at least two decimals.
fn fee_text(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

/// Everything `didbill numbers` needs, resolved once.
#[derive(Clone, Debug)]
pub struct NumbersSettings {
    /// Only numbers whose E.164 contains these digits.
    pub search: Option<String>,
    /// How the listing is printed.
    pub format: Format,
    /// Only these customers (empty: all).
    pub customers: Vec<String>,
    /// Where the records come from.
    pub source: SourceSettings,
}

/// Loads the records in scope and renders the listing; returns it with the
/// warnings noticed while fetching.
pub fn execute(settings: &NumbersSettings) -> Result<(Vec<u8>, Vec<String>)> {
    let scope = Scope {
        customers: settings.customers.clone(),
        search: settings.search.clone(),
    };
    let mut snapshot = settings.source.load(&scope)?;
    source::select_customers(&mut snapshot, &settings.customers)?;
    let rows = rows(&snapshot.numbers, settings.search.as_deref());
    Ok((render(&rows, settings.format), snapshot.notes))
}

/// The rows of `records` whose e164 contains `search` (digits), sorted, each
/// distinct row once.
pub fn rows(records: &[NumberRecord], search: Option<&str>) -> Vec<Row> {
    let mut rows: Vec<Row> = records
        .iter()
        .map(Row::new)
        .filter(|row| match search {
            Some(digits) => row.e164.as_deref().is_some_and(|e| e.contains(digits)),
            None => true,
        })
        .collect();
    rows.sort();
    rows.dedup();
    rows
}

/// Renders rows in a format; the bytes end with a newline.
pub fn render(rows: &[Row], format: Format) -> Vec<u8> {
    match format {
        Format::Table => table(rows).into_bytes(),
        Format::Csv => csv(rows),
        Format::Json => {
            let mut bytes = serde_json::to_vec_pretty(rows).expect("rows serialise");
            bytes.push(b'\n');
            bytes
        }
    }
}

fn csv(rows: &[Row]) -> Vec<u8> {
    let mut w = writer();
    w.write_record(HEADER).expect("in-memory CSV");
    for row in rows {
        let cells = row.cells().map(|cell| match cell {
            // Valid numbers and exact fees are structured cells: never altered.
            Some(c) if is_e164(&c) || parse_decimal(&c).is_some() => c,
            Some(c) => Cow::Owned(text_cell(&c).into_owned()),
            None => Cow::Borrowed(""),
        });
        w.write_record(cells.iter().map(|c| c.as_bytes()))
            .expect("in-memory CSV");
    }
    finish(w)
}

fn table(rows: &[Row]) -> String {
    let lines: Vec<[String; 11]> = rows
        .iter()
        .map(|row| {
            row.cells()
                .map(|c| c.map(|c| c.into_owned()).unwrap_or_default())
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    push(&HEADER);
    for line in &lines {
        push(&line.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> NumberRecord {
        NumberRecord::from_json(json)
    }

    #[test]
    fn rows_are_sorted_deduplicated_and_searchable() {
        let records = [
            record(
                r#"{"id":"b","account_id":"MA_2","e164":"+918000000002","monthly_fee":300,"setup_fee":"0.125"}"#,
            ),
            record(
                r#"{"id":"a","account_id":"MA_1","e164":"+918000000001","monthly_fee":0.5,"aadhaar_verification_required":true,"aadhaar_verified":false,"next_billing_date":"2026-12-10T06:30:00.000+00:00"}"#,
            ),
            record(
                r#"{"id":"a","account_id":"MA_1","e164":"+918000000001","monthly_fee":0.5,"aadhaar_verification_required":true,"aadhaar_verified":false,"next_billing_date":"2026-12-10T06:30:00.000+00:00"}"#,
            ),
        ];
        let all = rows(&records, None);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].number_id.as_deref(), Some("a"));
        assert_eq!(all[0].monthly_fee.as_deref(), Some("0.50"));
        assert_eq!(
            all[0].next_billing_date.as_deref(),
            Some("2026-12-10T06:30:00Z")
        );
        assert_eq!(all[1].monthly_fee.as_deref(), Some("300.00"));
        assert_eq!(all[1].setup_fee.as_deref(), Some("0.125"));
        let found = rows(&records, Some("0002"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].number_id.as_deref(), Some("b"));
    }

    #[test]
    fn every_format_has_the_same_columns() {
        let records = [record(
            r#"{"id":"a","account_id":"MA_1","e164":"+918000000001","status":"active","application_id":"=cmd()","currency":"INR","monthly_fee":-5,"setup_fee":"six","aadhaar_verification_required":false}"#,
        )];
        let rows = rows(&records, None);
        let csv = String::from_utf8(render(&rows, Format::Csv)).unwrap();
        assert_eq!(
            csv,
            format!(
                "{}\nMA_1,+918000000001,a,active,'=cmd(),INR,-5.00,six,,false,\n",
                HEADER.join(",")
            )
        );
        let table = String::from_utf8(render(&rows, Format::Table)).unwrap();
        let mut lines = table.lines();
        assert!(lines.next().unwrap().starts_with("customer_id  e164"));
        assert!(lines
            .next()
            .unwrap()
            .starts_with("MA_1         +918000000001"));
        let json: serde_json::Value = serde_json::from_slice(&render(&rows, Format::Json)).unwrap();
        assert_eq!(json[0]["monthly_fee"], "-5.00");
        assert_eq!(json[0]["next_billing_date"], serde_json::Value::Null);
        assert_eq!(json[0]["kyc_required"], false);
        assert_eq!(json[0].as_object().unwrap().len(), HEADER.len());
    }
}
