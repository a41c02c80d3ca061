//! Reading a ledger on either backend, for what only reads it (`invoices list` and
//! `show`, `gstr1`, `ledger verify`, the lists of `send`).
//!
//! A listing's SQL is written once, in the dialect both engines share: `?1`
//! placeholders (turned into `$1` for PostgreSQL), `string_agg`, `CAST(? AS TEXT)`
//! for optional parameters, and dates compared as `YYYY-MM-DD` text. Each row comes
//! back as [`Cells`], whatever the column types: PostgreSQL's `NUMERIC` keeps the
//! scale it was written with, so an amount reads as the same text on both backends.
//! Reads run in one snapshot (a read-only `REPEATABLE READ` transaction on
//! PostgreSQL) and take no lock: listing the ledger never waits for a run.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use postgres::types::Type;
use rust_decimal::Decimal;

use super::sqlite::SqliteStore;
use super::store::Store;
use super::{postgres as pg, sql_error, Backend, Ledger};
use crate::error::{Error, Result};

/// One column value as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// SQL `NULL`.
    Null,
    /// An integer (a PostgreSQL `BOOLEAN` reads as 0 or 1).
    Int(i64),
    /// Text, an amount or a date.
    Text(String),
}

/// The rows a listing read.
#[derive(Clone, Debug)]
pub struct Rows {
    rows: Vec<Vec<Cell>>,
    shown: PathBuf,
}

impl Rows {
    /// Each row, in the order the query returned them.
    pub fn iter(&self) -> impl Iterator<Item = Cells<'_>> {
        self.rows.iter().map(|cells| Cells {
            cells,
            shown: &self.shown,
        })
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Cells<'_>> {
        self.iter().next()
    }
}

/// One row of a listing, read by column position.
#[derive(Clone, Copy, Debug)]
pub struct Cells<'a> {
    cells: &'a [Cell],
    shown: &'a Path,
}

impl Cells<'_> {
    fn damaged(&self, at: usize, wanted: &str) -> Error {
        Error::Ledger {
            path: self.shown.to_path_buf(),
            message: format!(
                "holds {:?} where didbill wrote {wanted} (column {}); the ledger is damaged",
                self.cells.get(at),
                at + 1
            ),
        }
    }

    /// The text at `at`, or `None` for `NULL`.
    pub fn opt_text(&self, at: usize) -> Result<Option<String>> {
        match self.cells.get(at) {
            Some(Cell::Null) => Ok(None),
            Some(Cell::Text(t)) => Ok(Some(t.clone())),
            Some(Cell::Int(n)) => Ok(Some(n.to_string())),
            None => Err(self.damaged(at, "text")),
        }
    }

    /// The text at `at`, which must not be `NULL`.
    pub fn text(&self, at: usize) -> Result<String> {
        self.opt_text(at)?.ok_or_else(|| self.damaged(at, "text"))
    }

    /// The integer at `at`.
    pub fn int(&self, at: usize) -> Result<i64> {
        match self.cells.get(at) {
            Some(Cell::Int(n)) => Ok(*n),
            _ => Err(self.damaged(at, "an integer")),
        }
    }

    /// Every value as `COPY` takes it: text, or `None` for `NULL`.
    pub fn fields(&self) -> Vec<Option<String>> {
        self.cells
            .iter()
            .map(|cell| match cell {
                Cell::Null => None,
                Cell::Int(n) => Some(n.to_string()),
                Cell::Text(t) => Some(t.clone()),
            })
            .collect()
    }

    /// The flag at `at` (an integer or boolean).
    pub fn flag(&self, at: usize) -> Result<bool> {
        self.int(at).map(|n| n != 0)
    }
}

/// The PostgreSQL form of a shared-dialect statement: `?N` becomes `$N`.
fn postgres_sql(sql: &str) -> String {
    sql.replace('?', "$")
}

