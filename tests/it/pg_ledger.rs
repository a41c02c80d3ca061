//! The ledger on PostgreSQL (`--ledger postgres://…`), against a real server: the
//! guarantees of the file ledger (`cli_ledger`) — identical outputs, idempotent
//! re-runs, exit 4 on changed content, append-only history, gap-free numbers under
//! concurrency, crash safety — and clear errors for unusable servers. Each test
//! gets its own database; see `common::pg` for how the server is found.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_gstr1::{billed_and_corrected_in, NOTE_ARGS};
use crate::cli_ledger::{
    customers, demo_args_on, edited_demo, leftovers, numbers_in, run_args, with_snapshot,
};
use crate::cli_send::{config as smtp_config, test_tls_config, Sink, PASSWORD};
use crate::common::{demo_dir, demo_run_args, pg, Ran, Test};
use serde_json::json;

/// The rows of `query` as text.
fn rows(db: &pg::Database, query: &str) -> Vec<Vec<String>> {
    db.sql(query)
}

/// Text rows from string slices, for comparisons.
fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[test]
fn the_demo_month_matches_the_file_ledger_byte_for_byte_and_a_rerun_adds_nothing() {
    let Some(db) = pg::fresh("demo_on_postgres") else {
        return;
    };
    let on_file = Test::demo().run().expect_code(0);
    let first = Test::demo()
        .env("DIDBILL_LEDGER", &db.url)
        .run()
        .expect_code(0);
    assert_eq!(first.tree("out"), on_file.tree("out"));
    assert!(
        first
            .stderr()
            .contains(&format!("created a new ledger {}", db.url)),
        "{}",
        first.stderr()
    );
    assert!(
        !first.path("didbill.sqlite").exists(),
        "no file ledger on the side"
    );
    assert_eq!(
        rows(&db, "SELECT kind, financial_year, last_seq FROM series"),
        table(&[&["invoice", "26-27", "11"]])
    );
    assert_eq!(
        rows(
            &db,
            "SELECT data_type FROM information_schema.columns
             WHERE table_name = 'invoices' AND column_name IN ('total', 'invoice_date')
             ORDER BY column_name"
        ),
        table(&[&["date"], &["numeric"]]),
        "money is NUMERIC, dates are DATE"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT number, total::text FROM invoices WHERE customer_id = 'MA_ACME0001'"
        ),
        table(&[&["DID/26-27/00001", "2301.57"]])
    );

    // The same month again, with the ledger named by DIDBILL_LEDGER.
    let again = first
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .env("DIDBILL_LEDGER", &db.url)
        .run()
        .expect_code(0);
    assert_eq!(again.tree("out"), on_file.tree("out"));
    assert_eq!(
        rows(
            &db,
            "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM invoices),
                    (SELECT count(*) FROM invoice_lines), (SELECT string_agg(state, ',') FROM runs)"
        ),
        table(&[&["1", "11", "37", "done"]])
    );
    assert!(leftovers(&again).is_empty());
}

#[test]
fn a_changed_rerun_stops_with_exit_4_and_changes_nothing() {
    let Some(db) = pg::fresh("conflict_on_postgres") else {
        return;
    };
    let first = Test::demo()
        .env("DIDBILL_LEDGER", &db.url)
        .run()
        .expect_code(0);
    let outputs = first.tree("out");
    let ran = edited_demo(first.then(), |items| {
        items[0]["monthly_fee"] = json!(350);
    })
    .args(demo_args_on("snap"))
    .env("DIDBILL_LEDGER", &db.url)
    .run()
    .expect_code(4);
    assert!(
        ran.stderr().contains("DID/26-27/00001 (MA_ACME0001 INR): line changed: rental +918041000001 2026-11-01..2026-11-30 350.00 (was rental +918041000001 2026-11-01..2026-11-30 300.00)"),
        "{}",
        ran.stderr()
    );
    assert_eq!(ran.tree("out"), outputs, "outputs untouched");
    assert_eq!(
        rows(&db, "SELECT count(*), max(seq) FROM invoices"),
        table(&[&["11", "11"]])
    );

    // With --issue-notes the difference becomes a debit note in its own series.
    let settled = ran
        .then()
        .args(demo_args_on("snap"))
        .args(["--ledger", &db.url, "--issue-notes"])
        .run()
        .expect_code(0);
    assert_eq!(
        rows(
            &db,
            "SELECT number, kind, subtotal::text, total::text FROM notes"
        ),
        table(&[&["DN/26-27/00001", "debit", "50.00", "59.00"]])
    );
    assert!(settled.path("out/pdf/DN-26-27-00001.pdf").exists());
    assert_eq!(
        rows(&db, "SELECT kind, last_seq FROM series ORDER BY kind"),
        table(&[&["debit", "1"], &["invoice", "11"]])
    );
}

