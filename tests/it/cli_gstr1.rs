//! `didbill gstr1`: the month's GSTR-1 from the ledger — a golden return for a
//! crafted month covering every section, the key set of each section, the B2CL
//! limit, GSTIN checks, and the reconciliation over a large generated month.

use std::collections::BTreeSet;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{repo, Ran, Test};

fn fixture(file: &str) -> String {
    repo()
        .join("fixtures/gstr1")
        .join(file)
        .display()
        .to_string()
}

/// The fixture month billed into a fresh ledger with invoices dated 30 November,
/// with `config` (the fixture's own by default) as `cfg.toml`.
fn billed(config: Option<&str>) -> Test {
    billed_in(Test::new(), config)
}

/// [`billed`], starting from `start` (a fresh directory, maybe with a kept
/// `DIDBILL_LEDGER`).
fn billed_in(start: Test, config: Option<&str>) -> Test {
    let accounts = std::fs::read_to_string(fixture("accounts.json")).unwrap();
    billed_with(start, config, &accounts)
}

/// [`billed_in`] with `accounts` as the snapshot's accounts.
fn billed_with(start: Test, config: Option<&str>, accounts: &str) -> Test {
    let text = std::fs::read_to_string(fixture("didbill.toml")).unwrap();
    let numbers = std::fs::read_to_string(fixture("numbers.json")).unwrap();
    month_run(start, config.unwrap_or(&text), accounts, &numbers)
        .run()
        .expect_code(0)
        .then()
}

/// The arguments of a real run of November 2026 on the snapshot in `snap/` with
/// `cfg.toml`, invoices dated 30 November, outputs in `out/`.
const MONTH_ARGS: [&str; 15] = [
    "run",
    "--source",
    "snap",
    "--period",
    "2026-11",
    "--as-of",
    "2026-12-02T00:00:00Z",
    "--invoice-date",
    "2026-11-30",
    "--config",
    "cfg.toml",
    "--no-pdf",
    "--out",
    "out",
    "--quiet",
];

/// [`MONTH_ARGS`] from `start` on the snapshot `accounts` and `numbers` with `config`.
fn month_run(start: Test, config: &str, accounts: &str, numbers: &str) -> Test {
    start
        .file("cfg.toml", config)
        .file("snap/accounts.json", accounts)
        .file("snap/numbers.json", numbers)
        .args(MONTH_ARGS)
}

/// [`billed`], then the month corrected: a credit note to a registered customer,
/// one on the B2CL invoice, a debit note on a B2CS invoice (all dated 30
/// November), and Deccan Telecare's invoice cancelled and issued again by a re-run
/// under a new number, leaving the cancelled number inside the series.
fn billed_and_corrected() -> Test {
    billed_and_corrected_in(Test::new())
}

/// The flags of every note of the test month: dated 30 November, issued as of 2
/// December, into `out/` with `cfg.toml`, without PDFs.
pub const NOTE_ARGS: [&str; 9] = [
    "--date",
    "2026-11-30",
    "--as-of",
    "2026-12-02T00:00:00Z",
    "--out",
    "out",
    "--config",
    "cfg.toml",
    "--no-pdf",
];

/// [`billed_and_corrected`], starting from `start`.
pub fn billed_and_corrected_in(start: Test) -> Test {
    let note = |test: Test, args: &[&str]| {
        test.args(["note"])
            .args(args.iter().copied())
            .args(NOTE_ARGS)
            .run()
            .expect_code(0)
            .then()
    };
    let test = note(
        billed_in(start, None),
        &[
            "credit",
            "--invoice",
            "DID/26-27/00002",
            "--amount",
            "500",
            "--reason",
            "Number released early",
        ],
    );
    let test = note(
        test,
        &[
            "credit",
            "--invoice",
            "DID/26-27/00003",
            "--amount",
            "1000",
            "--reason",
            "Service credit",
        ],
    );
    let test = note(
        test,
        &[
            "debit",
            "--invoice",
            "DID/26-27/00005",
            "--amount",
            "100",
            "--description",
            "Extra number",
            "--reason",
            "Underbilled",
        ],
    );
    let test = test
        .args([
            "invoices",
            "cancel",
            "DID/26-27/00006",
            "--reason",
            "Issued to the wrong customer",
        ])
        .run()
        .expect_code(0)
        .then();
    test.args(MONTH_ARGS).run().expect_code(0).then()
}

