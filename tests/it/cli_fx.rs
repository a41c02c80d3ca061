//! Rupee values of invoices in another currency: rates from `--fx-rates` and
//! `[fx]`, recorded in the ledger, printed in `invoices.csv` and the PDF, and a
//! real run without them refused.

use crate::common::{demo_config_text, demo_configured_args, Test};

/// The demo configuration without its `[fx]` rate.
fn demo_config_without_rates() -> String {
    let text = demo_config_text();
    let at = text
        .find("\n# Rupees per US dollar")
        .expect("the demo has a rate");
    text[..at].to_owned()
}

fn pdf_text(ran: &crate::common::Ran, file: &str) -> String {
    let text = pdf_extract::extract_text_from_mem(&ran.read_bytes(file)).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_real_run_without_the_rate_of_a_taxed_foreign_currency_invoice_is_refused() {
    let ran = Test::demo_configured(demo_config_without_rates())
        .run()
        .expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains(
            "2 invoice(s) in a currency other than INR are under GST and need the rupee exchange \
             rate of their invoice date (CGST Rule 34), and none is given: DID/26-27/00005 \
             (MA_DELHI004, USD, dated 2026-12-01), DID/26-27/00007 (MA_EUROPA05, USD, dated 2026-12-01)"
        ) && err.contains("--fx-rates FILE")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!ran.path("out").exists());
    // The refusal comes once the invoices are numbered: the ledger records none.
    let listed = ran.then().args(["invoices", "list"]).run().expect_code(0);
    assert_eq!(listed.stdout().trim(), "no invoices", "{}", listed.stdout());

    // A dry run previews without rupee values and says a real run would stop.
    let dry = Test::demo_configured(demo_config_without_rates())
        .arg("--dry-run")
        .run()
        .expect_code(0);
    assert!(
        dry.stderr()
            .contains("a real run would stop here: 2 invoice(s)"),
        "{}",
        dry.stderr()
    );
    assert!(dry
        .read("out/invoices.csv")
        .contains(",MA_DELHI004,Delhi Retail Hub,07AABCD4321E1Z8,07,USD,3,8.67,0.00,0.00,1.56,0.00,10.23,,,\n"));
}

#[test]
fn a_dated_rate_is_used_printed_recorded_and_kept_by_re_runs() {
    // The file's rate of 28 November (within a week of the invoice date) wins over [fx].
    let ran = Test::demo_configured(demo_config_text())
        .file(
            "rates.csv",
            "date,currency,inr_per_unit\n2026-11-20,USD,83.00\n2026-11-28,USD,84.10\n2026-12-02,USD,85.00\n",
        )
        .args(["--fx-rates", "rates.csv"])
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    // 8.67 × 84.10 = 729.147 → 729.15; IGST 18 % of it = 131.247 → 131.25.
    assert!(
        invoices.contains(",USD,3,8.67,0.00,0.00,1.56,0.00,10.23,84.10,729.15,131.25\n"),
        "{invoices}"
    );
    // A zero-rated export: its rupee value, no rupee tax.
    assert!(
        invoices.contains(",USD,1,7.50,0.00,0.00,0.00,0.00,7.50,84.10,630.75,0.00\n"),
        "{invoices}"
    );
    // Rupee invoices carry their own figures and no rate.
    assert!(
        invoices.contains(",INR,1,600.00,0.00,0.00,108.00,0.00,708.00,,600.00,108.00\n"),
        "{invoices}"
    );
    let delhi = pdf_text(&ran, "out/pdf/DID-26-27-00005.pdf");
    assert!(
        delhi.contains(
            "In rupees at 84.10 INR per USD (CGST Rule 34): taxable value ₹729.15, IGST ₹131.25."
        ),
        "{delhi}"
    );
    let europa = pdf_text(&ran, "out/pdf/DID-26-27-00007.pdf");
    assert!(
        europa.contains("Value in rupees at 84.10 INR per USD (CGST Rule 34): ₹630.75."),
        "{europa}"
    );
    let outputs = ran.tree("out");

    // The issued invoices keep their recorded rate, whatever a later file says.
    let rerun = ran
        .then()
        .file(
            "rates.csv",
            "date,currency,inr_per_unit\n2026-12-01,USD,90.00\n",
        )
        .args(demo_configured_args())
        .args(["--fx-rates", "rates.csv"])
        .run()
        .expect_code(0);
    assert_eq!(rerun.tree("out"), outputs);
}

#[test]
fn a_bad_rates_file_is_an_error_naming_the_line() {
    for (rates, needle) in [
        ("day,currency,rate\n", "the header is \"day,currency,rate\""),
        (
            "date,currency,inr_per_unit\n2026-12-01,USD,-1\n",
            "line 2: inr_per_unit \"-1\" is not an exchange rate",
        ),
        (
            "date,currency,inr_per_unit\n2026-12-01,INR,1\n",
            "line 2: currency \"INR\"",
        ),
        (
            "date,currency,inr_per_unit\n01-12-2026,USD,84\n",
            "line 2: date \"01-12-2026\" is not YYYY-MM-DD",
        ),
        (
            "date,currency,inr_per_unit\n2026-12-01,USD,84\n2026-12-01,USD,85\n",
            "line 3: a second, different rate for USD on 2026-12-01",
        ),
    ] {
        let ran = Test::demo()
            .file("rates.csv", rates)
            .args(["--fx-rates", "rates.csv"])
            .run()
            .expect_code(1);
        assert!(
            ran.stderr().contains("rates.csv") && ran.stderr().contains(needle),
            "{needle}: {}",
            ran.stderr()
        );
        assert!(!ran.path("out").exists());
    }
}