#[test]
fn the_database_refuses_edits_deletes_gaps_and_counters_moving_back() {
    let Some(db) = pg::fresh("append_only_on_postgres") else {
        return;
    };
    let first = Test::demo()
        .env("DIDBILL_LEDGER", &db.url)
        .run()
        .expect_code(0);
    for (statement, refusal) in [
        (
            "UPDATE invoices SET total = 0",
            "issued invoices cannot be changed or deleted",
        ),
        (
            "DELETE FROM invoices",
            "issued invoices cannot be changed or deleted",
        ),
        (
            "TRUNCATE invoice_lines CASCADE",
            "issued invoice lines cannot be deleted",
        ),
        (
            "DELETE FROM setup_charges",
            "billed setup fees cannot be changed or deleted",
        ),
        (
            "UPDATE series SET last_seq = 5",
            "a series counter only moves forward, to the last number issued",
        ),
        ("DELETE FROM series", "series counters cannot be deleted"),
        (
            "INSERT INTO invoices (number, financial_year, seq, customer_id, customer_name,
                 customer_address, customer_gstin, place_of_supply, currency, period,
                 invoice_date, due_date, subtotal, cgst, sgst, igst, round_off, total,
                 content_hash, run_id, created_at)
             VALUES ('X/13', '26-27', 13, 'MA_X', '', '', '', '29', 'INR', '2026-10',
                 '2026-11-01', '2026-11-15', 1, 0, 0, 0, 0, 1, '', 1, '')",
            "invoice sequence numbers must be consecutive within a financial year",
        ),
        (
            "INSERT INTO invoices (number, financial_year, seq, customer_id, customer_name,
                 customer_address, customer_gstin, place_of_supply, currency, period,
                 invoice_date, due_date, subtotal, cgst, sgst, igst, round_off, total,
                 content_hash, run_id, created_at)
             VALUES ('X/12', '26-27', 12, 'MA_ACME0001', '', '', '', '29', 'INR', '2026-11',
                 '2026-12-01', '2026-12-16', 1, 0, 0, 0, 0, 1, '', 1, '')",
            "UNIQUE: one invoice per customer, currency and period that is not cancelled",
        ),
    ] {
        assert_eq!(db.refused(statement), refusal, "{statement}");
    }
    // A cancelled invoice keeps its number; the next run bills the customer anew.
    let cancelled = first
        .then()
        .args([
            "invoices",
            "cancel",
            "DID/26-27/00003",
            "--reason",
            "wrong entity",
        ])
        .env("DIDBILL_LEDGER", &db.url)
        .run()
        .expect_code(0);
    let rerun = cancelled
        .then()
        .args(demo_run_args())
        .args(["--out", "out", "--ledger", &db.url])
        .run()
        .expect_code(0);
    assert!(rerun.read("out/invoices.csv").contains("DID/26-27/00012"));
    assert!(!rerun.read("out/invoices.csv").contains("DID/26-27/00003,"));
    assert_eq!(
        db.refused(
            "INSERT INTO notes (number, kind, financial_year, seq, invoice_id, note_date, reason,
                 customer_name, customer_address, customer_gstin, place_of_supply, currency,
                 subtotal, cgst, sgst, igst, round_off, total, created_at)
             SELECT 'CN/1', 'credit', '26-27', 1, invoice_id, '2026-12-05', 'x', '', '', '',
                 '29', 'INR', 1, 0, 0, 0, 0, 1, '' FROM cancellations"
        ),
        "a cancelled invoice takes no notes"
    );
}

