//! Faults around `didbill run` without the API: an unusable, read-only or full
//! output folder, a file size limit, and a SIGKILL in the middle of the run. Each
//! ends in a clear error or a clean next run: no half-written outputs, no ledger
//! change, no temporary folders left beside the outputs.
//!
//! The read-only and full-disk cases mount a tmpfs inside a private mount namespace
//! (`unshare -m`, root only); where that is not possible they say so on stderr and
//! pass. The SIGKILL test with 20,000 numbers and more kill points is ignored by
//! default: `cargo test --test it cli_faults -- --ignored`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{generated_snapshot, snapshot_run_args, Ran, Test};
use didbill::output::leftovers;

const LEDGER: &str = "didbill.sqlite";

/// A working directory with a generated snapshot in `snap/`.
fn with_generated(customers: usize, numbers: usize) -> Test {
    let (accounts, items) = generated_snapshot(customers, numbers);
    Test::new()
        .file("snap/accounts.json", accounts)
        .file("snap/numbers.json", items)
}

/// A first run (October) so that the ledger exists and holds an invoice.
fn with_ledger(customers: usize, numbers: usize) -> Ran {
    with_generated(customers, numbers)
        .args(snapshot_run_args("snap", "2026-10", "out/2026-10"))
        .run()
        .expect_code(0)
}

/// Every file in the working directory that belongs to the ledger (the database
/// and any journal), with its bytes.
fn ledger_files(ran: &Ran) -> Vec<(String, Vec<u8>)> {
    ran.tree("")
        .into_iter()
        .filter(|(name, _)| name.starts_with(LEDGER))
        .collect()
}

fn invoice_numbers(ran: &Ran, out: &str) -> Vec<String> {
    ran.read(&format!("{out}/invoices.csv"))
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect()
}

#[test]
fn an_out_under_a_regular_file_fails_clearly_and_touches_no_ledger() {
    let first = with_ledger(3, 30);
    let before = ledger_files(&first);
    assert_eq!(before.len(), 1);
    let ran = first
        .then()
        .file("blocker", "not a folder")
        .args(snapshot_run_args("snap", "2026-11", "blocker/x/2026-11"))
        .run()
        .expect_code(1);
    let err = ran.stderr();
    assert!(
        err.contains("creating blocker/x, the folder that is to hold blocker/x/2026-11")
            && err.contains("Not a directory")
            && !err.contains("didbill-tmp"),
        "{err}"
    );
    assert_eq!(ledger_files(&ran), before, "the ledger is byte-identical");
    assert_eq!(ran.read("blocker"), "not a folder");

    // `--out` naming a file is a usage error, and the file is left alone.
    let ran = ran
        .then()
        .args(snapshot_run_args("snap", "2026-11", "blocker"))
        .run()
        .expect_code(2);
    assert!(ran.stderr().contains("not a folder"), "{}", ran.stderr());
    assert_eq!(ledger_files(&ran), before);
    assert_eq!(ran.read("blocker"), "not a folder");

    // Without a ledger yet, a failing run does not create one.
    let fresh = with_generated(3, 30)
        .file("blocker", "x")
        .args(snapshot_run_args("snap", "2026-11", "blocker/x/2026-11"))
        .run()
        .expect_code(1);
    assert!(!fresh.path(LEDGER).exists());
}

/// Runs didbill with `out` (a folder of the working directory) mounted as a fresh
/// tmpfs with `options`, in a private mount namespace, and lists what the tmpfs
/// held when didbill ended into the file `tmpfs-after`. `None` when this machine
/// cannot mount (not root, no `unshare`).
fn run_on_tmpfs(test: Test, mountpoint: &str, options: &str) -> Option<Ran> {
    let script = r#"mount -t tmpfs -o "$0" tmpfs "$1" 2>/dev/null || exit 99
shift
"$@"
code=$?
find "$MNT" -mindepth 1 > tmpfs-after
exit $code"#
        .replace("$MNT", mountpoint);
    let ran = test
        .file(&format!("{mountpoint}/.keep"), "")
        .run_under(&["unshare", "-m", "sh", "-c", &script, options, mountpoint]);
    if ran.code() == 99 || !ran.path("tmpfs-after").exists() {
        eprintln!(
            "skipped: cannot mount a tmpfs here (needs root and unshare): {}",
            ran.stderr()
        );
        return None;
    }
    Some(ran)
}

/// After an October run, runs November with its output on a tmpfs of `size` that
/// fills up while `failing` (a path under `disk/2026-11/`) is written, and checks
/// the failure: exit 1 naming the file and the cause, nothing left on the tmpfs,
/// the ledger byte-identical. `None` where no tmpfs can be mounted.
fn fill_the_disk(customers: usize, numbers: usize, size: &str, failing: &str) -> Option<Ran> {
    let first = with_ledger(customers, numbers);
    let before = ledger_files(&first);
    let test = first
        .then()
        .args(snapshot_run_args("snap", "2026-11", "disk/2026-11"));
    let ran = run_on_tmpfs(test, "disk", &format!("size={size}"))?;
    assert_eq!(ran.code(), 1, "{}", ran.stderr());
    let err = ran.stderr();
    assert!(
        err.contains("No space left on device") && err.contains(&format!("disk/2026-11/{failing}")),
        "{err}"
    );
    assert_eq!(
        ran.read("tmpfs-after"),
        "",
        "nothing is left on the full disk"
    );
    assert_eq!(ledger_files(&ran), before);
    Some(ran)
}

