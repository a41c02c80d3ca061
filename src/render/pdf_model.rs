//! The mapping from an issued invoice to the PDF renderer's input model.
//!
//! Kept apart from the renderer so `pdf.rs` knows only what it prints, and billing
//! types never reach the layout code.

use rust_decimal::Decimal;

use crate::config::Config;
use crate::ledger::store::NoteRecord;
use crate::render::pdf::{
    PdfInvoice, PdfLine, PdfNote, PdfParty, PdfPayment, PdfRupees, PdfSignatory, PdfUsage,
};
use didbill_core::billing::{GstTreatment, IssuedInvoice};
use didbill_core::fx::InrValues;
use didbill_core::inventory::Customer;
use didbill_core::notes::issued_treatment;
use didbill_core::period::Period;
use didbill_core::{country, gst};

/// The file name of an invoice's PDF inside the output folder: `pdf/DID-26-27-00001.pdf`.
pub fn file_name(invoice_number: &str) -> String {
    format!("pdf/{}.pdf", file_stem(invoice_number))
}

/// An invoice number as its PDF is named, `/` replaced by `-` (`DID-26-27-00001`):
/// the form users copy from the file and type back into `invoices show`.
pub fn file_stem(invoice_number: &str) -> String {
    invoice_number.replace('/', "-")
}

/// What the PDF of `issued` shows; `draft` for a dry run's invoices, which are
/// not tax invoices.
pub fn pdf_invoice(
    issued: &IssuedInvoice,
    config: &Config,
    period: Period,
    draft: bool,
) -> PdfInvoice {
    let inv = &issued.invoice;
    let pos = inv.place_of_supply.code();
    PdfInvoice {
        draft,
        number: issued.number.clone(),
        invoice_date: issued.invoice_date,
        due_date: issued.due_date,
        period: period.to_string(),
        currency: inv.currency.to_string(),
        seller: seller_party(config),
        customer: PdfParty {
            name: inv.customer.name.clone(),
            address_lines: bill_to_address(&inv.customer),
            gstin: inv.customer.gstin.clone(),
            email: inv.customer.email.clone(),
        },
        place_of_supply_code: pos.to_owned(),
        place_of_supply_name: gst::state_name(pos).unwrap_or("").to_owned(),
        sac: config.tax.sac.clone(),
        tax_rate: config.tax.rate,
        tax_enabled: config.tax.enabled,
        export: inv.is_export(),
        export_igst: inv.treatment == GstTreatment::ExportWithIgst,
        intra_state: inv.treatment == GstTreatment::IntraState,
        lines: inv
            .lines
            .iter()
            .map(|l| PdfLine {
                // Usage lines belong to no number: the PDF prints a dash.
                e164: (!l.e164.is_empty()).then(|| l.e164.clone()),
                charge: l.charge.as_str().to_owned(),
                service_from: l.service_from,
                service_to: l.service_to,
                billable_days: l.billable_days,
                period_days: l.period_days,
                unit_amount: l.unit_amount.map(|m| m.amount()),
                amount: l.amount.amount(),
                usage: l.usage.as_ref().map(|u| PdfUsage {
                    direction: u.direction.clone(),
                    calls: u.calls,
                    billable_minutes: u.billable_minutes(),
                }),
            })
            .collect(),
        subtotal: inv.subtotal.amount(),
        cgst: inv.cgst.amount(),
        sgst: inv.sgst.amount(),
        igst: inv.igst.amount(),
        round_off: inv.round_off.amount(),
        total: inv.total.amount(),
        payment: payment(config),
        signatory: signatory(config),
        rupees: InrValues::of_issued(issued, config.tax.rate).map(|r| PdfRupees {
            rate: r.rate,
            taxable_value: r.taxable_value,
            cgst: r.cgst,
            sgst: r.sgst,
            igst: r.igst,
        }),
        note: None,
    }
}

