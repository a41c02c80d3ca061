//! The invoice ledger end to end: gap-free numbers, idempotent re-runs, conflicts,
//! setup fees billed once, crash recovery, concurrency and `didbill invoices`.

use std::path::Path;
use std::process::Command;

use crate::common::{demo_dir, demo_run_args, real_run_config, Ran, Test, REAL_RUN_TOML};
use rusqlite::Connection;
use serde_json::{json, Value};

const LEDGER: &str = "didbill.sqlite";

/// An account of a generated snapshot (Karnataka, registered).
fn account(id: &str) -> Value {
    json!({
        "auth_id": id, "name": format!("Owner of {id}"), "company": format!("{id} Pvt Ltd"),
        "email": "a@example.com", "address": "1 Road", "city": "Bengaluru", "state": "KA",
        "zip_code": "560001", "country": "IN", "gstin": null, "cash_credits": "100.00000"
    })
}

/// An active number of a generated snapshot without billing dates (so it never lapses).
fn number(
    id: &str,
    customer: &str,
    e164: &str,
    purchased_at: &str,
    released_at: Option<&str>,
) -> Value {
    let mut n = json!({
        "id": id, "account_id": customer, "e164": e164,
        "status": "active", "setup_fee": 100, "monthly_fee": 300, "currency": "INR",
        "purchased_at": purchased_at, "last_billing_date": null, "next_billing_date": null
    });
    if let Some(r) = released_at {
        n["released_at"] = json!(r);
    }
    n
}

/// Writes `DIR/accounts.json` and `DIR/numbers.json` for a run.
pub(crate) fn with_snapshot(test: Test, dir: &str, accounts: &[Value], numbers: &[Value]) -> Test {
    test.file(
        &format!("{dir}/accounts.json"),
        json!({"accounts": accounts, "total": accounts.len(), "page": 1, "size": accounts.len()})
            .to_string(),
    )
    .file(
        &format!("{dir}/numbers.json"),
        json!({"items": numbers, "page": 1, "per_page": numbers.len(), "total": numbers.len()})
            .to_string(),
    )
}

/// `n` customers `MA_C00001`…, each with one number held since early 2026.
pub(crate) fn customers(n: usize) -> (Vec<Value>, Vec<Value>) {
    (1..=n)
        .map(|i| {
            let id = format!("MA_C{i:05}");
            let num = number(
                &format!("num-{i:05}"),
                &id,
                &format!("+918000{i:06}"),
                "2026-01-05T06:00:00Z",
                None,
            );
            (account(&id), num)
        })
        .unzip()
}

/// Run arguments on a generated snapshot folder `snap`.
pub(crate) fn run_args(period: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--source",
        "snap",
        "--period",
        period,
        "--as-of",
        "2027-06-01T00:00:00Z",
        "--out",
        &format!("out/{period}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    if !extra.contains(&"--config") {
        args.extend(["--config".to_string(), real_run_config()]);
    }
    args
}

fn sql(path: &Path, query: &str) -> Vec<Vec<String>> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare(query).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Null => "NULL".into(),
                    other => format!("{other:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn rows(ran: &Ran, table: &str) -> usize {
    sql(&ran.path(LEDGER), &format!("SELECT COUNT(*) FROM {table}"))[0][0]
        .parse()
        .unwrap()
}

/// Invoice numbers of an `invoices.csv`, in file order.
pub(crate) fn numbers_in(invoices_csv: &str) -> Vec<String> {
    invoices_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect()
}