#[test]
fn eight_concurrent_customer_runs_share_one_gap_free_series() {
    let Some(db) = pg::fresh("concurrent_on_postgres") else {
        return;
    };
    const CUSTOMERS: usize = 40;
    let (accounts, numbers) = customers(CUSTOMERS);
    let test = with_snapshot(Test::new(), "snap", &accounts, &numbers);
    let dir = test.path().to_path_buf();
    let outputs = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|p| {
                let (dir, url) = (&dir, &db.url);
                s.spawn(move || {
                    let mut args = run_args("2026-11", &["--no-pdf", "--ledger", url]);
                    let at = args.iter().position(|a| a == "--out").unwrap() + 1;
                    args[at] = format!("out/part{p}");
                    for c in (1..=CUSTOMERS).filter(|c| c % 8 == p) {
                        args.extend(["--customer".into(), format!("MA_C{c:05}")]);
                    }
                    Command::new(env!("CARGO_BIN_EXE_didbill"))
                        .current_dir(dir)
                        .args(args)
                        .output()
                        .unwrap()
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    let mut all: Vec<u64> = Vec::new();
    for (p, out) in outputs.iter().enumerate() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = std::fs::read_to_string(dir.join(format!("out/part{p}/invoices.csv"))).unwrap();
        let seqs: Vec<u64> = numbers_in(&csv)
            .iter()
            .map(|n| n.strip_prefix("DID/26-27/").unwrap().parse().unwrap())
            .collect();
        assert_eq!(seqs.len(), CUSTOMERS / 8, "part {p}");
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "part {p}: one block"
        );
        all.extend(seqs);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=CUSTOMERS as u64).collect::<Vec<_>>());
    assert_eq!(
        rows(
            &db,
            "SELECT count(*), count(DISTINCT number), max(seq), (SELECT last_seq FROM series),
                    (SELECT count(*) FROM runs WHERE state = 'done')
             FROM invoices"
        ),
        table(&[&["40", "40", "40", "40", "8"]])
    );
}

/// Sends `signal` (`STOP`, `KILL`) to process `pid`.
fn signal(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} {pid}");
}

#[test]
fn a_run_rendering_pdfs_holds_only_its_period_and_a_kill_then_leaves_it_to_the_next_run() {
    let Some(db) = pg::fresh("sigkill_on_postgres") else {
        return;
    };
    const CUSTOMERS: usize = 300;
    let (accounts, numbers) = customers(CUSTOMERS);
    let test = with_snapshot(Test::new(), "snap", &accounts, &numbers);
    let dir = test.path().to_path_buf();
    let mut child = Command::new(env!("CARGO_BIN_EXE_didbill"))
        .current_dir(&dir)
        .args(run_args("2026-11", &["--ledger", &db.url]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = dir.join(format!("out/.2026-11.didbill-tmp-{}/pdf", child.id()));
    let rendering = (0..3000).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        std::fs::read_dir(&staging).is_ok_and(|mut pdfs| pdfs.next().is_some())
    });
    assert!(rendering, "the run reached its PDFs");
    // Frozen while it renders: its invoices are committed and its run is recorded
    // as rendering; it holds its run's lock and its period's, not the ledger's.
    signal(child.id(), "STOP");
    assert_eq!(
        rows(
            &db,
            "SELECT count(*) FROM invoices
             UNION ALL SELECT count(*) FROM runs WHERE state = 'rendering'"
        ),
        table(&[&["300"], &["1"]])
    );
    assert_eq!(
        rows(
            &db,
            "SELECT to_hex(classid::int), objid, objsubid FROM pg_locks
             WHERE locktype = 'advisory' AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             ORDER BY classid, objid"
        ),
        table(&[&["44494442", "1", "2"], &["44494450", "202611", "2"]]),
        "the run's lock and its period's"
    );
    // Another month's run takes the next numbers at once, and the ledger lists.
    let october = with_snapshot(Test::new(), "snap", &accounts, &numbers)
        .args(run_args("2026-10", &["--ledger", &db.url, "--no-pdf"]))
        .run()
        .expect_code(0);
    let october_numbers = numbers_in(&october.read("out/2026-10/invoices.csv"));
    assert_eq!(october_numbers.first().unwrap(), "DID/26-27/00301");
    let listed = october
        .then()
        .args(["invoices", "list", "--period", "2026-11", "--format", "csv"])
        .args(["--ledger", &db.url])
        .run()
        .expect_code(0);
    assert_eq!(listed.stdout().lines().count(), CUSTOMERS + 1);

    // A second run of the month, on another machine (its own output folder), waits
    // for the period's lock; once the first dies, it completes the month.
    let mut elsewhere = run_args("2026-11", &["--ledger", &db.url]);
    let out_at = elsewhere.iter().position(|a| a == "--out").unwrap() + 1;
    elsewhere[out_at] = "elsewhere/2026-11".into();
    let second = Command::new(env!("CARGO_BIN_EXE_didbill"))
        .current_dir(&dir)
        .args(&elsewhere)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = (0..1500).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        rows(
            &db,
            "SELECT count(*) FROM pg_locks
             WHERE locktype = 'advisory' AND NOT granted AND objid = 202611",
        ) == table(&[&["1"]])
    });
    assert!(waiting, "the second run waits for the month's lock");
    signal(child.id(), "KILL");
    child.wait().unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        std::fs::read_dir(dir.join("elsewhere/2026-11/pdf"))
            .unwrap()
            .count(),
        CUSTOMERS
    );
    assert!(
        !dir.join("out/2026-11").exists(),
        "no output of the killed run in place"
    );
    // A run in the killed run's own folder reuses the invoices too, and tidies it.
    let finished = test
        .args(run_args("2026-11", &["--ledger", &db.url]))
        .run()
        .expect_code(0);
    let numbers = numbers_in(&finished.read("out/2026-11/invoices.csv"));
    assert_eq!(numbers.len(), CUSTOMERS);
    assert_eq!(numbers.last().unwrap(), "DID/26-27/00300");
    assert_eq!(
        std::fs::read_dir(finished.path("out/2026-11/pdf"))
            .unwrap()
            .count(),
        CUSTOMERS
    );
    assert_eq!(
        rows(
            &db,
            "SELECT count(*), max(seq),
                    (SELECT string_agg(state, ' ' ORDER BY id) FROM runs)
             FROM invoices"
        ),
        table(&[&["600", "600", "recovered done"]])
    );
    assert!(leftovers(&finished).is_empty());
}

