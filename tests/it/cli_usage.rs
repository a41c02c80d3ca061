//! Call usage from a snapshot's `cdrs/` folder: usage lines, their place in every
//! output, the ledger, `--no-usage`, `--strict` and CDRs of the wrong period.

use crate::common::fake_vobiz::FakeVobiz;
use crate::common::{demo_dir, demo_run_args, Ran, Test};

/// The demo's customers; a snapshot with a `cdrs/` folder has a file for each.
const CUSTOMERS: [&str; 10] = [
    "MA_ACME0001",
    "MA_BHARAT02",
    "MA_CHENNAI3",
    "MA_DELHI004",
    "MA_EUROPA05",
    "MA_HINDI006",
    "MA_KOCHI007",
    "MA_NONUM008",
    "MA_TELANG09",
    "MA_ZENITH10",
];

/// A CDR row in the API's shape.
fn call(uuid: &str, direction: &str, start: &str, billsec: u32, cost: &str) -> String {
    format!(
        r#"{{"uuid": "{uuid}", "account_id": "MA_X", "call_direction": "{direction}", "billsec": {billsec}, "duration": {}, "cost": {cost}, "total_cost": {cost}, "currency": "INR", "start_time": "{start}", "end_time": "{start}", "hangup_cause": "NORMAL_CLEARING"}}"#,
        billsec + 5
    )
}

/// `cdrs/<id>.json` as `didbill fetch` writes it for November 2026.
fn cdrs_file(id: &str, rows: &[String], start: &str, end: &str) -> String {
    format!(
        "{{\n  \"account_auth_id\": \"{id}\",\n  \"start_date\": \"{start}\",\n  \"end_date\": \"{end}\",\n  \"count\": {},\n  \"data\": [{}]\n}}\n",
        rows.len(),
        rows.join(",\n    ")
    )
}

/// Acme's calls around the edges of November in Asia/Kolkata (UTC+05:30), and a
/// call of Iyer Consulting, which has no numbers.
fn november_calls() -> Vec<(&'static str, Vec<String>)> {
    vec![
        (
            "MA_ACME0001",
            vec![
                // 31 Oct 23:50 → 1 Nov 00:20 IST: October's.
                call("a1", "inbound", "2026-10-31T18:20:00Z", 1800, "9.00"),
                // 1 Nov 00:00 IST.
                call("a2", "inbound", "2026-10-31T18:30:00Z", 120, "1.20"),
                // 30 Nov 23:50 → 1 Dec 00:20 IST: November's, in full.
                call("a3", "outbound", "2026-11-30T18:20:00Z", 1800, "18.005"),
                // 1 Dec 00:00 IST: December's.
                call("a4", "outbound", "2026-11-30T18:30:00Z", 60, "0.60"),
                call("a5", "outbound", "2026-11-15T06:00:00.250Z", 75, "0.75"),
            ],
        ),
        (
            "MA_NONUM008",
            vec![call("n1", "outbound", "2026-11-05T10:00:00Z", 600, "6")],
        ),
    ]
}

/// The demo snapshot in `snap/` with a `cdrs/` folder holding `calls` (every other
/// customer has an empty file).
fn snapshot(test: Test, calls: &[(&str, Vec<String>)]) -> Test {
    let mut test = test
        .file(
            "snap/accounts.json",
            std::fs::read(demo_dir().join("accounts.json")).unwrap(),
        )
        .file(
            "snap/numbers.json",
            std::fs::read(demo_dir().join("numbers.json")).unwrap(),
        );
    for id in CUSTOMERS {
        let rows = calls
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, rows)| rows.clone())
            .unwrap_or_default();
        test = test.file(
            &format!("snap/cdrs/{id}.json"),
            cdrs_file(id, &rows, "2026-10-31", "2026-12-01"),
        );
    }
    test
}

/// The demo run on `snap/`, writing `out/`.
fn run_args() -> Vec<String> {
    let mut args = demo_run_args();
    assert_eq!(args[1], "--source");
    args[2] = "snap".into();
    args.extend(["--out".into(), "out".into()]);
    args
}

