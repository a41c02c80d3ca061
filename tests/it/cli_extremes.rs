//! `didbill run` end to end on extreme input: fees no decimal can hold, a customer
//! with 100,000 numbers, empty strings, right-to-left scripts and control
//! characters in names and ids, an oversized snapshot file, far-away dates.
//!
//! The 100,000-number run (one PDF of 100,000 lines included) takes about 25 s in
//! a debug build and is ignored by default:
//! `cargo test --test it cli_extremes -- --ignored`.

use crate::common::{generated_snapshot, snapshot_run_args, Ran, Test};
use didbill::output::leftovers;
use didbill::text::is_hidden;
use serde_json::{json, Value};

fn summary(ran: &Ran, out: &str) -> Value {
    serde_json::from_str(&ran.read(&format!("{out}/summary.json"))).unwrap()
}

/// The three buckets add up to the numbers fetched.
fn assert_accounted_for(s: &Value) {
    assert_eq!(
        s["billed"].as_u64().unwrap()
            + s["not_billable"].as_u64().unwrap()
            + s["exceptions"].as_u64().unwrap(),
        s["numbers_fetched"].as_u64().unwrap(),
        "{s}"
    );
}

/// Every output file (a PDF's extracted text) is free of control and bidi
/// characters other than line ends, and every CSV row is as wide as its header.
fn assert_clean_outputs(ran: &Ran, out: &str) {
    let files = ran.tree(out);
    assert!(!files.is_empty());
    for (name, bytes) in files {
        let text = if name.ends_with(".pdf") {
            pdf_extract::extract_text_from_mem(&bytes).unwrap()
        } else {
            String::from_utf8(bytes).unwrap_or_else(|_| panic!("{name} is not UTF-8"))
        };
        if let Some(c) = text.chars().find(|&c| c != '\n' && is_hidden(c)) {
            panic!("{name} holds {c:?}");
        }
        if name.ends_with(".csv") {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let width = reader.headers().unwrap().len();
            for row in reader.records() {
                assert_eq!(row.unwrap().len(), width, "{name}");
            }
        }
    }
    assert!(leftovers(&ran.path(out)).is_empty());
}

fn with_snapshot(test: Test, accounts: &[Value], numbers: &[Value]) -> Test {
    test.file(
        "snap/accounts.json",
        json!({ "accounts": accounts }).to_string(),
    )
    .file("snap/numbers.json", json!({ "items": numbers }).to_string())
}

fn account(id: &str) -> Value {
    json!({"auth_id": id, "name": "Owner", "company": format!("{id} Ltd"), "state": "KA", "country": "IN"})
}

fn number(id: &str, customer: &str, e164: &str) -> Value {
    json!({
        "id": id, "account_id": customer, "e164": e164, "status": "active",
        "setup_fee": 100, "monthly_fee": 300, "currency": "INR",
        "purchased_at": "2026-01-05T06:00:00Z", "last_billing_date": null, "next_billing_date": null
    })
}

/// A number record with one field's raw JSON text replaced (fees must not pass
/// through a float on the way into the file).
fn raw_number(id: &str, field: &str, raw: &str) -> String {
    let mut n = number(id, "MA_1", "+918000000001");
    n[field] = json!("__RAW__");
    n.to_string().replace("\"__RAW__\"", raw)
}

