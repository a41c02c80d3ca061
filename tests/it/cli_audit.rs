//! `didbill audit` end to end: the audit fixture against its golden files, exit
//! codes, and the demo snapshot.
//!
//! The golden files in `fixtures/audit/expected/` are the outputs of the commands in
//! [`fixture_args`]; when a change to them is intended, rerun those commands from
//! `fixtures/audit` and review the difference.

use crate::common::{audit_dir, demo_dir, Test};

/// `didbill audit` on the fixture as of 2026-12-01T00:00:00Z (window to 2026-12-15).
pub(crate) fn fixture_args() -> Vec<String> {
    let dir = audit_dir();
    [
        "audit",
        "--source",
        dir.to_str().unwrap(),
        "--as-of",
        "2026-12-01T00:00:00Z",
        "--config",
        dir.join("didbill.toml").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn expected(file: &str) -> String {
    std::fs::read_to_string(audit_dir().join("expected").join(file)).unwrap()
}

#[test]
fn table_is_the_default_and_matches_the_golden_file() {
    let ran = Test::new().args(fixture_args()).run().expect_code(0);
    assert_eq!(ran.stdout(), expected("audit.txt"));
    let stderr = ran.stderr();
    assert!(
        stderr.contains(
            "warning: number +918040000032 of MA_DELTA04: next_billing_date \"next week\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("monthly_fee \"six hundred\" is not a number"),
        "{stderr}"
    );
}

#[test]
fn csv_matches_the_golden_file() {
    let ran = Test::new()
        .args(fixture_args())
        .args(["--format", "csv"])
        .run()
        .expect_code(0);
    assert_eq!(ran.stdout(), expected("audit.csv"));
}

#[test]
fn json_matches_the_golden_file_and_agrees_with_the_csv() {
    let ran = Test::new()
        .args(fixture_args())
        .args(["--format", "json"])
        .run()
        .expect_code(0);
    let stdout = ran.stdout();
    assert_eq!(stdout, expected("audit.json"));
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), expected("audit.csv").lines().count() - 1);
    let counted: u64 = doc["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(counted as usize, findings.len());
    assert_eq!(doc["warnings"].as_array().unwrap().len(), 2);
}

#[test]
fn low_balance_puts_a_balance_equal_to_the_renewals_at_risk() {
    let ran = Test::new()
        .args(fixture_args())
        .args(["--format", "csv", "--low-balance", "1000"])
        .run()
        .expect_code(0);
    assert_eq!(ran.stdout(), expected("audit-low-balance-1000.csv"));
}

#[test]
fn fail_on_findings_exits_5_after_writing_the_findings() {
    let ran = Test::new()
        .args(fixture_args())
        .args(["--format", "csv", "--fail-on-findings"])
        .run()
        .expect_code(5);
    assert_eq!(ran.stdout(), expected("audit.csv"));
    assert!(ran.stderr().contains("16 finding(s)"), "{}", ran.stderr());
}

#[test]
fn fail_on_findings_exits_0_without_findings() {
    // Bravo's balance equals its renewals due exactly (not at risk); Alpha is healthy.
    let ran = Test::new()
        .args(fixture_args())
        .args([
            "--customer",
            "MA_ALPHA01",
            "--customer",
            "MA_BRAVO02",
            "--format",
            "csv",
            "--fail-on-findings",
        ])
        .run()
        .expect_code(0);
    assert_eq!(ran.stdout(), "check,customer_id,e164,detail\n");
    assert_eq!(ran.stderr(), "");

    let table = Test::new()
        .args(fixture_args())
        .args(["--customer", "MA_ALPHA01"])
        .run()
        .expect_code(0)
        .stdout();
    assert!(table.contains("  findings 0\n"), "{table}");
    assert!(table.contains("\nrenewal_at_risk (0): "), "{table}");
}

#[test]
fn the_renewal_window_follows_renewal_days() {
    let csv = |days: &str| {
        Test::new()
            .args(fixture_args())
            .args(["--format", "csv", "--renewal-days", days])
            .run()
            .expect_code(0)
            .stdout()
    };
    let none = csv("0");
    assert!(!none.contains("renewal_at_risk"), "{none}");
    // One more day takes in the renewals a second after the 14-day window's end.
    let wider = csv("15");
    assert!(
        wider.contains("renewal_at_risk,MA_BRAVO02,+918040000013"),
        "{wider}"
    );
    assert!(
        wider.contains("renewal_at_risk,MA_CHARLIE3,+918040000022"),
        "{wider}"
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    for (flag, value) in [
        ("--low-balance", "-5"),
        ("--low-balance", "lots"),
        ("--renewal-days", "-1"),
        ("--renewal-days", "400"),
        ("--as-of", "2026-12-01"),
        ("--format", "xml"),
        ("--customer", "MA_NOBODY"),
        ("--customer", " "),
    ] {
        let ran = Test::new().args(fixture_args()).args([flag, value]).run();
        assert_eq!(ran.code(), 2, "{flag} {value}: {}", ran.stderr());
    }
    let missing = Test::new()
        .args(["audit", "--source", "no-such-folder"])
        .run()
        .expect_code(1);
    assert!(
        missing.stderr().contains("accounts.json"),
        "{}",
        missing.stderr()
    );
}

#[test]
fn the_demo_snapshot_audits() {
    let demo = demo_dir();
    let config = demo.join("didbill.toml");
    let args = [
        "audit",
        "--source",
        demo.to_str().unwrap(),
        "--as-of",
        "2026-12-02T00:00:00Z",
        "--config",
        config.to_str().unwrap(),
    ];
    let table = Test::new().args(args).run().expect_code(0);
    let out = table.stdout();
    assert!(out.contains("  findings 26\n"), "{out}");
    let csv = Test::new()
        .args(args)
        .args(["--format", "csv"])
        .run()
        .expect_code(0)
        .stdout();
    for row in [
        "no_active_number,MA_NONUM008,,the account has no numbers\n",
        "no_application,MA_ACME0001,+918041000002,active with application_id null\n",
        "no_application,MA_TELANG09,+914029000002,active with an empty application_id\n",
        "kyc_pending,MA_HINDI006,+918023000002,Aadhaar verification is required and aadhaar_verified is false\n",
        "lapsed,MA_CHENNAI3,+914423000002,",
    ] {
        assert!(csv.contains(row), "{row}\n{csv}");
    }
    // The same inputs and as-of give the same bytes.
    let again = Test::new().args(args).run().expect_code(0);
    assert_eq!(again.stdout(), out);
}
