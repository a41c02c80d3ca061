//! `didbill run` end to end on the bundled demo snapshot and on broken inputs.

use crate::common::{demo_dir, real_run_config, Test};

const OUTPUTS: [&str; 6] = [
    "line_items.csv",
    "invoices.csv",
    "exceptions.csv",
    "not_billable.csv",
    "usage_exceptions.csv",
    "summary.json",
];

#[test]
fn demo_run_matches_the_committed_expected_outputs() {
    let ran = Test::demo().run().expect_code(0);
    for file in OUTPUTS {
        let expected = std::fs::read_to_string(demo_dir().join("expected").join(file)).unwrap();
        assert_eq!(
            ran.read(&format!("out/{file}")),
            expected,
            "{file} differs from fixtures/demo/expected"
        );
    }
    let stdout = ran.stdout();
    assert!(stdout.contains("invoices 11"), "{stdout}");
    assert!(
        stdout.contains("INR  subtotal 8790.23  tax 1519.24  total 10309.47"),
        "{stdout}"
    );
    assert!(
        ran.stderr().contains("MA_ZENITH10"),
        "the place-of-supply fallback is warned about"
    );
}

#[test]
fn two_runs_on_the_same_input_write_identical_bytes() {
    let a = Test::demo().run().expect_code(0);
    let b = Test::demo().run().expect_code(0);
    assert_eq!(a.tree("out"), b.tree("out"));
    assert!(!a.tree("out").is_empty());
}

#[test]
fn dry_run_numbers_drafts() {
    let ran = Test::demo().arg("--dry-run").run().expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    assert!(
        invoices.contains("\nDRAFT-0001,2026-12-01,2026-12-16,MA_ACME0001,"),
        "{invoices}"
    );
    assert!(invoices.contains("\nDRAFT-0011,"), "{invoices}");
    assert!(ran.stdout().contains("dry run"));
}

#[test]
fn every_number_fetched_is_in_exactly_one_of_line_items_not_billable_and_exceptions() {
    let ran = Test::demo().run().expect_code(0);
    let column = |file: &str, name: &str| -> Vec<String> {
        let text = ran.read(&format!("out/{file}"));
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let at = r.headers().unwrap().iter().position(|h| h == name).unwrap();
        r.records().map(|rec| rec.unwrap()[at].to_owned()).collect()
    };
    let mut billed = column("line_items.csv", "number_id");
    billed.dedup();
    let not_billable = column("not_billable.csv", "number_id");
    let exceptions = column("exceptions.csv", "number_id");
    let summary: serde_json::Value = serde_json::from_str(&ran.read("out/summary.json")).unwrap();
    assert_eq!(
        (billed.len(), not_billable.len(), exceptions.len()),
        (32, 5, 9),
        "the counts summary.json reports"
    );
    assert_eq!(billed.len() + not_billable.len() + exceptions.len(), 46);
    assert_eq!(summary["numbers_fetched"], 46);
    for id in &not_billable {
        assert!(
            !billed.contains(id) && !exceptions.contains(id),
            "{id} twice"
        );
    }
    assert_eq!(
        column("not_billable.csv", "reason"),
        [
            "pending_purchase: not provisioned yet; billed once the purchase completes",
            "released on 2026-10-15, before the period",
            "purchased on 2026-12-01, after the period",
            "pending_purchase: not provisioned yet; billed once the purchase completes",
            "released on 2026-09-01, before the period",
        ]
    );
}

#[test]
fn customer_filter_bills_only_that_customer() {
    let ran = Test::demo()
        .args(["--customer", "MA_CHENNAI3", "--invoice-date", "2026-12-02"])
        .run()
        .expect_code(0);
    assert_eq!(
        ran.read("out/invoices.csv"),
        "invoice_number,invoice_date,due_date,customer_id,customer_name,customer_gstin,place_of_supply,currency,lines,subtotal,cgst,sgst,igst,round_off,total,fx_rate,taxable_value_inr,tax_inr\n\
         DID/26-27/00001,2026-12-02,2026-12-17,MA_CHENNAI3,Chennai Care Clinics,,33,INR,5,893.32,0.00,0.00,160.80,0.00,1054.12,,893.32,160.80\n"
    );
    let summary: serde_json::Value = serde_json::from_str(&ran.read("out/summary.json")).unwrap();
    assert_eq!(summary["customers"], 1);
    assert_eq!(summary["numbers_fetched"], 5);
    assert_eq!(summary["exceptions"], 1);

    let unknown = Test::demo()
        .args(["--customer", "MA_NOBODY"])
        .run()
        .expect_code(2);
    assert!(unknown.stderr().contains("MA_NOBODY"));
    assert!(!unknown.path("out").exists());
}