fn usage_run() -> Ran {
    snapshot(Test::new(), &november_calls())
        .args(run_args())
        .args(["--csv", "xero,zoho,quickbooks,tally"])
        .run()
        .expect_code(0)
}

/// The rows of a CSV whose first cell is `invoice` (or whose cells include it).
fn rows_with(text: &str, needle: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

#[test]
fn calls_become_usage_lines_after_the_rentals_with_empty_number_cells() {
    let ran = usage_run();
    let items = ran.read("out/line_items.csv");
    let acme = rows_with(&items, "MA_ACME0001");
    assert_eq!(acme.len(), 10, "8 number lines and 2 usage lines");
    assert!(acme[7].contains(",rental,"), "{}", acme[7]);
    assert_eq!(
        acme[8..],
        [
            "DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,INR,,,usage,2026-11-01,2026-11-30,,,,1.20",
            // 18.005 + 0.75 = 18.755, rounded once.
            "DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,INR,,,usage,2026-11-01,2026-11-30,,,,18.76",
        ]
    );
    // A customer with calls but no numbers gets an invoice, numbered in customer order.
    assert_eq!(
        rows_with(&items, "MA_NONUM008"),
        ["DID/26-27/00010,2026-12-01,MA_NONUM008,Iyer Consulting,INR,,,usage,2026-11-01,2026-11-30,,,,6.00"]
    );
    let invoices = ran.read("out/invoices.csv");
    // Usage is taxed like rentals: Acme is in Karnataka (CGST + SGST), Iyer in Telangana (IGST).
    assert!(
        invoices.contains("\nDID/26-27/00001,2026-12-01,2026-12-16,MA_ACME0001,Acme Solutions Pvt Ltd,29AAACA1234A1ZG,29,INR,10,1970.45,177.34,177.34,0.00,0.00,2325.13,,1970.45,354.68\n"),
        "{invoices}"
    );
    assert!(
        invoices.contains("\nDID/26-27/00010,2026-12-01,2026-12-16,MA_NONUM008,Iyer Consulting,,36,INR,1,6.00,0.00,0.00,1.08,0.00,7.08,,6.00,1.08\n"),
        "{invoices}"
    );
    assert!(invoices.contains("\nDID/26-27/00012,"), "{invoices}");
    let summary: serde_json::Value = serde_json::from_str(&ran.read("out/summary.json")).unwrap();
    assert_eq!(summary["invoices"], 12);
    assert_eq!(summary["lines"], 40);
    assert_eq!(summary["numbers_fetched"], 46, "calls are not numbers");
    assert_eq!(summary["totals"]["INR"]["subtotal"], "8816.19");

    for layout in ["xero", "zoho", "quickbooks"] {
        let text = ran.read(&format!("out/{layout}.csv"));
        let usage = rows_with(&text, "Call usage (outbound)");
        assert_eq!(usage.len(), 2, "{layout}: {text}");
        assert!(
            usage[0].contains(
                "Call usage (outbound), 01/11/2026–30/11/2026: 2 calls, 31.25 billable minutes"
            ),
            "{layout}: {}",
            usage[0]
        );
        assert!(
            usage[1].contains("1 call, 10.00 billable minutes"),
            "{layout}: {}",
            usage[1]
        );
        assert!(!text.contains("DID rental ,"), "{layout}: {text}");
    }
    assert!(
        rows_with(&ran.read("out/zoho.csv"), "Call usage (inbound)")[0].contains(",Call Usage,")
    );
    assert!(
        rows_with(&ran.read("out/quickbooks.csv"), "Call usage (inbound)")[0]
            .contains(",Call Usage,")
    );
    // The PDF lists the calls after the numbers, with no number of their own.
    let pdf = std::fs::read(ran.path("out/pdf/DID-26-27-00001.pdf")).unwrap();
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let rental = squeezed.find("+918041000008").expect("the last number");
    let inbound = squeezed
        .find("Call usage (inbound): 1 call, 2.00 billable minutes")
        .unwrap_or_else(|| panic!("{squeezed}"));
    let outbound = squeezed
        .find("Call usage (outbound): 2 calls, 31.25 billable minutes")
        .unwrap_or_else(|| panic!("{squeezed}"));
    assert!(rental < inbound && inbound < outbound, "{squeezed}");
    assert!(squeezed.contains("18.76"), "{squeezed}");
}

#[test]
fn no_usage_bills_the_numbers_only_exactly_as_before() {
    let ran = snapshot(Test::new(), &november_calls())
        .args(run_args())
        .args(["--no-usage", "--csv", "xero,zoho,quickbooks,tally"])
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
}

#[test]
fn a_snapshot_without_cdrs_bills_no_usage() {
    let ran = Test::demo().run().expect_code(0);
    let numbers_only = Test::demo().arg("--no-usage").run().expect_code(0);
    assert_eq!(ran.tree("out"), numbers_only.tree("out"));
    assert_eq!(ran.stderr(), numbers_only.stderr());
}

#[test]
fn usage_is_in_the_ledger_re_runs_are_identical_and_changed_calls_conflict() {
    let first = usage_run();
    let outputs = first.tree("out");
    let again = first
        .then()
        .args(run_args())
        .args(["--csv", "xero,zoho,quickbooks,tally"])
        .run()
        .expect_code(0);
    assert_eq!(again.tree("out"), outputs);

    let shown = again
        .then()
        .args(["invoices", "show", "DID/26-27/00001"])
        .run()
        .expect_code(0);
    let text = shown.stdout();
    assert!(
        text.contains("2 outbound calls") && text.contains("18.76"),
        "{text}"
    );
    let json = shown
        .then()
        .args(["invoices", "show", "DID/26-27/00001", "--format", "json"])
        .run()
        .expect_code(0);
    let shown: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    let usage = &shown["line_items"][9];
    assert_eq!(
        (
            &usage["call_direction"],
            &usage["calls"],
            &usage["billable_seconds"]
        ),
        (
            &serde_json::json!("outbound"),
            &serde_json::json!(2),
            &serde_json::json!(1875)
        )
    );

    // A late call for Iyer Consulting changes its issued invoice.
    let mut calls = november_calls();
    calls[1]
        .1
        .push(call("n2", "outbound", "2026-11-06T10:00:00Z", 60, "0.60"));
    let changed = snapshot(json.then(), &calls)
        .args(run_args())
        .run()
        .expect_code(4);
    let err = changed.stderr();
    assert!(err.contains("DID/26-27/00010"), "{err}");
    assert!(
        err.contains("usage outbound 2026-11-01..2026-11-30 2 calls 6.60"),
        "{err}"
    );
    // The late call is named: whose, how many calls, and the amount to bill.
    assert!(
        err.contains(
            "DID/26-27/00010 (MA_NONUM008 INR): call usage 1 → 2 call(s), +0.60 INR before GST;"
        ),
        "{err}"
    );
    assert!(
        err.contains("Bill the difference shown above with a debit note")
            && err.contains("run it with --dry-run --out ANOTHER_FOLDER"),
        "{err}"
    );
    assert_eq!(changed.tree("out"), outputs, "nothing was written");

    // --issue-notes bills the late call on a debit note against the invoice.
    let noted = snapshot(changed.then(), &calls)
        .args(run_args())
        .arg("--issue-notes")
        .run()
        .expect_code(0);
    let notes = noted.read("out/notes.csv");
    let rows: Vec<&str> = notes.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{notes}");
    assert!(
        rows[0].starts_with("DN/26-27/00001,debit,")
            && rows[0].contains(",DID/26-27/00010,")
            && rows[0].contains(",MA_NONUM008,"),
        "{notes}"
    );
    let note_lines = noted.read("out/note_lines.csv");
    assert!(note_lines.contains(",0.60"), "{note_lines}");
    assert!(
        noted
            .stdout()
            .contains("notes against the period's invoices: 0 credit, 1 debit"),
        "{}",
        noted.stdout()
    );
    // Billed once: running again issues nothing more and rewrites nothing.
    let settled = noted.tree("out");
    let again = snapshot(noted.then(), &calls)
        .args(run_args())
        .arg("--issue-notes")
        .run()
        .expect_code(0);
    assert_eq!(again.tree("out"), settled);
}

#[test]
fn bad_call_records_are_warned_about_and_stop_a_strict_run() {
    let mut calls = november_calls();
    calls[1].1.push(
        r#"{"uuid": "bad", "call_direction": "inbound", "total_cost": "n/a", "currency": "INR", "start_time": "2026-11-07T10:00:00Z"}"#.into(),
    );
    let ran = snapshot(Test::new(), &calls)
        .args(run_args())
        .run()
        .expect_code(0);
    let summary = ran.read("out/summary.json");
    assert!(
        summary.contains("customer MA_NONUM008, call bad: total_cost \\\"n/a\\\" is not a number"),
        "{summary}"
    );
    assert!(ran.stderr().contains("call bad"), "{}", ran.stderr());
    // The good call is still billed.
    assert!(ran
        .read("out/invoices.csv")
        .contains(",MA_NONUM008,Iyer Consulting,,36,INR,1,6.00,"));

    let strict = snapshot(Test::new(), &calls)
        .args(run_args())
        // The demo's broken numbers would stop it first; Iyer Consulting has none.
        .args(["--strict", "--customer", "MA_NONUM008"])
        .run()
        .expect_code(1);
    assert!(
        strict
            .stderr()
            .contains("1 call record(s) cannot be billed")
            && strict.stderr().contains("call bad"),
        "{}",
        strict.stderr()
    );
    assert!(!strict.path("out").exists());
}

#[test]
fn call_records_of_another_period_are_refused() {
    let mut test = snapshot(Test::new(), &november_calls());
    test = test.file(
        "snap/cdrs/MA_ZENITH10.json",
        cdrs_file("MA_ZENITH10", &[], "2026-09-30", "2026-11-01"),
    );
    let ran = test.args(run_args()).run().expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("MA_ZENITH10.json") && err.contains("--no-usage"),
        "{err}"
    );
    assert!(!ran.path("out").exists());

    // A snapshot whose cdrs/ folder lost a customer's file.
    let test = snapshot(Test::new(), &november_calls());
    std::fs::remove_file(test.path().join("snap/cdrs/MA_BHARAT02.json")).unwrap();
    let ran = test.args(run_args()).run().expect_code(1);
    assert!(
        ran.stderr().contains("MA_BHARAT02.json"),
        "{}",
        ran.stderr()
    );
}

