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

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::source::{self, SourceSettings};
use crate::text::escape_hidden;
use vobiz::fetch::Scope;
use vobiz::snapshot::Snapshot;

mod checks;
mod records;
mod render;

use checks::{
    billing_dates_inconsistent, gstin_invalid, kyc_pending, lapsed, no_active_number,
    no_application, renewal_at_risk,
};
use records::{accounts, distinct_numbers};
#[cfg(test)]
mod tests;

pub use render::{render, CSV_HEADER};

/// One of the checks of SPEC §5; the variants are in name order, the order of every output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// `next_billing_date` is not `last_billing_date` plus one calendar month.
    BillingDatesInconsistent,
    /// The account's GSTIN is malformed or fails its checksum.
    GstinInvalid,
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
    pub const ALL: [Check; 7] = [
        Check::BillingDatesInconsistent,
        Check::GstinInvalid,
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
            Check::GstinInvalid => "gstin_invalid",
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
            Check::GstinInvalid => {
                "the GSTIN is not valid: invoices to it cannot be reported as B2B, so the customer loses the tax credit"
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
    findings.extend(gstin_invalid(&accounts));
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
