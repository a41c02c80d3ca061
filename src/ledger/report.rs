//! `didbill invoices list` and `didbill invoices show`: what the ledger holds, as an
//! aligned table (for people), CSV (for spreadsheets, formula-like text
//! neutralised) or JSON (for scripts; amounts as 2-decimal strings).

use rust_decimal::Decimal;
use serde::Serialize;

use super::content::LineContent;
use super::plan::number_order;
use super::read::Cells;
use super::store::NoteRecord;
use super::{parse_date, Ledger};
use crate::csv_file::{finish, text_cell, writer, LINE_ITEMS_HEADER};
use crate::error::Result;
use didbill_core::money::format_2dp;
use didbill_core::notes::NoteKind;
use didbill_core::period::Period;

pub use crate::format::Format;

/// One issued invoice as the ledger records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceRecord {
    /// The GST invoice number.
    pub invoice_number: String,
    /// Invoice date, `YYYY-MM-DD`.
    pub invoice_date: String,
    /// Due date, `YYYY-MM-DD`.
    pub due_date: String,
    /// The month invoiced, `YYYY-MM`.
    pub period: String,
    /// Financial year of the number, `26-27`.
    pub financial_year: String,
    /// Sequence number within the financial year.
    pub seq: i64,
    /// The customer billed.
    pub customer_id: String,
    /// The customer's name when the invoice was issued.
    pub customer_name: String,
    /// The customer's GSTIN, empty when none.
    pub customer_gstin: String,
    /// Two-digit place of supply code.
    pub place_of_supply: String,
    /// The invoice currency.
    pub currency: String,
    /// Number of lines.
    pub lines: i64,
    /// Sum of the line amounts.
    pub subtotal: String,
    /// Central GST.
    pub cgst: String,
    /// State GST.
    pub sgst: String,
    /// Integrated GST.
    pub igst: String,
    /// All GST (CGST + SGST + IGST).
    pub tax: String,
    /// Round-off.
    pub round_off: String,
    /// Total.
    pub total: String,
    /// SHA-256 of the billed content (see [`super::content`]).
    pub content_hash: String,
    /// `issued`, or `cancelled` (`didbill invoices cancel`; the number stays used).
    pub status: String,
    /// The numbers of the credit and debit notes issued against it.
    pub notes: Vec<String>,
    /// Where `didbill send` stands with each of those notes, in the same order and
    /// the same words as `delivery`.
    pub notes_delivery: Vec<String>,
    /// Where `didbill send` stands with it: `accepted` once the mail server took
    /// it, else its last attempt's state (`failed`, `sending`), else `unsent`.
    pub delivery: String,
}

const SELECT: &str = "
SELECT number, invoice_date, due_date, period, financial_year, seq, customer_id, customer_name,
       customer_gstin, place_of_supply, currency,
       (SELECT COUNT(*) FROM invoice_lines l WHERE l.invoice_id = i.id),
       subtotal, cgst, sgst, igst, round_off, total, content_hash, id,
       CASE WHEN id IN (SELECT invoice_id FROM cancellations) THEN 'cancelled' ELSE 'issued' END,
       (SELECT string_agg(n.number, ' ') FROM
           (SELECT number FROM notes WHERE invoice_id = i.id ORDER BY kind, financial_year, seq) n),
       COALESCE((SELECT state FROM outbox o
                 WHERE o.document_kind = 'invoice' AND o.document_number = i.number
                 ORDER BY state = 'accepted' DESC, attempt DESC LIMIT 1), 'unsent'),
       (SELECT string_agg(n.state, ' ') FROM
           (SELECT COALESCE((SELECT state FROM outbox o
                             WHERE o.document_kind = notes.kind || '_note'
                               AND o.document_number = notes.number
                             ORDER BY state = 'accepted' DESC, attempt DESC LIMIT 1),
                            'unsent') AS state
            FROM notes WHERE invoice_id = i.id ORDER BY kind, financial_year, seq) n)
FROM invoices i";

