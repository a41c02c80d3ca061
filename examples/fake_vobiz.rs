//! A fake Vobiz Partner API on localhost serving a snapshot folder (with its
//! `cdrs/` call records, if any), to try `--source api` without real credentials:
//!
//! ```text
//! cargo run --example fake_vobiz -- fixtures/demo --port 8787 [--latency-ms 20]
//!     [--fail-rate 0.1 --fail-status 429|503 --retry-after SECS] [--seed N] [--forbid-cdrs]
//!     [--reset-after N]
//! ```
//!
//! It expects the credentials in `VOBIZ_AUTH_ID` / `VOBIZ_AUTH_TOKEN` when they are
//! set (so one `export` serves both sides), else a built-in demo pair it prints.
#![forbid(unsafe_code)]

#[path = "../tests/it/common/fake_vobiz.rs"]
mod fake_vobiz;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use hyper::StatusCode;

use fake_vobiz::{FakeVobiz, DEMO_AUTH_ID, DEMO_TOKEN};

/// Serve a didbill snapshot folder as the Vobiz Partner API.
#[derive(Parser)]
struct Args {
    /// Snapshot folder (accounts.json, numbers.json), e.g. fixtures/demo.
    dir: PathBuf,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of requests (0 to 1) answered with --fail-status.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Status of injected failures: 429 or 503.
    #[arg(long, default_value_t = 503)]
    fail_status: u16,
    /// `Retry-After` seconds sent with injected failures.
    #[arg(long)]
    retry_after: Option<u64>,
    /// Seed of the injected failures.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Answer call record (CDR) requests with 403, as for a partner not allowed to
    /// read them.
    #[arg(long)]
    forbid_cdrs: bool,
    /// Answer this many requests, then cut every connection (an upstream dying
    /// mid-pagination).
    #[arg(long, value_name = "N")]
    reset_after: Option<u64>,
}

fn main() {
    let args = Args::parse();
    let fail_status = match args.fail_status {
        429 => StatusCode::TOO_MANY_REQUESTS,
        503 => StatusCode::SERVICE_UNAVAILABLE,
        other => exit(&format!("--fail-status {other}: use 429 or 503")),
    };
    if !(0.0..=1.0).contains(&args.fail_rate) {
        exit("--fail-rate must be between 0 and 1");
    }
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (auth_id, token, shown_token) =
        match (from_env("VOBIZ_AUTH_ID"), from_env("VOBIZ_AUTH_TOKEN")) {
            (Some(id), Some(token)) => (id, token, "$VOBIZ_AUTH_TOKEN".to_owned()),
            _ => (
                DEMO_AUTH_ID.into(),
                DEMO_TOKEN.into(),
                DEMO_TOKEN.to_owned(),
            ),
        };
    let mut fake = FakeVobiz::from_dir(&args.dir).unwrap_or_else(|e| exit(&e));
    if args.forbid_cdrs {
        fake = fake.forbid_cdrs();
    }
    let mut fake = fake
        .credentials(auth_id.trim(), token.trim())
        .latency(Duration::from_millis(args.latency_ms))
        .failures(args.fail_rate, fail_status, args.retry_after)
        .seed(args.seed);
    if let Some(n) = args.reset_after {
        fake = fake.reset_after(n);
    }
    let running = fake.start(args.port).unwrap_or_else(|e| exit(&e));
    println!(
        "fake Vobiz API serving {} at {}",
        args.dir.display(),
        running.base_url()
    );
    println!(
        "  export VOBIZ_API_BASE={} VOBIZ_AUTH_ID={auth_id} VOBIZ_AUTH_TOKEN={shown_token}",
        running.base_url()
    );
    let mut reported = 0;
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let requests = running.requests();
        if requests != reported {
            reported = requests;
            eprintln!(
                "served {requests} request(s), at most {} at once, {} failure(s) injected",
                running.max_in_flight(),
                running.injected()
            );
        }
    }
}

fn exit(message: &str) -> ! {
    eprintln!("fake_vobiz: {message}");
    std::process::exit(2)
}
