//! Tests of inventory validation: accounts, number records and their fields.

use super::*;
use rust_decimal::Decimal;
use vobiz::dto::NumberRecord;

fn account(id: &str) -> AccountRecord {
    AccountRecord {
        auth_id: Some(id.into()),
        name: Some("Asha".into()),
        ..AccountRecord::default()
    }
}

fn number(json: &str) -> NumberRecord {
    NumberRecord::from_json(json)
}

const GOOD: &str = r#"{"id":"n1","account_id":"MA_1","e164":"+918000000001","status":"active",
    "setup_fee":100,"monthly_fee":300,"currency":"INR","purchased_at":"2026-10-31T20:00:00Z",
    "last_billing_date":"2026-10-31T20:00:00.123Z","next_billing_date":"2026-11-30T20:00:00Z"}"#;

fn with(field: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    if value == "<absent>" {
        v.as_object_mut().unwrap().remove(field);
    } else {
        // Spliced in as text: a serde_json::Value would round fees through f64.
        v[field] = serde_json::Value::String("__RAW__".into());
    }
    v.to_string().replace("\"__RAW__\"", value)
}

fn run(records: &[String]) -> Inventory {
    let snap = Snapshot {
        accounts: vec![account("MA_1")],
        numbers: records.iter().map(|r| number(r)).collect(),
        notes: vec![],
    };
    validate(&snap).unwrap()
}

#[test]
fn a_good_record_is_billable_with_exact_fees() {
    let inv = run(&[GOOD.into()]);
    assert_eq!(inv.numbers.len(), 1);
    let n = &inv.numbers[0];
    assert_eq!(n.monthly_fee, Decimal::from(300));
    assert_eq!(n.purchased_at.to_rfc3339(), "2026-10-31T20:00:00+00:00");
    assert_eq!(inv.numbers_fetched, 1);
}

#[test]
fn every_bad_field_is_an_exception_naming_it() {
    let cases = [
        ("status", "null", "status is missing"),
        ("status", "\"lost\"", "unknown"),
        ("account_id", "\"MA_9\"", "unknown customer"),
        ("account_id", "<absent>", "account_id is missing"),
        ("e164", "\"0800\"", "e164"),
        ("e164", "12", "e164 is a number"),
        (
            "e164",
            "\"+9180410000011234\"",
            "e164 \"+9180410000011234\" has 16 digits, too long for E.164 (at most 15 after the '+')",
        ),
        (
            "e164",
            "\"+91 80410\"",
            "e164 \"+91 80410\" is not '+' followed by digits",
        ),
        ("currency", "\"rupees\"", "currency"),
        ("monthly_fee", "null", "monthly_fee is missing"),
        ("monthly_fee", "-1", "negative"),
        ("monthly_fee", "\"abc\"", "not a number"),
        ("monthly_fee", "1e9", "10^9"),
        ("monthly_fee", "1e30", "not a number"),
        ("setup_fee", "0.12345678901", "decimal places"),
        (
            "setup_fee",
            "0.123456789012345678901234567890",
            "not a number",
        ),
        ("purchased_at", "null", "purchased_at is missing"),
        ("purchased_at", "\"2026-02-30T00:00:00Z\"", "RFC 3339"),
        (
            "next_billing_date",
            "\"2026-10-01T00:00:00Z\"",
            "earlier than last_billing_date",
        ),
        (
            "released_at",
            "\"2026-10-01T00:00:00Z\"",
            "earlier than purchased_at",
        ),
        ("status", "\"released\"", "released_at is missing"),
        ("id", "\"n1\\u001b[2J\"", "control or bidirectional"),
        ("id", "\"n1\\u202e\"", "control or bidirectional"),
        ("purchased_at", "\"+262142-12-31T23:59:59\"", "RFC 3339"),
        ("next_billing_date", "\"-0001-01-01T00:00:00Z\"", "RFC 3339"),
    ];
    for (field, value, needle) in cases {
        let inv = run(&[with(field, value)]);
        assert_eq!(inv.numbers.len(), 0, "{field}={value}");
        assert_eq!(inv.exceptions.len(), 1, "{field}={value}");
        assert!(
            inv.exceptions[0].reason.contains(needle),
            "{field}={value}: {}",
            inv.exceptions[0].reason
        );
        assert_eq!(inv.numbers_fetched, 1);
    }
}

#[test]
fn pending_purchase_is_not_billable_whatever_it_carries() {
    let r = with("status", "\"pending_purchase\"");
    let r: serde_json::Value = serde_json::from_str(&r).unwrap();
    let mut r = r;
    r["monthly_fee"] = serde_json::Value::Null;
    r["purchased_at"] = serde_json::Value::Null;
    let inv = run(&[r.to_string()]);
    assert_eq!(
        (inv.numbers.len(), inv.pending.len(), inv.exceptions.len()),
        (0, 1, 0)
    );
}

