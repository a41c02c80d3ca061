//! Credit notes, debit notes and cancellations on the ledger: what `didbill note`
//! and `didbill invoices cancel` do inside one locked transaction.
//!
//! The checks (cancelled, dated before the invoice, the credit cap, the s.34(2)
//! deadline, the series) are [`super::plan::plan_note`]'s; the arithmetic is
//! `didbill_core::notes`; this module reads the invoice, builds the note's lines
//! and records it through [`Store`]. A refused note writes nothing and uses no
//! number: the transaction is dropped.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::content::LineContent;
use super::plan::{self, NoteCheck, NoteRefusal, Series};
use super::store::{InvoiceOnRecord, NewNote, NoteLine, NoteRecord};
use super::Book;
use crate::error::{Error, Result};
use didbill_core::billing::GstTreatment;
use didbill_core::money::{Currency, Money, Rounding};
use didbill_core::notes::{issued_treatment, note_totals, NoteKind, NoteTotals};
use didbill_core::numbering::NumberFormat;
use didbill_core::period::{financial_year, Period};

/// What a note corrects on its invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteAmount {
    /// These invoice lines (1-based, as `invoices show` numbers them), each whole.
    Lines(Vec<usize>),
    /// A taxable value (2 decimals, positive); the note adds its GST.
    Amount(Decimal),
    /// Lines worked out by a run (`--issue-notes`): the differences between what
    /// was billed and what the data says now.
    Differences(Vec<NoteLine>),
}

/// What a run's `--issue-notes` needs to issue notes for changed invoices.
#[derive(Clone, Copy, Debug)]
pub struct AutoNotes<'a> {
    /// `credit_note.number_format`.
    pub credit_format: &'a NumberFormat,
    /// `debit_note.number_format`.
    pub debit_format: &'a NumberFormat,
    /// The notes' date (the run's as-of date).
    pub date: NaiveDate,
}

/// A note to issue against one invoice.
#[derive(Clone, Debug)]
pub struct NoteRequest<'a> {
    /// Credit or debit.
    pub kind: NoteKind,
    /// The invoice number it corrects.
    pub invoice: &'a str,
    /// What it corrects.
    pub amount: NoteAmount,
    /// The line description of an amount (a debit note's `--description`; a
    /// credit by amount prints its reason).
    pub description: Option<&'a str>,
    /// Why it is issued.
    pub reason: &'a str,
    /// Its date.
    pub date: NaiveDate,
    /// The number format of its kind's series.
    pub format: &'a NumberFormat,
    /// How taxes are computed (rate, rounding, round-off, and the seller's state
    /// and tax setting for invoices whose charges say nothing).
    pub tax: NoteTax<'a>,
}

/// The configuration a note's taxes need.
#[derive(Clone, Copy, Debug)]
pub struct NoteTax<'a> {
    /// `tax.rate`, percent.
    pub rate: Decimal,
    /// `tax.enabled`.
    pub enabled: bool,
    /// `seller.state_code`.
    pub seller_state_code: &'a str,
    /// `rounding`.
    pub rounding: Rounding,
    /// `round_off`.
    pub round_off: bool,
}

impl NoteTax<'_> {
    /// The note tax settings of `config`.
    pub fn of(config: &crate::config::Config) -> NoteTax<'_> {
        NoteTax {
            rate: config.tax.rate,
            enabled: config.tax.enabled,
            seller_state_code: &config.seller.state_code,
            rounding: config.rounding,
            round_off: config.round_off,
        }
    }
}

