//! Criterion benchmark of PDF rendering: the demo month's invoices rendered through
//! the real pipeline (snapshot → billing → PDF model → PDF bytes), reported as
//! invoices per second, one core and all cores.
//!
//! `cargo bench --bench pdf`; figures are recorded in BENCHMARKS.md.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;

use didbill::config::Config;
use didbill::render::pdf::{PdfInvoice, PdfRenderer};
use didbill::render::pdf_model;
use didbill::{inventory, run};
use didbill_core::billing;

fn demo_invoices() -> Vec<PdfInvoice> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let config = Config::load(Some(&root.join("didbill.toml"))).unwrap();
    let snapshot =
        vobiz::snapshot::read(&root, vobiz::snapshot::DEFAULT_MAX_FILE_MIB << 20).unwrap();
    let inventory = inventory::validate(&snapshot).unwrap();
    let period = "2026-11".parse().unwrap();
    let rules = config.rules(period, Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap());
    let charges = didbill_core::billing::bill::charge_inventory(&inventory, &rules, |_| true);
    let (invoices, _) = billing::assemble(charges.lines, &inventory.customers, &rules);
    let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    run::drafts(invoices, date, date, &config.fx)
        .invoices
        .iter()
        .map(|issued| pdf_model::pdf_invoice(issued, &config, period, false))
        .collect()
}

fn pdf(c: &mut Criterion) {
    let renderer = PdfRenderer::new(None).unwrap();
    let invoices = demo_invoices();
    let mut group = c.benchmark_group("pdf");
    group.throughput(Throughput::Elements(invoices.len() as u64));
    group.sample_size(20);
    group.bench_function("demo invoices, one core", |b| {
        b.iter(|| {
            for invoice in &invoices {
                black_box(renderer.render(invoice).unwrap());
            }
        })
    });
    group.bench_function("demo invoices, all cores", |b| {
        b.iter(|| {
            invoices.par_iter().for_each(|invoice| {
                black_box(renderer.render(invoice).unwrap());
            })
        })
    });
    group.finish();
}

criterion_group!(benches, pdf);
criterion_main!(benches);
