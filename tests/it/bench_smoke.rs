//! Smoke tests of the benchmark tooling at a tiny size: the synthetic inventory
//! generator (deterministic, the Vobiz shapes, every record accounted for by a run)
//! and `scripts/bench.sh` end to end. Timings are printed by the script, never
//! asserted here.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{repo, snapshot_run_args, Test};

/// The folder of the `didbill` binary under test, with the `gen_inventory` and
/// `fake_vobiz` examples built beside it (in `examples/`).
fn bins() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_didbill"))
        .parent()
        .expect("the binary is in a folder")
        .to_path_buf();
    // `cargo test` builds the examples with everything else; this makes sure of it
    // when a single test file is run, in the same profile as the binary.
    let mut build = Command::new(env!("CARGO"));
    build.args([
        "build",
        "--quiet",
        "--locked",
        "--example",
        "gen_inventory",
        "--example",
        "fake_vobiz",
    ]);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.current_dir(repo()).status().expect("cargo runs");
    assert!(status.success(), "building the examples failed");
    dir
}

fn generate(bins: &Path, customers: &str, numbers: &str, seed: &str, out: &Path) {
    let ran = Command::new(bins.join("examples/gen_inventory"))
        .args([
            "--customers",
            customers,
            "--numbers",
            numbers,
            "--seed",
            seed,
        ])
        .arg("--out")
        .arg(out)
        .output()
        .expect("gen_inventory runs");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_generator_is_deterministic_and_a_run_accounts_for_every_record() {
    let bins = bins();
    let work = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        work.path().join("a"),
        work.path().join("b"),
        work.path().join("c"),
    );
    generate(&bins, "40", "600", "7", &a);
    generate(&bins, "40", "600", "7", &b);
    generate(&bins, "40", "600", "8", &c);
    for file in ["accounts.json", "numbers.json"] {
        let first = std::fs::read(a.join(file)).unwrap();
        assert_eq!(first, std::fs::read(b.join(file)).unwrap(), "{file}");
        assert_ne!(first, std::fs::read(c.join(file)).unwrap(), "{file}");
    }

    // The Vobiz shapes, with the requested counts and a realistic mix.
    let accounts = json(&a.join("accounts.json"));
    assert_eq!(accounts["accounts"].as_array().unwrap().len(), 40);
    let numbers = json(&a.join("numbers.json"));
    let items = numbers["items"].as_array().unwrap();
    assert_eq!(items.len(), 600);
    assert_eq!(numbers["total"], 600);
    let count = |key: &str, value: &str| items.iter().filter(|n| n[key] == value).count();
    assert!(
        count("currency", "USD") > 0,
        "some numbers are billed in USD"
    );
    assert!(
        count("status", "released") > 0,
        "some numbers were released"
    );
    assert!(count("status", "active") > 300, "most numbers are active");
    let per_customer = |id: &str| items.iter().filter(|n| n["account_id"] == id).count();
    let ids: Vec<String> = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["auth_id"].as_str().unwrap().to_owned())
        .collect();
    let largest = ids.iter().map(|id| per_customer(id)).max().unwrap();
    assert!(
        largest > 600 / 40 * 2,
        "the number of DIDs per customer is skewed"
    );

    // A run over it bills, sets aside or lists as an exception every record.
    let ran = Test::new()
        .args(snapshot_run_args(a.to_str().unwrap(), "2026-11", "out"))
        .arg("--no-pdf")
        .run()
        .expect_code(0);
    let summary: serde_json::Value = serde_json::from_str(&ran.read("out/summary.json")).unwrap();
    let n = |key: &str| summary[key].as_u64().unwrap();
    assert!(n("numbers_fetched") > 590, "{summary}");
    assert_eq!(
        n("billed") + n("not_billable") + n("exceptions"),
        n("numbers_fetched"),
        "{summary}"
    );
    assert!(n("invoices") > 30, "{summary}");
}

#[test]
fn the_benchmark_procedure_runs_end_to_end_at_a_tiny_size() {
    if !Path::new("/usr/bin/time").exists() {
        // CI installs it (.ci/run); a fresh machine may not have it.
        eprintln!("skipped: scripts/bench.sh needs /usr/bin/time (Debian package `time`)");
        return;
    }
    let bins = bins();
    let work = tempfile::tempdir().unwrap();
    let ran = Command::new("bash")
        .arg(repo().join("scripts/bench.sh"))
        .arg("1")
        .env("BENCH_WORK", work.path())
        .env("BENCH_BIN_DIR", &bins)
        .env("BENCH_FULL", "20:200")
        .env("BENCH_CSV", "30:300")
        .env("BENCH_CSV_LARGE", "60:600")
        .env("BENCH_GSTR1", "40:40")
        .env("BENCH_CRITERION", "0")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(ran.status.success(), "{stdout}\n{stderr}");

    // (a): the fetch made requests and its wall time is set against the floor.
    let fetch = stdout
        .lines()
        .find(|l| l.starts_with("fetch: "))
        .unwrap_or_else(|| panic!("no fetch figure:\n{stdout}"));
    let requests: u64 = fetch["fetch: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{fetch}"));
    // 20 customers: the account list plus each customer's numbers, at least.
    assert!(requests >= 21, "{fetch}");
    assert!(
        fetch.contains("floor") && fetch.contains("ratio"),
        "{fetch}"
    );
    // (b) and (c): a median wall time and peak memory for every run.
    for name in ["full ", "csv ", "csv-large ", "gstr1 "] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}figure:\n{stdout}"));
        assert!(
            line.contains("median wall") && line.contains("median peak RSS"),
            "{line}"
        );
    }
    assert!(
        stdout.contains("larger / smaller: ratio of the medians"),
        "{stdout}"
    );
    // (f): with a PostgreSQL ledger, wherever a server is (always under CI).
    if std::env::var_os("PGHOST").is_some() {
        for name in ["full-pg ", "csv-large-pg "] {
            let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with(name)).collect();
            assert!(
                lines.iter().any(|l| l.contains("median wall"))
                    && lines.iter().any(|l| l.contains("median ledger commit")),
                "no {name}figures:\n{stdout}"
            );
        }
        assert!(
            stdout.contains("full run, PostgreSQL / file ledger: "),
            "{stdout}"
        );
    }
    // The snapshots were generated at the sizes asked for.
    let numbers = json(&work.path().join("inv-60-600/numbers.json"));
    assert_eq!(numbers["items"].as_array().unwrap().len(), 600);
}