#[test]
fn a_run_interrupted_after_its_commit_is_found_by_its_free_run_lock_and_recovered() {
    let Some(db) = pg::fresh("interrupted_on_postgres") else {
        return;
    };
    let first = Test::demo()
        .env("DIDBILL_LEDGER", &db.url)
        .run()
        .expect_code(0);
    let outputs = first.tree("out");
    // The crash window: committed, outputs not in place, no process holding the run.
    db.connect()
        .batch_execute("UPDATE runs SET state = 'rendering', finished_at = NULL")
        .unwrap();
    std::fs::remove_dir_all(first.path("out")).unwrap();
    let recovered = first
        .then()
        .args(demo_run_args())
        .args(["--out", "out", "--ledger", &db.url])
        .run()
        .expect_code(0);
    assert!(
        recovered.stderr().contains(
            "run #1 of 2026-11 was interrupted before its outputs were written; this run writes its 11 invoice(s)"
        ),
        "{}",
        recovered.stderr()
    );
    assert_eq!(recovered.tree("out"), outputs);
    assert_eq!(
        rows(&db, "SELECT id, state FROM runs ORDER BY id"),
        table(&[&["1", "recovered"]])
    );
}

#[test]
fn unusable_servers_and_databases_fail_with_exit_1_naming_the_url_without_its_password() {
    let Some(db) = pg::fresh("bad_postgres") else {
        return;
    };
    let host_port = db
        .url
        .strip_prefix("postgres://")
        .and_then(|rest| rest.split_once('@'))
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(hp, _)| hp.to_owned())
        .unwrap();
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    let wrong = format!("postgres://{user}:Sekr1t-wrong@{host_port}/postgres");
    let shown = format!("postgres://{user}@{host_port}/postgres");
    db.connect()
        .batch_execute("CREATE TABLE somebody_elses (x int)")
        .unwrap();
    let cases = [
        (wrong.clone(), format!("ledger {shown}: the server refused user {user}'s password")),
        (
            format!("postgres://{user}:Sekr1t-wrong@{host_port}"),
            format!(
                "ledger postgres://{user}@{host_port}: names no database; write postgres://USER@HOST:PORT/DATABASE"
            ),
        ),
        (
            format!("postgres://{user}@127.0.0.1:1/books"),
            format!("ledger postgres://{user}@127.0.0.1:1/books: cannot connect: error connecting to server"),
        ),
        (
            format!("postgres://{user}@{host_port}/no_such_db_here"),
            "the database does not exist; create it first".into(),
        ),
        (
            db.url.clone(),
            "holds 1 table(s) but is not a didbill ledger".into(),
        ),
    ];
    for (url, message) in cases {
        let ran = Test::demo().args(["--ledger", &url]).run().expect_code(1);
        assert!(ran.stderr().contains(&message), "{url}: {}", ran.stderr());
        assert!(!ran.stderr().contains("Sekr1t"), "{}", ran.stderr());
        assert!(!ran.stdout().contains("Sekr1t"));
        assert!(!ran.path("out").exists(), "{url}: nothing written");
    }

    // A ledger written by a newer didbill is refused, not guessed at.
    let newer = pg::fresh("newer_postgres").unwrap();
    Test::demo()
        .args(["--ledger", &newer.url, "--no-pdf"])
        .run()
        .expect_code(0);
    newer
        .connect()
        .batch_execute("UPDATE didbill_ledger SET version = 99")
        .unwrap();
    let ran = Test::demo()
        .args(["--ledger", &newer.url])
        .run()
        .expect_code(1);
    assert!(
        ran.stderr()
            .contains("was written by a newer didbill (schema version 99"),
        "{}",
        ran.stderr()
    );
    let list = Test::new()
        .args(["invoices", "list", "--ledger", &newer.url])
        .run()
        .expect_code(1);
    assert!(
        list.stderr()
            .contains("was written by a newer didbill (schema version 99"),
        "{}",
        list.stderr()
    );
    // What only reads a ledger does not make one of an empty database.
    let empty = pg::fresh("empty_postgres").unwrap();
    for args in [
        &["invoices", "list"][..],
        &["ledger", "verify"],
        &["gstr1", "--period", "2026-11"],
    ] {
        let ran = Test::new()
            .args(args.iter().copied())
            .args(["--ledger", &empty.url])
            .run()
            .expect_code(1);
        assert!(
            ran.stderr().contains(&format!(
                "ledger {}: is not a didbill ledger yet (it has no tables)",
                empty.url
            )),
            "{args:?}: {}",
            ran.stderr()
        );
    }
    assert_eq!(
        empty.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
        table(&[&["0"]])
    );
}

