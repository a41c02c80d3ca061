//! The whole billing stage in one pure function: validated inventory and calls →
//! invoices (unnumbered), with the counts `summary.json` reports.
//!
//! [`bill`] is what `didbill run` calls between reading the source and numbering
//! in the ledger, and what the hostile-input tests call instead of re-assembling
//! the middle of the pipeline themselves.
//!
//! An invoice whose every line is 0.00 (free numbers, free calls) is not issued: a
//! tax invoice of nothing would still take a number of the gap-free GST series. It
//! is reported instead ([`Bill::not_invoiced`]), and its numbers count as not
//! billable, so the bucket counts still add up.

use std::collections::{HashMap, HashSet};

use super::charges::no_charge_reason;
use super::usage::{usage_lines, Call};
use super::{assemble, charges, Invoice, Line, Rules, SetupKey};
use crate::inventory::{Inventory, Status};
use crate::period::Period;

/// Setup fees already on an issued invoice, with the invoice (customer, currency,
/// period) that billed each: a setup fee is billed at most once ever (SPEC §2.1).
#[derive(Clone, Debug, Default)]
pub struct BilledSetups {
    billed_on: HashMap<SetupKey, (String, String, String)>,
}

impl BilledSetups {
    /// Records that the invoice of `customer_id` in `currency` for `period`
    /// (`YYYY-MM`) billed the setup fee `key`.
    pub fn insert(&mut self, key: SetupKey, customer_id: String, currency: String, period: String) {
        self.billed_on.insert(key, (customer_id, currency, period));
    }

    /// Whether `line` may be billed in `period`: anything but a setup fee that an
    /// invoice other than this period's one for the same customer and currency has
    /// already billed (that one is a re-run of the same invoice).
    pub fn allows(&self, line: &Line, period: Period) -> bool {
        let Some(key) = &line.setup_key else {
            return true;
        };
        self.billed_on
            .get(key)
            .is_none_or(|(customer, currency, billed_period)| {
                *customer == line.customer_id
                    && currency == line.currency.as_str()
                    && *billed_period == period.to_string()
            })
    }
}

/// A number that owes nothing for the period, with the reason (`not_billable.csv`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotBillable {
    /// The owning customer.
    pub customer_id: String,
    /// The number as `+` and digits (as carried, for a pending purchase).
    pub e164: String,
    /// The number's id.
    pub number_id: String,
    /// The number's status as the API names it.
    pub status: &'static str,
    /// Why it owes nothing.
    pub reason: String,
}

/// Billing result of the inventory's numbers: every line, and the numbers that got
/// none.
pub struct Charges {
    /// All line items of the period.
    pub lines: Vec<Line>,
    /// Numbers with at least one line.
    pub billed: usize,
    /// Numbers without a line, plus `pending_purchase` ones, sorted by customer,
    /// e164 and id.
    pub not_billable: Vec<NotBillable>,
}

/// Computes every number's charges and sorts numbers into billed and not billable.
/// Lines `billable` rejects (setup fees already billed on another invoice) are
/// dropped first, so a number whose only charge was one counts as not billable.
pub fn charge_inventory(
    inventory: &Inventory,
    rules: &Rules,
    billable: impl Fn(&Line) -> bool,
) -> Charges {
    let mut lines = Vec::with_capacity(inventory.numbers.len() + inventory.numbers.len() / 8);
    let mut billed = 0;
    let mut not_billable: Vec<NotBillable> = inventory
        .pending
        .iter()
        .map(|p| NotBillable {
            customer_id: p.customer_id.clone(),
            e164: p.e164.clone(),
            number_id: p.id.clone(),
            status: Status::PendingPurchase.as_str(),
            reason: "pending_purchase: not provisioned yet; billed once the purchase completes"
                .into(),
        })
        .collect();
    for number in &inventory.numbers {
        let before = lines.len();
        let owed = charges(number, rules);
        let any_owed = !owed.is_empty();
        lines.extend(owed.into_iter().filter(|l| billable(l)));
        if lines.len() > before {
            billed += 1;
            continue;
        }
        not_billable.push(NotBillable {
            customer_id: number.customer_id.clone(),
            e164: number.e164.clone(),
            number_id: number.id.clone(),
            status: number.status.as_str(),
            reason: match any_owed {
                true => "its only charge, the setup fee, is on an earlier invoice".into(),
                false => no_charge_reason(number, rules),
            },
        });
    }
    not_billable.sort();
    Charges {
        lines,
        billed,
        not_billable,
    }
}

