//! Inventory snapshots: `accounts.json` and `numbers.json` in the API's envelopes.
//!
//! A snapshot is what `didbill fetch --out DIR` writes and `--source DIR` reads
//! (SPEC §3): the accounts envelope with every account and the global numbers
//! envelope with every item, each record exactly as the API sent it.

use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::dto::{parse_object, AccountRecord, AccountsPage, Loose, NumberRecord, NumbersPage};
use crate::error::{Error, Result};

/// The accounts file of a snapshot.
pub const ACCOUNTS_FILE: &str = "accounts.json";
/// The numbers file of a snapshot.
pub const NUMBERS_FILE: &str = "numbers.json";

/// Every record a source returned, parsed but not yet validated.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Customer accounts.
    pub accounts: Vec<AccountRecord>,
    /// Number records, duplicates and broken records included.
    pub numbers: Vec<NumberRecord>,
    /// Observations made while fetching (for example a `total` that changed).
    pub notes: Vec<String>,
}

/// Reads `DIR/accounts.json` and `DIR/numbers.json`, each of at most `limit` bytes
/// (see [`DEFAULT_MAX_FILE_MIB`]).
pub fn read(dir: &Path, limit: u64) -> Result<Snapshot> {
    let accounts_path = dir.join(ACCOUNTS_FILE);
    let numbers_path = dir.join(NUMBERS_FILE);
    let accounts = parse_accounts(&accounts_path, &read_bounded(&accounts_path, limit)?)?;
    let numbers = parse_numbers(&numbers_path, &read_bounded(&numbers_path, limit)?)?;
    Ok(Snapshot {
        accounts,
        numbers,
        notes: Vec::new(),
    })
}

/// The environment variable with which a user raises [`DEFAULT_MAX_FILE_MIB`] (the
/// application reads it; the limit reaches this crate as a parameter).
pub const MAX_FILE_ENV: &str = "DIDBILL_MAX_SNAPSHOT_MIB";

/// The largest snapshot file read by default, in MiB. A Vobiz number record is
/// about 1 KB, so this holds about 250,000 numbers; a bigger file is more likely a
/// wrong path (a disk image, `/dev/zero`) than a snapshot, and reading it whole
/// would exhaust memory.
pub const DEFAULT_MAX_FILE_MIB: u64 = 256;

/// Reads a whole file of at most `limit` bytes. The limit is checked while reading,
/// not only against the size the file claims, so a device or a growing file cannot
/// get past it.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let cannot = |e: std::io::Error| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (a snapshot folder holds accounts.json and numbers.json, as `didbill fetch --out DIR` writes them)"
        } else {
            ""
        };
        Error::input(path, format!("cannot read: {e}{hint}"))
    };
    let too_big = || {
        Error::input(
            path,
            format!(
                "is larger than {} MiB, the limit for a snapshot file; if it really is one, \
                 raise the limit with {MAX_FILE_ENV}",
                limit >> 20
            ),
        )
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let claimed = file.metadata().map_err(cannot)?.len();
    if claimed > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(claimed).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Parses an accounts envelope; a record that is not an account names its `auth_id`.
pub fn parse_accounts(path: &Path, bytes: &[u8]) -> Result<Vec<AccountRecord>> {
    let page: AccountsPage<Box<RawValue>> = parse_object(bytes).map_err(|e| {
        Error::input(
            path,
            format!("not an accounts envelope {{\"accounts\": [...]}}: {e}"),
        )
    })?;
    // Parsed on all cores; the first bad account in file order is the one reported.
    let parsed: Vec<_> = page
        .accounts
        .par_iter()
        .enumerate()
        .map(|(i, raw)| {
            parse_account(raw.get())
                .map_err(|m| Error::input(path, format!("account #{} {m}", i + 1)))
        })
        .collect();
    parsed.into_iter().collect()
}

/// Parses one account record from its JSON text.
pub fn parse_account(raw: &str) -> std::result::Result<AccountRecord, String> {
    #[derive(Deserialize)]
    struct Id {
        #[serde(default)]
        auth_id: Loose<String>,
    }
    parse_object::<AccountRecord>(raw.as_bytes()).map_err(|e| {
        let id = serde_json::from_str::<Id>(raw)
            .ok()
            .and_then(|r| r.auth_id.as_str().map(str::to_owned))
            .unwrap_or_else(|| "(no auth_id)".into());
        format!("(auth_id {id}): {e}; each field must be a string, a boolean or null as the Vobiz API sends it")
    })
}

/// Parses a numbers envelope (`{"items": [...]}`); bad records stay for validation.
pub fn parse_numbers(path: &Path, bytes: &[u8]) -> Result<Vec<NumberRecord>> {
    let page: NumbersPage<&RawValue> = parse_object(bytes).map_err(|e| {
        Error::input(
            path,
            format!("not a numbers envelope {{\"items\": [...]}}: {e}"),
        )
    })?;
    // On all cores: parsing is most of reading a large snapshot.
    Ok(page
        .items
        .par_iter()
        .map(|raw| NumberRecord::from_json(raw.get()))
        .collect())
}

/// Renders the accounts envelope of a snapshot, each record's raw text unchanged.
pub fn accounts_json(accounts: &[Box<RawValue>]) -> Vec<u8> {
    let n = accounts.len();
    envelope(
        "accounts",
        accounts,
        &format!("\"total\": {n},\n  \"page\": 1,\n  \"size\": {n}"),
    )
}

/// Renders the global numbers envelope of a snapshot, each record's raw text unchanged.
pub fn numbers_json(numbers: &[Box<RawValue>]) -> Vec<u8> {
    let n = numbers.len();
    envelope(
        "items",
        numbers,
        &format!("\"page\": 1,\n  \"per_page\": {n},\n  \"total\": {n}"),
    )
}

fn envelope(key: &str, records: &[Box<RawValue>], tail: &str) -> Vec<u8> {
    let mut out =
        String::with_capacity(records.iter().map(|r| r.get().len() + 6).sum::<usize>() + 64);
    out.push_str("{\n  \"");
    out.push_str(key);
    out.push_str("\": [");
    for (i, r) in records.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(r.get());
    }
    out.push_str(if records.is_empty() {
        "],\n  "
    } else {
        "\n  ],\n  "
    });
    out.push_str(tail);
    out.push_str("\n}\n");
    out.into_bytes()
}

