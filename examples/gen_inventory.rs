//! A deterministic synthetic inventory for benchmarks and load tests:
//!
//! ```text
//! cargo run --example gen_inventory -- --customers 2000 --numbers 20000 --seed 1 --out DIR
//! ```
//!
//! Writes a snapshot folder (`accounts.json`, `numbers.json`) in the API's shapes:
//! the numbers are spread evenly over the customers, mostly `active`, with a mix of
//! the other statuses, fees, purchase dates and KYC flags. The same arguments give
//! the same bytes.

use std::path::PathBuf;

use clap::Parser;
use serde_json::value::RawValue;

/// Generate a synthetic snapshot folder.
#[derive(Parser)]
struct Args {
    /// Number of customer accounts.
    #[arg(long)]
    customers: usize,
    /// Number of number records, spread evenly over the customers.
    #[arg(long)]
    numbers: usize,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Snapshot folder to write.
    #[arg(long)]
    out: PathBuf,
}

/// (state, country) pairs of the generated customers.
const PLACES: [(&str, &str); 6] = [
    ("KA", "IN"),
    ("Maharashtra", "IN"),
    ("TN", "IN"),
    ("DL", "IN"),
    ("TS", "IN"),
    ("Berlin", "DE"),
];
/// Fees as the API writes them (JSON number text).
const MONTHLY_FEES: [&str; 6] = ["300", "500", "250", "299.99", "0.5", "1000"];
const SETUP_FEES: [&str; 3] = ["100", "0", "250"];

fn main() {
    let args = Args::parse();
    if args.customers == 0 && args.numbers > 0 {
        eprintln!("gen_inventory: numbers need at least one customer");
        std::process::exit(2);
    }
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let ids: Vec<String> = (1..=args.customers)
        .map(|i| format!("MA_GEN{i:07}"))
        .collect();
    let accounts: Vec<Box<RawValue>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (state, country) = PLACES[rng.usize(..PLACES.len())];
            let credits = rng.u32(0..50_000);
            raw(format!(
                r#"{{"auth_id": "{id}", "name": "Customer {n}", "company": "Generated Traders {n} Pvt Ltd", "email": "billing{n}@example.com", "address": "{n} Market Road", "city": "Bengaluru", "state": "{state}", "zip_code": "560001", "country": "{country}", "gstin": null, "cash_credits": "{credits}.00000", "billing_mode": "prepaid", "is_active": true}}"#,
                n = i + 1
            ))
        })
        .collect();
    let numbers: Vec<Box<RawValue>> = (0..args.numbers)
        .map(|n| number(&mut rng, n, &ids[n % ids.len().max(1)]))
        .collect();
    if let Err(e) = didbill::vobiz::snapshot::write(&args.out, &accounts, &numbers) {
        eprintln!("gen_inventory: {e}");
        std::process::exit(1);
    }
    println!(
        "wrote {} account(s) and {} number(s) to {}",
        accounts.len(),
        numbers.len(),
        args.out.display()
    );
}

fn number(rng: &mut fastrand::Rng, n: usize, customer: &str) -> Box<RawValue> {
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rng.u32(..),
        rng.u16(..),
        rng.u16(..0x1000),
        rng.u16(..0x1000),
        n
    );
    let status = match rng.u8(..100) {
        0..=84 => "active",
        85..=89 => "released",
        90..=92 => "pending_purchase",
        93..=96 => "pending_release",
        _ => "blocked",
    };
    let (year, month) = match rng.u32(0..35) {
        m @ 0..=11 => (2024, m + 1),
        m @ 12..=23 => (2025, m - 11),
        m => (2026, m - 23),
    };
    let day = rng.u32(1..=28);
    let purchased = format!("{year}-{month:02}-{day:02}T06:30:00Z");
    let released = if status == "released" {
        // Released this November, never before the purchase.
        let earliest = if (year, month) == (2026, 11) { day } else { 1 };
        format!(r#""2026-11-{:02}T12:00:00Z""#, rng.u32(earliest..=28))
    } else {
        "null".into()
    };
    let kyc_required = rng.u8(..10) == 0;
    let kyc_verified = !kyc_required || rng.bool();
    let application = if rng.u8(..10) == 0 {
        "null".to_owned()
    } else {
        format!(r#""app_{}""#, rng.u8(1..=5))
    };
    raw(format!(
        r#"{{"id": "{id}", "account_id": "{customer}", "e164": "+9180{n:08}", "country": "IN", "region": "Karnataka", "capabilities": {{"voice": true, "sms": false, "mms": false, "fax": false}}, "status": "{status}", "setup_fee": {setup}, "monthly_fee": {monthly}, "currency": "INR", "application_id": {application}, "purchased_at": "{purchased}", "created_at": "{purchased}", "updated_at": "2026-11-20T10:00:00Z", "last_billing_date": "2026-11-{day:02}T06:30:00Z", "next_billing_date": "2026-12-{day:02}T06:30:00Z", "released_at": {released}, "aadhaar_verification_required": {kyc_required}, "aadhaar_verified": {kyc_verified}, "is_blocked": false, "is_trial_number": false, "minimum_commitment_months": 1, "source": "purchased", "tags": []}}"#,
        setup = SETUP_FEES[rng.usize(..SETUP_FEES.len())],
        monthly = MONTHLY_FEES[rng.usize(..MONTHLY_FEES.len())],
    ))
}

fn raw(json: String) -> Box<RawValue> {
    RawValue::from_string(json).expect("generated records are valid JSON")
}
