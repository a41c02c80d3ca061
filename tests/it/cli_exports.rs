//! `didbill run --csv …`: the accounting exports on the demo snapshot, user
//! templates, formula injection, the BOM, bad layout names, files split to each
//! tool's limits, line taxes, the round-off, Zoho's GST treatment and one contact
//! per currency.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::common::{
    demo_config_text, demo_dir, demo_run_args, generated_snapshot, snapshot_run_args, Ran, Test,
};
use rust_decimal::Decimal;

const LAYOUTS: [&str; 3] = ["xero", "zoho", "quickbooks"];
const CANONICAL: [&str; 5] = [
    "line_items.csv",
    "invoices.csv",
    "exceptions.csv",
    "usage_exceptions.csv",
    "summary.json",
];

fn expected(file: &str) -> String {
    std::fs::read_to_string(demo_dir().join("expected").join(file)).unwrap()
}

fn records(text: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    (headers, r.records().map(Result::unwrap).collect())
}

fn column(headers: &csv::StringRecord, name: &str) -> usize {
    headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn demo_exports_match_the_golden_files_and_leave_the_canonical_files_alone() {
    let ran = Test::demo()
        .args(["--csv", "xero,zoho,quickbooks"])
        .run()
        .expect_code(0);
    for layout in LAYOUTS {
        let file = format!("{layout}.csv");
        assert_eq!(
            ran.read(&format!("out/{file}")),
            expected(&file),
            "{file} differs from fixtures/demo/expected"
        );
    }
    for file in CANONICAL {
        assert_eq!(ran.read(&format!("out/{file}")), expected(file), "{file}");
    }
}

#[test]
fn exported_amounts_add_up_to_each_invoice_subtotal() {
    let ran = Test::demo()
        .args(["--csv", "xero,zoho,quickbooks"])
        .run()
        .expect_code(0);
    let (h, invoices) = records(&ran.read("out/invoices.csv"));
    let (number, subtotal) = (column(&h, "invoice_number"), column(&h, "subtotal"));
    let subtotals: BTreeMap<String, Decimal> = invoices
        .iter()
        .map(|r| {
            (
                r[number].to_owned(),
                Decimal::from_str(&r[subtotal]).unwrap(),
            )
        })
        .collect();
    // Quantity × unit amount per row, summed per invoice number.
    let layouts = [
        ("xero.csv", "*InvoiceNumber", "*Quantity", "*UnitAmount"),
        ("zoho.csv", "Invoice Number", "Quantity", "Item Price"),
        ("quickbooks.csv", "InvoiceNo", "ItemQuantity", "ItemRate"),
        ("quickbooks.csv", "InvoiceNo", "ItemQuantity", "ItemAmount"),
    ];
    for (file, inv, qty, amount) in layouts {
        let (h, rows) = records(&ran.read(&format!("out/{file}")));
        let (inv, qty, amount) = (column(&h, inv), column(&h, qty), column(&h, amount));
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in &rows {
            let line = Decimal::from_str(&r[qty]).unwrap() * Decimal::from_str(&r[amount]).unwrap();
            *sums.entry(r[inv].to_owned()).or_default() += line;
        }
        assert_eq!(sums, subtotals, "{file}: {amount}");
    }
}

/// A layout's rows as one CSV text: its single file, or its parts with the
/// header kept once.
fn layout_text(ran: &Ran, layout: &str) -> String {
    let files: Vec<(String, Vec<u8>)> = ran
        .tree("out")
        .into_iter()
        .filter(|(name, _)| {
            name == &format!("{layout}.csv") || name.starts_with(&format!("{layout}-"))
        })
        .collect();
    assert!(!files.is_empty(), "no {layout} export");
    files
        .iter()
        .enumerate()
        .map(|(i, (_, bytes))| {
            let text = std::str::from_utf8(bytes).unwrap();
            match i {
                0 => text,
                _ => text.split_once('\n').unwrap().1,
            }
        })
        .collect()
}

/// Each invoice's line taxes in the Xero and QuickBooks exports add up to its GST
/// in `invoices.csv` (cgst + sgst + igst), to the paisa.
fn assert_line_taxes_add_up(ran: &Ran) {
    let (h, invoices) = records(&ran.read("out/invoices.csv"));
    let number = column(&h, "invoice_number");
    let taxes: BTreeMap<String, Decimal> = invoices
        .iter()
        .map(|r| {
            let tax = ["cgst", "sgst", "igst"]
                .iter()
                .map(|c| Decimal::from_str(&r[column(&h, c)]).unwrap())
                .sum();
            (r[number].to_owned(), tax)
        })
        .collect();
    assert!(taxes.values().any(|t| !t.is_zero()));
    for (layout, inv, tax) in [
        ("xero", "*InvoiceNumber", "TaxAmount"),
        ("quickbooks", "InvoiceNo", "ItemTaxAmount"),
    ] {
        let (h, rows) = records(&layout_text(ran, layout));
        let (inv, tax) = (column(&h, inv), column(&h, tax));
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in &rows {
            *sums.entry(r[inv].to_owned()).or_default() += Decimal::from_str(&r[tax]).unwrap();
        }
        assert_eq!(sums, taxes, "{layout}: line taxes vs invoices.csv");
    }
}

#[test]
fn line_taxes_add_up_to_each_invoice_tax_to_the_paisa() {
    let ran = Test::demo()
        .args(["--csv", "xero,quickbooks", "--no-pdf"])
        .run()
        .expect_code(0);
    assert_line_taxes_add_up(&ran);
    // A 2,000-customer month, split into several files of each layout.
    let ran = generated_month(2_000, 7_001, "xero,quickbooks");
    assert!(ran.path("out/xero-004.csv").exists());
    assert_line_taxes_add_up(&ran);
}

/// Per invoice number: the sum over its rows of `row` (a value from the header and
/// the record).
fn per_invoice(
    text: &str,
    number: &str,
    row: impl Fn(&csv::StringRecord, &csv::StringRecord) -> Decimal,
) -> BTreeMap<String, Decimal> {
    let (h, rows) = records(text);
    let n = column(&h, number);
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in &rows {
        *sums.entry(r[n].to_owned()).or_default() += row(&h, r);
    }
    sums
}

fn cell(h: &csv::StringRecord, r: &csv::StringRecord, name: &str) -> Decimal {
    match &r[column(h, name)] {
        "" => Decimal::ZERO,
        text => Decimal::from_str(text).unwrap(),
    }
}

#[test]
fn with_round_off_each_exported_invoice_totals_what_invoices_csv_says() {
    let config = demo_config_text().replace("round_off = false", "round_off = true")
        + "\n[export.xero]\nround_off_account = \"4990\"\n\
           [export.quickbooks]\nitem_round_off = \"Rounding Off\"\n";
    let ran = Test::demo_configured(config)
        .args(["--csv", "xero,zoho,quickbooks", "--no-pdf"])
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    let totals = per_invoice(&invoices, "invoice_number", |h, r| cell(h, r, "total"));
    let taxes = per_invoice(&invoices, "invoice_number", |h, r| {
        cell(h, r, "cgst") + cell(h, r, "sgst") + cell(h, r, "igst")
    });
    let rounded = per_invoice(&invoices, "invoice_number", |h, r| cell(h, r, "round_off"));
    assert!(
        rounded.values().filter(|r| !r.is_zero()).count() >= 5,
        "{rounded:?}"
    );

    let xero = per_invoice(&ran.read("out/xero.csv"), "*InvoiceNumber", |h, r| {
        cell(h, r, "*Quantity") * cell(h, r, "*UnitAmount") + cell(h, r, "TaxAmount")
    });
    assert_eq!(xero, totals, "xero.csv");
    let quickbooks = per_invoice(&ran.read("out/quickbooks.csv"), "InvoiceNo", |h, r| {
        cell(h, r, "ItemAmount") + cell(h, r, "ItemTaxAmount")
    });
    assert_eq!(quickbooks, totals, "quickbooks.csv");
    // Zoho works the tax out itself and takes the round-off once per invoice, from
    // the Adjustment repeated on each of its rows.
    let (h, rows) = records(&ran.read("out/zoho.csv"));
    let mut zoho: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in &rows {
        let number = r[column(&h, "Invoice Number")].to_owned();
        let first = !zoho.contains_key(&number);
        let entry = zoho.entry(number.clone()).or_insert(taxes[&number]);
        *entry += cell(&h, r, "Quantity") * cell(&h, r, "Item Price");
        if first {
            *entry += cell(&h, r, "Adjustment");
        }
        assert_eq!(cell(&h, r, "Adjustment"), rounded[&number], "{number}");
    }
    assert_eq!(zoho, totals, "zoho.csv");

    // The rounding rows: on the configured account and product, with no tax.
    let (h, rows) = records(&ran.read("out/xero.csv"));
    let rounding: Vec<_> = rows
        .iter()
        .filter(|r| &r[column(&h, "*Description")] == "Round off")
        .collect();
    assert_eq!(
        rounding.len(),
        rounded.values().filter(|r| !r.is_zero()).count()
    );
    for r in rounding {
        assert_eq!(&r[column(&h, "*AccountCode")], "4990");
        assert_eq!(&r[column(&h, "*TaxType")], "Tax Exempt");
        assert_eq!(&r[column(&h, "TaxAmount")], "0.00");
    }
    let (h, rows) = records(&ran.read("out/quickbooks.csv"));
    assert!(rows.iter().any(
        |r| &r[column(&h, "Item(Product/Service)")] == "Rounding Off"
            && &r[column(&h, "ItemDescription")] == "Round off"
    ));
}

#[test]
fn without_round_off_there_is_no_rounding_row_or_adjustment() {
    let ran = Test::demo()
        .args(["--csv", "xero,zoho", "--no-pdf"])
        .run()
        .expect_code(0);
    assert!(!ran.read("out/xero.csv").contains("Round off"));
    let (h, rows) = records(&ran.read("out/zoho.csv"));
    assert!(rows.iter().all(|r| r[column(&h, "Adjustment")].is_empty()));
}

/// The demo run with `extra` appended to its config and `accounts` edited, in
/// `out/`, exporting `layouts`.
fn demo_with(extra: &str, edit: impl Fn(&mut serde_json::Value), layouts: &str) -> Test {
    let demo = demo_dir();
    let config = std::fs::read_to_string(demo.join("didbill.toml")).unwrap() + extra;
    let mut accounts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo.join("accounts.json")).unwrap()).unwrap();
    for a in accounts["accounts"].as_array_mut().unwrap() {
        edit(a);
    }
    Test::new()
        .file("cfg.toml", config)
        .file("snap/accounts.json", serde_json::to_vec(&accounts).unwrap())
        .file(
            "snap/numbers.json",
            std::fs::read(demo.join("numbers.json")).unwrap(),
        )
        .args([
            "run",
            "--source",
            "snap",
            "--period",
            "2026-11",
            "--as-of",
            "2026-12-02T00:00:00Z",
            "--config",
            "cfg.toml",
            "--out",
            "out",
            "--no-pdf",
            "--csv",
            layouts,
        ])
}

