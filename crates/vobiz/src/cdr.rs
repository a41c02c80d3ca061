//! Call detail records: the `GET /accounts/{auth_id}/cdrs` envelope, its rows, and
//! the `cdrs/<auth_id>.json` files of a snapshot.
//!
//! Rows are read leniently like number records ([`Loose`], [`JsonDecimal`]): a bad
//! row must be reported, not abort the month. `cost` and `total_cost` keep their JSON
//! text until parsed into a `Decimal`.
//!
//! A snapshot's `cdrs/<auth_id>.json` holds one customer's rows exactly as the API
//! sent them, in an envelope like the API's that also records the dates asked for:
//! `{"account_auth_id", "start_date", "end_date", "count", "data": [...]}`. A
//! snapshot without a `cdrs/` folder (one written before call usage was billed) has
//! no usage; a folder that is present but lacks a customer's file is an error, as
//! the file was lost rather than never fetched.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::dto::{hash_values, parse_object, JsonDecimal, Loose};
use crate::error::{Error, Result};

/// The snapshot folder of the CDR files.
pub const CDRS_DIR: &str = "cdrs";

/// `pagination` of a CDR page.
#[derive(Debug, Default, Deserialize)]
pub struct Pagination {
    /// The 1-based page number.
    #[serde(default)]
    pub page: Option<u64>,
    /// The page size the server used.
    #[serde(default)]
    pub per_page: Option<u64>,
    /// How many rows exist in all.
    #[serde(default)]
    pub total: Option<u64>,
    /// How many pages exist in all.
    #[serde(default)]
    pub pages: Option<u64>,
    /// Whether a further page exists.
    #[serde(default)]
    pub has_next: Option<bool>,
}

/// The `GET /accounts/{auth_id}/cdrs` envelope, and the snapshot file's.
#[derive(Debug, Deserialize)]
pub struct CdrPage<T> {
    /// The rows of this page.
    pub data: Vec<T>,
    /// The customer.
    #[serde(default)]
    pub account_auth_id: Option<String>,
    /// Paging facts (absent in snapshot files).
    #[serde(default)]
    pub pagination: Option<Pagination>,
    /// First day asked for, `YYYY-MM-DD` (snapshot files only).
    #[serde(default)]
    pub start_date: Option<String>,
    /// Last day asked for, `YYYY-MM-DD` (snapshot files only).
    #[serde(default)]
    pub end_date: Option<String>,
}

/// One call (a CDR row), every field read leniently.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CdrRecord {
    /// The call's id.
    #[serde(default)]
    pub uuid: Loose<String>,
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub call_direction: Loose<String>,
    /// Billable seconds.
    #[serde(default)]
    pub billsec: JsonDecimal,
    /// Seconds from start to end.
    #[serde(default)]
    pub duration: JsonDecimal,
    /// The call's cost before extras.
    #[serde(default)]
    pub cost: JsonDecimal,
    /// What the partner is charged for the call: the amount billed on.
    #[serde(default)]
    pub total_cost: JsonDecimal,
    /// ISO 4217 currency of the costs.
    #[serde(default)]
    pub currency: Loose<String>,
    /// When the call started (RFC 3339, UTC).
    #[serde(default)]
    pub start_time: Loose<String>,
    /// When the call ended.
    #[serde(default)]
    pub end_time: Loose<String>,
    /// Why the row could not be read at all (it is not a JSON object, say).
    #[serde(skip)]
    pub unreadable: Option<String>,
    /// A hash of the row's parsed values, to tell a row fetched twice (however its
    /// JSON was written) from two different rows with one uuid.
    #[serde(skip)]
    pub fingerprint: u64,
}

