//! Property tests of the billing arithmetic and of the run's bookkeeping.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use didbill::config::{BillingTime, Config, Proration};
use didbill::inventory;
use didbill_core::billing::bill::charge_inventory;
use didbill_core::billing::{charges, ChargeKind, Rules};
use didbill_core::inventory::{Number, Status};
use didbill_core::money::{Currency, Rounding};
use didbill_core::period::Period;
use vobiz::dto::NumberRecord;
use vobiz::snapshot::{parse_accounts, Snapshot};

fn period() -> impl Strategy<Value = Period> {
    (2024i32..2031, 1u32..=12).prop_map(|(y, m)| Period::new(y, m).unwrap())
}

/// Fees with up to 10 decimals and below 10^9, as the API may send them.
fn fee() -> impl Strategy<Value = Decimal> {
    (0i64..1_000_000_000_000, 0u32..=4)
        .prop_map(|(units, scale)| Decimal::new(units, scale + 2) % Decimal::from(1_000_000_000))
}

fn config(proration: Proration, rounding: Rounding, billing_time: BillingTime) -> Config {
    Config {
        proration,
        rounding,
        billing_time,
        ..Config::default()
    }
}

fn any_config() -> impl Strategy<Value = Config> {
    (
        prop_oneof![
            Just(Proration::Actual),
            Just(Proration::Thirty),
            Just(Proration::None)
        ],
        prop_oneof![Just(Rounding::HalfUp), Just(Rounding::HalfEven)],
    )
        .prop_map(|(p, r)| config(p, r, BillingTime::Calendar))
}

/// A UTC instant whose Kolkata date is `date`.
fn kolkata(date: NaiveDate, minute: i64) -> DateTime<Utc> {
    chrono_tz::Asia::Kolkata
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
        + Duration::minutes(minute)
}

fn number(monthly: Decimal, purchased: DateTime<Utc>, released: Option<DateTime<Utc>>) -> Number {
    Number {
        id: "n".into(),
        customer_id: "MA_1".into(),
        e164: "+918000000000".into(),
        status: Status::Active,
        currency: Currency::INR,
        setup_fee: Decimal::ZERO,
        monthly_fee: monthly,
        purchased_at: purchased,
        released_at: released,
        last_billing_date: None,
        next_billing_date: None,
    }
}

fn rules(config: &Config, p: Period) -> Rules {
    config.rules(p, Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0).unwrap())
}

proptest! {
    #[test]
    fn a_number_held_all_period_bills_exactly_the_fee(
        p in period(), fee in fee(), months_before in 1u32..40, minute in 0i64..1440, config in any_config(),
        anniversary in any::<bool>(),
    ) {
        let mut config = config;
        if anniversary {
            config.billing_time = BillingTime::Anniversary;
        }
        let bought = p.start().checked_sub_months(chrono::Months::new(months_before)).unwrap();
        let n = number(fee, kolkata(bought, minute), None);
        let lines = charges(&n, &rules(&config, p));
        let rentals: Vec<_> = lines.iter().filter(|l| l.charge == ChargeKind::Rental).collect();
        prop_assert_eq!(rentals.len(), 1);
        prop_assert_eq!(rentals[0].amount.amount(), config.rounding.round_dp(fee, 2));
    }

    #[test]
    fn calendar_amounts_are_between_zero_and_the_fee(
        p in period(), fee in fee(), start_offset in -40i64..40, length in 0i64..80, config in any_config(),
    ) {
        let start = p.start() + Duration::days(start_offset);
        let n = number(fee, kolkata(start, 0), Some(kolkata(start + Duration::days(length), 0)));
        for line in charges(&n, &rules(&config, p)) {
            prop_assert!(line.amount.amount() >= Decimal::ZERO);
            prop_assert!(line.amount.amount() <= config.rounding.round_dp(fee, 2));
            prop_assert!(line.service_from <= line.service_to);
            prop_assert!(line.service_from >= p.start() && line.service_to < p.end());
        }
    }

    #[test]
    fn splitting_a_month_between_two_numbers_loses_at_most_a_paisa_per_line(
        p in period(), fee in fee(), split in 1u32..28, rounding in prop_oneof![Just(Rounding::HalfUp), Just(Rounding::HalfEven)],
    ) {
        let config = config(Proration::Actual, rounding, BillingTime::Calendar);
        let cut = kolkata(p.start() + Duration::days(i64::from(split)), 0);
        let before = number(fee, kolkata(p.start() - Duration::days(400), 0), Some(cut));
        let after = number(fee, cut, None);
        let r = rules(&config, p);
        let a = charges(&before, &r);
        let b = charges(&after, &r);
        prop_assert_eq!(a.len() + b.len(), 2);
        let total = a[0].amount.amount() + b[0].amount.amount();
        prop_assert_eq!(a[0].billable_days.unwrap() + b[0].billable_days.unwrap(), p.days());
        prop_assert!((total - fee).abs() <= Decimal::from_str("0.01").unwrap(), "{} vs {}", total, fee);
    }
}

