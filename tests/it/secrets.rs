//! The partner token never leaves didbill: a recognisable token goes through the
//! whole pipeline (`fetch`, `run --source api` with every output, a run on the saved
//! snapshot, `numbers`, `audit`, `invoices`) and through failing runs against a
//! server that echoes the request headers back, all at `RUST_LOG=trace`; then every
//! byte produced is searched for it: stdout, stderr, the snapshot, every output
//! (PDF text included) and the ledger. The SMTP password of `didbill send`
//! (`DIDBILL_SMTP_PASSWORD`) gets the same search, and so does the password of a
//! PostgreSQL ledger, in its URL or in `PGPASSWORD`.

use didbill::config::Config;
use vobiz::client::{Client, Credentials};
use vobiz::fetch::Scope;
use vobiz::settings::ApiSettings;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::fake_vobiz::FakeVobiz;
use crate::common::{demo_dir, Ran, Test};

/// The fetch as the application sees it: no progress bar, errors as didbill's
/// own (with their exit codes).
async fn fetch_async(
    settings: &ApiSettings,
    credentials: &vobiz::client::Credentials,
    scope: &Scope,
) -> Result<vobiz::fetch::Fetched, didbill::error::Error> {
    let progress = std::sync::Arc::new(vobiz::fetch::NoProgress);
    Ok(vobiz::fetch::fetch_async(settings, credentials, scope, progress).await?)
}

const AUTH_ID: &str = "MA_PARTNER_CANARY";
const TOKEN: &str = "tok-CANARY-3f9a1c7e5b2d4f60";

/// Forms the token could leak in: as is, its distinctive part, and encoded.
fn needles() -> Vec<Vec<u8>> {
    let b64 = |s: &str| {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in s.as_bytes().chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    };
    [
        TOKEN.to_owned(),
        "3f9a1c7e5b2d4f60".to_owned(),
        TOKEN.to_uppercase(),
        b64(TOKEN),
        b64(&format!("{AUTH_ID}:{TOKEN}")),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

fn assert_no_token(what: &str, bytes: &[u8]) {
    for needle in needles() {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
            "{what} holds the token ({})",
            String::from_utf8_lossy(&needle)
        );
    }
}

/// Searches a run's stdout and stderr, and returns it for the next run.
fn checked(ran: Ran, what: &str) -> Ran {
    assert_no_token(&format!("{what}: stdout"), &ran.output.stdout);
    assert_no_token(&format!("{what}: stderr"), &ran.output.stderr);
    ran
}

/// Every file the runs left in the working directory, and every PDF's text.
fn assert_no_token_in_files(ran: &Ran) {
    let files = ran.tree("");
    assert!(files.iter().any(|(n, _)| n == "didbill.sqlite"));
    assert!(files.iter().any(|(n, _)| n == "snap/numbers.json"));
    assert!(files.iter().any(|(n, _)| n.ends_with(".pdf")));
    assert!(files.iter().any(|(n, _)| n.ends_with("xero.csv")));
    for (name, bytes) in files {
        assert_no_token(&name, &bytes);
        if name.ends_with(".pdf") {
            let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
            assert_no_token(&format!("{name} (text)"), text.as_bytes());
        }
    }
}

/// Answers with `status` and a body holding every request header, token included,
/// as a careless or hostile server might.
struct Echo(u16, bool);

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut headers: Vec<String> = request
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or_default()))
            .collect();
        // The credentials first, so they fall inside the part an error quotes.
        headers.sort_by_key(|h| (!h.starts_with("x-auth-token"), !h.starts_with("x-auth-id")));
        let text = headers.join("; ");
        let body = if self.1 {
            serde_json::json!({"error": "echo", "message": text, "status_code": self.0}).to_string()
        } else {
            format!("<html>{text}</html>")
        };
        ResponseTemplate::new(self.0).set_body_string(body)
    }
}

fn with_token(test: Test, base: &str) -> Test {
    test.env("VOBIZ_AUTH_ID", AUTH_ID)
        .env("VOBIZ_AUTH_TOKEN", TOKEN)
        .env("VOBIZ_API_BASE", base)
        .env("RUST_LOG", "trace")
}

