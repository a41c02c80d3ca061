//! Credit notes, debit notes and cancellations (`didbill note`, `didbill invoices
//! cancel`) against the demo's issued invoices.
//!
//! The demo's DID/26-27/00001 (MA_ACME0001, Karnataka, intra-state) totals
//! 2301.57 INR; its line 2 is a 300.00 rental. DID/26-27/00004 (MA_DELHI004,
//! Delhi, inter-state) is one 600.00 line, 708.00 with IGST.

use std::process::Command;

use crate::common::{demo_config_text, demo_configured_args, demo_dir, Ran, Test};

/// The demo, issued for real into `out/` with `cfg.toml`.
fn issued() -> Ran {
    Test::demo_configured(demo_config_text())
        .run()
        .expect_code(0)
}

/// `didbill note KIND --invoice INVOICE ARGS… --config cfg.toml --out out`, as of 2028.
fn note(ran: Ran, kind: &str, invoice: &str, args: &[&str]) -> Ran {
    ran.then()
        .args(["note", kind, "--invoice", invoice])
        .args(args.iter().copied())
        .args([
            "--as-of",
            "2028-06-01T00:00:00Z",
            "--config",
            "cfg.toml",
            "--out",
            "out",
        ])
        .run()
}

fn notes_csv_rows(ran: &Ran) -> Vec<String> {
    ran.read("out/notes.csv")
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

const NOTES_HEADER: &str = "note_number,note_type,note_date,original_invoice_number,\
original_invoice_date,customer_id,customer_name,customer_gstin,place_of_supply,currency,reason,\
lines,subtotal,cgst,sgst,igst,round_off,total";

#[test]
fn partial_and_full_credit_notes_add_up_to_the_invoice_total_and_no_more() {
    let ran = issued();
    let ran = note(
        ran,
        "credit",
        "DID/26-27/00001",
        &[
            "--line",
            "2",
            "--reason",
            "Number released early",
            "--date",
            "2026-12-05",
        ],
    )
    .expect_code(0);
    assert!(
        ran.stdout().starts_with(
            "issued credit note CN/26-27/00001 against invoice DID/26-27/00001 (2026-12-01): \
             taxable value 300.00, GST 54.00, total 354.00 INR"
        ),
        "{}",
        ran.stdout()
    );
    // A credit by amount: GST added as on the invoice (CGST + SGST), each rounded once.
    let ran = note(
        ran,
        "credit",
        "DID/26-27/00001",
        &[
            "--amount",
            "1000.05",
            "--reason",
            "Goodwill",
            "--date",
            "2026-12-06",
        ],
    )
    .expect_code(0);
    // 1000.05 × 9% = 90.0045 → 90.00 twice: 1180.05. Left: 2301.57 − 354.00 − 1180.05
    // = 767.52, and 650.45 + 2 × 58.54 = 767.53 is too much.
    let over = note(
        ran,
        "credit",
        "DID/26-27/00001",
        &[
            "--amount",
            "650.45",
            "--reason",
            "Too much",
            "--date",
            "2026-12-07",
        ],
    )
    .expect_code(1);
    assert!(
        over.stderr()
            .contains("invoice DID/26-27/00001 (total 2301.57 INR) has 767.52 INR left to credit"),
        "{}",
        over.stderr()
    );
    // Exactly what is left (650.44 + 58.54 + 58.54 = 767.52) is allowed.
    let ran = note(
        over,
        "credit",
        "DID/26-27/00001",
        &[
            "--amount",
            "650.44",
            "--reason",
            "Rest",
            "--date",
            "2026-12-07",
        ],
    )
    .expect_code(0);
    // A full credit of a one-line inter-state invoice: IGST, the invoice's treatment.
    let ran = note(
        ran,
        "credit",
        "DID/26-27/00004",
        &[
            "--line",
            "1",
            "--reason",
            "Wrong customer",
            "--date",
            "2026-12-08",
        ],
    )
    .expect_code(0);
    let full = note(
        ran,
        "credit",
        "DID/26-27/00004",
        &[
            "--amount",
            "0.01",
            "--reason",
            "More",
            "--date",
            "2026-12-08",
        ],
    )
    .expect_code(1);
    assert!(
        full.stderr().contains("has 0.00 INR left to credit"),
        "{}",
        full.stderr()
    );

    let csv = full.read("out/notes.csv");
    assert_eq!(
        csv,
        format!(
            "{NOTES_HEADER}\n\
CN/26-27/00001,credit,2026-12-05,DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,29AAACA1234A1ZG,29,INR,Number released early,1,300.00,27.00,27.00,0.00,0.00,354.00\n\
CN/26-27/00002,credit,2026-12-06,DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,29AAACA1234A1ZG,29,INR,Goodwill,1,1000.05,90.00,90.00,0.00,0.00,1180.05\n\
CN/26-27/00003,credit,2026-12-07,DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,29AAACA1234A1ZG,29,INR,Rest,1,650.44,58.54,58.54,0.00,0.00,767.52\n\
CN/26-27/00004,credit,2026-12-08,DID/26-27/00004,2026-12-01,MA_DELHI004,Delhi Retail Hub,07AABCD4321E1Z8,07,INR,Wrong customer,1,600.00,0.00,0.00,108.00,0.00,708.00\n"
        )
    );
    let lines = full.read("out/note_lines.csv");
    assert!(lines.starts_with(
        "note_number,invoice_number,invoice_date,customer_id,customer_name,currency,number_id,\
         e164,charge,service_from,service_to,billable_days,period_days,unit_amount,amount,description\n\
         CN/26-27/00001,DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,INR,"
    ), "{lines}");
    assert!(
        lines.contains(",+918041000002,rental,2026-11-01,2026-11-30,30,30,300.00,300.00,rental\n"),
        "{lines}"
    );
    assert!(
        lines.contains(
            "CN/26-27/00002,DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,INR,,,\
             adjustment,2026-11-01,2026-11-30,,,,1000.05,Goodwill\n"
        ),
        "{lines}"
    );

    // `invoices show` lists the notes and the net amount (nothing left).
    let shown = full
        .then()
        .args(["invoices", "show", "DID/26-27/00001"])
        .run()
        .expect_code(0);
    let text = shown.stdout();
    assert!(
        text.contains("CN/26-27/00003  credit  2026-12-07    650.44   767.52  Rest"),
        "{text}"
    );
    assert!(
        text.contains("net (total − credit notes + debit notes)  0.00\n"),
        "{text}"
    );
    assert!(text.contains("\n  2  +918041000002  rental"), "{text}");
    let listed = shown.then().args(["invoices", "list"]).run().expect_code(0);
    assert!(
        listed
            .stdout()
            .contains("issued  CN/26-27/00001 (unsent) CN/26-27/00002 (unsent) CN/26-27/00003 (unsent)  unsent\n"),
        "{}",
        listed.stdout()
    );
}

#[test]
fn the_credit_deadline_is_30_november_after_the_financial_year_and_each_year_has_its_series() {
    let mut ran = issued();
    let credit = |ran: Ran, date: &str| {
        note(
            ran,
            "credit",
            "DID/26-27/00001",
            &["--amount", "1", "--reason", "Discount", "--date", date],
        )
    };
    for (date, number) in [
        ("2027-03-31", "CN/26-27/00001"),
        ("2027-04-01", "CN/27-28/00001"),
        ("2027-11-29", "CN/27-28/00002"),
        ("2027-11-30", "CN/27-28/00003"),
    ] {
        ran = credit(ran, date).expect_code(0);
        assert!(
            ran.stdout().contains(&format!("credit note {number} ")),
            "{date}: {}",
            ran.stdout()
        );
    }
    let late = credit(ran, "2027-12-01").expect_code(1);
    assert!(
        late.stderr()
            .contains("must be issued by 2027-11-30 (CGST Act s.34(2)"),
        "{}",
        late.stderr()
    );
    // The refusal used no number; debit notes have no deadline.
    let ran = credit(late, "2027-11-30").expect_code(0);
    assert!(
        ran.stdout().contains("credit note CN/27-28/00004 "),
        "{}",
        ran.stdout()
    );
    let ran = note(
        ran,
        "debit",
        "DID/26-27/00001",
        &[
            "--amount",
            "10",
            "--description",
            "Late calls",
            "--reason",
            "CDRs",
            "--date",
            "2028-01-15",
        ],
    )
    .expect_code(0);
    assert!(
        ran.stdout().contains("debit note DN/27-28/00001 "),
        "{}",
        ran.stdout()
    );
    let numbers: Vec<String> = notes_csv_rows(&ran)
        .iter()
        .map(|r| r.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        numbers,
        [
            "CN/26-27/00001",
            "CN/27-28/00001",
            "CN/27-28/00002",
            "CN/27-28/00003",
            "CN/27-28/00004",
            "DN/27-28/00001"
        ]
    );
}

#[test]
fn bad_note_input_is_refused_with_nothing_written_and_no_number_used() {
    let mut ran = issued();
    let cases: [(&[&str], i32, &str); 8] = [
        (
            &[
                "--invoice",
                "DID/26-27/00099",
                "--line",
                "1",
                "--reason",
                "x",
            ],
            1,
            "invoice DID/26-27/00099 is not in the ledger",
        ),
        (
            &[
                "--invoice",
                "DID/26-27/00001",
                "--line",
                "9",
                "--reason",
                "x",
            ],
            2,
            "--line 9: invoice DID/26-27/00001 has lines 1 to 8",
        ),
        (
            &[
                "--invoice",
                "DID/26-27/00001",
                "--amount",
                "1.005",
                "--reason",
                "x",
            ],
            2,
            "at most 2 decimals",
        ),
        (
            &[
                "--invoice",
                "DID/26-27/00001",
                "--amount",
                "0",
                "--reason",
                "x",
            ],
            2,
            "above zero",
        ),
        (
            &[
                "--invoice",
                "DID/26-27/00001",
                "--amount=-5",
                "--reason",
                "x",
            ],
            2,
            "above zero",
        ),
        (
            &[
                "--invoice",
                "DID/26-27/00001",
                "--amount",
                "5",
                "--reason",
                " ",
            ],
            2,
            "--reason",
        ),
        (
            &[
                "--invoice",
                "DID/26-27/00001",
                "--amount",
                "5",
                "--reason",
                "x",
                "--date",
                "2026-11-30",
            ],
            1,
            "dated before invoice DID/26-27/00001",
        ),
        (
            &[
                "--invoice",
                "DID/26-27/00001",
                "--amount",
                "5",
                "--reason",
                "x",
                "--date",
                "2028-06-02",
            ],
            2,
            "after the as-of date",
        ),
    ];
    for (args, code, needle) in cases {
        let refused = ran
            .then()
            .args(["note", "credit"])
            .args(args.iter().copied())
            .args([
                "--as-of",
                "2028-06-01T00:00:00Z",
                "--config",
                "cfg.toml",
                "--out",
                "out",
            ])
            .run()
            .expect_code(code);
        assert!(
            refused.stderr().contains(needle),
            "{args:?}: {}",
            refused.stderr()
        );
        assert!(!refused.path("out/notes.csv").exists(), "{args:?}");
        ran = refused;
    }
    let ran = note(
        ran,
        "credit",
        "DID/26-27/00001",
        &["--amount", "5", "--reason", "ok", "--date", "2026-12-02"],
    )
    .expect_code(0);
    assert!(
        ran.stdout().contains("credit note CN/26-27/00001 "),
        "{}",
        ran.stdout()
    );
}

#[test]
fn a_cancelled_invoice_takes_no_note_and_the_next_run_issues_a_new_number() {
    let ran = issued();
    let before = ran.read("out/invoices.csv");
    let ran = note(
        ran,
        "debit",
        "DID/26-27/00001",
        &[
            "--amount",
            "5",
            "--description",
            "d",
            "--reason",
            "r",
            "--date",
            "2026-12-02",
        ],
    )
    .expect_code(0);
    let with_notes = ran
        .then()
        .args(["invoices", "cancel", "DID/26-27/00001", "--reason", "dup"])
        .run()
        .expect_code(1);
    assert!(
        with_notes
            .stderr()
            .contains("invoice DID/26-27/00001 has notes (DN/26-27/00001) and cannot be cancelled"),
        "{}",
        with_notes.stderr()
    );
    let cancelled = with_notes
        .then()
        .args([
            "invoices",
            "cancel",
            "DID/26-27/00002",
            "--reason",
            "Duplicate",
        ])
        .run()
        .expect_code(0);
    assert!(
        cancelled
            .stdout()
            .contains("cancelled invoice DID/26-27/00002"),
        "{}",
        cancelled.stdout()
    );
    let refused = note(
        cancelled,
        "credit",
        "DID/26-27/00002",
        &["--line", "1", "--reason", "x", "--date", "2026-12-02"],
    )
    .expect_code(1);
    assert!(
        refused
            .stderr()
            .contains("invoice DID/26-27/00002 is cancelled"),
        "{}",
        refused.stderr()
    );

    let rerun = refused
        .then()
        .args(demo_configured_args())
        .run()
        .expect_code(0);
    let after = rerun.read("out/invoices.csv");
    let bharat_before = before.lines().find(|l| l.contains("MA_BHARAT02")).unwrap();
    let bharat_after = after.lines().find(|l| l.contains("MA_BHARAT02")).unwrap();
    assert!(
        bharat_before.starts_with("DID/26-27/00002,"),
        "{bharat_before}"
    );
    assert!(
        bharat_after.starts_with("DID/26-27/00012,"),
        "{bharat_after}"
    );
    assert_eq!(
        bharat_before
            .split_once(',')
            .unwrap()
            .1
            .split_once(',')
            .unwrap()
            .1,
        bharat_after
            .split_once(',')
            .unwrap()
            .1
            .split_once(',')
            .unwrap()
            .1,
        "the same content under a new number"
    );
    // The notes of the period stay in the folder the run replaced.
    assert_eq!(notes_csv_rows(&rerun).len(), 1);
    let listed = rerun.then().args(["invoices", "list"]).run().expect_code(0);
    assert!(
        listed
            .stdout()
            .lines()
            .any(|l| l.starts_with("DID/26-27/00002 ")
                && l.split_whitespace().rev().nth(1) == Some("cancelled")),
        "{}",
        listed.stdout()
    );
}

#[test]
fn a_rerun_after_notes_rewrites_byte_identical_outputs_and_a_dry_run_writes_no_note() {
    let ran = issued();
    let ran = note(
        ran,
        "credit",
        "DID/26-27/00001",
        &["--line", "2", "--reason", "r", "--date", "2026-12-05"],
    )
    .expect_code(0);
    let first = ran.tree("out");
    assert!(first.iter().any(|(p, _)| p == "pdf/CN-26-27-00001.pdf"));
    let summary: serde_json::Value =
        serde_json::from_slice(&ran.read_bytes("out/summary.json")).unwrap();
    // The note's own command leaves the run's summary as it was ...
    assert!(summary.get("notes").is_none());
    let rerun = ran.then().args(demo_configured_args()).run().expect_code(0);
    let second = rerun.tree("out");
    let files = |t: &[(String, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(files(&first), files(&second));
    for ((path, a), (_, b)) in first.iter().zip(&second) {
        if path != "summary.json" {
            assert!(a == b, "{path} changed on the re-run");
        }
    }
    // ... and the next run counts the period's notes.
    let summary: serde_json::Value =
        serde_json::from_slice(&rerun.read_bytes("out/summary.json")).unwrap();
    assert_eq!(summary["notes"]["credit_notes"], 1);
    assert_eq!(summary["notes"]["debit_notes"], 0);
    assert_eq!(
        summary["notes"]["totals"]["credit"]["INR"]["total"],
        "354.00"
    );
    let again = rerun
        .then()
        .args(demo_configured_args())
        .run()
        .expect_code(0);
    assert!(
        again.tree("out") == second,
        "a second re-run is byte-identical"
    );

    let mut dry_args = demo_configured_args();
    let out = dry_args.iter().position(|a| a == "--out").unwrap() + 1;
    dry_args[out] = "draft".into();
    let dry = again
        .then()
        .args(dry_args)
        .arg("--dry-run")
        .run()
        .expect_code(0);
    assert!(!dry.path("draft/notes.csv").exists());
    assert!(!dry.path("draft/pdf/CN-26-27-00001.pdf").exists());
}

#[test]
fn the_pdf_of_a_note_says_what_it_is_what_it_corrects_and_why() {
    let ran = issued();
    let ran = note(
        ran,
        "credit",
        "DID/26-27/00001",
        &[
            "--line",
            "2",
            "--reason",
            "Number released early",
            "--date",
            "2026-12-05",
        ],
    )
    .expect_code(0);
    let ran = note(
        ran,
        "debit",
        "DID/26-27/00004",
        &[
            "--amount",
            "12.50",
            "--description",
            "Late call records",
            "--reason",
            "Calls after invoicing",
            "--date",
            "2026-12-06",
        ],
    )
    .expect_code(0);
    let text =
        pdf_extract::extract_text_from_mem(&ran.read_bytes("out/pdf/CN-26-27-00001.pdf")).unwrap();
    for needle in [
        "Credit Note",
        "CN/26-27/00001",
        "Note Date",
        "05 Dec 2026",
        "Original Invoice",
        "Original Invoice DID/26-27/00001",
        "Demo Telecom Pvt Ltd",
        "29ABCDE1234F1ZW",
        "Acme Solutions Pvt Ltd",
        "29AAACA1234A1ZG",
        "Karnataka (29)",
        "CGST @ 9%",
        "27.00",
        "354.00",
        "Reason: Number released early",
        "against tax invoice DID/26-27/00001 dated 01 Dec 2026",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(
        !text.contains("Tax Invoice") && !text.contains("Payment is due"),
        "{text}"
    );
    let debit =
        pdf_extract::extract_text_from_mem(&ran.read_bytes("out/pdf/DN-26-27-00001.pdf")).unwrap();
    for needle in [
        "Debit Note",
        "DN/26-27/00001",
        "Late call records",
        "IGST @ 18%",
        "2.25",
        "14.75",
        "Reason: Calls after invoicing",
    ] {
        assert!(debit.contains(needle), "{needle:?} missing from:\n{debit}");
    }
}

#[test]
fn two_processes_issuing_notes_at_once_keep_the_series_gap_free_and_the_folder_complete() {
    let ran = issued();
    let dir = ran.path("");
    let spawn = |invoice: &'static str| {
        let dir = dir.clone();
        move || {
            for i in 0..4 {
                let out = Command::new(assert_cmd::cargo::cargo_bin("didbill"))
                    .current_dir(&dir)
                    .args(["note", "debit", "--invoice", invoice, "--amount", "1"])
                    .args([
                        "--description",
                        &format!("d{i}"),
                        "--reason",
                        "r",
                        "--date",
                        "2026-12-02",
                    ])
                    .args([
                        "--as-of",
                        "2028-01-01T00:00:00Z",
                        "--config",
                        "cfg.toml",
                        "--out",
                        "out",
                        "--no-pdf",
                    ])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    };
    std::thread::scope(|s| {
        let a = s.spawn(spawn("DID/26-27/00001"));
        let b = s.spawn(spawn("DID/26-27/00003"));
        a.join().unwrap();
        b.join().unwrap();
    });
    let mut numbers: Vec<String> = notes_csv_rows(&ran)
        .iter()
        .map(|r| r.split(',').next().unwrap().to_owned())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=8).map(|n| format!("DN/26-27/{n:05}")).collect();
    assert_eq!(
        numbers, expected,
        "every note of both processes, numbers distinct and gap-free"
    );
}

#[test]
fn a_changed_rerun_lists_each_differing_line_with_its_signed_amount_and_gst() {
    let first = Test::demo().run().expect_code(0);
    let ran = crate::cli_ledger::edited_demo(first.then(), |items| {
        // Acme's first number costs more; every Kochi number disappears (released
        // retroactively).
        items[0]["monthly_fee"] = serde_json::json!(350);
        items.retain(|n| n["account_id"] != "MA_KOCHI007");
    })
    .args(crate::cli_ledger::demo_args_on("snap"))
    .run()
    .expect_code(4);
    let err = ran.stderr();
    assert!(
        err.contains(
            "\n      rental +918041000001 from 2026-11-01 (changed): +50.00 INR, GST +9.00\n"
        ),
        "{err}"
    );
    // Kochi (Kerala, inter-state): each vanished line with its IGST, to be credited.
    assert!(
        err.contains(
            "\n      rental +914842000001 from 2026-11-01 (vanished): -199.00 INR, GST -35.82\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "Re-run with --issue-notes to issue them line by line, or issue them with \
             `didbill note credit|debit --invoice NUMBER`"
        ),
        "{err}"
    );
}

/// A changed GSTIN with unchanged amounts is not something a note can correct: the
/// message says so and points at cancelling and re-running instead.
#[test]
fn a_gstin_only_change_points_at_cancel_and_rerun_not_at_notes() {
    let first = Test::demo().run().expect_code(0);
    let mut accounts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(demo_dir().join("accounts.json")).unwrap()).unwrap();
    for a in accounts["accounts"].as_array_mut().unwrap() {
        if a["auth_id"] == "MA_ACME0001" {
            a["gstin"] = serde_json::Value::Null;
            a["gst_status"] = "unregistered".into();
        }
    }
    let ran = crate::cli_ledger::edited_demo(first.then(), |_| {})
        .file("snap/accounts.json", accounts.to_string())
        .args(crate::cli_ledger::demo_args_on("snap"))
        .arg("--issue-notes")
        .run()
        .expect_code(4);
    let err = ran.stderr();
    assert!(
        err.contains("DID/26-27/00001 (MA_ACME0001 INR): customer GSTIN"),
        "{err}"
    );
    assert!(
        err.contains(
            "\nDID/26-27/00001: no amount changed, only the customer's details (GSTIN or place \
             of supply). No note corrects that"
        ) && err.contains("cancel it with `didbill invoices cancel NUMBER --reason TEXT`"),
        "{err}"
    );
    assert!(!err.contains("Re-run with --issue-notes"), "{err}");
    assert!(!ran.path("out/notes.csv").exists());
}

#[test]
fn issue_notes_credits_a_retroactive_release_debits_an_increase_and_a_rerun_is_idempotent() {
    let first = Test::demo().run().expect_code(0);
    let original = first.tree("out");
    let edited = crate::cli_ledger::edited_demo(first.then(), |items| {
        items[0]["monthly_fee"] = serde_json::json!(350);
        items.retain(|n| n["account_id"] != "MA_KOCHI007");
    });
    // A dry run issues no note (it opens no ledger) ...
    let mut dry = crate::cli_ledger::demo_args_on("snap");
    let out = dry.iter().position(|a| a == "--out").unwrap() + 1;
    dry[out] = "draft".into();
    let dry = edited
        .args(dry)
        .args(["--dry-run", "--issue-notes"])
        .run()
        .expect_code(0);
    assert!(!dry.path("draft/notes.csv").exists());
    // ... a real one does, for each changed invoice.
    let ran = dry
        .then()
        .args(crate::cli_ledger::demo_args_on("snap"))
        .arg("--issue-notes")
        .run()
        .expect_code(0);
    assert_eq!(
        notes_csv_rows(&ran),
        [
            "CN/26-27/00001,credit,2026-12-02,DID/26-27/00009,2026-12-01,MA_KOCHI007,Anil Thomas,\
             32AAGCK9876F1Z7,32,INR,Billed more than the data now shows (didbill run --issue-notes),\
             4,473.42,0.00,0.00,85.22,0.00,558.64",
            "DN/26-27/00001,debit,2026-12-02,DID/26-27/00001,2026-12-01,MA_ACME0001,\
             Acme Solutions Pvt Ltd,29AAACA1234A1ZG,29,INR,Billed less than the data now shows \
             (didbill run --issue-notes),1,50.00,4.50,4.50,0.00,0.00,59.00",
        ]
    );
    let lines = ran.read("out/note_lines.csv");
    assert!(
        lines.contains(
            "DN/26-27/00001,DID/26-27/00001,2026-12-01,MA_ACME0001,Acme Solutions Pvt Ltd,INR,\
             5eed0000-0000-0000-0000-000000000001,+918041000001,rental,2026-11-01,2026-11-30,30,30,\
             350.00,50.00,rental\n"
        ),
        "{lines}"
    );
    // The issued invoices are written as issued, not as the data says now.
    let issued = |tree: &[(String, Vec<u8>)], file: &str| {
        tree.iter()
            .find(|(p, _)| p == file)
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    let now = ran.tree("out");
    for file in ["invoices.csv", "line_items.csv", "pdf/DID-26-27-00001.pdf"] {
        assert!(
            issued(&original, file) == issued(&now, file),
            "{file} changed"
        );
    }
    // Invoice plus notes equal the data: no new note, byte-identical outputs.
    let again = ran
        .then()
        .args(crate::cli_ledger::demo_args_on("snap"))
        .run()
        .expect_code(0);
    assert!(
        again.tree("out") == now,
        "the re-run rewrites the same files"
    );
    let again = again
        .then()
        .args(crate::cli_ledger::demo_args_on("snap"))
        .arg("--issue-notes")
        .run()
        .expect_code(0);
    assert!(again.tree("out") == now);
    assert_eq!(notes_csv_rows(&again).len(), 2);
}

#[test]
fn the_exit_4_differences_count_the_line_notes_already_issued() {
    let first = Test::demo().run().expect_code(0);
    // The first Kochi number was credited by hand when it was released.
    let credited = first
        .then()
        .args([
            "note",
            "credit",
            "--invoice",
            "DID/26-27/00009",
            "--line",
            "1",
        ])
        .args([
            "--reason",
            "Released",
            "--date",
            "2026-12-02",
            "--as-of",
            "2026-12-03T00:00:00Z",
        ])
        .args([
            "--config",
            &crate::common::demo_dir()
                .join("didbill.toml")
                .display()
                .to_string(),
        ])
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    let ran = crate::cli_ledger::edited_demo(credited.then(), |items| {
        items.retain(|n| n["account_id"] != "MA_KOCHI007");
    })
    .args(crate::cli_ledger::demo_args_on("snap"))
    .run()
    .expect_code(4);
    let err = ran.stderr();
    assert!(!err.contains("+914842000001 from"), "{err}");
    assert!(
        err.contains(
            "\n      rental +914842000002 from 2026-11-01 (vanished): -100.00 INR, GST -18.00\n"
        ),
        "{err}"
    );
}

#[test]
fn a_note_killed_after_its_ledger_commit_is_written_by_the_next_run_of_the_period() {
    let ran = issued();
    let ran = note(
        ran,
        "credit",
        "DID/26-27/00001",
        &["--line", "2", "--reason", "r", "--date", "2026-12-05"],
    )
    .expect_code(0);
    let complete = ran.tree("out");
    // The crash window: the note is in the ledger, its files never reached the
    // folder, and the dead process left a half-written staging folder.
    std::fs::remove_file(ran.path("out/notes.csv")).unwrap();
    std::fs::remove_file(ran.path("out/note_lines.csv")).unwrap();
    std::fs::remove_file(ran.path("out/pdf/CN-26-27-00001.pdf")).unwrap();
    std::fs::create_dir(ran.path(".out.didbill-tmp-4194304")).unwrap();
    std::fs::write(ran.path(".out.didbill-tmp-4194304/notes.csv"), "partial").unwrap();

    let rerun = ran.then().args(demo_configured_args()).run().expect_code(0);
    let files = |t: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        t.iter()
            .filter(|(p, _)| p != "summary.json")
            .cloned()
            .collect()
    };
    assert!(
        files(&rerun.tree("out")) == files(&complete),
        "the note's files are back"
    );
    assert!(!rerun.path(".out.didbill-tmp-4194304").exists());
    // The next note takes the next number: nothing was lost or used twice.
    let next = note(
        rerun,
        "credit",
        "DID/26-27/00001",
        &["--line", "3", "--reason", "r", "--date", "2026-12-06"],
    )
    .expect_code(0);
    assert!(
        next.stdout().contains("credit note CN/26-27/00002 "),
        "{}",
        next.stdout()
    );
}

#[test]
fn a_note_is_refused_into_the_output_folder_of_another_period() {
    let ran = issued();
    let refused = ran
        .then()
        .file("oct/summary.json", r#"{"period": "2026-10"}"#)
        .args([
            "note",
            "credit",
            "--invoice",
            "DID/26-27/00001",
            "--line",
            "1",
        ])
        .args([
            "--reason",
            "r",
            "--date",
            "2026-12-02",
            "--as-of",
            "2026-12-03T00:00:00Z",
        ])
        .args(["--config", "cfg.toml", "--out", "oct"])
        .run()
        .expect_code(2);
    assert!(
        refused
            .stderr()
            .contains("oct holds the outputs of period 2026-10, and the invoice is of 2026-11"),
        "{}",
        refused.stderr()
    );
    assert!(!refused.path("oct/notes.csv").exists());
    // No number was used.
    let ok = note(
        refused,
        "credit",
        "DID/26-27/00001",
        &["--line", "1", "--reason", "r", "--date", "2026-12-02"],
    )
    .expect_code(0);
    assert!(
        ok.stdout().contains("credit note CN/26-27/00001 "),
        "{}",
        ok.stdout()
    );
}
