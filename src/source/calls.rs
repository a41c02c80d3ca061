//! The calls a run bills: CDRs from the source, checked to cover the period and
//! validated (by [`crate::inventory::calls`]; the billing rules are in
//! [`didbill_core::billing::usage`]).
//!
//! From a snapshot, the `cdrs/` folder is read for every customer billed; a
//! snapshot without that folder has no usage (it predates call billing). From the
//! API, every customer's CDRs of the period (with a day's margin each side, see
//! [`fetch_dates`]) are fetched. `--no-usage` bills the numbers only,
//! reading no CDRs at all.

use std::path::Path;

use chrono::{Duration, NaiveDate};
use didbill_core::period::Period;
use vobiz::cdr::{self, CustomerCdrs};
use vobiz::fetch;

use super::{Source, SourceSettings};
use crate::error::{Error, Result};
use crate::inventory::calls::{self as validate, Calls};

/// The dates to ask the API for (inclusive): a day of margin on each side of the
/// period, as the API's `start_date`/`end_date` are dates whose zone it does not
/// state; a call's local start date then decides its period.
pub fn fetch_dates(period: Period) -> (NaiveDate, NaiveDate) {
    (period.start() - Duration::days(1), period.end())
}

/// The validated calls of `customers` in `period` from the source (none from a
/// snapshot without `cdrs/`).
pub fn load(settings: &SourceSettings, customers: &[&str], period: Period) -> Result<Calls> {
    match &settings.source {
        Source::Snapshot(dir) => from_snapshot(dir, customers, period, settings.snapshot_limit),
        Source::Api => {
            let ids: Vec<String> = customers.iter().map(|c| (*c).to_owned()).collect();
            let (fetched, notes) = fetch::fetch_cdrs(
                &settings.api,
                settings.credentials()?,
                &ids,
                fetch_dates(period),
                settings.fetch_progress(),
            )?;
            let cdrs: Vec<CustomerCdrs> = fetched.into_iter().map(|f| f.cdrs).collect();
            let mut calls = validate::validate(&cdrs);
            calls.notes = notes;
            Ok(calls)
        }
    }
}

/// `--strict`: call records that cannot be billed stop the run, as number
/// exceptions do.
pub fn refuse_problems(calls: &Calls) -> Result<()> {
    let problems = &calls.problems;
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::strict_refusal(
        "call record(s)",
        problems.len(),
        problems.iter().map(ToString::to_string),
    ))
}

/// Reads the CDRs of `customers` from the snapshot in `dir` and validates them;
/// no calls when the snapshot has no `cdrs/` folder. Each file may hold at most
/// `limit` bytes.
pub fn from_snapshot(dir: &Path, customers: &[&str], period: Period, limit: u64) -> Result<Calls> {
    match cdr::read(dir, customers, limit)? {
        Some(cdrs) => {
            check_dates(&cdrs, period, dir)?;
            Ok(validate::validate(&cdrs))
        }
        None => Ok(Calls::default()),
    }
}

/// Refuses CDR files fetched for dates that do not cover the period: their calls
/// would silently be missing from the invoices.
fn check_dates(cdrs: &[CustomerCdrs], period: Period, dir: &Path) -> Result<()> {
    let (from, to) = fetch_dates(period);
    for c in cdrs {
        if let Some((start, end)) = c.dates {
            if start > from || end < to {
                return Err(Error::input(
                    dir.join(cdr::cdrs_file(&c.customer_id)),
                    format!(
                        "holds the calls of {start} to {end}, which does not cover {period} \
                         ({from} to {to} with a day's margin); fetch the period again, or run with --no-usage"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn cdrs_of_another_period_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(cdr::CDRS_DIR)).unwrap();
        let nov = Period::from_str("2026-11").unwrap();
        let write = |period: Period| {
            std::fs::write(
                dir.path().join(cdr::cdrs_file("MA_1")),
                cdr::cdrs_json("MA_1", fetch_dates(period), &[]),
            )
            .unwrap()
        };
        write(nov);
        assert_eq!(
            from_snapshot(dir.path(), &["MA_1"], nov, 1 << 20).unwrap(),
            Calls::default()
        );
        write(Period::from_str("2026-10").unwrap());
        let err = from_snapshot(dir.path(), &["MA_1"], nov, 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MA_1.json") && err.contains("2026-09-30 to 2026-11-01"),
            "{err}"
        );
        // No folder at all: an older snapshot, no usage.
        let old = tempfile::tempdir().unwrap();
        assert_eq!(
            from_snapshot(old.path(), &["MA_1"], nov, 1 << 20).unwrap(),
            Calls::default()
        );
    }
}
