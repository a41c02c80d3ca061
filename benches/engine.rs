//! Criterion micro-benchmarks of the pure billing engine: charges per number and
//! invoice assembly with GST, reported as line items per second.
//!
//! `cargo bench --bench engine`; figures are recorded in BENCHMARKS.md.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;

use didbill::config::{BillingTime, Config};
use didbill_core::billing;
use didbill_core::inventory::{Customer, Number, Status};
use didbill_core::money::Currency;
use didbill_core::period::Period;

/// 100,000 numbers over 2,000 customers: purchases over three years, some released
/// or bought mid-month, so the engine meets every branch.
fn inventory() -> (BTreeMap<String, Customer>, Vec<Number>) {
    let mut rng = fastrand::Rng::with_seed(7);
    let customers: BTreeMap<String, Customer> = (0..2000)
        .map(|i| {
            let id = format!("MA_{i:08}");
            let c = Customer {
                id: id.clone(),
                name: format!("Customer {i}"),
                state: Some(["KA", "MH", "Tamil Nadu", "DL"][i % 4].into()),
                ..Customer::default()
            };
            (id, c)
        })
        .collect();
    let base = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let numbers = (0..100_000)
        .map(|i| {
            let purchased = base - Duration::minutes(rng.i64(0..3 * 365 * 24 * 60));
            Number {
                id: format!("n{i:08}"),
                customer_id: format!("MA_{:08}", rng.usize(..2000)),
                e164: format!("+9180{i:08}"),
                status: Status::Active,
                currency: Currency::INR,
                setup_fee: Decimal::from(100),
                monthly_fee: Decimal::new(rng.i64(1000..100_000), 2),
                purchased_at: purchased,
                released_at: (i % 9 == 0).then(|| base - Duration::hours(rng.i64(0..2000))),
                last_billing_date: None,
                next_billing_date: Some(base + Duration::days(rng.i64(-20..30))),
            }
        })
        .collect();
    (customers, numbers)
}

fn engine(c: &mut Criterion) {
    let (customers, numbers) = inventory();
    let period: Period = "2026-11".parse().unwrap();
    let as_of = Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap();
    for billing_time in [BillingTime::Calendar, BillingTime::Anniversary] {
        let config = Config {
            billing_time,
            ..Config::default()
        };
        let rules = config.rules(period, as_of);
        let lines: usize = numbers
            .iter()
            .map(|n| billing::charges(n, &rules).len())
            .sum();
        let mut group = c.benchmark_group(format!("engine/{billing_time:?}"));
        group.throughput(Throughput::Elements(lines as u64));
        group.sample_size(20);
        group.bench_function("charges", |b| {
            b.iter(|| {
                let n: usize = numbers
                    .iter()
                    .map(|n| billing::charges(black_box(n), &rules).len())
                    .sum();
                black_box(n)
            })
        });
        group.bench_function("charges+invoices", |b| {
            b.iter(|| {
                let lines: Vec<_> = numbers
                    .iter()
                    .flat_map(|n| billing::charges(n, &rules))
                    .collect();
                black_box(billing::assemble(lines, &customers, &rules))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);
