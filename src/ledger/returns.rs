//! What the GST return reads from the ledger: every document dated in a month, as
//! [`didbill_core::gstr1::Document`]s.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::{parse_date, sql_error, Ledger};
use crate::error::{Error, Result};
use didbill_core::gstr1::{DocKind, Document};
use didbill_core::money::Currency;
use didbill_core::period::Period;

impl Ledger {
    /// The invoices dated in `period`, in series order.
    pub fn documents_dated(&self, period: Period) -> Result<Vec<Document>> {
        type Row = (
            String,
            String,
            String,
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            [String; 5],
        );
        let read = || -> rusqlite::Result<Vec<Row>> {
            let mut stmt = self.conn.prepare(
                "SELECT number, invoice_date, financial_year, seq, customer_name, customer_gstin,
                        place_of_supply, currency, fx_rate, subtotal, cgst, sgst, igst, total
                 FROM invoices WHERE invoice_date >= ?1 AND invoice_date < ?2
                 ORDER BY financial_year, seq",
            )?;
            let rows = stmt.query_map(
                rusqlite::params![period.start().to_string(), period.end().to_string()],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        [r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?],
                    ))
                },
            )?;
            rows.collect()
        };
        let rows = read().map_err(|e| sql_error(&self.path, "reading the month's invoices", e))?;
        rows.into_iter()
            .map(
                |(number, date, financial_year, seq, name, gstin, pos, currency, fx, amounts)| {
                    let damaged = |what: &str, value: &str| Error::Ledger {
                        path: self.path.clone(),
                        message: format!(
                            "invoice {number} holds the {what} {value:?}, which didbill did not \
                         write; the file is damaged"
                        ),
                    };
                    let decimal = |what: &str, value: &str| {
                        Decimal::from_str(value).map_err(|_| damaged(what, value))
                    };
                    let [subtotal, cgst, sgst, igst, total] = &amounts;
                    Ok(Document {
                        kind: DocKind::Invoice,
                        date: parse_date(&self.path, &date)?,
                        financial_year,
                        seq,
                        customer_name: name,
                        gstin: (!gstin.is_empty()).then_some(gstin),
                        place_of_supply: pos,
                        currency: Currency::parse(&currency)
                            .ok_or_else(|| damaged("currency", &currency))?,
                        fx_rate: fx
                            .as_deref()
                            .map(|f| decimal("exchange rate", f))
                            .transpose()?,
                        subtotal: decimal("subtotal", subtotal)?,
                        cgst: decimal("CGST", cgst)?,
                        sgst: decimal("SGST", sgst)?,
                        igst: decimal("IGST", igst)?,
                        total: decimal("total", total)?,
                        cancelled: false,
                        original: None,
                        number,
                    })
                },
            )
            .collect()
    }
}
