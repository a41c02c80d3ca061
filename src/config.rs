//! The configuration file (`didbill.toml`, SPEC §2.6): every key, its default, and
//! its validation.
//!
//! The file is read into [`FileConfig`] (unknown keys are an error naming the key)
//! and then checked into [`Config`], whose values are typed and known to be valid:
//! a real IANA zone, a GST-compliant invoice number format, a tax rate in 0–100.
//! Decimal values (the tax rate) may be written as integers, strings or TOML floats;
//! floats are taken by their shortest decimal text, which is exactly what was typed
//! for any value of 15 significant digits or fewer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use chrono::{DateTime, Duration, Utc};
pub use didbill_core::billing::{BillingTime, Proration};
use didbill_core::billing::{Rules, TaxRules};
use didbill_core::gst;
use didbill_core::money::Rounding;
use didbill_core::numbering::NumberFormat;
use didbill_core::period::Period;
use didbill_core::pricing::{self, Price, Prices, Pricing};
use vobiz::settings::ApiSettings;

use crate::error::{Error, Result};

/// The configuration file looked for in the working directory.
pub const DEFAULT_FILE: &str = "didbill.toml";

/// Largest `renewal_grace_hours`: a year (a longer grace is a typo, and the bound
/// keeps every date computed from it far inside chrono's range).
pub const MAX_GRACE_HOURS: u32 = 24 * 366;

/// Largest `invoice.due_days` (payment terms longer than a year are a typo).
pub const MAX_DUE_DAYS: u32 = 365;

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
    invoice: FileInvoice,
    api: FileApi,
    export: FileExport,
    pricing: FilePricing,
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
            invoice: FileInvoice::default(),
            api: FileApi::default(),
            export: FileExport::default(),
            pricing: FilePricing::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileSeller {
    name: String,
    address: Vec<String>,
    gstin: String,
    state_code: Option<String>,
    email: String,
}