impl Book<'_> {
    /// Issues one note (not yet committed: see [`Book::commit_documents`]); returns
    /// it as recorded, with the period it belongs to.
    pub fn issue_note(&mut self, request: &NoteRequest) -> Result<(NoteRecord, Period)> {
        self.documents = true;
        let invoice = self.known_invoice(request.invoice)?;
        let content = &invoice.content;
        let currency = Currency::parse(&content.currency).ok_or_else(|| self.damaged(&invoice))?;
        let period: Period = content.period.parse().map_err(|_| self.damaged(&invoice))?;
        let lines = note_lines(request, &invoice, period)?;
        let money = |text: &str| {
            text.parse::<Decimal>()
                .map(|d| Money::round(d, currency, Rounding::HalfUp))
                .map_err(|_| self.damaged(&invoice))
        };
        let amounts = lines
            .iter()
            .map(|l| money(&l.line.amount))
            .collect::<Result<Vec<_>>>()?;
        let treatment = issued_treatment(
            money(&content.cgst)?.amount(),
            money(&content.sgst)?.amount(),
            money(&content.igst)?.amount(),
            &content.place_of_supply,
            request.tax.seller_state_code,
            request.tax.enabled,
        );
        let rate = match treatment {
            GstTreatment::Untaxed | GstTreatment::ZeroRated => Decimal::ZERO,
            _ => request.tax.rate,
        };
        let totals = note_totals(
            currency,
            &amounts,
            treatment,
            rate,
            request.tax.rounding,
            request.tax.round_off,
        );
        let existing = self.store.invoice_notes(invoice.id)?;
        let credited = existing
            .iter()
            .filter(|n| n.kind == NoteKind::Credit)
            .map(|n| money(&n.total))
            .collect::<Result<Vec<_>>>()?;
        let fy = financial_year(request.date);
        let series = Series {
            financial_year: &fy,
            last_seq: self.store.last_note_seq(request.kind, &fy)?,
            format: request.format,
        };
        let check = NoteCheck {
            kind: request.kind,
            invoice_date: invoice.invoice_date,
            supplied: period.start(),
            cancelled: invoice.cancelled,
            invoice_total: money(&content.total)?,
            credited: &credited,
            totals: &totals,
            note_date: request.date,
        };
        let (number, seq) = plan::plan_note(&check, &series)
            .map_err(|refusal| refused(refusal, request, &invoice, &totals, &fy))?;
        if self.store.note_number_taken(&number)? {
            return Err(Error::Ledger {
                path: self.path.clone(),
                message: format!(
                    "already holds the number {number}; {}_note.number_format must keep {{fy}} and \
                     differ from the other series so numbers stay unique",
                    request.kind.as_str()
                ),
            });
        }
        self.store.record_note(&NewNote {
            number: &number,
            kind: request.kind,
            financial_year: &fy,
            seq,
            invoice: &invoice,
            note_date: request.date,
            reason: request.reason,
            lines: &lines,
            totals: &totals,
        })?;
        let recorded = self
            .store
            .invoice_notes(invoice.id)?
            .into_iter()
            .find(|n| n.number == number)
            .ok_or_else(|| self.damaged(&invoice))?;
        Ok((recorded, period))
    }

    /// Cancels an invoice that has no notes (not yet committed); returns the period
    /// it belonged to.
    pub fn cancel(&mut self, number: &str, reason: &str) -> Result<Period> {
        let invoice = self.known_invoice(number)?;
        if invoice.cancelled {
            return Err(Error::Data(format!(
                "invoice {number} is already cancelled"
            )));
        }
        let notes = self.store.invoice_notes(invoice.id)?;
        if !notes.is_empty() {
            let numbers: Vec<&str> = notes.iter().map(|n| n.number.as_str()).collect();
            return Err(Error::Data(format!(
                "invoice {number} has notes ({}) and cannot be cancelled; correct it with a \
                 further credit or debit note instead",
                numbers.join(", ")
            )));
        }
        self.store.record_cancellation(invoice.id, reason)?;
        self.documents = true;
        invoice
            .content
            .period
            .parse()
            .map_err(|_| self.damaged(&invoice))
    }

    /// Settles an issued invoice whose content changed against `now` (`None`: no
    /// longer produced): when the invoice plus its line notes already bill what
    /// `now` does, or `auto` is given and the differences are issued as a credit
    /// note (decreases, vanished lines whole) and a debit note (increases, new
    /// lines), returns the invoice as recorded; otherwise `None` (a conflict). An
    /// invoice whose lines are unchanged and that has no notes (say, only its
    /// GSTIN changed) is never settled: a note cannot correct that.
    pub fn settle(
        &mut self,
        number: &str,
        now: Option<&super::content::InvoiceContent>,
        auto: Option<&AutoNotes>,
        tax: NoteTax,
    ) -> Result<Option<InvoiceOnRecord>> {
        let invoice = self.known_invoice(number)?;
        let notes = self.store.invoice_notes(invoice.id)?;
        let changes = settlement(&invoice.content, &notes, now);
        if changes.is_empty() {
            return Ok((!notes.is_empty()).then_some(invoice));
        }
        let Some(auto) = auto else {
            return Ok(None);
        };
        let (credits, debits): (Vec<_>, Vec<_>) =
            changes.into_iter().partition(Difference::is_credit);
        let lines = |v: Vec<Difference>| v.into_iter().map(|d| d.line).collect::<Vec<_>>();
        let (credits, debits) = (lines(credits), lines(debits));
        for (kind, lines, format) in [
            (NoteKind::Credit, credits, auto.credit_format),
            (NoteKind::Debit, debits, auto.debit_format),
        ] {
            if lines.is_empty() {
                continue;
            }
            self.issue_note(&NoteRequest {
                kind,
                invoice: number,
                amount: NoteAmount::Differences(lines),
                description: None,
                reason: match kind {
                    NoteKind::Credit => {
                        "Billed more than the data now shows (didbill run --issue-notes)"
                    }
                    NoteKind::Debit => {
                        "Billed less than the data now shows (didbill run --issue-notes)"
                    }
                },
                date: auto.date,
                format,
                tax,
            })?;
        }
        Ok(Some(invoice))
    }

    /// The notes of the invoices of `period`, for its output folder.
    pub fn period_notes(&self, period: Period) -> Result<Vec<NoteRecord>> {
        self.store.period_notes(&period.to_string())
    }

    /// Commits the notes and cancellations recorded (no run row: a note's files
    /// are rewritten by every later note or run of its period).
    pub fn commit_documents(self) -> Result<()> {
        self.store.commit()
    }

    /// The period of the issued invoice numbered `number` (`YYYY-MM`); an error
    /// naming the number when the ledger has no such invoice.
    pub fn invoice_period(&self, number: &str) -> Result<String> {
        Ok(self.known_invoice(number)?.content.period)
    }

    fn known_invoice(&self, number: &str) -> Result<InvoiceOnRecord> {
        self.store.invoice_on_record(number)?.ok_or_else(|| {
            Error::Data(format!(
                "invoice {number} is not in the ledger {}; `didbill invoices list` shows the numbers",
                self.path.display()
            ))
        })
    }

    fn damaged(&self, invoice: &InvoiceOnRecord) -> Error {
        Error::Ledger {
            path: self.path.clone(),
            message: format!(
                "invoice {} has unreadable amounts; the file is damaged",
                invoice.number
            ),
        }
    }
}

