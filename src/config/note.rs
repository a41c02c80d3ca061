//! `[credit_note]` and `[debit_note]`: the number formats of the two note series.

use didbill_core::numbering::NumberFormat;
use serde::Deserialize;

/// The number formats of the note series, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteConfig {
    /// `credit_note.number_format`.
    pub credit_format: NumberFormat,
    /// `debit_note.number_format`.
    pub debit_format: NumberFormat,
}

/// One `[credit_note]` or `[debit_note]` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileNote {
    number_format: String,
}

impl FileNote {
    /// Checks the format like an invoice number format (GST Rule 46(b) and the
    /// IRP's document number rules), naming `section.number_format`; `{prefix}`
    /// stands for `invoice.prefix`.
    pub(super) fn validate(self, section: &str, prefix: &str) -> Result<NumberFormat, String> {
        NumberFormat::parse_series(
            &format!("{section}.number_format"),
            &self.number_format,
            prefix,
        )
    }
}

/// The default `[credit_note]` section.
pub(super) fn default_credit() -> FileNote {
    FileNote {
        number_format: "CN/{fy}/{seq:05}".into(),
    }
}

/// The default `[debit_note]` section.
pub(super) fn default_debit() -> FileNote {
    FileNote {
        number_format: "DN/{fy}/{seq:05}".into(),
    }
}

/// Validates both note sections.
pub(super) fn validate(
    credit: FileNote,
    debit: FileNote,
    prefix: &str,
) -> Result<NoteConfig, String> {
    Ok(NoteConfig {
        credit_format: credit.validate("credit_note", prefix)?,
        debit_format: debit.validate("debit_note", prefix)?,
    })
}
