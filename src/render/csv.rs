//! The canonical outputs of SPEC §4: `line_items.csv`, `invoices.csv`,
//! `exceptions.csv` and `summary.json`, and didbill's `usage_exceptions.csv`.
//!
//! CSV is written by the `csv` crate (RFC 4180, `\n` line ends, quotes only where
//! needed, no BOM). Free-text cells that a spreadsheet would run as a formula are
//! neutralised with a leading `'`; structured cells are validated upstream instead.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

pub use crate::csv_file::{e164_cell, finish, text_cell, writer, LINE_ITEMS_HEADER};
use crate::inventory::calls::CallProblem;
use didbill_core::billing::bill::NotBillable;
use didbill_core::billing::IssuedInvoice;
use didbill_core::fx::InrValues;
use didbill_core::inventory::Exception;
use didbill_core::money::{format_2dp, Currency, Money};
use rust_decimal::Decimal;

/// Header of `invoices.csv`.
pub const INVOICES_HEADER: [&str; 18] = [
    "invoice_number",
    "invoice_date",
    "due_date",
    "customer_id",
    "customer_name",
    "customer_gstin",
    "place_of_supply",
    "currency",
    "lines",
    "subtotal",
    "cgst",
    "sgst",
    "igst",
    "round_off",
    "total",
    "fx_rate",
    "taxable_value_inr",
    "tax_inr",
];

/// Header of `exceptions.csv`.
pub const EXCEPTIONS_HEADER: [&str; 4] = ["customer_id", "number_id", "e164", "reason"];

/// `not_billable.csv` columns.
pub const NOT_BILLABLE_HEADER: [&str; 5] = ["customer_id", "number_id", "e164", "status", "reason"];

/// Header of `usage_exceptions.csv`.
pub const USAGE_EXCEPTIONS_HEADER: [&str; 4] = ["customer_id", "uuid", "start_time", "reason"];

fn opt(n: Option<u32>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// `line_items.csv`: every line in invoice line order (customer, currency, then the
/// numbers' lines by e164, charge and service_from, then usage by direction); usage
/// lines leave number_id, e164, days and unit_amount empty.
pub fn line_items(invoices: &[IssuedInvoice]) -> Vec<u8> {
    let mut sorted: Vec<&IssuedInvoice> = invoices.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.invoice.customer.id, a.invoice.currency)
            .cmp(&(&b.invoice.customer.id, b.invoice.currency))
    });
    let mut header = writer();
    header
        .write_record(LINE_ITEMS_HEADER)
        .expect("in-memory CSV");
    // Rows of a few hundred invoices at a time on all cores, joined in order; each
    // part is freed once it is copied, so the file is never in memory twice.
    let parts: Vec<Vec<u8>> = sorted
        .par_chunks(256)
        .map(|chunk| {
            let mut w = writer();
            for issued in chunk {
                write_line_rows(&mut w, issued);
            }
            finish(w)
        })
        .collect();
    let mut out = finish(header);
    out.reserve_exact(parts.iter().map(Vec::len).sum());
    for part in parts {
        out.extend_from_slice(&part);
    }
    out
}

fn write_line_rows(w: &mut csv::Writer<Vec<u8>>, issued: &IssuedInvoice) {
    let inv = &issued.invoice;
    let date = issued.invoice_date.to_string();
    let name = text_cell(&inv.customer.name);
    for l in &inv.lines {
        let row: [&str; 14] = [
            &issued.number,
            &date,
            &inv.customer.id,
            &name,
            inv.currency.as_str(),
            &l.number_id,
            &l.e164,
            l.charge.as_str(),
            &l.service_from.to_string(),
            &l.service_to.to_string(),
            &opt(l.billable_days),
            &opt(l.period_days),
            &l.unit_amount.map(|m| m.to_string()).unwrap_or_default(),
            &l.amount.to_string(),
        ];
        w.write_record(row).expect("in-memory CSV");
    }
}