/// The lines of the note `request` asks for.
fn note_lines(
    request: &NoteRequest,
    invoice: &InvoiceOnRecord,
    period: Period,
) -> Result<Vec<NoteLine>> {
    let lines = &invoice.content.lines;
    match &request.amount {
        NoteAmount::Lines(numbers) => {
            let mut seen = std::collections::BTreeSet::new();
            numbers
                .iter()
                .map(|&no| {
                    let line = no
                        .checked_sub(1)
                        .and_then(|i| lines.get(i))
                        .ok_or_else(|| {
                            Error::Usage(format!(
                                "--line {no}: invoice {} has lines 1 to {} (`didbill invoices show {}` lists them)",
                                invoice.number,
                                lines.len(),
                                invoice.number
                            ))
                        })?;
                    if !seen.insert(no) {
                        return Err(Error::Usage(format!("--line {no} is given twice")));
                    }
                    Ok(NoteLine {
                        invoice_line_no: Some(no as i64),
                        description: line.charge.clone(),
                        line: line.clone(),
                    })
                })
                .collect()
        }
        NoteAmount::Differences(lines) => Ok(lines.clone()),
        NoteAmount::Amount(amount) => {
            let last_day = period.end().pred_opt().unwrap_or(period.start());
            Ok(vec![NoteLine {
                invoice_line_no: None,
                description: request.description.unwrap_or(request.reason).to_owned(),
                line: LineContent {
                    number_id: String::new(),
                    e164: String::new(),
                    charge: "adjustment".into(),
                    service_from: period.start().to_string(),
                    service_to: last_day.to_string(),
                    billable_days: None,
                    period_days: None,
                    unit_amount: String::new(),
                    amount: didbill_core::money::format_2dp(*amount),
                    call_direction: None,
                    calls: None,
                    billable_seconds: None,
                },
            }])
        }
    }
}

/// The message of a refused note.
fn refused(
    refusal: NoteRefusal,
    request: &NoteRequest,
    invoice: &InvoiceOnRecord,
    totals: &NoteTotals,
    fy: &str,
) -> Error {
    let number = &invoice.number;
    let kind = request.kind.title().to_lowercase();
    Error::Data(match refusal {
        NoteRefusal::Cancelled => format!(
            "invoice {number} is cancelled and takes no {kind}; nothing was written"
        ),
        NoteRefusal::BeforeInvoice => format!(
            "--date {}: the {kind} would be dated before invoice {number} ({}); nothing was written",
            request.date, invoice.invoice_date
        ),
        NoteRefusal::OverCap { left } => format!(
            "invoice {number} (total {} {cur}) has {left} {cur} left to credit, and this credit \
             note's total with GST would be {} {cur}; credit at most what is left; nothing was written",
            invoice.content.total,
            totals.total,
            cur = invoice.content.currency,
        ),
        NoteRefusal::PastDeadline { deadline } => format!(
            "a credit note with GST for the supplies of invoice {number} ({}) must be issued by \
             {deadline} (CGST Act s.34(2): 30 November after the end of the financial year); \
             {} is too late; nothing was written",
            invoice.content.period, request.date
        ),
        NoteRefusal::SeriesFull { needed, max } => format!(
            "financial year {fy} would need {kind} sequence number {needed}, more than \
             {}_note.number_format allows ({max}); widen {{seq:0N}}",
            request.kind.as_str()
        ),
    })
}