/// `didbill ledger copy --from FROM --to TO`.
fn copy_args<'a>(from: &'a str, to: &'a str) -> [&'a str; 6] {
    ["ledger", "copy", "--from", from, "--to", to]
}

/// Runs `args` in `test`'s directory, expecting exit 0: its stdout, and the
/// directory for the next run.
fn stdout_of(test: Test, args: &[&str]) -> (String, Test) {
    let ran = test.args(args.iter().copied()).run().expect_code(0);
    (ran.stdout(), ran.then())
}

#[test]
fn listings_returns_and_verification_read_the_same_on_both_backends() {
    let Some(db) = pg::fresh("reads_on_postgres") else {
        return;
    };
    // The GSTR-1 test month (invoices, two credit notes, a debit note, a
    // cancellation and its re-issue) on a file, and again on PostgreSQL.
    let mut on_file = billed_and_corrected_in(Test::new());
    // A server whose dates print day first must not change what is read.
    let name = db.url.rsplit('/').next().unwrap();
    db.sql(&format!("ALTER DATABASE {name} SET datestyle = 'SQL, DMY'"));
    let mut on_pg = billed_and_corrected_in(Test::new().keep_env("DIDBILL_LEDGER", &db.url));
    assert!(!on_pg.path().join("didbill.sqlite").exists());
    assert_eq!(
        rows(
            &db,
            "SELECT (SELECT count(*) FROM invoices), (SELECT count(*) FROM notes),
                    (SELECT count(*) FROM cancellations)"
        ),
        table(&[&["9", "3", "1"]])
    );
    for args in [
        &["invoices", "list"][..],
        &["invoices", "list", "--format", "csv"],
        &[
            "invoices", "list", "--format", "json", "--period", "2026-11",
        ],
        &[
            "invoices",
            "list",
            "--customer",
            "MA_B2BMH02",
            "--format",
            "json",
        ],
        &["invoices", "show", "DID/26-27/00002"],
        &[
            "invoices",
            "show",
            "DID-26-27-00005.pdf",
            "--format",
            "json",
        ],
        &["invoices", "show", "DID/26-27/00006", "--format", "csv"],
        &["invoices", "show", "DID/26-27/00003", "--format", "json"],
    ] {
        let (file_out, next) = stdout_of(on_file, args);
        on_file = next;
        let (pg_out, next) = stdout_of(on_pg, args);
        on_pg = next;
        assert!(pg_out.len() > 100, "{args:?}: {pg_out}");
        assert_eq!(pg_out, file_out, "{args:?}");
    }
    let gstr1 = ["gstr1", "--period", "2026-11", "--config", "cfg.toml"];
    let (file_out, on_file) = stdout_of(on_file, &gstr1);
    let (pg_out, on_pg) = stdout_of(on_pg, &gstr1);
    assert_eq!(pg_out, file_out);
    let returns =
        |test: &Test| std::fs::read(test.path().join("gstr1/2026-11/gstr1.json")).unwrap();
    assert_eq!(returns(&on_pg), returns(&on_file));
    let golden = std::fs::read(crate::common::repo().join("fixtures/gstr1/expected/gstr1.json"));
    assert_eq!(returns(&on_pg), golden.unwrap());

    let (verified, _) = stdout_of(on_pg, &["ledger", "verify"]);
    assert_eq!(
        verified,
        format!(
            "ledger {} (schema version 3): 9 invoice(s) in 1 financial year(s), 2 credit \
             note(s), 1 debit note(s), 1 cancellation(s)\n\
             ok: every series gap-free and in order, every content hash matches, the \
             append-only guards in place\n",
            db.url
        )
    );
}

