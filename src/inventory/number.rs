//! One number record's checks: its id, customer, e164, status, fees and dates, each
//! problem named by its field.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use didbill_core::inventory::{Customer, Number, Status, MAX_FEE, MAX_FEE_DECIMALS};
use didbill_core::money::Currency;
use rust_decimal::Decimal;
use vobiz::dto::{JsonDecimal, Loose, NumberRecord};

use super::text;
use crate::text::{is_hidden, starts_like_formula};

/// Checks one record; `Ok(None)` for a `pending_purchase` number.
pub(super) fn validate_number(
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