impl CdrRecord {
    /// Reads one row from its JSON text; never fails (see [`CdrRecord::unreadable`]).
    pub fn from_json(raw: &str) -> CdrRecord {
        let mut record = parse_object::<CdrRecord>(raw.as_bytes()).unwrap_or_else(|e| CdrRecord {
            unreadable: Some(format!("row is not a call record object: {e}")),
            ..CdrRecord::default()
        });
        let CdrRecord {
            uuid,
            call_direction,
            billsec,
            duration,
            cost,
            total_cost,
            currency,
            start_time,
            end_time,
            unreadable,
            fingerprint: _,
        } = &record;
        record.fingerprint = hash_values((
            (uuid, call_direction, billsec, duration, cost, total_cost),
            (currency, start_time, end_time, unreadable),
        ));
        record
    }
}

/// One customer's rows for a date range.
#[derive(Debug, Clone)]
pub struct CustomerCdrs {
    /// The customer, `MA_...`.
    pub customer_id: String,
    /// The days asked for, inclusive (unknown for a hand-written file).
    pub dates: Option<(NaiveDate, NaiveDate)>,
    /// The rows, parsed.
    pub rows: Vec<CdrRecord>,
}

/// Renders a customer's `cdrs/<auth_id>.json`, each row's raw text unchanged.
pub fn cdrs_json(
    customer_id: &str,
    (start, end): (NaiveDate, NaiveDate),
    rows: &[Box<RawValue>],
) -> Vec<u8> {
    let id = serde_json::to_string(customer_id).expect("a string serialises");
    let mut out = format!(
        "{{\n  \"account_auth_id\": {id},\n  \"start_date\": \"{start}\",\n  \"end_date\": \"{end}\",\n  \"count\": {},\n  \"data\": [",
        rows.len()
    );
    for (i, r) in rows.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(r.get());
    }
    out.push_str(if rows.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    out.into_bytes()
}

/// The snapshot path of a customer's CDR file, relative to the snapshot folder.
pub fn cdrs_file(customer_id: &str) -> String {
    format!("{CDRS_DIR}/{customer_id}.json")
}

/// Parses a CDR file or page body; `None` as the customer when the envelope names none.
pub fn parse_page(bytes: &[u8]) -> std::result::Result<CdrPage<CdrRecord>, String> {
    let page: CdrPage<&RawValue> =
        parse_object(bytes).map_err(|e| format!("not a CDR envelope {{\"data\": [...]}}: {e}"))?;
    Ok(CdrPage {
        data: page
            .data
            .iter()
            .map(|raw| CdrRecord::from_json(raw.get()))
            .collect(),
        account_auth_id: page.account_auth_id,
        pagination: page.pagination,
        start_date: page.start_date,
        end_date: page.end_date,
    })
}

