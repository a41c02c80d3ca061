//! Hostile input for the readers and the whole in-memory pipeline: arbitrary JSON,
//! mutations of real Vobiz records (fields dropped, types changed, huge and odd
//! numbers, Unicode, deep nesting), arbitrary configuration text, and file names.
//!
//! The properties: nothing panics; a broken file is a clean error naming it; a
//! broken record is an exception row; every number fetched lands in exactly one
//! bucket; no control or bidi character reaches a CSV cell. For a longer search:
//! `PROPTEST_CASES=5000 cargo test --test hostile_input`.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::value::RawValue;

use didbill::audit;
use didbill::config::{BillingTime, Config, Proration};
use didbill::error::Error;
use didbill::inventory;
use didbill::output::{leftovers, StagedDir};
use didbill::render::csv as csv_out;
use didbill::render::exports::Exports;
use didbill::run::drafts;
use didbill::text::is_hidden;
use didbill_core::billing::bill::charge_inventory;
use didbill_core::billing::{self, usage, ChargeKind, Line};
use didbill_core::inventory::{Number, Status};
use didbill_core::money::{Currency, Rounding};
use didbill_core::numbering::NumberFormat;
use didbill_core::period::Period;
use vobiz::cdr::{self, CustomerCdrs};
use vobiz::dto::NumberRecord;
use vobiz::snapshot::{parse_accounts, parse_numbers, Snapshot};

/// The fields of a Vobiz number item (SPEC §1).
const NUMBER_FIELDS: [&str; 24] = [
    "id",
    "account_id",
    "e164",
    "country",
    "region",
    "capabilities",
    "status",
    "setup_fee",
    "monthly_fee",
    "currency",
    "application_id",
    "purchased_at",
    "created_at",
    "updated_at",
    "last_billing_date",
    "next_billing_date",
    "released_at",
    "aadhaar_verification_required",
    "aadhaar_verified",
    "is_blocked",
    "is_trial_number",
    "minimum_commitment_months",
    "source",
    "tags",
];

/// JSON number text, including values no decimal or float can hold.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,3})?",
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,5})?",
        prop::sample::select(vec![
            "1e30",
            "999999999.9999999999",
            "999999999.99999999999",
            "1e9",
            "-0",
            "0.000000000000000000000000000001",
            "79228162514264337593543950335",
            "79228162514264337593543950336",
            "1e-400",
            "1E+308",
            "2e308",
            "18446744073709551616",
            "-9223372036854775809",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Text that is arbitrary, or shaped like something a field expects, or hostile.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => prop::sample::select(vec![
            "",
            "   ",
            "\u{202E}evil\u{202C}",
            "شركة الاتصالات",
            "חברת טלפון בע\"מ",
            "=HYPERLINK(\"http://evil.example\")",
            "\u{1b}[31mred\u{1b}[0m",
            "a\r\nb\0c",
            "2026-11-01T00:00:00Z",
            "2026-11-15T10:00:00.123456789+05:30",
            "+262142-12-31T23:59:59",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "+918041000001",
            "+",
            "MA_ACME0001",
            "MA_BHARAT02",
            "active",
            "released",
            "pending_purchase",
            "blocked",
            "INR",
            "USD",
            "300",
            "1e2",
            "0.5",
        ])
        .prop_map(str::to_owned),
        1 => "[0-9]{1,12}(\\.[0-9]{1,12})?",
    ]
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Arbitrary JSON text, a few levels deep.
fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        number_text(),
        text().prop_map(|s| json_string(&s)),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| object(&kv)),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(NUMBER_FIELDS.to_vec()).prop_map(str::to_owned),
        1 => text(),
    ]
}

fn object(fields: &[(String, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", json_string(k)))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// `value` inside `depth` arrays (or objects).
fn nested(value: &str, depth: usize, in_objects: bool) -> String {
    if in_objects {
        format!("{}{value}{}", "{\"x\":".repeat(depth), "}".repeat(depth))
    } else {
        format!("{}{value}{}", "[".repeat(depth), "]".repeat(depth))
    }
}

/// The demo's records, field name → raw JSON text.
fn demo_records() -> &'static Vec<BTreeMap<String, String>> {
    static RECORDS: OnceLock<Vec<BTreeMap<String, String>>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Page {
            items: Vec<BTreeMap<String, Box<RawValue>>>,
        }
        let text = std::fs::read_to_string(crate::common::demo_dir().join("numbers.json")).unwrap();
        let page: Page = serde_json::from_str(&text).unwrap();
        page.items
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|(k, v)| (k, v.get().to_owned()))
                    .collect()
            })
            .collect()
    })
}

