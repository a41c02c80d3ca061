//! The configuration file (`didbill.toml`, SPEC §2.6): every key, its default, and
//! its validation.
//!
//! The file is read into [`FileConfig`] (unknown keys are an error naming the key)
//! and then checked into [`Config`], whose values are typed and known to be valid:
//! a real IANA zone, a GST-compliant invoice number format, a tax rate in 0–100.
//! Decimal values (the tax rate) may be written as integers, strings or TOML floats;
//! floats are taken by their shortest decimal text, which is exactly what was typed
//! for any value of 15 significant digits or fewer.

//!
//! Each section lives in its own module with its checks; this module reads the
//! file, checks the top-level keys and assembles the sections.

mod api;
mod delivery;
mod export;
mod invoice;
mod note;
mod pricing;
mod seller;
mod tax;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

pub use didbill_core::billing::{BillingTime, Proration};
use didbill_core::billing::{Rules, TaxRules};
use didbill_core::fx::FxRates;
use didbill_core::money::{Currency, Rounding};
use didbill_core::period::Period;
use didbill_core::pricing::Pricing;

pub use api::ApiConfig;
use api::FileApi;
pub use delivery::{is_loopback, DeliveryConfig, Recipients, Security, SmtpConfig};
use delivery::{FileDelivery, FileSmtp};
use export::FileExport;
pub use export::{ExportConfig, QuickbooksConfig, TallyConfig, TaxNames, XeroConfig, ZohoConfig};
use invoice::FileInvoice;
pub use invoice::{InvoiceConfig, MAX_DUE_DAYS};
use note::FileNote;
pub use note::NoteConfig;
use pricing::FilePricing;
use seller::FileSeller;
pub use seller::{Payment, Seller};
pub use tax::TaxConfig;
use tax::{FileGst, FileTax};

use crate::error::{Error, Result};

/// The configuration file looked for in the working directory.
pub const DEFAULT_FILE: &str = "didbill.toml";

/// Largest `renewal_grace_hours`: a year (a longer grace is a typo, and the bound
/// keeps every date computed from it far inside chrono's range).
pub const MAX_GRACE_HOURS: u32 = 24 * 366;

/// The TOML file as written (SPEC §2.6), before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    timezone: String,
    billing_time: BillingTime,
    proration: Proration,
    rounding: Rounding,
    renewal_grace_hours: u32,
    round_off: bool,
    seller: FileSeller,
    tax: FileTax,
    gst: FileGst,
    invoice: FileInvoice,
    credit_note: FileNote,
    debit_note: FileNote,
    api: FileApi,
    export: FileExport,
    pricing: FilePricing,
    fx: BTreeMap<String, DecimalText>,
    smtp: FileSmtp,
    delivery: FileDelivery,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            timezone: "Asia/Kolkata".into(),
            billing_time: BillingTime::Calendar,
            proration: Proration::Actual,
            rounding: Rounding::HalfUp,
            renewal_grace_hours: 72,
            round_off: false,
            seller: FileSeller::default(),
            tax: FileTax::default(),
            gst: FileGst::default(),
            invoice: FileInvoice::default(),
            credit_note: note::default_credit(),
            debit_note: note::default_debit(),
            api: FileApi::default(),
            export: FileExport::default(),
            pricing: FilePricing::default(),
            fx: BTreeMap::new(),
            smtp: FileSmtp::default(),
            delivery: FileDelivery::default(),
        }
    }
}

/// [`decimal`] for a key that may be left out.
fn some_decimal<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Decimal>, D::Error> {
    decimal(d).map(Some)
}

/// A decimal written as a TOML integer, string or float, kept as its text to be
/// checked with the key it belongs to.
#[derive(Debug)]
struct DecimalText(String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decimal_text(d).map(DecimalText)
    }
}

/// Reads a decimal written as a TOML integer, string or float (see the module doc).
fn decimal<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
    let text = decimal_text(d)?;
    didbill_core::money::parse_amount(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a decimal number")))
}

/// The text of a decimal written as a TOML integer, string or float.
fn decimal_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
        Float(f64),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Int(i) => i.to_string(),
        Raw::Text(s) => s,
        Raw::Float(f) => f.to_string(),
    };
    Ok(text)
}

