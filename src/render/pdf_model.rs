//! The mapping from an issued invoice to the PDF renderer's input model.
//!
//! Kept apart from the renderer so `pdf.rs` knows only what it prints, and billing
//! types never reach the layout code.

use crate::config::Config;
use crate::render::pdf::{PdfInvoice, PdfLine, PdfParty, PdfUsage};
use didbill_core::billing::{GstTreatment, IssuedInvoice};
use didbill_core::gst;
use didbill_core::period::Period;

/// The file name of an invoice's PDF inside the output folder: `pdf/DID-26-27-00001.pdf`.
pub fn file_name(invoice_number: &str) -> String {
    format!("pdf/{}.pdf", file_stem(invoice_number))
}

/// An invoice number as its PDF is named, `/` replaced by `-` (`DID-26-27-00001`):
/// the form users copy from the file and type back into `invoices show`.
pub fn file_stem(invoice_number: &str) -> String {
    invoice_number.replace('/', "-")
}

/// What the PDF of `issued` shows.
pub fn pdf_invoice(issued: &IssuedInvoice, config: &Config, period: Period) -> PdfInvoice {
    let inv = &issued.invoice;
    let pos = inv.place_of_supply.code();
    let seller = &config.seller;
    PdfInvoice {
        number: issued.number.clone(),
        invoice_date: issued.invoice_date,
        due_date: issued.due_date,
        period: period.to_string(),
        currency: inv.currency.to_string(),
        seller: PdfParty {
            name: seller.name.clone(),
            address_lines: seller.address.clone(),
            gstin: (!seller.gstin.is_empty()).then(|| seller.gstin.clone()),
            email: (!seller.email.is_empty()).then(|| seller.email.clone()),
        },
        customer: PdfParty {
            name: inv.customer.name.clone(),
            address_lines: inv.customer.address.clone(),
            gstin: inv.customer.gstin.clone(),
            email: inv.customer.email.clone(),
        },
        place_of_supply_code: pos.to_owned(),
        place_of_supply_name: gst::state_name(pos).unwrap_or("").to_owned(),
        sac: config.tax.sac.clone(),
        tax_rate: config.tax.rate,
        tax_enabled: config.tax.enabled,
        export: inv.is_export(),
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
    }
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
