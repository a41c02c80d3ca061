//! Credit and debit notes in the accounting exports: a run with `--csv` and every
//! `didbill note` of its period write the notes beside the invoices' exports, in
//! each tool's own import form.
//!
//! The demo's DID/26-27/00001 (Acme, Karnataka, registered) has a 300.00 rental as
//! line 2; DID/26-27/00004 (Delhi Retail Hub, registered) is inter-state.

use crate::common::{demo_config_text, demo_configured_args, Ran, Test};

/// `didbill ARGS… --as-of 2026-12-10 --config cfg.toml --out out` in `ran`'s folder.
fn note(ran: Ran, args: &[&str]) -> Test {
    ran.then().args(args.iter().copied()).args([
        "--as-of",
        "2026-12-10T00:00:00Z",
        "--config",
        "cfg.toml",
        "--out",
        "out",
    ])
}

/// A credit note for line 2 of DID/26-27/00001 dated 2026-12-05, with `extra`.
fn credit_line_2(ran: Ran, extra: &[&str]) -> Test {
    note(
        ran,
        &[
            "note",
            "credit",
            "--invoice",
            "DID/26-27/00001",
            "--line",
            "2",
            "--reason",
            "Number released early",
            "--date",
            "2026-12-05",
        ],
    )
    .args(extra.iter().copied())
}

/// The demo issued with every export, then a credit note for line 2 of
/// DID/26-27/00001 and a debit note of 100.00 on DID/26-27/00004.
fn with_notes(extra: &[&str]) -> Ran {
    let ran = Test::demo_configured(demo_config_text())
        .args(["--csv", "xero,zoho,quickbooks,tally"])
        .args(extra.iter().copied())
        .run()
        .expect_code(0);
    let ran = credit_line_2(ran, &[]).run().expect_code(0);
    debit_on_4(ran, "100", &[]).run().expect_code(0)
}

/// A debit note of `amount` for late CDRs on DID/26-27/00004 dated 2026-12-06.
fn debit_on_4(ran: Ran, amount: &str, extra: &[&str]) -> Test {
    note(
        ran,
        &[
            "note",
            "debit",
            "--invoice",
            "DID/26-27/00004",
            "--amount",
            amount,
            "--description",
            "Late CDRs",
            "--reason",
            "Calls that reached the API after invoicing",
            "--date",
            "2026-12-06",
        ],
    )
    .args(extra.iter().copied())
}