#[test]
fn zoho_gst_treatment_follows_the_customer_and_can_be_set_per_customer() {
    let ran = demo_with(
        "\n[export.zoho.gst_treatment]\n\"MA_CHENNAI3\" = \"business_sez\"\n",
        |a| {
            if a["auth_id"] == "MA_HINDI006" {
                a["company"] = serde_json::Value::Null;
            }
        },
        "zoho",
    )
    .run()
    .expect_code(0);
    let (h, rows) = records(&ran.read("out/zoho.csv"));
    let treatments: BTreeMap<&str, &str> = rows
        .iter()
        .map(|r| {
            (
                &r[column(&h, "Customer Name")],
                &r[column(&h, "GST Treatment")],
            )
        })
        .collect();
    assert_eq!(
        treatments["Acme Solutions Pvt Ltd"],
        "business_registered_regular"
    );
    assert_eq!(
        treatments["Chennai Care Clinics"], "business_sez",
        "set in config"
    );
    assert_eq!(
        treatments["Deccan Telecare"], "business_unregistered",
        "a company, no GSTIN"
    );
    assert_eq!(treatments["सुरेश शर्मा"], "consumer", "a person, no GSTIN");
    assert_eq!(treatments["Europa Calls GmbH"], "overseas");
    assert!(rows
        .iter()
        .all(|r| &r[column(&h, "Item Type")] == "service"));

    let ran = demo_with(
        "\n[export.zoho.gst_treatment]\n\"MA_CHENNAI3\" = \"sez\"\n",
        |_| {},
        "zoho",
    )
    .run()
    .expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("export.zoho.gst_treatment.\"MA_CHENNAI3\" = \"sez\"")
            && err.contains("business_sez, business_unregistered"),
        "{err}"
    );
    assert!(!ran.path("out").exists());
}