/// The validated configuration every stage reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Zone of every local date.
    pub timezone: Tz,
    /// Calendar or anniversary billing.
    pub billing_time: BillingTime,
    /// Proration of partial calendar months.
    pub proration: Proration,
    /// Rounding of each line and tax amount.
    pub rounding: Rounding,
    /// Hours after `next_billing_date` before an unrenewed number counts as lapsed.
    pub renewal_grace_hours: u32,
    /// Whether totals are rounded to whole units with a round-off line.
    pub round_off: bool,
    /// The seller.
    pub seller: Seller,
    /// GST settings.
    pub tax: TaxConfig,
    /// Invoice numbering.
    pub invoice: InvoiceConfig,
    /// Credit and debit note numbering.
    pub notes: NoteConfig,
    /// API settings.
    pub api: ApiConfig,
    /// Accounting export settings.
    pub export: ExportConfig,
    /// The partner's prices.
    pub pricing: Pricing,
    /// Exchange rates per currency from `[fx]`, used where `--fx-rates` gives no
    /// dated rate.
    pub fx: FxRates,
    /// The mail server of `didbill send`.
    pub smtp: SmtpConfig,
    /// Recipients per customer for `didbill send`.
    pub delivery: DeliveryConfig,
}

impl Default for Config {
    fn default() -> Self {
        FileConfig::default()
            .validate()
            .expect("the built-in defaults are valid")
    }
}

impl Config {
    /// The billing rules of `period` as of `as_of` under this configuration.
    pub fn rules(&self, period: Period, as_of: DateTime<Utc>) -> Rules {
        Rules {
            period,
            timezone: self.timezone,
            billing_time: self.billing_time,
            proration: self.proration,
            rounding: self.rounding,
            grace: Duration::hours(i64::from(self.renewal_grace_hours)),
            as_of,
            pricing: self.pricing.clone(),
            tax: TaxRules {
                enabled: self.tax.enabled,
                rate: self.tax.rate,
                seller_state_code: self.seller.state_code.clone(),
                export_with_igst: self.tax.export_with_igst,
            },
            round_off: self.round_off,
        }
    }

    /// Loads `path`, or `didbill.toml` in the working directory if present, else defaults.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_FILE), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(e) => {
                return Err(Error::Config {
                    path: path.display().to_string(),
                    message: format!("cannot read: {e}"),
                })
            }
        };
        Config::parse(&text).map_err(|message| Error::Config {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let file: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        file.validate()
    }
}

impl FileConfig {
    /// Checks every value and builds the typed configuration.
    pub fn validate(self) -> std::result::Result<Config, String> {
        let timezone: Tz = self.timezone.parse().map_err(|_| {
            format!(
                "timezone {:?} is not an IANA time zone (for example \"Asia/Kolkata\")",
                self.timezone
            )
        })?;
        if self.renewal_grace_hours > MAX_GRACE_HOURS {
            return Err(format!(
                "renewal_grace_hours {} must be at most {MAX_GRACE_HOURS} (366 days)",
                self.renewal_grace_hours
            ));
        }
        let seller = self.seller.validate()?;
        // The export tax names are built from the rate, so it is checked first.
        let tax = self.tax.validate(&self.gst)?;
        let export = self.export.validate(tax.rate)?;
        let notes = note::validate(self.credit_note, self.debit_note, self.invoice.prefix())?;
        let invoice = self.invoice.validate()?;
        let api = self.api.validate()?;
        let pricing = self.pricing.validate()?;
        let smtp = self.smtp.validate()?;
        let delivery = self.delivery.validate()?;
        let mut fx = FxRates::default();
        for (code, DecimalText(rate)) in self.fx {
            let currency = Currency::parse(&code)
                .filter(|c| *c != Currency::INR)
                .ok_or_else(|| {
                    format!("fx.{code:?}: the keys of [fx] are currency codes other than INR, such as USD")
                })?;
            fx.insert_fixed(
                currency,
                crate::fx::check_rate(&rate).map_err(|e| format!("fx.{code} {e}"))?,
            );
        }
        Ok(Config {
            timezone,
            billing_time: self.billing_time,
            proration: self.proration,
            rounding: self.rounding,
            renewal_grace_hours: self.renewal_grace_hours,
            round_off: self.round_off,
            seller,
            tax,
            invoice,
            notes,
            api,
            export,
            pricing,
            fx,
            smtp,
            delivery,
        })
    }
}

#[cfg(test)]
mod tests;
