//! Real runs that would issue permanent invoices too early, from an unconfigured
//! seller, or over outputs they must not replace are refused; dry runs still work.

use crate::common::{demo_dir, demo_run_args, Ran, Test};

/// The demo run's arguments without its configuration file, as of `as_of`, for
/// `period`, writing to `out`.
fn bare_args(period: &str, as_of: &str) -> Vec<String> {
    let demo = demo_dir().display().to_string();
    [
        "run", "--source", &demo, "--period", period, "--as-of", as_of, "--out", "out",
    ]
    .map(String::from)
    .to_vec()
}

/// [`bare_args`] in a new working folder.
fn demo_without_config(period: &str, as_of: &str) -> Test {
    Test::new().args(bare_args(period, as_of))
}

fn demo_config() -> String {
    demo_dir().join("didbill.toml").display().to_string()
}

fn nothing_written(ran: &Ran) {
    assert!(!ran.path("out").exists(), "no outputs");
    assert!(!ran.path("didbill.sqlite").exists(), "no ledger");
}

#[test]
fn a_real_run_of_a_month_not_over_is_refused_and_says_when_it_can_run() {
    let ran = demo_without_config("2026-12", "2026-12-02T00:00:00Z")
        .args(["--config", &demo_config()])
        .run()
        .expect_code(2);
    assert!(
        ran.stderr().contains(
            "period 2026-12 has not ended at the as-of instant 2026-12-02T00:00:00Z: its invoices \
             can be issued from 2026-12-31T18:30:00Z (2027-01-01 00:00 in Asia/Kolkata); \
             until then use --dry-run for provisional figures"
        ),
        "{}",
        ran.stderr()
    );
    nothing_written(&ran);

    // One second before midnight IST is still December; midnight is January.
    let late = demo_without_config("2026-12", "2026-12-31T18:29:59Z")
        .args(["--config", &demo_config()])
        .run()
        .expect_code(2);
    nothing_written(&late);
    demo_without_config("2026-12", "2026-12-31T18:30:00Z")
        .args(["--config", &demo_config()])
        .run()
        .expect_code(0);

    let dry = demo_without_config("2026-12", "2026-12-02T00:00:00Z")
        .args(["--config", &demo_config(), "--dry-run"])
        .run()
        .expect_code(0);
    let summary: serde_json::Value = serde_json::from_str(&dry.read("out/summary.json")).unwrap();
    assert!(
        summary["warnings"].to_string().contains(
            "period 2026-12 has not ended at the as-of instant: these figures are provisional"
        ),
        "{}",
        summary["warnings"]
    );
}

#[test]
fn an_invoice_dated_after_the_as_of_date_is_refused() {
    let ran = Test::demo()
        .args(["--invoice-date", "2026-12-03"])
        .run()
        .expect_code(2);
    assert!(
        ran.stderr().contains(
            "--invoice-date 2026-12-03 is after the as-of date 2026-12-02 (Asia/Kolkata): \
             a tax invoice cannot be dated in the future"
        ),
        "{}",
        ran.stderr()
    );
    nothing_written(&ran);
    Test::demo()
        .args(["--invoice-date", "2026-12-02"])
        .run()
        .expect_code(0);
}

#[test]
fn a_real_run_needs_the_seller_configured_and_names_the_missing_keys() {
    let bare = demo_without_config("2026-11", "2026-12-02T00:00:00Z")
        .run()
        .expect_code(2);
    assert!(
        bare.stderr().contains(
            "seller.name, seller.address, seller.gstin are not set in the configuration \
             (the built-in values are a demo seller's, for --dry-run only)"
        ),
        "{}",
        bare.stderr()
    );
    nothing_written(&bare);

    let named_only = demo_without_config("2026-11", "2026-12-02T00:00:00Z")
        .file("didbill.toml", "[seller]\nname = \"Acme Voice LLP\"\n")
        .run()
        .expect_code(2);
    assert!(
        named_only
            .stderr()
            .contains("seller.address, seller.gstin are not set"),
        "{}",
        named_only.stderr()
    );
    nothing_written(&named_only);

    // The built-in demo seller still serves a dry run.
    let dry = demo_without_config("2026-11", "2026-12-02T00:00:00Z")
        .arg("--dry-run")
        .run()
        .expect_code(0);
    assert!(dry.read("out/invoices.csv").contains("\nDRAFT-0001,"));

    let full = demo_without_config("2026-11", "2026-12-02T00:00:00Z")
        .file(
            "didbill.toml",
            "[seller]\nname = \"Acme Voice LLP\"\naddress = [\"2 Residency Road\", \"Bengaluru 560025\"]\n\
             gstin = \"29AAACA1234A1ZG\"\n[fx]\nUSD = \"84.35\"\n",
        )
        .run()
        .expect_code(0);
    assert!(full.read("out/invoices.csv").contains("\nDID/26-27/00001,"));
}

#[test]
fn a_tax_rate_written_as_a_fraction_is_refused() {
    let ran = demo_without_config("2026-11", "2026-12-02T00:00:00Z")
        .file("didbill.toml", "[tax]\nrate = 0.18\n")
        .arg("--dry-run")
        .run()
        .expect_code(1);
    assert!(
        ran.stderr().contains(
            "tax.rate 0.18 looks like a fraction: the rate is in percent, so write 18 for 18 %"
        ),
        "{}",
        ran.stderr()
    );
    nothing_written(&ran);
}

#[test]
fn outputs_of_another_period_or_of_a_real_run_are_never_replaced() {
    let november = Test::demo().run().expect_code(0);
    let issued = november.tree("out");

    // A dry run of another month into November's folder.
    let other = november
        .then()
        .args(bare_args("2026-10", "2026-12-02T00:00:00Z"))
        .args(["--config", &demo_config(), "--dry-run"])
        .run()
        .expect_code(2);
    assert!(
        other.stderr().contains(
            "out holds the issued invoices of period 2026-11, not 2026-10: a run never replaces \
             another period's outputs"
        ),
        "{}",
        other.stderr()
    );
    assert_eq!(other.tree("out"), issued);

    // A dry run of the same month would replace issued invoices with drafts.
    let drafts = other
        .then()
        .args(demo_run_args())
        .args(["--out", "out", "--dry-run"])
        .run()
        .expect_code(2);
    assert!(
        drafts.stderr().contains(
            "out holds the issued invoices of period 2026-11; a dry run does not replace them with drafts"
        ),
        "{}",
        drafts.stderr()
    );
    assert_eq!(drafts.tree("out"), issued);

    // A re-run of the same month is fine, and says nothing new was issued.
    let rerun = drafts
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    assert!(
        rerun
            .stdout()
            .contains("invoices 11 (11 reused as issued, 0 new)"),
        "{}",
        rerun.stdout()
    );
    assert_eq!(rerun.tree("out"), issued);
}

#[test]
fn a_real_run_may_replace_its_own_dry_run_and_says_how_many_invoices_are_new() {
    let dry = Test::demo().arg("--dry-run").run().expect_code(0);
    assert!(
        dry.stdout().contains("invoices 11 (drafts)"),
        "{}",
        dry.stdout()
    );
    let real = dry
        .then()
        .args(demo_run_args())
        .args(["--out", "out"])
        .run()
        .expect_code(0);
    assert!(
        real.stdout()
            .contains("invoices 11 (0 reused as issued, 11 new)"),
        "{}",
        real.stdout()
    );
    assert!(real.read("out/invoices.csv").contains("\nDID/26-27/00001,"));
}