impl Default for FileSeller {
    fn default() -> Self {
        FileSeller {
            name: "Demo Telecom Pvt Ltd".into(),
            address: vec!["1 MG Road".into(), "Bengaluru 560001".into()],
            gstin: "29ABCDE1234F1Z5".into(),
            state_code: None,
            email: "billing@example.com".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileTax {
    enabled: bool,
    #[serde(deserialize_with = "decimal")]
    rate: Decimal,
    sac: String,
}

impl Default for FileTax {
    fn default() -> Self {
        FileTax {
            enabled: true,
            rate: Decimal::from(18),
            sac: "9984".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileInvoice {
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileApi {
    base_url: String,
    concurrency: usize,
    per_page: u32,
}

impl Default for FileApi {
    fn default() -> Self {
        FileApi {
            base_url: "https://api.vobiz.ai/api/v1/partner".into(),
            concurrency: 8,
            per_page: 100,
        }
    }
}

/// `[export.*]`: settings of the accounting CSV layouts (`run --csv`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileExport {
    xero: FileXero,
    zoho: FileZoho,
    quickbooks: FileQuickbooks,
}

/// A tool's tax names per GST treatment; unset names default from `tax.rate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileTaxNames {
    intra_state: Option<String>,
    inter_state: Option<String>,
    zero_rated: Option<String>,
    untaxed: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileXero {
    account_code: String,
    branding_theme: String,
    tax_type: FileTaxNames,
}

impl Default for FileXero {
    fn default() -> Self {
        FileXero {
            account_code: "200".into(),
            branding_theme: String::new(),
            tax_type: FileTaxNames::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileZoho {
    invoice_status: String,
    account: String,
    item_rental: String,
    item_setup: String,
    item_usage: String,
    item_tax: FileTaxNames,
}

impl Default for FileZoho {
    fn default() -> Self {
        FileZoho {
            invoice_status: "Draft".into(),
            account: "Sales".into(),
            item_rental: "DID Rental".into(),
            item_setup: "DID Setup Fee".into(),
            item_usage: "Call Usage".into(),
            item_tax: FileTaxNames::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileQuickbooks {
    item_rental: String,
    item_setup: String,
    item_usage: String,
    tax_code: FileTaxNames,
}

impl Default for FileQuickbooks {
    fn default() -> Self {
        FileQuickbooks {
            item_rental: "DID Rental".into(),
            item_setup: "DID Setup Fee".into(),
            item_usage: "Call Usage".into(),
            tax_code: FileTaxNames::default(),
        }
    }
}

/// `[pricing]`: the partner's markups on the provider's fees (see [`didbill_core::pricing`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FilePricing {
    #[serde(deserialize_with = "decimal")]
    rental_markup_percent: Decimal,
    #[serde(deserialize_with = "decimal")]
    setup_markup_percent: Decimal,
    #[serde(deserialize_with = "decimal")]
    usage_markup_percent: Decimal,
    customers: BTreeMap<String, FileCustomerPricing>,
}

/// `[pricing.customers."MA_..."]`: one customer's markups or fixed prices; unset
/// keys fall back to `[pricing]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileCustomerPricing {
    #[serde(deserialize_with = "some_decimal")]
    rental_markup_percent: Option<Decimal>,
    #[serde(deserialize_with = "some_decimal")]
    setup_markup_percent: Option<Decimal>,
    #[serde(deserialize_with = "some_decimal")]
    usage_markup_percent: Option<Decimal>,
    #[serde(deserialize_with = "some_decimal")]
    monthly_fee: Option<Decimal>,
    #[serde(deserialize_with = "some_decimal")]
    setup_fee: Option<Decimal>,
}

/// [`decimal`] for a key that may be left out.
fn some_decimal<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Decimal>, D::Error> {
    decimal(d).map(Some)
}

/// Reads a decimal written as a TOML integer, string or float (see the module doc).
fn decimal<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
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
    didbill_core::money::parse_amount(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a decimal number")))
}

/// The seller printed on every invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seller {
    /// Legal name.
    pub name: String,
    /// Address lines.
    pub address: Vec<String>,
    /// GSTIN (may be empty for an unregistered seller).
    pub gstin: String,
    /// GST state code of the seller, e.g. `29`.
    pub state_code: String,
    /// Billing email.
    pub email: String,
}

/// Tax settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxConfig {
    /// Whether GST is charged at all.
    pub enabled: bool,
    /// Total GST rate in percent; CGST and SGST are half each.
    pub rate: Decimal,
    /// Services Accounting Code printed on invoices.
    pub sac: String,
}

/// Invoice numbering and dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceConfig {
    /// The validated number format, prefix applied.
    pub number_format: NumberFormat,
    /// Days from invoice date to due date.
    pub due_days: u32,
}

/// Vobiz API settings (credentials come from the environment only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// Base URL of the Partner API.
    pub base_url: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Page size, at most 100.
    pub per_page: u32,
}

impl ApiConfig {
    /// Settings for fetching from this API, with didbill's defaults for retries,
    /// timeouts and limits.
    pub fn settings(&self) -> ApiSettings {
        ApiSettings::new(&self.base_url, self.concurrency, self.per_page)
    }
}

/// The names an accounting tool uses for each GST treatment of an invoice (SPEC
/// §2.3): CGST+SGST, IGST, export (zero-rated), and tax disabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaxNames {
    /// Supply within the seller's state (CGST + SGST).
    pub intra_state: String,
    /// Supply to another state (IGST).
    pub inter_state: String,
    /// Export of services (place of supply 96, no tax).
    pub zero_rated: String,
    /// `tax.enabled = false`.
    pub untaxed: String,
}

/// `[export.xero]`: Xero sales-invoice import settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct XeroConfig {
    /// Revenue account code of every line (Xero's default sales account is `200`).
    pub account_code: String,
    /// Invoice branding theme name; empty for Xero's default.
    pub branding_theme: String,
    /// `TaxType` names, as the tax rates are named in Xero.
    pub tax_type: TaxNames,
}

/// `[export.zoho]`: Zoho Books invoice import settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZohoConfig {
    /// `Invoice Status` of imported invoices.
    pub invoice_status: String,
    /// Income account of every line.
    pub account: String,
    /// Item name of rental lines.
    pub item_rental: String,
    /// Item name of setup-fee lines.
    pub item_setup: String,
    /// Item name of call usage lines.
    pub item_usage: String,
    /// `Item Tax` names (Zoho's tax and tax-group names).
    pub item_tax: TaxNames,
}

/// `[export.quickbooks]`: QuickBooks Online invoice import settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuickbooksConfig {
    /// Product/service of rental lines.
    pub item_rental: String,
    /// Product/service of setup-fee lines.
    pub item_setup: String,
    /// Product/service of call usage lines.
    pub item_usage: String,
    /// `ItemTaxCode` names, as the tax codes are named in QuickBooks.
    pub tax_code: TaxNames,
}

/// Settings of the accounting CSV layouts, available to every layout template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportConfig {
    /// Xero.
    pub xero: XeroConfig,
    /// Zoho Books.
    pub zoho: ZohoConfig,
    /// QuickBooks Online.
    pub quickbooks: QuickbooksConfig,
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
    /// API settings.
    pub api: ApiConfig,
    /// Accounting export settings.
    pub export: ExportConfig,
    /// The partner's prices.
    pub pricing: Pricing,
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
        let gstin = self.seller.gstin.trim().to_owned();
        let state_code = match &self.seller.state_code {
            Some(code) if gst::is_state_code(code.trim()) => code.trim().to_owned(),
            Some(code) => {
                return Err(format!(
                    "seller.state_code {code:?} is not a GST state code (two digits, e.g. \"29\" for Karnataka)"
                ))
            }
            None => gst::gstin_state_code(&gstin)
                .ok_or_else(|| {
                    format!(
                        "seller.state_code is not set and seller.gstin {gstin:?} does not start with a GST state code; set one of them"
                    )
                })?
                .to_owned(),
        };
        if !gstin.is_empty() && !looks_like_gstin(&gstin) {
            return Err(format!(
                "seller.gstin {gstin:?} is not a GSTIN (15 characters: state code, PAN, entity, Z, check)"
            ));
        }
        if self.tax.rate < Decimal::ZERO || self.tax.rate > Decimal::ONE_HUNDRED {
            return Err(format!(
                "tax.rate {} must be between 0 and 100 (percent)",
                self.tax.rate
            ));
        }
        if self.renewal_grace_hours > MAX_GRACE_HOURS {
            return Err(format!(
                "renewal_grace_hours {} must be at most {MAX_GRACE_HOURS} (366 days)",
                self.renewal_grace_hours
            ));
        }
        if self.invoice.due_days > MAX_DUE_DAYS {
            return Err(format!(
                "invoice.due_days {} must be at most {MAX_DUE_DAYS}",
                self.invoice.due_days
            ));
        }
        let seller_text = [
            ("seller.name", &self.seller.name),
            ("seller.email", &self.seller.email),
            ("seller.gstin", &self.seller.gstin),
        ];
        let address = self.seller.address.iter().map(|l| ("seller.address", l));
        if let Some((key, value)) = seller_text
            .into_iter()
            .chain(address)
            .find(|(_, v)| v.chars().any(crate::text::is_hidden))
        {
            return Err(format!(
                "{key} \"{}\" must not contain line breaks, tabs or other control characters \
                 (one address line per array item)",
                crate::text::escape_hidden(value)
            ));
        }
        let sac = self.tax.sac.trim().to_owned();
        if sac.is_empty() || sac.len() > 8 || !sac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "tax.sac {sac:?} must be a numeric SAC code such as \"9984\""
            ));
        }
        let number_format = NumberFormat::parse(&self.invoice.number_format, &self.invoice.prefix)?;
        if !(1..=100).contains(&self.api.per_page) {
            return Err(format!(
                "api.per_page {} must be between 1 and 100",
                self.api.per_page
            ));
        }
        if !(1..=64).contains(&self.api.concurrency) {
            return Err(format!(
                "api.concurrency {} must be between 1 and 64",
                self.api.concurrency
            ));
        }
        if !(self.api.base_url.starts_with("https://") || self.api.base_url.starts_with("http://"))
        {
            return Err(format!(
                "api.base_url {:?} must be an https:// URL",
                self.api.base_url
            ));
        }
        if self.seller.name.trim().is_empty() {
            return Err("seller.name must not be empty: it is printed on every invoice".into());
        }
        let export = self.export.validate(self.tax.rate)?;
        let pricing = self.pricing.validate()?;
        Ok(Config {
            timezone,
            billing_time: self.billing_time,
            proration: self.proration,
            rounding: self.rounding,
            renewal_grace_hours: self.renewal_grace_hours,
            round_off: self.round_off,
            seller: Seller {
                name: self.seller.name,
                address: self.seller.address,
                gstin,
                state_code,
                email: self.seller.email,
            },
            tax: TaxConfig {
                enabled: self.tax.enabled,
                rate: self.tax.rate,
                sac,
            },
            invoice: InvoiceConfig {
                number_format,
                due_days: self.invoice.due_days,
            },
            api: ApiConfig {
                base_url: self.api.base_url.trim_end_matches('/').to_owned(),
                concurrency: self.api.concurrency,
                per_page: self.api.per_page,
            },
            export,
            pricing,
        })
    }
}