#[test]
fn verify_names_an_edit_made_behind_the_guards_and_a_dropped_guard() {
    let Some(db) = pg::fresh("verify_on_postgres") else {
        return;
    };
    let first = Test::demo()
        .args(["--ledger", &db.url, "--no-pdf"])
        .run()
        .expect_code(0);
    db.sql(
        "ALTER TABLE invoice_lines DISABLE TRIGGER invoice_lines_append_only;
         UPDATE invoice_lines SET amount = amount + 1
             WHERE invoice_id = (SELECT id FROM invoices WHERE seq = 2);
         DROP TRIGGER invoices_no_truncate ON invoices;",
    );
    let ran = first
        .then()
        .args(["ledger", "verify", "--ledger", &db.url])
        .run()
        .expect_code(1);
    let out = ran.stdout();
    assert!(
        out.contains("problem: the guard invoices_no_truncate is missing")
            && out.contains("problem: invoice DID/26-27/00002: its lines and amounts do not match")
            && out.contains("2 problem(s) found"),
        "{out}"
    );
    assert!(
        ran.stderr()
            .contains("2 problem(s) found by `didbill ledger verify`"),
        "{}",
        ran.stderr()
    );
}

#[test]
fn a_ledger_file_copied_into_postgresql_reads_the_same_and_carries_on_its_series() {
    let Some(db) = pg::fresh("copy_to_postgres") else {
        return;
    };
    // Invoices, notes, a cancellation whose invoice was issued again under the same
    // customer and period, and a delivery accepted by the mail server.
    let on_file = billed_and_corrected_in(Test::new());
    let ledger = on_file.path().join("didbill.sqlite");
    rusqlite::Connection::open(&ledger)
        .unwrap()
        .execute_batch(
            "INSERT INTO outbox (document_kind, document_number, attempt, message_id,
                 recipients, attachment_sha256, resend, state, tries, reply_code, reply_text,
                 started_at, finished_at)
             VALUES ('invoice', 'DID/26-27/00001', 1, '<m1@didbill>', 'a@example.in', 'ab',
                 0, 'accepted', 1, 250, 'OK', '2026-12-02T10:00:00Z', '2026-12-02T10:00:01Z')",
        )
        .unwrap();
    let copied = on_file
        .args(copy_args("didbill.sqlite", &db.url))
        .run()
        .expect_code(0);
    assert_eq!(
        copied.stdout(),
        format!(
            "copied didbill.sqlite to {}: 2 run(s), 9 invoice(s) with 9 line(s), 0 setup \
             fee(s), 1 cancellation(s), 3 note(s) with 3 line(s), 1 delivery attempt(s)\n\
             checked: every invoice's content hash matches the file's, every series counter \
             stands at its last number, and `didbill ledger verify` finds no problem\n",
            db.url
        )
    );
    assert_eq!(
        rows(
            &db,
            "SELECT kind, financial_year, last_seq FROM series ORDER BY kind"
        ),
        table(&[
            &["credit", "26-27", "2"],
            &["debit", "26-27", "1"],
            &["invoice", "26-27", "9"]
        ])
    );
    let mut on_file = copied.then();
    for args in [
        &["invoices", "list", "--format", "csv"][..],
        &["invoices", "show", "DID/26-27/00002", "--format", "json"],
        &["gstr1", "--period", "2026-11", "--config", "cfg.toml"],
    ] {
        let (file_out, next) = stdout_of(on_file, args);
        let (pg_out, next) = stdout_of(next.env("DIDBILL_LEDGER", &db.url), args);
        on_file = next;
        assert_eq!(pg_out, file_out, "{args:?}");
    }
    let (listed, next) = stdout_of(
        on_file.env("DIDBILL_LEDGER", &db.url),
        &["invoices", "list"],
    );
    assert!(
        listed.lines().nth(1).unwrap().ends_with("accepted"),
        "{listed}"
    );
    // The database carries on where the file stopped.
    let (issued, kept) = stdout_of(
        next.env("DIDBILL_LEDGER", &db.url),
        &[
            "note",
            "credit",
            "--invoice",
            "DID/26-27/00001",
            "--amount",
            "10",
            "--reason",
            "Goodwill",
        ]
        .into_iter()
        .chain(NOTE_ARGS)
        .collect::<Vec<_>>(),
    );
    assert!(issued.contains("CN/26-27/00003"), "{issued}");
    assert_eq!(
        rows(&db, "SELECT max(id) FROM notes"),
        table(&[&["4"]]),
        "new rows take ids after the copied ones"
    );

    // A second copy into the same database is refused, and changes nothing.
    let again = kept
        .args(copy_args("didbill.sqlite", &db.url))
        .run()
        .expect_code(1);
    assert!(
        again
            .stderr()
            .contains("already holds 16 row(s) of runs, invoices, notes or deliveries"),
        "{}",
        again.stderr()
    );
    assert_eq!(rows(&db, "SELECT count(*) FROM invoices"), table(&[&["9"]]));
}

