//! The integration-test harness: a builder that runs the `didbill` binary in a
//! fresh temporary working directory and captures what it did.
#![allow(dead_code)]

pub mod fake_vobiz;
pub mod pg;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The repository root (for fixtures).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled demo snapshot.
pub fn demo_dir() -> PathBuf {
    repo().join("fixtures/demo")
}

/// The audit fixture snapshot (`fixtures/audit`), with its expected outputs.
pub fn audit_dir() -> PathBuf {
    repo().join("fixtures/audit")
}

/// The text of the demo's configuration, `fixtures/demo/didbill.toml`.
pub fn demo_config_text() -> String {
    std::fs::read_to_string(demo_dir().join("didbill.toml")).unwrap()
}

/// The arguments of [`Test::demo_configured`]: the demo run with `--config cfg.toml`
/// and `--out out` (to run again in the same folder with [`Ran::then`]).
pub fn demo_configured_args() -> Vec<String> {
    let mut args = demo_run_args();
    let at = args.iter().position(|a| a == "--config").unwrap() + 1;
    args[at] = "cfg.toml".into();
    args.extend(["--out".into(), "out".into()]);
    args
}

/// The arguments of the README's demo run, without `--out`.
pub fn demo_run_args() -> Vec<String> {
    let demo = demo_dir();
    [
        "run",
        "--source",
        demo.to_str().unwrap(),
        "--period",
        "2026-11",
        "--as-of",
        "2026-12-02T00:00:00Z",
        "--config",
        demo.join("didbill.toml").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// One run of the binary, built up step by step.
pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Set for this run and every later one in the same directory ([`Ran::then`]).
    kept_env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    closed_stdout: bool,
}

/// What a run left behind.
pub struct Ran {
    /// The working directory (kept alive with the result).
    pub dir: tempfile::TempDir,
    kept_env: Vec<(String, String)>,
    /// Exit status, stdout and stderr.
    pub output: Output,
}

impl Test {
    /// A run in a new empty temporary working directory.
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().unwrap(),
            args: Vec::new(),
            env: Vec::new(),
            kept_env: Vec::new(),
            stdin: None,
            closed_stdout: false,
        }
    }

    /// The README's demo run on `fixtures/demo`, writing to `out/`.
    pub fn demo() -> Test {
        Test::new().args(demo_run_args()).args(["--out", "out"])
    }

    /// [`Test::demo`] with `config` (see [`demo_config_text`]) as its configuration
    /// file, written as `cfg.toml`.
    pub fn demo_configured(config: impl AsRef<[u8]>) -> Test {
        Test::new()
            .file("cfg.toml", config)
            .args(demo_configured_args())
    }

    /// Adds one argument.
    pub fn arg(mut self, a: impl Into<String>) -> Test {
        self.args.push(a.into());
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, a: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, k: &str, v: &str) -> Test {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Sets an environment variable for the run and every run after it in the same
    /// directory (`DIDBILL_LEDGER`, to run a whole scenario on another ledger).
    pub fn keep_env(mut self, k: &str, v: &str) -> Test {
        self.kept_env.push((k.into(), v.into()));
        self
    }

    /// Points the run at a fake Vobiz API with the credentials it expects.
    pub fn api(self, fake: &fake_vobiz::Running) -> Test {
        self.env("VOBIZ_API_BASE", &fake.base_url())
            .env("VOBIZ_AUTH_ID", fake_vobiz::DEMO_AUTH_ID)
            .env("VOBIZ_AUTH_TOKEN", fake_vobiz::DEMO_TOKEN)
    }

    /// Writes a file (relative to the working directory) before the run.
    pub fn file(self, path: &str, contents: impl AsRef<[u8]>) -> Test {
        let p = self.dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
        self
    }

    /// Gives the run a stdout whose reader has already gone away, as
    /// `didbill … | head -1` does once `head` has its line.
    pub fn closed_stdout(mut self) -> Test {
        self.closed_stdout = true;
        self
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the binary.
    pub fn run(self) -> Ran {
        self.run_under(&[])
    }

    /// Runs the binary under `wrapper`, a program and its first arguments, followed
    /// by the binary's path and its arguments (for resource limits and mount
    /// namespaces).
    pub fn run_under(self, wrapper: &[&str]) -> Ran {
        let bin = env!("CARGO_BIN_EXE_didbill");
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut cmd = std::process::Command::new(program);
                cmd.args(rest).arg(bin);
                cmd
            }
            None => std::process::Command::new(bin),
        };
        cmd.current_dir(self.dir.path())
            .args(&self.args)
            .env_remove("VOBIZ_AUTH_ID")
            .env_remove("VOBIZ_AUTH_TOKEN")
            .env_remove("VOBIZ_API_BASE")
            .env_remove("RUST_LOG")
            .env_remove("DIDBILL_LEDGER");
        for (k, v) in self.kept_env.iter().chain(&self.env) {
            cmd.env(k, v);
        }
        let output = if self.closed_stdout {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            cmd.stdout(writer).output().unwrap()
        } else {
            let mut cmd = Command::from_std(cmd);
            if let Some(input) = self.stdin {
                cmd.write_stdin(input);
            }
            cmd.output().unwrap()
        };
        Ran {
            dir: self.dir,
            kept_env: self.kept_env,
            output,
        }
    }
}