impl FilePricing {
    /// Checks every markup and fixed price and resolves each customer's prices.
    fn validate(self) -> std::result::Result<Pricing, String> {
        let markup = |key: &str, v: Decimal| pricing::check_markup(&format!("pricing.{key}"), v);
        let default = Prices {
            rental: Price::Markup(markup("rental_markup_percent", self.rental_markup_percent)?),
            setup: Price::Markup(markup("setup_markup_percent", self.setup_markup_percent)?),
            usage_markup_percent: markup("usage_markup_percent", self.usage_markup_percent)?,
        };
        let mut customers = BTreeMap::new();
        for (id, c) in self.customers {
            let section = format!("pricing.customers.{id:?}");
            if !id.starts_with("MA_") || id.trim() != id {
                return Err(format!(
                    "{section}: customer ids are account auth ids such as \"MA_ABC123\""
                ));
            }
            let price = |fee_key: &str,
                         fee: Option<Decimal>,
                         markup_key: &str,
                         markup: Option<Decimal>,
                         fallback: Price| {
                match (fee, markup) {
                    (Some(_), Some(_)) => Err(format!(
                        "{section}: set either {fee_key} (a fixed price) or {markup_key}, not both"
                    )),
                    (Some(f), None) => {
                        pricing::check_fixed(&format!("{section}.{fee_key}"), f).map(Price::Fixed)
                    }
                    (None, Some(m)) => pricing::check_markup(&format!("{section}.{markup_key}"), m)
                        .map(Price::Markup),
                    (None, None) => Ok(fallback),
                }
            };
            let prices = Prices {
                rental: price(
                    "monthly_fee",
                    c.monthly_fee,
                    "rental_markup_percent",
                    c.rental_markup_percent,
                    default.rental,
                )?,
                setup: price(
                    "setup_fee",
                    c.setup_fee,
                    "setup_markup_percent",
                    c.setup_markup_percent,
                    default.setup,
                )?,
                usage_markup_percent: match c.usage_markup_percent {
                    Some(m) => {
                        pricing::check_markup(&format!("{section}.usage_markup_percent"), m)?
                    }
                    None => default.usage_markup_percent,
                },
            };
            customers.insert(id, prices);
        }
        Ok(Pricing { default, customers })
    }
}