fn gstr1(test: Test) -> Ran {
    test.args(["gstr1", "--period", "2026-11", "--config", "cfg.toml"])
        .run()
}

fn json(ran: &Ran) -> Value {
    serde_json::from_str(&ran.read("gstr1/2026-11/gstr1.json")).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn the_fixture_month_matches_the_golden_return() {
    let ran = gstr1(billed_and_corrected()).expect_code(0);
    let expected =
        std::fs::read_to_string(repo().join("fixtures/gstr1/expected/gstr1.json")).unwrap();
    assert_eq!(ran.read("gstr1/2026-11/gstr1.json"), expected);
    let expected =
        std::fs::read_to_string(repo().join("fixtures/gstr1/expected/reconciliation.txt")).unwrap();
    assert_eq!(ran.read("gstr1/2026-11/reconciliation.txt"), expected);
    assert_eq!(ran.stdout(), expected);
    let files: Vec<String> = ran
        .tree("gstr1/2026-11")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        files,
        [
            "b2b.csv",
            "b2cl.csv",
            "b2cs.csv",
            "cdnr.csv",
            "cdnur.csv",
            "docs.csv",
            "exp.csv",
            "gstr1.json",
            "hsn_b2b.csv",
            "hsn_b2c.csv",
            "reconciliation.json",
            "reconciliation.txt"
        ]
    );
}

