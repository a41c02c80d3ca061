//! Writes a demo PDF tax invoice, or times the PDF renderer.
//!
//! ```text
//! cargo run --release --example pdf_invoice -- OUT.pdf [--lines N] [--hindi]
//! cargo run --release --example pdf_invoice -- --bench INVOICES LINES [--hindi]
//! ```
#![forbid(unsafe_code)]

use std::time::Instant;

use chrono::NaiveDate;
use didbill::render::pdf::{PdfInvoice, PdfLine, PdfParty, PdfPayment, PdfRenderer, PdfSignatory};
use rayon::prelude::*;
use rust_decimal::Decimal;

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

/// A Bengaluru business renting `lines` numbers; the first one is new this month.
fn demo(lines: usize, hindi: bool) -> PdfInvoice {
    let fees = [300, 300, 499, 1250, 300, 750];
    let mut items = vec![PdfLine {
        e164: Some("+918045670000".into()),
        charge: "setup".into(),
        service_from: date(15),
        service_to: date(15),
        billable_days: None,
        period_days: None,
        unit_amount: Some(Decimal::from(100)),
        amount: Decimal::from(100),
        usage: None,
    }];
    for i in 0..lines.saturating_sub(1) {
        let fee = Decimal::from(fees[i % fees.len()]);
        let days = if i == 0 { 16 } else { 30 };
        items.push(PdfLine {
            e164: Some(format!("+91804567{:04}", 1 + i)),
            charge: "rental".into(),
            service_from: date(31 - days),
            service_to: date(30),
            billable_days: Some(days),
            period_days: Some(30),
            unit_amount: Some(fee),
            amount: (fee * Decimal::from(days) / Decimal::from(30)).round_dp(2),
            usage: None,
        });
    }
    let subtotal: Decimal = items.iter().map(|l| l.amount).sum();
    let half = (subtotal * Decimal::new(9, 2)).round_dp(2);
    let (name, address_lines) = if hindi {
        (
            "शर्मा ट्रेडर्स प्राइवेट लिमिटेड".to_string(),
            vec![
                "मकान नं. 12, गांधी मार्ग, श्रीनगर कॉलोनी".to_string(),
                "बेंगलुरु, कर्नाटक 560050".to_string(),
            ],
        )
    } else {
        (
            "Sahyadri Logistics Private Limited".to_string(),
            vec![
                "No. 14, 3rd Cross, Peenya Industrial Area Phase II".to_string(),
                "Bengaluru, Karnataka 560058".to_string(),
            ],
        )
    };
    PdfInvoice {
        draft: false,
        number: "DID/26-27/00042".into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 16).unwrap(),
        period: "2026-11".into(),
        currency: "INR".into(),
        seller: PdfParty {
            name: "Demo Telecom Pvt Ltd".into(),
            address_lines: vec!["1 MG Road".into(), "Bengaluru 560001".into()],
            gstin: Some("29ABCDE1234F1ZW".into()),
            email: Some("billing@example.com".into()),
        },
        customer: PdfParty {
            name,
            address_lines,
            gstin: Some("29AAGCS1234K1ZQ".into()),
            email: Some("accounts@sahyadri.example".into()),
        },
        place_of_supply_code: "29".into(),
        place_of_supply_name: "Karnataka".into(),
        sac: "9984".into(),
        tax_rate: Decimal::from(18),
        tax_enabled: true,
        export: false,
        export_igst: false,
        intra_state: true,
        lines: items,
        subtotal,
        cgst: half,
        sgst: half,
        igst: Decimal::ZERO,
        round_off: Decimal::ZERO,
        total: subtotal + half + half,
        payment: PdfPayment::default(),
        signatory: PdfSignatory::default(),
        rupees: None,
        note: None,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let renderer = PdfRenderer::new(None)?;
    let hindi = args.iter().any(|a| a == "--hindi");
    if args.first().map(String::as_str) == Some("--bench") {
        let count: usize = args.get(1).map_or(Ok(300), |s| s.parse())?;
        let lines: usize = args.get(2).map_or(Ok(10), |s| s.parse())?;
        let invoice = demo(lines, hindi);
        let start = Instant::now();
        let bytes: usize = (0..count)
            .map(|_| renderer.render(&invoice).map(|p| p.len()))
            .sum::<Result<_, _>>()?;
        let sequential = start.elapsed();
        let start = Instant::now();
        (0..count)
            .into_par_iter()
            .try_for_each(|_| renderer.render(&invoice).map(drop))?;
        let parallel = start.elapsed();
        println!(
            "{count} invoices of {lines} lines: sequential {sequential:.2?}, parallel ({} threads) {parallel:.2?}, {} bytes each",
            rayon::current_num_threads(),
            bytes / count.max(1)
        );
        return Ok(());
    }
    let out = args
        .first()
        .ok_or("usage: pdf_invoice OUT.pdf [--lines N] [--hindi]")?;
    let lines = match args.iter().position(|a| a == "--lines") {
        Some(i) => args.get(i + 1).ok_or("--lines needs a number")?.parse()?,
        None => 6,
    };
    let pdf = renderer.render(&demo(lines, hindi))?;
    std::fs::write(out, &pdf)?;
    println!("wrote {out} ({} bytes)", pdf.len());
    Ok(())
}
