//! `[pricing]`: partner markups and per-customer prices on the demo snapshot.

use std::str::FromStr;

use crate::common::{demo_dir, demo_run_args, Test};
use rust_decimal::Decimal;

/// The demo configuration followed by `pricing` (TOML).
fn demo_config_with(pricing: &str) -> String {
    std::fs::read_to_string(demo_dir().join("didbill.toml")).unwrap() + pricing
}

/// The demo run's arguments with `--config priced.toml --out out`.
fn priced_args() -> Vec<String> {
    let demo_config = demo_dir().join("didbill.toml");
    demo_run_args()
        .into_iter()
        .map(|a| {
            if a == demo_config.to_str().unwrap() {
                "priced.toml".to_owned()
            } else {
                a
            }
        })
        .chain(["--out".to_owned(), "out".to_owned()])
        .collect()
}

/// The demo run with the demo configuration plus `pricing`.
fn priced_demo(pricing: &str) -> Test {
    Test::new()
        .file("priced.toml", demo_config_with(pricing))
        .args(priced_args())
}

/// The `line_items.csv` row of `e164`'s `charge`: (unit_amount, amount).
fn line(items: &str, e164: &str, charge: &str) -> (String, String) {
    let mut r = csv::Reader::from_reader(items.as_bytes());
    r.records()
        .map(Result::unwrap)
        .find(|row| &row[6] == e164 && &row[7] == charge)
        .map(|row| (row[12].to_owned(), row[13].to_owned()))
        .unwrap_or_else(|| panic!("no {charge} line for {e164}"))
}

#[test]
fn zero_markups_leave_every_demo_output_byte_identical() {
    let ran = priced_demo(
        r#"
[pricing]
rental_markup_percent = 0
setup_markup_percent = 0.0
usage_markup_percent = "0"
[pricing.customers."MA_ACME0001"]
rental_markup_percent = 0
"#,
    )
    .args(["--csv", "xero,zoho,quickbooks,tally"])
    .run()
    .expect_code(0);
    let expected = demo_dir().join("expected");
    for file in std::fs::read_dir(&expected).unwrap() {
        let file = file.unwrap().file_name().into_string().unwrap();
        assert_eq!(
            ran.read(&format!("out/{file}")),
            std::fs::read_to_string(expected.join(&file)).unwrap(),
            "{file}"
        );
    }
    assert!(!ran.stdout().contains("margin"), "{}", ran.stdout());
}

#[test]
fn markups_and_fixed_prices_bill_the_partner_price_and_report_the_margin() {
    let ran = priced_demo(
        r#"
[pricing]
rental_markup_percent = 10
setup_markup_percent = 5
[pricing.customers."MA_ACME0001"]
rental_markup_percent = 20
[pricing.customers."MA_BHARAT02"]
monthly_fee = 800
setup_fee = 0
currency = "INR"
"#,
    )
    .run()
    .expect_code(0);
    let items = ran.read("out/line_items.csv");
    // Acme: 300 + 20%; 0.50 + 20% = 0.60; a setup of 100 + 5%.
    assert_eq!(
        line(&items, "+918041000001", "rental"),
        ("360.00".into(), "360.00".into())
    );
    assert_eq!(
        line(&items, "+918041000007", "rental"),
        ("0.60".into(), "0.60".into())
    );
    assert_eq!(
        line(&items, "+918041000005", "setup"),
        ("105.00".into(), "105.00".into())
    );
    // Acme's 299.99 + 20% = 359.988: the price and the amount are rounded once each.
    assert_eq!(
        line(&items, "+918041000004", "rental"),
        ("359.99".into(), "359.99".into())
    );
    // Bharat: a fixed 800 replaces the provider's 1000, prorated 9 of 30 days; the
    // provider's setup of 150 is waived.
    assert_eq!(
        line(&items, "+912266000002", "rental"),
        ("800.00".into(), "240.00".into())
    );
    assert_eq!(
        line(&items, "+912266000003", "setup"),
        ("0.00".into(), "0.00".into())
    );
    // Everyone else: 333.33 + 10% = 366.663 a month, 24 of 30 days = 293.3304.
    assert_eq!(
        line(&items, "+914423000004", "rental"),
        ("366.66".into(), "293.33".into())
    );

    let text = ran.read("out/summary.json");
    let inr = &text[text.find("\"INR\"").unwrap()..];
    let at = |key: &str| inr.find(&format!("\"{key}\"")).unwrap();
    assert!(
        at("subtotal") < at("tax")
            && at("tax") < at("total")
            && at("total") < at("provider_cost")
            && at("provider_cost") < at("margin"),
        "the new keys follow the existing ones: {text}"
    );
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    let amount = |currency: &str, key: &str| {
        Decimal::from_str(summary["totals"][currency][key].as_str().unwrap()).unwrap()
    };
    for (currency, provider_subtotal) in [("INR", "8790.23"), ("USD", "16.17")] {
        // The provider cost is what the demo bills at the provider's prices.
        assert_eq!(
            amount(currency, "provider_cost").to_string(),
            provider_subtotal
        );
        assert_eq!(
            amount(currency, "provider_cost") + amount(currency, "margin"),
            amount(currency, "subtotal")
        );
    }
    assert!(
        ran.stdout().contains("(provider cost 8790.23, margin "),
        "{}",
        ran.stdout()
    );
}

