//! The ledger's decisions, without the ledger: for each invoice a run assembled,
//! reuse the issued invoice (same customer, currency and content), report a
//! conflict (the content changed, or an issued invoice is no longer produced), or
//! give it the next number of its series.
//!
//! Pure: the storage ([`super::store::Store`]) supplies what the period already holds
//! and the series' last number; this module only decides, so every rule of
//! numbering and idempotency is tested here without a database, and every backend
//! applies the same rules.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use didbill_core::numbering::NumberFormat;

/// An invoice of the period as the ledger recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredInvoice {
    /// The storage's own key of the invoice (to read its recorded content).
    pub id: i64,
    /// The customer it was issued to.
    pub customer_id: String,
    /// Its currency.
    pub currency: String,
    /// Its invoice number.
    pub number: String,
    /// Its sequence number within its financial year.
    pub seq: i64,
    /// The invoice date it was issued with.
    pub invoice_date: NaiveDate,
    /// The due date it was issued with.
    pub due_date: NaiveDate,
    /// The content hash recorded with it.
    pub hash: String,
    /// The exchange rate it was issued with (none for rupee invoices).
    pub fx_rate: Option<Decimal>,
}

/// One assembled invoice as the planner sees it: whose it is and what it holds.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// The customer billed.
    pub customer_id: &'a str,
    /// The invoice's currency.
    pub currency: &'a str,
    /// The hash of its content (see [`super::content::InvoiceContent::hash`]).
    pub hash: &'a str,
}

/// The series new numbers come from: a financial year, its last number, the format.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    /// The financial year of the invoice date (`26-27`).
    pub financial_year: &'a str,
    /// The highest sequence number the ledger holds in that year (0 when none).
    pub last_seq: i64,
    /// `invoice.number_format`.
    pub format: &'a NumberFormat,
}

/// What happens to one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The ledger holds it unchanged: it keeps its number and dates.
    Reuse(StoredInvoice),
    /// It is new: it gets this number of the series.
    New {
        /// The rendered invoice number.
        number: String,
        /// Its sequence number within the financial year.
        seq: i64,
    },
}

/// The decision for every candidate, in the candidates' order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// One decision per candidate, in the order they were given.
    pub decisions: Vec<Decision>,
    /// How many reused invoices keep an invoice date other than the run's, by date.
    pub dates_kept: BTreeMap<NaiveDate, usize>,
}

/// An issued invoice this run would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The invoice as issued.
    pub stored: StoredInvoice,
    /// The candidate (its index) that would replace it; `None` when this run no
    /// longer produces it.
    pub now: Option<usize>,
}

/// Why a plan cannot be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Issued invoices would change, in invoice-number order.
    Changed(Vec<Change>),
    /// The series has no room for the new invoices under the number format.
    SeriesFull {
        /// The sequence number the last new invoice would need.
        needed: i64,
        /// The largest the format can show.
        max: u64,
    },
}

/// Sorts invoices into invoice-number order across financial years.
pub fn number_order(invoice_date: NaiveDate, seq: i64) -> (i32, i64) {
    let first_year = invoice_date.year() - i32::from(invoice_date.month() < 4);
    (first_year, seq)
}