/// The demo run's arguments with `--source api`, writing `out/`.
fn api_run_args() -> Vec<String> {
    let mut args = run_args();
    args[2] = "api".into();
    args
}

#[test]
fn fetch_saves_the_periods_call_records_and_the_snapshot_replays_the_api_run() {
    // The fake serves the demo with call records, among them one far outside
    // November that the date filter leaves out.
    let mut calls = november_calls();
    calls[0]
        .1
        .push(call("old", "inbound", "2026-09-15T10:00:00Z", 60, "99"));
    let test = snapshot(Test::new(), &calls);
    let fake = FakeVobiz::from_dir(&test.path().join("snap"))
        .unwrap()
        .start(0)
        .unwrap();
    let fetched = test
        .api(&fake)
        .args([
            "fetch", "--out", "fetched", "--period", "2026-11", "--quiet",
        ])
        .run()
        .expect_code(0);
    assert!(
        fetched
            .stdout()
            .contains("10 account(s) and 47 number record(s) and 6 call record(s) of 2026-11"),
        "{}",
        fetched.stdout()
    );
    let acme = fetched.read("fetched/cdrs/MA_ACME0001.json");
    assert!(
        acme.contains("\"start_date\": \"2026-10-31\",\n  \"end_date\": \"2026-12-01\""),
        "{acme}"
    );
    assert!(
        acme.contains(&november_calls()[0].1[2]),
        "rows as sent: {acme}"
    );
    assert!(!acme.contains("\"old\""), "{acme}");
    assert_eq!(
        fetched.tree("fetched/cdrs").len(),
        10,
        "a file per customer"
    );

    // The API run bills the calls; the saved snapshot replays it byte for byte.
    let api = fetched
        .then()
        .api(&fake)
        .args(api_run_args())
        .args(["--dry-run"])
        .run()
        .expect_code(0);
    let mut replay_args = run_args();
    replay_args[2] = "fetched".into();
    let out = replay_args.len() - 1;
    replay_args[out] = "replay".into();
    let replay = api
        .then()
        .args(replay_args)
        .arg("--dry-run")
        .run()
        .expect_code(0);
    for file in ["line_items.csv", "invoices.csv", "summary.json"] {
        assert_eq!(
            replay.read(&format!("replay/{file}")),
            replay.read(&format!("out/{file}")),
            "{file}"
        );
    }
    assert!(replay
        .read("out/line_items.csv")
        .contains(",MA_NONUM008,Iyer Consulting,INR,,,usage,"));
}