/// A PostgreSQL value as a [`Cell`], by its column type.
fn pg_cell(row: &postgres::Row, at: usize) -> std::result::Result<Cell, postgres::Error> {
    let ty = row.columns()[at].type_();
    let cell = |v: Option<String>| v.map_or(Cell::Null, Cell::Text);
    Ok(match *ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(at)?
            .map_or(Cell::Null, Cell::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(at)?
            .map_or(Cell::Null, |n| Cell::Int(n.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(at)?
            .map_or(Cell::Null, |b| Cell::Int(b.into())),
        Type::NUMERIC => cell(
            row.try_get::<_, Option<Decimal>>(at)?
                .map(|d| d.to_string()),
        ),
        Type::DATE => cell(
            row.try_get::<_, Option<NaiveDate>>(at)?
                .map(|d| d.to_string()),
        ),
        _ => cell(row.try_get::<_, Option<String>>(at)?),
    })
}

/// An SQLite value as a [`Cell`].
fn sqlite_cell(value: rusqlite::types::ValueRef<'_>) -> Cell {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        ValueRef::Real(f) => Cell::Text(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(String::from_utf8_lossy(t).into()),
    }
}

impl Ledger {
    /// The rows of a shared-dialect query with text parameters (`None` is `NULL`);
    /// `context` says what was being read in an error.
    pub(crate) fn rows(
        &mut self,
        context: &str,
        sql: &str,
        params: &[Option<&str>],
    ) -> Result<Rows> {
        let shown = self.path.as_path();
        let rows: Vec<Vec<Cell>> = match &mut self.backend {
            Backend::Sqlite(conn) => {
                let read = || -> rusqlite::Result<Vec<Vec<Cell>>> {
                    let mut stmt = conn.prepare(sql)?;
                    let width = stmt.column_count();
                    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                    let mut out = Vec::new();
                    while let Some(row) = rows.next()? {
                        out.push(
                            (0..width)
                                .map(|at| row.get_ref(at).map(sqlite_cell))
                                .collect::<rusqlite::Result<_>>()?,
                        );
                    }
                    Ok(out)
                };
                read().map_err(|e| sql_error(shown, context, e))?
            }
            Backend::Postgres(client) => {
                let fail = |e: postgres::Error| pg::pg_error(shown, context, &e);
                let values: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let found = client.query(&postgres_sql(sql), &values).map_err(fail)?;
                found
                    .iter()
                    .map(|row| (0..row.len()).map(|at| pg_cell(row, at)).collect())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(fail)?
            }
        };
        Ok(Rows {
            rows,
            shown: shown.to_path_buf(),
        })
    }

    /// Runs `statements` (shared-dialect SQL with its text parameters) in one
    /// transaction, all or nothing: the writes outside a run (the outbox of `send`).
    pub(crate) fn execute_all(
        &mut self,
        context: &str,
        statements: &[(&str, Vec<Option<String>>)],
    ) -> Result<()> {
        let shown = self.path.as_path();
        match &mut self.backend {
            Backend::Sqlite(conn) => {
                let mut write = || -> rusqlite::Result<()> {
                    let tx = conn.transaction()?;
                    for (sql, params) in statements {
                        tx.prepare_cached(sql)?
                            .execute(rusqlite::params_from_iter(params))?;
                    }
                    tx.commit()
                };
                write().map_err(|e| sql_error(shown, context, e))
            }
            Backend::Postgres(client) => {
                let fail = |e: postgres::Error| pg::pg_error(shown, context, &e);
                let mut tx = client.transaction().map_err(fail)?;
                for (sql, params) in statements {
                    let values: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                        .iter()
                        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                        .collect();
                    tx.execute(&postgres_sql(sql), &values).map_err(fail)?;
                }
                tx.commit().map_err(fail)
            }
        }
    }

    /// A read-only view of the ledger through [`Store`]'s reading methods (lines,
    /// notes, recorded content), in one snapshot and without the write lock.
    pub(crate) fn reading(&mut self) -> Result<Box<dyn Store + '_>> {
        let path = self.path.as_path();
        Ok(match &mut self.backend {
            Backend::Sqlite(conn) => {
                let tx = conn
                    .transaction()
                    .map_err(|e| sql_error(path, "reading the ledger", e))?;
                Box::new(SqliteStore::new(tx, path))
            }
            Backend::Postgres(client) => Box::new(pg::read(client, path)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_take_the_postgresql_form() {
        assert_eq!(
            postgres_sql("SELECT 1 WHERE a = ?1 AND (CAST(?2 AS TEXT) IS NULL OR b = ?2)"),
            "SELECT 1 WHERE a = $1 AND (CAST($2 AS TEXT) IS NULL OR b = $2)"
        );
    }

    #[test]
    fn cells_read_text_integers_flags_and_nulls() {
        let row = [Cell::Text("5.00".into()), Cell::Int(1), Cell::Null];
        let cells = Cells {
            cells: &row,
            shown: Path::new("l.sqlite"),
        };
        assert_eq!(cells.text(0).unwrap(), "5.00");
        assert!(cells.flag(1).unwrap());
        assert_eq!(cells.opt_text(2).unwrap(), None);
        let err = cells.text(2).unwrap_err().to_string();
        assert!(err.contains("column 3") && err.contains("damaged"), "{err}");
        assert!(cells.int(0).is_err());
    }
}
