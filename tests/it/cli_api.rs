//! `--source api`, `didbill fetch` and `didbill numbers` end to end: the binary
//! against the fake Vobiz API serving the demo snapshot.

use crate::common::fake_vobiz::{FakeVobiz, Running, DEMO_TOKEN};
use crate::common::{demo_dir, demo_run_args, Test};

const OUTPUTS: [&str; 5] = [
    "line_items.csv",
    "invoices.csv",
    "exceptions.csv",
    "usage_exceptions.csv",
    "summary.json",
];

fn demo_api() -> Running {
    FakeVobiz::from_dir(&demo_dir()).unwrap().start(0).unwrap()
}

/// The demo run's arguments with `--source api`.
fn api_run_args() -> Vec<String> {
    let mut args = demo_run_args();
    let at = args.iter().position(|a| a == "--source").unwrap();
    args[at + 1] = "api".into();
    args
}

fn assert_same_outputs(a: &crate::common::Ran, a_dir: &str, b: &crate::common::Ran, b_dir: &str) {
    for file in OUTPUTS {
        assert_eq!(
            a.read(&format!("{a_dir}/{file}")),
            b.read(&format!("{b_dir}/{file}")),
            "{file}"
        );
    }
}

#[test]
fn api_run_on_the_global_listing_equals_the_snapshot_run() {
    let fake = demo_api();
    let api = Test::new()
        .api(&fake)
        .args(api_run_args())
        .args(["--fetch", "global", "--out", "out"])
        .run()
        .expect_code(0);
    let snapshot = Test::demo().run().expect_code(0);
    assert_same_outputs(&api, "out", &snapshot, "out");
    assert_eq!(api.stdout(), snapshot.stdout());
}