/// What the PDF of a credit or debit note shows: the seller, the recipient as
/// billed on the invoice, the invoice's place of supply and tax treatment, the
/// note's lines and amounts, the original invoice and the reason (Rule 53(1A)).
pub fn pdf_note(note: &NoteRecord, config: &Config) -> PdfInvoice {
    // Written by didbill with 2 decimals; a damaged figure prints as zero.
    let amount = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let date = |s: &str| s.parse().unwrap_or(note.invoice_date);
    let treatment = issued_treatment(
        amount(&note.cgst),
        amount(&note.sgst),
        amount(&note.igst),
        &note.place_of_supply,
        &config.seller.state_code,
        config.tax.enabled,
    );
    PdfInvoice {
        draft: false,
        number: note.number.clone(),
        invoice_date: note.note_date,
        due_date: note.note_date,
        period: note.period.clone(),
        currency: note.currency.clone(),
        seller: seller_party(config),
        customer: PdfParty {
            name: note.customer_name.clone(),
            address_lines: note.customer_address.clone(),
            gstin: (!note.customer_gstin.is_empty()).then(|| note.customer_gstin.clone()),
            email: None,
        },
        place_of_supply_code: note.place_of_supply.clone(),
        place_of_supply_name: gst::state_name(&note.place_of_supply)
            .unwrap_or("")
            .to_owned(),
        sac: config.tax.sac.clone(),
        tax_rate: config.tax.rate,
        tax_enabled: treatment != GstTreatment::Untaxed,
        export: matches!(
            treatment,
            GstTreatment::ZeroRated | GstTreatment::ExportWithIgst
        ),
        export_igst: treatment == GstTreatment::ExportWithIgst,
        intra_state: treatment == GstTreatment::IntraState,
        lines: note
            .lines
            .iter()
            .map(|n| {
                let l = &n.line;
                PdfLine {
                    e164: (!l.e164.is_empty()).then(|| l.e164.clone()),
                    // A typed amount prints its description.
                    charge: match n.invoice_line_no {
                        Some(_) => l.charge.clone(),
                        None => n.description.clone(),
                    },
                    service_from: date(&l.service_from),
                    service_to: date(&l.service_to),
                    billable_days: l.billable_days,
                    period_days: l.period_days,
                    unit_amount: (!l.unit_amount.is_empty()).then(|| amount(&l.unit_amount)),
                    amount: amount(&l.amount),
                    usage: l.call_direction.as_ref().map(|direction| PdfUsage {
                        direction: direction.clone(),
                        calls: l.calls.unwrap_or(0),
                        billable_minutes: didbill_core::billing::UsageDetail {
                            direction: direction.clone(),
                            calls: l.calls.unwrap_or(0),
                            billable_seconds: l.billable_seconds.unwrap_or(0),
                        }
                        .billable_minutes(),
                    }),
                }
            })
            .collect(),
        subtotal: amount(&note.subtotal),
        cgst: amount(&note.cgst),
        sgst: amount(&note.sgst),
        igst: amount(&note.igst),
        round_off: amount(&note.round_off),
        total: amount(&note.total),
        payment: payment(config),
        signatory: signatory(config),
        rupees: None,
        note: Some(PdfNote {
            title: note.kind.title().to_owned(),
            original_number: note.invoice_number.clone(),
            original_date: note.invoice_date,
            reason: note.reason.clone(),
        }),
    }
}

/// The seller block of every document.
fn seller_party(config: &Config) -> PdfParty {
    let seller = &config.seller;
    PdfParty {
        name: seller.name.clone(),
        address_lines: seller.address.clone(),
        gstin: (!seller.gstin.is_empty()).then(|| seller.gstin.clone()),
        email: (!seller.email.is_empty()).then(|| seller.email.clone()),
    }
}

/// The seller's payment details.
fn payment(config: &Config) -> PdfPayment {
    let payment = &config.seller.payment;
    PdfPayment {
        bank_name: payment.bank_name.clone(),
        bank_account: payment.bank_account.clone(),
        ifsc: payment.ifsc.clone(),
        upi_id: payment.upi_id.clone(),
    }
}

