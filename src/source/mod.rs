//! Where the inventory comes from: the live Vobiz API or a snapshot folder.
//!
//! This module owns the source of every command that reads the inventory: which
//! source ([`Source`]), the API settings and credentials, the snapshot size limit,
//! loading the records ([`SourceSettings::load`]), keeping the selected customers
//! ([`select_customers`]), the call records of a period ([`calls`]) and writing a
//! snapshot ([`write_snapshot`]). The process environment is read once, by
//! [`Environment::from_process`] when the command line is resolved; nothing below
//! reads it again.

pub mod calls;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::value::RawValue;
use vobiz::client::{Credentials, AUTH_ID_ENV, AUTH_TOKEN_ENV};
use vobiz::fetch::{self, Scope};
use vobiz::settings::ApiSettings;
use vobiz::snapshot::{self, Snapshot, DEFAULT_MAX_FILE_MIB, MAX_FILE_ENV};

use crate::error::{Error, Result};
use crate::output::StagedDir;
use crate::progress;

/// Where the inventory comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The live Vobiz Partner API.
    Api,
    /// A snapshot folder (`accounts.json`, `numbers.json`).
    Snapshot(PathBuf),
}

impl Source {
    /// Reads a `--source` argument: `api`, or a snapshot folder.
    pub fn from_arg(arg: &str) -> Source {
        match arg {
            "api" => Source::Api,
            dir => Source::Snapshot(PathBuf::from(dir)),
        }
    }

    /// `api` or the snapshot folder, as the ledger records it.
    pub fn describe(&self) -> String {
        match self {
            Source::Api => "api".into(),
            Source::Snapshot(dir) => dir.display().to_string(),
        }
    }
}

/// The environment variable holding the SMTP password of `didbill send` (never a
/// flag or a file).
pub const SMTP_PASSWORD_ENV: &str = "DIDBILL_SMTP_PASSWORD";

/// The environment variables didbill reads, read once when a command starts.
/// Tests build one by hand instead of changing the process environment.
#[derive(Clone, Default)]
pub struct Environment {
    /// `VOBIZ_AUTH_ID`.
    pub auth_id: Option<String>,
    /// `VOBIZ_AUTH_TOKEN` (secret: this type has no `Debug`).
    pub auth_token: Option<String>,
    /// `DIDBILL_MAX_SNAPSHOT_MIB`.
    pub max_snapshot_mib: Option<String>,
    /// `DIDBILL_SMTP_PASSWORD` (secret, for `didbill send`).
    pub smtp_password: Option<String>,
}

impl Environment {
    /// The variables of this process.
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var(name).ok();
        Environment {
            auth_id: var(AUTH_ID_ENV),
            auth_token: var(AUTH_TOKEN_ENV),
            max_snapshot_mib: var(MAX_FILE_ENV),
            smtp_password: var(SMTP_PASSWORD_ENV),
        }
    }

    /// The partner credentials, or the usage error to report if the API is used
    /// without them (credentials come from the environment only, never a file or a
    /// flag, so the secret stays out of shell history and repositories).
    pub fn credentials(&self) -> std::result::Result<Credentials, String> {
        match (&self.auth_id, &self.auth_token) {
            (Some(id), Some(token)) => Credentials::new(id, token).map_err(|e| e.to_string()),
            _ => Err(format!(
                "the Vobiz API needs the partner credentials in the environment: \
                 set {AUTH_ID_ENV} and {AUTH_TOKEN_ENV}"
            )),
        }
    }

    /// The snapshot file size limit in bytes: `DIDBILL_MAX_SNAPSHOT_MIB`, or the default.
    pub fn snapshot_limit(&self) -> Result<u64> {
        let mib = match &self.max_snapshot_mib {
            Some(v) => v.trim().parse::<u64>().ok().filter(|&m| m > 0).ok_or_else(|| {
                Error::Usage(format!(
                    "{MAX_FILE_ENV}={v:?}: the snapshot size limit must be a whole number of MiB, at least 1"
                ))
            })?,
            None => DEFAULT_MAX_FILE_MIB,
        };
        Ok(mib.saturating_mul(1 << 20))
    }
}

/// Everything needed to read the inventory, resolved once from the command line,
/// the configuration and the environment.
#[derive(Clone, Debug)]
pub struct SourceSettings {
    /// The API or a snapshot folder.
    pub source: Source,
    /// How to reach and page through the API.
    pub api: ApiSettings,
    /// The partner credentials, or why there are none (reported only if the API
    /// is used).
    pub credentials: std::result::Result<Credentials, String>,
    /// The largest snapshot or CDR file read, in bytes.
    pub snapshot_limit: u64,
    /// Whether to draw progress bars on stderr.
    pub progress: bool,
}

impl SourceSettings {
    /// The credentials, or a usage error (exit 2) saying how to set them.
    pub fn credentials(&self) -> Result<&Credentials> {
        self.credentials
            .as_ref()
            .map_err(|message| Error::Usage(message.clone()))
    }

    /// A progress reporter for one fetch.
    pub fn fetch_progress(&self) -> std::sync::Arc<dyn fetch::Progress> {
        progress::fetch_bar(self.progress)
    }

    /// Loads the inventory records. The API is asked only for the scope; a snapshot
    /// is read whole, so callers still apply [`select_customers`] (which also checks
    /// the ids) and any search themselves.
    pub fn load(&self, scope: &Scope) -> Result<Snapshot> {
        match &self.source {
            Source::Snapshot(dir) => Ok(snapshot::read(dir, self.snapshot_limit)?),
            Source::Api => {
                Ok(
                    fetch::fetch(&self.api, self.credentials()?, scope, self.fetch_progress())?
                        .snapshot,
                )
            }
        }
    }
}

/// Keeps only the accounts and numbers of the selected customers.
pub fn select_customers(snapshot: &mut Snapshot, customers: &[String]) -> Result<()> {
    if customers.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<&str> = customers.iter().map(String::as_str).collect();
    let known: HashSet<&str> = snapshot
        .accounts
        .iter()
        .filter_map(|a| a.auth_id.as_deref())
        .collect();
    if let Some(missing) = customers.iter().find(|c| !known.contains(c.as_str())) {
        return Err(Error::Usage(format!(
            "customer {missing} is not in the inventory; check the id (MA_...)"
        )));
    }
    snapshot
        .accounts
        .retain(|a| a.auth_id.as_deref().is_some_and(|id| wanted.contains(id)));
    snapshot
        .numbers
        .retain(|n| n.account_id.as_str().is_some_and(|id| wanted.contains(id)));
    Ok(())
}

/// Writes a snapshot folder atomically: `accounts.json`, `numbers.json` and any
/// further `files` (path inside the snapshot, bytes), such as the `cdrs/` call
/// records, appear together or not at all.
pub fn write_snapshot(
    dir: &Path,
    accounts: &[Box<RawValue>],
    numbers: &[Box<RawValue>],
    files: &[(String, Vec<u8>)],
) -> Result<()> {
    let staged = StagedDir::create(dir, snapshot::ACCOUNTS_FILE)?;
    for (name, bytes) in snapshot::files(accounts, numbers) {
        staged.write_file(name, &bytes)?;
    }
    for (path, bytes) in files {
        staged.write_file(path, bytes)?;
    }
    staged.commit()
}
