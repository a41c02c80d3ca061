//! Inventory validation: raw records → customers, billable numbers and exceptions
//! (the types are [`didbill_core::inventory`]'s), and call records → calls
//! ([`calls`]).
//!
//! Every number record ends in exactly one bucket (SPEC §2.4). This stage decides
//! the records that can never be billed safely (exceptions, with a reason naming the
//! field) and the ones that are not billable by status (`pending_purchase`); the
//! billing stage later splits the rest into billed and not billable (no charge in
//! the period). Distinct ids are counted once: identical duplicates collapse, and
//! duplicates with different content become a single exception.

pub mod calls;
pub mod distinct;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use didbill_core::inventory::{
    Customer, Exception, Inventory, Number, PendingNumber, Status, MAX_FEE, MAX_FEE_DECIMALS,
};
use didbill_core::money::Currency;
use rayon::prelude::*;
use rust_decimal::Decimal;
use vobiz::dto::{AccountRecord, JsonDecimal, Loose, NumberRecord};
use vobiz::snapshot::Snapshot;

use crate::error::{Error, Result};
use crate::text::{escape_hidden, escape_inside, is_bidi_control, is_hidden, starts_like_formula};
use distinct::distinct;

/// Validates a snapshot into an inventory.
///
/// Account problems (no `auth_id`, two different accounts with one id) are errors:
/// an invoice cannot be addressed safely. Number problems become exceptions.
pub fn validate(snapshot: &Snapshot) -> Result<Inventory> {
    let customers = validate_accounts(&snapshot.accounts)?;
    let mut inventory = Inventory {
        customers,
        ..Inventory::default()
    };

    let mut groups: Vec<(&NumberRecord, bool)> = Vec::with_capacity(snapshot.numbers.len());
    for d in distinct(&snapshot.numbers, record_id, |r| r.fingerprint) {
        if record_id(d.first).is_none() {
            inventory
                .exceptions
                .push(exception(d.first, no_id_reason(d.first)));
            inventory.numbers_fetched += 1;
        } else {
            groups.push((d.first, d.conflicting));
        }
    }
    inventory.numbers_fetched += groups.len();

    // Each record is checked on its own, so on all cores; the results are then
    // filed in first-appearance order.
    let customers = &inventory.customers;
    let checked: Vec<_> = groups
        .into_par_iter()
        .map(|(record, conflicting)| {
            let result = (!conflicting).then(|| validate_number(record, customers));
            (record, result)
        })
        .collect();
    for (record, result) in checked {
        let Some(result) = result else {
            inventory.exceptions.push(exception(
                record,
                "the API returned this number id more than once with different data \
                 (duplicate id with conflicting data); check the number in the Vobiz console"
                    .into(),
            ));
            continue;
        };
        match result {
            Ok(Some(number)) => inventory.numbers.push(number),
            Ok(None) => inventory.pending.push(PendingNumber {
                id: text(&record.id),
                customer_id: text(&record.account_id),
                e164: text(&record.e164),
            }),
            Err(problems) => inventory
                .exceptions
                .push(exception(record, problems.join("; "))),
        }
    }
    inventory.exceptions.sort();
    Ok(inventory)
}

/// A number record's id, when it has a usable one (a readable record with a
/// non-blank id), exactly as sent: ids are compared untrimmed.
pub fn record_id(record: &NumberRecord) -> Option<&str> {
    match &record.id {
        Loose::Value(id) if !id.trim().is_empty() && record.unreadable.is_none() => Some(id),
        _ => None,
    }
}

fn text(field: &Loose<String>) -> String {
    field.as_str().unwrap_or_default().to_owned()
}

/// An exception row; what the record carried is escaped (see [`crate::text`]) so no
/// control character reaches `exceptions.csv` or a terminal.
fn exception(record: &NumberRecord, reason: String) -> Exception {
    let escaped = |field: &Loose<String>| escape_inside(&text(field)).into_owned();
    Exception {
        customer_id: escaped(&record.account_id),
        e164: escaped(&record.e164),
        number_id: escaped(&record.id),
        reason: escape_inside(&reason).into_owned(),
    }
}

fn no_id_reason(record: &NumberRecord) -> String {
    if let Some(why) = &record.unreadable {
        return why.clone();
    }
    match &record.id {
        Loose::WrongType(t) => format!("id is a {t}, not a string; the record cannot be tracked"),
        _ => "record has no id; it cannot be tracked or billed once only".into(),
    }
}

