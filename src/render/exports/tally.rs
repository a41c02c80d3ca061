//! `run --csv tally`: the run's invoices as TallyPrime sales vouchers, one XML file
//! (`tally.xml`) in Tally's import format (`ENVELOPE` › `IMPORTDATA` ›
//! `REQUESTDATA` › `TALLYMESSAGE` › `VOUCHER`), for *Import › Vouchers*.
//!
//! Each invoice is one voucher in the "Accounting Voucher View": the party ledger
//! (the customer's name) is debited with the total, with a bill-wise "New Ref" of
//! the invoice number so the receivable is tracked per invoice; the sales ledger is
//! credited with the taxable value, the CGST/SGST/IGST duty ledgers with the tax, and
//! the round-off ledger with the round-off. Tally writes a debit as a negative
//! `AMOUNT` with `ISDEEMEDPOSITIVE` Yes and a credit as a positive one with No.
//!
//! Tally keeps its books in rupees, so every amount is in rupees: an INR invoice's
//! own figures, and for an invoice in another currency the rupee values recorded
//! with it ([`InrValues::of_issued`]): the taxable value and the GST at the
//! invoice's exchange rate, the party debited with its total at that rate, and the
//! few paise between the two (GST is computed on the rupee value, not converted) on
//! the round-off ledger, so every voucher balances to zero.

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use rust_decimal::{Decimal, RoundingStrategy};

use chrono::NaiveDate;

use crate::config::{Config, TallyConfig};
use crate::error::{Error, Result};
use crate::ledger::store::NoteRecord;
use didbill_core::billing::{GstTreatment, IssuedInvoice};
use didbill_core::fx::InrValues;
use didbill_core::money::Currency;
use didbill_core::notes::{issued_treatment, NoteKind};
use didbill_core::period::Period;
use didbill_core::{country, gst};

/// The file name of the export.
pub const FILE: &str = "tally.xml";

/// The file name of the period's notes, apart from `tally.xml` so that issuing a
/// note never rewrites the invoices' vouchers.
pub const NOTES_FILE: &str = "tally_notes.xml";

/// One ledger line of a voucher: the ledger and its signed rupee amount (negative
/// is a debit).
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The ledger's name in Tally.
    pub ledger: &'a str,
    /// Rupees; negative for a debit, positive for a credit.
    pub amount: Decimal,
    /// Whether this is the party (customer) ledger.
    pub party: bool,
}

/// What a voucher books, in the document's own currency.
struct Booking<'a> {
    /// `invoice`, `credit note` or `debit note`, for messages.
    document: &'static str,
    number: &'a str,
    customer_id: &'a str,
    party: &'a str,
    currency: Currency,
    fx_rate: Option<Decimal>,
    treatment: GstTreatment,
    export: bool,
    total: Decimal,
    taxable: Decimal,
    cgst: Decimal,
    sgst: Decimal,
    igst: Decimal,
}