#[test]
fn a_rerun_reuses_the_numbers_rewrites_identical_outputs_and_adds_no_rows() {
    let first = Test::demo().run().expect_code(0);
    assert!(first.stderr().contains("note: created a new ledger"));
    let outputs = first.tree("out");
    let ledger = std::fs::read(first.path(LEDGER)).unwrap();
    assert_eq!(rows(&first, "invoices"), 11);
    assert_eq!(rows(&first, "runs"), 1);
    assert_eq!(
        sql(&first.path(LEDGER), "SELECT state FROM runs"),
        [["done"]]
    );

    let again = first
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .run();
    let again = again.expect_code(0);
    assert_eq!(again.tree("out"), outputs, "every output byte-identical");
    assert_eq!(
        std::fs::read(again.path(LEDGER)).unwrap(),
        ledger,
        "the ledger file is untouched"
    );
    assert!(!again.stderr().contains("note:"), "{}", again.stderr());

    // A different invoice date cannot redate issued invoices: same outputs, a note.
    let redated = again
        .then()
        .args(demo_run_args())
        .args(["--out", "out", "--invoice-date", "2026-12-02"])
        .run()
        .expect_code(0);
    assert_eq!(redated.tree("out"), outputs);
    assert_eq!(std::fs::read(redated.path(LEDGER)).unwrap(), ledger);
    assert!(
        redated
            .stderr()
            .contains("11 invoice(s) of 2026-11 were issued on 2026-12-01 and keep that date"),
        "{}",
        redated.stderr()
    );
}

/// The demo snapshot copied to `snap/`, with `edit` applied to its number records.
pub(crate) fn edited_demo(test: Test, edit: impl FnOnce(&mut Vec<Value>)) -> Test {
    let accounts = std::fs::read_to_string(demo_dir().join("accounts.json")).unwrap();
    let mut numbers: Value =
        serde_json::from_str(&std::fs::read_to_string(demo_dir().join("numbers.json")).unwrap())
            .unwrap();
    edit(numbers["items"].as_array_mut().unwrap());
    test.file("snap/accounts.json", accounts)
        .file("snap/numbers.json", numbers.to_string())
}

/// The demo run arguments for another period.
fn demo_args_for(period: &str) -> Vec<String> {
    let mut args = demo_run_args();
    assert_eq!(args[3], "--period");
    args[4] = period.into();
    // A real run needs its period over; the demo's as-of closes November only.
    assert_eq!(args[5], "--as-of");
    args[6] = "2027-06-01T00:00:00Z".into();
    args
}

/// The demo run on another snapshot folder, writing `out/`.
pub(crate) fn demo_args_on(source: &str) -> Vec<String> {
    let mut args = demo_run_args();
    args[2] = source.into();
    args.extend(["--out".into(), "out".into()]);
    args
}

#[test]
fn changed_content_stops_with_exit_4_naming_the_invoices_and_writes_nothing() {
    let first = Test::demo().run().expect_code(0);
    let outputs = first.tree("out");
    let ledger = std::fs::read(first.path(LEDGER)).unwrap();

    let ran = edited_demo(first.then(), |items| {
        // Acme's first number costs more; Delhi's USD number purchased in November
        // disappears; every Kochi number disappears.
        items[0]["monthly_fee"] = json!(350);
        items.retain(|n| {
            n["id"] != "5eed0000-0000-0000-0000-000000000013" && n["account_id"] != "MA_KOCHI007"
        });
    })
    .args(demo_args_on("snap"))
    .run()
    .expect_code(4);
    let err = ran.stderr();
    assert!(
        err.contains(
            "period 2026-11 is already invoiced and this run would change 3 issued invoice(s)"
        ),
        "{err}"
    );
    assert!(
        err.contains("DID/26-27/00001 (MA_ACME0001 INR): line changed: rental +918041000001 2026-11-01..2026-11-30 350.00 (was rental +918041000001 2026-11-01..2026-11-30 300.00)"),
        "{err}"
    );
    assert!(err.contains("total 2301.57 → 2360.57"), "{err}");
    assert!(
        err.contains("DID/26-27/00005 (MA_DELHI004 USD): line removed: rental +14155550101"),
        "{err}"
    );
    assert!(
        err.contains("line removed: setup +14155550101 2026-11-21 2.00"),
        "{err}"
    );
    assert!(
        err.contains("DID/26-27/00009 (MA_KOCHI007 INR): no longer billed by this run (4 line(s), total 558.64 in the ledger)"),
        "{err}"
    );
    assert_eq!(ran.tree("out"), outputs, "outputs untouched");
    assert_eq!(
        std::fs::read(ran.path(LEDGER)).unwrap(),
        ledger,
        "ledger untouched"
    );
    assert!(leftovers(&ran).is_empty());
}