fn run_args(source: &str, out: &str) -> Vec<String> {
    let config = demo_dir().join("didbill.toml");
    [
        "run",
        "--source",
        source,
        "--period",
        "2026-11",
        "--as-of",
        "2026-12-02T00:00:00Z",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out,
        "--csv",
        "xero,zoho,quickbooks",
    ]
    .map(String::from)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_appears_in_no_byte_didbill_produces() {
    let fake = FakeVobiz::from_dir(&demo_dir())
        .unwrap()
        .credentials(AUTH_ID, TOKEN)
        .start(0)
        .unwrap();
    let echo = MockServer::start().await;
    for (prefix, status, json) in [
        ("/e401", 401, true),
        ("/e422", 422, false),
        ("/e200", 200, false),
    ] {
        Mock::given(method("GET"))
            .and(wiremock::matchers::path_regex(format!("^{prefix}/")))
            .respond_with(Echo(status, json))
            .mount(&echo)
            .await;
    }
    let base = fake.base_url();

    let ran = checked(
        with_token(Test::new(), &base)
            .args(["fetch", "--out", "snap"])
            .run()
            .expect_code(0),
        "fetch",
    );
    assert!(ran.stderr().contains("TRACE"), "trace logging is on");
    let ran = checked(
        with_token(ran.then(), &base)
            .args(run_args("api", "out-api"))
            .run()
            .expect_code(0),
        "run --source api",
    );
    let ran = checked(
        with_token(ran.then(), &base)
            .args(run_args("snap", "out-snap"))
            .run()
            .expect_code(0),
        "run --source snap",
    );
    assert_eq!(ran.tree("out-api"), ran.tree("out-snap"));
    let mut ran = ran;
    for args in [
        vec!["numbers", "--format", "json"],
        vec![
            "audit",
            "--format",
            "json",
            "--as-of",
            "2026-12-02T00:00:00Z",
        ],
        vec!["invoices", "list"],
    ] {
        ran = checked(
            with_token(ran.then(), &base)
                .args(args.clone())
                .run()
                .expect_code(0),
            args[0],
        );
    }

    // Servers that echo the token back: refused, malformed and unusable answers.
    for (prefix, expect) in [
        ("/e401", "401 Unauthorized"),
        ("/e422", "422 Unprocessable Entity"),
        ("/e200", "not what the API documents"),
    ] {
        let echo_base = format!("{}{prefix}", echo.uri());
        ran = with_token(ran.then(), &echo_base)
            .args(run_args("api", "out-failed"))
            .run()
            .expect_code(3);
        assert!(ran.stderr().contains(expect), "{}", ran.stderr());
        assert!(
            ran.stderr()
                .contains(&format!("x-auth-token: ***; x-auth-id: {AUTH_ID}")),
            "the echo is quoted, the token in it scrubbed: {}",
            ran.stderr()
        );
        ran = checked(ran, prefix);
    }
    assert!(!ran.path("out-failed").exists());
    assert_no_token_in_files(&ran);

    // Read-only use: every request the echo server saw was a GET without a body.
    let seen = echo.received_requests().await.unwrap();
    assert!(!seen.is_empty());
    for request in seen {
        assert_eq!(request.method.as_str(), "GET", "{}", request.url);
        assert!(request.body.is_empty());
    }
}

#[tokio::test]
async fn debug_and_error_values_never_hold_the_token() {
    let credentials = Credentials::new(AUTH_ID, TOKEN).unwrap();
    let mut settings = Config::default().api.settings();
    let client = Client::new(&settings, &credentials).unwrap();
    let shown = format!("{credentials:?} {credentials:#?} {client:?} {client:#?} {settings:?}");
    assert_no_token("Debug", shown.as_bytes());
    assert!(shown.contains(AUTH_ID) && shown.contains("***"), "{shown}");

    // An error from a server that echoes the headers, in Display and Debug.
    let echo = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Echo(401, true))
        .mount(&echo)
        .await;
    settings.base_url = echo.uri();
    let err = fetch_async(&settings, &credentials, &Scope::default())
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?} {err:#?}");
    assert!(shown.contains("x-auth-token: ***"), "{shown}");
    assert_no_token("an API error", shown.as_bytes());

    // A panic carrying the credentials shows them redacted too.
    let panic =
        std::panic::catch_unwind(|| panic!("while fetching with {credentials:?}")).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_no_token("a panic message", message.as_bytes());
}