#[test]
fn fees_no_decimal_can_hold_are_exception_rows_not_overflows() {
    let fees = [
        ("monthly_fee", "1e30"),
        ("monthly_fee", "\"1e30\""),
        ("setup_fee", "0.123456789012345678901234567890"),
        ("monthly_fee", "123456789012345678901234567890.5"),
        ("monthly_fee", "1e9"),
        ("setup_fee", "999999999.99999999999"),
        ("monthly_fee", "-1e30"),
        ("monthly_fee", "1e-30"),
    ];
    let mut records: Vec<String> = fees
        .iter()
        .enumerate()
        .map(|(i, (field, raw))| raw_number(&format!("bad-{i}"), field, raw))
        .collect();
    // The largest fees that are valid bill exactly.
    let mut largest = number("max", "MA_1", "+918000000002");
    largest["monthly_fee"] = json!("__RAW__");
    largest["setup_fee"] = json!("__RAW__");
    records.push(
        largest
            .to_string()
            .replace("\"__RAW__\"", "999999999.9999999999"),
    );
    let ran = Test::new()
        .file(
            "snap/accounts.json",
            json!({"accounts": [account("MA_1")]}).to_string(),
        )
        .file(
            "snap/numbers.json",
            format!("{{\"items\": [{}]}}", records.join(",")),
        )
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .run()
        .expect_code(0);
    let s = summary(&ran, "out");
    assert_eq!(
        (s["exceptions"].as_u64(), s["billed"].as_u64()),
        (Some(fees.len() as u64), Some(1))
    );
    assert_accounted_for(&s);
    let exceptions = ran.read("out/exceptions.csv");
    for i in 0..fees.len() {
        assert!(exceptions.contains(&format!(",bad-{i},")), "{exceptions}");
    }
    assert!(
        exceptions.contains("1e30 is not a number (or out of range)"),
        "{exceptions}"
    );
    assert!(exceptions.contains("10^9 or more"), "{exceptions}");
    assert!(
        exceptions.contains("more than 10 decimal places"),
        "{exceptions}"
    );
    assert!(
        ran.read("out/line_items.csv").contains(
            ",max,+918000000002,rental,2026-11-01,2026-11-30,30,30,1000000000.00,1000000000.00\n"
        ),
        "{}",
        ran.read("out/line_items.csv")
    );
    assert_clean_outputs(&ran, "out");

    // With --strict the same data stops the run, and nothing is written.
    let strict = Test::new()
        .file(
            "snap/accounts.json",
            json!({"accounts": [account("MA_1")]}).to_string(),
        )
        .file(
            "snap/numbers.json",
            format!("{{\"items\": [{}]}}", records.join(",")),
        )
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .arg("--strict")
        .run()
        .expect_code(1);
    assert!(strict.stderr().contains("8 number(s) cannot be billed"));
    assert!(!strict.path("out").exists() && !strict.path("didbill.sqlite").exists());
    assert!(leftovers(&strict.path("out")).is_empty());
}

/// One customer with `n` numbers: one invoice of `n` rentals, in one run.
fn one_customer_with(n: usize) {
    let (accounts, numbers) = generated_snapshot(1, n);
    let ran = Test::new()
        .file("snap/accounts.json", accounts)
        .file("snap/numbers.json", numbers)
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .args(["--csv", "xero,zoho,quickbooks"])
        .run()
        .expect_code(0);
    let s = summary(&ran, "out");
    assert_eq!(s["billed"].as_u64(), Some(n as u64));
    assert_eq!(s["invoices"].as_u64(), Some(1));
    assert_eq!(s["lines"].as_u64(), Some(n as u64));
    assert_accounted_for(&s);
    let subtotal = format!("{}.00", 300 * n);
    assert_eq!(s["totals"]["INR"]["subtotal"], json!(subtotal));
    assert_eq!(
        ran.read("out/line_items.csv").lines().count(),
        n + 1,
        "one row per number"
    );
    assert!(leftovers(&ran.path("out")).is_empty());
}

#[test]
fn a_customer_with_five_thousand_numbers_gets_one_invoice() {
    one_customer_with(5_000);
}

#[test]
#[ignore = "about 25 s in a debug build: cargo test --test it cli_extremes -- --ignored"]
fn a_customer_with_a_hundred_thousand_numbers_gets_one_invoice() {
    one_customer_with(100_000);
}