fn demo_accounts() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| std::fs::read(crate::common::demo_dir().join("accounts.json")).unwrap())
}

/// One change to a real record.
#[derive(Clone, Debug)]
enum Mutation {
    Drop(prop::sample::Index),
    Replace(prop::sample::Index, String),
    /// Number ↔ string, anything → null or an empty container.
    Retype(prop::sample::Index, u8),
    Nest(prop::sample::Index, usize, bool),
    Insert(String, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<prop::sample::Index>().prop_map(Mutation::Drop),
        3 => (any::<prop::sample::Index>(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => (any::<prop::sample::Index>(), 0u8..5).prop_map(|(i, t)| Mutation::Retype(i, t)),
        1 => (any::<prop::sample::Index>(), prop::sample::select(vec![1usize, 2, 200, 5000]), any::<bool>())
            .prop_map(|(i, d, o)| Mutation::Nest(i, d, o)),
        1 => (key(), json_value()).prop_map(|(k, v)| Mutation::Insert(k, v)),
    ]
}

fn mutate(record: &mut BTreeMap<String, String>, m: &Mutation) {
    let pick = |record: &BTreeMap<String, String>, i: &prop::sample::Index| {
        (!record.is_empty()).then(|| record.keys().nth(i.index(record.len())).unwrap().clone())
    };
    match m {
        Mutation::Drop(i) => {
            if let Some(k) = pick(record, i) {
                record.remove(&k);
            }
        }
        Mutation::Replace(i, v) => {
            if let Some(k) = pick(record, i) {
                record.insert(k, v.clone());
            }
        }
        Mutation::Retype(i, t) => {
            if let Some(k) = pick(record, i) {
                let old = record[&k].clone();
                let new = match t {
                    0 if old.starts_with('"') => old.trim_matches('"').to_owned(),
                    0 => json_string(&old),
                    1 => "null".into(),
                    2 => "{}".into(),
                    3 => "[]".into(),
                    _ => "true".into(),
                };
                // A string unquoted may not be JSON any more: keep it only if it is.
                if serde_json::from_str::<&RawValue>(&new).is_ok() {
                    record.insert(k, new);
                }
            }
        }
        Mutation::Nest(i, depth, in_objects) => {
            if let Some(k) = pick(record, i) {
                let v = nested(&record[&k], *depth, *in_objects);
                record.insert(k, v);
            }
        }
        Mutation::Insert(k, v) => {
            record.insert(k.clone(), v.clone());
        }
    }
}

/// The demo's records, some mutated, some repeated as they are or changed.
fn mutated_demo() -> impl Strategy<Value = Vec<String>> {
    let n = demo_records().len();
    prop::collection::vec(
        (0..n, prop::collection::vec(mutation(), 0..4), any::<bool>()),
        0..40,
    )
    .prop_map(|picks| {
        picks
            .into_iter()
            .map(|(i, mutations, reformat)| {
                let mut record = demo_records()[i].clone();
                for m in &mutations {
                    mutate(&mut record, m);
                }
                let fields: Vec<(String, String)> = record.into_iter().collect();
                let text = object(&fields);
                // The same record with other whitespace is still the same record.
                if reformat {
                    text.replace(",\"", ", \"")
                } else {
                    text
                }
            })
            .collect()
    })
}

fn numbers_envelope(records: &[String]) -> Vec<u8> {
    format!(
        "{{\"items\": [{}], \"page\": 1, \"total\": {}}}",
        records.join(",\n"),
        records.len()
    )
    .into_bytes()
}

fn as_of() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Asserts a CSV parses back, every row as wide as the header, and no cell holds
/// a control or bidi character; returns the number of data rows.
fn check_csv(name: &str, bytes: &[u8]) -> usize {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut width = None;
    let mut rows = 0usize;
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(*width.get_or_insert(record.len()), record.len(), "{name}");
        for cell in record.iter() {
            // A cell may start with tabs or returns only behind the `'` guard.
            let rest = match cell.strip_prefix('\'') {
                Some(rest) => rest.trim_start_matches(['\t', '\r']),
                None => cell,
            };
            assert!(
                !rest.chars().any(is_hidden),
                "{name}: cell {cell:?} holds a hidden character"
            );
        }
        rows += 1;
    }
    rows.saturating_sub(1)
}

/// The whole in-memory pipeline of `run` and `audit` over two snapshot files.
/// `Err` is a clean error (the caller checks which); anything else is checked here.
fn pipeline(accounts: &[u8], numbers: &[u8], config: &Config) -> Result<(), Error> {
    let accounts = parse_accounts(Path::new("accounts.json"), accounts)?;
    let numbers = parse_numbers(Path::new("numbers.json"), numbers)?;
    let snapshot = Snapshot {
        accounts,
        numbers,
        notes: Vec::new(),
    };

    let params = audit::Params::new(config, as_of(), 14, None);
    let report = audit::audit(&snapshot, &params);
    for format in [
        audit::Format::Table,
        audit::Format::Csv,
        audit::Format::Json,
    ] {
        let bytes = audit::render(&report, format);
        if format == audit::Format::Csv {
            assert_eq!(check_csv("audit.csv", &bytes), report.findings.len());
        }
    }

    let inventory = inventory::validate(&snapshot)?;
    let period = Period::from_str("2026-11").unwrap();
    let rules = config.rules(period, as_of());
    let charges = charge_inventory(&inventory, &rules, |_| true);
    assert_eq!(
        charges.billed + charges.not_billable.len() + inventory.exceptions.len(),
        inventory.numbers_fetched,
        "every number fetched lands in exactly one bucket"
    );
    let line_count = charges.lines.len();
    let (invoices, _warnings) = billing::assemble(charges.lines, &inventory.customers, &rules);
    assert_eq!(
        invoices.iter().map(|i| i.lines.len()).sum::<usize>(),
        line_count
    );
    let invoice_date = period.end();
    // Whatever currencies the records carry, each has a rate.
    let mut fx = didbill_core::fx::FxRates::default();
    for invoice in &invoices {
        fx.insert_fixed(invoice.currency, rust_decimal::Decimal::from(80));
    }
    let issued = drafts(
        invoices,
        invoice_date,
        invoice_date + chrono::Duration::days(i64::from(config.invoice.due_days)),
        &fx,
    )
    .invoices;
    assert_eq!(
        check_csv("line_items.csv", &csv_out::line_items(&issued)),
        line_count
    );
    assert_eq!(
        check_csv("invoices.csv", &csv_out::invoices(&issued, config.tax.rate)),
        issued.len()
    );
    assert_eq!(
        check_csv(
            "exceptions.csv",
            &csv_out::exceptions(&inventory.exceptions)
        ),
        inventory.exceptions.len()
    );
    csv_out::totals(&issued, true);
    let layouts = ["xero", "zoho", "quickbooks"].map(String::from);
    let exports = Exports::load(&layouts, None, false).unwrap();
    for (name, bytes) in exports.render(&issued, config, period)?.0 {
        check_csv(&name, &bytes);
    }
    Ok(())
}

/// A clean error of the readers: it names the file and maps to exit 1.
fn assert_clean(err: &Error) {
    assert_eq!(err.exit_code(), 1, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("accounts.json") || msg.contains("numbers.json") || msg.contains("account"),
        "{msg}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_snapshot_files_are_clean_errors(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = pipeline(&bytes, b"{\"items\": []}", &Config::default()) {
            assert_clean(&e);
        }
        if let Err(e) = pipeline(demo_accounts(), &bytes, &Config::default()) {
            assert_clean(&e);
        }
    }

    #[test]
    fn arbitrary_json_as_snapshot_files_is_an_error_or_accounted_for(accounts in json_value(), numbers in json_value()) {
        for (a, n) in [
            (accounts.as_bytes(), numbers.as_bytes()),
            (demo_accounts(), format!("{{\"items\": [{numbers}]}}").as_bytes()),
            (format!("{{\"accounts\": [{accounts}]}}").as_bytes(), numbers.as_bytes()),
        ] {
            if let Err(e) = pipeline(a, n, &Config::default()) {
                assert_clean(&e);
            }
        }
    }

    #[test]
    fn arbitrary_number_records_become_rows_or_exceptions(
        records in prop::collection::vec(prop::collection::vec((key(), json_value()), 0..12), 0..20),
    ) {
        let records: Vec<String> = records.iter().map(|r| object(r)).collect();
        pipeline(demo_accounts(), &numbers_envelope(&records), &Config::default()).unwrap();
    }

    #[test]
    fn mutated_real_records_become_rows_or_exceptions(records in mutated_demo(), anniversary in any::<bool>()) {
        let config = Config {
            billing_time: if anniversary { BillingTime::Anniversary } else { BillingTime::Calendar },
            ..Config::default()
        };
        pipeline(demo_accounts(), &numbers_envelope(&records), &config).unwrap();
    }

    #[test]
    fn one_record_is_read_without_panicking(raw in json_value()) {
        let record = NumberRecord::from_json(&raw);
        let is_object = raw.trim_start().starts_with('{');
        prop_assert!(record.unreadable.is_some() || is_object);
    }
}

/// A line of `key = value` in TOML-ish text, keys and values drawn to hit every
/// section, type and limit.
fn toml_line() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "timezone",
        "billing_time",
        "proration",
        "rounding",
        "renewal_grace_hours",
        "round_off",
        "name",
        "address",
        "gstin",
        "state_code",
        "email",
        "enabled",
        "rate",
        "sac",
        "number_format",
        "prefix",
        "due_days",
        "base_url",
        "concurrency",
        "per_page",
        "account_code",
        "intra_state",
        "rental_markup_percent",
        "setup_markup_percent",
        "usage_markup_percent",
        "monthly_fee",
        "setup_fee",
        "colour",
    ]);
    let sections = prop::sample::select(vec![
        "[seller]",
        "[tax]",
        "[invoice]",
        "[api]",
        "[export.xero]",
        "[export.zoho.item_tax]",
        "[export]",
        "[[tax]]",
        "[tax.rate]",
        "[pricing]",
        "[pricing.customers.\"MA_ACME0001\"]",
        "[pricing.customers.MA_NOBODY]",
    ]);
    let values = prop_oneof![
        prop::sample::select(vec![
            "\"Asia/Kolkata\"",
            "\"anniversary\"",
            "\"thirty\"",
            "\"half_even\"",
            "18",
            "10000",
            "10000.0001",
            "999999999.9999999999",
            "12.5",
            "\"12.50\"",
            "1e400",
            "nan",
            "-inf",
            "-1",
            "0",
            "4294967295",
            "18446744073709551616",
            "9223372036854775807",
            "true",
            "[\"1 Road\", \"Town\"]",
            "\"{prefix}/{fy}/{seq:05}\"",
            "\"{fy}{seq:09}\"",
            "\"29ABCDE1234F1ZW\"",
            "\"http://127.0.0.1:1/\"",
            "1979-05-27T07:32:00Z",
            "{ x = 1 }",
            "\"\\u001b[2J\"",
            "\"\\u202e\"",
            "'''\nmulti\nline'''",
        ])
        .prop_map(str::to_owned),
        any::<String>().prop_map(|s| json_string(&s)),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
    ];
    prop_oneof![
        4 => (keys, values).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => sections.prop_map(str::to_owned),
        1 => "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_is_a_config_or_an_error(text in any::<String>()) {
        let _ = Config::parse(&text);
    }

    #[test]
    fn toml_ish_text_is_a_config_or_an_error_and_every_config_runs(lines in prop::collection::vec(toml_line(), 0..12)) {
        if let Ok(config) = Config::parse(&lines.join("\n")) {
            let records: Vec<String> = demo_records()
                .iter()
                .map(|r| object(&r.clone().into_iter().collect::<Vec<_>>()))
                .collect();
            pipeline(demo_accounts(), &numbers_envelope(&records), &config).unwrap();
        }
    }
}