impl FileExport {
    /// Checks the export settings; tax names left unset are named after `rate`.
    fn validate(self, rate: Decimal) -> std::result::Result<ExportConfig, String> {
        let r = rate.normalize();
        let FileExport {
            xero,
            zoho,
            quickbooks,
        } = self;
        Ok(ExportConfig {
            xero: XeroConfig {
                account_code: export_text("export.xero.account_code", xero.account_code, true)?,
                branding_theme: export_text(
                    "export.xero.branding_theme",
                    xero.branding_theme,
                    false,
                )?,
                tax_type: xero.tax_type.validate(
                    "export.xero.tax_type",
                    [
                        format!("GST on Income {r}% (CGST+SGST)"),
                        format!("GST on Income {r}% (IGST)"),
                        "Zero Rated Income".into(),
                        "Tax Exempt".into(),
                    ],
                )?,
            },
            zoho: ZohoConfig {
                invoice_status: export_text(
                    "export.zoho.invoice_status",
                    zoho.invoice_status,
                    true,
                )?,
                account: export_text("export.zoho.account", zoho.account, true)?,
                item_rental: export_text("export.zoho.item_rental", zoho.item_rental, true)?,
                item_setup: export_text("export.zoho.item_setup", zoho.item_setup, true)?,
                item_usage: export_text("export.zoho.item_usage", zoho.item_usage, true)?,
                item_tax: zoho.item_tax.validate(
                    "export.zoho.item_tax",
                    [
                        format!("GST{r}"),
                        format!("IGST{r}"),
                        "IGST0".into(),
                        String::new(),
                    ],
                )?,
            },
            quickbooks: QuickbooksConfig {
                item_rental: export_text(
                    "export.quickbooks.item_rental",
                    quickbooks.item_rental,
                    true,
                )?,
                item_setup: export_text(
                    "export.quickbooks.item_setup",
                    quickbooks.item_setup,
                    true,
                )?,
                item_usage: export_text(
                    "export.quickbooks.item_usage",
                    quickbooks.item_usage,
                    true,
                )?,
                tax_code: quickbooks.tax_code.validate(
                    "export.quickbooks.tax_code",
                    [
                        format!("{r}% GST"),
                        format!("{r}% IGST"),
                        "0% IGST".into(),
                        "Out of Scope".into(),
                    ],
                )?,
            },
        })
    }
}