#[test]
fn strict_stops_on_exceptions_and_writes_nothing() {
    let ran = Test::demo().arg("--strict").run().expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("--strict: 9 number(s) cannot be billed"),
        "{err}"
    );
    assert!(err.contains("MA_GHOST999"), "{err}");
    assert!(!ran.path("out").exists());
    // A customer without exceptions passes --strict.
    Test::demo()
        .args(["--strict", "--customer", "MA_EUROPA05"])
        .run()
        .expect_code(0);
}

fn snapshot_run(accounts: &str, numbers: &str) -> crate::common::Ran {
    Test::new()
        .file("snap/accounts.json", accounts)
        .file("snap/numbers.json", numbers)
        .args([
            "run",
            "--source",
            "snap",
            "--period",
            "2026-11",
            "--as-of",
            "2026-12-02T00:00:00Z",
            "--config",
            &real_run_config(),
        ])
        .run()
}

const ONE_ACCOUNT: &str =
    r#"{"accounts": [{"auth_id": "MA_1", "name": "One", "state": "KA"}], "total": 1}"#;

#[test]
fn bad_snapshot_files_exit_1_naming_file_record_and_field() {
    let cases = [
        (ONE_ACCOUNT, "", "numbers.json"),
        ("{\"accounts\": [", r#"{"items": []}"#, "accounts.json"),
        (
            r#"{"accounts": [{"auth_id": "MA_7", "is_active": "yes"}]}"#,
            r#"{"items": []}"#,
            "MA_7",
        ),
        (
            r#"{"accounts": [{"name": "nobody"}]}"#,
            r#"{"items": []}"#,
            "auth_id",
        ),
        (ONE_ACCOUNT, r#"{"items": {"id": 1}}"#, "numbers.json"),
        (ONE_ACCOUNT, r#"{"data": []}"#, "items"),
    ];
    for (accounts, numbers, needle) in cases {
        let ran = snapshot_run(accounts, numbers).expect_code(1);
        assert!(ran.stderr().contains(needle), "{needle}: {}", ran.stderr());
        assert!(!ran.path("out").exists(), "nothing is written on bad input");
    }
    let missing = Test::new()
        .args([
            "run",
            "--source",
            "nowhere",
            "--period",
            "2026-11",
            "--dry-run",
        ])
        .run()
        .expect_code(1);
    assert!(
        missing.stderr().contains("nowhere/accounts.json"),
        "{}",
        missing.stderr()
    );
}

#[test]
fn per_number_problems_become_exception_rows() {
    let ran = snapshot_run(
        ONE_ACCOUNT,
        r#"{"items": [
            {"id": "a", "account_id": "MA_1", "e164": "+911", "status": "active", "setup_fee": 0, "monthly_fee": 1e30,
             "currency": "INR", "purchased_at": "2026-01-01T00:00:00Z"},
            {"id": "b", "account_id": "MA_1", "e164": "+912", "status": "active", "setup_fee": 0, "monthly_fee": 300,
             "currency": "INR", "purchased_at": "2026-01-01T00:00:00Z", "released_at": "not a date"},
            {"id": "c", "account_id": "MA_1", "e164": "+913", "status": "active", "setup_fee": 0, "monthly_fee": 0.1,
             "currency": "INR", "purchased_at": "2026-01-01T00:00:00.000001Z", "extra": [1, 2]}
        ]}"#,
    )
    .expect_code(0);
    assert_eq!(
        ran.read("out/2026-11/exceptions.csv"),
        "customer_id,number_id,e164,reason\n\
         MA_1,a,+911,monthly_fee 1e30 is not a number (or out of range)\n\
         MA_1,b,+912,\"released_at \"\"not a date\"\" is not an RFC 3339 datetime\"\n"
    );
    assert!(ran
        .read("out/2026-11/line_items.csv")
        .contains(",c,+913,rental,2026-11-01,2026-11-30,30,30,0.10,0.10\n"));
}

#[test]
fn usage_and_config_errors_have_their_exit_codes() {
    let ran = Test::new()
        .args(["run", "--period", "2026-13"])
        .run()
        .expect_code(2);
    assert!(
        ran.stderr().contains("there is no month 13"),
        "{}",
        ran.stderr()
    );
    Test::new().args(["frobnicate"]).run().expect_code(2);
    let ran = Test::new()
        .file(
            "bad.toml",
            "[invoice]\nnumber_format = \"{prefix}-{fy}-{seq:09}\"\n",
        )
        .args([
            "run", "--source", "x", "--period", "2026-11", "--config", "bad.toml",
        ])
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains("bad.toml") && ran.stderr().contains("16"),
        "{}",
        ran.stderr()
    );
    let ran = Test::demo()
        .file("didbill.toml", "colour = \"red\"\n")
        .run()
        .expect_code(0);
    assert!(
        ran.path("out/summary.json").exists(),
        "--config wins over ./didbill.toml"
    );
    let ran = Test::new()
        .file("didbill.toml", "colour = \"red\"\n")
        .args(["run", "--source", "x", "--period", "2026-11"])
        .run()
        .expect_code(1);
    assert!(ran.stderr().contains("colour"), "{}", ran.stderr());
}

