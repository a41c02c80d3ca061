//! `didbill fetch`: the scope's records, exactly as the API sent them, saved as a
//! snapshot folder that any run can replay offline (`run --source DIR`).

use std::path::PathBuf;

use didbill_core::period::Period;
use vobiz::fetch::{self, Scope};

use crate::error::Result;
use crate::source::{calls::fetch_dates, write_snapshot, SourceSettings};

/// Everything `didbill fetch` needs, resolved once.
#[derive(Clone, Debug)]
pub struct FetchSettings {
    /// The snapshot folder to write.
    pub out: PathBuf,
    /// Also save the call records of this month (`cdrs/`); `None` without `--period`
    /// or with `--no-usage`.
    pub period: Option<Period>,
    /// Only these customers (empty: all).
    pub customers: Vec<String>,
    /// The API to fetch from (the source is always the API).
    pub source: SourceSettings,
}

/// What a fetch saved: the line to print, and what was noticed on the way.
#[derive(Clone, Debug)]
pub struct FetchReport {
    /// One line for stdout.
    pub summary: String,
    /// Observations for stderr (a `total` that changed while fetching, say).
    pub warnings: Vec<String>,
}

/// Fetches the scope (and the period's CDRs) and writes the snapshot atomically.
pub fn execute(settings: &FetchSettings) -> Result<FetchReport> {
    let source = &settings.source;
    let credentials = source.credentials()?;
    let scope = Scope {
        customers: settings.customers.clone(),
        search: None,
    };
    let fetched = fetch::fetch(&source.api, credentials, &scope, source.fetch_progress())?;
    let mut warnings = fetched.snapshot.notes.clone();
    let calls = match settings.period {
        Some(period) => {
            let ids: Vec<String> = fetched
                .snapshot
                .accounts
                .iter()
                .filter_map(|a| a.auth_id.clone())
                .filter(|id| !id.trim().is_empty())
                .collect();
            let (cdrs, notes) = fetch::fetch_cdrs(
                &source.api,
                credentials,
                &ids,
                fetch_dates(period),
                source.fetch_progress(),
            )?;
            warnings.extend(notes);
            cdrs
        }
        None => Vec::new(),
    };
    let files: Vec<(String, Vec<u8>)> = calls.iter().map(|c| c.snapshot_file()).collect();
    write_snapshot(&settings.out, &fetched.accounts, &fetched.numbers, &files)?;
    let rows: usize = calls.iter().map(|c| c.raw.len()).sum();
    let saved_calls = match settings.period {
        Some(period) => format!(" and {rows} call record(s) of {period}"),
        None => " (no call records: without --period, or with --no-usage, runs on it bill no call usage)".into(),
    };
    Ok(FetchReport {
        summary: format!(
            "fetched {} account(s) and {} number record(s){saved_calls} → {}\n",
            fetched.accounts.len(),
            fetched.numbers.len(),
            settings.out.display()
        ),
        warnings,
    })
}