/// Each invoice number's contact name in `layout`.
fn contacts(ran: &Ran, layout: &str, number: &str, name: &str) -> BTreeMap<String, String> {
    let (h, rows) = records(&ran.read(&format!("out/{layout}.csv")));
    rows.iter()
        .map(|r| {
            (
                r[column(&h, number)].to_owned(),
                r[column(&h, name)].to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_customer_with_inr_and_usd_invoices_gets_a_contact_per_currency() {
    // Delhi Retail Hub: DID/26-27/00004 in INR, DID/26-27/00005 in USD.
    let layouts = [
        ("xero", "*InvoiceNumber", "*ContactName"),
        ("zoho", "Invoice Number", "Customer Name"),
        ("quickbooks", "InvoiceNo", "Customer"),
    ];
    let ran = demo_with("", |_| {}, "xero,zoho,quickbooks")
        .run()
        .expect_code(0);
    for (layout, number, name) in layouts {
        let c = contacts(&ran, layout, number, name);
        assert_eq!(c["DID/26-27/00004"], "Delhi Retail Hub", "{layout}");
        let usd = match layout {
            // A Xero contact takes several currencies: one name unless configured.
            "xero" => "Delhi Retail Hub",
            _ => "Delhi Retail Hub (USD)",
        };
        assert_eq!(c["DID/26-27/00005"], usd, "{layout}");
    }
    let ran = demo_with(
        "\n[export.xero]\ncurrency_suffix = \" - {currency}\"\n\
         [export.zoho]\ncurrency_suffix = \"\"\n\
         [export.quickbooks]\ncurrency_suffix = \" [{currency}]\"\n",
        |a| {
            if a["auth_id"] == "MA_DELHI004" {
                a["company"] = "=Delhi Retail Hub".into();
            }
        },
        "xero,zoho,quickbooks",
    )
    .run()
    .expect_code(0);
    for ((layout, number, name), (inr, usd)) in layouts.into_iter().zip([
        ("'=Delhi Retail Hub", "'=Delhi Retail Hub - USD"),
        ("'=Delhi Retail Hub", "'=Delhi Retail Hub"),
        ("'=Delhi Retail Hub", "'=Delhi Retail Hub [USD]"),
    ]) {
        let c = contacts(&ran, layout, number, name);
        assert_eq!(
            (c["DID/26-27/00004"].as_str(), c["DID/26-27/00005"].as_str()),
            (inr, usd),
            "{layout}"
        );
    }

    let ran = demo_with(
        "\n[export.zoho]\ncurrency_suffix = \" (foreign)\"\n",
        |_| {},
        "zoho",
    )
    .run()
    .expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("export.zoho.currency_suffix \" (foreign)\" must contain {currency}"),
        "{err}"
    );
}

#[test]
fn the_bom_goes_on_the_exports_only() {
    let ran = Test::demo()
        .args(["--csv", "zoho,generic", "--csv-bom"])
        .run()
        .expect_code(0);
    let zoho = std::fs::read(ran.path("out/zoho.csv")).unwrap();
    assert_eq!(
        zoho,
        [b"\xEF\xBB\xBF", expected("zoho.csv").as_bytes()].concat()
    );
    for file in CANONICAL {
        assert_eq!(ran.read(&format!("out/{file}")), expected(file), "{file}");
    }
    assert!(!ran.path("out/xero.csv").exists() && !ran.path("out/generic.csv").exists());
}

/// The demo snapshot with two hostile company names.
fn hostile_snapshot(test: Test) -> Test {
    let mut accounts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo_dir().join("accounts.json")).unwrap()).unwrap();
    for a in accounts["accounts"].as_array_mut().unwrap() {
        match a["auth_id"].as_str().unwrap() {
            "MA_ACME0001" => a["company"] = "=HYPERLINK(\"http://evil.example\",\"Acme\")".into(),
            "MA_BHARAT02" => a["company"] = "+91 Traders".into(),
            _ => {}
        }
    }
    test.file("snap/accounts.json", serde_json::to_vec(&accounts).unwrap())
        .file(
            "snap/numbers.json",
            std::fs::read(demo_dir().join("numbers.json")).unwrap(),
        )
}

const PROBE_LAYOUT: &str = r#"
[[columns]]
header = "name"
value = "{{ invoice.customer.name }}"

[[columns]]
header = "e164 as text"
value = "{{ line.e164 }}"

[[columns]]
header = "e164"
value = "{{ line.e164 }}"
kind = "e164"

[[columns]]
header = "credit"
value = "{{ '-5' | amount }}"
kind = "number"

[[columns]]
header = "credit as text"
value = "{{ '-5' | amount }}"
"#;

#[test]
fn formula_like_text_is_neutralised_and_numbers_are_not() {
    let demo = demo_dir();
    let ran = hostile_snapshot(Test::new())
        .args([
            "run",
            "--source",
            "snap",
            "--period",
            "2026-11",
            "--as-of",
            "2026-12-02T00:00:00Z",
            "--config",
            demo.join("didbill.toml").to_str().unwrap(),
            "--out",
            "out",
            "--csv",
            "xero,zoho,quickbooks,probe",
            "--templates",
            "tpl",
        ])
        .file("tpl/csv/probe.toml", PROBE_LAYOUT)
        .run()
        .expect_code(0);
    let hyperlink = "'=HYPERLINK(\"http://evil.example\",\"Acme\")";
    for (file, name_column) in [
        ("xero.csv", "*ContactName"),
        ("zoho.csv", "Customer Name"),
        ("quickbooks.csv", "Customer"),
    ] {
        let (h, rows) = records(&ran.read(&format!("out/{file}")));
        let names: Vec<&str> = rows.iter().map(|r| &r[column(&h, name_column)]).collect();
        assert!(names.contains(&hyperlink), "{file}: {names:?}");
        assert!(names.contains(&"'+91 Traders"), "{file}: {names:?}");
        assert!(!names.iter().any(|n| n.starts_with(['=', '+'])), "{file}");
    }
    let (_, rows) = records(&ran.read("out/probe.csv"));
    let first = &rows[0];
    assert_eq!(&first[0], hyperlink);
    assert_eq!(&first[1], "'+918041000001");
    assert_eq!(&first[2], "+918041000001");
    assert_eq!(&first[3], "-5.00");
    assert_eq!(&first[4], "'-5.00");
    // The canonical files apply the same rule to the company name.
    assert!(ran
        .read("out/invoices.csv")
        .contains(hyperlink.replace('"', "\"\"").as_str()));
}

const OVERRIDE_XERO: &str = r#"
[[columns]]
header = "*ContactName"
value = "{{ invoice.customer.name }}"

[[columns]]
header = "*UnitAmount"
value = "{{ line.amount }}"
kind = "number"
"#;

const MINE: &str = r#"
[[columns]]
header = "Invoice"
value = "{{ invoice.number }}"

[[columns]]
header = "Seller"
value = "{{ seller.name }} ({{ seller.state_name }})"

[[columns]]
header = "Total"
value = "{{ invoice.total }}"
kind = "number"

[[columns]]
header = "Period"
value = '{{ period.start | date(format="DD.MM.YY") }}'
kind = "date"
"#;

#[test]
fn user_templates_override_built_in_layouts_and_add_new_ones() {
    let ran = Test::demo()
        .args(["--csv", "xero,mine,zoho", "--templates", "tpl"])
        .file("tpl/csv/xero.toml", OVERRIDE_XERO)
        .file("tpl/csv/mine.toml", MINE)
        .run()
        .expect_code(0);
    let xero = ran.read("out/xero.csv");
    assert!(
        xero.starts_with("*ContactName,*UnitAmount\nAcme Solutions Pvt Ltd,300.00\n"),
        "{xero}"
    );
    assert_eq!(xero.lines().count(), 38);
    assert_eq!(
        ran.read("out/zoho.csv"),
        expected("zoho.csv"),
        "zoho is still built in"
    );
    let mine = ran.read("out/mine.csv");
    assert!(
        mine.starts_with(
            "Invoice,Seller,Total,Period\nDID/26-27/00001,Demo Telecom Pvt Ltd (Karnataka),2301.57,01.11.26\n"
        ),
        "{mine}"
    );
}

#[test]
fn a_broken_template_names_its_file_and_column_and_writes_nothing() {
    let broken = "[[columns]]\nheader = \"A\"\nvalue = \"1\"\n\n\
                  [[columns]]\nheader = \"Amount\"\nvalue = \"{{ line.amount | money }}\"\n";
    let ran = Test::demo()
        .args(["--csv", "xero", "--templates", "tpl"])
        .file("tpl/csv/xero.toml", broken)
        .run()
        .expect_code(1);
    let err = ran.stderr();
    assert!(err.contains("tpl/csv/xero.toml"), "{err}");
    assert!(err.contains("column 2 \"Amount\""), "{err}");
    assert!(err.contains("money"), "{err}");
    assert!(!ran.path("out").exists());

    // Errors found only when rendering also name the invoice and line.
    let ran = Test::demo()
        .args(["--csv", "zoho,bad", "--templates", "tpl"])
        .file(
            "tpl/csv/bad.toml",
            "[[columns]]\nheader = \"Net\"\nvalue = \"{{ line.net }}\"\n",
        )
        .run()
        .expect_code(1);
    let err = ran.stderr();
    assert!(err.contains("tpl/csv/bad.toml"), "{err}");
    assert!(
        err.contains("column 1 \"Net\", invoice DID/26-27/00001, line 1"),
        "{err}"
    );
    assert!(!ran.path("out").exists());

    let ran = Test::demo()
        .args(["--csv", "bad", "--templates", "tpl"])
        .file(
            "tpl/csv/bad.toml",
            "[[columns]]\nheader = \"Date\"\nvalue = \"{{ invoice.date }} at noon\"\nkind = \"date\"\n",
        )
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains("column 1 \"Date\""),
        "{}",
        ran.stderr()
    );
}