#[test]
fn deeply_nested_configuration_is_an_error_not_a_stack_overflow() {
    for depth in [100, 10_000] {
        let text = format!("x = {}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(Config::parse(&text).is_err());
        let text = format!("x = {}1{}", "{a = ".repeat(depth), "}".repeat(depth));
        assert!(Config::parse(&text).is_err());
    }
}

#[test]
fn deeply_nested_records_are_exceptions_and_nested_envelopes_errors() {
    let mut records: Vec<String> = Vec::new();
    for depth in [1, 127, 128, 100_000] {
        for in_objects in [false, true] {
            let mut r = demo_records()[0].clone();
            let id = format!("\"deep-{depth}-{in_objects}\"");
            r.insert("id".into(), id);
            r.insert("monthly_fee".into(), nested("300", depth, in_objects));
            records.push(object(&r.into_iter().collect::<Vec<_>>()));
        }
    }
    records.push(nested("{}", 100_000, false));
    pipeline(
        demo_accounts(),
        &numbers_envelope(&records),
        &Config::default(),
    )
    .unwrap();
    let accounts = parse_accounts(Path::new("accounts.json"), demo_accounts()).unwrap();
    let snap = Snapshot {
        accounts,
        numbers: parse_numbers(Path::new("numbers.json"), &numbers_envelope(&records)).unwrap(),
        notes: Vec::new(),
    };
    let inv = inventory::validate(&snap).unwrap();
    assert_eq!(inv.exceptions.len(), records.len());

    let deep_envelope = nested("{\"items\": []}", 100_000, false);
    let err = parse_numbers(Path::new("numbers.json"), deep_envelope.as_bytes()).unwrap_err();
    assert_clean(&err.into());
}

fn extreme_number(i: usize, fee: Decimal, purchased: &str) -> Number {
    Number {
        id: format!("n{i}"),
        customer_id: "MA_1".into(),
        e164: format!("+91{i:010}"),
        status: Status::Active,
        currency: Currency::INR,
        setup_fee: fee,
        monthly_fee: fee,
        purchased_at: DateTime::parse_from_rfc3339(purchased)
            .unwrap()
            .with_timezone(&Utc),
        released_at: None,
        last_billing_date: None,
        next_billing_date: None,
    }
}

/// The largest fees validation lets through (just under 10^9, 10 decimals) at the
/// largest markup (10,000%), a whole 31-day month, every proration and rounding,
/// 100,000 lines (50,000 numbers with a setup and a rental each) on one invoice at
/// the highest tax rate: the arithmetic has room to spare (rust_decimal holds 28
/// digits; the largest value here has 17 before the point).
#[test]
fn the_largest_valid_fees_on_the_largest_invoice_do_not_overflow() {
    let max_fee = Decimal::from_str("999999999.9999999999").unwrap();
    let mut problems = Vec::new();
    assert_eq!(
        inventory::fee(
            "monthly_fee",
            &vobiz::dto::JsonDecimal::Amount(max_fee),
            &mut problems
        ),
        Some(max_fee),
        "{problems:?}"
    );
    let period = Period::from_str("2026-12").unwrap();
    for (proration, rounding, billing_time) in [
        (Proration::Actual, Rounding::HalfUp, BillingTime::Calendar),
        (Proration::Thirty, Rounding::HalfEven, BillingTime::Calendar),
        (Proration::None, Rounding::HalfUp, BillingTime::Calendar),
        (
            Proration::Actual,
            Rounding::HalfEven,
            BillingTime::Anniversary,
        ),
    ] {
        // The largest markups too: every fee billed at 101 times.
        let mut config = Config {
            proration,
            rounding,
            billing_time,
            round_off: true,
            ..Config::parse(
                "[pricing]\nrental_markup_percent = 10000\nsetup_markup_percent = 10000",
            )
            .unwrap()
        };
        config.tax.rate = Decimal::ONE_HUNDRED;
        let rules = config.rules(period, as_of());
        // Bought on the first: a setup line and a whole month of rental.
        let one = billing::charges(&extreme_number(0, max_fee, "2026-11-30T18:30:00Z"), &rules);
        assert_eq!(one.len(), 2, "{proration:?} {billing_time:?}");
        let rental = one.iter().find(|l| l.charge == ChargeKind::Rental).unwrap();
        assert_eq!(rental.amount.to_string(), "101000000000.00");
        let lines: Vec<Line> = (0..50_000)
            .flat_map(|i| {
                billing::charges(&extreme_number(i, max_fee, "2026-11-30T18:30:00Z"), &rules)
            })
            .collect();
        let mut customers = BTreeMap::new();
        customers.insert(
            "MA_1".to_owned(),
            didbill_core::inventory::Customer {
                id: "MA_1".into(),
                name: "Big".into(),
                state: Some("MH".into()),
                ..didbill_core::inventory::Customer::default()
            },
        );
        let (invoices, _) = billing::assemble(lines, &customers, &rules);
        let inv = &invoices[0];
        assert_eq!(inv.lines.len(), 100_000);
        assert_eq!(inv.subtotal.to_string(), "10100000000000000.00");
        assert_eq!(inv.igst.to_string(), "10100000000000000.00");
        assert_eq!(inv.total.to_string(), "20200000000000000.00");
        let issued = drafts(invoices, period.end(), period.end(), &Default::default()).invoices;
        assert_eq!(
            csv_out::totals(&issued, false)["INR"].total,
            "20200000000000000.00"
        );
    }
}

/// Fees past the limits never reach the arithmetic: each is an exception.
#[test]
fn fees_past_the_limits_are_exceptions() {
    for raw in [
        "1e30",
        "1000000000",
        "999999999.99999999999",
        "0.123456789012345678901234567890",
        "79228162514264337593543950336",
        "\"1e9\"",
    ] {
        let mut r = demo_records()[0].clone();
        r.insert("monthly_fee".into(), raw.into());
        let records = [object(&r.into_iter().collect::<Vec<_>>())];
        let snap = Snapshot {
            accounts: parse_accounts(Path::new("a"), demo_accounts()).unwrap(),
            numbers: parse_numbers(Path::new("n"), &numbers_envelope(&records)).unwrap(),
            notes: Vec::new(),
        };
        let inv = inventory::validate(&snap).unwrap();
        assert_eq!(inv.exceptions.len(), 1, "{raw}");
        assert!(inv.exceptions[0].reason.contains("monthly_fee"), "{raw}");
    }
}

proptest! {
    /// Whatever a caller asks to write, it lands inside the output folder or is refused.
    #[test]
    fn written_files_stay_inside_the_output_folder(parts in prop::collection::vec(
        prop_oneof![
            Just("..".to_owned()), Just(".".to_owned()), Just("/".to_owned()), Just("".to_owned()),
            Just("/etc/passwd".to_owned()), Just("a/../..".to_owned()), "[a-z.]{1,6}", any::<String>(),
        ], 1..4)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("box").join("out");
        let staged = StagedDir::create(&target, "summary.json").unwrap();
        let rel = parts.join("/");
        if staged.write_file(&rel, b"x").is_ok() {
            staged.commit().unwrap();
            let written = target.join(&rel).canonicalize().unwrap();
            prop_assert!(written.starts_with(target.canonicalize().unwrap()), "{rel:?}");
        } else {
            drop(staged);
        }
        // Nothing appeared outside `box/out`, and no staging folder is left.
        let outside: Vec<_> = std::fs::read_dir(dir.path().join("box")).unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "out")
            .collect();
        prop_assert!(outside.is_empty(), "{rel:?}: {outside:?}");
        prop_assert!(leftovers(&target).is_empty());
    }

    /// Every invoice number a valid format produces names one file inside `pdf/`.
    #[test]
    fn invoice_numbers_make_safe_file_names(
        pieces in prop::collection::vec(prop_oneof![
            Just("{prefix}"), Just("{fy}"), Just("{seq:05}"), Just("{seq:01}"), Just("/"), Just("-"),
            Just(".."), Just("."), Just("\\"), Just("INV"), Just("{seq:0"), Just(" "),
        ], 0..8),
        prefix in "[A-Za-z0-9/.\\-]{0,6}",
        seq in 1u64..1_000_000_000,
    ) {
        if let Ok(f) = NumberFormat::parse(&pieces.concat(), &prefix) {
            let number = f.render("26-27", seq.min(f.max_seq()));
            prop_assert!(!number.contains(".."), "{number}");
            let file = didbill::render::pdf_model::file_name(&number);
            let parts: Vec<_> = Path::new(&file).components().collect();
            prop_assert_eq!(parts.len(), 2, "{}", file);
            prop_assert!(parts.iter().all(|c| matches!(c, std::path::Component::Normal(_))), "{}", file);
        }
    }
}