#[test]
fn duplicates_collapse_or_conflict() {
    let same = GOOD.replace('\n', " ");
    let inv = run(&[GOOD.into(), same]);
    assert_eq!(
        (inv.numbers.len(), inv.numbers_fetched, inv.exceptions.len()),
        (1, 1, 0)
    );

    // The same content written differently (SPEC §2 compares records, not text):
    // members in another order, `+` escaped, a fee as a string or with a decimal.
    let reordered = r#"{"next_billing_date":"2026-11-30T20:00:00Z","monthly_fee":"300.0",
        "currency":"INR","e164":"\u002b918000000001","setup_fee":1e2,"status":"active",
        "account_id":"MA_1","id":"n1","purchased_at":"2026-10-31T20:00:00Z",
        "last_billing_date":"2026-10-31T20:00:00.123Z","tags":["ignored"]}"#;
    let inv = run(&[GOOD.into(), reordered.into()]);
    assert_eq!(
        (inv.numbers.len(), inv.numbers_fetched, inv.exceptions.len()),
        (1, 1, 0)
    );

    let inv = run(&[GOOD.into(), with("monthly_fee", "301")]);
    assert_eq!(
        (inv.numbers.len(), inv.numbers_fetched, inv.exceptions.len()),
        (0, 1, 1)
    );
    assert!(inv.exceptions[0].reason.contains("conflicting"));

    // Records without id are one exception each.
    let inv = run(&[
        with("id", "<absent>"),
        with("id", "<absent>"),
        with("id", "\"\""),
        "7".into(),
    ]);
    assert_eq!((inv.numbers_fetched, inv.exceptions.len()), (4, 4));
}

#[test]
fn datetimes_with_and_without_fractions_and_offsets() {
    for s in [
        "2026-10-31T20:00:00Z",
        "2026-10-31T20:00:00.000000Z",
        "2026-11-01T01:30:00+05:30",
        "2026-10-31T20:00:00",
        "2026-10-31 20:00:00.5",
    ] {
        let dt = parse_datetime(s).unwrap();
        assert_eq!(
            dt.format("%Y-%m-%dT%H:%M").to_string(),
            "2026-10-31T20:00",
            "{s}"
        );
    }
    assert!(parse_datetime("yesterday").is_none());
}

#[test]
fn accounts_without_id_or_conflicting_are_errors() {
    let mut a = account("MA_1");
    a.auth_id = None;
    let err = validate(&Snapshot {
        accounts: vec![a],
        ..Snapshot::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("account #1 has no auth_id"));
    let mut b = account("MA_1");
    b.name = Some("Other".into());
    let err = validate(&Snapshot {
        accounts: vec![account("MA_1"), b],
        ..Snapshot::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("MA_1"));
}

#[test]
fn exception_rows_show_what_the_record_carried_escaped() {
    let inv =
        run(&[with("e164", "\"+91\\u001b[31m\\r\\n\"").replace("\"MA_1\"", "\"MA_\\u202e1\"")]);
    let e = &inv.exceptions[0];
    assert_eq!(e.e164, "+91\\u{1b}[31m\\r\\n");
    assert_eq!(e.customer_id, "MA_\\u{202e}1");
    assert!(
        !e.reason.chars().any(crate::text::is_hidden),
        "{}",
        e.reason
    );

    let mut a = account("MA_\u{1b}1");
    a.name = Some("x".into());
    let err = validate(&Snapshot {
        accounts: vec![a],
        ..Snapshot::default()
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("MA_\\u{1b}1") && err.contains("control"),
        "{err}"
    );
}

#[test]
fn customer_names_prefer_company_and_drop_control_characters() {
    let mut a = account("MA_1");
    a.company = Some("  Acme\u{7}  Pvt\tLtd ".into());
    assert_eq!(customer("MA_1", &a).name, "Acme   Pvt Ltd");
    a.company = Some("Country  IN ".into());
    assert_eq!(customer("MA_1", &a).name, "Country  IN");
    a.company = Some("\t\r Acme\u{1b}".into());
    assert_eq!(customer("MA_1", &a).name, "Acme");
    a.company = Some("\u{202E}dtL tvP\u{202C} שלום \u{200F}".into());
    assert_eq!(customer("MA_1", &a).name, "dtL tvP שלום \u{200F}");
    a.company = Some("   ".into());
    assert_eq!(customer("MA_1", &a).name, "Asha");
}