impl<'a> Booking<'a> {
    fn of_invoice(issued: &'a IssuedInvoice) -> Booking<'a> {
        let inv = &issued.invoice;
        Booking {
            document: "invoice",
            number: &issued.number,
            customer_id: &inv.customer.id,
            party: &inv.customer.name,
            currency: inv.currency,
            fx_rate: issued.fx_rate,
            treatment: inv.treatment,
            export: inv.is_export(),
            total: inv.total.amount(),
            taxable: inv.subtotal.amount(),
            cgst: inv.cgst.amount(),
            sgst: inv.sgst.amount(),
            igst: inv.igst.amount(),
        }
    }

    /// A note, read back from the ledger (its amounts are didbill's own 2-decimal
    /// figures; its currency was checked when it was issued).
    fn of_note(note: &'a NoteRecord, config: &Config) -> Booking<'a> {
        let amount = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        let [cgst, sgst, igst] = [&note.cgst, &note.sgst, &note.igst].map(|t| amount(t));
        Booking {
            document: match note.kind {
                NoteKind::Credit => "credit note",
                NoteKind::Debit => "debit note",
            },
            number: &note.number,
            customer_id: &note.customer_id,
            party: &note.customer_name,
            currency: Currency::parse(&note.currency).unwrap_or(Currency::INR),
            fx_rate: note.fx_rate,
            treatment: issued_treatment(
                cgst,
                sgst,
                igst,
                &note.place_of_supply,
                &config.seller.state_code,
                config.tax.enabled,
            ),
            export: note.place_of_supply == gst::EXPORT_CODE,
            total: amount(&note.total),
            taxable: amount(&note.subtotal),
            cgst,
            sgst,
            igst,
        }
    }

    /// The voucher entries in rupees, party first, as for an invoice (party
    /// debited); they add up to zero. Fails for a document in another currency
    /// without an exchange rate (tax disabled), whose rupee value didbill does not
    /// know.
    fn entries(&self, tally: &'a TallyConfig, gst_percent: Decimal) -> Result<Vec<Entry<'a>>> {
        let (total, taxable, cgst, sgst, igst) = if self.currency == Currency::INR {
            (self.total, self.taxable, self.cgst, self.sgst, self.igst)
        } else {
            let rate = self.fx_rate.ok_or_else(|| {
                Error::Data(format!(
                    "--csv tally: {} {} ({}) is in {} and has no exchange rate (tax is off, so none \
                     was recorded), and Tally's vouchers are in rupees: {}; nothing was written",
                    self.document,
                    self.number,
                    self.customer_id,
                    self.currency,
                    match self.document {
                        "invoice" => "drop tally from --csv for this month, or price the customer in INR",
                        _ => "a note is written to tally_notes.xml because the folder has tally.xml; \
                              move tally.xml out of the folder to issue it without",
                    }
                ))
            })?;
            let inr = InrValues::of_value(self.taxable, self.treatment, rate, gst_percent);
            let total = (self.total * rate)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            (total, inr.taxable_value, inr.cgst, inr.sgst, inr.igst)
        };
        let sales = match self.export {
            true => &tally.export_sales_ledger,
            false => &tally.sales_ledger,
        };
        let round_off = total - taxable - cgst - sgst - igst;
        let credits = [
            (sales.as_str(), taxable),
            (tally.cgst_ledger.as_str(), cgst),
            (tally.sgst_ledger.as_str(), sgst),
            (tally.igst_ledger.as_str(), igst),
            (tally.round_off_ledger.as_str(), round_off),
        ];
        let party = Entry {
            ledger: self.party,
            amount: -total,
            party: true,
        };
        Ok(std::iter::once(party)
            .chain(
                credits
                    .into_iter()
                    .enumerate()
                    // The sales line always stands; a zero tax or round-off has no line.
                    .filter(|(i, (_, amount))| *i == 0 || !amount.is_zero())
                    .map(|(_, (ledger, amount))| Entry {
                        ledger,
                        amount,
                        party: false,
                    }),
            )
            .collect())
    }
}

/// `issued`'s voucher entries in rupees, party first; they add up to zero. Fails for
/// an invoice in another currency without an exchange rate (tax disabled), whose
/// rupee value didbill does not know.
pub fn entries<'a>(
    issued: &'a IssuedInvoice,
    tally: &'a TallyConfig,
    gst_percent: Decimal,
) -> Result<Vec<Entry<'a>>> {
    Booking::of_invoice(issued).entries(tally, gst_percent)
}

/// One voucher as written.
struct Voucher<'a> {
    voucher_type: &'a str,
    number: &'a str,
    date: NaiveDate,
    party: &'a str,
    gstin: Option<&'a str>,
    /// The state of supply, and the buyer's country of residence.
    state: Option<&'static str>,
    residence: Option<&'static str>,
    narration: String,
    /// The bill-wise allocation: the bill's name and `New Ref` or `Agst Ref`.
    bill: (&'a str, &'static str),
    entries: Vec<Entry<'a>>,
}

