//! `[export.*]`: the settings of the accounting CSV layouts (`run --csv`).

use std::collections::BTreeMap;

use didbill_core::inventory::Customer;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `[export.*]`: settings of the accounting CSV layouts (`run --csv`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileExport {
    xero: FileXero,
    zoho: FileZoho,
    quickbooks: FileQuickbooks,
    tally: FileTally,
}

/// A tool's tax names per GST treatment; unset names default from `tax.rate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileTaxNames {
    intra_state: Option<String>,
    inter_state: Option<String>,
    zero_rated: Option<String>,
    export_with_igst: Option<String>,
    untaxed: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileXero {
    account_code: String,
    round_off_account: String,
    branding_theme: String,
    currency_suffix: String,
    tax_type: FileTaxNames,
}

impl Default for FileXero {
    fn default() -> Self {
        FileXero {
            account_code: "200".into(),
            round_off_account: "860".into(),
            branding_theme: String::new(),
            currency_suffix: String::new(),
            tax_type: FileTaxNames::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileZoho {
    invoice_status: String,
    account: String,
    item_rental: String,
    item_setup: String,
    item_usage: String,
    currency_suffix: String,
    item_tax: FileTaxNames,
    gst_treatment: BTreeMap<String, String>,
}

impl Default for FileZoho {
    fn default() -> Self {
        FileZoho {
            invoice_status: "Draft".into(),
            account: "Sales".into(),
            item_rental: "DID Rental".into(),
            item_setup: "DID Setup Fee".into(),
            item_usage: "Call Usage".into(),
            currency_suffix: DEFAULT_CURRENCY_SUFFIX.into(),
            item_tax: FileTaxNames::default(),
            gst_treatment: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileQuickbooks {
    item_rental: String,
    item_setup: String,
    item_usage: String,
    item_round_off: String,
    currency_suffix: String,
    tax_code: FileTaxNames,
}

impl Default for FileQuickbooks {
    fn default() -> Self {
        FileQuickbooks {
            item_rental: "DID Rental".into(),
            item_setup: "DID Setup Fee".into(),
            item_usage: "Call Usage".into(),
            item_round_off: "Rounding".into(),
            currency_suffix: DEFAULT_CURRENCY_SUFFIX.into(),
            tax_code: FileTaxNames::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileTally {
    company: String,
    voucher_type: String,
    sales_ledger: String,
    export_sales_ledger: String,
    cgst_ledger: String,
    sgst_ledger: String,
    igst_ledger: String,
    round_off_ledger: String,
}

impl Default for FileTally {
    fn default() -> Self {
        FileTally {
            company: String::new(),
            voucher_type: "Sales".into(),
            sales_ledger: "Sales".into(),
            export_sales_ledger: String::new(),
            cgst_ledger: "Output CGST".into(),
            sgst_ledger: "Output SGST".into(),
            igst_ledger: "Output IGST".into(),
            round_off_ledger: "Round Off".into(),
        }
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
    /// Export of services under LUT (place of supply 96, no tax).
    pub zero_rated: String,
    /// Export of services on payment of IGST (`tax.export = "igst"`); the
    /// inter-state name unless set.
    pub export_with_igst: String,
    /// `tax.enabled = false`.
    pub untaxed: String,
}

/// `[export.xero]`: Xero sales-invoice import settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct XeroConfig {
    /// Revenue account code of every line (Xero's default sales account is `200`).
    pub account_code: String,
    /// Account of the rounding line of an invoice with a round-off (`round_off =
    /// true`); `860` is Rounding in Xero's standard chart of accounts.
    pub round_off_account: String,
    /// Invoice branding theme name; empty for Xero's default.
    pub branding_theme: String,
    /// Added to the contact name of a non-INR invoice (see [`currency_suffix`]);
    /// empty by default, as a Xero contact takes invoices in several currencies.
    pub currency_suffix: String,
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
    /// Added to the customer name of a non-INR invoice (see [`currency_suffix`]).
    pub currency_suffix: String,
    /// `Item Tax` names (Zoho's tax and tax-group names).
    pub item_tax: TaxNames,
    /// `GST Treatment` per customer id, replacing the one didbill works out.
    pub gst_treatment: BTreeMap<String, String>,
}

/// The `GST Treatment` values Zoho Books (India) accepts in an invoice import.
pub const ZOHO_GST_TREATMENTS: [&str; 6] = [
    "business_registered_regular",
    "business_registered_composition",
    "business_sez",
    "business_unregistered",
    "consumer",
    "overseas",
];

impl ZohoConfig {
    /// The customer's `GST Treatment`: the `[export.zoho.gst_treatment]` entry for
    /// its id when there is one; else `overseas` for an export,
    /// `business_registered_regular` with a GSTIN, `business_unregistered` for a
    /// company without one, and `consumer` for a person.
    pub fn gst_treatment(&self, customer: &Customer, export: bool) -> &str {
        self.treatment_of(
            &customer.id,
            customer.gstin.is_some(),
            Some(customer.company),
            export,
        )
    }

    /// [`ZohoConfig::gst_treatment`] from what a document records: with `company`
    /// unknown (a note, whose ledger record does not say), an unregistered
    /// domestic customer without an entry gets an empty treatment, which Zoho Books
    /// fills from the contact the invoice import set.
    pub fn treatment_of(&self, id: &str, gstin: bool, company: Option<bool>, export: bool) -> &str {
        if let Some(set) = self.gst_treatment.get(id) {
            return set;
        }
        match (export, gstin, company) {
            (true, _, _) => "overseas",
            (false, true, _) => "business_registered_regular",
            (false, false, Some(true)) => "business_unregistered",
            (false, false, Some(false)) => "consumer",
            (false, false, None) => "",
        }
    }
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
    /// Product/service of the rounding line of an invoice with a round-off
    /// (`round_off = true`).
    pub item_round_off: String,
    /// Added to the customer name of a non-INR invoice (see [`currency_suffix`]).
    pub currency_suffix: String,
    /// `ItemTaxCode` names, as the tax codes are named in QuickBooks.
    pub tax_code: TaxNames,
}

/// `[export.tally]`: the TallyPrime voucher import (`tally.xml`). Every name must
/// be a ledger (or voucher type) that exists in the Tally company, spelled the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TallyConfig {
    /// The Tally company to import into; empty for the company open in Tally.
    pub company: String,
    /// The voucher type of every voucher.
    pub voucher_type: String,
    /// The income ledger credited with the taxable value of a domestic invoice.
    pub sales_ledger: String,
    /// The income ledger of an export invoice (zero-rated); the sales ledger when
    /// left empty.
    pub export_sales_ledger: String,
    /// The duty ledger credited with CGST.
    pub cgst_ledger: String,
    /// The duty ledger credited with SGST.
    pub sgst_ledger: String,
    /// The duty ledger credited with IGST.
    pub igst_ledger: String,
    /// The ledger that takes an invoice's round-off.
    pub round_off_ledger: String,
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
    /// TallyPrime.
    pub tally: TallyConfig,
}

impl FileExport {
    /// Checks the export settings; tax names left unset are named after `rate`.
    pub(super) fn validate(self, rate: Decimal) -> std::result::Result<ExportConfig, String> {
        let r = rate.normalize();
        let FileExport {
            xero,
            zoho,
            quickbooks,
            tally,
        } = self;
        Ok(ExportConfig {
            xero: XeroConfig {
                account_code: export_text("export.xero.account_code", xero.account_code, true)?,
                round_off_account: export_text(
                    "export.xero.round_off_account",
                    xero.round_off_account,
                    true,
                )?,
                branding_theme: export_text(
                    "export.xero.branding_theme",
                    xero.branding_theme,
                    false,
                )?,
                currency_suffix: currency_suffix(
                    "export.xero.currency_suffix",
                    xero.currency_suffix,
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
                currency_suffix: currency_suffix(
                    "export.zoho.currency_suffix",
                    zoho.currency_suffix,
                )?,
                gst_treatment: zoho
                    .gst_treatment
                    .into_iter()
                    .map(|(id, value)| {
                        let value = value.trim();
                        match ZOHO_GST_TREATMENTS.contains(&value) {
                            true => Ok((id, value.to_owned())),
                            false => Err(format!(
                                "export.zoho.gst_treatment.{id:?} = {value:?} is not a Zoho Books GST \
                                 treatment; use one of {}",
                                ZOHO_GST_TREATMENTS.join(", ")
                            )),
                        }
                    })
                    .collect::<std::result::Result<_, String>>()?,
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
                item_round_off: export_text(
                    "export.quickbooks.item_round_off",
                    quickbooks.item_round_off,
                    true,
                )?,
                currency_suffix: currency_suffix(
                    "export.quickbooks.currency_suffix",
                    quickbooks.currency_suffix,
                )?,
                tax_code: quickbooks.tax_code.validate(
                    "export.quickbooks.tax_code",
                    [
                        format!("India GST {r}% (CGST+SGST)"),
                        format!("India IGST {r}%"),
                        "India IGST 0% (export)".into(),
                        "Out of Scope".into(),
                    ],
                )?,
            },
            tally: tally.validate()?,
        })
    }
}

impl FileTally {
    fn validate(self) -> std::result::Result<TallyConfig, String> {
        let required =
            |key: &str, value: String| export_text(&format!("export.tally.{key}"), value, true);
        let sales_ledger = required("sales_ledger", self.sales_ledger)?;
        let export_sales_ledger = match export_text(
            "export.tally.export_sales_ledger",
            self.export_sales_ledger,
            false,
        )? {
            empty if empty.is_empty() => sales_ledger.clone(),
            set => set,
        };
        Ok(TallyConfig {
            company: export_text("export.tally.company", self.company, false)?,
            voucher_type: required("voucher_type", self.voucher_type)?,
            sales_ledger,
            export_sales_ledger,
            cgst_ledger: required("cgst_ledger", self.cgst_ledger)?,
            sgst_ledger: required("sgst_ledger", self.sgst_ledger)?,
            igst_ledger: required("igst_ledger", self.igst_ledger)?,
            round_off_ledger: required("round_off_ledger", self.round_off_ledger)?,
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
        let inter_state = pick("inter_state", self.inter_state, inter_state)?;
        Ok(TaxNames {
            intra_state: pick("intra_state", self.intra_state, intra_state)?,
            export_with_igst: pick(
                "export_with_igst",
                self.export_with_igst,
                inter_state.clone(),
            )?,
            inter_state,
            zero_rated: pick("zero_rated", self.zero_rated, zero_rated)?,
            untaxed: pick("untaxed", self.untaxed, untaxed)?,
        })
    }
}

/// The suffix Zoho Books and QuickBooks get by default: they hold one currency per
/// customer, so a customer's USD invoices go to the contact "Name (USD)".
const DEFAULT_CURRENCY_SUFFIX: &str = " ({currency})";

/// Checks a `currency_suffix`: added (with `{currency}` replaced by the code) to the
/// contact name of every invoice not in INR, so each currency of a customer is a
/// contact of its own while INR invoices keep the plain name. The rule goes by the
/// currency alone, not by what a month holds, so a customer's contacts stay the
/// same from month to month. Empty turns it off; otherwise it must name
/// `{currency}`, or USD and EUR invoices would share one contact again. Not trimmed,
/// so it can start with a space.
fn currency_suffix(key: &str, value: String) -> std::result::Result<String, String> {
    if value.chars().any(char::is_control) {
        return Err(format!(
            "{key} {value:?} must not contain line breaks, tabs or other control characters"
        ));
    }
    if !value.is_empty() && !value.contains("{currency}") {
        return Err(format!(
            "{key} {value:?} must contain {{currency}} (e.g. \" ({{currency}})\"), so each \
             currency gets a contact of its own; use \"\" to keep one name"
        ));
    }
    Ok(value)
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
