//! `didbill audit`: the number-management checks of SPEC §5.
//!
//! The checks read the leniently parsed records ([`NumberRecord`], [`AccountRecord`])
//! rather than the validated inventory: a number that cannot be billed (a malformed
//! fee, say) still has a KYC state, an application and billing dates worth checking.
//! Each check uses only the fields it needs; when one of those is unreadable, that
//! check skips that number and says so in a warning (it never guesses). The findings
//! themselves are the six checks of SPEC §5, nothing else.
//!
//! Decisions where SPEC §5 is silent:
//! - Records: identical copies of one id count once; an id returned with different
//!   data is audited as first returned, with a warning (`didbill run` lists it as an
//!   exception); each record without an id is audited on its own; a record that is
//!   not a JSON object is only warned about. Accounts without `auth_id` are warned
//!   about and skipped; a repeated account id counts once (first wins).
//! - Status is compared exactly as the API writes it; a missing or unknown status is
//!   warned about and checked like any status that is neither `active` nor ignored.
//! - `no_application`: an absent, null, empty or blank `application_id`.
//! - `kyc_pending`: `aadhaar_verification_required` is `true` and `aadhaar_verified`
//!   is anything but `true` (missing or null is not verified).
//! - `renewal_at_risk`: fees are read as the billing run reads them; a renewing
//!   number with an unusable fee is left out of the sum (with a warning) but still
//!   reported when its customer is at risk. The accounts list does not say which
//!   currency `cash_credits` is in, so renewals are summed per currency and the
//!   balance compared with each sum (with a warning when a customer has several). A
//!   customer without a usable balance is not checked (with a warning). There is one
//!   finding per renewing number.
//! - `billing_dates_inconsistent`: compared to the second (the API writes datetimes
//!   with or without fractional seconds); a `next_billing_date` before
//!   `last_billing_date` is inconsistent too.
//! - Order: check name, customer id, e164, then detail; identical findings collapse.
//!   The order of the checks is alphabetical in every format.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Months, SubsecRound, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::inventory::{self, distinct::distinct, record_id};
use crate::source::{self, SourceSettings};
use crate::text::escape_hidden;
use didbill_core::inventory::Status;
use vobiz::dto::{AccountRecord, JsonDecimal, Loose, NumberRecord};
use vobiz::fetch::Scope;
use vobiz::snapshot::Snapshot;

mod render;

pub use render::{render, CSV_HEADER};

/// One of the checks of SPEC §5; the variants are in name order, the order of every output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// `next_billing_date` is not `last_billing_date` plus one calendar month.
    BillingDatesInconsistent,
    /// Aadhaar verification is required and not done.
    KycPending,
    /// The renewal is overdue beyond the grace period.
    Lapsed,
    /// An account without any `active` number.
    NoActiveNumber,
    /// An `active` number routed to no application.
    NoApplication,
    /// A renewal in the window that the customer's balance may not cover.
    RenewalAtRisk,
}

impl Check {
    /// Every check, in output order.
    pub const ALL: [Check; 6] = [
        Check::BillingDatesInconsistent,
        Check::KycPending,
        Check::Lapsed,
        Check::NoActiveNumber,
        Check::NoApplication,
        Check::RenewalAtRisk,
    ];

    /// The check's name in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::BillingDatesInconsistent => "billing_dates_inconsistent",
            Check::KycPending => "kyc_pending",
            Check::Lapsed => "lapsed",
            Check::NoActiveNumber => "no_active_number",
            Check::NoApplication => "no_application",
            Check::RenewalAtRisk => "renewal_at_risk",
        }
    }

    /// Why the check matters, in one line (shown in the table).
    pub fn why(self) -> &'static str {
        match self {
            Check::BillingDatesInconsistent => {
                "the renewal is off the monthly anniversary: the next debit, and the lapse date billing relies on, may be wrong"
            }
            Check::KycPending => {
                "Aadhaar KYC is required and not verified: the number can be blocked until it is"
            }
            Check::Lapsed => {
                "the rental was not renewed within the grace period: the number has stopped routing calls"
            }
            Check::NoActiveNumber => "the account has no active number: it cannot receive calls",
            Check::NoApplication => {
                "the number routes to no application: callers reach it and are hung up on"
            }
            Check::RenewalAtRisk => {
                "the balance may not cover the coming renewals: a failed debit lapses the number"
            }
        }
    }
}