#[test]
fn hostile_dates_and_invoice_dates_are_refused_not_overflowed() {
    // Far-future and far-past instants are exceptions, never date arithmetic.
    for raw in [
        "+262143-12-31T23:59:59",
        "-262143-01-01T00:00:00",
        "99999-01-01T00:00:00Z",
    ] {
        assert!(inventory::parse_datetime(raw).is_none(), "{raw}");
    }
    let max = inventory::parse_datetime("9999-12-31T23:59:59Z").unwrap();
    let mut config = Config::parse("renewal_grace_hours = 8784").unwrap();
    config.billing_time = BillingTime::Anniversary;
    let mut n = extreme_number(1, Decimal::ONE, "0000-01-01T00:00:00Z");
    n.next_billing_date = Some(max);
    n.last_billing_date = Some(max);
    let rules = config.rules(Period::from_str("9999-12").unwrap(), max);
    assert_eq!(billing::charges(&n, &rules).len(), 1);
}

/// The fields of a Vobiz call record (CDR).
const CDR_FIELDS: [&str; 9] = [
    "uuid",
    "call_direction",
    "billsec",
    "duration",
    "cost",
    "total_cost",
    "currency",
    "start_time",
    "end_time",
];

fn cdr_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(CDR_FIELDS.to_vec()).prop_map(str::to_owned),
        1 => key(),
    ]
}