pub(crate) fn leftovers(ran: &Ran) -> Vec<String> {
    std::fs::read_dir(ran.path(""))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.contains("didbill-tmp") || n.contains("didbill-old") || n.ends_with("-journal")
        })
        .collect()
}

#[test]
fn a_customer_new_to_an_invoiced_period_gets_the_next_number_and_others_are_untouched() {
    // First run without Bharat (its numbers not yet in the inventory).
    let first = edited_demo(Test::new(), |items| {
        items.retain(|n| n["account_id"] != "MA_BHARAT02");
    })
    .args(demo_args_on("snap"))
    .run()
    .expect_code(0);
    let before = numbers_in(&first.read("out/invoices.csv"));
    assert_eq!(before.len(), 10);
    assert_eq!(before.last().unwrap(), "DID/26-27/00010");
    let acme = first
        .read("out/invoices.csv")
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();

    let full = first
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .run();
    let full = full.expect_code(0);
    let invoices = full.read("out/invoices.csv");
    let bharat = invoices.lines().last().unwrap();
    assert!(
        bharat.starts_with("DID/26-27/00011,2026-12-01,2026-12-16,MA_BHARAT02,"),
        "{invoices}"
    );
    assert_eq!(
        invoices.lines().nth(1).unwrap(),
        acme,
        "Acme keeps number and content"
    );
    assert_eq!(numbers_in(&invoices)[..10], before[..]);
    assert_eq!(rows(&full, "invoices"), 11);
    assert_eq!(
        sql(
            &full.path(LEDGER),
            "SELECT id, invoices, invoices_new, state FROM runs ORDER BY id"
        ),
        [["1", "10", "10", "done"], ["2", "11", "1", "done"]]
    );

    // A run limited to one customer reuses its invoice and leaves the rest alone.
    let one = full
        .then()
        .args(demo_run_args())
        .args(["--out", "acme", "--customer", "MA_ACME0001"])
        .run()
        .expect_code(0);
    assert_eq!(
        numbers_in(&one.read("acme/invoices.csv")),
        ["DID/26-27/00001"]
    );
    assert_eq!(rows(&one, "invoices"), 11);
}

#[test]
fn numbering_starts_again_at_1_when_the_financial_year_turns() {
    let (accounts, numbers) = customers(3);
    let ran = with_snapshot(Test::new(), "snap", &accounts, &numbers)
        .args(run_args("2027-01", &[]))
        .run()
        .expect_code(0);
    let ran = ran
        .then()
        .args(run_args("2027-02", &["--invoice-date", "2027-03-31"]))
        .run()
        .expect_code(0);
    let ran = ran
        .then()
        .args(run_args("2027-03", &[]))
        .run()
        .expect_code(0);
    assert_eq!(
        numbers_in(&ran.read("out/2027-01/invoices.csv")),
        ["DID/26-27/00001", "DID/26-27/00002", "DID/26-27/00003"]
    );
    let february = ran.read("out/2027-02/invoices.csv");
    assert_eq!(
        numbers_in(&february),
        ["DID/26-27/00004", "DID/26-27/00005", "DID/26-27/00006"]
    );
    assert!(
        february.contains(",2027-03-31,2027-04-15,MA_C00001,"),
        "{february}"
    );
    let march = ran.read("out/2027-03/invoices.csv");
    assert_eq!(
        numbers_in(&march),
        ["DID/27-28/00001", "DID/27-28/00002", "DID/27-28/00003"]
    );
    assert!(
        march.contains(",2027-04-01,2027-04-16,MA_C00001,"),
        "{march}"
    );
    assert_eq!(
        sql(
            &ran.path(LEDGER),
            "SELECT financial_year, COUNT(*), MIN(seq), MAX(seq) FROM invoices GROUP BY 1 ORDER BY 1"
        ),
        [["26-27", "6", "1", "6"], ["27-28", "3", "1", "3"]]
    );
}

