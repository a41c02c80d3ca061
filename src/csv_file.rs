//! The CSV dialect of every file and listing didbill writes: the `csv` crate's
//! RFC 4180 quoting, `\n` line ends, no BOM, and free-text cells that a spreadsheet
//! would run as a formula behind a leading `'` (SPEC §4).

use std::borrow::Cow;

use crate::text::starts_like_formula;

/// Header of `line_items.csv`.
pub const LINE_ITEMS_HEADER: [&str; 14] = [
    "invoice_number",
    "invoice_date",
    "customer_id",
    "customer_name",
    "currency",
    "number_id",
    "e164",
    "charge",
    "service_from",
    "service_to",
    "billable_days",
    "period_days",
    "unit_amount",
    "amount",
];

/// Neutralises a free-text cell that begins like a spreadsheet formula.
pub fn text_cell(s: &str) -> Cow<'_, str> {
    match starts_like_formula(s) {
        true => Cow::Owned(format!("'{s}")),
        false => Cow::Borrowed(s),
    }
}

/// An `e164` cell carrying whatever a record had: as it is when it is a number
/// (`+` and digits, SPEC §4), else as free text. Empty stays empty.
pub fn e164_cell(s: &str) -> Cow<'_, str> {
    let number = s
        .strip_prefix('+')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    match number || s.is_empty() {
        true => Cow::Borrowed(s),
        false => text_cell(s),
    }
}

/// A CSV writer with didbill's dialect.
pub fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

/// Finishes a writer into its bytes.
pub fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    // Writing into a Vec cannot fail.
    w.into_inner().expect("in-memory CSV")
}
