//! `didbill run` end to end on the bundled demo snapshot and on broken inputs.

mod common;

use common::{demo_dir, Test};

const OUTPUTS: [&str; 4] = [
    "line_items.csv",
    "invoices.csv",
    "exceptions.csv",
    "summary.json",
];

#[test]
fn demo_run_matches_the_committed_expected_outputs() {
    let ran = Test::demo().run().expect_code(0);
    for file in OUTPUTS {
        let expected = std::fs::read_to_string(demo_dir().join("expected").join(file)).unwrap();
        assert_eq!(
            ran.read(&format!("out/{file}")),
            expected,
            "{file} differs from fixtures/demo/expected"
        );
    }
    let stdout = ran.stdout();
    assert!(stdout.contains("invoices 11"), "{stdout}");
    assert!(
        stdout.contains("INR  subtotal 8790.23  tax 1519.24  total 10309.47"),
        "{stdout}"
    );
    assert!(
        ran.stderr().contains("MA_ZENITH10"),
        "the place-of-supply fallback is warned about"
    );
}
