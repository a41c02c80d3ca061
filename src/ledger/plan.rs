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

use didbill_core::money::Money;
use didbill_core::notes::{credit_deadline, credit_left, NoteKind, NoteTotals};
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

/// What a new note is checked against: its invoice and the notes it already has.
#[derive(Clone, Copy, Debug)]
pub struct NoteCheck<'a> {
    /// Credit or debit.
    pub kind: NoteKind,
    /// The invoice's date.
    pub invoice_date: NaiveDate,
    /// The first day of the supplies it billed (its period's start).
    pub supplied: NaiveDate,
    /// Whether the invoice was cancelled.
    pub cancelled: bool,
    /// The invoice's total.
    pub invoice_total: Money,
    /// The totals of its credit notes so far.
    pub credited: &'a [Money],
    /// The new note's amounts.
    pub totals: &'a NoteTotals,
    /// The new note's date.
    pub note_date: NaiveDate,
}

/// Why a note cannot be issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteRefusal {
    /// The invoice was cancelled: it takes no notes.
    Cancelled,
    /// The note would be dated before its invoice.
    BeforeInvoice,
    /// Credit notes would add up to more than the invoice total.
    OverCap {
        /// What is left to credit.
        left: Money,
    },
    /// A credit note with tax after the s.34(2) deadline.
    PastDeadline {
        /// The last day it could have been issued.
        deadline: NaiveDate,
    },
    /// The year's series of this kind is full.
    SeriesFull {
        /// The sequence number needed.
        needed: i64,
        /// The largest the format can show.
        max: u64,
    },
}

/// Decides a new note: refused (see [`NoteRefusal`]) or numbered next in the
/// series of its kind and the note date's financial year.
pub fn plan_note(check: &NoteCheck, series: &Series) -> Result<(String, i64), NoteRefusal> {
    if check.cancelled {
        return Err(NoteRefusal::Cancelled);
    }
    if check.note_date < check.invoice_date {
        return Err(NoteRefusal::BeforeInvoice);
    }
    if check.kind == NoteKind::Credit {
        let left = credit_left(check.invoice_total, check.credited);
        if check.totals.total.amount() > left.amount() {
            return Err(NoteRefusal::OverCap { left });
        }
        let deadline = credit_deadline(check.supplied);
        if !check.totals.tax().amount().is_zero() && check.note_date > deadline {
            return Err(NoteRefusal::PastDeadline { deadline });
        }
    }
    let seq = series.last_seq + 1;
    let max = series.format.max_seq();
    if seq > i64::try_from(max).unwrap_or(i64::MAX) {
        return Err(NoteRefusal::SeriesFull { needed: seq, max });
    }
    Ok((series.format.render(series.financial_year, seq as u64), seq))
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

    fn money(s: &str) -> Money {
        use didbill_core::money::{Currency, Rounding};
        Money::round(s.parse().unwrap(), Currency::INR, Rounding::HalfUp)
    }

    fn totals(subtotal: &str, tax: &str) -> NoteTotals {
        let (s, t) = (money(subtotal), money(tax));
        NoteTotals {
            subtotal: s,
            cgst: money("0"),
            sgst: money("0"),
            igst: t,
            round_off: money("0"),
            total: money(&(s.amount() + t.amount()).to_string()),
        }
    }

    #[test]
    fn notes_are_capped_dated_and_numbered_in_their_own_series() {
        let f = NumberFormat::parse_series("credit_note.number_format", "CN/{fy}/{seq:02}", "")
            .unwrap();
        let series = Series {
            financial_year: "26-27",
            last_seq: 3,
            format: &f,
        };
        let credited = [money("100.00")];
        let t = totals("100.00", "18.00");
        let check = NoteCheck {
            kind: NoteKind::Credit,
            invoice_date: date("2026-12-01"),
            supplied: date("2026-11-01"),
            cancelled: false,
            invoice_total: money("236.00"),
            credited: &credited,
            totals: &t,
            note_date: date("2027-11-30"),
        };
        assert_eq!(plan_note(&check, &series), Ok(("CN/26-27/04".into(), 4)));
        let late = NoteCheck {
            note_date: date("2027-12-01"),
            ..check
        };
        assert_eq!(
            plan_note(&late, &series),
            Err(NoteRefusal::PastDeadline {
                deadline: date("2027-11-30")
            })
        );
        // Debit notes have no deadline and no cap.
        let debit = NoteCheck {
            kind: NoteKind::Debit,
            credited: &[],
            invoice_total: money("1.00"),
            ..late
        };
        assert!(plan_note(&debit, &series).is_ok());
        let over = NoteCheck {
            credited: &[money("200.00")],
            ..check
        };
        assert_eq!(
            plan_note(&over, &series),
            Err(NoteRefusal::OverCap {
                left: money("36.00")
            })
        );
        let early = NoteCheck {
            note_date: date("2026-11-30"),
            ..check
        };
        assert_eq!(plan_note(&early, &series), Err(NoteRefusal::BeforeInvoice));
        let cancelled = NoteCheck {
            cancelled: true,
            ..check
        };
        assert_eq!(plan_note(&cancelled, &series), Err(NoteRefusal::Cancelled));
        let full = Series {
            last_seq: 99,
            ..series
        };
        assert_eq!(
            plan_note(&check, &full),
            Err(NoteRefusal::SeriesFull {
                needed: 100,
                max: 99
            })
        );
    }

    #[test]
    fn invoice_number_order_runs_across_financial_years() {
        assert!(number_order(date("2027-03-31"), 900) < number_order(date("2027-04-01"), 1));
        assert!(number_order(date("2026-12-01"), 2) < number_order(date("2027-01-01"), 3));
    }
}