/// One line on which an invoice plus its line notes and the data now differ.
#[derive(Clone, Debug)]
pub(super) struct Difference {
    /// The note line that settles it (its amount the difference, positive).
    line: NoteLine,
    /// What the invoice and its notes bill for it.
    billed: Decimal,
    /// What the data says now.
    now: Decimal,
}

impl Difference {
    fn is_credit(&self) -> bool {
        self.now < self.billed
    }
}

/// The differences `invoice` (plus `notes`) has with `now`, one phrase per line
/// for the exit-4 message: the signed difference of its amount and of its GST under
/// the invoice's treatment (what the settling note would carry).
pub(super) fn differences_shown(
    invoice: &super::content::InvoiceContent,
    notes: &[NoteRecord],
    now: Option<&super::content::InvoiceContent>,
    tax: &NoteTax,
) -> Vec<String> {
    let money = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let currency = Currency::parse(&invoice.currency).unwrap_or(Currency::INR);
    let treatment = issued_treatment(
        money(&invoice.cgst),
        money(&invoice.sgst),
        money(&invoice.igst),
        &invoice.place_of_supply,
        tax.seller_state_code,
        tax.enabled,
    );
    let signed = |d: Decimal| match d.is_sign_negative() {
        true => didbill_core::money::format_2dp(d),
        false => format!("+{}", didbill_core::money::format_2dp(d)),
    };
    settlement(invoice, notes, now)
        .into_iter()
        .map(|d| {
            let difference = Money::round(d.now - d.billed, currency, Rounding::HalfUp);
            let gst = didbill_core::notes::tax_of_difference(
                difference,
                treatment,
                tax.rate,
                tax.rounding,
            );
            let l = &d.line.line;
            let what = l.call_direction.as_deref().unwrap_or(&l.e164);
            let state = match (d.billed.is_zero(), d.now.is_zero()) {
                (true, _) => "new",
                (_, true) => "vanished",
                _ => "changed",
            };
            format!(
                "{} {what} from {} ({state}): {} {}, GST {}",
                l.charge,
                l.service_from,
                signed(difference.amount()),
                invoice.currency,
                signed(gst.amount())
            )
        })
        .collect()
}

/// The note lines that would bring `invoice` plus its line notes to `now`, one per
/// differing line. Typed amounts (`adjustment` lines) are the user's own
/// corrections and are left out of the comparison.
fn settlement(
    invoice: &super::content::InvoiceContent,
    notes: &[NoteRecord],
    now: Option<&super::content::InvoiceContent>,
) -> Vec<Difference> {
    use std::collections::BTreeMap;
    type Key = (String, String, String, String);
    let key = super::content::owned_key;
    let amount = |l: &LineContent| l.amount.parse::<Decimal>().unwrap_or_default();
    // The line each key prints as: what the data says now, else what was billed.
    let mut shown: BTreeMap<Key, (&LineContent, Option<i64>)> = BTreeMap::new();
    let mut billed: Vec<(Key, Decimal)> = Vec::new();
    for (i, l) in invoice.lines.iter().enumerate() {
        shown.insert(key(l), (l, Some(i as i64 + 1)));
        billed.push((key(l), amount(l)));
    }
    for note in notes {
        for nl in note
            .lines
            .iter()
            .filter(|nl| nl.line.charge != "adjustment")
        {
            let sign = match note.kind {
                NoteKind::Credit => -Decimal::ONE,
                NoteKind::Debit => Decimal::ONE,
            };
            shown.entry(key(&nl.line)).or_insert((&nl.line, None));
            billed.push((key(&nl.line), sign * amount(&nl.line)));
        }
    }
    let current: Vec<(Key, Decimal)> = now
        .map(|c| c.lines.iter().map(|l| (key(l), amount(l))).collect())
        .unwrap_or_default();
    let mut now_lines: BTreeMap<Key, &LineContent> = BTreeMap::new();
    if let Some(c) = now {
        for l in &c.lines {
            now_lines.insert(key(l), l);
        }
    }
    didbill_core::notes::line_changes(&billed, &current)
        .into_iter()
        .filter_map(|change| {
            let difference = change.difference();
            // A debit prints the line as it is now; a credit as it was billed.
            let now_line = now_lines.get(&change.key).map(|l| (*l, None));
            let (base, invoice_line_no) = now_line
                .filter(|_| !difference.is_sign_negative())
                .or_else(|| shown.get(&change.key).copied())
                .or(now_line)?;
            let mut line = base.clone();
            line.amount = didbill_core::money::format_2dp(difference.abs());
            Some(Difference {
                line: NoteLine {
                    invoice_line_no,
                    description: line.charge.clone(),
                    line,
                },
                billed: change.billed,
                now: change.now,
            })
        })
        .collect()
}
