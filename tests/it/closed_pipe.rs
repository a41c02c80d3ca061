//! A reader that goes away early (`didbill … | head -1`) ends a command's printing
//! quietly: no panic, and the command's own exit status, after everything it writes
//! to disk was written.

use crate::common::{demo_dir, Test};

/// Asserts a run with a closed stdout exited with `code` and did not panic.
fn expect_quiet_end(ran: crate::common::Ran, code: i32) -> crate::common::Ran {
    assert!(!ran.stderr().contains("panicked"), "{}", ran.stderr());
    assert!(!ran.stderr().contains("Broken pipe"), "{}", ran.stderr());
    ran.expect_code(code)
}

#[test]
fn a_run_into_a_closed_pipe_exits_0_with_its_ledger_and_outputs_committed() {
    let ran = expect_quiet_end(Test::demo().closed_stdout().run(), 0);
    assert!(ran.path("didbill.sqlite").is_file());
    assert_eq!(
        ran.read("out/invoices.csv"),
        std::fs::read_to_string(demo_dir().join("expected/invoices.csv")).unwrap()
    );
    // The ledger is whole: it lists the eleven invoices, and a re-run finds them all
    // and writes the same bytes.
    let first = ran.read("out/invoices.csv");
    let listed = ran
        .then()
        .args(["invoices", "list", "--format", "csv"])
        .run();
    assert_eq!(
        listed.stdout().lines().count(),
        1 + 11,
        "{}",
        listed.stdout()
    );
    let again = listed
        .then()
        .args(crate::common::demo_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    assert_eq!(again.read("out/invoices.csv"), first);
}

#[test]
fn invoices_list_and_show_into_a_closed_pipe_exit_0() {
    let ran = Test::demo().run().expect_code(0);
    let ran = expect_quiet_end(
        ran.then().args(["invoices", "list"]).closed_stdout().run(),
        0,
    );
    expect_quiet_end(
        ran.then()
            .args(["invoices", "show", "DID/26-27/00001"])
            .closed_stdout()
            .run(),
        0,
    );
}

#[test]
fn audit_into_a_closed_pipe_keeps_its_verdict() {
    let args = crate::cli_audit::fixture_args();
    expect_quiet_end(Test::new().args(args.clone()).closed_stdout().run(), 0);
    expect_quiet_end(
        Test::new()
            .args(args)
            .arg("--fail-on-findings")
            .closed_stdout()
            .run(),
        5,
    );
}

#[test]
fn numbers_into_a_closed_pipe_exits_0() {
    let demo = demo_dir();
    expect_quiet_end(
        Test::new()
            .args(["numbers", "--source", demo.to_str().unwrap()])
            .closed_stdout()
            .run(),
        0,
    );
}