#[test]
fn a_copy_refuses_a_damaged_file_a_file_target_and_a_missing_file() {
    let Some(db) = pg::fresh("copy_refusals") else {
        return;
    };
    let first = Test::demo().args(["--no-pdf"]).run().expect_code(0);
    let conn = rusqlite::Connection::open(first.path("didbill.sqlite")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER invoice_lines_no_update;
         UPDATE invoice_lines SET amount = '1.00' WHERE invoice_id = 3;",
    )
    .unwrap();
    drop(conn);
    let test = first.then();
    let ran = test
        .args(copy_args("didbill.sqlite", &db.url))
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains(
            "ledger didbill.sqlite: has 2 problem(s) (`didbill ledger verify --ledger \
             didbill.sqlite` lists them); nothing was copied"
        ),
        "{}",
        ran.stderr()
    );
    assert_eq!(
        rows(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        table(&[&["0"]]),
        "nothing created"
    );
    let to_file = ran
        .then()
        .args(copy_args("didbill.sqlite", "other.sqlite"))
        .run()
        .expect_code(2);
    assert!(
        to_file
            .stderr()
            .contains("--to other.sqlite: a ledger is copied into PostgreSQL"),
        "{}",
        to_file.stderr()
    );
    let from_url = to_file
        .then()
        .args(copy_args("postgres://alice:Sekr1t@db/l", &db.url))
        .run()
        .expect_code(2);
    assert!(
        from_url.stderr().contains("--from takes a ledger file")
            && !from_url.stderr().contains("Sekr1t"),
        "{}",
        from_url.stderr()
    );
    let missing = from_url
        .then()
        .args(copy_args("nowhere.sqlite", &db.url))
        .run()
        .expect_code(1);
    assert!(
        missing.stderr().contains("nowhere.sqlite: does not exist"),
        "{}",
        missing.stderr()
    );
}