/// Validates one customer's CDR page body and bills its calls.
fn bill_calls(body: &str) -> Result<(usize, didbill::inventory::calls::Calls, Vec<Line>), String> {
    let page = cdr::parse_page(body.as_bytes())?;
    let rows = page.data.len();
    let cdrs = [CustomerCdrs {
        customer_id: "MA_ACME0001".into(),
        dates: None,
        rows: page.data,
    }];
    let calls = didbill::inventory::calls::validate(&cdrs);
    let rules = Config::default().rules(Period::from_str("2026-11").unwrap(), as_of());
    let lines = usage::usage_lines(&calls.calls, &rules);
    Ok((rows, calls, lines))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Every call record is a call or a problem (a row fetched twice counts once),
    /// and problems show what the row carried escaped.
    #[test]
    fn arbitrary_call_records_are_calls_or_problems(
        rows in prop::collection::vec(prop::collection::vec((cdr_key(), json_value()), 0..10), 0..20),
        envelope in json_value(),
    ) {
        let _ = bill_calls(&envelope);
        let rows: Vec<String> = rows.iter().map(|r| object(r)).collect();
        let body = format!("{{\"data\": [{}]}}", rows.join(","));
        let (n, calls, lines) = bill_calls(&body).unwrap();
        prop_assert!(calls.calls.len() + calls.problems.len() <= n);
        for p in calls.problems.iter().map(ToString::to_string) {
            prop_assert!(!p.chars().any(is_hidden), "{}", p);
        }
        let billed: usize = lines.iter().filter_map(|l| l.usage.as_ref()).map(|u| u.calls as usize).sum();
        prop_assert!(billed <= calls.calls.len());
    }
}