fn validate_accounts(accounts: &[AccountRecord]) -> Result<BTreeMap<String, Customer>> {
    let mut customers = BTreeMap::new();
    for (i, account) in accounts.iter().enumerate() {
        let id = account
            .auth_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::Data(format!(
                    "account #{} has no auth_id; every account needs its MA_... id",
                    i + 1
                ))
            })?;
        if id.chars().any(is_hidden) {
            return Err(Error::Data(format!(
                "account #{} has the auth_id \"{}\" with control or bidirectional characters; \
                 fix the accounts data",
                i + 1,
                escape_hidden(id)
            )));
        }
        if starts_like_formula(id) {
            return Err(Error::Data(format!(
                "account #{} has the auth_id \"{}\", which starts like a spreadsheet formula \
                 (= + - @); fix the accounts data",
                i + 1,
                escape_hidden(id)
            )));
        }
        let customer = customer(id, account);
        if let Some(previous) = customers.get(id) {
            if previous != &customer {
                return Err(Error::Data(format!(
                    "account {id} appears twice with different details; fix the accounts data"
                )));
            }
        }
        customers.insert(id.to_owned(), customer);
    }
    Ok(customers)
}

/// Drops bidirectional controls and turns control characters into spaces (none of
/// which has a place on an invoice or in a spreadsheet cell), then trims (SPEC §4).
/// Spaces inside are kept as the account has them: `"Country  IN "` is
/// `Country  IN`.
pub fn clean_text(s: &str) -> String {
    let spaced: String = s
        .chars()
        .filter(|&c| !is_bidi_control(c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.trim().to_owned()
}

fn non_blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(clean_text).filter(|s| !s.is_empty())
}

fn customer(id: &str, a: &AccountRecord) -> Customer {
    let name = non_blank(&a.company)
        .or_else(|| non_blank(&a.name))
        .unwrap_or_else(|| id.to_owned());
    let mut address = Vec::new();
    if let Some(street) = non_blank(&a.address) {
        address.push(street);
    }
    let city_zip: Vec<String> = [non_blank(&a.city), non_blank(&a.zip_code)]
        .into_iter()
        .flatten()
        .collect();
    if !city_zip.is_empty() {
        address.push(city_zip.join(" "));
    }
    let state_country: Vec<String> = [non_blank(&a.state), non_blank(&a.country)]
        .into_iter()
        .flatten()
        .collect();
    if !state_country.is_empty() {
        address.push(state_country.join(", "));
    }
    Customer {
        id: id.to_owned(),
        name,
        email: non_blank(&a.email),
        address,
        street: non_blank(&a.address),
        city: non_blank(&a.city),
        postal_code: non_blank(&a.zip_code),
        country: non_blank(&a.country),
        gstin: non_blank(&a.gstin).map(|g| g.to_ascii_uppercase()),
        state: non_blank(&a.state),
        cash_credits: match &a.cash_credits {
            JsonDecimal::Amount(d) => Some(*d),
            _ => None,
        },
    }
}

/// Checks one record; `Ok(None)` for a `pending_purchase` number.
fn validate_number(
    r: &NumberRecord,
    customers: &BTreeMap<String, Customer>,
) -> std::result::Result<Option<Number>, Vec<String>> {
    let mut problems = Vec::new();
    if r.id.as_str().is_some_and(|id| id.chars().any(is_hidden)) {
        problems.push("id contains control or bidirectional characters".into());
    } else if r.id.as_str().is_some_and(starts_like_formula) {
        problems.push("id starts like a spreadsheet formula (= + - @)".into());
    }
    let status = match r.status.text() {
        Ok(Some(s)) => match Status::parse(s) {
            Some(Status::PendingPurchase) => return Ok(None),
            Some(status) => Some(status),
            None => {
                problems.push(format!(
                    "status {s:?} is unknown (expected active, pending_purchase, pending_release, released, blocked or suspended)"
                ));
                None
            }
        },
        Ok(None) => {
            problems.push("status is missing".into());
            None
        }
        Err(t) => {
            problems.push(format!("status is a {t}, not a string"));
            None
        }
    };
    let customer_id = match r.account_id.text() {
        Ok(Some(id)) if customers.contains_key(id) => Some(id.to_owned()),
        Ok(Some(id)) => {
            problems.push(format!(
                "account_id {id:?} is not among the accounts fetched (unknown customer id)"
            ));
            None
        }
        Ok(None) => {
            problems.push("account_id is missing: the number has no customer".into());
            None
        }
        Err(t) => {
            problems.push(format!("account_id is a {t}, not a string"));
            None
        }
    };
    let e164 = match r.e164.text() {
        Ok(Some(e)) if is_e164(e) => Some(e.to_owned()),
        Ok(Some(e)) => {
            problems.push(e164_problem(e));
            None
        }
        Ok(None) => {
            problems.push("e164 is missing".into());
            None
        }
        Err(t) => {
            problems.push(format!("e164 is a {t}, not a string"));
            None
        }
    };
    let currency = match r.currency.text() {
        Ok(Some(c)) => Currency::parse(c.trim()).or_else(|| {
            problems.push(format!(
                "currency {c:?} is not an ISO 4217 code such as \"INR\""
            ));
            None
        }),
        Ok(None) => {
            problems.push("currency is missing".into());
            None
        }
        Err(t) => {
            problems.push(format!("currency is a {t}, not a string"));
            None
        }
    };
    let setup_fee = fee("setup_fee", &r.setup_fee, &mut problems);
    let monthly_fee = fee("monthly_fee", &r.monthly_fee, &mut problems);
    let purchased_at = datetime("purchased_at", &r.purchased_at, &mut problems);
    if matches!(r.purchased_at, Loose::Absent | Loose::Null) {
        problems.push("purchased_at is missing: the service start is unknown".into());
    }
    let released_at = datetime("released_at", &r.released_at, &mut problems);
    let last_billing_date = datetime("last_billing_date", &r.last_billing_date, &mut problems);
    let next_billing_date = datetime("next_billing_date", &r.next_billing_date, &mut problems);
    if status == Some(Status::Released) && released_at.is_none() && !has_text(&r.released_at) {
        problems.push("status is released but released_at is missing".into());
    }
    if let (Some(p), Some(rel)) = (purchased_at, released_at) {
        if rel < p {
            problems.push(format!(
                "released_at {rel} is earlier than purchased_at {p}"
            ));
        }
    }
    if let (Some(last), Some(next)) = (last_billing_date, next_billing_date) {
        if next < last {
            problems.push(format!(
                "next_billing_date {next} is earlier than last_billing_date {last}"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    match (
        status,
        customer_id,
        e164,
        currency,
        setup_fee,
        monthly_fee,
        purchased_at,
    ) {
        (
            Some(status),
            Some(customer_id),
            Some(e164),
            Some(currency),
            Some(setup_fee),
            Some(monthly_fee),
            Some(purchased_at),
        ) => Ok(Some(Number {
            id: text(&r.id),
            customer_id,
            e164,
            status,
            currency,
            setup_fee,
            monthly_fee,
            purchased_at,
            released_at,
            last_billing_date,
            next_billing_date,
        })),
        _ => Err(vec!["record is incomplete".into()]),
    }
}

fn has_text(field: &Loose<String>) -> bool {
    field.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// Whether `s` is `+` followed by 1 to 15 digits.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// What is wrong with an e164 that [`is_e164`] refuses: too many digits is named as
/// such, since the fix (a digit too many, or two numbers run together) differs from
/// that of a number written with spaces or without its `+`.
fn e164_problem(e: &str) -> String {
    match e.strip_prefix('+') {
        Some(d) if d.len() > 15 && d.bytes().all(|b| b.is_ascii_digit()) => format!(
            "e164 {e:?} has {} digits, too long for E.164 (at most 15 after the '+')",
            d.len()
        ),
        _ => format!("e164 {e:?} is not '+' followed by digits"),
    }
}

/// Reads a fee field by the rules of SPEC §1; a bad one adds a problem naming `field`.
pub fn fee(field: &str, value: &JsonDecimal, problems: &mut Vec<String>) -> Option<Decimal> {
    let problem = match value {
        JsonDecimal::Amount(d) if d.is_sign_negative() && !d.is_zero() => {
            format!("{field} {d} is negative")
        }
        JsonDecimal::Amount(d) if d.abs() >= MAX_FEE => format!("{field} {d} is 10^9 or more"),
        JsonDecimal::Amount(d) if d.normalize().scale() > MAX_FEE_DECIMALS => {
            format!("{field} {d} has more than {MAX_FEE_DECIMALS} decimal places")
        }
        JsonDecimal::Amount(d) => return Some(*d),
        JsonDecimal::Absent | JsonDecimal::Null => format!("{field} is missing"),
        JsonDecimal::Invalid(raw) => {
            let shown: String = raw.chars().take(40).collect();
            format!("{field} {shown} is not a number (or out of range)")
        }
    };
    problems.push(problem);
    None
}

/// Reads an optional datetime field; a malformed one adds a problem naming `field`.
pub fn datetime(
    field: &str,
    value: &Loose<String>,
    problems: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    match value.text() {
        Ok(Some(s)) if s.trim().is_empty() => None,
        Ok(Some(s)) => parse_datetime(s).or_else(|| {
            let shown: String = s.chars().take(40).collect();
            problems.push(format!("{field} {shown:?} is not an RFC 3339 datetime"));
            None
        }),
        Ok(None) => None,
        Err(t) => {
            problems.push(format!("{field} is a {t}, not a datetime string"));
            None
        }
    }
}

/// Parses an API datetime: RFC 3339 with or without fractional seconds; a datetime
/// without offset is taken as UTC, as the API documents all datetimes in UTC. The
/// year must have four digits, as RFC 3339 says (chrono would take `+262000-01-01`,
/// whose date arithmetic overflows).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