#[test]
fn a_note_adds_its_rows_to_each_export_of_the_folder_and_a_rerun_keeps_them_byte_identical() {
    let ran = with_notes(&[]);
    assert_eq!(
        ran.read("out/xero_credit_notes.csv"),
        "*ContactName,EmailAddress,*CreditNoteNumber,Reference,*CreditNoteDate,\
         InventoryItemCode,*Description,*Quantity,*UnitAmount,*AccountCode,*TaxType,TaxAmount,\
         Currency,BrandingTheme\n\
         Acme Solutions Pvt Ltd,,CN/26-27/00001,DID/26-27/00001,05/12/2026,,\
         \"DID rental +918041000002, 01/11/2026–30/11/2026 (30/30 days) (against \
         DID/26-27/00001)\",1,300.00,200,GST on Income 18% (CGST+SGST),54.00,INR,\n"
    );
    // The debit note is one more invoice in Xero's invoice layout, referencing the
    // invoice it corrects, due the configured 15 days after its date.
    let debit = ran.read("out/xero_debit_notes.csv");
    let mut lines = debit.lines();
    assert_eq!(
        lines.next(),
        ran.read("out/xero.csv").lines().next(),
        "the invoice layout's header"
    );
    assert_eq!(
        lines.next(),
        Some(
            "Delhi Retail Hub,,,,,,,,,,DN/26-27/00001,DID/26-27/00004,06/12/2026,21/12/2026,,\
             Late CDRs,1,100.00,,200,GST on Income 18% (IGST),18.00,,,,,INR,"
        )
    );
    assert_eq!(lines.next(), None);

    let zoho = ran.read("out/zoho_credit_notes.csv");
    let mut rows = csv::Reader::from_reader(zoho.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let cell = |name: &str| {
        let at = headers.iter().position(|h| h == name).expect(name);
        rows[0][at].to_owned()
    };
    for (name, value) in [
        ("Credit Note Number", "CN/26-27/00001"),
        ("Credit Note Date", "2026-12-05"),
        ("Customer Name", "Acme Solutions Pvt Ltd"),
        ("GST Treatment", "business_registered_regular"),
        ("GST Identification Number (GSTIN)", "29AAACA1234A1ZG"),
        ("Place of Supply", "KA"),
        ("Reference Invoice", "DID/26-27/00001"),
        ("Reference Invoice Date", "2026-12-01"),
        ("Reference Invoice Type", "Registered"),
        ("Reason", "Number released early"),
        ("Item Price", "300.00"),
        ("Item Tax %", "18"),
    ] {
        assert_eq!(cell(name), value, "{name}");
    }
    let zoho_debit = ran.read("out/zoho_debit_notes.csv");
    assert!(
        zoho_debit
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("DN/26-27/00001,2026-12-06,"),
        "{zoho_debit}"
    );
    let qb = ran.read("out/quickbooks_credit_notes.csv");
    assert!(
        qb.lines().nth(1).unwrap().starts_with(
            "CN/26-27/00001,Acme Solutions Pvt Ltd,05/12/2026,\
             DID/26-27/00001 of 01/12/2026: Number released early,"
        ),
        "{qb}"
    );
    assert!(ran.read("out/quickbooks_debit_notes.csv").contains(
        "Debit note against DID/26-27/00004: Calls that reached the API after invoicing"
    ),);

    // Tally: a Credit Note voucher crediting the party and debiting sales and GST,
    // a Debit Note voucher the other way, each set off against its invoice.
    let tally = ran.read("out/tally_notes.xml");
    for fragment in [
        "<VOUCHER VCHTYPE=\"Credit Note\" ACTION=\"Create\" OBJVIEW=\"Accounting Voucher View\">",
        "<VOUCHERNUMBER>CN/26-27/00001</VOUCHERNUMBER>",
        "<LEDGERNAME>Acme Solutions Pvt Ltd</LEDGERNAME>\n       <ISDEEMEDPOSITIVE>No</ISDEEMEDPOSITIVE>\n       <ISPARTYLEDGER>Yes</ISPARTYLEDGER>\n       <AMOUNT>354.00</AMOUNT>",
        "<NAME>DID/26-27/00001</NAME>\n        <BILLTYPE>Agst Ref</BILLTYPE>\n        <AMOUNT>354.00</AMOUNT>",
        "<ISDEEMEDPOSITIVE>Yes</ISDEEMEDPOSITIVE>\n       <AMOUNT>-300.00</AMOUNT>",
        "<ISDEEMEDPOSITIVE>Yes</ISDEEMEDPOSITIVE>\n       <AMOUNT>-27.00</AMOUNT>",
        "<VOUCHER VCHTYPE=\"Debit Note\" ACTION=\"Create\" OBJVIEW=\"Accounting Voucher View\">",
        "<NAME>DID/26-27/00004</NAME>\n        <BILLTYPE>Agst Ref</BILLTYPE>\n        <AMOUNT>-118.00</AMOUNT>",
        "<AMOUNT>18.00</AMOUNT>",
    ] {
        assert!(tally.contains(fragment), "{fragment}\nin\n{tally}");
    }
    // The invoices' own exports are not touched by a note.
    assert!(!ran.read("out/tally.xml").contains("CN/26-27/00001"));
    assert!(!ran.read("out/xero.csv").contains("CN/26-27/00001"));

    // A re-run of the period writes the same note exports, byte for byte.
    let files = [
        "xero_credit_notes.csv",
        "xero_debit_notes.csv",
        "zoho_credit_notes.csv",
        "zoho_debit_notes.csv",
        "quickbooks_credit_notes.csv",
        "quickbooks_debit_notes.csv",
        "tally_notes.xml",
    ];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| ran.read_bytes(&format!("out/{f}")))
        .collect();
    let rerun = ran
        .then()
        .args(demo_configured_args())
        .args(["--csv", "xero,zoho,quickbooks,tally"])
        .run()
        .expect_code(0);
    for (file, bytes) in files.iter().zip(&before) {
        assert_eq!(&rerun.read_bytes(&format!("out/{file}")), bytes, "{file}");
    }
}

