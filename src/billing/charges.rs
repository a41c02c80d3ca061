//! Charges of one number for one period (SPEC §2 and §2.1).

use chrono::{Datelike, NaiveDate, SecondsFormat};
use rust_decimal::Decimal;

use super::{ChargeKind, Line, Rules, SetupKey};
use crate::config::{BillingTime, Proration};
use crate::inventory::Number;
use crate::money::Money;
use crate::period::{days_between, monthly_anniversary};

/// The service window `[start, end)` of a number in local dates; `end` is `None`
/// while the number is held.
pub fn service_window(number: &Number, rules: &Rules) -> (NaiveDate, Option<NaiveDate>) {
    let start = rules.local_date(number.purchased_at);
    let mut end = number.released_at.map(|r| rules.local_date(r));
    if let Some(next) = number.next_billing_date {
        if next + rules.grace < rules.as_of {
            let lapse = rules.local_date(next);
            end = Some(end.map_or(lapse, |e| e.min(lapse)));
        }
    }
    (start, end)
}

/// Billable days `d = max(0, min(end, pe) − max(start, ps))`.
pub fn billable_days(start: NaiveDate, end: Option<NaiveDate>, rules: &Rules) -> u32 {
    let pe = rules.period.end();
    let to = end.map_or(pe, |e| e.min(pe));
    days_between(start.max(rules.period.start()), to)
}

/// Every line item `number` owes for the period, setup first.
pub fn charges(number: &Number, rules: &Rules) -> Vec<Line> {
    let (start, end) = service_window(number, rules);
    let (ps, pe) = (rules.period.start(), rules.period.end());
    let mut lines = Vec::new();
    let round = |v: Decimal| Money::round(v, number.currency, rules.rounding);
    let line = |charge, from, to, days: Option<(u32, u32)>, unit: Decimal, amount: Decimal| Line {
        customer_id: number.customer_id.clone(),
        currency: number.currency,
        number_id: number.id.clone(),
        e164: number.e164.clone(),
        charge,
        service_from: from,
        service_to: to,
        billable_days: days.map(|d| d.0),
        period_days: days.map(|d| d.1),
        unit_amount: round(unit),
        amount: round(amount),
        setup_key: None,
    };

    if ps <= start && start < pe && number.setup_fee > Decimal::ZERO {
        let mut setup = line(
            ChargeKind::Setup,
            start,
            start,
            None,
            number.setup_fee,
            number.setup_fee,
        );
        setup.setup_key = Some(SetupKey {
            number_id: number.id.clone(),
            purchased_at: number
                .purchased_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        });
        lines.push(setup);
    }

    let fee = number.monthly_fee;
    match rules.billing_time {
        BillingTime::Calendar => {
            let d = billable_days(start, end, rules);
            if d > 0 {
                let days = rules.period.days();
                let amount = match rules.proration {
                    Proration::Actual => fee * Decimal::from(d) / Decimal::from(days),
                    Proration::Thirty if d == days => fee,
                    Proration::Thirty => fee * Decimal::from(d.min(30)) / Decimal::from(30),
                    Proration::None => fee,
                };
                let from = start.max(ps);
                let to = end.map_or(pe, |e| e.min(pe));
                lines.push(line(
                    ChargeKind::Rental,
                    from,
                    to.pred_opt().unwrap_or(to),
                    Some((d, days)),
                    fee,
                    amount,
                ));
            }
        }
        BillingTime::Anniversary => {
            // Skip the cycles that end before the period; at most one cycle starts
            // in any calendar month, but scanning from one month early is cheap.
            let months_before =
                (ps.year() - start.year()) * 12 + ps.month() as i32 - start.month() as i32 - 1;
            let mut k = months_before.max(0) as u32;
            while let Some(cycle) = monthly_anniversary(start, k) {
                if cycle >= pe || end.is_some_and(|e| cycle >= e) {
                    break;
                }
                let Some(next) = monthly_anniversary(start, k + 1) else {
                    break;
                };
                if cycle >= ps {
                    let days = days_between(cycle, next);
                    lines.push(line(
                        ChargeKind::Rental,
                        cycle,
                        next.pred_opt().unwrap_or(next),
                        Some((days, days)),
                        fee,
                        fee,
                    ));
                }
                k += 1;
            }
        }
    }
    lines
}