#[test]
fn a_full_disk_is_a_clear_error_with_nothing_half_written_and_no_ledger_change() {
    // 2,000 numbers make a line_items.csv of about 280 KB; the tmpfs holds 64 KB.
    let Some(ran) = fill_the_disk(1, 2_000, "64k", "line_items.csv") else {
        return;
    };
    // With room, the same run takes the next number: the failure left no gap.
    let ok = ran
        .then()
        .args(snapshot_run_args("snap", "2026-11", "out/2026-11"))
        .run()
        .expect_code(0);
    assert_eq!(invoice_numbers(&ok, "out/2026-11"), ["DID/26-27/00002"]);
    assert!(leftovers(&ok.path("out/2026-11")).is_empty());
}

#[test]
fn a_disk_filling_up_while_the_pdfs_are_written_leaves_nothing_and_no_ledger_change() {
    // 12 customers: the CSV files take about 6 KB and fit, the PDFs (about 37 KB
    // each, written as they are rendered on all cores) do not.
    fill_the_disk(12, 60, "96k", "pdf/DID-");
}

#[test]
fn a_read_only_output_folder_is_a_clear_error_and_no_ledger_change() {
    let first = with_ledger(3, 30);
    let before = ledger_files(&first);
    let test = first
        .then()
        .args(snapshot_run_args("snap", "2026-11", "ro/2026-11"));
    let Some(ran) = run_on_tmpfs(test, "ro", "size=1m,ro") else {
        return;
    };
    assert_eq!(ran.code(), 1, "{}", ran.stderr());
    assert!(
        ran.stderr().contains("Read-only file system"),
        "{}",
        ran.stderr()
    );
    assert_eq!(ran.read("tmpfs-after"), "");
    assert_eq!(ledger_files(&ran), before);
}

#[test]
fn a_file_size_limit_is_a_clear_error_with_nothing_half_written() {
    // `ulimit -f 128` is 64 KB in dash (512-byte blocks), 128 KB in bash; with
    // SIGXFSZ ignored a write past it fails with EFBIG instead of killing didbill.
    let first = with_ledger(1, 2_000);
    let before = ledger_files(&first);
    let script = r#"ulimit -f 128 && trap '' XFSZ && exec "$@""#;
    let ran = first
        .then()
        .args(snapshot_run_args("snap", "2026-11", "out/2026-11"))
        .run_under(&["sh", "-c", script, "sh"])
        .expect_code(1);
    assert!(
        ran.stderr().contains("File too large") && ran.stderr().contains("line_items.csv"),
        "{}",
        ran.stderr()
    );
    assert!(!ran.path("out/2026-11").exists());
    assert!(leftovers(&ran.path("out/2026-11")).is_empty());
    assert_eq!(ledger_files(&ran), before);
}

/// When to kill a run, given its working directory and the time since it started.
type KillPoint = Box<dyn Fn(&Path, Duration) -> bool>;

/// Starts a run and SIGKILLs it once `ready` holds (or it has finished by itself).
/// Returns whether it was killed.
fn kill_when(test: &Test, args: &[String], ready: &KillPoint) -> bool {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_didbill"))
        .current_dir(test.path())
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A generous bound, only so a broken build cannot hang the suite.
    let deadline = Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let elapsed = started.elapsed();
        if ready(test.path(), elapsed) || elapsed > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Once a staging folder of `out` (a child of the working directory) exists,
/// holding at least `files` files.
fn staging_with(files: usize) -> KillPoint {
    Box::new(move |dir: &Path, _| {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".out.didbill-tmp-")
            })
            .any(|e| std::fs::read_dir(e.path()).map_or(0, |d| d.count()) >= files)
    })
}

/// Once the run has been going for `ms` milliseconds.
fn after(ms: u64) -> KillPoint {
    Box::new(move |_: &Path, elapsed| elapsed >= Duration::from_millis(ms))
}

/// Kills runs at each point, re-runs to completion after each, and compares with
/// an uninterrupted run: same invoices, same numbers (no gap), same bytes, and
/// nothing left beside the outputs.
fn killed_runs_recover(customers: usize, numbers: usize, points: Vec<KillPoint>) {
    let reference = with_generated(customers, numbers)
        .args(snapshot_run_args("snap", "2026-11", "out"))
        .run()
        .expect_code(0);
    let expected = reference.tree("out");
    let args = snapshot_run_args("snap", "2026-11", "out");
    let mut killed = 0;
    for ready in points {
        let test = with_generated(customers, numbers);
        killed += usize::from(kill_when(&test, &args, &ready));
        let ran = test.args(args.clone()).run().expect_code(0);
        assert_eq!(ran.tree("out"), expected, "outputs after a killed run");
        assert!(leftovers(&ran.path("out")).is_empty());
    }
    assert!(
        killed > 0,
        "no run was interrupted: the snapshot is too small"
    );
}

#[test]
fn a_run_killed_while_rendering_is_cleaned_up_by_the_next_run() {
    killed_runs_recover(20, 1_000, vec![staging_with(0), staging_with(1)]);
}

#[test]
#[ignore = "about a minute in a debug build: cargo test --test it cli_faults -- --ignored"]
fn runs_killed_at_many_points_of_a_large_month_recover() {
    let points = vec![
        staging_with(0),
        staging_with(1),
        staging_with(3),
        after(20),
        after(200),
        after(1_000),
        after(3_000),
    ];
    killed_runs_recover(200, 20_000, points);
}