#[test]
fn a_note_keeps_the_folder_s_byte_order_mark_and_a_period_without_notes_has_no_note_exports() {
    let plain = Test::demo_configured(demo_config_text())
        .args(["--csv", "xero,tally"])
        .run()
        .expect_code(0);
    for file in [
        "xero_credit_notes.csv",
        "xero_debit_notes.csv",
        "tally_notes.xml",
    ] {
        assert!(!plain.path(&format!("out/{file}")).exists(), "{file}");
    }
    let ran = with_notes(&["--csv-bom"]);
    assert!(ran
        .read_bytes("out/zoho_credit_notes.csv")
        .starts_with(b"\xEF\xBB\xBFCredit Note Number,"));
    assert!(ran
        .read_bytes("out/xero_debit_notes.csv")
        .starts_with(b"\xEF\xBB\xBF*ContactName,"));
}

#[test]
fn a_user_layout_without_its_templates_stops_the_note_and_one_without_a_credit_layout_warns() {
    let layout = "[[columns]]\nheader = \"No\"\nvalue = \"{{ invoice.number }}\"\n\
                  [[columns]]\nheader = \"Amount\"\nvalue = \"{{ line.amount }}\"\nkind = \"number\"\n";
    let ran = Test::demo_configured(demo_config_text())
        .file("tpl/csv/mine.toml", layout)
        .args(["--csv", "mine", "--templates", "tpl"])
        .run()
        .expect_code(0);
    // Without --templates the folder's mine.csv cannot get its notes: refused,
    // nothing written, no number used.
    let refused = credit_line_2(ran, &[]).run().expect_code(2);
    assert!(
        refused
            .stderr()
            .contains("holds mine.csv, an export of the layout mine")
            && refused.stderr().contains("--templates"),
        "{}",
        refused.stderr()
    );
    assert!(!refused.path("out/notes.csv").exists());
    // With them: the credit note has no layout of its own in `mine` (a warning),
    // and the next debit note goes into the invoice layout.
    let ran = credit_line_2(refused, &["--templates", "tpl"])
        .run()
        .expect_code(0);
    assert!(ran.stdout().contains("credit note CN/26-27/00001 "));
    assert!(
        ran.stderr()
            .contains("--csv mine: the layout has no credit-note layout"),
        "{}",
        ran.stderr()
    );
    assert!(!ran.path("out/mine_credit_notes.csv").exists());
    let ran = debit_on_4(ran, "10", &["--templates", "tpl"])
        .run()
        .expect_code(0);
    assert_eq!(
        ran.read("out/mine_debit_notes.csv"),
        "No,Amount\nDN/26-27/00001,10.00\n"
    );
}