#[test]
fn unknown_or_unsafe_layout_names_are_usage_errors() {
    for (csv, needle) in [
        ("sage", "sage"),
        ("xero,sage", "built in: generic, xero, zoho, quickbooks"),
        ("../x", "letters, digits"),
        ("/etc/passwd", "letters, digits"),
        ("invoices", "canonical output"),
    ] {
        let ran = Test::demo().args(["--csv", csv]).run().expect_code(2);
        assert!(ran.stderr().contains(needle), "{csv}: {}", ran.stderr());
        assert!(!ran.path("out").exists());
    }
    let ran = Test::demo()
        .args(["--csv", "mine", "--templates", "tpl"])
        .file("tpl/csv/other.toml", MINE)
        .run()
        .expect_code(2);
    assert!(
        ran.stderr().contains("mine.toml does not exist"),
        "{}",
        ran.stderr()
    );
    let ran = Test::demo()
        .args(["--csv", "xero", "--templates", "missing"])
        .run()
        .expect_code(2);
    assert!(
        ran.stderr().contains("missing: not a folder"),
        "{}",
        ran.stderr()
    );
    // `generic` alone is the default output set.
    let ran = Test::new()
        .args(demo_run_args())
        .args(["--out", "out", "--csv", "generic", "--no-pdf"])
        .run()
        .expect_code(0);
    let files: Vec<String> = ran.tree("out").into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        files,
        [
            "exceptions.csv",
            "invoices.csv",
            "line_items.csv",
            "not_billable.csv",
            "summary.json",
            "usage_exceptions.csv"
        ]
    );
}