/// The billing stage's result: unnumbered invoices and what `summary.json` counts.
#[derive(Clone, Debug)]
pub struct Bill {
    /// One invoice per customer and currency with a line that is not 0.00, in
    /// customer-id then currency order (the order new numbers are handed out in).
    pub invoices: Vec<Invoice>,
    /// Customers whose place of supply fell back to the seller's state.
    pub warnings: Vec<String>,
    /// Numbers with at least one line on an issued invoice.
    pub billed: usize,
    /// Numbers without a line, only 0.00 lines on an invoice not issued, or
    /// `pending_purchase`, with the reasons, sorted by customer, e164 and id.
    pub not_billable: Vec<NotBillable>,
    /// Line items on the issued invoices.
    pub lines: usize,
    /// The invoices not issued because every line is 0.00.
    pub not_invoiced: Vec<NotInvoiced>,
}

/// A customer's invoice in one currency that is not issued: every line is 0.00.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotInvoiced {
    /// The customer.
    pub customer_id: String,
    /// The currency of the invoice not issued.
    pub currency: String,
    /// Numbers whose only lines were on it.
    pub numbers: usize,
    /// Calls on its usage lines.
    pub calls: u64,
}

impl std::fmt::Display for NotInvoiced {
    /// The warning a run prints, so a customer without an invoice is not missed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "customer {} {}: every line is 0.00 ({} number(s), {} call(s)); no invoice issued",
            self.customer_id, self.currency, self.numbers, self.calls
        )
    }
}

/// Bills the period: every number's charges (minus setup fees `billed_setups`
/// says another invoice already billed), the calls' usage lines, and the invoices
/// with GST that group them, without the invoices whose every line is 0.00.
pub fn bill(
    inventory: &Inventory,
    calls: &[Call],
    rules: &Rules,
    billed_setups: &BilledSetups,
) -> Bill {
    let charged = charge_inventory(inventory, rules, |line| {
        billed_setups.allows(line, rules.period)
    });
    let mut lines = charged.lines;
    lines.extend(usage_lines(calls, rules));
    let (assembled, warnings) = assemble(lines, &inventory.customers, rules);
    let (invoices, free): (Vec<Invoice>, Vec<Invoice>) = assembled
        .into_iter()
        .partition(|i| i.lines.iter().any(|l| !l.amount.amount().is_zero()));
    let not_invoiced: Vec<NotInvoiced> = free
        .iter()
        .map(|i| NotInvoiced {
            customer_id: i.customer.id.clone(),
            currency: i.currency.to_string(),
            numbers: i
                .lines
                .iter()
                .filter(|l| !l.number_id.is_empty())
                .map(|l| &l.number_id)
                .collect::<HashSet<_>>()
                .len(),
            calls: i.calls(),
        })
        .collect();
    // A number has one customer and currency, so it is on one invoice only.
    let unissued: usize = not_invoiced.iter().map(|n| n.numbers).sum();
    let mut not_billable = charged.not_billable;
    if !free.is_empty() {
        let status: HashMap<&str, Status> = inventory
            .numbers
            .iter()
            .map(|n| (n.id.as_str(), n.status))
            .collect();
        let mut seen = HashSet::new();
        for invoice in &free {
            for line in invoice.lines.iter().filter(|l| !l.number_id.is_empty()) {
                if seen.insert(&line.number_id) {
                    not_billable.push(NotBillable {
                        customer_id: line.customer_id.clone(),
                        e164: line.e164.clone(),
                        number_id: line.number_id.clone(),
                        status: status
                            .get(line.number_id.as_str())
                            .map_or("active", |s| s.as_str()),
                        reason: format!(
                            "every line of the customer's {} invoice is 0.00: no invoice issued",
                            invoice.currency
                        ),
                    });
                }
            }
        }
        not_billable.sort();
    }
    Bill {
        lines: invoices.iter().map(|i| i.lines.len()).sum(),
        invoices,
        warnings,
        billed: charged.billed - unissued,
        not_billable,
        not_invoiced,
    }
}