#[test]
fn notes_issued_by_a_rerun_with_issue_notes_are_in_that_run_s_exports() {
    let first = Test::demo()
        .args(["--csv", "zoho,tally"])
        .run()
        .expect_code(0);
    let ran = crate::cli_ledger::edited_demo(first.then(), |items| {
        items.retain(|n| n["account_id"] != "MA_KOCHI007");
    })
    .args(crate::cli_ledger::demo_args_on("snap"))
    .args(["--csv", "zoho,tally", "--issue-notes"])
    .run()
    .expect_code(0);
    // The released numbers of DID/26-27/00009 (Kerala, registered, IGST) are
    // credited whole: four rows against that invoice, adding up to its 473.42.
    let zoho = ran.read("out/zoho_credit_notes.csv");
    let rows: Vec<&str> = zoho.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{zoho}");
    for row in &rows {
        assert!(
            row.starts_with("CN/26-27/00001,2026-12-02,Anil Thomas,business_registered_regular,32AAGCK9876F1Z7,KL,DID/26-27/00009,2026-12-01,Registered,"),
            "{row}"
        );
    }
    assert!(!ran.path("out/zoho_debit_notes.csv").exists());
    let tally = ran.read("out/tally_notes.xml");
    assert!(
        tally.contains("<AMOUNT>558.64</AMOUNT>") && tally.contains("<AMOUNT>-85.22</AMOUNT>"),
        "{tally}"
    );
}

#[test]
fn a_note_file_that_grows_into_parts_leaves_no_stale_file_and_an_overridden_layout_needs_its_templates(
) {
    let one = "[[columns]]\nheader = \"No\"\nvalue = \"{{ note.number }}\"\n";
    let ran = Test::demo_configured(demo_config_text())
        .file(
            "tpl/csv/mine.toml",
            "[[columns]]\nheader = \"No\"\nvalue = \"{{ invoice.number }}\"\n",
        )
        .file(
            "tpl/csv/mine_credit_notes.toml",
            format!("[limits]\ninvoices = 1\n{one}"),
        )
        .file(
            "tpl/csv/xero.toml",
            "[[columns]]\nheader = \"Mine\"\nvalue = \"{{ invoice.number }}\"\n",
        )
        .args(["--csv", "mine,xero", "--templates", "tpl"])
        .run()
        .expect_code(0);
    // Files that are no layout's export (an editor's lock file, a renamed copy) are
    // left alone.
    for junk in ["~$mine.csv", "mine (1).csv"] {
        std::fs::write(ran.path(&format!("out/{junk}")), "x").unwrap();
    }
    let mine_only = ran.path("tpl2/csv");
    std::fs::create_dir_all(&mine_only).unwrap();
    for file in ["mine.toml", "mine_credit_notes.toml"] {
        std::fs::copy(ran.path(&format!("tpl/csv/{file}")), mine_only.join(file)).unwrap();
    }
    // Templates without the run's xero.toml: the folder's xero.csv is not in the
    // built-in columns, so the note is refused and no number is used.
    let refused = credit_line_2(ran, &["--templates", "tpl2"])
        .run()
        .expect_code(2);
    assert!(
        refused
            .stderr()
            .contains("xero.csv: its header row is not that of the layout xero"),
        "{}",
        refused.stderr()
    );
    assert!(!refused.path("out/notes.csv").exists());
    let ran = credit_line_2(refused, &["--templates", "tpl"])
        .run()
        .expect_code(0);
    assert_eq!(
        ran.read("out/mine_credit_notes.csv"),
        "No\nCN/26-27/00001\n"
    );
    let ran = note(
        ran,
        &[
            "note",
            "credit",
            "--invoice",
            "DID/26-27/00004",
            "--amount",
            "10",
            "--reason",
            "Goodwill",
            "--date",
            "2026-12-06",
            "--templates",
            "tpl",
        ],
    )
    .run()
    .expect_code(0);
    assert!(!ran.path("out/mine_credit_notes.csv").exists());
    assert_eq!(
        ran.read("out/mine_credit_notes-001.csv"),
        "No\nCN/26-27/00001\n"
    );
    assert_eq!(
        ran.read("out/mine_credit_notes-002.csv"),
        "No\nCN/26-27/00002\n"
    );
    assert_eq!(ran.read("out/~$mine.csv"), "x");
}