#[test]
fn a_folder_didbill_did_not_write_is_never_replaced() {
    let ran = Test::demo()
        .file("out/notes.txt", "mine")
        .run()
        .expect_code(2);
    assert!(
        ran.stderr().contains("not written by didbill"),
        "{}",
        ran.stderr()
    );
    assert_eq!(ran.read("out/notes.txt"), "mine");
}

#[test]
fn demo_run_writes_one_readable_pdf_per_invoice_unless_no_pdf() {
    let ran = Test::demo().run().expect_code(0);
    let pdfs: Vec<String> = ran
        .tree("out/pdf")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let expected: Vec<String> = (1..=11).map(|i| format!("DID-26-27-{i:05}.pdf")).collect();
    assert_eq!(pdfs, expected);
    let bytes = std::fs::read(ran.path("out/pdf/DID-26-27-00003.pdf")).unwrap();
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    for needle in [
        "DID/26-27/00003",
        "Chennai Care Clinics",
        "Tamil Nadu (33)",
        "126.67",
        "₹1,054.12",
        "IGST",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from the PDF text:\n{text}"
        );
    }
    let ran = Test::demo().arg("--no-pdf").run().expect_code(0);
    assert!(!ran.path("out/pdf").exists());
    assert!(ran.path("out/invoices.csv").exists());
}

/// The demo run with its configuration's text edited (`from` → `to`), as `cfg.toml`.
fn demo_with_config(from: &str, to: &str) -> Test {
    let text = crate::common::demo_config_text();
    assert!(text.contains(from), "{from}");
    Test::demo_configured(text.replace(from, to))
}

/// The cells of `column` in a CSV file's rows.
fn column(csv_text: &str, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    reader
        .records()
        .map(|r| r.unwrap()[at].to_owned())
        .collect()
}

#[test]
fn with_tax_off_no_invoice_charges_or_prints_gst() {
    let ran = demo_with_config("enabled = true", "enabled = false")
        .args(["--csv", "xero,zoho,quickbooks"])
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    for tax in ["cgst", "sgst", "igst"] {
        assert!(
            column(&invoices, tax).iter().all(|c| c == "0.00"),
            "{invoices}"
        );
    }
    assert_eq!(column(&invoices, "subtotal"), column(&invoices, "total"));
    let xero = ran.read("out/xero.csv");
    assert!(
        column(&xero, "*TaxType").iter().all(|c| c == "Tax Exempt"),
        "{xero}"
    );
    let zoho = ran.read("out/zoho.csv");
    assert!(
        column(&zoho, "Item Tax").iter().all(String::is_empty),
        "{zoho}"
    );
    let quickbooks = ran.read("out/quickbooks.csv");
    assert!(
        column(&quickbooks, "ItemTaxCode")
            .iter()
            .all(|c| c == "Out of Scope"),
        "{quickbooks}"
    );
    let pdf =
        pdf_extract::extract_text_from_mem(&ran.read_bytes("out/pdf/DID-26-27-00001.pdf")).unwrap();
    assert!(pdf.contains("Subtotal") && pdf.contains("Total"), "{pdf}");
    for row in ["CGST", "SGST", "IGST"] {
        assert!(!pdf.contains(row), "{row} printed with tax off:\n{pdf}");
    }
}

