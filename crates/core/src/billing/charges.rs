//! Charges of one number for one period (SPEC §2 and §2.1).

use chrono::{Datelike, NaiveDate, SecondsFormat};
use rust_decimal::Decimal;

use super::{BillingTime, Proration};
use super::{ChargeKind, Line, Rules, SetupKey};
use crate::inventory::Number;
use crate::money::Money;
use crate::period::{days_between, monthly_anniversary};

/// The service window `[start, end)` of a number in local dates; `end` is `None`
/// while the number is held.
pub fn service_window(number: &Number, rules: &Rules) -> (NaiveDate, Option<NaiveDate>) {
    let start = rules.local_date(number.purchased_at);
    let mut end = number.released_at.map(|r| rules.local_date(r));
    if let Some(next) = number.next_billing_date {
        // An instant too late to add the grace to cannot have lapsed.
        if next
            .checked_add_signed(rules.grace)
            .is_some_and(|t| t < rules.as_of)
        {
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
    let prices = rules.pricing.prices(&number.customer_id, number.currency);
    let round = |v: Decimal| Money::round(v, number.currency, rules.rounding);
    // `amount` turns a fee into the line's charge; it prices the partner's fee and
    // the provider's alike, so both are prorated and rounded the same way.
    let line = |charge,
                from,
                to,
                days: Option<(u32, u32)>,
                (fee, provider_fee): (Decimal, Decimal),
                amount: &dyn Fn(Decimal) -> Decimal| Line {
        customer_id: number.customer_id.clone(),
        currency: number.currency,
        number_id: number.id.clone(),
        e164: number.e164.clone(),
        charge,
        service_from: from,
        service_to: to,
        billable_days: days.map(|d| d.0),
        period_days: days.map(|d| d.1),
        unit_amount: Some(round(fee)),
        amount: round(amount(fee)),
        provider_amount: round(amount(provider_fee)),
        setup_key: None,
        usage: None,
    };
    let whole = |fee: Decimal| fee;

    let setup_fees = (prices.setup.apply(number.setup_fee), number.setup_fee);
    if ps <= start && start < pe && (setup_fees.0 > Decimal::ZERO || setup_fees.1 > Decimal::ZERO) {
        let mut setup = line(ChargeKind::Setup, start, start, None, setup_fees, &whole);
        setup.setup_key = Some(SetupKey {
            number_id: number.id.clone(),
            purchased_at: number
                .purchased_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        });
        lines.push(setup);
    }

    let fees = (prices.rental.apply(number.monthly_fee), number.monthly_fee);
    match rules.billing_time {
        BillingTime::Calendar => {
            let d = billable_days(start, end, rules);
            if d > 0 {
                let days = rules.period.days();
                let prorate = |fee: Decimal| match rules.proration {
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
                    fees,
                    &prorate,
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
                        fees,
                        &whole,
                    ));
                }
                k += 1;
            }
        }
    }
    lines
}

