//! The integration-test harness: a builder that runs the `didbill` binary in a
//! fresh temporary working directory and captures what it did.
#![allow(dead_code)]

pub mod fake_vobiz;

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
    stdin: Option<Vec<u8>>,
}

/// What a run left behind.
pub struct Ran {
    /// The working directory (kept alive with the result).
    pub dir: tempfile::TempDir,
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
            stdin: None,
        }
    }

    /// The README's demo run on `fixtures/demo`, writing to `out/`.
    pub fn demo() -> Test {
        Test::new().args(demo_run_args()).args(["--out", "out"])
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

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the binary.
    pub fn run(self) -> Ran {
        let mut cmd = Command::cargo_bin("didbill").unwrap();
        cmd.current_dir(self.dir.path())
            .args(&self.args)
            .env_remove("VOBIZ_AUTH_ID")
            .env_remove("VOBIZ_AUTH_TOKEN")
            .env_remove("VOBIZ_API_BASE")
            .env_remove("RUST_LOG");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(input) = self.stdin {
            cmd.write_stdin(input);
        }
        let output = cmd.output().unwrap();
        Ran {
            dir: self.dir,
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
            stdin: None,
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