/// One finding: a row `check,customer_id,e164,detail` (`e164` empty for an account).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// The check that found it.
    pub check: Check,
    /// The customer, as the record named it.
    pub customer_id: String,
    /// The number as the record carried it; empty for customer-level findings.
    pub e164: String,
    /// What was found, with dates in the billing timezone.
    pub detail: String,
}

/// What the checks measure against: the as-of instant, the renewal window and the
/// low-balance threshold from the command line; the grace and timezone from config.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The instant the audit is as of.
    pub as_of: DateTime<Utc>,
    /// Days ahead of `as_of` in which renewals are checked (`--renewal-days`).
    pub renewal_days: u32,
    /// A balance below this puts every renewal in the window at risk (`--low-balance`).
    pub low_balance: Option<Decimal>,
    /// Config `renewal_grace_hours`: how long past `next_billing_date` before a lapse.
    pub grace_hours: u32,
    /// Config `timezone`: the zone every date is shown in.
    pub timezone: Tz,
}

impl Params {
    /// Parameters from the configuration and the command line.
    pub fn new(
        config: &Config,
        as_of: DateTime<Utc>,
        renewal_days: u32,
        low_balance: Option<Decimal>,
    ) -> Params {
        Params {
            as_of,
            renewal_days,
            low_balance,
            grace_hours: config.renewal_grace_hours,
            timezone: config.timezone,
        }
    }

    /// The last instant of the renewal window `(as_of, as_of + N days]`.
    pub fn window_end(&self) -> DateTime<Utc> {
        self.as_of + Duration::days(i64::from(self.renewal_days))
    }

    /// An instant as shown to people: local date and time in the billing timezone,
    /// seconds only when there are some.
    pub fn local(&self, instant: DateTime<Utc>) -> String {
        let local = instant.with_timezone(&self.timezone);
        let format = if local.second() == 0 {
            "%Y-%m-%d %H:%M %Z"
        } else {
            "%Y-%m-%d %H:%M:%S %Z"
        };
        local.format(format).to_string()
    }
}

/// An amount as shown to people: exactly as given, with at least two decimals
/// (`1300.00000` → `1300.00`, `0.5` → `0.50`, `12.345` stays).
pub fn amount(value: Decimal) -> String {
    let mut shown = value.normalize();
    if shown.scale() < 2 {
        shown.rescale(2);
    }
    shown.to_string()
}

/// The result of an audit.
#[derive(Clone, Debug)]
pub struct Report {
    /// What the checks measured against.
    pub params: Params,
    /// Accounts audited.
    pub customers: usize,
    /// Distinct number records audited (ignored ones included).
    pub numbers: usize,
    /// `pending_purchase` and `released` numbers, which only count for `no_active_number`.
    pub ignored: usize,
    /// The findings, sorted.
    pub findings: Vec<Finding>,
    /// Records or fields that could not be checked, and notes from the source.
    pub warnings: Vec<String>,
}

impl Report {
    /// The number of findings of every check (zero included), in output order.
    pub fn counts(&self) -> BTreeMap<Check, usize> {
        let mut counts: BTreeMap<Check, usize> = Check::ALL.iter().map(|&c| (c, 0)).collect();
        for f in &self.findings {
            *counts.entry(f.check).or_default() += 1;
        }
        counts
    }

