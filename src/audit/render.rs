//! The three formats of `didbill audit`: a table for people, CSV and JSON for tools.
//!
//! CSV uses the dialect of the canonical outputs (SPEC §4): free text (customer ids
//! as the record wrote them, details, an invalid e164) is neutralised against
//! spreadsheet formulas; a valid e164 is written as is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::SecondsFormat;
use serde::Serialize;

use super::{amount, Check, Finding, Format, Report};
use crate::render::csv::{e164_cell, finish, text_cell, writer};

/// Header of the audit CSV.
pub const CSV_HEADER: [&str; 4] = ["check", "customer_id", "e164", "detail"];

/// Renders a report in the chosen format.
pub fn render(report: &Report, format: Format) -> Vec<u8> {
    match format {
        Format::Table => table(report).into_bytes(),
        Format::Csv => csv(report),
        Format::Json => json(report),
    }
}

fn csv(report: &Report) -> Vec<u8> {
    let mut w = writer();
    w.write_record(CSV_HEADER).expect("in-memory CSV");
    for f in &report.findings {
        w.write_record([
            f.check.as_str(),
            &text_cell(&f.customer_id),
            &e164_cell(&f.e164),
            &text_cell(&f.detail),
        ])
        .expect("in-memory CSV");
    }
    finish(w)
}

/// The JSON document: the audit's parameters, counts per check, findings, warnings.
#[derive(Serialize)]
struct JsonReport<'a> {
    as_of: String,
    timezone: &'static str,
    renewal_days: u32,
    renewals_due_by: String,
    low_balance: Option<String>,
    renewal_grace_hours: u32,
    customers: usize,
    numbers: usize,
    numbers_ignored: usize,
    counts: BTreeMap<&'static str, usize>,
    findings: &'a [Finding],
    warnings: &'a [String],
}

fn json(report: &Report) -> Vec<u8> {
    let p = &report.params;
    let doc = JsonReport {
        as_of: p.as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
        timezone: p.timezone.name(),
        renewal_days: p.renewal_days,
        renewals_due_by: p.window_end().to_rfc3339_opts(SecondsFormat::Secs, true),
        low_balance: p.low_balance.map(amount),
        renewal_grace_hours: p.grace_hours,
        customers: report.customers,
        numbers: report.numbers,
        numbers_ignored: report.ignored,
        counts: report
            .counts()
            .into_iter()
            .map(|(c, n)| (c.as_str(), n))
            .collect(),
        findings: &report.findings,
        warnings: &report.warnings,
    };
    let mut out = serde_json::to_vec_pretty(&doc).expect("serialisable report");
    out.push(b'\n');
    out
}

fn table(report: &Report) -> String {
    let p = &report.params;
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(
        out,
        "didbill audit as of {} ({})",
        p.local(p.as_of),
        p.as_of.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let _ = writeln!(
        out,
        "  customers {} · numbers {} ({} pending_purchase or released, counted only for no_active_number)",
        report.customers, report.numbers, report.ignored
    );
    let _ = writeln!(
        out,
        "  renewals due by {} ({} days) · low balance {} · grace {} h",
        p.local(p.window_end()),
        p.renewal_days,
        p.low_balance.map_or_else(|| "not set".to_owned(), amount),
        p.grace_hours
    );
    let _ = writeln!(out, "  findings {}", report.findings.len());

    let width = |field: fn(&Finding) -> &str| {
        report
            .findings
            .iter()
            .map(|f| field(f).chars().count())
            .max()
            .unwrap_or(0)
    };
    let customer_width = width(|f| &f.customer_id);
    let e164_width = width(|f| &f.e164);
    let counts = report.counts();
    for check in Check::ALL {
        let _ = writeln!(
            out,
            "\n{} ({}): {}",
            check.as_str(),
            counts[&check],
            check.why()
        );
        for f in report.findings.iter().filter(|f| f.check == check) {
            let _ = writeln!(
                out,
                "  {:customer_width$}  {:e164_width$}  {}",
                f.customer_id, f.e164, f.detail
            );
        }
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} warning(s) on stderr: records or fields that could not be checked.",
            report.warnings.len()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Params;
    use crate::config::Config;

    fn report(findings: Vec<Finding>) -> Report {
        let as_of = crate::inventory::parse_datetime("2026-12-01T00:00:00Z").unwrap();
        Report {
            params: Params::new(&Config::default(), as_of, 14, None),
            customers: 2,
            numbers: 3,
            ignored: 1,
            findings,
            warnings: vec![],
        }
    }

    fn finding(check: Check, customer_id: &str, e164: &str, detail: &str) -> Finding {
        Finding {
            check,
            customer_id: customer_id.into(),
            e164: e164.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn csv_neutralises_free_text_but_not_valid_numbers() {
        let r = report(vec![
            finding(
                Check::KycPending,
                "=cmd()",
                "+918000000001",
                "-x, \"quoted\"",
            ),
            finding(Check::NoApplication, "MA_1", "@SUM(A1)", "+1 day"),
            finding(Check::NoActiveNumber, "MA_2", "", "plain"),
        ]);
        let text = String::from_utf8(render(&r, Format::Csv)).unwrap();
        assert_eq!(
            text,
            "check,customer_id,e164,detail\n\
             kyc_pending,'=cmd(),+918000000001,\"'-x, \"\"quoted\"\"\"\n\
             no_application,MA_1,'@SUM(A1),'+1 day\n\
             no_active_number,MA_2,,plain\n"
        );
    }

    #[test]
    fn table_aligns_columns_and_lists_every_check() {
        let r = report(vec![
            finding(Check::Lapsed, "MA_LONGER1", "+91800", "a"),
            finding(Check::NoActiveNumber, "MA_2", "", "b"),
        ]);
        let text = table(&r);
        assert!(text.contains("\nlapsed (1): "), "{text}");
        assert!(text.contains("\n  MA_LONGER1  +91800  a\n"), "{text}");
        assert!(text.contains("\n  MA_2                b\n"), "{text}");
        for check in Check::ALL {
            assert!(text.contains(&format!("\n{} (", check.as_str())), "{text}");
        }
        assert!(
            text.starts_with("didbill audit as of 2026-12-01 05:30 IST (2026-12-01T00:00:00Z)\n")
        );
    }

    #[test]
    fn json_lists_parameters_counts_and_findings() {
        let mut r = report(vec![finding(Check::Lapsed, "MA_1", "+91800", "a")]);
        r.params.low_balance = Some(rust_decimal::Decimal::new(5, 1));
        r.warnings.push("w".into());
        let doc: serde_json::Value = serde_json::from_slice(&render(&r, Format::Json)).unwrap();
        assert_eq!(doc["low_balance"], "0.50");
        assert_eq!(doc["renewals_due_by"], "2026-12-15T00:00:00Z");
        assert_eq!(doc["counts"]["lapsed"], 1);
        assert_eq!(doc["counts"]["kyc_pending"], 0);
        assert_eq!(doc["findings"][0]["check"], "lapsed");
        assert_eq!(doc["warnings"][0], "w");
    }
}