#[test]
fn empty_right_to_left_and_control_text_never_reaches_an_output_raw() {
    let accounts = [
        json!({"auth_id": "MA_RTL", "name": "", "company": "شركة الاتصالات المتقدمة", "state": "KA",
               "address": "שדרות רוטשילד 1", "city": "Bengaluru", "country": "IN"}),
        json!({"auth_id": "MA_CTRL", "name": "Evil\u{1b}[2J\u{7}Corp\r\nInjected,Row", "company": "",
               "address": "\u{202E}daoR 1\u{202C}", "email": "=cmd|' /C calc'!A0", "state": "KA\u{0}",
               "gstin": "", "country": null}),
        json!({"auth_id": "MA_EMPTY", "name": "", "company": "   ", "address": "", "city": "",
               "state": "", "zip_code": "", "email": "", "gstin": "", "country": ""}),
    ];
    let mut numbers = vec![
        number("n-rtl", "MA_RTL", "+918000000001"),
        number("n-ctrl", "MA_CTRL", "+918000000002"),
        number("n-empty", "MA_EMPTY", "+918000000003"),
        number("id\u{1b}[31m\r\n", "MA_CTRL", "+918000000004"),
        number("n-bidi", "MA_CTRL", "\u{202E}+91800000005"),
        number("n-acct", "MA_\u{7}CTRL", "+918000000006"),
        number("", "", ""),
    ];
    let mut blank = number("n-blank", "MA_EMPTY", "+918000000007");
    for field in ["status", "currency", "purchased_at"] {
        blank[field] = json!("");
    }
    numbers.push(blank);
    let ran = with_snapshot(Test::new(), &accounts, &numbers)
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .args(["--csv", "xero,zoho,quickbooks"])
        .run()
        .expect_code(0);
    assert_clean_outputs(&ran, "out");
    let s = summary(&ran, "out");
    assert_accounted_for(&s);
    assert_eq!(
        (s["billed"].as_u64(), s["exceptions"].as_u64()),
        (Some(3), Some(5))
    );

    let invoices = ran.read("out/invoices.csv");
    assert!(
        invoices.contains(",MA_RTL,شركة الاتصالات المتقدمة,"),
        "{invoices}"
    );
    assert!(
        invoices.contains(",MA_CTRL,\"Evil [2J Corp  Injected,Row\","),
        "{invoices}"
    );
    assert!(invoices.contains(",MA_EMPTY,MA_EMPTY,"), "{invoices}");
    let exceptions = ran.read("out/exceptions.csv");
    assert!(exceptions.contains("id\\u{1b}[31m\\r\\n"), "{exceptions}");
    assert!(exceptions.contains("\\u{202e}+91800000005"), "{exceptions}");
    assert!(exceptions.contains("MA_\\u{7}CTRL"), "{exceptions}");
    assert!(
        ran.read("out/xero.csv").contains("'=cmd|' /C calc'!A0"),
        "formula-like email neutralised"
    );
    for stream in [ran.stdout(), ran.stderr()] {
        assert!(
            !stream.chars().any(|c| c != '\n' && is_hidden(c)),
            "{stream:?}"
        );
    }

    // The audit and the numbers listing show the same records cleaned or escaped,
    // in every format.
    let mut dir = ran;
    for command in ["audit", "numbers"] {
        for format in ["table", "csv", "json"] {
            let listed = dir
                .then()
                .args([command, "--source", "snap", "--format", format])
                .args(if command == "audit" {
                    vec!["--as-of", "2027-06-01T00:00:00Z"]
                } else {
                    vec![]
                })
                .run()
                .expect_code(0);
            for stream in [listed.stdout(), listed.stderr()] {
                assert!(
                    !stream.chars().any(|c| c != '\n' && is_hidden(c)),
                    "{command} {format}: {stream:?}"
                );
            }
            dir = listed;
        }
    }
}

#[test]
fn ids_that_start_like_a_formula_are_exceptions_written_as_text() {
    let numbers = [
        number("n-ok", "MA_1", "+918000000001"),
        number(
            "=HYPERLINK(\"http://evil.example\")",
            "MA_1",
            "+918000000002",
        ),
        number("n-acct", "@SUM(A1)", "+918000000003"),
        number("n-long", "MA_1", "+1234567890123456"),
    ];
    let ran = with_snapshot(Test::new(), &[account("MA_1")], &numbers)
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .run()
        .expect_code(0);
    let s = summary(&ran, "out");
    assert_accounted_for(&s);
    assert_eq!(
        (s["billed"].as_u64(), s["exceptions"].as_u64()),
        (Some(1), Some(3))
    );
    let exceptions = ran.read("out/exceptions.csv");
    let rows: Vec<&str> = exceptions.lines().skip(1).collect();
    // Sorted by customer_id (`@SUM(A1)` before `MA_1`), written as text.
    assert!(
        rows[0].starts_with("'@SUM(A1),n-acct,+918000000003,"),
        "{exceptions}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with(
            "MA_1,\"'=HYPERLINK(\"\"http://evil.example\"\")\",+918000000002,\
             id starts like a spreadsheet formula"
        )),
        "{exceptions}"
    );
    // `+` and digits is written as it is, even past E.164's 15 digits.
    assert!(
        rows.iter()
            .any(|r| r.starts_with("MA_1,n-long,+1234567890123456,")),
        "{exceptions}"
    );
    for row in rows {
        assert!(!row.starts_with(['=', '+', '-', '@']), "{row}");
    }

    // An account whose id starts like a formula stops the run: nothing is written.
    let ran = with_snapshot(Test::new(), &[account("=1+1")], &[])
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains("starts like a spreadsheet formula"),
        "{}",
        ran.stderr()
    );
    assert!(!ran.path("out").exists());
}