/// Decides every candidate against the period's `stored` invoices (already limited
/// to the customers in scope). Candidates come in customer-id then currency order,
/// so new numbers follow that order; an issued invoice keeps its number only if
/// its content hash is unchanged.
pub fn plan(
    candidates: &[Candidate],
    stored: Vec<StoredInvoice>,
    series: &Series,
    invoice_date: NaiveDate,
) -> Result<Plan, Refusal> {
    let mut stored: BTreeMap<(String, String), StoredInvoice> = stored
        .into_iter()
        .map(|s| ((s.customer_id.clone(), s.currency.clone()), s))
        .collect();
    let mut decisions = Vec::with_capacity(candidates.len());
    let mut changed = Vec::new();
    let mut dates_kept = BTreeMap::new();
    let mut next = series.last_seq;
    for (index, c) in candidates.iter().enumerate() {
        match stored.remove(&(c.customer_id.to_owned(), c.currency.to_owned())) {
            Some(s) if s.hash == c.hash => {
                if s.invoice_date != invoice_date {
                    *dates_kept.entry(s.invoice_date).or_default() += 1;
                }
                decisions.push(Decision::Reuse(s));
            }
            Some(s) => changed.push(Change {
                stored: s,
                now: Some(index),
            }),
            None => {
                next += 1;
                decisions.push(Decision::New {
                    number: String::new(),
                    seq: next,
                });
            }
        }
    }
    changed.extend(
        stored
            .into_values()
            .map(|stored| Change { stored, now: None }),
    );
    if !changed.is_empty() {
        changed.sort_by_key(|c| number_order(c.stored.invoice_date, c.stored.seq));
        return Err(Refusal::Changed(changed));
    }
    let max = series.format.max_seq();
    if next > i64::try_from(max).unwrap_or(i64::MAX) {
        return Err(Refusal::SeriesFull { needed: next, max });
    }
    for decision in &mut decisions {
        if let Decision::New { number, seq } = decision {
            *number = series.format.render(series.financial_year, *seq as u64);
        }
    }
    Ok(Plan {
        decisions,
        dates_kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn stored(id: i64, customer: &str, seq: i64, hash: &str) -> StoredInvoice {
        StoredInvoice {
            id,
            customer_id: customer.into(),
            currency: "INR".into(),
            fx_rate: None,
            number: format!("DID/26-27/{seq:05}"),
            seq,
            invoice_date: date("2026-12-01"),
            due_date: date("2026-12-16"),
            hash: hash.into(),
        }
    }

    fn candidate<'a>(customer: &'a str, hash: &'a str) -> Candidate<'a> {
        Candidate {
            customer_id: customer,
            currency: "INR",
            hash,
        }
    }

    fn format(text: &str) -> NumberFormat {
        NumberFormat::parse(text, "DID").unwrap()
    }

    #[test]
    fn new_invoices_take_the_next_numbers_in_candidate_order() {
        let f = format("{prefix}/{fy}/{seq:05}");
        let series = Series {
            financial_year: "26-27",
            last_seq: 41,
            format: &f,
        };
        let plan = plan(
            &[candidate("MA_A", "a"), candidate("MA_B", "b")],
            vec![],
            &series,
            date("2026-12-01"),
        )
        .unwrap();
        assert_eq!(
            plan.decisions,
            vec![
                Decision::New {
                    number: "DID/26-27/00042".into(),
                    seq: 42
                },
                Decision::New {
                    number: "DID/26-27/00043".into(),
                    seq: 43
                },
            ]
        );
    }

    #[test]
    fn an_unchanged_invoice_is_reused_with_its_dates_and_only_new_ones_are_numbered() {
        let f = format("{prefix}/{fy}/{seq:05}");
        let series = Series {
            financial_year: "26-27",
            last_seq: 1,
            format: &f,
        };
        let plan = plan(
            &[candidate("MA_A", "a"), candidate("MA_B", "b")],
            vec![stored(7, "MA_A", 1, "a")],
            &series,
            date("2026-12-05"),
        )
        .unwrap();
        assert_eq!(
            plan.decisions[0],
            Decision::Reuse(stored(7, "MA_A", 1, "a"))
        );
        assert_eq!(
            plan.decisions[1],
            Decision::New {
                number: "DID/26-27/00002".into(),
                seq: 2
            }
        );
        // Issued on 1 December, re-run with 5 December: the stored date stays.
        assert_eq!(plan.dates_kept, BTreeMap::from([(date("2026-12-01"), 1)]));
    }

    #[test]
    fn changed_and_vanished_invoices_are_refused_in_number_order() {
        let f = format("{prefix}/{fy}/{seq:05}");
        let series = Series {
            financial_year: "26-27",
            last_seq: 3,
            format: &f,
        };
        let refused = plan(
            &[candidate("MA_A", "a"), candidate("MA_C", "c-changed")],
            vec![
                stored(3, "MA_C", 3, "c"),
                stored(2, "MA_B", 2, "b"),
                stored(1, "MA_A", 1, "a"),
            ],
            &series,
            date("2026-12-01"),
        )
        .unwrap_err();
        assert_eq!(
            refused,
            Refusal::Changed(vec![
                Change {
                    stored: stored(2, "MA_B", 2, "b"),
                    now: None
                },
                Change {
                    stored: stored(3, "MA_C", 3, "c"),
                    now: Some(1)
                },
            ])
        );
    }

    #[test]
    fn a_series_without_room_is_refused_naming_the_number_needed() {
        let f = format("{prefix}/{fy}/{seq:02}");
        let series = Series {
            financial_year: "26-27",
            last_seq: 98,
            format: &f,
        };
        let refused = plan(
            &[candidate("MA_A", "a"), candidate("MA_B", "b")],
            vec![],
            &series,
            date("2026-12-01"),
        )
        .unwrap_err();
        assert_eq!(
            refused,
            Refusal::SeriesFull {
                needed: 100,
                max: 99
            }
        );
    }

    #[test]
    fn invoice_number_order_runs_across_financial_years() {
        assert!(number_order(date("2027-03-31"), 900) < number_order(date("2027-04-01"), 1));
        assert!(number_order(date("2026-12-01"), 2) < number_order(date("2027-01-01"), 3));
    }
}