/// A number record of the demo's shape with fields drawn from good and bad values.
fn record() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("\"n1\""), Just("\"n2\""), Just("\"n3\""), Just("null"), Just("5"), Just("\"\"")],
        prop_oneof![Just("\"MA_1\""), Just("\"MA_2\""), Just("\"MA_X\""), Just("null")],
        prop_oneof![Just("\"active\""), Just("\"pending_purchase\""), Just("\"released\""), Just("\"blocked\""), Just("\"gone\"")],
        prop_oneof![Just("300"), Just("0.5"), Just("\"300\""), Just("1e2"), Just("-1"), Just("null"), Just("\"x\""), Just("1e40")],
        prop_oneof![Just("\"2026-10-31T20:00:00Z\""), Just("\"2026-11-20T10:00:00.5Z\""), Just("\"2025-01-01T00:00:00Z\""), Just("null"), Just("\"bad\"")],
        prop_oneof![Just("null"), Just("\"2026-11-10T00:00:00Z\""), Just("\"2020-01-01T00:00:00Z\"")],
        prop_oneof![Just("\"+918000000001\""), Just("\"+918000000002\""), Just("\"0800\"")],
    )
        .prop_map(|(id, acct, status, fee, purchased, released, e164)| {
            format!(
                r#"{{"id":{id},"account_id":{acct},"e164":{e164},"status":{status},"setup_fee":{fee},"monthly_fee":{fee},"currency":"INR","purchased_at":{purchased},"released_at":{released},"next_billing_date":null}}"#
            )
        })
}

fn snapshot(records: &[String]) -> Snapshot {
    let accounts = parse_accounts(
        std::path::Path::new("accounts.json"),
        br#"{"accounts":[{"auth_id":"MA_1","name":"One"},{"auth_id":"MA_2","company":"Two","state":"TN"}]}"#,
    )
    .unwrap();
    Snapshot {
        accounts,
        numbers: records.iter().map(|r| NumberRecord::from_json(r)).collect(),
        notes: vec![],
    }
}

proptest! {
    #[test]
    fn every_number_fetched_lands_in_exactly_one_bucket(records in proptest::collection::vec(record(), 0..30)) {
        let snap = snapshot(&records);
        let inv = inventory::validate(&snap).unwrap();
        let config = Config::default();
        let c = charge_inventory(&inv, &rules(&config, Period::from_str("2026-11").unwrap()), |_| true);
        prop_assert_eq!(c.billed + c.not_billable.len() + inv.exceptions.len(), inv.numbers_fetched);
        let ids: std::collections::HashSet<_> = snap.numbers.iter().filter_map(|n| n.id.as_str()).filter(|s| !s.is_empty()).collect();
        let without_id = snap.numbers.iter().filter(|n| n.id.as_str().is_none_or(str::is_empty)).count();
        prop_assert_eq!(inv.numbers_fetched, ids.len() + without_id);
    }

    #[test]
    fn identical_input_gives_identical_output(records in proptest::collection::vec(record(), 0..20)) {
        let render = || {
            let inv = inventory::validate(&snapshot(&records)).unwrap();
            let config = Config::default();
            let r = rules(&config, Period::from_str("2026-11").unwrap());
            let c = charge_inventory(&inv, &r, |_| true);
            let (invoices, _) = didbill_core::billing::assemble(c.lines, &inv.customers, &r);
            let issued: Vec<_> = invoices
                .into_iter()
                .enumerate()
                .map(|(i, invoice)| didbill_core::billing::IssuedInvoice {
                    number: format!("DID/26-27/{:05}", i + 1),
                    invoice_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                    due_date: NaiveDate::from_ymd_opt(2026, 12, 16).unwrap(),
                    invoice,
                    fx_rate: None,
                })
                .collect();
            (
                didbill::render::csv::line_items(&issued),
                didbill::render::csv::invoices(&issued, rust_decimal::Decimal::from(18)),
                didbill::render::csv::exceptions(&inv.exceptions),
            )
        };
        prop_assert_eq!(render(), render());
    }
}