#[test]
fn an_api_that_refuses_call_records_stops_the_run_unless_no_usage() {
    let fake = FakeVobiz::from_dir(&demo_dir())
        .unwrap()
        .forbid_cdrs()
        .start(0)
        .unwrap();
    let ran = Test::new()
        .api(&fake)
        .args(api_run_args())
        .run()
        .expect_code(3);
    let err = ran.stderr();
    assert!(
        err.contains("403") && err.contains("--no-usage") && err.contains("/cdrs"),
        "{err}"
    );
    assert!(!ran.path("out").exists());

    // Successful against the same refusing server: not a single CDR request was made.
    let ran = Test::new()
        .api(&fake)
        .args(api_run_args())
        .arg("--no-usage")
        .run()
        .expect_code(0);
    assert_eq!(
        ran.read("out/invoices.csv"),
        std::fs::read_to_string(demo_dir().join("expected/invoices.csv")).unwrap()
    );
}

#[test]
fn fetch_with_no_usage_saves_no_call_records_where_the_api_refuses_them() {
    let fake = FakeVobiz::from_dir(&demo_dir())
        .unwrap()
        .forbid_cdrs()
        .start(0)
        .unwrap();
    let fetch = ["fetch", "--out", "snap", "--period", "2026-11", "--quiet"];
    let refused = Test::new().api(&fake).args(fetch).run().expect_code(3);
    let err = refused.stderr();
    assert!(err.contains("403") && err.contains("--no-usage"), "{err}");
    assert!(!refused.path("snap").exists());

    // The advice works: `fetch` takes --no-usage and saves the numbers only …
    let fetched = refused
        .then()
        .api(&fake)
        .args(fetch)
        .arg("--no-usage")
        .run()
        .expect_code(0);
    assert!(
        fetched
            .stdout()
            .contains("(no call records: without --period, or with --no-usage"),
        "{}",
        fetched.stdout()
    );
    assert!(!fetched.path("snap/cdrs").exists());
    // … and a run on that snapshot bills no usage: the demo's invoices exactly.
    let ran = fetched.then().args(run_args()).run().expect_code(0);
    assert_eq!(
        ran.read("out/invoices.csv"),
        std::fs::read_to_string(demo_dir().join("expected/invoices.csv")).unwrap()
    );
}