/// A generated November of `customers` customers sharing `numbers` numbers (one
/// invoice each, one rental line per number), exported as `layouts`.
/// A generated month of `customers` and `numbers` run with `--csv layouts`.
pub(crate) fn generated_month(customers: usize, numbers: usize, layouts: &str) -> Ran {
    let (accounts, items) = generated_snapshot(customers, numbers);
    Test::new()
        .file("snap/accounts.json", accounts)
        .file("snap/numbers.json", items)
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .args(["--csv", layouts, "--no-pdf"])
        .run()
        .expect_code(0)
}

/// The export files of `layout` in `out/`, by name, each with its invoice numbers
/// (in file order, once each) and its data-row count; every file has the header.
fn parts(ran: &Ran, layout: &str, number_column: &str) -> Vec<(String, Vec<String>, usize)> {
    ran.tree("out")
        .into_iter()
        .filter(|(name, _)| {
            name.starts_with(&format!("{layout}.")) || name.starts_with(&format!("{layout}-"))
        })
        .map(|(name, bytes)| {
            let (h, rows) = records(std::str::from_utf8(&bytes).unwrap());
            let n = column(&h, number_column);
            let mut numbers: Vec<String> = rows.iter().map(|r| r[n].to_owned()).collect();
            numbers.dedup();
            (name, numbers, rows.len())
        })
        .collect()
}