/// The seller's authorised signatory.
fn signatory(config: &Config) -> PdfSignatory {
    PdfSignatory {
        name: config.seller.signatory_name.clone(),
        title: config.seller.signatory_title.clone(),
    }
}

/// The customer's address with its last line, the state and country as the
/// accounts data writes them (`KA, IN`), in words: `Karnataka (29), India`. An
/// Indian state is named from the GST table; a state abroad (`TN` in the US is
/// Tennessee, not Tamil Nadu) and an unknown one print as written, and so does a
/// country code that is not ISO 3166-1.
fn bill_to_address(c: &Customer) -> Vec<String> {
    let mut lines = c.address.clone();
    if c.state.is_none() && c.country.is_none() {
        return lines;
    }
    // The inventory ends the address with exactly this line (see `Customer::address`).
    let written = lines.pop();
    debug_assert_eq!(
        written.as_deref(),
        Some(
            [c.state.as_deref(), c.country.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
                .as_str()
        )
    );
    let in_india = c
        .country
        .as_deref()
        .is_none_or(|code| code.eq_ignore_ascii_case("IN"));
    let state = c
        .state
        .as_deref()
        .map(|state| match gst::state_code(state).filter(|_| in_india) {
            Some(code) => format!("{} ({code})", gst::state_name(code).unwrap_or(state)),
            None => state.to_owned(),
        });
    let country = c
        .country
        .as_deref()
        .map(|code| country::name(code).unwrap_or(code).to_owned());
    lines.push(
        [state, country]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
    );
    lines
}

impl From<crate::render::pdf::PdfError> for crate::error::Error {
    fn from(e: crate::render::pdf::PdfError) -> Self {
        use crate::render::pdf::PdfError;
        match e {
            PdfError::Template { file, message } => {
                crate::error::Error::input(file, format!("PDF template: {message}"))
            }
            PdfError::Io { path, source } => {
                crate::error::Error::io(format!("reading {}", path.display()), source)
            }
            other => crate::error::Error::Data(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(state: Option<&str>, country: Option<&str>) -> Customer {
        let region: Vec<&str> = [state, country].into_iter().flatten().collect();
        let mut address = vec![
            "42 Residency Road".to_owned(),
            "Bengaluru 560025".to_owned(),
        ];
        if !region.is_empty() {
            address.push(region.join(", "));
        }
        Customer {
            address,
            state: state.map(str::to_owned),
            country: country.map(str::to_owned),
            ..Customer::default()
        }
    }

    #[test]
    fn the_bill_to_address_names_the_state_and_country() {
        let last = |state, country| bill_to_address(&customer(state, country)).pop();
        let cases = [
            (Some("KA"), Some("IN"), "Karnataka (29), India"),
            (Some("karnataka"), Some("in"), "Karnataka (29), India"),
            (Some("J&K"), Some("IN"), "Jammu and Kashmir (01), India"),
            (Some("TS"), None, "Telangana (36)"),
            (None, Some("IN"), "India"),
            (Some("Berlin"), Some("DE"), "Berlin, Germany"),
            // Abroad, a state is never read as an Indian code.
            (Some("TN"), Some("US"), "TN, United States"),
            (Some("Narnia"), Some("IN"), "Narnia, India"),
            (Some("Gotham"), Some("XQ"), "Gotham, XQ"),
        ];
        for (state, country, expected) in cases {
            assert_eq!(
                last(state, country).as_deref(),
                Some(expected),
                "{state:?} {country:?}"
            );
        }
        let lines = bill_to_address(&customer(Some("KA"), Some("IN")));
        assert_eq!(lines[..2], ["42 Residency Road", "Bengaluru 560025"]);
        // No state and no country: the address is left as it is.
        assert_eq!(
            bill_to_address(&customer(None, None)),
            ["42 Residency Road", "Bengaluru 560025"]
        );
    }
}