    /// The command's outcome: [`Error::Findings`] (exit 5) when `fail_on_findings`
    /// and something was found, else success.
    pub fn verdict(&self, fail_on_findings: bool) -> Result<()> {
        if fail_on_findings && !self.findings.is_empty() {
            Err(Error::Findings(self.findings.len()))
        } else {
            Ok(())
        }
    }
}

pub use crate::format::Format;

/// Everything `didbill audit` needs, resolved from arguments and config.
#[derive(Clone, Debug)]
pub struct AuditSettings {
    /// Where the records come from and how to read them.
    pub source: SourceSettings,
    /// Only these customers (empty: all).
    pub customers: Vec<String>,
    /// What the checks measure against.
    pub params: Params,
    /// How the findings are written.
    pub format: Format,
    /// Exit 5 when anything is found.
    pub fail_on_findings: bool,
}

/// Loads the records, keeps the selected customers and runs every check.
pub fn execute(settings: &AuditSettings) -> Result<Report> {
    let scope = Scope {
        customers: settings.customers.clone(),
        search: None,
    };
    let mut snapshot = settings.source.load(&scope)?;
    source::select_customers(&mut snapshot, &settings.customers)?;
    Ok(audit(&snapshot, &settings.params))
}

/// Runs every check over the records of a snapshot.
pub fn audit(snapshot: &Snapshot, params: &Params) -> Report {
    let mut warnings = snapshot.notes.clone();
    let accounts = accounts(&snapshot.accounts, &mut warnings);
    let numbers = distinct_numbers(&snapshot.numbers, &mut warnings);

    let mut findings = no_active_number(&accounts, &numbers);
    for n in numbers.iter().filter(|n| !n.ignored()) {
        findings.extend(no_application(n));
        findings.extend(kyc_pending(n));
        findings.extend(lapsed(n, params));
        findings.extend(billing_dates_inconsistent(n, params));
    }
    findings.extend(renewal_at_risk(&accounts, &numbers, params, &mut warnings));
    // What the records carried is shown escaped, in every format (see `crate::text`).
    for f in &mut findings {
        for field in [&mut f.customer_id, &mut f.e164, &mut f.detail] {
            *field = escape_hidden(field).into_owned();
        }
    }
    for w in &mut warnings {
        *w = escape_hidden(w).into_owned();
    }
    findings.sort();
    findings.dedup();

    Report {
        params: params.clone(),
        customers: accounts.len(),
        numbers: numbers.len(),
        ignored: numbers.iter().filter(|n| n.ignored()).count(),
        findings,
        warnings,
    }
}

/// A number record as the checks see it.
struct Num<'a> {
    record: &'a NumberRecord,
    customer_id: &'a str,
    e164: &'a str,
    /// `None` when missing or not a status the API documents.
    status: Option<Status>,
    /// Parsed only for numbers that are checked.
    last_billing: Option<DateTime<Utc>>,
    next_billing: Option<DateTime<Utc>>,
}