fn numbers(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("DID/26-27/{n:05}")).collect()
}

#[test]
fn xero_files_hold_500_invoices_and_split_in_number_order_past_them() {
    let ran = generated_month(500, 500, "xero");
    assert_eq!(
        parts(&ran, "xero", "*InvoiceNumber"),
        [("xero.csv".to_owned(), numbers(1..=500), 500)]
    );
    let ran = generated_month(501, 501, "xero");
    assert_eq!(
        parts(&ran, "xero", "*InvoiceNumber"),
        [
            ("xero-001.csv".to_owned(), numbers(1..=500), 500),
            ("xero-002.csv".to_owned(), numbers(501..=501), 1),
        ]
    );
}

#[test]
fn zoho_files_stay_within_10_mb() {
    let ran = generated_month(500, 50_000, "zoho");
    let files = ran.tree("out");
    let sizes: Vec<(&str, usize)> = files
        .iter()
        .filter(|(name, _)| name.starts_with("zoho"))
        .map(|(name, bytes)| (name.as_str(), bytes.len()))
        .collect();
    assert_eq!(
        sizes.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["zoho-001.csv", "zoho-002.csv"],
        "{sizes:?}"
    );
    let total: usize = sizes.iter().map(|(_, n)| n).sum();
    assert!(sizes.iter().all(|(_, n)| *n <= 10_000_000), "{sizes:?}");
    // The first file is as full as whole invoices of ~100 rows allow.
    assert!(sizes[0].1 > 10_000_000 - total / 500, "{sizes:?}");
    let (_, rows) = records(&layout_text(&ran, "zoho"));
    assert_eq!(rows.len(), 50_000);
}