/// `invoices.csv`: one row per invoice, in the order given (invoice-number order).
pub fn invoices(invoices: &[IssuedInvoice], gst_percent: Decimal) -> Vec<u8> {
    let mut w = writer();
    w.write_record(INVOICES_HEADER).expect("in-memory CSV");
    for issued in invoices {
        let inv = &issued.invoice;
        let (fx_rate, taxable_inr, tax_inr) = rupee_cells(issued, gst_percent);
        let row: [&str; 18] = [
            &issued.number,
            &issued.invoice_date.to_string(),
            &issued.due_date.to_string(),
            &inv.customer.id,
            &text_cell(&inv.customer.name),
            inv.customer.gstin.as_deref().unwrap_or(""),
            inv.place_of_supply.code(),
            inv.currency.as_str(),
            &inv.lines.len().to_string(),
            &inv.subtotal.to_string(),
            &inv.cgst.to_string(),
            &inv.sgst.to_string(),
            &inv.igst.to_string(),
            &inv.round_off.to_string(),
            &inv.total.to_string(),
            &fx_rate,
            &taxable_inr,
            &tax_inr,
        ];
        w.write_record(row).expect("in-memory CSV");
    }
    finish(w)
}

/// The rupee columns of `invoices.csv`: a rupee invoice's own taxable value and
/// GST (no rate), a foreign-currency invoice's converted at its rate, and nothing
/// for one that carries no rate (GST off, or issued before rates were recorded).
fn rupee_cells(issued: &IssuedInvoice, gst_percent: Decimal) -> (String, String, String) {
    let inv = &issued.invoice;
    match InrValues::of_issued(issued, gst_percent) {
        Some(inr) => (
            inr.rate.to_string(),
            format_2dp(inr.taxable_value),
            format_2dp(inr.tax()),
        ),
        None if inv.currency == Currency::INR => (
            String::new(),
            inv.subtotal.to_string(),
            inv.tax().to_string(),
        ),
        None => Default::default(),
    }
}

/// `exceptions.csv`, sorted by customer_id, e164, number_id.
pub fn exceptions(exceptions: &[Exception]) -> Vec<u8> {
    let mut sorted: Vec<&Exception> = exceptions.iter().collect();
    sorted.sort();
    let mut w = writer();
    w.write_record(EXCEPTIONS_HEADER).expect("in-memory CSV");
    for e in sorted {
        // What the record carried: ids that were valid are written unchanged (they
        // never start like a formula), invalid ones as free text.
        w.write_record([
            text_cell(&e.customer_id).as_ref(),
            &text_cell(&e.number_id),
            &e164_cell(&e.e164),
            &text_cell(&e.reason),
        ])
        .expect("in-memory CSV");
    }
    finish(w)
}

/// `not_billable.csv`: every number that owes nothing this period, and why, in
/// customer, e164, id order (so every number fetched is in exactly one file).
pub fn not_billable(numbers: &[NotBillable]) -> Vec<u8> {
    let mut w = writer();
    w.write_record(NOT_BILLABLE_HEADER).expect("in-memory CSV");
    for n in numbers {
        // A pending purchase's fields are as the record carried them: free text.
        w.write_record([
            text_cell(&n.customer_id).as_ref(),
            &text_cell(&n.number_id),
            &e164_cell(&n.e164),
            n.status,
            &text_cell(&n.reason),
        ])
        .expect("in-memory CSV");
    }
    finish(w)
}

/// `usage_exceptions.csv`: the call records not billed, by customer in the order
/// fetched. The uuid and start time are what the row carried, so they are free text.
pub fn usage_exceptions(problems: &[CallProblem]) -> Vec<u8> {
    let mut w = writer();
    w.write_record(USAGE_EXCEPTIONS_HEADER)
        .expect("in-memory CSV");
    for p in problems {
        w.write_record([
            text_cell(&p.customer_id).as_ref(),
            &text_cell(&p.uuid),
            &text_cell(&p.start_time),
            &text_cell(&p.reason),
        ])
        .expect("in-memory CSV");
    }
    finish(w)
}

/// The call records of a run in `summary.json`: every distinct row read is billed,
/// outside the period, on an invoice not issued, or in `usage_exceptions.csv`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    /// Distinct rows read (none with `--no-usage` or a snapshot without `cdrs/`).
    pub fetched: usize,
    /// Calls on the usage lines of issued invoices.
    pub billed: usize,
    /// Calls starting (local date) outside the period: the fetch's margin days.
    pub outside_period: usize,
    /// Calls on an invoice not issued because every line of it is 0.00.
    pub not_invoiced: usize,
    /// Rows in `usage_exceptions.csv`.
    pub exceptions: usize,
}