/// Markups of 0 to 200 percent with up to 2 decimals.
fn markup() -> impl Strategy<Value = Decimal> {
    (0i64..20_000).prop_map(|m| Decimal::new(m, 2))
}

/// Bills `numbers` under `config` and sums the invoices per currency, with margins.
fn billed_totals(
    numbers: &[Number],
    config: &Config,
    p: Period,
) -> std::collections::BTreeMap<String, didbill::render::csv::CurrencyTotals> {
    let customers = ["MA_1", "MA_2"]
        .map(|id| {
            (
                id.to_owned(),
                didbill_core::inventory::Customer {
                    id: id.into(),
                    name: id.into(),
                    state: Some("KA".into()),
                    ..Default::default()
                },
            )
        })
        .into_iter()
        .collect();
    let r = rules(config, p);
    let lines = numbers.iter().flat_map(|n| charges(n, &r)).collect();
    let (invoices, _) = didbill_core::billing::assemble(lines, &customers, &r);
    let issued: Vec<_> = invoices
        .into_iter()
        .map(|invoice| didbill_core::billing::IssuedInvoice {
            number: "DRAFT".into(),
            invoice_date: p.end(),
            due_date: p.end(),
            invoice,
            fx_rate: None,
        })
        .collect();
    didbill::render::csv::totals(&issued, true)
}

proptest! {
    #[test]
    fn provider_cost_plus_margin_is_the_subtotal_per_currency(
        p in period(),
        held in proptest::collection::vec(
            (fee(), fee(), -40i64..40, proptest::option::of(0i64..60), any::<bool>(), any::<bool>()),
            1..12,
        ),
        rental in markup(), setup in markup(), customer_rental in markup(),
        fixed in proptest::option::of(fee()),
        config in any_config(),
    ) {
        let numbers: Vec<Number> = held
            .iter()
            .enumerate()
            .map(|(i, &(monthly, setup_fee, start, length, second, usd))| {
                let start = p.start() + Duration::days(start);
                let mut n = number(
                    monthly,
                    kolkata(start, 0),
                    length.map(|l| kolkata(start + Duration::days(l), 0)),
                );
                n.id = format!("n{i}");
                n.e164 = format!("+9180000000{i:02}");
                n.setup_fee = setup_fee;
                n.customer_id = if second { "MA_2" } else { "MA_1" }.into();
                if usd {
                    n.currency = Currency::parse("USD").unwrap();
                }
                n
            })
            .collect();
        let mut toml = format!(
            "[pricing]\nrental_markup_percent = \"{rental}\"\nsetup_markup_percent = \"{setup}\"\n\
             [pricing.customers.\"MA_2\"]\n"
        );
        toml.push_str(&match fixed {
            Some(f) => format!("monthly_fee = \"{f}\"\ncurrency = \"INR\"\n"),
            None => format!("rental_markup_percent = \"{customer_rental}\"\n"),
        });
        let priced = Config { pricing: Config::parse(&toml).unwrap().pricing, ..config.clone() };
        let partner = billed_totals(&numbers, &priced, p);
        let provider = billed_totals(&numbers, &config, p);
        prop_assert_eq!(partner.keys().collect::<Vec<_>>(), provider.keys().collect::<Vec<_>>());
        let dec = |s: &Option<String>| Decimal::from_str(s.as_deref().unwrap()).unwrap();
        for (currency, t) in &partner {
            let subtotal = Decimal::from_str(&t.subtotal).unwrap();
            prop_assert_eq!(dec(&t.provider_cost) + dec(&t.margin), subtotal, "{}", currency);
            // The provider cost is what the provider's own prices would have billed.
            prop_assert_eq!(t.provider_cost.as_deref(), Some(provider[currency].subtotal.as_str()));
            if fixed.is_none() {
                prop_assert!(dec(&t.margin) >= Decimal::ZERO, "{}: {:?}", currency, t);
            }
        }
    }
}

