//! What didbill says when a command is typed almost right: each refusal names the
//! value and shows what to type instead, and forms people naturally type (a PDF's
//! file name, `Xero`, a number with spaces) are understood.

use crate::common::{demo_dir, demo_run_args, Test};

/// Runs `args` and returns stderr after checking the exit code.
fn refused(args: &[&str], code: i32) -> String {
    Test::new()
        .args(args.iter().copied())
        .run()
        .expect_code(code)
        .stderr()
}

#[test]
fn fetch_without_credentials_says_which_variables_to_set_and_nothing_about_source() {
    let stderr = refused(&["fetch", "--out", "snap"], 2);
    assert_eq!(
        stderr,
        "error: the Vobiz API needs the partner credentials in the environment: \
         set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN\n"
    );
    // A command that can read a snapshot instead still says so.
    let stderr = refused(&["numbers"], 2);
    assert!(
        stderr.ends_with(
            "set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (or use --source DIR with a snapshot)\n"
        ),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_api_names_the_address_and_where_it_is_set() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v1/partner", closed.local_addr().unwrap());
    drop(closed);
    let ran = Test::new()
        .env("VOBIZ_AUTH_ID", "MA_P")
        .env("VOBIZ_AUTH_TOKEN", "t")
        .args(["fetch", "--out", "snap", "--quiet", "--api-base", &base])
        .run()
        .expect_code(3);
    let stderr = ran.stderr();
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert!(
        stderr.trim_end().ends_with(&format!(
            "; cannot reach {base}: check the address (--api-base, VOBIZ_API_BASE \
             or [api] base_url) and the network"
        )),
        "{stderr}"
    );
    assert_eq!(ran.tree(""), Vec::new(), "nothing written");
}

#[test]
fn a_base_url_without_a_scheme_shows_it_with_one() {
    let api = |base: &str| {
        Test::new()
            .env("VOBIZ_AUTH_ID", "MA_P")
            .env("VOBIZ_AUTH_TOKEN", "t")
            .args(["fetch", "--out", "snap", "--api-base", base])
            .run()
            .expect_code(2)
            .stderr()
    };
    assert_eq!(
        api("127.0.0.1:8787"),
        "error: API base URL \"127.0.0.1:8787\" has no scheme: write http://127.0.0.1:8787\n"
    );
    assert_eq!(
        api("localhost:8787/api/v1/partner"),
        "error: API base URL \"localhost:8787/api/v1/partner\" has no scheme: \
         write http://localhost:8787/api/v1/partner\n"
    );
    assert_eq!(
        api("api.vobiz.ai/api/v1/partner"),
        "error: API base URL \"api.vobiz.ai/api/v1/partner\" has no scheme: \
         write https://api.vobiz.ai/api/v1/partner\n"
    );
}

#[test]
fn a_one_digit_month_gets_its_two_digit_form_and_month_13_is_named() {
    let demo = demo_dir();
    let period = |p: &str| {
        refused(
            &["run", "--source", demo.to_str().unwrap(), "--period", p],
            2,
        )
    };
    let stderr = period("2026-1");
    assert!(
        stderr.contains("period \"2026-1\": write the month with two digits, 2026-01"),
        "{stderr}"
    );
    let stderr = period("2026-13");
    assert!(
        stderr.contains("period \"2026-13\": there is no month 13; months are 01 to 12"),
        "{stderr}"
    );
    assert!(!stderr.contains("YYYY-MM"), "not a format error: {stderr}");
}

#[test]
fn a_bare_date_as_of_is_explained_with_the_instant_to_type() {
    let demo = demo_dir();
    let stderr = refused(
        &[
            "run",
            "--source",
            demo.to_str().unwrap(),
            "--period",
            "2026-11",
            "--as-of",
            "2026-12-02",
        ],
        2,
    );
    assert!(
        stderr.contains(
            "\"2026-12-02\" is a date, not an instant: write the instant in RFC 3339, \
             2026-12-02T00:00:00Z for midnight UTC"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("premature end of input"), "{stderr}");
    let stderr = refused(&["audit", "--as-of", "yesterday"], 2);
    assert!(
        stderr.contains(
            "\"yesterday\" is not an RFC 3339 instant: a date, T, a time and Z or an offset, \
             such as 2026-12-02T00:00:00Z"
        ),
        "{stderr}"
    );
}

#[test]
fn invoices_show_accepts_the_pdf_file_name_of_an_invoice() {
    let ran = Test::demo().run().expect_code(0);
    assert!(ran.path("out/pdf/DID-26-27-00001.pdf").exists());
    let show = |ran: crate::common::Ran, number: &str| {
        let shown = ran
            .then()
            .args(["invoices", "show", number, "--format", "csv"])
            .run()
            .expect_code(0);
        (shown.stdout(), shown)
    };
    let (by_number, ran) = show(ran, "DID/26-27/00001");
    assert!(by_number.contains("DID/26-27/00001,"), "{by_number}");
    let (by_stem, ran) = show(ran, "DID-26-27-00001");
    assert_eq!(by_stem, by_number);
    let (by_file, ran) = show(ran, "pdf/DID-26-27-00001.pdf");
    assert_eq!(by_file, by_number);
    let missing = ran
        .then()
        .args(["invoices", "show", "DID-26-27-00999"])
        .run()
        .expect_code(1);
    assert!(
        missing.stderr().contains(
            "invoice DID-26-27-00999 is not in the ledger didbill.sqlite; \
             `didbill invoices list` shows the numbers"
        ),
        "{}",
        missing.stderr()
    );
}

#[test]
fn csv_layout_names_are_accepted_in_any_case() {
    let run = |layouts: &str| {
        Test::new()
            .args(demo_run_args())
            .args(["--out", "out", "--dry-run", "--no-pdf", "--csv", layouts])
            .run()
            .expect_code(0)
    };
    let lower = run("xero,zoho");
    let mixed = run("Xero,ZOHO");
    assert_eq!(mixed.tree("out"), lower.tree("out"));
    assert!(mixed.path("out/xero.csv").exists() && mixed.path("out/zoho.csv").exists());
}

#[test]
fn numbers_search_takes_digits_with_spaces_and_dashes() {
    let demo = demo_dir();
    let search = |digits: &str| {
        Test::new()
            .args([
                "numbers",
                "--source",
                demo.to_str().unwrap(),
                "--format",
                "csv",
            ])
            .args(["--search", digits])
            .run()
            .expect_code(0)
            .stdout()
    };
    let plain = search("918041000001");
    assert_eq!(plain.lines().count(), 2, "header and one number: {plain}");
    assert!(plain.contains("+918041000001"), "{plain}");
    assert_eq!(search("+91 80410 00001"), plain);
    assert_eq!(search("+91-80410-00001"), plain);
    let stderr = refused(&["numbers", "--search", "+91 80x10"], 2);
    assert!(
        stderr
            .contains("\"+91 80x10\" is not digits of a phone number, e.g. 80410 or \"+91 80410\""),
        "{stderr}"
    );
}

#[test]
fn every_help_lists_the_environment_and_the_exit_codes() {
    for command in [
        &["--help"][..],
        &["run", "--help"],
        &["fetch", "--help"],
        &["audit", "--help"],
        &["numbers", "--help"],
        &["invoices", "show", "--help"],
        &["invoices", "list", "-h"],
    ] {
        let help = Test::new()
            .args(command.iter().copied())
            .run()
            .expect_code(0)
            .stdout();
        for expected in [
            "Environment:\n",
            "  VOBIZ_AUTH_ID             the partner auth id (MA_...), for the live API\n",
            "  VOBIZ_AUTH_TOKEN          the partner auth token (never a flag or a file)\n",
            "  VOBIZ_API_BASE            the API base URL, under --api-base\n",
            "Exit codes:\n",
            "  0  success\n",
            "  2  usage: a wrong flag or value, missing credentials",
            "  3  the Vobiz API failed after retries, or refused the request\n",
            "  4  ledger conflict: an invoice already issued would change\n",
            "  5  audit --fail-on-findings found something",
        ] {
            assert!(
                help.contains(expected),
                "{command:?} lacks {expected:?}:\n{help}"
            );
        }
    }
}