#[test]
fn two_concurrent_runs_on_one_ledger_allocate_distinct_gap_free_numbers() {
    const CUSTOMERS: usize = 1500;
    let (accounts, numbers) = customers(CUSTOMERS);
    let test = with_snapshot(Test::new(), "snap", &accounts, &numbers);
    let dir = test.path().to_path_buf();
    // Create the ledger first so that neither process races to create the schema
    // (that race is covered by the IMMEDIATE migration, but not the subject here).
    // PDFs are not the subject here and would dominate the time of 4,500 invoices.
    let test = test
        .args(run_args("2026-10", &["--no-pdf"]))
        .run()
        .expect_code(0);

    let spawn = |period: &str| {
        Command::new(assert_cmd::cargo::cargo_bin("didbill"))
            .current_dir(&dir)
            .args(run_args(period, &["--no-pdf"]))
            .output()
            .unwrap()
    };
    let (nov, dec) = std::thread::scope(|s| {
        let nov = s.spawn(|| spawn("2026-11"));
        let dec = s.spawn(|| spawn("2026-12"));
        (nov.join().unwrap(), dec.join().unwrap())
    });
    for out in [&nov, &dec] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let mut all: Vec<u64> = Vec::new();
    for period in ["2026-10", "2026-11", "2026-12"] {
        let seqs: Vec<u64> = numbers_in(&test.read(&format!("out/{period}/invoices.csv")))
            .iter()
            .map(|n| n.strip_prefix("DID/26-27/").unwrap().parse().unwrap())
            .collect();
        assert_eq!(seqs.len(), CUSTOMERS);
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "{period}: one consecutive block"
        );
        all.extend(seqs);
    }
    all.sort_unstable();
    let expected: Vec<u64> = (1..=3 * CUSTOMERS as u64).collect();
    assert_eq!(all, expected, "distinct and gap-free across both processes");
    assert_eq!(
        sql(
            &test.path(LEDGER),
            "SELECT COUNT(*), COUNT(DISTINCT number), MAX(seq) FROM invoices"
        ),
        [["4500", "4500", "4500"]]
    );
}

#[test]
fn a_run_interrupted_between_ledger_and_output_commit_is_reported_and_recovered() {
    let first = Test::demo().run().expect_code(0);
    let outputs = first.tree("out");
    // Simulate the crash window: the ledger commit happened (run row `rendering`,
    // owned by a process that no longer exists) but the outputs never got into
    // place, only a half-written staging folder of the dead process.
    let conn = Connection::open(first.path(LEDGER)).unwrap();
    conn.execute(
        "UPDATE runs SET state = 'rendering', pid = 4194304, finished_at = NULL",
        [],
    )
    .unwrap();
    drop(conn);
    std::fs::remove_dir_all(first.path("out")).unwrap();
    std::fs::create_dir(first.path(".out.didbill-tmp-4194304")).unwrap();
    std::fs::write(
        first.path(".out.didbill-tmp-4194304/line_items.csv"),
        "partial",
    )
    .unwrap();

    // Another period's run notices and says which period to re-run.
    let other = first
        .then()
        .args(demo_args_for("2026-12"))
        .args(["--out", "dec"])
        .run()
        .expect_code(0);
    assert!(
        other.stderr().contains(
            "run #1 of 2026-11 recorded 11 invoice(s) (DID/26-27/00001 … DID/26-27/00011) but was \
             interrupted before writing its outputs to out; re-run period 2026-11"
        ),
        "{}",
        other.stderr()
    );
    assert_eq!(
        sql(
            &other.path(LEDGER),
            "SELECT id, state FROM runs ORDER BY id"
        ),
        [["1", "rendering"], ["2", "done"]]
    );

    // Re-running the period writes the outputs with the same numbers and closes it.
    let invoices_before = rows(&other, "invoices");
    let recovered = other
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    assert!(
        recovered
            .stderr()
            .contains("run #1 of 2026-11 was interrupted before its outputs were written; this run writes its 11 invoice(s)"),
        "{}",
        recovered.stderr()
    );
    assert_eq!(recovered.tree("out"), outputs);
    assert_eq!(rows(&recovered, "invoices"), invoices_before);
    assert_eq!(
        sql(
            &recovered.path(LEDGER),
            "SELECT id, state FROM runs ORDER BY id"
        ),
        [["1", "recovered"], ["2", "done"]]
    );
    assert!(leftovers(&recovered).is_empty());

    // And it is quiet from then on.
    let quiet = recovered
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    assert!(!quiet.stderr().contains("note:"), "{}", quiet.stderr());
}