/// Why `number`, which passed validation, owes nothing for the period (it has no
/// line of [`charges`]): for `not_billable.csv`, so nobody has to work it out.
pub fn no_charge_reason(number: &Number, rules: &Rules) -> String {
    let (start, end) = service_window(number, rules);
    let (ps, pe) = (rules.period.start(), rules.period.end());
    let released = number.released_at.map(|r| rules.local_date(r));
    if start >= pe {
        return format!("purchased on {start}, after the period");
    }
    match end {
        Some(end) if end <= ps && released == Some(end) => {
            format!("released on {end}, before the period")
        }
        Some(end) if end <= ps => format!(
            "lapsed on {end} (next_billing_date plus the renewal grace passed before the period): \
             not renewed, so not billed"
        ),
        Some(end) if end <= start => {
            format!("service ended on {end}, the day it began: no day held")
        }
        _ if matches!(rules.billing_time, BillingTime::Anniversary) => {
            "no monthly billing cycle of this number starts in the period (anniversary billing)"
                .into()
        }
        _ => "no charge falls in the period".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Status;
    use crate::money::{Currency, Rounding};
    use crate::period::Period;
    use crate::pricing::{Price, Prices, Pricing};
    use chrono::{DateTime, Utc};
    use std::str::FromStr;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn number(purchased: &str, monthly: &str, setup: &str) -> Number {
        Number {
            id: "n1".into(),
            customer_id: "MA_1".into(),
            e164: "+918000000001".into(),
            status: Status::Active,
            currency: Currency::INR,
            setup_fee: d(setup),
            monthly_fee: d(monthly),
            purchased_at: at(purchased),
            released_at: None,
            last_billing_date: None,
            next_billing_date: None,
        }
    }

    fn rules(period: &str, config: &Rules) -> Rules {
        Rules {
            period: Period::from_str(period).unwrap(),
            as_of: at("2030-01-01T00:00:00Z"),
            ..config.clone()
        }
    }

    /// (charge, from, to, days, amount) of each line.
    fn summary(lines: &[Line]) -> Vec<(&'static str, String, String, Option<u32>, String)> {
        lines
            .iter()
            .map(|l| {
                (
                    l.charge.as_str(),
                    l.service_from.to_string(),
                    l.service_to.to_string(),
                    l.billable_days,
                    l.amount.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn purchase_late_utc_evening_is_the_next_day_in_kolkata() {
        let n = number("2026-10-31T20:00:00Z", "300", "100");
        let lines = charges(&n, &rules("2026-11", &Rules::default()));
        assert_eq!(
            summary(&lines),
            vec![
                (
                    "setup",
                    "2026-11-01".into(),
                    "2026-11-01".into(),
                    None,
                    "100.00".into()
                ),
                (
                    "rental",
                    "2026-11-01".into(),
                    "2026-11-30".into(),
                    Some(30),
                    "300.00".into()
                ),
            ]
        );
        // October sees neither the setup nor a rental day.
        assert!(charges(&n, &rules("2026-10", &Rules::default())).is_empty());
        // In UTC the same purchase is on 31 October.
        let utc = Rules {
            timezone: chrono_tz::UTC,
            ..Rules::default()
        };
        let oct = charges(&n, &rules("2026-10", &utc));
        assert_eq!(summary(&oct)[1].4, "9.68"); // 300 × 1 / 31 = 9.677…
    }

    #[test]
    fn a_number_without_a_charge_says_why() {
        let nov = rules("2026-11", &Rules::default());
        let later = number("2026-12-01T00:00:00Z", "300", "0");
        assert_eq!(
            no_charge_reason(&later, &nov),
            "purchased on 2026-12-01, after the period"
        );
        let mut released = number("2026-01-01T00:00:00Z", "300", "0");
        released.released_at = Some(at("2026-10-15T00:00:00Z"));
        assert_eq!(
            no_charge_reason(&released, &nov),
            "released on 2026-10-15, before the period"
        );
        let mut lapsed = number("2026-01-01T00:00:00Z", "300", "0");
        lapsed.next_billing_date = Some(at("2026-10-20T00:00:00Z"));
        assert!(charges(&lapsed, &nov).is_empty());
        assert!(
            no_charge_reason(&lapsed, &nov).starts_with("lapsed on 2026-10-20"),
            "{}",
            no_charge_reason(&lapsed, &nov)
        );
        let mut same_day = number("2026-11-10T06:00:00Z", "300", "0");
        same_day.released_at = Some(at("2026-11-10T09:00:00Z"));
        assert!(charges(&same_day, &nov).is_empty());
        assert_eq!(
            no_charge_reason(&same_day, &nov),
            "service ended on 2026-11-10, the day it began: no day held"
        );
    }

    #[test]
    fn leap_february_prorates_over_29_days() {
        let n = number("2028-02-10T00:00:00Z", "290", "0");
        let lines = charges(&n, &rules("2028-02", &Rules::default()));
        // 10..29 February is 20 days of 29: 290 × 20 / 29 = 200.
        assert_eq!(
            summary(&lines),
            vec![(
                "rental",
                "2028-02-10".into(),
                "2028-02-29".into(),
                Some(20),
                "200.00".into()
            )]
        );
        assert_eq!(lines[0].period_days, Some(29));
        let whole = number("2027-01-01T00:00:00Z", "290", "0");
        assert_eq!(
            charges(&whole, &rules("2028-02", &Rules::default()))[0]
                .amount
                .to_string(),
            "290.00"
        );
    }

    #[test]
    fn thirty_day_and_no_proration() {
        let mut c = Rules {
            proration: Proration::Thirty,
            ..Rules::default()
        };
        let n = number("2026-12-02T00:00:00Z", "300", "0");
        // 2..31 December: 30 days, capped at 30 of 30.
        assert_eq!(
            charges(&n, &rules("2026-12", &c))[0].amount.to_string(),
            "300.00"
        );
        let n = number("2026-12-17T00:00:00Z", "300", "0");
        assert_eq!(
            charges(&n, &rules("2026-12", &c))[0].amount.to_string(),
            "150.00"
        );
        // February held whole: exactly the fee though d = 28 < 30.
        let n = number("2026-01-05T00:00:00Z", "300", "0");
        assert_eq!(
            charges(&n, &rules("2027-02", &c))[0].amount.to_string(),
            "300.00"
        );
        c.proration = Proration::None;
        let n = number("2026-12-31T00:00:00Z", "300", "0");
        assert_eq!(
            charges(&n, &rules("2026-12", &c))[0].amount.to_string(),
            "300.00"
        );
    }

    #[test]
    fn release_mid_month_bills_up_to_the_day_before() {
        let mut n = number("2025-01-01T00:00:00Z", "1000", "0");
        n.released_at = Some(at("2026-11-10T12:00:00Z"));
        let lines = charges(&n, &rules("2026-11", &Rules::default()));
        assert_eq!(
            summary(&lines),
            vec![(
                "rental",
                "2026-11-01".into(),
                "2026-11-09".into(),
                Some(9),
                "300.00".into()
            )]
        );
        // Released on the first day of the period: nothing to bill.
        n.released_at = Some(at("2026-10-31T18:30:00Z"));
        assert!(charges(&n, &rules("2026-11", &Rules::default())).is_empty());
    }

    #[test]
    fn lapse_ends_service_on_the_missed_renewal_only_after_the_grace() {
        let mut n = number("2025-01-20T05:00:00Z", "200", "0");
        n.next_billing_date = Some(at("2026-11-20T05:00:00Z"));
        let config = Rules::default();
        let mut r = rules("2026-11", &config);
        r.as_of = at("2026-12-02T00:00:00Z");
        assert_eq!(
            summary(&charges(&n, &r)),
            vec![(
                "rental",
                "2026-11-01".into(),
                "2026-11-19".into(),
                Some(19),
                "126.67".into()
            )]
        );
        // Within the 72-hour grace the number is still held.
        r.as_of = at("2026-11-23T05:00:00Z");
        assert_eq!(charges(&n, &r)[0].billable_days, Some(30));
        r.as_of = at("2026-11-23T05:00:01Z");
        assert_eq!(charges(&n, &r)[0].billable_days, Some(19));
    }

    #[test]
    fn anniversary_on_the_31st_clamps_and_keeps_its_day() {
        let c = Rules {
            billing_time: BillingTime::Anniversary,
            ..Rules::default()
        };
        let n = number("2028-01-31T06:00:00Z", "300", "50");
        let months = ["2028-01", "2028-02", "2028-03", "2028-04", "2028-05"];
        let got: Vec<_> = months
            .iter()
            .map(|m| summary(&charges(&n, &rules(m, &c))))
            .collect();
        assert_eq!(
            got,
            vec![
                vec![
                    (
                        "setup",
                        "2028-01-31".into(),
                        "2028-01-31".into(),
                        None,
                        "50.00".into()
                    ),
                    (
                        "rental",
                        "2028-01-31".into(),
                        "2028-02-28".into(),
                        Some(29),
                        "300.00".into()
                    ),
                ],
                vec![(
                    "rental",
                    "2028-02-29".into(),
                    "2028-03-30".into(),
                    Some(31),
                    "300.00".into()
                )],
                vec![(
                    "rental",
                    "2028-03-31".into(),
                    "2028-04-29".into(),
                    Some(30),
                    "300.00".into()
                )],
                vec![(
                    "rental",
                    "2028-04-30".into(),
                    "2028-05-30".into(),
                    Some(31),
                    "300.00".into()
                )],
                vec![(
                    "rental",
                    "2028-05-31".into(),
                    "2028-06-29".into(),
                    Some(30),
                    "300.00".into()
                )],
            ]
        );
        // A cycle starting on or after the release is not billed.
        let mut released = n.clone();
        released.released_at = Some(at("2028-04-29T00:00:00Z"));
        assert!(charges(&released, &rules("2028-04", &c)).is_empty());
        released.released_at = Some(at("2028-05-01T00:00:00Z"));
        assert_eq!(charges(&released, &rules("2028-04", &c)).len(), 1);
    }

    #[test]
    fn exact_midpoints_follow_the_rounding_mode() {
        // 0.25 × 15 / 30 = 0.125 exactly.
        let n = number("2026-11-16T00:00:00Z", "0.25", "0");
        let mut c = Rules::default();
        assert_eq!(
            charges(&n, &rules("2026-11", &c))[0].amount.to_string(),
            "0.13"
        );
        c.rounding = Rounding::HalfEven;
        assert_eq!(
            charges(&n, &rules("2026-11", &c))[0].amount.to_string(),
            "0.12"
        );
        // Setup fees are rounded once, not prorated; a free number still shows its
        // rental line at 0.00 so the customer sees every number they hold.
        let n = number("2026-11-16T00:00:00Z", "0", "10.125");
        assert_eq!(
            summary(&charges(&n, &rules("2026-11", &c))),
            vec![
                (
                    "setup",
                    "2026-11-16".into(),
                    "2026-11-16".into(),
                    None,
                    "10.12".into()
                ),
                (
                    "rental",
                    "2026-11-16".into(),
                    "2026-11-30".into(),
                    Some(15),
                    "0.00".into()
                ),
            ]
        );
    }

    fn priced(config: &Rules, pricing: Pricing) -> Rules {
        Rules {
            pricing,
            ..config.clone()
        }
    }

    /// Everyone's prices: `rental` and `setup` markups in percent.
    fn markups(rental: &str, setup: &str) -> Pricing {
        Pricing {
            default: Prices {
                rental: Price::Markup(d(rental)),
                setup: Price::Markup(d(setup)),
                ..Prices::PROVIDER
            },
            customers: Default::default(),
        }
    }

    /// (unit_amount, amount, provider_amount) of each line.
    fn prices(lines: &[Line]) -> Vec<(String, String, String)> {
        lines
            .iter()
            .map(|l| {
                (
                    l.unit_amount.unwrap().to_string(),
                    l.amount.to_string(),
                    l.provider_amount.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn a_marked_up_fee_is_prorated_unrounded_and_rounded_once() {
        // 0.5 + 12.5% = 0.5625; 12 of 30 days: 0.5625 × 12 / 30 = 0.225 exactly.
        // Rounding the price first (0.56 × 12 / 30 = 0.224) would bill 0.22 in both modes.
        let n = number("2026-11-19T00:00:00Z", "0.5", "0");
        let up = priced(&Rules::default(), markups("12.5", "0"));
        let lines = charges(&n, &rules("2026-11", &up));
        assert_eq!(lines[0].billable_days, Some(12));
        assert_eq!(
            prices(&lines),
            vec![("0.56".into(), "0.23".into(), "0.20".into())]
        );
        let even = Rules {
            rounding: Rounding::HalfEven,
            ..up
        };
        assert_eq!(
            prices(&charges(&n, &rules("2026-11", &even))),
            vec![("0.56".into(), "0.22".into(), "0.20".into())]
        );
        // A setup of 0.03 + 50% = 0.045: the midpoint itself.
        let n = number("2026-10-01T00:00:00Z", "0.3", "0.03");
        let c = priced(&Rules::default(), markups("15", "50"));
        // Held all of October: exactly the marked-up fee 0.345, rounded once.
        assert_eq!(
            prices(&charges(&n, &rules("2026-10", &c))),
            vec![
                ("0.05".into(), "0.05".into(), "0.03".into()),
                ("0.35".into(), "0.35".into(), "0.30".into()),
            ]
        );
        let c = Rules {
            rounding: Rounding::HalfEven,
            ..c
        };
        assert_eq!(
            prices(&charges(&n, &rules("2026-10", &c))),
            vec![
                ("0.04".into(), "0.04".into(), "0.03".into()),
                ("0.34".into(), "0.34".into(), "0.30".into()),
            ]
        );
    }

    #[test]
    fn per_customer_prices_replace_the_provider_fee_for_that_customer_only() {
        let c = priced(
            &Rules::default(),
            Pricing {
                customers: [
                    (
                        "MA_FIXED".to_string(),
                        Prices {
                            rental: Price::Fixed(d("250")),
                            setup: Price::Fixed(Decimal::ZERO),
                            currency: Some(Currency::INR),
                            ..Prices::PROVIDER
                        },
                    ),
                    (
                        "MA_MORE".to_string(),
                        Prices {
                            rental: Price::Markup(d("50")),
                            ..Prices::PROVIDER
                        },
                    ),
                ]
                .into(),
                ..markups("10", "0")
            },
        );
        let at_purchase = |customer: &str| {
            let mut n = number("2026-11-16T00:00:00Z", "300", "100");
            n.customer_id = customer.into();
            prices(&charges(&n, &rules("2026-11", &c)))
        };
        // Everyone else: setup at the provider's price, rental +10% (330 × 15 / 30).
        assert_eq!(
            at_purchase("MA_OTHER"),
            vec![
                ("100.00".into(), "100.00".into(), "100.00".into()),
                ("330.00".into(), "165.00".into(), "150.00".into()),
            ]
        );
        // A fixed rental replaces the provider's and is prorated the same way; a fixed
        // setup of 0 waives the provider's 100 with a 0.00 line.
        assert_eq!(
            at_purchase("MA_FIXED"),
            vec![
                ("0.00".into(), "0.00".into(), "100.00".into()),
                ("250.00".into(), "125.00".into(), "150.00".into()),
            ]
        );
        assert_eq!(
            at_purchase("MA_MORE"),
            vec![
                ("100.00".into(), "100.00".into(), "100.00".into()),
                ("450.00".into(), "225.00".into(), "150.00".into()),
            ]
        );
        // A fixed setup fee applies even where the provider charges none.
        let c = priced(
            &Rules::default(),
            Pricing {
                customers: [(
                    "MA_1".to_string(),
                    Prices {
                        setup: Price::Fixed(d("49.5")),
                        currency: Some(Currency::INR),
                        ..Prices::PROVIDER
                    },
                )]
                .into(),
                ..Pricing::default()
            },
        );
        let n = number("2026-11-16T00:00:00Z", "300", "0");
        let lines = charges(&n, &rules("2026-11", &c));
        assert_eq!(lines[0].charge, ChargeKind::Setup);
        assert_eq!(
            prices(&lines[..1]),
            vec![("49.50".into(), "49.50".into(), "0.00".into())]
        );
        // Anniversary cycles bill the partner's full price.
        let c = Rules {
            billing_time: BillingTime::Anniversary,
            ..priced(&Rules::default(), markups("20", "0"))
        };
        let n = number("2026-10-05T00:00:00Z", "300", "0");
        assert_eq!(
            prices(&charges(&n, &rules("2026-11", &c))),
            vec![("360.00".into(), "360.00".into(), "300.00".into())]
        );
    }
}
