//! `didbill ledger verify`: checks that a ledger still holds what didbill wrote.
//!
//! The checks run on [`Facts`], what a backend reads of itself, so each backend
//! only has to read them: every series (invoices per financial year, credit and
//! debit notes per kind and year) runs 1, 2, 3, … with no gap or repeat, and in the
//! order the rows were written (a row deleted and written again shows as a later
//! row with an earlier number); every invoice's content hash matches the lines and
//! amounts stored with it (an edit outside didbill breaks it); the guards that make
//! the history append-only are all in place; and the credit notes of an invoice do
//! not exceed its total. Runs that stopped while rendering are reported, not
//! counted as problems: the next run of their period finishes them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rust_decimal::Decimal;

use super::location::LedgerLocation;
use super::{postgres, schema, sql_error, Backend, Ledger};
use crate::error::{Error, Result};
use didbill_core::money::format_2dp;
use didbill_core::notes::NoteKind;

/// One issued invoice as the checks see it.
#[derive(Clone, Debug)]
pub struct InvoiceFact {
    /// The backend's row key, in the order rows were written.
    pub id: i64,
    /// Its number.
    pub number: String,
    /// The financial year of its series.
    pub financial_year: String,
    /// Its place in that series.
    pub seq: i64,
    /// The content hash recorded when it was issued.
    pub stored_hash: String,
    /// The hash of its content as stored now, or why it cannot be read.
    pub content_hash: std::result::Result<String, String>,
    /// Its total.
    pub total: String,
}

/// One credit or debit note as the checks see it.
#[derive(Clone, Debug)]
pub struct NoteFact {
    /// The backend's row key.
    pub id: i64,
    /// Its number.
    pub number: String,
    /// Credit or debit.
    pub kind: NoteKind,
    /// The financial year of its series.
    pub financial_year: String,
    /// Its place in that series.
    pub seq: i64,
    /// The row key of the invoice it corrects.
    pub invoice_id: i64,
    /// Its total.
    pub total: String,
}

/// What a backend reads of itself for the checks.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The schema version.
    pub schema_version: i32,
    /// Every invoice, cancelled ones included.
    pub invoices: Vec<InvoiceFact>,
    /// Every note.
    pub notes: Vec<NoteFact>,
    /// How many invoices were cancelled.
    pub cancellations: usize,
    /// The append-only and numbering guards that should be there and are not.
    pub missing_guards: Vec<String>,
    /// Runs recorded as rendering (stopped, or under way right now).
    pub unfinished_runs: usize,
}

/// The problems in `facts`, one sentence each; none for a sound ledger.
pub fn problems(facts: &Facts) -> Vec<String> {
    let mut found = Vec::new();
    for guard in &facts.missing_guards {
        found.push(format!(
            "the guard {guard} is missing: the database no longer refuses what it refused \
             (an edit, a delete or a number out of turn); restore the ledger from a backup"
        ));
    }
    let invoices = facts.invoices.iter().map(|i| Entry {
        series: format!("invoice series {}", i.financial_year),
        seq: i.seq,
        number: &i.number,
        id: i.id,
    });
    let notes = facts.notes.iter().map(|n| Entry {
        series: format!(
            "{} series {}",
            n.kind.title().to_lowercase(),
            n.financial_year
        ),
        seq: n.seq,
        number: &n.number,
        id: n.id,
    });
    series_problems(invoices.chain(notes), &mut found);
    for i in &facts.invoices {
        match &i.content_hash {
            Ok(hash) if *hash == i.stored_hash => {}
            Ok(hash) => found.push(format!(
                "invoice {}: its lines and amounts do not match the content hash recorded when \
                 it was issued (recorded {}…, now {}…): the row was edited outside didbill",
                i.number,
                &i.stored_hash[..i.stored_hash.len().min(12)],
                &hash[..hash.len().min(12)]
            )),
            Err(why) => found.push(format!("invoice {}: cannot be read: {why}", i.number)),
        }
    }
    let amount = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let mut credited: BTreeMap<i64, Decimal> = BTreeMap::new();
    for n in facts.notes.iter().filter(|n| n.kind == NoteKind::Credit) {
        *credited.entry(n.invoice_id).or_default() += amount(&n.total);
    }
    for i in &facts.invoices {
        let credit = credited.get(&i.id).copied().unwrap_or_default();
        if credit > amount(&i.total) {
            found.push(format!(
                "invoice {}: its credit notes total {}, more than the invoice's {}",
                i.number,
                format_2dp(credit),
                i.total
            ));
        }
    }
    found
}