impl<'a> Num<'a> {
    fn new(record: &'a NumberRecord, warnings: &mut Vec<String>) -> Num<'a> {
        let mut n = Num {
            record,
            customer_id: record.account_id.as_str().unwrap_or_default(),
            e164: record.e164.as_str().unwrap_or_default(),
            status: None,
            last_billing: None,
            next_billing: None,
        };
        let status_problem = match record.status.text() {
            Ok(Some(s)) => {
                n.status = Status::parse(s);
                n.status
                    .is_none()
                    .then(|| format!("status {s:?} is unknown"))
            }
            Ok(None) => Some("status is missing".to_owned()),
            Err(t) => Some(format!("status is a {t}, not a string")),
        };
        if let Some(problem) = status_problem {
            warnings.push(format!(
                "{}: {problem}; it is checked as a number that is not active",
                n.label()
            ));
        }
        if !n.ignored() {
            n.next_billing = n.datetime(
                "next_billing_date",
                &record.next_billing_date,
                "lapsed, renewal_at_risk or billing_dates_inconsistent",
                warnings,
            );
            n.last_billing = n.datetime(
                "last_billing_date",
                &record.last_billing_date,
                "billing_dates_inconsistent",
                warnings,
            );
        }
        n
    }

    /// Reads a datetime field; a malformed one is warned about, naming the checks it skips.
    fn datetime(
        &self,
        field: &str,
        value: &Loose<String>,
        checks: &str,
        warnings: &mut Vec<String>,
    ) -> Option<DateTime<Utc>> {
        let mut problems = Vec::new();
        let parsed = inventory::datetime(field, value, &mut problems);
        if !problems.is_empty() {
            warnings.push(format!(
                "{}: {}; not checked for {checks}",
                self.label(),
                problems.join("; ")
            ));
        }
        parsed
    }

    /// `pending_purchase` and `released` numbers only count for `no_active_number`.
    fn ignored(&self) -> bool {
        matches!(
            self.status,
            Some(Status::PendingPurchase | Status::Released)
        )
    }

    fn id(&self) -> Option<&'a str> {
        record_id(self.record)
    }

    /// Names the number in warnings.
    fn label(&self) -> String {
        let which = match (self.e164, self.id()) {
            ("", Some(id)) => format!("id {id}"),
            ("", None) => "without id or e164".to_owned(),
            (e164, _) => e164.to_owned(),
        };
        let customer = if self.customer_id.is_empty() {
            "no customer"
        } else {
            self.customer_id
        };
        format!("number {which} of {customer}")
    }

    /// A finding about this number; the detail names the number's id when it has no e164.
    fn finding(&self, check: Check, detail: String) -> Finding {
        let detail = match (self.e164, self.id()) {
            ("", Some(id)) => format!("number id {id} (no e164): {detail}"),
            ("", None) => format!("number without id or e164: {detail}"),
            _ => detail,
        };
        Finding {
            check,
            customer_id: self.customer_id.to_owned(),
            e164: self.e164.to_owned(),
            detail,
        }
    }
}

/// Accounts by id; those without an id are warned about.
fn accounts<'a>(
    records: &'a [AccountRecord],
    warnings: &mut Vec<String>,
) -> BTreeMap<&'a str, &'a AccountRecord> {
    let mut accounts = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        match record.auth_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => {
                accounts.entry(id).or_insert(record);
            }
            _ => warnings.push(format!(
                "account #{} has no auth_id; it is not audited",
                i + 1
            )),
        }
    }
    accounts
}

/// The records to audit: identical copies once, conflicting copies as first returned.
fn distinct_numbers<'a>(records: &'a [NumberRecord], warnings: &mut Vec<String>) -> Vec<Num<'a>> {
    let mut numbers = Vec::with_capacity(records.len());
    for d in distinct(records, record_id, |r| r.fingerprint) {
        let record = d.first;
        if let Some(why) = &record.unreadable {
            warnings.push(format!(
                "number record #{}: {why}; it is not audited",
                d.index + 1
            ));
            continue;
        }
        if d.conflicting {
            warnings.push(format!(
                "number id {} was returned more than once with different data; \
                 it is audited as first returned (`didbill run` lists it as an exception)",
                record_id(record).unwrap_or_default()
            ));
        }
        numbers.push(Num::new(record, warnings));
    }
    numbers
}

/// `no_active_number`: accounts none of whose numbers has status `active`.
fn no_active_number(accounts: &BTreeMap<&str, &AccountRecord>, numbers: &[Num]) -> Vec<Finding> {
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
fn no_application(n: &Num) -> Option<Finding> {
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
fn kyc_pending(n: &Num) -> Option<Finding> {
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
fn lapsed(n: &Num, p: &Params) -> Option<Finding> {
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
fn billing_dates_inconsistent(n: &Num, p: &Params) -> Option<Finding> {
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
fn renewal_at_risk(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

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
        assert_eq!(counts.len(), 6);
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
}