/// Reads the `cdrs/` folder of the snapshot in `dir` for `customers`: `None` when
/// the snapshot has no such folder (see the module doc). Each file may hold at most
/// `limit` bytes, like the snapshot's own files.
pub fn read(dir: &Path, customers: &[&str], limit: u64) -> Result<Option<Vec<CustomerCdrs>>> {
    let folder = dir.join(CDRS_DIR);
    if !folder.is_dir() {
        return Ok(None);
    }
    let mut files: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    let entries = std::fs::read_dir(&folder)
        .map_err(|e| Error::input(&folder, format!("cannot read the folder: {e}")))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Error::input(&folder, format!("cannot read the folder: {e}")))?
            .path();
        if let Some(id) = path
            .extension()
            .filter(|x| *x == "json")
            .and(path.file_stem())
            .and_then(|s| s.to_str())
        {
            files.insert(id.to_owned(), path);
        }
    }
    let mut out = Vec::with_capacity(customers.len());
    for &customer in customers {
        let path = files.get(customer).ok_or_else(|| {
            Error::input(
                &folder,
                format!(
                    "has no {customer}.json: the snapshot's call records are incomplete; fetch it again, or run with --no-usage"
                ),
            )
        })?;
        let bytes = crate::snapshot::read_bounded(path, limit)?;
        let page = parse_page(&bytes).map_err(|m| Error::input(path, m))?;
        if let Some(named) = page.account_auth_id.as_deref() {
            if named != customer {
                return Err(Error::input(
                    path,
                    format!("holds the calls of {named}, not of {customer}"),
                ));
            }
        }
        let date = |field: &str, text: Option<&str>| -> Result<Option<NaiveDate>> {
            text.map(|t| {
                NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
                    Error::input(path, format!("{field} {t:?} is not a YYYY-MM-DD date"))
                })
            })
            .transpose()
        };
        let start = date("start_date", page.start_date.as_deref())?;
        let end = date("end_date", page.end_date.as_deref())?;
        out.push(CustomerCdrs {
            customer_id: customer.to_owned(),
            dates: start.zip(end),
            rows: page.data,
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn rows_compare_by_parsed_values_not_text() {
        let a = CdrRecord::from_json(r#"{"uuid": "c1", "total_cost": 0.3, "currency": "INR"}"#);
        let b = CdrRecord::from_json(r#"{"currency":"\u0049NR","total_cost":"0.30","uuid":"c1"}"#);
        let c = CdrRecord::from_json(r#"{"uuid": "c1", "total_cost": 0.31, "currency": "INR"}"#);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
    }

    #[test]
    fn rows_keep_their_text_and_costs_parse_exactly() {
        let rows = [
            raw(
                r#"{"uuid":"c1","call_direction":"inbound","billsec":61,"total_cost":0.30000000000000004,"cost":"0.25","currency":"INR","start_time":"2026-11-01T00:10:00Z"}"#,
            ),
            raw(r#"[1]"#),
        ];
        let bytes = cdrs_json("MA_1", (day(1), day(30)), &rows);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(r#""total_cost":0.30000000000000004"#),
            "{text}"
        );
        let page = parse_page(&bytes).unwrap();
        assert_eq!(page.account_auth_id.as_deref(), Some("MA_1"));
        assert_eq!(page.start_date.as_deref(), Some("2026-11-01"));
        let call = &page.data[0];
        assert_eq!(
            call.total_cost,
            JsonDecimal::Amount("0.30000000000000004".parse().unwrap())
        );
        assert_eq!(call.cost, JsonDecimal::Amount("0.25".parse().unwrap()));
        assert_eq!(call.call_direction.as_str(), Some("inbound"));
        assert!(page.data[1].unreadable.is_some());
        assert!(parse_page(b"{\"items\": []}").unwrap_err().contains("data"));
        assert_eq!(
            cdrs_json("MA_1", (day(1), day(2)), &[]),
            b"{\n  \"account_auth_id\": \"MA_1\",\n  \"start_date\": \"2026-11-01\",\n  \"end_date\": \"2026-11-02\",\n  \"count\": 0,\n  \"data\": []\n}\n"
        );
    }

    #[test]
    fn a_snapshot_without_cdrs_has_no_usage_but_a_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path(), &["MA_1"], 1 << 20).unwrap().is_none());
        std::fs::create_dir(dir.path().join(CDRS_DIR)).unwrap();
        let err = read(dir.path(), &["MA_1"], 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MA_1.json") && err.contains("--no-usage"),
            "{err}"
        );
        std::fs::write(
            dir.path().join(cdrs_file("MA_1")),
            cdrs_json("MA_2", (day(1), day(30)), &[]),
        )
        .unwrap();
        let err = read(dir.path(), &["MA_1"], 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(err.contains("MA_2"), "{err}");
        std::fs::write(
            dir.path().join(cdrs_file("MA_1")),
            r#"{"data": [{"uuid": "x"}], "start_date": "2026-11-01", "end_date": "2026-11-30"}"#,
        )
        .unwrap();
        let read = read(dir.path(), &["MA_1"], 1 << 20).unwrap().unwrap();
        assert_eq!(read[0].dates, Some((day(1), day(30))));
        assert_eq!(read[0].rows.len(), 1);
    }
}
