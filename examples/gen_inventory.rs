//! Generates a synthetic, realistic inventory snapshot for benchmarks and scale tests.
//!
//! ```sh
//! cargo run --release --example gen_inventory -- --customers 2000 --numbers 20000 --seed 1 --out /tmp/snap
//! ```
//!
//! The snapshot has the Vobiz shapes (`accounts.json`, `numbers.json`) and the traits
//! of a real reseller's book: a skewed number of DIDs per customer (a few large
//! accounts, a long tail, some with none), purchases spread over the three years
//! before `--as-of`, releases and lapses, mid-month activity, a little USD, and about
//! 0.5% of records with data errors (missing dates, negative fees, bad e164, unknown
//! customers, conflicting duplicates). The same arguments always give the same bytes.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Months, SecondsFormat, Utc};

struct Args {
    customers: usize,
    numbers: usize,
    seed: u64,
    out: PathBuf,
    as_of: DateTime<Utc>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        customers: 100,
        numbers: 1000,
        seed: 1,
        out: PathBuf::from("snapshot"),
        as_of: DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--customers" => args.customers = value.parse().map_err(|e| bad(&e))?,
            "--numbers" => args.numbers = value.parse().map_err(|e| bad(&e))?,
            "--seed" => args.seed = value.parse().map_err(|e| bad(&e))?,
            "--out" => args.out = PathBuf::from(value),
            "--as-of" => {
                args.as_of = DateTime::parse_from_rfc3339(&value)
                    .map_err(|e| bad(&e))?
                    .with_timezone(&Utc)
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.customers == 0 {
        return Err("--customers must be at least 1".into());
    }
    Ok(args)
}

const STATES: [(&str, &str, &str); 8] = [
    ("KA", "Bengaluru", "29"),
    ("MH", "Mumbai", "27"),
    ("Tamil Nadu", "Chennai", "33"),
    ("DL", "New Delhi", "07"),
    ("TS", "Hyderabad", "36"),
    ("Kerala", "Kochi", "32"),
    ("Gujarat", "Ahmedabad", "24"),
    ("WB", "Kolkata", "19"),
];

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    let a = rng.u64(..);
    let b = rng.u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn accounts(args: &Args, rng: &mut fastrand::Rng) -> String {
    let mut out = String::from("{\n  \"accounts\": [");
    for i in 0..args.customers {
        let (state, city, code) = STATES[rng.usize(..STATES.len())];
        let abroad = rng.u32(..100) < 2;
        let gstin = if !abroad && rng.bool() {
            // A registered customer's GSTIN, with its mod-36 check character so that
            // `didbill gstr1` reports it as B2B.
            let first14 = format!("{code}AAACB{:04}C{}Z", rng.u32(..10_000), rng.u32(..10));
            let check = didbill_core::gst::gstin_check_character(&first14)
                .expect("a GSTIN of digits and capitals");
            format!("\"{first14}{check}\"")
        } else {
            "null".into()
        };
        let _ = write!(
            out,
            "{}\n    {{\"auth_id\": \"MA_{i:08}\", \"name\": \"Contact {i}\", \"company\": \"Customer {i} Pvt Ltd\", \
             \"email\": \"billing{i}@example.in\", \"phone\": \"+9180{:08}\", \"address\": \"{} Main Road\", \
             \"city\": \"{city}\", \"state\": \"{}\", \"zip_code\": \"56{:04}\", \"country\": \"{}\", \
             \"timezone\": \"Asia/Kolkata\", \"gstin\": {gstin}, \"gst_status\": \"registered\", \
             \"tds_enabled\": false, \"tds_percentage\": 0, \"cash_credits\": \"{}.{:05}\", \
             \"billing_mode\": \"prepaid\", \"is_active\": true}}",
            if i == 0 { "" } else { "," },
            rng.u32(..100_000_000),
            rng.u32(1..500),
            if abroad { "Bavaria" } else { state },
            rng.u32(..10_000),
            if abroad { "DE" } else { "IN" },
            rng.u32(..50_000),
            0
        );
    }
    let _ = write!(
        out,
        "\n  ],\n  \"total\": {0},\n  \"page\": 1,\n  \"size\": {0}\n}}\n",
        args.customers
    );
    out
}

/// One number record; `flaw` picks a data error (0 = none).
fn number(args: &Args, rng: &mut fastrand::Rng, index: usize, id: &str, flaw: u32) -> String {
    // Skewed ownership: u² concentrates numbers on the first customers.
    let u = rng.f64();
    let customer = ((u * u) * args.customers as f64) as usize % args.customers;
    let usd = rng.u32(..100) < 3;
    let (monthly, setup) = if usd {
        (
            ["5", "7.5", "12"][rng.usize(..3)],
            ["0", "2"][rng.usize(..2)],
        )
    } else {
        (
            ["199", "250", "299.99", "300", "450", "500", "1000", "0.5"][rng.usize(..8)],
            ["0", "100", "150", "250"][rng.usize(..4)],
        )
    };
    let age_minutes = rng.i64(0..3 * 365 * 24 * 60);
    let purchased = args.as_of - Duration::minutes(age_minutes);
    let months = (age_minutes / (31 * 24 * 60)) as u32;
    let last = purchased + Months::new(months);
    let next = last + Months::new(1);
    let roll = rng.u32(..100);
    let (status, released) = match roll {
        0..=79 => ("active", None),
        80..=87 => {
            let r = purchased + Duration::minutes(rng.i64(0..=age_minutes.max(1)));
            ("released", Some(r))
        }
        88..=91 => ("pending_release", None),
        92..=94 => ("blocked", None),
        95 => ("suspended", None),
        _ => ("pending_purchase", None),
    };
    // A few renewals missed: both billing dates two cycles back, so the number lapsed.
    let (last, next) = if roll.is_multiple_of(23) {
        (last - Months::new(2), next - Months::new(2))
    } else {
        (last, next)
    };
    let mut account = format!("MA_{customer:08}");
    let mut e164 = format!("+91{}{:09}", 7 + index % 3, index);
    let mut monthly = monthly.to_string();
    let mut purchased_at = format!("\"{}\"", rfc3339(purchased));
    match flaw {
        1 => purchased_at = "null".into(),
        2 => monthly = format!("-{monthly}"),
        3 => e164 = format!("0{index}"),
        4 => account = "MA_UNKNOWN".into(),
        _ => {}
    }
    let released = released
        .map(|r| format!(", \"released_at\": \"{}\"", rfc3339(r)))
        .unwrap_or_default();
    let app = if rng.u32(..10) == 0 {
        "null".to_string()
    } else {
        format!("\"app_{}\"", rng.u32(..500))
    };
    let kyc = rng.u32(..20) == 0;
    format!(
        "{{\"id\": \"{id}\", \"account_id\": \"{account}\", \"e164\": \"{e164}\", \"country\": \"{}\", \
         \"region\": \"Karnataka\", \"capabilities\": {{\"voice\": true, \"sms\": false, \"mms\": false, \"fax\": false}}, \
         \"status\": \"{status}\", \"setup_fee\": {setup}, \"monthly_fee\": {monthly}, \"currency\": \"{}\", \
         \"application_id\": {app}, \"purchased_at\": {purchased_at}, \"created_at\": \"{}\", \"updated_at\": \"{}\", \
         \"last_billing_date\": \"{}\", \"next_billing_date\": \"{}\"{released}, \
         \"aadhaar_verification_required\": {kyc}, \"aadhaar_verified\": {}, \"is_blocked\": {}, \
         \"is_trial_number\": false, \"minimum_commitment_months\": 1, \"source\": \"purchased\", \"tags\": []}}",
        if usd { "US" } else { "IN" },
        if usd { "USD" } else { "INR" },
        rfc3339(purchased),
        rfc3339(args.as_of - Duration::days(1)),
        rfc3339(last),
        rfc3339(next),
        !kyc || rng.bool(),
        status == "blocked",
    )
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen_inventory: {e}");
            std::process::exit(2);
        }
    };
    let mut rng = fastrand::Rng::with_seed(args.seed);
    std::fs::create_dir_all(&args.out).expect("create --out");
    std::fs::write(args.out.join("accounts.json"), accounts(&args, &mut rng))
        .expect("write accounts.json");

    let file = std::fs::File::create(args.out.join("numbers.json")).expect("create numbers.json");
    let mut w = std::io::BufWriter::new(file);
    let mut written = 0;
    w.write_all(b"{\n  \"items\": [").unwrap();
    let mut previous_id = String::new();
    for i in 0..args.numbers {
        // About 1 record in 200 carries a data error; flaw 5 repeats the previous id
        // with different content (a conflicting duplicate).
        let flaw = if rng.u32(..200) == 0 {
            rng.u32(1..=5)
        } else {
            0
        };
        let id = if flaw == 5 && !previous_id.is_empty() {
            previous_id.clone()
        } else {
            uuid(&mut rng)
        };
        let record = number(&args, &mut rng, i, &id, flaw);
        w.write_all(if written == 0 { b"\n    " } else { b",\n    " })
            .unwrap();
        w.write_all(record.as_bytes()).unwrap();
        written += 1;
        previous_id = id;
    }
    write!(
        w,
        "\n  ],\n  \"page\": 1,\n  \"per_page\": {written},\n  \"total\": {written}\n}}\n"
    )
    .unwrap();
    w.flush().unwrap();
    eprintln!(
        "gen_inventory: {} customers, {written} number records → {}",
        args.customers,
        args.out.display()
    );
}