/// `tally.xml` for `invoices` (in the order given, which is invoice-number order).
pub fn render(invoices: &[IssuedInvoice], config: &Config, period: Period) -> Result<Vec<u8>> {
    let tally = &config.export.tally;
    // Every invoice's rupee entries first, so a missing rate fails before writing.
    let vouchers = invoices
        .iter()
        .map(|issued| {
            let inv = &issued.invoice;
            let customer = &inv.customer;
            let mut narration = format!(
                "DID numbers, {}; customer {}",
                period.start().format("%B %Y"),
                customer.id
            );
            if let (true, Some(rate)) = (inv.currency != Currency::INR, issued.fx_rate) {
                narration.push_str(&format!(
                    "; {} {} at Rs. {} per {}",
                    inv.currency, inv.total, rate, inv.currency
                ));
            }
            // An export has no Indian state; Tally takes the buyer's country instead.
            let (state, residence) = match inv.is_export() {
                true => (None, customer.country.as_deref().and_then(country::name)),
                false => (gst::state_name(inv.place_of_supply.code()), Some("India")),
            };
            Ok(Voucher {
                voucher_type: &tally.voucher_type,
                number: &issued.number,
                date: issued.invoice_date,
                party: &customer.name,
                gstin: customer.gstin.as_deref(),
                state,
                residence,
                narration,
                bill: (&issued.number, "New Ref"),
                entries: entries(issued, tally, config.tax.rate)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    write(&vouchers, config, FILE)
}

/// `tally_notes.xml` for a period's credit and debit notes: a "Credit Note"
/// voucher for each credit note (the party credited, sales and GST debited) and a
/// "Debit Note" voucher for each debit note (booked as an invoice is), in rupees
/// at the original invoice's rate, each allocated bill-wise "Agst Ref" to the
/// invoice it corrects so Tally sets it off against that receivable.
pub fn render_notes(notes: &[NoteRecord], config: &Config) -> Result<Vec<u8>> {
    let tally = &config.export.tally;
    let vouchers = notes
        .iter()
        .map(|note| {
            let booking = Booking::of_note(note, config);
            let mut entries = booking.entries(tally, config.tax.rate)?;
            let voucher_type = match note.kind {
                NoteKind::Credit => {
                    // The reverse of the invoice's entries.
                    entries.iter_mut().for_each(|e| e.amount = -e.amount);
                    "Credit Note"
                }
                NoteKind::Debit => "Debit Note",
            };
            let mut narration = format!(
                "{} against invoice {} of {}; customer {}; {}",
                note.kind.title(),
                note.invoice_number,
                note.invoice_date.format("%d/%m/%Y"),
                note.customer_id,
                note.reason
            );
            if let (true, Some(rate)) = (booking.currency != Currency::INR, note.fx_rate) {
                narration.push_str(&format!(
                    "; {} {} at Rs. {} per {}",
                    note.currency, note.total, rate, note.currency
                ));
            }
            let (state, residence) = match booking.export {
                true => (None, None),
                false => (gst::state_name(&note.place_of_supply), Some("India")),
            };
            Ok(Voucher {
                voucher_type,
                number: &note.number,
                date: note.note_date,
                party: &note.customer_name,
                gstin: (!note.customer_gstin.is_empty()).then_some(note.customer_gstin.as_str()),
                state,
                residence,
                narration,
                bill: (&note.invoice_number, "Agst Ref"),
                entries,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    write(&vouchers, config, NOTES_FILE)
}

/// The envelope of `vouchers`, as the bytes of `file`.
fn write(vouchers: &[Voucher], config: &Config, file: &str) -> Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    write_envelope(&mut w, vouchers, &config.export.tally.company)
        .map_err(|e| Error::Usage(format!("writing {file}: {e}")))?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

fn write_envelope(
    w: &mut Writer<Vec<u8>>,
    vouchers: &[Voucher],
    company: &str,
) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("ENVELOPE").write_inner_content(|w| {
        w.create_element("HEADER")
            .write_inner_content(|w| text(w, "TALLYREQUEST", "Import Data"))?;
        w.create_element("BODY").write_inner_content(|w| {
            w.create_element("IMPORTDATA").write_inner_content(|w| {
                w.create_element("REQUESTDESC").write_inner_content(|w| {
                    text(w, "REPORTNAME", "Vouchers")?;
                    if !company.is_empty() {
                        w.create_element("STATICVARIABLES")
                            .write_inner_content(|w| text(w, "SVCURRENTCOMPANY", company))?;
                    }
                    Ok(())
                })?;
                w.create_element("REQUESTDATA")
                    .write_inner_content(|w| vouchers.iter().try_for_each(|v| voucher(w, v)))?;
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(())
}

fn voucher(w: &mut Writer<Vec<u8>>, v: &Voucher) -> std::io::Result<()> {
    let date = v.date.format("%Y%m%d").to_string();
    w.create_element("TALLYMESSAGE").write_inner_content(|w| {
        w.create_element("VOUCHER")
            .with_attributes([
                ("VCHTYPE", v.voucher_type),
                ("ACTION", "Create"),
                ("OBJVIEW", "Accounting Voucher View"),
            ])
            .write_inner_content(|w| {
                text(w, "DATE", &date)?;
                text(w, "EFFECTIVEDATE", &date)?;
                text(w, "VOUCHERTYPENAME", v.voucher_type)?;
                text(w, "VOUCHERNUMBER", v.number)?;
                text(w, "PERSISTEDVIEW", "Accounting Voucher View")?;
                text(w, "PARTYLEDGERNAME", v.party)?;
                if let Some(gstin) = v.gstin {
                    text(w, "PARTYGSTIN", gstin)?;
                }
                if let Some(state) = v.state {
                    text(w, "STATENAME", state)?;
                    text(w, "PLACEOFSUPPLY", state)?;
                }
                if let Some(residence) = v.residence {
                    text(w, "COUNTRYOFRESIDENCE", residence)?;
                }
                text(w, "NARRATION", &v.narration)?;
                v.entries
                    .iter()
                    .try_for_each(|entry| ledger_entry(w, entry, v.bill))
            })?;
        Ok(())
    })?;
    Ok(())
}

fn ledger_entry(
    w: &mut Writer<Vec<u8>>,
    entry: &Entry,
    (bill, bill_type): (&str, &str),
) -> std::io::Result<()> {
    // `-0` would read as a debit of nothing: zero is written unsigned.
    let signed = match entry.amount.is_zero() {
        true => Decimal::ZERO,
        false => entry.amount,
    };
    let amount = format!("{signed:.2}");
    let debit = if signed < Decimal::ZERO { "Yes" } else { "No" };
    w.create_element("ALLLEDGERENTRIES.LIST")
        .write_inner_content(|w| {
            text(w, "LEDGERNAME", entry.ledger)?;
            text(w, "ISDEEMEDPOSITIVE", debit)?;
            if entry.party {
                text(w, "ISPARTYLEDGER", "Yes")?;
            }
            text(w, "AMOUNT", &amount)?;
            if entry.party {
                w.create_element("BILLALLOCATIONS.LIST")
                    .write_inner_content(|w| {
                        text(w, "NAME", bill)?;
                        text(w, "BILLTYPE", bill_type)?;
                        text(w, "AMOUNT", &amount)
                    })?;
            }
            Ok(())
        })?;
    Ok(())
}

/// `<name>value</name>`, the value escaped; characters XML 1.0 cannot carry (control
/// characters other than tab and line breaks) are written as `\u{..}` escapes.
fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    let value = crate::text::escape_hidden(value);
    w.create_element(name)
        .write_text_content(BytesText::new(&value))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use proptest::prelude::*;

    use super::*;
    use didbill_core::billing::{self, ChargeKind, Line};
    use didbill_core::gst::PlaceOfSupply;
    use didbill_core::inventory::Customer;
    use didbill_core::money::{Money, Rounding};

    /// An invoice of `amounts` (in paise) in `currency` to `pos`, issued at `rate`.
    fn issued(
        amounts: &[i64],
        currency: Currency,
        pos: PlaceOfSupply,
        round_off: bool,
        rate: Option<Decimal>,
    ) -> (IssuedInvoice, Config) {
        let config = Config {
            round_off,
            ..Config::default()
        };
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let lines = amounts
            .iter()
            .enumerate()
            .map(|(i, paise)| {
                let amount = Money::round(Decimal::new(*paise, 2), currency, Rounding::HalfUp);
                Line {
                    customer_id: "MA_P".into(),
                    currency,
                    number_id: format!("n{i}"),
                    e164: format!("+9180410{i:05}"),
                    charge: ChargeKind::Rental,
                    service_from: day,
                    service_to: day,
                    billable_days: Some(1),
                    period_days: Some(30),
                    unit_amount: Some(amount),
                    amount,
                    provider_amount: amount,
                    setup_key: None,
                    usage: None,
                }
            })
            .collect();
        let customer = Customer {
            id: "MA_P".into(),
            name: "Prop Co".into(),
            company: true,
            email: None,
            address: vec![],
            street: None,
            city: None,
            postal_code: None,
            country: (pos == PlaceOfSupply::Export).then(|| "DE".into()),
            gstin: None,
            state: None,
            cash_credits: None,
        };
        let rules = config.rules("2026-11".parse().unwrap(), chrono::DateTime::UNIX_EPOCH);
        let invoice = billing::invoice::invoice(customer, currency, lines, pos, &rules);
        let issued = IssuedInvoice {
            number: "DID/26-27/00001".into(),
            invoice_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 16).unwrap(),
            invoice,
            fx_rate: rate,
        };
        (issued, config)
    }

    proptest! {
        /// Every voucher balances; the party carries the total and the sales ledger
        /// the taxable value, both in rupees; the tax ledgers carry the rupee GST;
        /// for a foreign invoice the round-off line takes the invoice's own round-off
        /// in rupees and the conversion's paise (within a paisa per unit of the
        /// rate, plus three paise).
        #[test]
        fn vouchers_balance_in_rupees(
            amounts in proptest::collection::vec(-50_000i64..5_000_000, 1..12),
            usd in any::<bool>(),
            pos in prop_oneof![
                Just(PlaceOfSupply::State("29")),
                Just(PlaceOfSupply::State("27")),
                Just(PlaceOfSupply::Export),
            ],
            round_off in any::<bool>(),
            rate_paise in 100i64..15_000,
        ) {
            let currency = if usd { Currency::parse("USD").unwrap() } else { Currency::INR };
            let rate = usd.then(|| Decimal::new(rate_paise, 2));
            let (issued, config) = issued(&amounts, currency, pos, round_off, rate);
            let entries = entries(&issued, &config.export.tally, config.tax.rate).unwrap();
            let sum: Decimal = entries.iter().map(|e| e.amount).sum();
            prop_assert_eq!(sum, Decimal::ZERO);
            prop_assert!(entries[0].party && entries.iter().skip(1).all(|e| !e.party));
            let ledger = |name: &str| -> Decimal {
                entries.iter().filter(|e| e.ledger == name).map(|e| e.amount).sum()
            };
            let inv = &issued.invoice;
            match InrValues::of_issued(&issued, config.tax.rate) {
                None => {
                    prop_assert_eq!(entries[0].amount, -inv.total.amount());
                    prop_assert_eq!(ledger("Sales"), inv.subtotal.amount());
                    prop_assert_eq!(ledger("Output CGST"), inv.cgst.amount());
                    prop_assert_eq!(ledger("Output SGST"), inv.sgst.amount());
                    prop_assert_eq!(ledger("Output IGST"), inv.igst.amount());
                    prop_assert_eq!(ledger("Round Off"), inv.round_off.amount());
                }
                Some(inr) => {
                    let total = (inv.total.amount() * inr.rate)
                        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                    prop_assert_eq!(entries[0].amount, -total);
                    prop_assert_eq!(ledger("Sales"), inr.taxable_value);
                    prop_assert_eq!(ledger("Output CGST"), inr.cgst);
                    prop_assert_eq!(ledger("Output IGST"), inr.igst);
                    let bound = (inv.round_off.amount() * inr.rate).abs()
                        + inr.rate / Decimal::ONE_HUNDRED
                        + Decimal::new(3, 2);
                    prop_assert!(ledger("Round Off").abs() <= bound, "{} > {}", ledger("Round Off"), bound);
                }
            }
            prop_assert!(entries.iter().skip(2).all(|e| !e.amount.is_zero()));
        }
    }

    #[test]
    fn a_foreign_invoice_without_a_rate_names_itself() {
        let usd = Currency::parse("USD").unwrap();
        let (issued, config) = issued(&[1000], usd, PlaceOfSupply::Export, false, None);
        let err = entries(&issued, &config.export.tally, config.tax.rate).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(
            err.to_string().contains("DID/26-27/00001 (MA_P) is in USD"),
            "{err}"
        );
    }
}