/// The two files of a snapshot (name, bytes): `accounts.json` and `numbers.json`,
/// each record's raw text unchanged. The application writes them (with any `cdrs/`
/// files) into one atomically committed folder.
pub fn files(
    accounts: &[Box<RawValue>],
    numbers: &[Box<RawValue>],
) -> [(&'static str, Vec<u8>); 2] {
    [
        (ACCOUNTS_FILE, accounts_json(accounts)),
        (NUMBERS_FILE, numbers_json(numbers)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    const LIMIT: u64 = DEFAULT_MAX_FILE_MIB << 20;

    fn write(dir: &Path, accounts: &[Box<RawValue>], numbers: &[Box<RawValue>]) {
        std::fs::create_dir_all(dir).unwrap();
        for (name, bytes) in files(accounts, numbers) {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }

    #[test]
    fn written_snapshot_reads_back_with_records_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("snap");
        let accounts = vec![raw(
            r#"{"auth_id":"MA_1","name":"A","cash_credits":"1300.00000"}"#,
        )];
        let numbers = vec![
            raw(r#"{"id":"n1","account_id":"MA_1","monthly_fee":0.30000000000000004}"#),
            raw(r#"{"id":"n2","account_id":"MA_1","monthly_fee":1e2}"#),
        ];
        write(&snap, &accounts, &numbers);
        let text = std::fs::read_to_string(snap.join(NUMBERS_FILE)).unwrap();
        assert!(text.contains(r#""monthly_fee":0.30000000000000004"#));
        assert!(text.contains(r#""monthly_fee":1e2"#));
        let back = read(&snap, LIMIT).unwrap();
        assert_eq!(back.accounts[0].auth_id.as_deref(), Some("MA_1"));
        assert_eq!(back.numbers.len(), 2);
        // Writing the same records again gives the same bytes.
        let first = std::fs::read(snap.join(ACCOUNTS_FILE)).unwrap();
        write(&snap, &accounts, &numbers);
        assert_eq!(std::fs::read(snap.join(ACCOUNTS_FILE)).unwrap(), first);
        write(&snap, &[], &[]);
        assert!(read(&snap, LIMIT).unwrap().numbers.is_empty());
    }

    #[test]
    fn files_over_the_limit_are_refused_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NUMBERS_FILE);
        std::fs::write(&path, vec![b' '; 3 << 20]).unwrap();
        assert_eq!(read_bounded(&path, 3 << 20).unwrap().len(), 3 << 20);
        let err = read_bounded(&path, 2 << 20).unwrap_err().to_string();
        assert!(
            err.contains("larger than 2 MiB") && err.contains(MAX_FILE_ENV),
            "{err}"
        );
        // A device claims no size; the limit still holds.
        let err = read_bounded(Path::new("/dev/zero"), 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than 1 MiB"), "{err}");
    }

    #[test]
    fn bad_files_name_the_file_and_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), LIMIT).unwrap_err().to_string();
        assert!(
            err.contains("accounts.json") && err.contains("cannot read"),
            "{err}"
        );

        let p = Path::new("accounts.json");
        let err = parse_accounts(p, b"{\"accounts\": [{\"auth_id\": \"MA_9\", \"name\": 5}]}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("MA_9") && err.contains("account #1"), "{err}");
        let err = parse_accounts(p, b"[]").unwrap_err().to_string();
        assert!(err.contains("accounts envelope"), "{err}");
        // serde would read `[[...]]` positionally as `{"accounts": [...]}`.
        let err = parse_accounts(p, b" [[{\"auth_id\": \"MA_1\"}]]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a JSON object"), "{err}");
        assert!(parse_numbers(Path::new("numbers.json"), b"[[]]").is_err());
        let err = parse_accounts(p, b"{\"accounts\": [[\"MA_1\"]]}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a JSON object"), "{err}");
        let err = parse_numbers(Path::new("numbers.json"), b"{\"items\": 1}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("numbers.json") && err.contains("items"),
            "{err}"
        );
        // A record that is not an object is kept, to become an exception row.
        let records = parse_numbers(Path::new("numbers.json"), b"{\"items\": [1, {}]}").unwrap();
        assert_eq!(records.len(), 2);
        assert!(records[0].unreadable.is_some() && records[1].unreadable.is_none());
    }
}