#[test]
fn due_days_set_the_due_date() {
    let ran = demo_with_config("due_days = 15", "due_days = 30")
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    assert!(
        column(&invoices, "due_date")
            .iter()
            .all(|d| d == "2026-12-31"),
        "{invoices}"
    );
}

#[test]
fn without_out_the_outputs_go_to_out_slash_the_period() {
    let ran = Test::new()
        .args(crate::common::demo_run_args())
        .run()
        .expect_code(0);
    assert!(ran.path("out/2026-11/summary.json").exists());
    assert!(ran.path("out/2026-11/pdf/DID-26-27-00001.pdf").exists());
    assert!(ran.stdout().contains("→ out/2026-11"), "{}", ran.stdout());
    assert!(
        ran.stderr()
            .contains("warning: customer MA_ZENITH10: no GSTIN state code"),
        "{}",
        ran.stderr()
    );
}

#[test]
fn pdf_wording_templates_apply_from_the_command_line() {
    let footer = "Page {{ page }}/{{ pages }} of {{ number }} · thank you";
    let ran = Test::demo()
        .file("tpl/pdf/footer.txt", footer)
        .args(["--templates", "tpl"])
        .run()
        .expect_code(0);
    let pdf =
        pdf_extract::extract_text_from_mem(&ran.read_bytes("out/pdf/DID-26-27-00001.pdf")).unwrap();
    assert!(
        pdf.contains("Page 1/1 of DID/26-27/00001 · thank you"),
        "{pdf}"
    );

    // A broken one stops the run before anything is written or numbered.
    let ran = Test::demo()
        .file("tpl/pdf/footer.txt", "Page {{ page ")
        .args(["--templates", "tpl", "--ledger", "ledger.sqlite"])
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains("tpl/pdf/footer.txt"),
        "{}",
        ran.stderr()
    );
    assert!(!ran.path("out").exists() && !ran.path("ledger.sqlite").exists());
}

#[test]
fn a_number_format_too_narrow_for_the_month_stops_before_anything_is_written() {
    // 11 invoices need sequence numbers up to 11; `{seq:01}` stops at 9.
    let ran = demo_with_config("{seq:05}", "{seq:01}")
        .args(["--ledger", "ledger.sqlite"])
        .run()
        .expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("would need invoice sequence number 11") && err.contains("widen"),
        "{err}"
    );
    assert!(!ran.path("out").exists());
    // The ledger was created by this run and holds no invoice.
    let ran = ran
        .then()
        .args([
            "invoices",
            "list",
            "--ledger",
            "ledger.sqlite",
            "--format",
            "csv",
        ])
        .run()
        .expect_code(0);
    assert_eq!(ran.stdout().lines().count(), 1, "{}", ran.stdout());
}

#[test]
fn a_free_number_issues_no_invoice_and_is_listed_as_not_billable() {
    let ran = snapshot_run(
        ONE_ACCOUNT,
        r#"{"items": [
            {"id": "free", "account_id": "MA_1", "e164": "+914400000001", "status": "active", "setup_fee": 0,
             "monthly_fee": 0, "currency": "INR", "purchased_at": "2026-01-01T00:00:00Z"}
        ]}"#,
    )
    .expect_code(0);
    assert_eq!(
        ran.read("out/2026-11/invoices.csv").lines().count(),
        1,
        "header only"
    );
    assert_eq!(
        ran.read("out/2026-11/not_billable.csv"),
        "customer_id,number_id,e164,status,reason\n\
         MA_1,free,+914400000001,active,every line of the customer's INR invoice is 0.00: no invoice issued\n"
    );
}