#[test]
fn fetch_twice_gives_the_same_bytes_and_replays_like_the_api_run() {
    let fake = demo_api();
    let ran = Test::new()
        .api(&fake)
        .args(["fetch", "--out", "snap"])
        .run()
        .expect_code(0);
    assert!(
        ran.stdout()
            .contains("fetched 10 account(s) and 47 number record(s)"),
        "{}",
        ran.stdout()
    );
    let first = ran.tree("snap");
    assert_eq!(first.len(), 2, "accounts.json and numbers.json");
    // Into the same folder again, and into a fresh one.
    let again = Test::new()
        .api(&fake)
        .args(["fetch", "--out", "snap", "--quiet"])
        .run()
        .expect_code(0);
    assert_eq!(again.tree("snap"), first);
    let snap = ran.path("snap");
    let ran_again = Test::new()
        .api(&fake)
        .args(["fetch", "--out", snap.to_str().unwrap()])
        .run()
        .expect_code(0);
    assert_eq!(ran_again.tree(""), Vec::new(), "nothing written elsewhere");
    assert_eq!(ran.tree("snap"), first);

    // The per-customer listing cannot see the demo's number of an unknown
    // customer; apart from that, the API run and its replay agree byte for byte.
    let api = Test::new()
        .api(&fake)
        .args(api_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    let mut replay_args = demo_run_args();
    let at = replay_args.iter().position(|a| a == "--source").unwrap();
    replay_args[at + 1] = snap.to_str().unwrap().into();
    let replay = Test::new()
        .args(replay_args)
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    assert_same_outputs(&api, "out", &replay, "out");
    assert!(api
        .read("out/summary.json")
        .contains("\"numbers_fetched\": 45"));
}

#[test]
fn customers_limit_the_fetch_and_a_foreign_one_is_named() {
    let fake = demo_api();
    let ran = Test::new()
        .api(&fake)
        .args(api_run_args())
        .args(["--customer", "MA_ACME0001", "--out", "out", "--dry-run"])
        .run()
        .expect_code(0);
    assert!(ran.stdout().contains("invoices 1 "), "{}", ran.stdout());
    // The accounts page, the customer's numbers, one more page because its
    // listing holds an identical duplicate (9 records, 8 distinct, total 9), and
    // its call records.
    assert_eq!(fake.requests(), 4);

    let ran = Test::new()
        .api(&fake)
        .args(["fetch", "--out", "snap", "--customer", "MA_NOTMINE"])
        .run()
        .expect_code(3);
    assert!(
        ran.stderr()
            .contains("customer MA_NOTMINE is not your customer"),
        "{}",
        ran.stderr()
    );
    assert!(!ran.path("snap").exists());
}

#[test]
fn refused_credentials_exit_3_and_the_token_appears_nowhere() {
    let fake = demo_api();
    let token = "tok-WRONG-a1b2c3d4e5";
    for args in [
        api_run_args(),
        vec!["fetch".into(), "--out".into(), "snap".into()],
        vec!["numbers".into()],
    ] {
        let ran = Test::new()
            .api(&fake)
            .env("VOBIZ_AUTH_TOKEN", token)
            .env("RUST_LOG", "trace")
            .args(args)
            .run()
            .expect_code(3);
        let stderr = ran.stderr();
        assert!(
            stderr.contains("401 Unauthorized")
                && stderr.contains("check VOBIZ_AUTH_ID / VOBIZ_AUTH_TOKEN"),
            "{stderr}"
        );
        assert!(stderr.contains("DEBUG"), "trace logging was on");
        for text in [&stderr, &ran.stdout()] {
            assert!(
                !text.contains(token) && !text.contains(DEMO_TOKEN),
                "{text}"
            );
        }
        assert_eq!(ran.tree(""), Vec::new(), "nothing written");
    }
}

#[test]
fn missing_credentials_and_plain_http_are_usage_errors() {
    let ran = Test::new().args(api_run_args()).run().expect_code(2);
    assert!(
        ran.stderr()
            .contains("set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN"),
        "{}",
        ran.stderr()
    );
    let ran = Test::new()
        .env("VOBIZ_AUTH_ID", "MA_P")
        .env("VOBIZ_AUTH_TOKEN", "secret-xyz")
        .args([
            "fetch",
            "--out",
            "snap",
            "--api-base",
            "http://api.vobiz.example/api/v1/partner",
        ])
        .run()
        .expect_code(2);
    assert!(
        ran.stderr().contains("refusing plain http://"),
        "{}",
        ran.stderr()
    );
    assert!(!ran.stderr().contains("secret-xyz"));
}

#[test]
fn an_api_that_keeps_failing_exits_3_and_writes_nothing() {
    // `Retry-After: 0` keeps the retries fast; the budget of attempts still runs out.
    let fake = FakeVobiz::from_dir(&demo_dir())
        .unwrap()
        .failures(1.0, 500u16.try_into().unwrap(), Some(0))
        .start(0)
        .unwrap();
    let run = Test::new()
        .api(&fake)
        .args(api_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(3);
    assert!(
        run.stderr().contains("gave up after 5 attempt(s)"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.tree(""), Vec::new(), "no outputs, no ledger");
    let fetch = Test::new()
        .api(&fake)
        .args(["fetch", "--out", "snap"])
        .run()
        .expect_code(3);
    assert_eq!(fetch.tree(""), Vec::new());
    assert_eq!(fake.requests(), 10);
}

#[test]
fn numbers_lists_the_same_inventory_from_the_api_and_a_snapshot() {
    let fake = demo_api();
    let from_api = Test::new()
        .api(&fake)
        .args(["numbers", "--fetch", "global", "--format", "csv"])
        .run()
        .expect_code(0);
    let demo = demo_dir();
    let from_dir = Test::new()
        .args([
            "numbers",
            "--source",
            demo.to_str().unwrap(),
            "--format",
            "csv",
        ])
        .run()
        .expect_code(0);
    assert_eq!(from_api.stdout(), from_dir.stdout());
    let csv = from_dir.stdout();
    assert!(csv.starts_with("customer_id,e164,number_id,status,application_id,currency,monthly_fee,setup_fee,next_billing_date,kyc_required,kyc_verified\n"));
    assert!(
        csv.contains("MA_ACME0001,+918041000001,5eed0000-0000-0000-0000-000000000001,active,app_ivr_main,INR,300.00,100.00,2026-12-10T06:30:00Z,false,true\n"),
        "{csv}"
    );
    // One line per distinct record: the identical duplicate is listed once.
    assert_eq!(csv.matches("+918041000008").count(), 1);

    // Search: sent to the API per customer, applied locally to a snapshot.
    let searched_api = Test::new()
        .api(&fake)
        .args(["numbers", "--search", "+91141200", "--format", "json"])
        .run()
        .expect_code(0);
    let searched_dir = Test::new()
        .args([
            "numbers",
            "--source",
            demo.to_str().unwrap(),
            "--search",
            "91141200",
        ])
        .args(["--format", "json"])
        .run()
        .expect_code(0);
    assert_eq!(searched_api.stdout(), searched_dir.stdout());
    let rows: serde_json::Value = serde_json::from_str(&searched_api.stdout()).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);

    let table = Test::new()
        .args([
            "numbers",
            "--source",
            demo.to_str().unwrap(),
            "--customer",
            "MA_KOCHI007",
        ])
        .run()
        .expect_code(0)
        .stdout();
    assert_eq!(table.lines().count(), 1 + 5, "{table}");
    assert!(table.starts_with("customer_id  e164"), "{table}");

    let bad = Test::new()
        .args([
            "numbers",
            "--source",
            demo.to_str().unwrap(),
            "--search",
            "80 4x1",
        ])
        .run()
        .expect_code(2);
    assert!(bad.stderr().contains("not digits"), "{}", bad.stderr());
}