proptest! {
    #[test]
    fn every_call_is_billed_in_exactly_one_month_with_its_cost(
        p in period(),
        calls in proptest::collection::vec((-3000i64..3000, 0i64..1440, fee(), any::<bool>()), 1..40),
        config in any_config(),
    ) {
        use didbill_core::billing::usage::{usage_lines, Call};
        // Calls from about two months before the period to two months after, in minutes.
        let calls: Vec<Call> = calls
            .iter()
            .map(|&(day, minute, cost, inbound)| Call {
                customer_id: "MA_1".into(),
                currency: Currency::INR,
                direction: if inbound { "inbound" } else { "outbound" }.into(),
                start: kolkata(p.start() + Duration::days(day / 50), minute),
                billsec: 60,
                total_cost: cost,
            })
            .collect();
        let months = (-3i32..=3).map(|k| {
            let index = p.start().year() * 12 + p.start().month0() as i32 + k;
            Period::new(index.div_euclid(12), index.rem_euclid(12) as u32 + 1).unwrap()
        });
        let mut billed_calls = 0;
        let mut billed_cost = Decimal::ZERO;
        for month in months {
            for line in usage_lines(&calls, &rules(&config, month)) {
                let usage = line.usage.as_ref().unwrap();
                billed_calls += usage.calls;
                prop_assert_eq!(line.amount, line.provider_amount);
                // Each line is its calls' exact cost rounded once.
                let exact: Decimal = calls
                    .iter()
                    .filter(|c| c.direction == usage.direction)
                    .filter(|c| {
                        let d = c.start.with_timezone(&chrono_tz::Asia::Kolkata).date_naive();
                        d >= month.start() && d < month.end()
                    })
                    .map(|c| c.total_cost)
                    .sum();
                prop_assert_eq!(line.amount.amount(), config.rounding.round_dp(exact, 2));
                billed_cost += exact;
            }
        }
        prop_assert_eq!(billed_calls, calls.len() as u64);
        prop_assert_eq!(billed_cost, calls.iter().map(|c| c.total_cost).sum::<Decimal>());
    }
}

/// Amounts in paise between −₹1,00,000 and ₹10,00,00,000, as money.
fn paise(range: std::ops::Range<i64>) -> impl Strategy<Value = didbill_core::money::Money> {
    range.prop_map(|p| {
        didbill_core::money::Money::round(Decimal::new(p, 2), Currency::INR, Rounding::HalfUp)
    })
}

proptest! {
    #[test]
    fn tax_shares_add_up_to_the_invoice_tax_each_within_a_paisa(
        total in paise(-10_000_000..10_000_000_000),
        weights in proptest::collection::vec(paise(-10_000_000..10_000_000_000), 1..60),
    ) {
        let parts = didbill_core::money::allocate(total, &weights);
        prop_assert_eq!(parts.len(), weights.len());
        let sum: Decimal = parts.iter().map(|p| p.amount()).sum();
        prop_assert_eq!(sum, total.amount());
        let whole: Decimal = weights.iter().map(|w| w.amount()).sum();
        if !whole.is_zero() {
            for (part, weight) in parts.iter().zip(&weights) {
                let exact = total.amount() * weight.amount() / whole;
                prop_assert!(
                    (part.amount() - exact).abs() < Decimal::new(1, 2),
                    "{} is more than a paisa from {}", part, exact
                );
            }
        }
        prop_assert_eq!(parts, didbill_core::money::allocate(total, &weights));
    }
}
