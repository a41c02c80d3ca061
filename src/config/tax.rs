//! `[tax]`: whether GST is charged, its rate and the SAC code; `[gst]`: how many
//! digits of the SAC the seller must report.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::decimal;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileTax {
    enabled: bool,
    #[serde(deserialize_with = "decimal")]
    pub(super) rate: Decimal,
    sac: String,
    export: String,
}

impl Default for FileTax {
    fn default() -> Self {
        FileTax {
            enabled: true,
            rate: Decimal::from(18),
            sac: "9984".into(),
            export: "lut".into(),
        }
    }
}

/// `[gst]`: the seller's reporting obligations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileGst {
    sac_digits: u8,
}

impl Default for FileGst {
    fn default() -> Self {
        FileGst { sac_digits: 4 }
    }
}

/// Tax settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxConfig {
    /// Whether GST is charged at all.
    pub enabled: bool,
    /// Total GST rate in percent; CGST and SGST are half each.
    pub rate: Decimal,
    /// Services Accounting Code printed on invoices and reported in GSTR-1, of
    /// `[gst] sac_digits` digits.
    pub sac: String,
    /// Exports are supplied on payment of IGST (`export = "igst"`) rather than under
    /// a letter of undertaking without it (`"lut"`, the default).
    pub export_with_igst: bool,
}

impl FileTax {
    /// Checks the rate (a percentage) and the SAC code. A rate strictly between 0
    /// and 1 is refused: it is almost always a fraction (`0.18`) meant as 18 %, and
    /// no GST slab lies there.
    /// `gst.sac_digits` (4, or 6 — mandatory above ₹5 crore aggregate turnover,
    /// Notification 78/2020–Central Tax) is the number of digits `tax.sac` must have.
    pub(super) fn validate(self, gst: &FileGst) -> Result<TaxConfig, String> {
        if self.rate < Decimal::ZERO || self.rate > Decimal::ONE_HUNDRED {
            return Err(format!(
                "tax.rate {} must be between 0 and 100 (percent)",
                self.rate
            ));
        }
        if self.rate > Decimal::ZERO && self.rate < Decimal::ONE {
            return Err(format!(
                "tax.rate {} looks like a fraction: the rate is in percent, so write {} for {} %",
                self.rate,
                (self.rate * Decimal::ONE_HUNDRED).normalize(),
                (self.rate * Decimal::ONE_HUNDRED).normalize()
            ));
        }
        let sac = self.sac.trim().to_owned();
        if sac.is_empty() || sac.len() > 8 || !sac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "tax.sac {sac:?} must be a numeric SAC code such as \"9984\""
            ));
        }
        if !matches!(gst.sac_digits, 4 | 6) {
            return Err(format!(
                "gst.sac_digits {} must be 4 or 6 (6 above ₹5 crore aggregate turnover)",
                gst.sac_digits
            ));
        }
        if sac.len() != usize::from(gst.sac_digits) || !sac.starts_with("99") {
            return Err(format!(
                "tax.sac {sac:?} must be a SAC of {} digits starting with 99 (gst.sac_digits = \
                 {}; 6 digits are mandatory above ₹5 crore aggregate turnover), e.g. {}",
                gst.sac_digits,
                gst.sac_digits,
                if gst.sac_digits == 6 {
                    "\"998422\""
                } else {
                    "\"9984\""
                }
            ));
        }
        let export_with_igst = match self.export.trim() {
            "lut" => false,
            "igst" => true,
            other => {
                return Err(format!(
                    "tax.export {other:?} must be \"lut\" (exports under a letter of \
                     undertaking, without IGST) or \"igst\" (exports on payment of IGST)"
                ))
            }
        };
        Ok(TaxConfig {
            enabled: self.enabled,
            rate: self.rate,
            sac,
            export_with_igst,
        })
    }
}
