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
mod number;

use number::validate_number;
pub use number::{datetime, fee, is_e164, parse_datetime};

use std::collections::BTreeMap;

use didbill_core::inventory::{Customer, Exception, Inventory, PendingNumber};
use rayon::prelude::*;
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

pub(super) fn text(field: &Loose<String>) -> String {
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
    let company = non_blank(&a.company);
    let is_company = company.is_some();
    let name = company
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
        company: is_company,
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

#[cfg(test)]
mod tests;