#[test]
fn an_oversized_snapshot_file_is_refused_before_anything_is_written() {
    let (accounts, numbers) = generated_snapshot(10, 5_000);
    assert!(numbers.len() > 1 << 20, "the file must exceed 1 MiB");
    let test = || {
        Test::new()
            .file("snap/accounts.json", &accounts)
            .file("snap/numbers.json", &numbers)
            .args(snapshot_run_args("snap", "2026-11", "out"))
    };
    let ran = test()
        .env("DIDBILL_MAX_SNAPSHOT_MIB", "1")
        .run()
        .expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("numbers.json") && err.contains("larger than 1 MiB"),
        "{err}"
    );
    assert!(err.contains("DIDBILL_MAX_SNAPSHOT_MIB"), "{err}");
    assert!(!ran.path("out").exists() && !ran.path("didbill.sqlite").exists());
    assert!(leftovers(&ran.path("out")).is_empty());

    // A raised limit reads it; a limit that is not a size is a usage error.
    test()
        .env("DIDBILL_MAX_SNAPSHOT_MIB", "2")
        .run()
        .expect_code(0);
    for bad in ["0", "-1", "lots", ""] {
        let ran = test()
            .env("DIDBILL_MAX_SNAPSHOT_MIB", bad)
            .run()
            .expect_code(2);
        assert!(ran.stderr().contains("DIDBILL_MAX_SNAPSHOT_MIB"));
    }
}

#[test]
fn dates_beyond_four_digit_years_are_refused() {
    for date in ["+262143-12-31", "-0001-01-01", "99999-01-01", "2026-1-1"] {
        let ran = Test::demo()
            .arg(format!("--invoice-date={date}"))
            .run()
            .expect_code(2);
        assert!(
            ran.stderr().contains("YYYY-MM-DD"),
            "{date}: {}",
            ran.stderr()
        );
    }
    let ran = with_snapshot(
        Test::new(),
        &[account("MA_1")],
        &[{
            let mut n = number("far", "MA_1", "+918000000001");
            n["next_billing_date"] = json!("+262143-12-31T23:59:59");
            n
        }],
    )
    .args(snapshot_run_args("snap", "2026-11", "out"))
    .run()
    .expect_code(0);
    assert!(ran.read("out/exceptions.csv").contains("next_billing_date"));
}

#[test]
fn names_are_trimmed_not_collapsed_and_cells_starting_with_tab_or_return_are_guarded() {
    let accounts = [
        json!({"auth_id": "MA_1", "name": "Owner", "company": " Country  IN ", "state": "KA",
               "country": "IN"}),
        json!({"auth_id": "MA_2", "name": "Owner", "company": "\tTabbed\r\nCo\t", "state": "KA",
               "country": "IN"}),
    ];
    let numbers = [
        number("n1", "MA_1", "+918000000001"),
        number("n2", "MA_2", "+918000000002"),
        number("n3", "MA_1", "\t+918000000003"),
        number("\rn4", "MA_1", "+918000000004\u{7}"),
    ];
    let ran = with_snapshot(Test::new(), &accounts, &numbers)
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .args(["--dry-run", "--no-pdf"])
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    assert!(invoices.contains(",MA_1,Country  IN,"), "{invoices}");
    // Control characters inside a name become spaces; the ends are trimmed.
    assert!(invoices.contains(",MA_2,Tabbed  Co,"), "{invoices}");
    let exceptions = ran.read("out/exceptions.csv");
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(exceptions.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    let cells: Vec<(&str, &str)> = rows.iter().map(|r| (&r[1], &r[2])).collect();
    assert!(cells.contains(&("n3", "'\t+918000000003")), "{cells:?}");
    assert!(
        cells.contains(&("'\rn4", "'+918000000004\\u{7}")),
        "{cells:?}"
    );
}