/// One numbered document in its series.
struct Entry<'a> {
    series: String,
    seq: i64,
    number: &'a str,
    id: i64,
}

/// Gaps, repeats and numbers written out of turn, per series.
fn series_problems<'a>(entries: impl Iterator<Item = Entry<'a>>, found: &mut Vec<String>) {
    let mut by_series: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for e in entries {
        by_series.entry(e.series.clone()).or_default().push(e);
    }
    for (series, mut entries) in by_series {
        entries.sort_by_key(|e| (e.seq, e.id));
        let last = entries.last().map_or(0, |e| e.seq);
        let mut missing = Vec::new();
        let mut expected = 1;
        for pair in entries.windows(2) {
            if pair[0].seq == pair[1].seq {
                found.push(format!(
                    "{series}: number {} is used twice ({} and {})",
                    pair[0].seq, pair[0].number, pair[1].number
                ));
            }
        }
        for e in &entries {
            while expected < e.seq {
                missing.push(expected.to_string());
                expected += 1;
            }
            expected = expected.max(e.seq + 1);
        }
        if !missing.is_empty() {
            found.push(format!(
                "{series}: no document numbered {} (of 1–{last})",
                missing.join(", ")
            ));
        }
        entries.sort_by_key(|e| e.id);
        for pair in entries.windows(2) {
            if pair[1].seq < pair[0].seq {
                found.push(format!(
                    "{series}: {} was written after {} but numbered before it: the history \
                     was rewritten",
                    pair[1].number, pair[0].number
                ));
            }
        }
    }
}

/// The report `ledger verify` prints: what was checked, then each problem.
pub fn report(ledger: &Path, facts: &Facts, problems: &[String]) -> String {
    let count = |kind: NoteKind| facts.notes.iter().filter(|n| n.kind == kind).count();
    let years: std::collections::BTreeSet<&str> = facts
        .invoices
        .iter()
        .map(|i| i.financial_year.as_str())
        .collect();
    let mut out = format!(
        "ledger {} (schema version {}): {} invoice(s) in {} financial year(s), {} credit \
         note(s), {} debit note(s), {} cancellation(s)\n",
        ledger.display(),
        facts.schema_version,
        facts.invoices.len(),
        years.len(),
        count(NoteKind::Credit),
        count(NoteKind::Debit),
        facts.cancellations
    );
    if facts.unfinished_runs > 0 {
        out.push_str(&format!(
            "note: {} run(s) recorded as still rendering; the next run of their period \
             finishes them\n",
            facts.unfinished_runs
        ));
    }
    match problems {
        [] => out.push_str(
            "ok: every series gap-free and in order, every content hash matches, the \
             append-only guards in place\n",
        ),
        _ => {
            for p in problems {
                out.push_str("problem: ");
                out.push_str(p);
                out.push('\n');
            }
            out.push_str(&format!("{} problem(s) found\n", problems.len()));
        }
    }
    out
}

/// Runs `didbill ledger verify` on a ledger file or database: the report, and an
/// error (exit 1) after it when a problem was found.
pub fn verify(location: &LedgerLocation) -> Result<(String, Option<Error>)> {
    let mut ledger = Ledger::open_existing(location)?;
    let facts = ledger.facts()?;
    let found = problems(&facts);
    let failure = (!found.is_empty()).then(|| Error::Ledger {
        path: ledger.path().to_path_buf(),
        message: format!(
            "{} problem(s) found by `didbill ledger verify`",
            found.len()
        ),
    });
    Ok((report(ledger.path(), &facts, &found), failure))
}