impl FileTaxNames {
    /// Checks the names set and fills the others from `defaults` (intra-state,
    /// inter-state, zero-rated, untaxed).
    fn validate(
        self,
        section: &str,
        defaults: [String; 4],
    ) -> std::result::Result<TaxNames, String> {
        let [intra_state, inter_state, zero_rated, untaxed] = defaults;
        let pick = |key: &str, set: Option<String>, default: String| match set {
            Some(v) => export_text(&format!("{section}.{key}"), v, false),
            None => Ok(default),
        };
        Ok(TaxNames {
            intra_state: pick("intra_state", self.intra_state, intra_state)?,
            inter_state: pick("inter_state", self.inter_state, inter_state)?,
            zero_rated: pick("zero_rated", self.zero_rated, zero_rated)?,
            untaxed: pick("untaxed", self.untaxed, untaxed)?,
        })
    }
}

/// A name written into accounting CSV cells: trimmed, one line, and present when
/// `required` (the import would fail on an empty one).
fn export_text(key: &str, value: String, required: bool) -> std::result::Result<String, String> {
    let value = value.trim();
    if value.chars().any(char::is_control) {
        return Err(format!(
            "{key} {value:?} must not contain line breaks, tabs or other control characters"
        ));
    }
    if required && value.is_empty() {
        return Err(format!("{key} must not be empty"));
    }
    Ok(value.to_owned())
}