#[test]
fn a_setup_fee_is_billed_once_across_periods_and_reruns() {
    // Purchased 2026-11-30 20:00 UTC: 30 November in UTC, 1 December in India. The
    // partner ran November in UTC, then switched to Asia/Kolkata for December, which
    // moves the purchase date (and so the setup fee) into December as well.
    let accounts = [account("MA_LATE")];
    let numbers = [
        number(
            "kept",
            "MA_LATE",
            "+918000000001",
            "2026-11-30T20:00:00Z",
            None,
        ),
        number(
            "gone",
            "MA_LATE",
            "+918000000002",
            "2026-11-30T20:00:00Z",
            Some("2026-12-01T00:00:00Z"),
        ),
    ];
    let nov = || run_args("2026-11", &["--config", "utc.toml"]);
    let first = with_snapshot(Test::new(), "snap", &accounts, &numbers)
        .file("utc.toml", format!("timezone = \"UTC\"\n{REAL_RUN_TOML}"))
        .file(
            "ist.toml",
            format!("timezone = \"Asia/Kolkata\"\n{REAL_RUN_TOML}"),
        )
        .args(nov())
        .run()
        .expect_code(0);
    let november = first.read("out/2026-11/line_items.csv");
    assert_eq!(november.matches(",setup,").count(), 2, "{november}");
    let outputs = first.tree("out/2026-11");

    let rerun = first.then().args(nov()).run().expect_code(0);
    assert_eq!(
        rerun.tree("out/2026-11"),
        outputs,
        "the re-run keeps its setup lines"
    );

    let dec = rerun
        .then()
        .args(run_args("2026-12", &["--config", "ist.toml"]))
        .run()
        .expect_code(0);
    let december = dec.read("out/2026-12/line_items.csv");
    assert!(!december.contains(",setup,"), "{december}");
    assert_eq!(december.lines().count(), 2, "one rental line: {december}");
    let summary: Value = serde_json::from_str(&dec.read("out/2026-12/summary.json")).unwrap();
    assert_eq!(
        (
            &summary["billed"],
            &summary["not_billable"],
            &summary["lines"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "the number whose only charge was its billed setup is not billable"
    );
    assert_eq!(rows(&dec, "setup_charges"), 2);

    // November can still be re-run after December.
    let again = dec.then().args(nov()).run().expect_code(0);
    assert_eq!(again.tree("out/2026-11"), outputs);
}

#[test]
fn a_ledger_from_a_newer_didbill_or_not_a_ledger_is_refused_clearly() {
    let future = Test::new();
    let conn = Connection::open(future.path().join(LEDGER)).unwrap();
    conn.execute_batch(
        "PRAGMA application_id = 1145652290; -- \"DIDB\"\n PRAGMA user_version = 99; CREATE TABLE later (x);",
    )
    .unwrap();
    drop(conn);
    let ran = future
        .args(demo_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains(&format!(
            "ledger didbill.sqlite: was written by a newer didbill (ledger schema version 99, this didbill knows up to {})",
            didbill::ledger::SCHEMA_VERSION
        )),
        "{}",
        ran.stderr()
    );
    assert!(!ran.path("out").exists());
    let listed = ran.then().args(["invoices", "list"]).run().expect_code(1);
    assert!(
        listed.stderr().contains("newer didbill"),
        "{}",
        listed.stderr()
    );

    let foreign = Test::new();
    Connection::open(foreign.path().join("other.db"))
        .unwrap()
        .execute_batch("CREATE TABLE customers (id);")
        .unwrap();
    let ran = foreign
        .file(
            "notes.txt",
            "not a database at all, just some text that is long enough",
        )
        .args(demo_run_args())
        .args(["--out", "out", "--ledger", "other.db"])
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains("not a didbill ledger"),
        "{}",
        ran.stderr()
    );
    let ran = ran
        .then()
        .args(demo_run_args())
        .args(["--out", "out", "--ledger", "notes.txt"])
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains("not an SQLite database"),
        "{}",
        ran.stderr()
    );
    let ran = ran
        .then()
        .args(demo_run_args())
        .args(["--out", "out", "--ledger", "missing/dir/x.sqlite"])
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains("folder missing/dir does not exist"),
        "{}",
        ran.stderr()
    );
}