/// The words of a space-separated list from `string_agg` (none when NULL).
fn words(list: Option<String>) -> Vec<String> {
    list.map(|l| l.split(' ').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// An invoice row of [`SELECT`], and its row key.
fn record(r: Cells) -> Result<(InvoiceRecord, i64)> {
    let (cgst, sgst, igst) = (r.text(13)?, r.text(14)?, r.text(15)?);
    let tax = [&cgst, &sgst, &igst]
        .iter()
        .map(|t| t.parse::<Decimal>().unwrap_or_default())
        .sum();
    Ok((
        InvoiceRecord {
            invoice_number: r.text(0)?,
            invoice_date: r.text(1)?,
            due_date: r.text(2)?,
            period: r.text(3)?,
            financial_year: r.text(4)?,
            seq: r.int(5)?,
            customer_id: r.text(6)?,
            customer_name: r.text(7)?,
            customer_gstin: r.text(8)?,
            place_of_supply: r.text(9)?,
            currency: r.text(10)?,
            lines: r.int(11)?,
            subtotal: r.text(12)?,
            cgst,
            sgst,
            igst,
            tax: format_2dp(tax),
            round_off: r.text(16)?,
            total: r.text(17)?,
            content_hash: r.text(18)?,
            status: r.text(20)?,
            notes: words(r.opt_text(21)?),
            delivery: r.text(22)?,
            notes_delivery: words(r.opt_text(23)?),
        },
        r.int(19)?,
    ))
}

impl Ledger {
    /// Issued invoices in invoice-number order, optionally of one period and/or customer.
    pub fn invoices(
        &mut self,
        period: Option<Period>,
        customer: Option<&str>,
    ) -> Result<Vec<InvoiceRecord>> {
        let period = period.map(|p| p.to_string());
        let rows = self.rows(
            "listing invoices",
            &format!(
                "{SELECT} WHERE (CAST(?1 AS TEXT) IS NULL OR period = ?1)
                   AND (CAST(?2 AS TEXT) IS NULL OR customer_id = ?2)"
            ),
            &[period.as_deref(), customer],
        )?;
        let mut keyed = Vec::new();
        for row in rows.iter() {
            let (rec, _) = record(row)?;
            keyed.push((
                number_order(parse_date(&self.path, &rec.invoice_date)?, rec.seq),
                rec,
            ));
        }
        keyed.sort_by_key(|(order, _)| *order);
        Ok(keyed.into_iter().map(|(_, rec)| rec).collect())
    }

    /// The row key of the invoice numbered `number`, if the ledger has it.
    fn invoice_id(&mut self, number: &str) -> Result<Option<i64>> {
        let rows = self.rows(
            "reading the invoice",
            "SELECT id FROM invoices WHERE number = ?1",
            &[Some(number)],
        )?;
        rows.first().map(|r| r.int(0)).transpose()
    }

    /// One issued invoice and its lines, if the ledger has that number.
    pub fn invoice(&mut self, number: &str) -> Result<Option<(InvoiceRecord, Vec<LineContent>)>> {
        let rows = self.rows(
            "reading the invoice",
            &format!("{SELECT} WHERE number = ?1"),
            &[Some(number)],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let (rec, id) = record(row)?;
        let lines = self.reading()?.recorded_content(id)?.lines;
        Ok(Some((rec, lines)))
    }

    /// The credit and debit notes of the invoice numbered `number`.
    pub fn invoice_notes(&mut self, number: &str) -> Result<Vec<NoteRecord>> {
        match self.invoice_id(number)? {
            Some(id) => self.reading()?.invoice_notes(id),
            None => Ok(Vec::new()),
        }
    }

    /// The credit and debit notes of the invoices of `period`, credit notes first,
    /// each series in number order.
    pub fn period_notes(&mut self, period: Period) -> Result<Vec<NoteRecord>> {
        self.reading()?.period_notes(&period.to_string())
    }
}

/// Pads `cells` into columns; columns listed in `right` are right-aligned (amounts).
fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            if right.contains(&i) {
                out.push_str(&pad);
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&pad);
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Shortens free text for a table cell.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("ledger records serialise");
    text.push('\n');
    text
}

/// `didbill invoices list` output.
pub fn list(records: &[InvoiceRecord], format: Format) -> String {
    match format {
        Format::Table => {
            if records.is_empty() {
                return "no invoices\n".into();
            }
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    vec![
                        r.invoice_number.clone(),
                        r.invoice_date.clone(),
                        r.due_date.clone(),
                        r.period.clone(),
                        r.customer_id.clone(),
                        clip(&r.customer_name, 32),
                        r.currency.clone(),
                        r.lines.to_string(),
                        r.subtotal.clone(),
                        r.tax.clone(),
                        r.total.clone(),
                        r.status.clone(),
                        r.notes
                            .iter()
                            .zip(&r.notes_delivery)
                            .map(|(n, d)| format!("{n} ({d})"))
                            .collect::<Vec<_>>()
                            .join(" "),
                        r.delivery.clone(),
                    ]
                })
                .collect();
            table(
                &[
                    "number", "date", "due", "period", "customer", "name", "cur", "lines",
                    "subtotal", "tax", "total", "status", "notes", "delivery",
                ],
                &rows,
                &[7, 8, 9, 10],
            )
        }
        Format::Csv => {
            let mut w = writer();
            w.write_record([
                "invoice_number",
                "invoice_date",
                "due_date",
                "period",
                "financial_year",
                "seq",
                "customer_id",
                "customer_name",
                "customer_gstin",
                "place_of_supply",
                "currency",
                "lines",
                "subtotal",
                "cgst",
                "sgst",
                "igst",
                "tax",
                "round_off",
                "total",
                "content_hash",
                "status",
                "notes",
                "notes_delivery",
                "delivery",
            ])
            .expect("in-memory CSV");
            for r in records {
                w.write_record([
                    r.invoice_number.as_str(),
                    &r.invoice_date,
                    &r.due_date,
                    &r.period,
                    &r.financial_year,
                    &r.seq.to_string(),
                    &r.customer_id,
                    &text_cell(&r.customer_name),
                    &r.customer_gstin,
                    &r.place_of_supply,
                    &r.currency,
                    &r.lines.to_string(),
                    &r.subtotal,
                    &r.cgst,
                    &r.sgst,
                    &r.igst,
                    &r.tax,
                    &r.round_off,
                    &r.total,
                    &r.content_hash,
                    &r.status,
                    &r.notes.join(" "),
                    &r.notes_delivery.join(" "),
                    &r.delivery,
                ])
                .expect("in-memory CSV");
            }
            String::from_utf8(finish(w)).expect("CSV of UTF-8 text")
        }
        Format::Json => json(&records),
    }
}