/// The shape of a GSTIN: state code, PAN (5 letters, 4 digits, a letter), entity
/// code, `Z`, check character.
pub fn looks_like_gstin(g: &str) -> bool {
    let b = g.as_bytes();
    b.len() == 15
        && gst::gstin_state_code(g).is_some()
        && b[2..7].iter().all(u8::is_ascii_uppercase)
        && b[7..11].iter().all(u8::is_ascii_digit)
        && b[11].is_ascii_uppercase()
        && b[12].is_ascii_alphanumeric()
        && b[13].is_ascii_alphanumeric()
        && b[14].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn empty_file_gives_every_default() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.timezone, chrono_tz::Asia::Kolkata);
        assert_eq!(c.billing_time, BillingTime::Calendar);
        assert_eq!(c.proration, Proration::Actual);
        assert_eq!(c.rounding, Rounding::HalfUp);
        assert_eq!(c.renewal_grace_hours, 72);
        assert!(!c.round_off);
        assert_eq!(c.seller.state_code, "29");
        assert_eq!(c.seller.address, vec!["1 MG Road", "Bengaluru 560001"]);
        assert!(c.tax.enabled);
        assert_eq!(c.tax.rate, Decimal::from(18));
        assert_eq!(c.tax.sac, "9984");
        assert_eq!(
            c.invoice.number_format.render("26-27", 1),
            "DID/26-27/00001"
        );
        assert_eq!(c.invoice.due_days, 15);
        assert_eq!(c.api.base_url, "https://api.vobiz.ai/api/v1/partner");
        assert_eq!((c.api.concurrency, c.api.per_page), (8, 100));
        assert_eq!(c, Config::default());
    }

    #[test]
    fn every_key_can_be_set() {
        let c = Config::parse(
            r#"
            timezone = "Europe/London"
            billing_time = "anniversary"
            proration = "thirty"
            rounding = "half_even"
            renewal_grace_hours = 0
            round_off = true
            [seller]
            name = "Acme"
            address = ["x"]
            gstin = "27ABCDE1234F1Z5"
            state_code = "27"
            email = "a@b.c"
            [tax]
            enabled = false
            rate = 12.5
            sac = "998422"
            [invoice]
            number_format = "INV-{fy}-{seq:04}"
            prefix = "X"
            due_days = 30
            [api]
            base_url = "http://127.0.0.1:9000/"
            concurrency = 2
            per_page = 50
            "#,
        )
        .unwrap();
        assert_eq!(c.timezone, chrono_tz::Europe::London);
        assert_eq!(c.billing_time, BillingTime::Anniversary);
        assert_eq!(c.proration, Proration::Thirty);
        assert_eq!(c.rounding, Rounding::HalfEven);
        assert_eq!(c.tax.rate, Decimal::from_str("12.5").unwrap());
        assert_eq!(c.api.base_url, "http://127.0.0.1:9000");
        assert_eq!(c.invoice.number_format.render("26-27", 7), "INV-26-27-0007");
        assert_eq!(c.seller.state_code, "27");
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            ("colour = \"red\"", "colour"),
            ("[seller]\nfax = \"1\"", "fax"),
            ("timezone = \"Mars/Olympus\"", "Mars/Olympus"),
            ("proration = \"daily\"", "daily"),
            ("[tax]\nrate = -1", "tax.rate"),
            ("[tax]\nrate = 101", "tax.rate"),
            ("[tax]\nrate = \"abc\"", "abc"),
            (
                "[invoice]\nnumber_format = \"{prefix}/{fy}/{seq:09}\"",
                "16",
            ),
            ("[invoice]\nprefix = \"D I D\"", "prefix"),
            ("[api]\nper_page = 500", "per_page"),
            ("[api]\nconcurrency = 0", "concurrency"),
            ("[seller]\nstate_code = \"99\"", "state_code"),
            ("[seller]\ngstin = \"\"", "state_code"),
            ("[seller]\ngstin = \"29SHORT\"", "GSTIN"),
            ("renewal_grace_hours = -1", "renewal_grace_hours"),
            ("[tax]\nsac = \"98a4\"", "sac"),
            ("renewal_grace_hours = 4294967295", "renewal_grace_hours"),
            ("[invoice]\ndue_days = 4000000000", "due_days"),
            ("[seller]\nname = \"Acme\\u001b[2J\"", "seller.name"),
            ("[seller]\naddress = [\"1 Road\\nEvil\"]", "seller.address"),
            ("[seller]\nemail = \"a\\u202e@b.c\"", "seller.email"),
        ];
        for (text, needle) in cases {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn export_settings_default_from_the_tax_rate() {
        let c = Config::parse("").unwrap();
        let x = &c.export.xero;
        assert_eq!(
            (x.account_code.as_str(), x.branding_theme.as_str()),
            ("200", "")
        );
        assert_eq!(x.tax_type.intra_state, "GST on Income 18% (CGST+SGST)");
        assert_eq!(x.tax_type.inter_state, "GST on Income 18% (IGST)");
        assert_eq!(x.tax_type.zero_rated, "Zero Rated Income");
        assert_eq!(x.tax_type.untaxed, "Tax Exempt");
        let z = &c.export.zoho;
        assert_eq!(
            (z.invoice_status.as_str(), z.account.as_str()),
            ("Draft", "Sales")
        );
        assert_eq!(
            (
                z.item_rental.as_str(),
                z.item_setup.as_str(),
                z.item_usage.as_str()
            ),
            ("DID Rental", "DID Setup Fee", "Call Usage")
        );
        assert_eq!(c.export.quickbooks.item_usage, "Call Usage");
        assert_eq!(
            [
                &z.item_tax.intra_state,
                &z.item_tax.inter_state,
                &z.item_tax.zero_rated,
                &z.item_tax.untaxed
            ],
            ["GST18", "IGST18", "IGST0", ""]
        );
        let q = &c.export.quickbooks.tax_code;
        assert_eq!(
            [&q.intra_state, &q.inter_state, &q.zero_rated, &q.untaxed],
            ["18% GST", "18% IGST", "0% IGST", "Out of Scope"]
        );

        let c = Config::parse("[tax]\nrate = \"12.50\"").unwrap();
        assert_eq!(c.export.zoho.item_tax.inter_state, "IGST12.5");
    }

    #[test]
    fn export_settings_can_be_set_and_are_checked() {
        let c = Config::parse(
            r#"
            [export.xero]
            account_code = " 4000 "
            branding_theme = "GST invoice"
            [export.xero.tax_type]
            intra_state = "CGST/SGST 18%"
            untaxed = "No Tax"
            [export.zoho]
            invoice_status = "Sent"
            account = "Telephony Income"
            item_rental = "Number rental"
            item_setup = "Number setup"
            item_usage = "Calls"
            [export.zoho.item_tax]
            zero_rated = ""
            [export.quickbooks]
            item_rental = "Rental"
            item_setup = "Setup"
            item_usage = "Voice calls"
            [export.quickbooks.tax_code]
            inter_state = "IGST 18%"
            "#,
        )
        .unwrap();
        let e = &c.export;
        assert_eq!(e.xero.account_code, "4000");
        assert_eq!(e.xero.branding_theme, "GST invoice");
        assert_eq!(e.xero.tax_type.intra_state, "CGST/SGST 18%");
        assert_eq!(e.xero.tax_type.inter_state, "GST on Income 18% (IGST)");
        assert_eq!(e.xero.tax_type.untaxed, "No Tax");
        assert_eq!(e.zoho.invoice_status, "Sent");
        assert_eq!(e.zoho.account, "Telephony Income");
        assert_eq!(e.zoho.item_tax.zero_rated, "");
        assert_eq!(e.quickbooks.item_setup, "Setup");
        assert_eq!(
            (e.zoho.item_usage.as_str(), e.quickbooks.item_usage.as_str()),
            ("Calls", "Voice calls")
        );
        assert_eq!(e.quickbooks.tax_code.inter_state, "IGST 18%");

        let cases = [
            (
                "[export.xero]\naccount_code = \"\"",
                "export.xero.account_code",
            ),
            ("[export.xero]\ncolour = \"red\"", "colour"),
            ("[export.sage]\nx = 1", "sage"),
            (
                "[export.zoho]\nitem_rental = \" \"",
                "export.zoho.item_rental",
            ),
            (
                "[export.zoho.item_tax]\nintra_state = \"GST\\n18\"",
                "export.zoho.item_tax.intra_state",
            ),
            ("[export.quickbooks.tax_code]\nexempt = \"x\"", "exempt"),
            (
                "[export.quickbooks]\nitem_usage = \"\"",
                "export.quickbooks.item_usage",
            ),
        ];
        for (text, needle) in cases {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn pricing_defaults_to_the_provider_prices_and_resolves_overrides() {
        assert_eq!(Config::parse("").unwrap().pricing, Pricing::default());
        let c = Config::parse(
            r#"
            [pricing]
            rental_markup_percent = 20
            setup_markup_percent = "7.5"
            usage_markup_percent = 12.25
            [pricing.customers."MA_ACME"]
            monthly_fee = 450
            usage_markup_percent = 0
            [pricing.customers."MA_BETA"]
            rental_markup_percent = 5
            setup_fee = "0"
            "#,
        )
        .unwrap();
        let d = |s: &str| Decimal::from_str(s).unwrap();
        let p = &c.pricing;
        assert_eq!(
            p.default,
            Prices {
                rental: Price::Markup(d("20")),
                setup: Price::Markup(d("7.5")),
                usage_markup_percent: d("12.25"),
            }
        );
        assert_eq!(
            p.prices("MA_ACME"),
            &Prices {
                rental: Price::Fixed(d("450")),
                setup: Price::Markup(d("7.5")),
                usage_markup_percent: Decimal::ZERO,
            }
        );
        assert_eq!(
            p.prices("MA_BETA"),
            &Prices {
                rental: Price::Markup(d("5")),
                setup: Price::Fixed(Decimal::ZERO),
                usage_markup_percent: d("12.25"),
            }
        );
        assert_eq!(p.prices("MA_OTHER"), &p.default);
        assert!(p.is_active());
        // Explicit zero markups are the provider's prices.
        let zero = Config::parse("[pricing]\nrental_markup_percent = 0.0\n[pricing.customers.\"MA_X\"]\nsetup_markup_percent = 0").unwrap();
        assert!(!zero.pricing.is_active());
    }

    #[test]
    fn bad_pricing_is_named() {
        let cases = [
            (
                "[pricing]\nrental_markup_percent = -5",
                "pricing.rental_markup_percent -5 must not be negative",
            ),
            (
                "[pricing]\nsetup_markup_percent = 20000",
                "pricing.setup_markup_percent",
            ),
            (
                "[pricing]\nusage_markup_percent = 1.23456",
                "pricing.usage_markup_percent",
            ),
            ("[pricing]\nusage_markup_percent = \"ten\"", "ten"),
            ("[pricing]\ndiscount_percent = 5", "discount_percent"),
            ("[pricing.customers.\"MA_A\"]\nmonthly = 5", "monthly"),
            (
                "[pricing.customers.\"MA_A\"]\nmonthly_fee = -1",
                "pricing.customers.\"MA_A\".monthly_fee",
            ),
            (
                "[pricing.customers.\"MA_A\"]\nsetup_fee = 1000000000",
                "pricing.customers.\"MA_A\".setup_fee",
            ),
            (
                "[pricing.customers.\"MA_A\"]\nusage_markup_percent = -1",
                "pricing.customers.\"MA_A\".usage_markup_percent",
            ),
            (
                "[pricing.customers.\"MA_A\"]\nmonthly_fee = 5\nrental_markup_percent = 5",
                "either monthly_fee",
            ),
            (
                "[pricing.customers.\"acme\"]\nmonthly_fee = 5",
                "pricing.customers.\"acme\"",
            ),
        ];
        for (text, needle) in cases {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn missing_explicit_file_is_an_error_but_missing_default_is_not() {
        let err = Config::load(Some(Path::new("/nonexistent/didbill.toml"))).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/didbill.toml"),
            "{err}"
        );
    }
}
