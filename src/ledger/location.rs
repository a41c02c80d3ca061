//! Where the ledger lives, resolved once from `--ledger` (or `DIDBILL_LEDGER`): a
//! SQLite file (the default, one operator on one machine) or a PostgreSQL database
//! named by a `postgres://user@host:port/database` URL (a ledger shared by a team).
//!
//! A PostgreSQL URL is shown everywhere without its password. The password comes
//! from the URL, else `PGPASSWORD`, else the `.pgpass` file (`PGPASSFILE` or
//! `~/.pgpass`), as libpq does. Loopback hosts and Unix sockets are reached without
//! TLS; every other host only over TLS (rustls) with its certificate verified
//! against the platform's roots.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use crate::error::{Error, Result};

/// How long a connection attempt to the PostgreSQL server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The ledger a command works on.
#[derive(Clone, Debug)]
pub enum LedgerLocation {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL database.
    Postgres(Box<PgTarget>),
}

impl FromStr for LedgerLocation {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<LedgerLocation, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            // A URL that cannot be used is reported when the ledger is opened, as a
            // ledger error (exit 1) naming the URL without its password.
            Ok(LedgerLocation::Postgres(Box::new(
                PgTarget::parse(text).unwrap_or_else(|why| PgTarget {
                    config: Config::new(),
                    shown: without_password(text),
                    unusable: Some(why),
                }),
            )))
        } else {
            Ok(LedgerLocation::File(PathBuf::from(text)))
        }
    }
}

impl fmt::Display for LedgerLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerLocation::File(path) => write!(f, "{}", path.display()),
            LedgerLocation::Postgres(target) => f.write_str(&target.shown),
        }
    }
}

impl LedgerLocation {
    /// The ledger as messages name it (a URL without its password).
    pub fn shown(&self) -> PathBuf {
        match self {
            LedgerLocation::File(path) => path.clone(),
            LedgerLocation::Postgres(target) => PathBuf::from(&target.shown),
        }
    }
}

/// A PostgreSQL database holding a ledger, with how to reach it.
#[derive(Clone)]
pub struct PgTarget {
    config: Config,
    /// `postgres://user@host:port/database`, without the password.
    shown: String,
    /// Why the URL cannot be used, if it cannot.
    unusable: Option<String>,
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PgTarget").field(&self.shown).finish()
    }
}

impl PgTarget {
    /// Parses a `postgres://` URL; the error says what is wrong with it.
    pub fn parse(url: &str) -> std::result::Result<PgTarget, String> {
        let mut config = Config::from_str(url).map_err(|e| e.to_string())?;
        if config.get_hosts().is_empty() {
            return Err("names no host; write postgres://USER@HOST:PORT/DATABASE".into());
        }
        let Some(database) = config.get_dbname().filter(|d| !d.is_empty()) else {
            return Err("names no database; write postgres://USER@HOST:PORT/DATABASE".into());
        };
        let database = database.to_owned();
        if config.get_user().is_none() {
            match std::env::var("PGUSER") {
                Ok(user) if !user.is_empty() => {
                    config.user(&user);
                }
                _ => {
                    return Err("names no user (and PGUSER is not set); write \
                         postgres://USER@HOST:PORT/DATABASE"
                        .into())
                }
            }
        }
        let user = config.get_user().unwrap_or_default().to_owned();
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .zip(ports(&config))
            .map(|(host, port)| match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            })
            .collect();
        let shown = format!("postgres://{user}@{}/{database}", hosts.join(","));
        Ok(PgTarget {
            config,
            shown,
            unusable: None,
        })
    }

    /// The URL without its password, as messages show it.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Whether every host is this machine (no TLS needed).
    fn loopback(&self) -> bool {
        self.config.get_hosts().iter().all(|host| match host {
            Host::Unix(_) => true,
            Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        })
    }

    /// Connects, with the password from the URL, `PGPASSWORD` or `.pgpass`.
    pub fn connect(&self) -> Result<Client> {
        if let Some(why) = &self.unusable {
            return Err(Error::Ledger {
                path: PathBuf::from(&self.shown),
                message: why.clone(),
            });
        }
        let mut config = self.config.clone();
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .application_name("didbill");
        if config.get_password().is_none() {
            if let Some(password) = self.password_from_environment() {
                config.password(password);
            }
        }
        let connected = if self.loopback() {
            config.ssl_mode(SslMode::Disable).connect(NoTls)
        } else {
            config.ssl_mode(SslMode::Require).connect(tls()?)
        };
        let mut client = connected.map_err(|e| self.connect_error(&e))?;
        // Dates read as text (listings, returns) are YYYY-MM-DD whatever the server's
        // or the database's DateStyle.
        client
            .batch_execute("SET DateStyle = 'ISO, YMD'")
            .map_err(|e| self.connect_error(&e))?;
        Ok(client)
    }

    fn password_from_environment(&self) -> Option<String> {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            return Some(password);
        }
        let file = std::env::var_os("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pgpass")))?;
        let text = std::fs::read_to_string(file).ok()?;
        let host = match self.config.get_hosts().first()? {
            Host::Tcp(name) => name.clone(),
            Host::Unix(_) => "localhost".into(),
        };
        let port = ports(&self.config).next().unwrap_or(5432).to_string();
        let wanted = [
            host.as_str(),
            port.as_str(),
            self.config.get_dbname().unwrap_or_default(),
            self.config.get_user().unwrap_or_default(),
        ];
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| pgpass_match(line, &wanted))
    }

    fn connect_error(&self, e: &postgres::Error) -> Error {
        let user = self.config.get_user().unwrap_or_default();
        let message = match e.code() {
            Some(code)
                if *code == SqlState::INVALID_PASSWORD
                    || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
            {
                format!(
                    "the server refused user {user}'s password; set PGPASSWORD or add a \
                     ~/.pgpass line for it"
                )
            }
            Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
                "the database does not exist; create it first (createdb) — didbill creates \
                 its tables, not the database"
                    .into()
            }
            _ => {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(e);
                while let Some(inner) = cause {
                    text.push_str(&format!(": {inner}"));
                    cause = inner.source();
                }
                format!("cannot connect: {}", scrub(&text, &self.config))
            }
        };
        Error::Ledger {
            path: PathBuf::from(&self.shown),
            message,
        }
    }
}

