//! Throw-away databases on the PostgreSQL server of the environment (`PGHOST`,
//! `PGPORT`, `PGUSER`, `PGPASSWORD`, as `pg_virtualenv` sets them), for the tests of
//! the PostgreSQL ledger. Without a server the tests skip with a message; under
//! `CI=true` a missing server fails them instead.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, NoTls, SimpleQueryMessage};

/// A database created for one test and dropped after it.
pub struct Database {
    name: String,
    admin: Client,
    /// The `--ledger` URL of the database (no password: the child process reads
    /// `PGPASSWORD`).
    pub url: String,
}

fn server_config(database: &str) -> Option<postgres::Config> {
    let host = std::env::var("PGHOST").ok()?;
    let mut config = postgres::Config::new();
    config
        .host(&host)
        .port(port())
        .user(&std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into()))
        .dbname(database);
    if let Ok(password) = std::env::var("PGPASSWORD") {
        config.password(password);
    }
    Some(config)
}

fn port() -> u16 {
    std::env::var("PGPORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5432)
}

/// A fresh empty database, or `None` (after saying so) when no server is set up
/// outside CI.
pub fn fresh(test: &str) -> Option<Database> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let connected = server_config("postgres").map(|c| c.connect(NoTls));
    let mut admin = match connected {
        Some(Ok(client)) => client,
        why => {
            let why = match why {
                Some(Err(e)) => format!("cannot connect: {e}"),
                _ => "PGHOST is not set".into(),
            };
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: CI runs the PostgreSQL ledger tests, but {why}; run the tests under \
                 pg_virtualenv (as .ci/run does)"
            );
            // Past the test harness's capture, so that a skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no PostgreSQL server ({why}); run the tests under pg_virtualenv"
            );
            return None;
        }
    };
    let name = format!(
        "didbill_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let host = std::env::var("PGHOST").unwrap();
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    let url = format!("postgres://{user}@{host}:{}/{name}", port());
    Some(Database { name, admin, url })
}

impl Database {
    /// Connects to the database as the test's administrator.
    pub fn connect(&self) -> Client {
        server_config(&self.name).unwrap().connect(NoTls).unwrap()
    }

    /// The rows `query` returns, each column as text (`NULL` for null).
    pub fn sql(&self, query: &str) -> Vec<Vec<String>> {
        self.connect()
            .simple_query(query)
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// The error `statement` fails with (it must fail).
    pub fn refused(&self, statement: &str) -> String {
        let err = self.connect().batch_execute(statement).unwrap_err();
        err.as_db_error()
            .map_or_else(|| err.to_string(), |db| db.message().to_owned())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