/// Totals of one currency in `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CurrencyTotals {
    /// Sum of subtotals.
    pub subtotal: String,
    /// Sum of GST.
    pub tax: String,
    /// Sum of totals.
    pub total: String,
    /// What the provider charges for the same lines (only with partner prices,
    /// see [`didbill_core::pricing`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_cost: Option<String>,
    /// `subtotal − provider_cost`: the partner's margin before tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<String>,
}

/// `summary.json` (SPEC §4); keys after `totals` are didbill's additions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// `YYYY-MM`.
    pub period: String,
    /// As-of instant, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub as_of: String,
    /// Accounts fetched.
    pub customers: usize,
    /// Distinct number ids plus records without id.
    pub numbers_fetched: usize,
    /// Numbers with at least one line.
    pub billed: usize,
    /// Numbers without a charge in the period, or `pending_purchase`.
    pub not_billable: usize,
    /// Numbers in `exceptions.csv`.
    pub exceptions: usize,
    /// Invoices issued.
    pub invoices: usize,
    /// Totals per currency.
    pub totals: BTreeMap<String, CurrencyTotals>,
    /// Line items issued.
    pub lines: usize,
    /// Whether this was a `--dry-run` (draft numbers, no ledger).
    pub dry_run: bool,
    /// What became of the call records read.
    pub calls: CallCounts,
    /// Things a person should look at (place of supply fallbacks, fetch notes).
    pub warnings: Vec<String>,
    /// The credit and debit notes of the period's invoices (left out when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<crate::render::notes::NotesSummary>,
}

/// Sums subtotal, tax and total per currency, and with `margins` the provider cost
/// and the margin.
pub fn totals(invoices: &[IssuedInvoice], margins: bool) -> BTreeMap<String, CurrencyTotals> {
    let mut sums: BTreeMap<String, [Money; 4]> = BTreeMap::new();
    for issued in invoices {
        let inv = &issued.invoice;
        let c = inv.currency;
        let provider = Money::sum(c, inv.lines.iter().map(|l| &l.provider_amount));
        let entry = sums.entry(c.to_string()).or_insert([Money::zero(c); 4]);
        for (sum, add) in entry
            .iter_mut()
            .zip([inv.subtotal, inv.tax(), inv.total, provider])
        {
            *sum = Money::sum(c, [&*sum, &add]);
        }
    }
    sums.into_iter()
        .map(|(c, [subtotal, tax, total, provider])| {
            let margin = subtotal.amount() - provider.amount();
            (
                c,
                CurrencyTotals {
                    subtotal: subtotal.to_string(),
                    tax: tax.to_string(),
                    total: total.to_string(),
                    provider_cost: margins.then(|| provider.to_string()),
                    margin: margins.then(|| didbill_core::money::format_2dp(margin)),
                },
            )
        })
        .collect()
}

/// `summary.json` as pretty JSON with a final newline.
pub fn summary_json(summary: &Summary) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(summary).expect("summary serialises");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_text_is_neutralised() {
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for s in ["+91", "-5", "@SUM", "\tx", "\rx"] {
            assert!(text_cell(s).starts_with('\''), "{s}");
        }
        assert_eq!(text_cell("Acme"), "Acme");
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn exceptions_csv_quotes_only_where_needed_and_keeps_valid_e164() {
        let rows = vec![
            Exception {
                customer_id: "MA_2".into(),
                e164: "+9180".into(),
                number_id: "b".into(),
                reason: "x, y".into(),
            },
            Exception {
                customer_id: "MA_1".into(),
                e164: "=1+2".into(),
                number_id: "a".into(),
                reason: "-bad".into(),
            },
        ];
        let text = String::from_utf8(exceptions(&rows)).unwrap();
        assert_eq!(
            text,
            "customer_id,number_id,e164,reason\nMA_1,a,'=1+2,'-bad\nMA_2,b,+9180,\"x, y\"\n"
        );
    }
}