#[test]
fn every_call_record_is_billed_or_listed_in_usage_exceptions_csv() {
    let header = "customer_id,uuid,start_time,reason\n";
    assert_eq!(usage_run().read("out/usage_exceptions.csv"), header);

    let mut calls = november_calls();
    calls[1].1.extend([
        call("s1", "sideways", "2026-11-07T10:00:00Z", 60, "0.60"),
        r#"{"uuid": "=HYPERLINK(1)", "call_direction": "inbound", "total_cost": 1, "currency": "inr", "start_time": "2026-11-07T10:00:00Z"}"#.into(),
        r#"{"call_direction": "", "total_cost": 1, "currency": "INR", "start_time": "-5"}"#.into(),
        call("dup", "inbound", "2026-11-08T10:00:00Z", 60, "1"),
        call("dup", "inbound", "2026-11-08T10:00:00Z", 60, "2"),
    ]);
    let ran = snapshot(Test::new(), &calls)
        .args(run_args())
        .run()
        .expect_code(0);
    assert_eq!(
        ran.read("out/usage_exceptions.csv"),
        [
            header,
            "MA_NONUM008,s1,2026-11-07T10:00:00Z,\"call_direction \"\"sideways\"\" is neither inbound nor outbound; not billed\"\n",
            "MA_NONUM008,'=HYPERLINK(1),2026-11-07T10:00:00Z,\"currency \"\"inr\"\" is not an ISO 4217 code; not billed\"\n",
            "MA_NONUM008,,'-5,\"row #4: start_time \"\"-5\"\" is not an RFC 3339 date and time; call_direction is missing; not billed\"\n",
            "MA_NONUM008,dup,2026-11-08T10:00:00Z,the uuid appears on rows with different content; none of them billed\n",
        ]
        .concat()
    );
    // Only the one good call is billed: no line for a "sideways" direction.
    let items = ran.read("out/line_items.csv");
    assert_eq!(
        rows_with(&items, "MA_NONUM008"),
        ["DID/26-27/00010,2026-12-01,MA_NONUM008,Iyer Consulting,INR,,,usage,2026-11-01,2026-11-30,,,,6.00"]
    );
    let summary: serde_json::Value = serde_json::from_str(&ran.read("out/summary.json")).unwrap();
    // 10 distinct rows: 4 billed, 2 of October and December (the margin days), 4 listed.
    assert_eq!(
        summary["calls"],
        serde_json::json!({"fetched": 10, "billed": 4, "outside_period": 2, "not_invoiced": 0, "exceptions": 4})
    );
    assert!(
        ran.stdout()
            .contains("4 call record(s) not billed: see out/usage_exceptions.csv"),
        "{}",
        ran.stdout()
    );
}