/// `send` with the canary as `DIDBILL_SMTP_PASSWORD`, at `RUST_LOG=trace`: a login
/// the server takes, one it refuses, a dry run and `--eml-dir`; the password is in no
/// output, no `.eml` file and not in the ledger's outbox.
#[test]
fn the_smtp_password_appears_in_no_byte_send_produces() {
    use crate::cli_send::{config, Sink};
    let taking = Sink::with_password(TOKEN);
    let refusing = Sink::with_password("another-password");
    let demo = demo_dir();
    let send = |ran: Ran, port: u16, extra: &[&str]| {
        ran.then()
            .file("cfg.toml", config(port, ""))
            .args(["send", "--period", "2026-11", "--config", "cfg.toml"])
            .args(["--source", demo.to_str().unwrap()])
            .args(extra.iter().copied())
            .env("DIDBILL_SMTP_PASSWORD", TOKEN)
            .env("RUST_LOG", "trace")
            .run()
    };
    let billed = Test::demo_configured(config(taking.port, ""))
        .run()
        .expect_code(0);
    let refused = checked(
        send(billed, refusing.port, &[]).expect_code(6),
        "send refused",
    );
    let dry = checked(
        send(refused, taking.port, &["--dry-run"]).expect_code(0),
        "send --dry-run",
    );
    let eml = checked(
        send(dry, taking.port, &["--eml-dir", "mail"]).expect_code(0),
        "send --eml-dir",
    );
    let sent = checked(send(eml, taking.port, &[]).expect_code(0), "send");
    assert_eq!(taking.received().len(), 11);
    for (name, bytes) in sent.tree("") {
        assert_no_token(&name, &bytes);
    }
}

#[test]
fn the_ledger_password_appears_in_no_byte_a_postgresql_ledger_produces() {
    let Some(db) = crate::common::pg::fresh("secrets_on_postgres") else {
        return;
    };
    // A role of this test's own whose password is the canary, owning the ledger's schema.
    db.sql(&format!(
        "DO $$ BEGIN CREATE ROLE didbill_canary LOGIN PASSWORD '{TOKEN}';
         EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         ALTER SCHEMA public OWNER TO didbill_canary;"
    ));
    let (server, database) = db
        .url
        .strip_prefix("postgres://")
        .and_then(|rest| rest.split_once('@'))
        .and_then(|(_, rest)| rest.split_once('/'))
        .unwrap();
    let with_password = format!("postgres://didbill_canary:{TOKEN}@{server}/{database}");
    let without = format!("postgres://didbill_canary@{server}/{database}");
    let ledger_run = |test: Test, url: &str| {
        test.args(crate::common::demo_run_args())
            .args(["--out", "out", "--ledger", url])
            .env("RUST_LOG", "trace")
    };
    let first = checked(
        ledger_run(Test::new(), &with_password).run().expect_code(0),
        "run with the password in the URL",
    );
    let again = checked(
        ledger_run(first.then(), &without)
            .env("PGPASSWORD", TOKEN)
            .run()
            .expect_code(0),
        "run with PGPASSWORD",
    );
    let listed = checked(
        again
            .then()
            .args(["invoices", "list", "--ledger", &with_password])
            .env("RUST_LOG", "trace")
            .run()
            .expect_code(0),
        "invoices list",
    );
    let verified = checked(
        listed
            .then()
            .args(["ledger", "verify"])
            .env("DIDBILL_LEDGER", &with_password)
            .env("RUST_LOG", "trace")
            .run()
            .expect_code(0),
        "ledger verify",
    );
    let missing = format!("postgres://didbill_canary:{TOKEN}@{server}/no_such_ledger");
    let failed = checked(
        verified
            .then()
            .args(["invoices", "list", "--ledger", &missing])
            .env("RUST_LOG", "trace")
            .run()
            .expect_code(1),
        "a database that does not exist",
    );
    let help = checked(
        failed
            .then()
            .args(["run", "--help"])
            .env("DIDBILL_LEDGER", &with_password)
            .run()
            .expect_code(0),
        "run --help with DIDBILL_LEDGER set",
    );
    for (name, bytes) in help.tree("") {
        assert_no_token(&name, &bytes);
    }
}