#[test]
fn a_price_for_a_customer_the_source_lacks_refuses_a_real_run_and_warns_a_dry_run() {
    let mistyped = "[pricing.customers.\"MA_ACMEOOO1\"]\nmonthly_fee = 1\ncurrency = \"INR\"\n";
    let real = priced_demo(mistyped).run().expect_code(2);
    assert!(
        real.stderr()
            .contains("pricing.customers.\"MA_ACMEOOO1\" names no customer in the inventory"),
        "{}",
        real.stderr()
    );
    assert!(
        real.stderr().contains("correct the customer id"),
        "{}",
        real.stderr()
    );
    assert!(!real.path("out").exists() && !real.path("didbill.sqlite").exists());

    let dry = priced_demo(mistyped).arg("--dry-run").run().expect_code(0);
    let summary: serde_json::Value = serde_json::from_str(&dry.read("out/summary.json")).unwrap();
    assert!(
        summary["warnings"]
            .to_string()
            .contains(r#"pricing.customers.\"MA_ACMEOOO1\""#),
        "{}",
        summary["warnings"]
    );
}

#[test]
fn a_price_change_after_issuing_is_a_ledger_conflict() {
    let first = priced_demo("[pricing]\nrental_markup_percent = 10\n")
        .run()
        .expect_code(0);
    let outputs = first.tree("out");
    let same = first.then().args(priced_args()).run().expect_code(0);
    assert_eq!(
        same.tree("out"),
        outputs,
        "a re-run rewrites the same bytes"
    );
    let changed = same
        .then()
        .file(
            "priced.toml",
            demo_config_with("[pricing]\nrental_markup_percent = 12\n"),
        )
        .args(priced_args())
        .run()
        .expect_code(4);
    assert!(
        changed.stderr().contains("DID/26-27/00001"),
        "{}",
        changed.stderr()
    );
    assert_eq!(changed.tree("out"), outputs, "nothing was written");
}

#[test]
fn a_fixed_price_bills_only_the_numbers_in_its_currency() {
    let ran = priced_demo(
        r#"
[pricing]
rental_markup_percent = 10
[pricing.customers."MA_DELHI004"]
monthly_fee = 450
setup_fee = 0
currency = "INR"
"#,
    )
    .run()
    .expect_code(0);
    let items = ran.read("out/line_items.csv");
    // Delhi's INR number: the fixed 450 instead of the provider's 600.
    assert_eq!(
        line(&items, "+911123000001", "rental"),
        ("450.00".into(), "450.00".into())
    );
    // Its USD numbers are not 450 USD: the provider's 5.00 + 10 %, prorated 10 of 30
    // days (1.8333… → 1.83), and the provider's setup of 2.00, not waived.
    assert_eq!(
        line(&items, "+14155550101", "rental"),
        ("5.50".into(), "1.83".into())
    );
    assert_eq!(
        line(&items, "+14155550101", "setup"),
        ("2.00".into(), "2.00".into())
    );
    assert_eq!(
        line(&items, "+14155550102", "rental"),
        ("5.50".into(), "5.50".into())
    );
}

#[test]
fn a_fixed_price_without_a_currency_is_refused_at_start_naming_the_key() {
    let ran = priced_demo(
        r#"
[pricing.customers."MA_DELHI004"]
monthly_fee = 450
"#,
    )
    .run()
    .expect_code(2);
    let err = ran.stderr();
    assert!(
        err.contains(
            r#"pricing.customers."MA_DELHI004".monthly_fee is a fixed price without a currency: add currency = "INR""#
        ),
        "{err}"
    );
    assert!(!ran.path("out").exists());
    assert!(!ran.path("didbill.sqlite").exists(), "no ledger was opened");
}
