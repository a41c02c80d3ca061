//! The PDF invoices of whole runs: drafts, the bill-to block, the seller's
//! payment details and signatory from the configuration.

use crate::common::{demo_config_text, Ran, Test};

/// The text of one PDF of a run, with runs of whitespace as one space.
fn pdf_text(ran: &Ran, file: &str) -> String {
    let text = pdf_extract::extract_text_from_mem(&ran.read_bytes(file)).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The demo run with `extra` added to its `[seller]` section, as `cfg.toml` (the
/// demo's seller is complete: name, address and GSTIN).
fn demo_with_seller_keys(extra: &str) -> Test {
    let text = demo_config_text();
    let config = text.replace("[seller]\n", &format!("[seller]\n{extra}\n"));
    assert_ne!(config, text);
    Test::demo_configured(config)
}

#[test]
fn a_dry_run_writes_drafts_that_ask_for_no_payment() {
    let ran = Test::demo().arg("--dry-run").run().expect_code(0);
    let text = pdf_text(&ran, "out/pdf/DRAFT-0003.pdf");
    for needle in [
        "Draft — not a tax invoice",
        "DRAFT — for review only. This is not a tax invoice and no payment is due on it.",
        "DRAFT-0003 is a draft number, not an invoice number",
        "Chennai Care Clinics",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    for absent in [
        "Tax Invoice",
        "Please quote",
        "Payment is due",
        "Authorised Signatory",
    ] {
        assert!(
            !text.contains(absent),
            "the draft shows {absent:?}:\n{text}"
        );
    }

    // The real run's invoice of the same customer is a tax invoice.
    let ran = Test::demo().run().expect_code(0);
    let text = pdf_text(&ran, "out/pdf/DID-26-27-00003.pdf");
    for needle in [
        "Tax Invoice",
        "Please quote invoice number DID/26-27/00003 with your payment",
        "For Demo Telecom Pvt Ltd",
        "Authorised Signatory",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.to_lowercase().contains("draft"), "{text}");
}

#[test]
fn the_bill_to_block_names_the_state_and_country() {
    let ran = Test::demo().run().expect_code(0);
    let cases = [
        // state "KA", country "IN"
        (
            "DID-26-27-00001",
            "Acme Solutions Pvt Ltd",
            "Bengaluru 560025 Karnataka (29), India GSTIN",
        ),
        // "Maharashtra", "IN"
        (
            "DID-26-27-00002",
            "Bharat Logistics LLP",
            "Mumbai 400069 Maharashtra (27), India",
        ),
        // "TS", "IN"
        (
            "DID-26-27-00010",
            "Deccan Telecare",
            "Hyderabad 500081 Telangana (36), India",
        ),
        // A state abroad is printed as written: "Berlin", "DE"
        (
            "DID-26-27-00006",
            "Europa Calls GmbH",
            "Berlin 10117 Berlin, Germany",
        ),
    ];
    for (number, customer, needle) in cases {
        let text = pdf_text(&ran, &format!("out/pdf/{number}.pdf"));
        assert!(
            text.contains(customer),
            "{number} is not {customer}:\n{text}"
        );
        assert!(
            text.contains(needle),
            "{number}: missing {needle:?} in:\n{text}"
        );
        assert!(!text.contains(", IN ") && !text.contains(", DE "), "{text}");
    }
    // A foreign currency's code is spaced from the amount.
    let text = pdf_text(&ran, "out/pdf/DID-26-27-00007.pdf");
    assert!(text.contains("Monthly rental (USD 7.50/month)"), "{text}");
    assert!(text.contains("Subtotal USD 7.50"), "{text}");
}

#[test]
fn the_sellers_payment_details_and_signatory_are_printed() {
    let ran = demo_with_seller_keys(
        r#"bank_name = "HDFC Bank, MG Road"
bank_account = "50200012345678"
ifsc = "hdfc0001234"
upi_id = "demotelecom@hdfcbank"
signatory_name = "Asha Rao"
signatory_title = "Director""#,
    )
    .run()
    .expect_code(0);
    let text = pdf_text(&ran, "out/pdf/DID-26-27-00001.pdf");
    for needle in [
        "Payment Details",
        "Bank: HDFC Bank, MG Road",
        "Account No.: 50200012345678",
        "IFSC: HDFC0001234",
        "UPI ID: demotelecom@hdfcbank",
        "For Demo Telecom Pvt Ltd",
        "Asha Rao",
        "Director",
        "Authorised Signatory",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn a_malformed_ifsc_is_refused_naming_the_key() {
    // An invalid configuration file: exit 1, before anything is read or written.
    let ran = demo_with_seller_keys(r#"ifsc = "HDFC1234567""#)
        .run()
        .expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("seller.ifsc \"HDFC1234567\" is not an IFSC")
            && err.contains("4 letters, 0, then 6 letters or digits"),
        "{err}"
    );
    assert!(!ran.path("out").exists());
}

#[test]
fn without_gst_the_title_is_a_bill_of_supply_or_an_invoice_not_a_tax_invoice() {
    let demo = demo_config_text();
    let untaxed = demo.replace("[tax]\nenabled = true", "[tax]\nenabled = false");
    assert_ne!(untaxed, demo);
    let unregistered = untaxed.replace("gstin = \"29ABCDE1234F1ZW\"", "gstin = \"\"");
    assert_ne!(unregistered, untaxed);
    for (config, title) in [(untaxed, "Bill of Supply"), (unregistered, "Invoice")] {
        let ran = Test::demo_configured(config).run().expect_code(0);
        let text = pdf_text(&ran, "out/pdf/DID-26-27-00001.pdf");
        assert!(
            text.starts_with(title) || text.contains(&format!(" {title} ")),
            "{title}: {text}"
        );
        assert!(!text.contains("Tax Invoice"), "{title}: {text}");
    }
}

/// `tax.export = "igst"`: exports carry IGST at the full rate, in the invoice
/// currency and in rupees, with the endorsement for exports on payment of IGST; the
/// accounting exports name the IGST tax.
#[test]
fn exports_on_payment_of_igst_carry_igst_and_say_so() {
    let config = demo_config_text().replace("[tax]\n", "[tax]\nexport = \"igst\"\n");
    let ran = Test::demo_configured(config)
        .args(["--csv", "zoho,tally"])
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    // Europa Calls GmbH: 350.00 INR and 7.50 USD (632.63 INR at 84.35), now with
    // 18 % IGST: 63.00 INR, and 1.35 USD with 113.87 in rupees.
    for row in [
        "DID/26-27/00006,2026-12-01,2026-12-16,MA_EUROPA05,Europa Calls GmbH,,96,INR,1,350.00,0.00,0.00,63.00,0.00,413.00,,350.00,63.00\n",
        "DID/26-27/00007,2026-12-01,2026-12-16,MA_EUROPA05,Europa Calls GmbH,,96,USD,1,7.50,0.00,0.00,1.35,0.00,8.85,84.35,632.63,113.87\n",
    ] {
        assert!(invoices.contains(row), "missing {row:?} in:\n{invoices}");
    }
    let text = pdf_text(&ran, "out/pdf/DID-26-27-00007.pdf");
    for needle in [
        "IGST @ 18%",
        "Supply of services for export on payment of integrated tax",
        "taxable value ₹632.63, IGST ₹113.87",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    for absent in ["zero-rated)", "under LUT"] {
        assert!(!text.contains(absent), "{absent:?} in:\n{text}");
    }
    let zoho = ran.read("out/zoho.csv");
    let europa: Vec<&str> = zoho.lines().filter(|l| l.contains("Europa")).collect();
    assert!(!europa.is_empty());
    assert!(
        europa
            .iter()
            .all(|l| l.contains(",overseas,") && l.contains(",IGST18,18,")),
        "{europa:?}"
    );
    let tally = ran.read("out/tally.xml");
    assert!(tally.contains("<LEDGERNAME>Output IGST</LEDGERNAME>\n       <ISDEEMEDPOSITIVE>No</ISDEEMEDPOSITIVE>\n       <AMOUNT>113.87</AMOUNT>"), "{tally}");
}
