//! `[invoice]`: the invoice number format and payment terms.

use didbill_core::numbering::NumberFormat;
use serde::Deserialize;

/// Largest `invoice.due_days` (payment terms longer than a year are a typo).
pub const MAX_DUE_DAYS: u32 = 365;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileInvoice {
    number_format: String,
    prefix: String,
    due_days: u32,
}

impl Default for FileInvoice {
    fn default() -> Self {
        FileInvoice {
            number_format: "{prefix}/{fy}/{seq:05}".into(),
            prefix: "DID".into(),
            due_days: 15,
        }
    }
}

/// Invoice numbering and dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceConfig {
    /// The validated number format, prefix applied.
    pub number_format: NumberFormat,
    /// Days from invoice date to due date.
    pub due_days: u32,
}

impl FileInvoice {
    /// `invoice.prefix`, which the note formats' `{prefix}` also stands for.
    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Checks the number format (GST Rule 46(b)) and the payment terms.
    pub(super) fn validate(self) -> Result<InvoiceConfig, String> {
        if self.due_days > MAX_DUE_DAYS {
            return Err(format!(
                "invoice.due_days {} must be at most {MAX_DUE_DAYS}",
                self.due_days
            ));
        }
        Ok(InvoiceConfig {
            number_format: NumberFormat::parse(&self.number_format, &self.prefix)?,
            due_days: self.due_days,
        })
    }
}
