//! The checks themselves, one function each, over the records of [`super::records`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Months, SubsecRound, Utc};
use rust_decimal::Decimal;

use crate::inventory::{self};
use didbill_core::gst;
use didbill_core::inventory::Status;
use vobiz::dto::{AccountRecord, JsonDecimal, Loose};

use super::records::Num;
use super::{amount, Check, Finding, Params};

/// `gstin_invalid`: accounts whose GSTIN, as billing reads it (trimmed, upper
/// case), is not 15 characters of state code, PAN, entity code and a valid mod-36
/// check character.
pub(super) fn gstin_invalid(accounts: &BTreeMap<&str, &AccountRecord>) -> Vec<Finding> {
    accounts
        .iter()
        .filter_map(|(&id, account)| {
            let gstin = account.gstin.as_deref()?.trim().to_ascii_uppercase();
            let error = gst::check_gstin(&gstin)
                .err()
                .filter(|_| !gstin.is_empty())?;
            Some(Finding {
                check: Check::GstinInvalid,
                customer_id: id.to_owned(),
                e164: String::new(),
                detail: format!(
                    "GSTIN {gstin:?} {error}; correct it in the account before invoices \
                     to it are reported in GSTR-1"
                ),
            })
        })
        .collect()
}

/// `no_active_number`: accounts none of whose numbers has status `active`.
pub(super) fn no_active_number(
    accounts: &BTreeMap<&str, &AccountRecord>,
    numbers: &[Num],
) -> Vec<Finding> {
    let mut held: HashMap<&str, Vec<&Num>> = HashMap::new();
    for n in numbers {
        held.entry(n.customer_id).or_default().push(n);
    }
    let mut findings = Vec::new();
    for (&id, account) in accounts {
        let own = held.get(id).map(Vec::as_slice).unwrap_or_default();
        if own.iter().any(|n| n.status == Some(Status::Active)) {
            continue;
        }
        let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
        for n in own {
            *statuses
                .entry(n.record.status.as_str().unwrap_or("without status"))
                .or_default() += 1;
        }
        let mut detail = match own.len() {
            0 => "the account has no numbers".to_owned(),
            1 => format!(
                "its only number is {}",
                statuses.keys().next().copied().unwrap_or_default()
            ),
            count => format!(
                "none of its {count} numbers is active ({})",
                statuses
                    .iter()
                    .map(|(status, k)| format!("{k} {status}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        if account.is_active == Some(false) {
            detail.push_str("; the account itself is inactive (is_active false)");
        }
        findings.push(Finding {
            check: Check::NoActiveNumber,
            customer_id: id.to_owned(),
            e164: String::new(),
            detail,
        });
    }
    findings
}

/// `no_application`: an `active` number whose `application_id` is absent, null or blank.
pub(super) fn no_application(n: &Num) -> Option<Finding> {
    if n.status != Some(Status::Active) {
        return None;
    }
    let detail = match &n.record.application_id {
        Loose::Absent => "active, and the record has no application_id",
        Loose::Null => "active with application_id null",
        Loose::Value(app) if app.trim().is_empty() => "active with an empty application_id",
        Loose::Value(_) | Loose::WrongType(_) => return None,
    };
    Some(n.finding(Check::NoApplication, detail.to_owned()))
}

/// `kyc_pending`: Aadhaar verification required and not verified.
pub(super) fn kyc_pending(n: &Num) -> Option<Finding> {
    if n.record.aadhaar_verification_required != Loose::Value(true) {
        return None;
    }
    let verified = match &n.record.aadhaar_verified {
        Loose::Value(true) => return None,
        Loose::Value(false) => "false".to_owned(),
        Loose::Null => "null".to_owned(),
        Loose::Absent => "missing".to_owned(),
        Loose::WrongType(t) => format!("a {t}, not true"),
    };
    Some(n.finding(
        Check::KycPending,
        format!("Aadhaar verification is required and aadhaar_verified is {verified}"),
    ))
}

/// `lapsed`: `next_billing_date` + grace earlier than as-of.
pub(super) fn lapsed(n: &Num, p: &Params) -> Option<Finding> {
    let next = n.next_billing?;
    let grace_end = next + Duration::hours(i64::from(p.grace_hours));
    (grace_end < p.as_of).then(|| {
        n.finding(
            Check::Lapsed,
            format!(
                "next_billing_date {} was not renewed; the {} h grace ended {}",
                p.local(next),
                p.grace_hours,
                p.local(grace_end)
            ),
        )
    })
}

/// `billing_dates_inconsistent`: `next_billing_date` ≠ `last_billing_date` + 1 month.
pub(super) fn billing_dates_inconsistent(n: &Num, p: &Params) -> Option<Finding> {
    let (last, next) = (n.last_billing?, n.next_billing?);
    // Months are added to the UTC date and time; chrono clamps the day to the month.
    let expected = last.trunc_subsecs(0).checked_add_months(Months::new(1));
    if expected == Some(next.trunc_subsecs(0)) {
        return None;
    }
    let expected = expected.map_or_else(|| "out of range".to_owned(), |e| p.local(e));
    Some(n.finding(
        Check::BillingDatesInconsistent,
        format!(
            "next_billing_date {} is not one month after last_billing_date {} (expected {expected})",
            p.local(next),
            p.local(last)
        ),
    ))
}

/// `renewal_at_risk`: renewals in `(as_of, as_of + N days]` whose customer's balance is
/// below `--low-balance` or below the renewals due.
pub(super) fn renewal_at_risk(
    accounts: &BTreeMap<&str, &AccountRecord>,
    numbers: &[Num],
    p: &Params,
    warnings: &mut Vec<String>,
) -> Vec<Finding> {
    let end = p.window_end();
    let mut renewing: BTreeMap<&str, Vec<(&Num, DateTime<Utc>)>> = BTreeMap::new();
    for n in numbers.iter().filter(|n| !n.ignored()) {
        if let Some(next) = n.next_billing.filter(|&t| p.as_of < t && t <= end) {
            renewing.entry(n.customer_id).or_default().push((n, next));
        }
    }

    let mut findings = Vec::new();
    for (customer, renewals) in renewing {
        let balance = match accounts.get(customer).map(|a| &a.cash_credits) {
            Some(JsonDecimal::Amount(b)) => *b,
            other => {
                let why = match other {
                    None => "is not among the accounts fetched".to_owned(),
                    Some(JsonDecimal::Invalid(raw)) => format!(
                        "has cash_credits {} that is not a number",
                        raw.chars().take(40).collect::<String>()
                    ),
                    Some(_) => "has no cash_credits".to_owned(),
                };
                warnings.push(format!(
                    "customer {customer} {why}; renewal_at_risk skips its {} due by {}",
                    plural(renewals.len(), "renewal"),
                    p.local(end)
                ));
                continue;
            }
        };

        let mut due: BTreeMap<&str, (Decimal, usize)> = BTreeMap::new();
        let mut fees = Vec::with_capacity(renewals.len());
        for (n, _) in &renewals {
            let mut problems = Vec::new();
            let fee = inventory::fee("monthly_fee", &n.record.monthly_fee, &mut problems);
            let currency = n.record.currency.as_str().map_or("", str::trim);
            match fee {
                Some(fee) => {
                    let sum = due.entry(currency).or_insert((Decimal::ZERO, 0));
                    sum.0 += fee;
                    sum.1 += 1;
                }
                None => warnings.push(format!(
                    "{}: {}; renewal_at_risk leaves it out of the renewals due",
                    n.label(),
                    problems.join("; ")
                )),
            }
            fees.push(fee.map(|f| priced(f, currency)));
        }
        if due.len() > 1 {
            warnings.push(format!(
                "customer {customer} has renewals due in {}; cash_credits is compared with each currency's renewals on its own",
                due.keys().map(|c| if c.is_empty() { "no currency" } else { c }).collect::<Vec<_>>().join(" and ")
            ));
        }

        let mut reasons = Vec::new();
        if let Some(low) = p.low_balance.filter(|&low| balance < low) {
            reasons.push(format!(
                "balance {} is below --low-balance {}",
                amount(balance),
                amount(low)
            ));
        }
        for (currency, (sum, count)) in &due {
            if balance < *sum {
                reasons.push(format!(
                    "balance {} is below the {} due for {} by {}",
                    amount(balance),
                    priced(*sum, currency),
                    plural(*count, "renewal"),
                    p.local(end)
                ));
            }
        }
        if reasons.is_empty() {
            continue;
        }
        let why = reasons.join("; ");
        for ((n, next), fee) in renewals.iter().zip(fees) {
            let fee = fee.unwrap_or_else(|| "fee unreadable".to_owned());
            findings.push(n.finding(
                Check::RenewalAtRisk,
                format!("renews {} ({fee}); {why}", p.local(*next)),
            ));
        }
    }
    findings
}

/// An amount with its currency, when the record named one.
fn priced(value: Decimal, currency: &str) -> String {
    if currency.is_empty() {
        amount(value)
    } else {
        format!("{} {currency}", amount(value))
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
