//! Call usage: validated calls → usage lines.
//!
//! A customer's calls become one `usage` line per currency and call direction. A
//! call belongs to the period when its start time's local date (billing timezone)
//! is in it, whatever its end: a call from 23:50 on the last day to 00:20 on the
//! next is billed in full in this period, and one starting at 23:50 the day before
//! the period is not. The amount is the sum of the calls' `total_cost`, marked up
//! by `usage_markup_percent` and rounded once; the provider cost is the same sum
//! rounded once. A line's description (for templates) counts the calls and their
//! billable minutes (`billsec` summed, divided by 60).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{ChargeKind, Line, Rules, UsageDetail};
use crate::money::{Currency, Money};
use crate::pricing::Price;

/// One call that can be billed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The customer whose call it was.
    pub customer_id: String,
    /// Currency of the cost.
    pub currency: Currency,
    /// `inbound` or `outbound`, lower case.
    pub direction: String,
    /// When the call started.
    pub start: DateTime<Utc>,
    /// Billable seconds.
    pub billsec: u64,
    /// What the provider charges for the call, unrounded.
    pub total_cost: Decimal,
}

/// The usage lines of the period: one per customer, currency and direction with
/// calls starting (local date) in it.
pub fn usage_lines(calls: &[Call], rules: &Rules) -> Vec<Line> {
    let (ps, pe) = (rules.period.start(), rules.period.end());
    let mut groups: BTreeMap<(&str, Currency, &str), (u64, u64, Decimal)> = BTreeMap::new();
    for call in calls {
        let day = rules.local_date(call.start);
        if day < ps || day >= pe {
            continue;
        }
        let group = groups
            .entry((&call.customer_id, call.currency, &call.direction))
            .or_default();
        group.0 += 1;
        group.1 += call.billsec;
        group.2 += call.total_cost;
    }
    groups
        .into_iter()
        .map(
            |((customer_id, currency, direction), (calls, seconds, cost))| {
                let markup = rules
                    .pricing
                    .prices(customer_id, currency)
                    .usage_markup_percent;
                let round = |v: Decimal| Money::round(v, currency, rules.rounding);
                Line {
                    customer_id: customer_id.to_owned(),
                    currency,
                    number_id: String::new(),
                    e164: String::new(),
                    charge: ChargeKind::Usage,
                    service_from: ps,
                    service_to: pe.pred_opt().unwrap_or(pe),
                    billable_days: None,
                    period_days: None,
                    unit_amount: None,
                    amount: round(Price::Markup(markup).apply(cost)),
                    provider_amount: round(cost),
                    setup_key: None,
                    usage: Some(UsageDetail {
                        direction: direction.to_owned(),
                        calls,
                        billable_seconds: seconds,
                    }),
                }
            },
        )
        .collect()
}
