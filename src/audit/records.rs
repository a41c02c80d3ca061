//! The records as the checks read them: accounts by id, and each distinct number
//! record with the fields the checks use, each read on its own.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::inventory::{self, distinct::distinct, record_id};
use didbill_core::inventory::Status;
use vobiz::dto::{AccountRecord, Loose, NumberRecord};

use super::{Check, Finding};

/// A number record as the checks see it.
pub(super) struct Num<'a> {
    pub(super) record: &'a NumberRecord,
    pub(super) customer_id: &'a str,
    pub(super) e164: &'a str,
    /// `None` when missing or not a status the API documents.
    pub(super) status: Option<Status>,
    /// Parsed only for numbers that are checked.
    pub(super) last_billing: Option<DateTime<Utc>>,
    pub(super) next_billing: Option<DateTime<Utc>>,
}

impl<'a> Num<'a> {
    pub(super) fn new(record: &'a NumberRecord, warnings: &mut Vec<String>) -> Num<'a> {
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
    pub(super) fn datetime(
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
    pub(super) fn ignored(&self) -> bool {
        matches!(
            self.status,
            Some(Status::PendingPurchase | Status::Released)
        )
    }

    pub(super) fn id(&self) -> Option<&'a str> {
        record_id(self.record)
    }

    /// Names the number in warnings.
    pub(super) fn label(&self) -> String {
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
    pub(super) fn finding(&self, check: Check, detail: String) -> Finding {
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
pub(super) fn accounts<'a>(
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
pub(super) fn distinct_numbers<'a>(
    records: &'a [NumberRecord],
    warnings: &mut Vec<String>,
) -> Vec<Num<'a>> {
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