/// The port of each host (5432 when the URL names none).
fn ports(config: &Config) -> impl Iterator<Item = u16> + '_ {
    let given = config.get_ports();
    (0..config.get_hosts().len()).map(move |i| match given {
        [] => 5432,
        [one] => *one,
        many => many.get(i).copied().unwrap_or(5432),
    })
}

/// rustls with the ring provider and the platform verifier, as for the API and SMTP.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Usage(format!("TLS for the PostgreSQL ledger: {e}")))?
        .with_platform_verifier()
        .map_err(|e| Error::Usage(format!("TLS for the PostgreSQL ledger: {e}")))?
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The password of a `.pgpass` line `host:port:database:user:password` when its
/// first four fields match `wanted` (`*` matches anything; `\:` and `\\` escape).
fn pgpass_match(line: &str, wanted: &[&str; 4]) -> Option<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut()?.push(chars.next().unwrap_or('\\')),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    if fields.len() != 5 {
        return None;
    }
    let matches = fields
        .iter()
        .zip(wanted)
        .all(|(field, want)| field == "*" || field == want);
    matches.then(|| fields.pop().unwrap_or_default())
}

/// A URL with any `user:password@` cut to `user@`, for messages.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}://{user}{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

/// A driver message with the password (should it ever appear) removed.
fn scrub(message: &str, config: &Config) -> String {
    match config.get_password().filter(|p| !p.is_empty()) {
        Some(password) => message.replace(&*String::from_utf8_lossy(password), "***"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Ledger;

    #[test]
    fn a_postgres_url_is_shown_without_its_password_and_needs_a_database() {
        let at = "postgres://billing:s3cret@db.example.com:6432/ledger"
            .parse::<LedgerLocation>()
            .unwrap();
        assert_eq!(
            at.to_string(),
            "postgres://billing@db.example.com:6432/ledger"
        );
        assert!(!format!("{at:?}").contains("s3cret"));
        let LedgerLocation::Postgres(target) = &at else {
            panic!("{at:?}")
        };
        assert!(!target.loopback());

        let local = "postgresql://me@127.0.0.1/books"
            .parse::<LedgerLocation>()
            .unwrap();
        assert_eq!(local.to_string(), "postgres://me@127.0.0.1:5432/books");
        let LedgerLocation::Postgres(target) = &local else {
            panic!("{local:?}")
        };
        assert!(target.loopback());

        let no_database = "postgres://me:pw@db.example.com:5432"
            .parse::<LedgerLocation>()
            .unwrap();
        let err = Ledger::open(&no_database).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ledger postgres://me@db.example.com:5432: names no database; \
             write postgres://USER@HOST:PORT/DATABASE"
        );
        assert_eq!(err.exit_code(), 1);
        let file = "ledgers/didbill.sqlite".parse::<LedgerLocation>().unwrap();
        assert!(
            matches!(&file, LedgerLocation::File(p) if p == Path::new("ledgers/didbill.sqlite")),
            "{file:?}"
        );
    }

    #[test]
    fn pgpass_lines_match_field_by_field_with_wildcards_and_escapes() {
        let wanted = ["db", "5432", "books", "me"];
        assert_eq!(
            pgpass_match("db:5432:books:me:pw", &wanted),
            Some("pw".into())
        );
        assert_eq!(pgpass_match("*:*:*:me:a\\:b", &wanted), Some("a:b".into()));
        assert_eq!(pgpass_match("db:5433:books:me:pw", &wanted), None);
        assert_eq!(pgpass_match("db:5432:books", &wanted), None);
        assert_eq!(
            pgpass_match("*:*:*:*:pass:with:colons", &wanted),
            Some("pass:with:colons".into())
        );
    }
}
