//! The checks on hand-made records.

use super::*;
use std::str::FromStr;

use crate::inventory;
use vobiz::dto::{AccountRecord, NumberRecord};

const AS_OF: &str = "2026-12-01T00:00:00Z";

fn t(s: &str) -> DateTime<Utc> {
    inventory::parse_datetime(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn params() -> Params {
    Params::new(&Config::default(), t(AS_OF), 14, None)
}

fn account(id: &str, credits: &str) -> AccountRecord {
    snapshot_account(&format!(
        r#"{{"auth_id": "{id}", "name": "N", "cash_credits": {credits}}}"#
    ))
}

fn snapshot_account(json: &str) -> AccountRecord {
    vobiz::snapshot::parse_account(json).unwrap()
}

/// A healthy active number of `MA_1`, with fields replaced by `changes` (raw JSON).
fn number(e164: &str, changes: &[(&str, &str)]) -> NumberRecord {
    let mut fields: Vec<(String, String)> = [
        ("id", format!("\"id{e164}\"")),
        ("account_id", "\"MA_1\"".into()),
        ("e164", format!("\"{e164}\"")),
        ("status", "\"active\"".into()),
        ("setup_fee", "100".into()),
        ("monthly_fee", "300".into()),
        ("currency", "\"INR\"".into()),
        ("application_id", "\"app\"".into()),
        ("purchased_at", "\"2025-06-10T06:30:00Z\"".into()),
        ("last_billing_date", "\"2026-11-20T06:30:00Z\"".into()),
        ("next_billing_date", "\"2026-12-20T06:30:00Z\"".into()),
        ("aadhaar_verification_required", "false".into()),
        ("aadhaar_verified", "true".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in changes {
        fields.retain(|(k, _)| k != key);
        if *value != "<absent>" {
            fields.push(((*key).to_owned(), (*value).to_owned()));
        }
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    NumberRecord::from_json(&format!("{{{}}}", body.join(", ")))
}

fn run_with(accounts: Vec<AccountRecord>, numbers: Vec<NumberRecord>, p: &Params) -> Report {
    audit(
        &Snapshot {
            accounts,
            numbers,
            notes: vec![],
        },
        p,
    )
}

fn found(report: &Report, check: Check) -> Vec<(String, String)> {
    report
        .findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| (f.customer_id.clone(), f.e164.clone()))
        .collect()
}

fn details(report: &Report, check: Check) -> Vec<&str> {
    report
        .findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.detail.as_str())
        .collect()
}

fn e164s(report: &Report, check: Check) -> Vec<String> {
    found(report, check).into_iter().map(|(_, e)| e).collect()
}

#[test]
fn a_healthy_inventory_has_no_findings() {
    let r = run_with(
        vec![account("MA_1", "\"1300.00000\"")],
        vec![number("+911", &[])],
        &params(),
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.verdict(true).is_ok());
    assert_eq!((r.customers, r.numbers, r.ignored), (1, 1, 0));
}

#[test]
fn no_active_number_counts_every_status_but_active() {
    let numbers = vec![
        number("+911", &[]),
        number(
            "+921",
            &[
                ("account_id", "\"MA_2\""),
                ("status", "\"pending_release\""),
            ],
        ),
        number(
            "+931",
            &[
                ("account_id", "\"MA_3\""),
                ("status", "\"pending_purchase\""),
            ],
        ),
        number(
            "+932",
            &[("account_id", "\"MA_3\""), ("status", "\"released\"")],
        ),
        number(
            "+933",
            &[("account_id", "\"MA_3\""), ("status", "\"released\"")],
        ),
    ];
    let mut inactive = account("MA_5", "\"0\"");
    inactive.is_active = Some(false);
    let accounts = vec![
        account("MA_1", "\"1000\""),
        account("MA_2", "\"1000\""),
        account("MA_3", "\"1000\""),
        account("MA_4", "\"1000\""),
        inactive,
    ];
    let r = run_with(accounts, numbers, &params());
    let details: Vec<(&str, &str)> = r
        .findings
        .iter()
        .filter(|f| f.check == Check::NoActiveNumber)
        .map(|f| (f.customer_id.as_str(), f.detail.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            ("MA_2", "its only number is pending_release"),
            (
                "MA_3",
                "none of its 3 numbers is active (1 pending_purchase, 2 released)"
            ),
            ("MA_4", "the account has no numbers"),
            (
                "MA_5",
                "the account has no numbers; the account itself is inactive (is_active false)"
            ),
        ]
    );
    assert!(r.findings.iter().all(|f| f.e164.is_empty()));
    assert_eq!(r.ignored, 3);
}

#[test]
fn no_application_flags_active_numbers_without_one() {
    let numbers = vec![
        number("+911", &[("application_id", "null")]),
        number("+912", &[("application_id", "\"\"")]),
        number("+913", &[("application_id", "\"  \"")]),
        number("+914", &[("application_id", "<absent>")]),
        number("+915", &[]),
        number(
            "+916",
            &[
                ("application_id", "null"),
                ("status", "\"pending_release\""),
            ],
        ),
        number(
            "+917",
            &[
                ("application_id", "null"),
                ("status", "\"pending_purchase\""),
            ],
        ),
        number(
            "+918",
            &[("application_id", "null"), ("status", "\"blocked\"")],
        ),
    ];
    let r = run_with(vec![account("MA_1", "\"1e6\"")], numbers, &params());
    assert_eq!(
        e164s(&r, Check::NoApplication),
        ["+911", "+912", "+913", "+914"]
    );
}

#[test]
fn kyc_pending_needs_required_and_not_verified() {
    let numbers = vec![
        number(
            "+911",
            &[
                ("aadhaar_verification_required", "true"),
                ("aadhaar_verified", "false"),
            ],
        ),
        number(
            "+912",
            &[
                ("aadhaar_verification_required", "true"),
                ("aadhaar_verified", "null"),
            ],
        ),
        number(
            "+913",
            &[
                ("aadhaar_verification_required", "true"),
                ("aadhaar_verified", "true"),
            ],
        ),
        number(
            "+914",
            &[
                ("aadhaar_verification_required", "false"),
                ("aadhaar_verified", "false"),
            ],
        ),
        number(
            "+915",
            &[
                ("aadhaar_verification_required", "true"),
                ("aadhaar_verified", "false"),
                ("status", "\"released\""),
                ("released_at", "\"2026-11-01T00:00:00Z\""),
            ],
        ),
        // A malformed fee makes the number unbillable, not its KYC state unknown.
        number(
            "+916",
            &[
                ("aadhaar_verification_required", "true"),
                ("aadhaar_verified", "false"),
                ("monthly_fee", "\"six hundred\""),
                ("setup_fee", "null"),
            ],
        ),
    ];
    let r = run_with(vec![account("MA_1", "\"1e6\"")], numbers, &params());
    assert_eq!(e164s(&r, Check::KycPending), ["+911", "+912", "+916"]);
    assert!(details(&r, Check::KycPending)[1].ends_with("aadhaar_verified is null"));
}

#[test]
fn lapsed_is_strictly_past_the_grace() {
    // as-of 2026-12-01T00:00Z, 72 h grace: lapsed when next < 2026-11-28T00:00Z.
    let numbers = vec![
        number(
            "+911",
            &[
                ("last_billing_date", "\"2026-10-27T23:59:59Z\""),
                ("next_billing_date", "\"2026-11-27T23:59:59Z\""),
            ],
        ),
        number(
            "+912",
            &[
                ("last_billing_date", "\"2026-10-28T00:00:00Z\""),
                ("next_billing_date", "\"2026-11-28T00:00:00Z\""),
            ],
        ),
        number(
            "+913",
            &[("last_billing_date", "null"), ("next_billing_date", "null")],
        ),
        number(
            "+914",
            &[
                ("status", "\"released\""),
                ("next_billing_date", "\"2026-01-01T00:00:00Z\""),
            ],
        ),
    ];
    let r = run_with(vec![account("MA_1", "\"1e6\"")], numbers, &params());
    assert_eq!(e164s(&r, Check::Lapsed), ["+911"]);
    assert_eq!(
        details(&r, Check::Lapsed)[0],
        "next_billing_date 2026-11-28 05:29:59 IST was not renewed; the 72 h grace ended 2026-12-01 05:29:59 IST"
    );
    let mut no_grace = params();
    no_grace.grace_hours = 0;
    let r = run_with(
        vec![account("MA_1", "\"1e6\"")],
        vec![number(
            "+911",
            &[
                ("last_billing_date", "\"2026-10-30T23:59:59Z\""),
                ("next_billing_date", "\"2026-11-30T23:59:59Z\""),
            ],
        )],
        &no_grace,
    );
    assert_eq!(e164s(&r, Check::Lapsed), ["+911"]);
}

#[test]
fn billing_dates_follow_calendar_months_with_clamping() {
    let pair = |last: &str, next: &str| {
        let r = run_with(
            vec![account("MA_1", "\"1e6\"")],
            vec![number(
                "+911",
                &[
                    ("last_billing_date", &format!("\"{last}\"")),
                    ("next_billing_date", &format!("\"{next}\"")),
                ],
            )],
            &params(),
        );
        !e164s(&r, Check::BillingDatesInconsistent).is_empty()
    };
    assert!(!pair("2026-11-20T06:30:00Z", "2026-12-20T06:30:00Z"));
    assert!(!pair("2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z"));
    assert!(!pair("2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z"));
    assert!(!pair("2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z"));
    assert!(!pair("2026-12-31T10:00:00Z", "2027-01-31T10:00:00Z"));
    // Fractional seconds are not a difference.
    assert!(!pair("2026-11-20T06:30:00.123Z", "2026-12-20T06:30:00Z"));
    assert!(pair("2028-01-31T10:00:00Z", "2028-02-28T10:00:00Z"));
    assert!(pair("2027-01-31T10:00:00Z", "2027-03-03T10:00:00Z"));
    assert!(pair("2026-11-20T06:30:00Z", "2026-12-21T06:30:00Z"));
    assert!(pair("2026-11-20T06:30:00Z", "2026-12-20T06:30:01Z"));
    // Same local day in IST but a different UTC time of day.
    assert!(pair("2026-11-20T06:30:00Z", "2026-12-20T07:00:00Z"));
    assert!(pair("2026-12-20T06:30:00Z", "2026-11-20T06:30:00Z"));

    let one_date = run_with(
        vec![account("MA_1", "\"1e6\"")],
        vec![number("+911", &[("last_billing_date", "null")])],
        &params(),
    );
    assert!(one_date.findings.is_empty());
}

#[test]
fn renewals_at_risk_use_the_window_and_strict_comparisons() {
    let end = "\"2026-12-15T00:00:00Z\"";
    let after_end = "\"2026-12-15T00:00:01Z\"";
    let numbers = vec![
        // MA_1: 300 + 300 due in the window, balance 600: not at risk (strict).
        number("+911", &[("next_billing_date", end)]),
        number("+912", &[("next_billing_date", "\"2026-12-05T00:00:00Z\"")]),
        number("+913", &[("next_billing_date", after_end)]),
        // MA_2: the renewal at the window's end is due; balance 299.99 < 300.
        number(
            "+921",
            &[("account_id", "\"MA_2\""), ("next_billing_date", end)],
        ),
        number(
            "+922",
            &[("account_id", "\"MA_2\""), ("next_billing_date", after_end)],
        ),
        // MA_3: a renewal exactly at as-of is not in the window.
        number(
            "+931",
            &[
                ("account_id", "\"MA_3\""),
                ("last_billing_date", "\"2026-11-01T00:00:00Z\""),
                ("next_billing_date", "\"2026-12-01T00:00:00Z\""),
            ],
        ),
    ];
    let accounts = vec![
        account("MA_1", "\"600.00000\""),
        account("MA_2", "\"299.99000\""),
        account("MA_3", "\"0.00000\""),
    ];
    let r = run_with(accounts.clone(), numbers.clone(), &params());
    assert_eq!(
        found(&r, Check::RenewalAtRisk),
        [("MA_2".to_owned(), "+921".to_owned())]
    );
    assert_eq!(
        details(&r, Check::RenewalAtRisk)[0],
        "renews 2026-12-15 05:30 IST (300.00 INR); balance 299.99 is below the 300.00 INR due for 1 renewal by 2026-12-15 05:30 IST"
    );

    // --low-balance puts MA_1 at risk too (600 < 1000), strictly.
    let mut p = params();
    p.low_balance = Some(dec("1000"));
    let r = run_with(accounts.clone(), numbers.clone(), &p);
    assert_eq!(e164s(&r, Check::RenewalAtRisk), ["+911", "+912", "+921"]);
    let risk = details(&r, Check::RenewalAtRisk);
    assert!(risk[0].ends_with("balance 600.00 is below --low-balance 1000.00"));
    assert!(risk[2].contains(
        "balance 299.99 is below --low-balance 1000.00; balance 299.99 is below the 300.00 INR due"
    ));
    p.low_balance = Some(dec("600"));
    let r = run_with(accounts.clone(), numbers.clone(), &p);
    assert_eq!(e164s(&r, Check::RenewalAtRisk), ["+921"]);

    // A wider window takes in the renewal one second later.
    let mut wide = params();
    wide.renewal_days = 15;
    let r = run_with(accounts, numbers, &wide);
    assert_eq!(
        e164s(&r, Check::RenewalAtRisk),
        ["+911", "+912", "+913", "+921", "+922"]
    );
}

#[test]
fn renewals_with_unusable_fees_or_balances_are_warned_about() {
    let numbers = vec![
        number(
            "+911",
            &[
                ("monthly_fee", "\"six hundred\""),
                ("next_billing_date", "\"2026-12-05T00:00:00Z\""),
            ],
        ),
        number("+912", &[("next_billing_date", "\"2026-12-05T00:00:00Z\"")]),
        number(
            "+921",
            &[
                ("account_id", "\"MA_2\""),
                ("next_billing_date", "\"2026-12-05T00:00:00Z\""),
            ],
        ),
        number(
            "+991",
            &[
                ("account_id", "\"MA_GHOST\""),
                ("next_billing_date", "\"2026-12-05T00:00:00Z\""),
            ],
        ),
    ];
    let accounts = vec![account("MA_1", "\"250\""), account("MA_2", "null")];
    let r = run_with(accounts, numbers, &params());
    // The unreadable fee is left out of the sum but the number is still reported.
    assert_eq!(e164s(&r, Check::RenewalAtRisk), ["+911", "+912"]);
    assert!(details(&r, Check::RenewalAtRisk)[0].starts_with("renews 2026-12-05 05:30 IST (fee unreadable); balance 250.00 is below the 300.00 INR due for 1 renewal"));
    assert_eq!(r.warnings.len(), 3, "{:#?}", r.warnings);
    assert!(r.warnings[0].contains("+911 of MA_1: monthly_fee \"six hundred\""));
    assert!(r.warnings[1].starts_with("customer MA_2 has no cash_credits"));
    assert!(r.warnings[2].starts_with("customer MA_GHOST is not among the accounts"));
}

#[test]
fn renewals_in_several_currencies_are_summed_apart() {
    let numbers = vec![
        number("+911", &[("next_billing_date", "\"2026-12-05T00:00:00Z\"")]),
        number(
            "+912",
            &[
                ("currency", "\"USD\""),
                ("monthly_fee", "5"),
                ("next_billing_date", "\"2026-12-05T00:00:00Z\""),
            ],
        ),
    ];
    let r = run_with(vec![account("MA_1", "\"302\"")], numbers, &params());
    assert!(
        e164s(&r, Check::RenewalAtRisk).is_empty(),
        "{:?}",
        r.findings
    );
    assert!(r.warnings[0].contains("INR and USD"), "{:?}", r.warnings);
}

#[test]
fn ids_are_compared_as_run_compares_them() {
    // `run` bills " id+915" and "id+915" as two numbers; the audit sees two too.
    let padded = number("+915", &[("id", "\" id+915\""), ("application_id", "null")]);
    let plain = number("+915", &[("application_id", "null")]);
    let r = run_with(
        vec![account("MA_1", "\"1e6\"")],
        vec![padded, plain],
        &params(),
    );
    assert_eq!(r.numbers, 2);
    assert!(
        r.warnings.iter().all(|w| !w.contains("more than once")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn duplicates_and_broken_records() {
    let same = number("+911", &[("application_id", "null")]);
    let conflicting = number("+911", &[("application_id", "null"), ("monthly_fee", "1")]);
    let no_id = number("", &[("id", "null"), ("application_id", "null")]);
    let numbers = vec![
        same.clone(),
        same,
        conflicting,
        no_id,
        NumberRecord::from_json("42"),
        number("+913", &[("status", "\"ACTIVE\"")]),
        number("+914", &[("next_billing_date", "\"soon\"")]),
    ];
    let r = run_with(
        vec![account("MA_1", "\"1e6\""), AccountRecord::default()],
        numbers,
        &params(),
    );
    assert_eq!(r.numbers, 4);
    let no_app: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.check == Check::NoApplication)
        .collect();
    assert_eq!(no_app.len(), 2);
    assert_eq!(no_app[0].e164, "");
    assert_eq!(
        no_app[0].detail,
        "number without id or e164: active with application_id null"
    );
    let w = r.warnings.join("\n");
    for needle in [
        "account #2 has no auth_id",
        "number id id+911 was returned more than once with different data",
        "number record #5: record is not a number object",
        "number +913 of MA_1: status \"ACTIVE\" is unknown",
        "number +914 of MA_1: next_billing_date \"soon\" is not an RFC 3339 datetime; not checked for lapsed, renewal_at_risk or billing_dates_inconsistent",
    ] {
        assert!(w.contains(needle), "{needle}\n{w}");
    }
}

#[test]
fn findings_are_sorted_and_fail_on_findings_exits_5() {
    let numbers = vec![
        number("+912", &[("application_id", "null")]),
        number(
            "+911",
            &[
                ("application_id", "null"),
                ("aadhaar_verification_required", "true"),
                ("aadhaar_verified", "false"),
            ],
        ),
    ];
    let r = run_with(
        vec![account("MA_1", "\"1e6\""), account("MA_0", "\"0\"")],
        numbers,
        &params(),
    );
    let order: Vec<(&str, &str, &str)> = r
        .findings
        .iter()
        .map(|f| (f.check.as_str(), f.customer_id.as_str(), f.e164.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("kyc_pending", "MA_1", "+911"),
            ("no_active_number", "MA_0", ""),
            ("no_application", "MA_1", "+911"),
            ("no_application", "MA_1", "+912"),
        ]
    );
    let counts = r.counts();
    assert_eq!(counts.len(), Check::ALL.len());
    assert_eq!(counts[&Check::NoApplication], 2);
    assert_eq!(counts[&Check::Lapsed], 0);
    assert_eq!(r.verdict(true).unwrap_err().exit_code(), 5);
    assert!(r.verdict(false).is_ok());
}

#[test]
fn amounts_show_exactly_with_two_decimals_at_least() {
    assert_eq!(amount(dec("1300.00000")), "1300.00");
    assert_eq!(amount(dec("0.5")), "0.50");
    assert_eq!(amount(dec("12.345")), "12.345");
    assert_eq!(amount(dec("-2")), "-2.00");
    assert_eq!(amount(dec("0.00000")), "0.00");
}

#[test]
fn check_names_are_in_output_order() {
    let names: Vec<&str> = Check::ALL.iter().map(|c| c.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    for c in Check::ALL {
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            format!("\"{}\"", c.as_str())
        );
    }
}

#[test]
fn gstin_invalid_checks_the_gstin_billing_would_use() {
    let with = |id: &str, gstin: &str| {
        snapshot_account(&format!(
            r#"{{"auth_id": "{id}", "name": "N", "cash_credits": "1000", "gstin": {gstin}}}"#
        ))
    };
    let accounts = vec![
        with("MA_1", r#""27aapfu0939f1zv""#),
        with("MA_2", r#""  ""#),
        with("MA_3", "null"),
        with("MA_4", r#""27AAPFU0939F1ZW""#),
        with("MA_5", r#""27AAPFU0939F1Z""#),
    ];
    let numbers = ["MA_1", "MA_2", "MA_3", "MA_4", "MA_5"]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            number(
                &format!("+91804000{i:04}"),
                &[("account_id", &format!("\"{id}\""))],
            )
        })
        .collect();
    let report = run_with(accounts, numbers, &params());
    let found: Vec<(String, String)> = report
        .findings
        .iter()
        .filter(|f| f.check == Check::GstinInvalid)
        .map(|f| (f.customer_id.clone(), f.detail.clone()))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "MA_4");
    assert!(
        found[0]
            .1
            .contains("\"27AAPFU0939F1ZW\" fails its checksum"),
        "{found:?}"
    );
    assert_eq!(found[1].0, "MA_5");
    assert!(
        found[1].1.contains("has 14 characters, not 15"),
        "{found:?}"
    );
}