#[test]
fn a_customer_with_only_free_calls_gets_no_invoice_and_is_reported() {
    let mut calls = november_calls();
    calls[1].1 = vec![
        call("f1", "outbound", "2026-11-05T10:00:00Z", 600, "0"),
        call("f2", "inbound", "2026-11-06T10:00:00Z", 60, "0.00"),
    ];
    let ran = snapshot(Test::new(), &calls)
        .args(run_args())
        .run()
        .expect_code(0);
    let invoices = ran.read("out/invoices.csv");
    assert!(!invoices.contains("MA_NONUM008"), "{invoices}");
    // No number of the GST series is spent on it: the series stays gap-free.
    assert!(
        invoices.contains("\nDID/26-27/00010,2026-12-01,2026-12-16,MA_TELANG09,"),
        "{invoices}"
    );
    assert!(!invoices.contains("DID/26-27/00012"), "{invoices}");
    assert!(!ran.read("out/line_items.csv").contains("MA_NONUM008"));
    let notice =
        "customer MA_NONUM008 INR: every line is 0.00 (0 number(s), 2 call(s)); no invoice issued";
    assert!(ran.stderr().contains(notice), "{}", ran.stderr());
    let summary: serde_json::Value = serde_json::from_str(&ran.read("out/summary.json")).unwrap();
    assert!(
        summary["warnings"].to_string().contains(notice),
        "{summary}"
    );
    assert_eq!(summary["invoices"], 11);
    assert_eq!(summary["calls"]["not_invoiced"], 2);
    assert_eq!(summary["calls"]["billed"], 3);
}