#[test]
fn call_records_of_absurd_length_are_problems_and_sums_cannot_overflow() {
    let row = |uuid: &str, billsec: &str| {
        format!(
            r#"{{"uuid":"{uuid}","call_direction":"inbound","billsec":{billsec},"total_cost":999999999.9999999999,"currency":"INR","start_time":"2026-11-10T10:00:00Z"}}"#
        )
    };
    let month = (31 * 24 * 3600).to_string();
    let rows = [
        row("a", "18446744073709551615"),
        row("b", "18446744073709551615"),
        row("c", &(31 * 24 * 3600 + 1).to_string()),
        row("d", &month),
        row("e", &month),
    ];
    let body = format!("{{\"data\": [{}]}}", rows.join(","));
    let (_, calls, lines) = bill_calls(&body).unwrap();
    assert_eq!((calls.calls.len(), calls.problems.len()), (2, 3));
    assert!(
        calls.problems[0].reason.contains("more than 31 days"),
        "{:?}",
        calls.problems
    );
    let usage = lines[0].usage.as_ref().unwrap();
    assert_eq!(usage.billable_seconds, 2 * 31 * 24 * 3600);
    assert_eq!(lines[0].amount.to_string(), "2000000000.00");
    // A CDR envelope must be an object, not fields in order.
    assert!(cdr::parse_page(b"[[]]")
        .unwrap_err()
        .contains("not a JSON object"));
}