#[test]
fn a_dry_run_touches_no_ledger_and_numbers_drafts() {
    let ran = Test::demo().arg("--dry-run").run().expect_code(0);
    assert!(!ran.path(LEDGER).exists(), "no ledger file is created");
    assert_eq!(
        numbers_in(&ran.read("out/invoices.csv"))[..3],
        ["DRAFT-0001", "DRAFT-0002", "DRAFT-0003"]
    );

    let real = ran
        .then()
        .args(demo_run_args())
        .args(["--out", "real"])
        .run()
        .expect_code(0);
    let ledger = std::fs::read(real.path(LEDGER)).unwrap();
    let dry = real
        .then()
        .args(demo_args_for("2026-12"))
        .args(["--out", "dry", "--dry-run"])
        .run()
        .expect_code(0);
    assert_eq!(std::fs::read(dry.path(LEDGER)).unwrap(), ledger);
    assert_eq!(numbers_in(&dry.read("dry/invoices.csv"))[0], "DRAFT-0001");
}

#[test]
fn invoices_list_and_show_read_the_ledger() {
    let ran = Test::new().args(["invoices", "list"]).run().expect_code(1);
    assert!(ran.stderr().contains("does not exist"), "{}", ran.stderr());
    assert!(!ran.path(LEDGER).exists(), "reading never creates a ledger");

    let ran = ran
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    let ran = ran
        .then()
        .args([
            "invoices",
            "list",
            "--customer",
            "MA_DELHI004",
            "--format",
            "csv",
        ])
        .run()
        .expect_code(0);
    let csv = ran.stdout();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert_eq!(
        lines[0],
        "invoice_number,invoice_date,due_date,period,financial_year,seq,customer_id,customer_name,\
         customer_gstin,place_of_supply,currency,lines,subtotal,cgst,sgst,igst,tax,round_off,total,content_hash,\
         status,notes,notes_delivery,delivery"
    );
    // The last columns: status, the notes (none), their delivery and the invoice's.
    let (row, hash) = lines[1]
        .strip_suffix(",issued,,,unsent")
        .unwrap()
        .rsplit_once(',')
        .unwrap();
    assert_eq!(
        row,
        "DID/26-27/00004,2026-12-01,2026-12-16,2026-11,26-27,4,MA_DELHI004,Delhi Retail Hub,\
         07AABCD4321E1Z8,07,INR,1,600.00,0.00,0.00,108.00,108.00,0.00,708.00"
    );
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hash}"
    );
    assert!(
        lines[2].starts_with("DID/26-27/00005,2026-12-01,2026-12-16,2026-11,26-27,5,MA_DELHI004,")
    );

    let table = ran.then().args(["invoices", "list"]).run().expect_code(0);
    let text = table.stdout();
    assert_eq!(text.lines().count(), 12, "{text}");
    assert!(
        text.lines().next().unwrap().starts_with("number "),
        "{text}"
    );
    assert!(text.contains("DID/26-27/00011  2026-12-01"), "{text}");
    let none = table
        .then()
        .args(["invoices", "list", "--period", "2026-10"])
        .run()
        .expect_code(0);
    assert_eq!(none.stdout(), "no invoices\n");

    let shown = none
        .then()
        .args(["invoices", "show", "DID/26-27/00005", "--format", "json"])
        .run()
        .expect_code(0);
    let json: Value = serde_json::from_str(&shown.stdout()).unwrap();
    assert_eq!(json["customer_id"], "MA_DELHI004");
    assert_eq!(json["currency"], "USD");
    assert_eq!(json["total"], "10.23");
    assert_eq!(json["line_items"].as_array().unwrap().len(), 3);
    assert_eq!(json["line_items"][0]["charge"], "setup");

    let table = shown
        .then()
        .args(["invoices", "show", "DID/26-27/00005"])
        .run()
        .expect_code(0);
    assert!(
        table.stdout().starts_with("invoice DID/26-27/00005\n"),
        "{}",
        table.stdout()
    );
    assert!(
        table.stdout().contains("  total      10.23\n"),
        "{}",
        table.stdout()
    );

    let csv = table
        .then()
        .args(["invoices", "show", "DID/26-27/00005", "--format", "csv"])
        .run()
        .expect_code(0);
    let demo_lines = std::fs::read_to_string(demo_dir().join("expected/line_items.csv")).unwrap();
    let expected: Vec<&str> = demo_lines
        .lines()
        .filter(|l| l.starts_with("DID/26-27/00005,") || l.starts_with("invoice_number,"))
        .collect();
    assert_eq!(csv.stdout().lines().collect::<Vec<_>>(), expected);

    let missing = csv
        .then()
        .args(["invoices", "show", "DID/26-27/00099"])
        .run()
        .expect_code(1);
    assert!(missing
        .stderr()
        .contains("invoice DID/26-27/00099 is not in the ledger"));
}