#[test]
fn each_section_has_the_offline_tool_keys() {
    let ran = gstr1(billed_and_corrected()).expect_code(0);
    let ret = json(&ran);
    assert_eq!(
        keys(&ret),
        [
            "b2b",
            "b2cl",
            "b2cs",
            "cdnr",
            "cdnur",
            "doc_issue",
            "exp",
            "fp",
            "gstin",
            "hsn"
        ]
    );
    assert_eq!(keys(&ret["cdnr"][0]), ["ctin", "nt"]);
    assert_eq!(ret["cdnr"][0]["ctin"], "27AAFFB5678C1ZG");
    assert_eq!(
        keys(&ret["cdnr"][0]["nt"][0]),
        ["inv_typ", "itms", "nt_dt", "nt_num", "ntty", "pos", "rchrg", "val"]
    );
    assert_eq!(ret["cdnr"][0]["nt"][0]["ntty"], "C");
    assert_eq!(
        keys(&ret["cdnur"][0]),
        ["itms", "nt_dt", "nt_num", "ntty", "pos", "typ", "val"]
    );
    assert_eq!(ret["cdnur"][0]["typ"], "B2CL");
    // Invoices (1) with the cancelled number inside the series, then debit (4) and
    // credit notes (5).
    let det: Vec<(u64, u64, u64, u64)> = ret["doc_issue"]["doc_det"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let r = &d["docs"][0];
            (
                d["doc_num"].as_u64().unwrap(),
                r["totnum"].as_u64().unwrap(),
                r["cancel"].as_u64().unwrap(),
                r["net_issue"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(det, [(1, 9, 1, 8), (4, 1, 0, 1), (5, 2, 0, 2)]);
    assert_eq!(ret["gstin"], "29ABCDE1234F1ZW");
    assert_eq!(ret["fp"], "112026");
    let b2b = &ret["b2b"][0];
    assert_eq!(keys(b2b), ["ctin", "inv"]);
    let inv = &b2b["inv"][0];
    assert_eq!(
        keys(inv),
        ["idt", "inum", "inv_typ", "itms", "pos", "rchrg", "val"]
    );
    assert_eq!(keys(&inv["itms"][0]), ["itm_det", "num"]);
    // Inter-state: IGST only; intra-state: CGST and SGST only.
    let details: Vec<Vec<&str>> = ret["b2b"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| keys(&p["inv"][0]["itms"][0]["itm_det"]))
        .collect();
    assert!(details.contains(&vec!["csamt", "iamt", "rt", "txval"]));
    assert!(details.contains(&vec!["camt", "csamt", "rt", "samt", "txval"]));
    assert_eq!(keys(&ret["b2cl"][0]), ["inv", "pos"]);
    assert_eq!(
        keys(&ret["b2cl"][0]["inv"][0]),
        ["idt", "inum", "itms", "val"]
    );
    assert_eq!(
        keys(&ret["b2cl"][0]["inv"][0]["itms"][0]["itm_det"]),
        ["csamt", "iamt", "rt", "txval"]
    );
    for row in ret["b2cs"].as_array().unwrap() {
        let taxes = match row["sply_ty"].as_str().unwrap() {
            "INTRA" => vec![
                "camt", "csamt", "pos", "rt", "samt", "sply_ty", "txval", "typ",
            ],
            _ => vec!["csamt", "iamt", "pos", "rt", "sply_ty", "txval", "typ"],
        };
        assert_eq!(keys(row), taxes);
        assert_eq!(row["typ"], "OE");
    }
    assert_eq!(keys(&ret["exp"][0]), ["exp_typ", "inv"]);
    assert_eq!(ret["exp"][0]["exp_typ"], "WOPAY");
    assert_eq!(
        keys(&ret["exp"][0]["inv"][0]["itms"][0]),
        ["csamt", "iamt", "rt", "txval"]
    );
    // The November 2026 return is after the May 2025 split of the HSN summary.
    assert_eq!(keys(&ret["hsn"]), ["hsn_b2b", "hsn_b2c"]);
    assert_eq!(
        keys(&ret["hsn"]["hsn_b2b"][0]),
        ["camt", "csamt", "hsn_sc", "iamt", "num", "qty", "rt", "samt", "txval", "uqc"]
    );
    assert_eq!(ret["hsn"]["hsn_b2b"][0]["uqc"], "NA");
    let docs = &ret["doc_issue"]["doc_det"][0];
    assert_eq!(keys(docs), ["doc_num", "docs"]);
    assert_eq!(docs["doc_num"], 1);
    assert_eq!(
        keys(&docs["docs"][0]),
        ["cancel", "from", "net_issue", "num", "to", "totnum"]
    );
    // Amounts are JSON numbers with two decimals, dates dd-mm-yyyy.
    let text = ran.read("gstr1/2026-11/gstr1.json");
    assert!(text.contains("\"val\": 100000.01,"), "{text}");
    assert!(text.contains("\"idt\": \"30-11-2026\""), "{text}");
}

#[test]
fn the_b2cl_limit_is_one_lakh_and_only_above_it() {
    let ran = gstr1(billed(None)).expect_code(0);
    let ret = json(&ran);
    // ₹1,00,000.01 inter-state to an unregistered person: B2CL; ₹1,00,000.00: B2CS.
    let b2cl: Vec<&str> = ret["b2cl"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["inv"].as_array().unwrap())
        .map(|i| i["inum"].as_str().unwrap())
        .collect();
    assert_eq!(b2cl, ["DID/26-27/00003"]);
    let b2cs = ran.read("gstr1/2026-11/b2cs.csv");
    assert!(
        b2cs.contains("OE,33-Tamil Nadu,,18,84745.76,0.00,\n"),
        "{b2cs}"
    );
    let b2cl = ran.read("gstr1/2026-11/b2cl.csv");
    assert_eq!(
        b2cl,
        "Invoice Number,Invoice date,Invoice Value,Place Of Supply,Applicable % of Tax Rate,\
         Rate,Taxable Value,Cess Amount,E-Commerce GSTIN\n\
         DID/26-27/00003,30-Nov-2026,100000.01,33-Tamil Nadu,,18,84745.77,0.00,\n"
    );
}

#[test]
fn an_invalid_customer_gstin_stops_the_return_unless_reported_as_unregistered() {
    let accounts = std::fs::read_to_string(fixture("accounts.json"))
        .unwrap()
        .replace("27AAFFB5678C1ZG", "27AAFFB5678C1ZH");
    let ran = gstr1(billed_with(Test::new(), None, &accounts)).expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains(
            "DID/26-27/00002 (Bharat Logistics LLP): GSTIN \"27AAFFB5678C1ZH\" fails its checksum"
        ) && err.contains("'G'")
            && err.contains("--unregistered-if-invalid")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!ran.path("gstr1").exists());
    let ran = ran
        .then()
        .args(["gstr1", "--period", "2026-11", "--config", "cfg.toml"])
        .arg("--unregistered-if-invalid")
        .run()
        .expect_code(0);
    assert!(
        ran.stderr()
            .contains("DID/26-27/00002 (Bharat Logistics LLP): GSTIN \"27AAFFB5678C1ZH\"")
            && ran.stderr().contains("reported as unregistered"),
        "{}",
        ran.stderr()
    );
    let ret = json(&ran);
    let ctins: Vec<&str> = ret["b2b"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ctin"].as_str().unwrap())
        .collect();
    assert_eq!(ctins, ["07AABCD4321E1Z8", "29AAACA1234A1ZG"]);
    let b2cs = ran.read("gstr1/2026-11/b2cs.csv");
    assert!(
        b2cs.contains("OE,27-Maharashtra,,18,2000.00,0.00,\n"),
        "{b2cs}"
    );
}

#[test]
fn an_invalid_seller_gstin_stops_the_return() {
    // The run warns about the check character; the return refuses to be filed.
    let text = std::fs::read_to_string(fixture("didbill.toml"))
        .unwrap()
        .replace("29ABCDE1234F1ZW", "29ABCDE1234F1Z5");
    let accounts = std::fs::read_to_string(fixture("accounts.json")).unwrap();
    let numbers = std::fs::read_to_string(fixture("numbers.json")).unwrap();
    let ran = month_run(Test::new(), &text, &accounts, &numbers)
        .run()
        .expect_code(0);
    assert!(
        ran.stderr().contains(
            "warning: seller.gstin \"29ABCDE1234F1Z5\" fails its checksum (the check \
             character of the first 14 characters is 'W')"
        ),
        "{}",
        ran.stderr()
    );
    let ran = gstr1(ran.then()).expect_code(1);
    assert!(
        ran.stderr().contains(
            "seller.gstin \"29ABCDE1234F1Z5\" fails its checksum (the check character of \
             the first 14 characters is 'W'): a character is mistyped; GSTR-1 is filed under \
             a valid GSTIN"
        ),
        "{}",
        ran.stderr()
    );
    assert!(!ran.path("gstr1").exists());
}

/// A generated month of `customers`: registered and unregistered, within and
/// outside Karnataka, some abroad; three numbers each.
fn mixed_month(customers: usize) -> (String, String) {
    use std::fmt::Write as _;
    let kinds = [
        ("KA", "IN", Some("29AAACA1234A1ZG")),
        ("MH", "IN", Some("27AAFFB5678C1ZG")),
        ("KA", "IN", None),
        ("TN", "IN", None),
        ("Berlin", "DE", None),
    ];
    let mut accounts = String::from("{\"accounts\": [\n");
    let mut numbers = String::from("{\"items\": [\n");
    let mut n = 0;
    for c in 1..=customers {
        let (state, country, gstin) = kinds[c % kinds.len()];
        let gstin = gstin.map(|g| format!("\"{g}\"")).unwrap_or("null".into());
        let sep = if c == customers { "" } else { "," };
        let _ = writeln!(
            accounts,
            r#"{{"auth_id": "MA_M{c:05}", "name": "Owner {c}", "company": "Customer {c}", "state": "{state}", "country": "{country}", "gstin": {gstin}, "cash_credits": "100.00000"}}{sep}"#
        );
        for k in 0..3 {
            n += 1;
            let sep = if c == customers && k == 2 { "" } else { "," };
            let fee = 100 + (c * 37 + k * 11) % 900;
            let _ = writeln!(
                numbers,
                r#"{{"id": "num-{n:07}", "account_id": "MA_M{c:05}", "e164": "+9180{n:08}", "status": "active", "setup_fee": 0, "monthly_fee": {fee}.{k}7, "currency": "INR", "purchased_at": "2026-01-05T06:00:00Z", "last_billing_date": null, "next_billing_date": null}}{sep}"#
            );
        }
    }
    let _ = writeln!(
        accounts,
        "], \"total\": {customers}, \"page\": 1, \"size\": {customers}}}"
    );
    let _ = writeln!(
        numbers,
        "], \"page\": 1, \"per_page\": {n}, \"total\": {n}}}"
    );
    (accounts, numbers)
}

fn d(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

/// Every invoice of a 2,000-customer month is counted exactly once, and the
/// return's figures equal the ledger's (`invoices.csv`) to the paisa.
#[test]
fn the_reconciliation_of_a_large_month_equals_the_ledger() {
    let (accounts, numbers) = mixed_month(2_000);
    let config = std::fs::read_to_string(fixture("didbill.toml")).unwrap();
    let ran = month_run(Test::new(), &config, &accounts, &numbers)
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    let ran = gstr1(ran.then()).expect_code(0);
    let rec: Value = serde_json::from_str(&ran.read("gstr1/2026-11/reconciliation.json")).unwrap();
    let mut r = csv::Reader::from_reader(invoices.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (mut count, mut taxable, mut igst, mut cgst, mut sgst) = (
        0usize,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
    );
    for row in r.records() {
        let row = row.unwrap();
        let dec = |name: &str| Decimal::from_str(&row[col(name)]).unwrap();
        count += 1;
        taxable += dec("subtotal");
        igst += dec("igst");
        cgst += dec("cgst");
        sgst += dec("sgst");
    }
    assert_eq!(count, 2_000);
    for side in ["total", "ledger"] {
        assert_eq!(rec[side]["documents"], count, "{side}");
        assert_eq!(d(&rec[side]["taxable_value"]), taxable, "{side}");
        assert_eq!(d(&rec[side]["igst"]), igst, "{side}");
        assert_eq!(d(&rec[side]["cgst"]), cgst, "{side}");
        assert_eq!(d(&rec[side]["sgst"]), sgst, "{side}");
    }
    let sections: BTreeSet<&str> = rec["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, BTreeSet::from(["b2b", "b2cs", "exp"]));
    let per_section: usize = rec["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["documents"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(per_section, count);
    // The return's own sections add up to the same figures.
    let ret = json(&ran);
    let b2b_invoices: usize = ret["b2b"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["inv"].as_array().unwrap().len())
        .sum();
    assert_eq!(b2b_invoices, 800);
    assert_eq!(ret["doc_issue"]["doc_det"][0]["docs"][0]["totnum"], 2_000);
}

/// With `tax.rate = 0` the domestic supplies are nil-rated: the `nil` section, by
/// registration and supply type, and no B2B or B2C tables.
#[test]
fn a_zero_rate_reports_nil_rated_supplies() {
    let text = std::fs::read_to_string(fixture("didbill.toml"))
        .unwrap()
        .replace("rate = 18", "rate = 0");
    let ran = gstr1(billed(Some(&text))).expect_code(0);
    let ret = json(&ran);
    assert_eq!(
        keys(&ret),
        ["doc_issue", "exp", "fp", "gstin", "hsn", "nil"]
    );
    let text = ran.read("gstr1/2026-11/gstr1.json");
    for row in [
        "\"sply_ty\": \"INTRAB2B\",\n        \"expt_amt\": 0.00,\n        \"nil_amt\": 1000.00,",
        "\"sply_ty\": \"INTRB2B\",\n        \"expt_amt\": 0.00,\n        \"nil_amt\": 4108.75,",
        "\"sply_ty\": \"INTRB2C\",\n        \"expt_amt\": 0.00,\n        \"nil_amt\": 170241.53,",
        "\"sply_ty\": \"INTRAB2C\",\n        \"expt_amt\": 0.00,\n        \"nil_amt\": 500.00,",
    ] {
        assert!(text.contains(row), "missing {row:?} in:\n{text}");
    }
}