/// The demo's number records as text, each as the file has it, with `extra` after
/// them, written with the demo's accounts as a snapshot folder `dir` of `test`.
fn demo_snapshot_with(
    test: crate::common::Test,
    dir: &str,
    extra: &[String],
) -> crate::common::Test {
    let records: Vec<String> = demo_records()
        .iter()
        .map(|r| {
            let fields: Vec<(String, String)> =
                r.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            object(&fields)
        })
        .chain(extra.iter().cloned())
        .collect();
    test.file(&format!("{dir}/accounts.json"), demo_accounts())
        .file(&format!("{dir}/numbers.json"), numbers_envelope(&records))
}

#[test]
fn a_record_repeated_in_other_json_counts_once_from_a_snapshot_and_from_the_api() {
    use crate::common::fake_vobiz::FakeVobiz;
    use crate::common::{demo_dir, Test};
    // The first demo record again: members in reverse order, `+` written `\u002b`,
    // the monthly fee as a numeric string with a decimal.
    let first = &demo_records()[0];
    let copy: Vec<(String, String)> = first
        .iter()
        .rev()
        .map(|(k, v)| {
            let v = match k.as_str() {
                "e164" => v.replacen('+', "\\u002b", 1),
                "monthly_fee" => format!("\"{v}.0\""),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    let copy = object(&copy);
    assert!(
        copy.contains("\\u002b91") && copy.contains(".0\""),
        "{copy}"
    );
    let args = |source: &str| {
        [
            "run",
            "--source",
            source,
            "--period",
            "2026-11",
            "--as-of",
            "2026-12-02T00:00:00Z",
            "--out",
            "out",
            "--dry-run",
            "--no-pdf",
            "--no-usage",
        ]
        .map(String::from)
        .into_iter()
        .chain([
            "--config".into(),
            demo_dir().join("didbill.toml").display().to_string(),
        ])
    };
    let outputs = |ran: &crate::common::Ran| {
        ["line_items.csv", "exceptions.csv", "summary.json"].map(|f| ran.read(&format!("out/{f}")))
    };
    let plain = demo_snapshot_with(Test::new(), "snap", &[])
        .args(args("snap"))
        .run()
        .expect_code(0);
    let repeated = demo_snapshot_with(Test::new(), "snap", std::slice::from_ref(&copy));
    let fake = FakeVobiz::from_dir(&repeated.path().join("snap"))
        .unwrap()
        .start(0)
        .unwrap();
    let from_snapshot = repeated.args(args("snap")).run().expect_code(0);
    assert_eq!(outputs(&from_snapshot), outputs(&plain));
    let from_api = Test::new()
        .api(&fake)
        .args(args("api"))
        .args(["--fetch", "global"])
        .run()
        .expect_code(0);
    assert_eq!(outputs(&from_api), outputs(&plain));
    assert!(!outputs(&from_api)[1].contains(&first["id"].trim_matches('"').to_string()));

    let audit = |ran: crate::common::Ran| {
        let audited = ran
            .then()
            .args([
                "audit",
                "--source",
                "snap",
                "--as-of",
                "2026-12-02T00:00:00Z",
            ])
            .run()
            .expect_code(0);
        (audited.stdout(), audited.stderr())
    };
    assert_eq!(audit(from_snapshot), audit(plain));
}