/// `ledger verify` passes a ledger as didbill wrote it, and names each damage done
/// behind its back: a dropped guard, an edited amount, a deleted invoice.
#[test]
fn ledger_verify_passes_what_didbill_wrote_and_names_tampering() {
    let ran = Test::demo().run().expect_code(0);
    let noted = ran
        .then()
        .args([
            "note",
            "credit",
            "--invoice",
            "DID/26-27/00002",
            "--line",
            "1",
            "--reason",
            "Released",
            "--date",
            "2026-12-05",
            "--as-of",
            "2026-12-06T00:00:00Z",
            "--config",
        ])
        .arg(demo_dir().join("didbill.toml").to_str().unwrap())
        .run()
        .expect_code(0);
    let sound = noted.then().args(["ledger", "verify"]).run().expect_code(0);
    // The schema version is whatever this didbill writes.
    let printed = sound.stdout();
    let (head, rest) = printed.split_once("): ").unwrap();
    assert!(
        head.starts_with("ledger didbill.sqlite (schema version "),
        "{head}"
    );
    assert_eq!(
        rest,
        "11 invoice(s) in 1 financial year(s), 1 credit note(s), 0 debit note(s), 0 \
         cancellation(s)\n\
         ok: every series gap-free and in order, every content hash matches, the append-only \
         guards in place\n"
    );

    let conn = Connection::open(sound.path("didbill.sqlite")).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TRIGGER invoices_no_update;
         DROP TRIGGER invoices_no_delete;
         DROP TRIGGER invoice_lines_no_delete;
         UPDATE invoices SET total = '1.00' WHERE number = 'DID/26-27/00003';
         DELETE FROM invoice_lines WHERE invoice_id =
             (SELECT id FROM invoices WHERE number = 'DID/26-27/00005');
         DELETE FROM invoices WHERE number = 'DID/26-27/00005';",
    )
    .unwrap();
    drop(conn);
    let damaged = sound.then().args(["ledger", "verify"]).run().expect_code(1);
    let out = damaged.stdout();
    for expected in [
        "10 invoice(s) in 1 financial year(s)",
        "problem: the guard invoice_lines_no_delete is missing",
        "problem: the guard invoices_no_delete is missing",
        "problem: the guard invoices_no_update is missing",
        "problem: invoice series 26-27: no document numbered 5 (of 1–11)\n",
        "problem: invoice DID/26-27/00003: its lines and amounts do not match the content \
         hash recorded when it was issued",
        "5 problem(s) found\n",
    ] {
        assert!(out.contains(expected), "{expected:?} not in\n{out}");
    }
    assert!(
        damaged
            .stderr()
            .contains("5 problem(s) found by `didbill ledger verify`"),
        "{}",
        damaged.stderr()
    );
}