/// The invoice total less its credit notes plus its debit notes.
fn net_total(invoice: &InvoiceRecord, notes: &[NoteRecord]) -> String {
    let amount = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let net = notes
        .iter()
        .fold(amount(&invoice.total), |net, n| match n.kind {
            NoteKind::Credit => net - amount(&n.total),
            NoteKind::Debit => net + amount(&n.total),
        });
    format_2dp(net)
}

/// `didbill invoices show` output: the header, the lines (numbered as `didbill
/// note credit --line` takes them), the amounts, then its notes and the net amount.
pub fn show(
    invoice: &InvoiceRecord,
    lines: &[LineContent],
    notes: &[NoteRecord],
    format: Format,
) -> String {
    let days = |d: Option<u32>| d.map(|d| d.to_string()).unwrap_or_default();
    match format {
        Format::Table => {
            let r = invoice;
            let gstin = if r.customer_gstin.is_empty() {
                "none"
            } else {
                &r.customer_gstin
            };
            let mut out = format!(
                "invoice {}\n  customer         {}  {}\n  GSTIN            {gstin}\n  period           {}\n  \
                 invoice date     {}  (due {})\n  place of supply  {}\n  currency         {}\n\n",
                r.invoice_number,
                r.customer_id,
                r.customer_name,
                r.period,
                r.invoice_date,
                r.due_date,
                r.place_of_supply,
                r.currency
            );
            if r.status == "cancelled" {
                out.push_str("  CANCELLED: its number stays used; the next run of its period issues a new invoice\n\n");
            }
            let rows: Vec<Vec<String>> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    // A usage line has no number: its calls stand in the e164 column.
                    let number = match (&l.call_direction, l.calls) {
                        (Some(direction), Some(calls)) => format!("{calls} {direction} calls"),
                        _ => l.e164.clone(),
                    };
                    vec![
                        (i + 1).to_string(),
                        number,
                        l.charge.clone(),
                        l.service_from.clone(),
                        l.service_to.clone(),
                        days(l.billable_days),
                        days(l.period_days),
                        l.unit_amount.clone(),
                        l.amount.clone(),
                    ]
                })
                .collect();
            for row in table(
                &[
                    "#", "e164", "charge", "from", "to", "days", "of", "unit", "amount",
                ],
                &rows,
                &[0, 5, 6, 7, 8],
            )
            .lines()
            {
                out.push_str("  ");
                out.push_str(row);
                out.push('\n');
            }
            let totals: Vec<Vec<String>> = [
                ("subtotal", &r.subtotal),
                ("CGST", &r.cgst),
                ("SGST", &r.sgst),
                ("IGST", &r.igst),
                ("round-off", &r.round_off),
                ("total", &r.total),
            ]
            .iter()
            .map(|(k, v)| vec![k.to_string(), v.to_string()])
            .collect();
            out.push('\n');
            for row in table(&["", ""], &totals, &[1]).lines().skip(1) {
                out.push_str("  ");
                out.push_str(row);
                out.push('\n');
            }
            out.push_str(&format!("  content hash  {}\n", r.content_hash));
            if !notes.is_empty() {
                let rows: Vec<Vec<String>> = notes
                    .iter()
                    .map(|n| {
                        vec![
                            n.number.clone(),
                            n.kind.as_str().to_owned(),
                            n.note_date.to_string(),
                            n.subtotal.clone(),
                            n.total.clone(),
                            clip(&n.reason, 40),
                        ]
                    })
                    .collect();
                out.push_str("\n  notes\n");
                for row in table(
                    &["number", "type", "date", "subtotal", "total", "reason"],
                    &rows,
                    &[3, 4],
                )
                .lines()
                {
                    out.push_str("  ");
                    out.push_str(row);
                    out.push('\n');
                }
                out.push_str(&format!(
                    "\n  net (total − credit notes + debit notes)  {}\n",
                    net_total(r, notes)
                ));
            }
            out
        }
        Format::Csv => {
            let mut w = writer();
            w.write_record(LINE_ITEMS_HEADER).expect("in-memory CSV");
            let name = text_cell(&invoice.customer_name);
            for l in lines {
                w.write_record([
                    invoice.invoice_number.as_str(),
                    &invoice.invoice_date,
                    &invoice.customer_id,
                    &name,
                    &invoice.currency,
                    &l.number_id,
                    &l.e164,
                    &l.charge,
                    &l.service_from,
                    &l.service_to,
                    &days(l.billable_days),
                    &days(l.period_days),
                    &l.unit_amount,
                    &l.amount,
                ])
                .expect("in-memory CSV");
            }
            String::from_utf8(finish(w)).expect("CSV of UTF-8 text")
        }
        Format::Json => {
            #[derive(Serialize)]
            struct ShownNote<'a> {
                note_number: &'a str,
                note_type: &'a str,
                note_date: String,
                reason: &'a str,
                subtotal: &'a str,
                cgst: &'a str,
                sgst: &'a str,
                igst: &'a str,
                round_off: &'a str,
                total: &'a str,
            }
            #[derive(Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                invoice: &'a InvoiceRecord,
                line_items: &'a [LineContent],
                note_details: Vec<ShownNote<'a>>,
                net_total: String,
            }
            json(&Shown {
                invoice,
                line_items: lines,
                note_details: notes
                    .iter()
                    .map(|n| ShownNote {
                        note_number: &n.number,
                        note_type: n.kind.as_str(),
                        note_date: n.note_date.to_string(),
                        reason: &n.reason,
                        subtotal: &n.subtotal,
                        cgst: &n.cgst,
                        sgst: &n.sgst,
                        igst: &n.igst,
                        round_off: &n.round_off,
                        total: &n.total,
                    })
                    .collect(),
                net_total: net_total(invoice, notes),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_text_left_and_amounts_right() {
        let rows = vec![
            vec!["DID/26-27/00001".into(), "शर्मा".into(), "5.00".into()],
            vec!["X".into(), "Acme".into(), "1234.50".into()],
        ];
        assert_eq!(
            table(&["number", "name", "total"], &rows, &[2]),
            "number           name     total\n\
             DID/26-27/00001  शर्मा     5.00\n\
             X                Acme   1234.50\n"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