impl Ran {
    /// Another run in the same working directory, with everything this one left
    /// there (outputs, ledger).
    pub fn then(self) -> Test {
        Test {
            dir: self.dir,
            args: Vec::new(),
            env: Vec::new(),
            kept_env: self.kept_env,
            stdin: None,
            closed_stdout: false,
        }
    }

    /// Exit code.
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    /// Stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts the exit code, showing stderr when it differs.
    pub fn expect_code(self, code: i32) -> Ran {
        assert_eq!(
            self.code(),
            code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// A path inside the working directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Reads a file of the working directory as bytes.
    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Reads a file of the working directory as text.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Every file under `rel`, relative path → bytes, sorted.
    pub fn tree(&self, rel: &str) -> Vec<(String, Vec<u8>)> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        let base = self.path(rel);
        walk(&base, &base, &mut out);
        out.sort();
        out
    }
}

/// A generated snapshot, `accounts.json` and `numbers.json` text: `customers`
/// Karnataka customers `MA_G00001`…, and `numbers` active numbers held since January
/// 2026 (setup 100, rental 300, no billing dates so none lapses) spread over them in
/// turn. Every number is billable in any period from 2026-01 on.
pub fn generated_snapshot(customers: usize, numbers: usize) -> (String, String) {
    use std::fmt::Write as _;
    let mut accounts = String::from("{\"accounts\": [\n");
    for c in 1..=customers {
        let sep = if c == customers { "" } else { "," };
        let _ = writeln!(
            accounts,
            r#"{{"auth_id": "MA_G{c:05}", "name": "Owner {c}", "company": "Customer {c} Pvt Ltd", "state": "KA", "country": "IN", "gstin": null, "cash_credits": "100.00000"}}{sep}"#
        );
    }
    let _ = writeln!(
        accounts,
        "], \"total\": {customers}, \"page\": 1, \"size\": {customers}}}"
    );
    let mut items = String::with_capacity(numbers * 330 + 100);
    items.push_str("{\"items\": [\n");
    for n in 1..=numbers {
        let c = (n - 1) % customers.max(1) + 1;
        let sep = if n == numbers { "" } else { "," };
        let _ = writeln!(
            items,
            r#"{{"id": "num-{n:07}", "account_id": "MA_G{c:05}", "e164": "+9180{n:08}", "status": "active", "setup_fee": 100, "monthly_fee": 300, "currency": "INR", "purchased_at": "2026-01-05T06:00:00Z", "last_billing_date": null, "next_billing_date": null}}{sep}"#
        );
    }
    let _ = writeln!(
        items,
        "], \"page\": 1, \"per_page\": {numbers}, \"total\": {numbers}}}"
    );
    (accounts, items)
}

/// The text of `fixtures/real_run.toml`, to append to a test's own configuration.
pub const REAL_RUN_TOML: &str = include_str!("../../../fixtures/real_run.toml");

/// `fixtures/real_run.toml`: a complete seller and a US dollar rate, which a real run needs.
pub fn real_run_config() -> String {
    repo().join("fixtures/real_run.toml").display().to_string()
}

/// Run arguments of a generated snapshot in folder `snap` for `period`, as of
/// mid-2027, writing to `out`, with the configuration of [`real_run_config`].
pub fn snapshot_run_args(snap: &str, period: &str, out: &str) -> Vec<String> {
    [
        "run",
        "--source",
        snap,
        "--period",
        period,
        "--as-of",
        "2027-06-01T00:00:00Z",
        "--out",
        out,
        "--config",
        &real_run_config(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