#[test]
fn quickbooks_files_hold_100_invoices_and_1000_rows() {
    let ran = generated_month(100, 100, "quickbooks");
    assert_eq!(
        parts(&ran, "quickbooks", "InvoiceNo"),
        [("quickbooks.csv".to_owned(), numbers(1..=100), 100)]
    );
    let ran = generated_month(101, 101, "quickbooks,zoho");
    assert_eq!(
        parts(&ran, "quickbooks", "InvoiceNo"),
        [
            ("quickbooks-001.csv".to_owned(), numbers(1..=100), 100),
            ("quickbooks-002.csv".to_owned(), numbers(101..=101), 1),
        ]
    );
    assert_eq!(
        parts(&ran, "zoho", "Invoice Number").len(),
        1,
        "zoho.csv is far below 10 MB"
    );
    // Two invoices of 500 rows fill one file; at 501 + 500 rows the second invoice
    // moves to a file of its own rather than being cut.
    let ran = generated_month(2, 1000, "quickbooks");
    assert_eq!(
        parts(&ran, "quickbooks", "InvoiceNo"),
        [("quickbooks.csv".to_owned(), numbers(1..=2), 1000)]
    );
    let ran = generated_month(2, 1001, "quickbooks");
    assert_eq!(
        parts(&ran, "quickbooks", "InvoiceNo"),
        [
            ("quickbooks-001.csv".to_owned(), numbers(1..=1), 501),
            ("quickbooks-002.csv".to_owned(), numbers(2..=2), 500),
        ]
    );
    // One invoice of 1,001 rows cannot fit any file: written whole, and named.
    let ran = generated_month(1, 1001, "quickbooks");
    assert_eq!(
        parts(&ran, "quickbooks", "InvoiceNo"),
        [("quickbooks.csv".to_owned(), numbers(1..=1), 1001)]
    );
    let summary: serde_json::Value = serde_json::from_str(&ran.read("out/summary.json")).unwrap();
    let warning = "invoice DID/26-27/00001: its 1001 rows";
    assert!(
        summary["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with(warning)
            && w.as_str().unwrap().contains("invoices = 100, rows = 1000")),
        "{summary}"
    );
}