impl Ledger {
    /// What the ledger says of itself, on either backend.
    pub fn facts(&mut self) -> Result<Facts> {
        let path = self.path.clone();
        let (schema_version, present, expected) = match &mut self.backend {
            Backend::Sqlite(conn) => {
                let read = || -> rusqlite::Result<(i32, BTreeSet<String>)> {
                    let version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
                    let mut stmt =
                        conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'")?;
                    let present = stmt
                        .query_map([], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    Ok((version, present))
                };
                let (version, present) =
                    read().map_err(|e| sql_error(&path, "verifying the ledger", e))?;
                (version, present, schema::guard_triggers())
            }
            Backend::Postgres(client) => {
                let (version, present) = postgres::schema_facts(client, &path)?;
                (version, present, postgres::guard_triggers())
            }
        };
        let count = |ledger: &mut Ledger, sql: &str| -> Result<usize> {
            let rows = ledger.rows("verifying the ledger", sql, &[])?;
            Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0) as usize)
        };
        let mut facts = Facts {
            schema_version,
            cancellations: count(self, "SELECT COUNT(*) FROM cancellations")?,
            unfinished_runs: count(self, "SELECT COUNT(*) FROM runs WHERE state = 'rendering'")?,
            missing_guards: expected
                .into_iter()
                .filter(|t| !present.contains(*t))
                .map(str::to_owned)
                .collect(),
            ..Facts::default()
        };
        let rows = self.rows(
            "verifying the ledger",
            "SELECT id, number, financial_year, seq, content_hash, total FROM invoices ORDER BY id",
            &[],
        )?;
        for r in rows.iter() {
            facts.invoices.push(InvoiceFact {
                id: r.int(0)?,
                number: r.text(1)?,
                financial_year: r.text(2)?,
                seq: r.int(3)?,
                stored_hash: r.text(4)?,
                content_hash: Ok(String::new()),
                total: r.text(5)?,
            });
        }
        {
            let reading = self.reading()?;
            for invoice in &mut facts.invoices {
                invoice.content_hash = reading
                    .recorded_content(invoice.id)
                    .map(|c| c.hash())
                    .map_err(|e| e.to_string());
            }
        }
        let rows = self.rows(
            "verifying the ledger",
            "SELECT id, number, kind, financial_year, seq, invoice_id, total FROM notes ORDER BY id",
            &[],
        )?;
        for r in rows.iter() {
            facts.notes.push(NoteFact {
                id: r.int(0)?,
                number: r.text(1)?,
                kind: NoteKind::parse(&r.text(2)?).unwrap_or(NoteKind::Credit),
                financial_year: r.text(3)?,
                seq: r.int(4)?,
                invoice_id: r.int(5)?,
                total: r.text(6)?,
            });
        }
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(id: i64, seq: i64) -> InvoiceFact {
        InvoiceFact {
            id,
            number: format!("DID/26-27/{seq:05}"),
            financial_year: "26-27".into(),
            seq,
            stored_hash: "abc".into(),
            content_hash: Ok("abc".into()),
            total: "100.00".into(),
        }
    }

    fn credit(id: i64, seq: i64, invoice_id: i64, total: &str) -> NoteFact {
        NoteFact {
            id,
            number: format!("CN/26-27/{seq:05}"),
            kind: NoteKind::Credit,
            financial_year: "26-27".into(),
            seq,
            invoice_id,
            total: total.into(),
        }
    }

    #[test]
    fn a_sound_ledger_has_no_problem() {
        let facts = Facts {
            invoices: vec![invoice(1, 1), invoice(2, 2), invoice(3, 3)],
            notes: vec![credit(1, 1, 1, "60.00"), credit(2, 2, 1, "40.00")],
            ..Facts::default()
        };
        assert_eq!(problems(&facts), Vec::<String>::new());
    }

    #[test]
    fn gaps_repeats_and_rewritten_order_are_named() {
        let mut late = invoice(9, 2);
        late.number = "DID/26-27/00002".into();
        let facts = Facts {
            invoices: vec![
                invoice(1, 1),
                invoice(3, 4),
                invoice(4, 4),
                invoice(5, 7),
                late,
            ],
            ..Facts::default()
        };
        assert_eq!(
            problems(&facts),
            [
                "invoice series 26-27: number 4 is used twice (DID/26-27/00004 and DID/26-27/00004)",
                "invoice series 26-27: no document numbered 3, 5, 6 (of 1–7)",
                "invoice series 26-27: DID/26-27/00002 was written after DID/26-27/00007 but \
                 numbered before it: the history was rewritten",
            ]
        );
    }

    #[test]
    fn an_edited_invoice_an_over_credit_and_a_missing_guard_are_named() {
        let mut edited = invoice(2, 2);
        edited.content_hash = Ok("def".into());
        let facts = Facts {
            invoices: vec![invoice(1, 1), edited],
            notes: vec![credit(1, 1, 1, "60.00"), credit(2, 2, 1, "40.01")],
            missing_guards: vec!["invoices_no_update".into()],
            ..Facts::default()
        };
        let found = problems(&facts);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("the guard invoices_no_update is missing"));
        assert!(found[1].starts_with(
            "invoice DID/26-27/00002: its lines and amounts do not match the content hash \
             recorded when it was issued (recorded abc…, now def…)"
        ));
        assert_eq!(
            found[2],
            "invoice DID/26-27/00001: its credit notes total 100.01, more than the invoice's 100.00"
        );
    }

    #[test]
    fn the_schema_names_its_guards() {
        let guards = schema::guard_triggers();
        for name in ["invoices_no_update", "invoices_gap_free", "notes_no_delete"] {
            assert!(guards.contains(name), "{guards:?}");
        }
    }
}