#[test]
fn after_a_copy_the_month_runs_again_on_postgresql_without_a_new_row() {
    let Some(db) = pg::fresh("copy_then_rerun") else {
        return;
    };
    let on_file = Test::demo().run().expect_code(0);
    let outputs = on_file.tree("out");
    let copied = on_file
        .then()
        .args(copy_args("didbill.sqlite", &db.url))
        .run()
        .expect_code(0);
    let setups = rows(&db, "SELECT count(*) FROM setup_charges");
    assert_ne!(setups, table(&[&["0"]]), "the demo bills setup fees");
    let again = copied
        .then()
        .args(demo_run_args())
        .args(["--out", "out", "--ledger", &db.url])
        .run()
        .expect_code(0);
    assert_eq!(again.tree("out"), outputs);
    assert_eq!(
        rows(
            &db,
            "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM invoices)"
        ),
        table(&[&["1", "11"]]),
        "the copied invoices are reused as issued"
    );
    assert_eq!(rows(&db, "SELECT count(*) FROM setup_charges"), setups);
}

#[test]
fn send_keeps_its_outbox_in_the_database() {
    let Some(db) = pg::fresh("send_on_postgres") else {
        return;
    };
    let sink = Sink::start();
    let billed = Test::demo_configured(smtp_config(sink.port, ""))
        .keep_env("DIDBILL_LEDGER", &db.url)
        .run()
        .expect_code(0);
    let send = |ran: Ran| {
        ran.then()
            .args([
                "send", "--period", "2026-11", "--config", "cfg.toml", "--source",
            ])
            .arg(demo_dir().to_str().unwrap())
            .env("DIDBILL_SMTP_PASSWORD", PASSWORD)
            .run()
    };
    let sent = send(billed).expect_code(0);
    assert!(
        sent.stdout()
            .contains("11 sent, 0 not sent, 0 accepted before\n"),
        "{}",
        sent.stdout()
    );
    assert_eq!(sink.received().len(), 11);
    assert!(
        !sent.path("didbill.sqlite").exists(),
        "no file ledger on the side"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT count(*), string_agg(DISTINCT state, ','), min(attempt), max(reply_code)
             FROM outbox"
        ),
        table(&[&["11", "accepted", "1", "250"]])
    );
    // The database remembers: a second send hands nothing over.
    let again = send(sent).expect_code(0);
    assert_eq!(again.stdout(), "0 sent, 0 not sent, 11 accepted before\n");
    assert_eq!(sink.received().len(), 11);
    let listed = again
        .then()
        .args(["invoices", "list", "--format", "csv"])
        .run()
        .expect_code(0);
    let rows_listed: Vec<String> = listed.stdout().lines().skip(1).map(str::to_owned).collect();
    assert_eq!(rows_listed.len(), 11);
    assert!(
        rows_listed.iter().all(|l| l.ends_with(",accepted")),
        "{rows_listed:?}"
    );
}

/// This machine's address on its route outwards (found without sending anything),
/// if it has one that is not a loopback address.
fn outside_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // TEST-NET-1: a UDP "connect" only picks the route.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn a_server_off_this_machine_is_reached_only_over_tls_with_a_trusted_certificate() {
    use std::io::{Read, Write};
    let Some(ip) = outside_address() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs a non-loopback address for the TLS test"
        );
        eprintln!("SKIPPED: this machine has no address but loopback");
        return;
    };
    // A server on this machine's outside address that accepts TLS with a
    // certificate no system trusts, and records what the client sent first.
    let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut first = [0u8; 8];
        socket.read_exact(&mut first).unwrap();
        socket.write_all(b"S").unwrap();
        let mut tls =
            rustls::ServerConnection::new(std::sync::Arc::new(test_tls_config())).unwrap();
        let mut stream = rustls::Stream::new(&mut tls, &mut socket);
        // Drives the handshake until the client refuses the certificate.
        let _ = stream.read(&mut [0u8; 1]);
        first
    });
    let url = format!("postgres://billing@{ip}:{port}/books");
    let ran = Test::demo()
        .args(["--ledger", &url])
        .env("PGPASSWORD", "not-sent")
        .run()
        .expect_code(1);
    assert!(
        ran.stderr()
            .contains(&format!("ledger {url}: cannot connect"))
            && ran.stderr().contains("invalid peer certificate"),
        "{}",
        ran.stderr()
    );
    // PostgreSQL's SSLRequest (length 8, code 80877103): TLS before anything else,
    // so no user name or password went out in the clear.
    assert_eq!(server.join().unwrap(), [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    assert!(!ran.path("out").exists());
}
