//! The billing engine: pure functions from validated numbers to charges and invoices.
//!
//! Nothing here touches files, HTTP or the ledger. [`charges()`] turns one number into
//! its line items for the period (SPEC §2.1); [`invoice`] groups line items into one
//! invoice per customer and currency and adds GST (SPEC §2.3). Between the two, the
//! caller may drop setup lines the ledger has already billed.

pub mod bill;
pub mod charges;
pub mod invoice;
pub mod usage;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::money::{Currency, Money, Rounding};
use crate::period::Period;
use crate::pricing::Pricing;

pub use bill::{bill, Bill, BilledSetups, NotInvoiced};
pub use charges::charges;
pub use invoice::{assemble, GstTreatment, Invoice, IssuedInvoice};

/// How rentals are cut into charges (config `billing_time`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingTime {
    /// Calendar months, prorated by [`Proration`].
    #[default]
    Calendar,
    /// Full months starting on each purchase anniversary, as Vobiz debits them.
    Anniversary,
}

/// How a partial calendar month is charged (config `proration`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proration {
    /// `monthly_fee × d / days(P)`.
    #[default]
    Actual,
    /// `monthly_fee × min(d, 30) / 30`; the full fee for a whole month.
    Thirty,
    /// The full fee for any day of service.
    None,
}

/// How GST is charged (SPEC §2.3): whether at all, at which rate, and from which
/// state the seller supplies (deciding CGST+SGST against IGST).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxRules {
    /// Whether GST is charged at all (`tax.enabled`).
    pub enabled: bool,
    /// Total GST rate in percent; CGST and SGST are half each.
    pub rate: Decimal,
    /// The seller's GST state code, e.g. `29`.
    pub seller_state_code: String,
    /// Exports are supplied on payment of IGST (refunded later) rather than under a
    /// letter of undertaking (LUT) without it: `tax.export = "igst"`.
    pub export_with_igst: bool,
}

/// Everything the engine needs to know about the run, resolved once.
#[derive(Clone, Debug)]
pub struct Rules {
    /// The month being invoiced.
    pub period: Period,
    /// Zone of local dates.
    pub timezone: Tz,
    /// Calendar or anniversary billing.
    pub billing_time: BillingTime,
    /// Proration of partial calendar months.
    pub proration: Proration,
    /// Rounding of each amount.
    pub rounding: Rounding,
    /// Grace after `next_billing_date` before a number counts as lapsed.
    pub grace: Duration,
    /// The instant the run is "as of" (lapse rule).
    pub as_of: DateTime<Utc>,
    /// The partner's prices that replace the provider's fees.
    pub pricing: Pricing,
    /// GST.
    pub tax: TaxRules,
    /// Whether totals are rounded to whole units with a round-off amount.
    pub round_off: bool,
}

impl Rules {
    /// The local date of an instant in the billing timezone.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.timezone).date_naive()
    }
}

/// The rules of SPEC §2 with every setting at its documented default, for November
/// 2026 as of 2 December (the engine's unit tests change what they test).
#[cfg(test)]
impl Default for Rules {
    fn default() -> Rules {
        use std::str::FromStr;
        Rules {
            period: Period::from_str("2026-11").unwrap(),
            timezone: chrono_tz::Asia::Kolkata,
            billing_time: BillingTime::Calendar,
            proration: Proration::Actual,
            rounding: Rounding::HalfUp,
            grace: Duration::hours(72),
            as_of: DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            pricing: Pricing::default(),
            tax: TaxRules {
                enabled: true,
                rate: Decimal::from(18),
                seller_state_code: "29".into(),
                export_with_igst: false,
            },
            round_off: false,
        }
    }
}

/// What a line charges for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChargeKind {
    /// The one-time setup fee (sorted before rentals).
    Setup,
    /// Monthly rental.
    Rental,
    /// Calls of the period (sorted after every number's lines).
    Usage,
}

impl ChargeKind {
    /// The name written in outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChargeKind::Setup => "setup",
            ChargeKind::Rental => "rental",
            ChargeKind::Usage => "usage",
        }
    }
}

/// Identifies a number's setup fee, billed at most once ever: number id + purchase.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetupKey {
    /// The number id.
    pub number_id: String,
    /// `purchased_at` in UTC, RFC 3339 with seconds.
    pub purchased_at: String,
}

/// What a usage line bills: the calls of one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageDetail {
    /// `inbound` or `outbound` (as the CDRs name it, lower case).
    pub direction: String,
    /// Calls billed.
    pub calls: u64,
    /// Sum of the calls' billable seconds (`billsec`).
    pub billable_seconds: u64,
}

impl UsageDetail {
    /// Billable minutes with two decimals (seconds / 60, halves up), for descriptions.
    pub fn billable_minutes(&self) -> String {
        crate::money::format_2dp(Decimal::from(self.billable_seconds) / Decimal::from(60))
    }
}

/// One invoice line: a charge for one number, or a customer's calls of one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The customer billed.
    pub customer_id: String,
    /// Currency of the amount.
    pub currency: Currency,
    /// The number's id (empty for usage).
    pub number_id: String,
    /// The number, E.164 (empty for usage).
    pub e164: String,
    /// Setup, rental or usage.
    pub charge: ChargeKind,
    /// First day of service billed (inclusive).
    pub service_from: NaiveDate,
    /// Last day of service billed (inclusive).
    pub service_to: NaiveDate,
    /// Days billed (`d`); `None` for setup and usage.
    pub billable_days: Option<u32>,
    /// Days in the period or cycle; `None` for setup and usage.
    pub period_days: Option<u32>,
    /// The partner's price (the provider's fee or its marked-up or fixed
    /// replacement), rounded once; `None` for usage, which has no unit price.
    pub unit_amount: Option<Money>,
    /// The amount charged, rounded once.
    pub amount: Money,
    /// What the provider charges the partner for the same service, computed and
    /// rounded like `amount` from the provider's fee (for the margin report).
    pub provider_amount: Money,
    /// For setup lines, the key that stops it being billed twice.
    pub setup_key: Option<SetupKey>,
    /// For usage lines, the calls billed.
    pub usage: Option<UsageDetail>,
}

impl Line {
    /// The order of `line_items.csv`: customer, currency, then the numbers' lines by
    /// e164, charge and service_from, then usage by direction.
    #[allow(clippy::type_complexity)]
    pub fn sort_key(&self) -> (&str, Currency, bool, &str, ChargeKind, NaiveDate, &str) {
        (
            &self.customer_id,
            self.currency,
            self.charge == ChargeKind::Usage,
            &self.e164,
            self.charge,
            self.service_from,
            self.usage.as_ref().map_or("", |u| u.direction.as_str()),
        )
    }
}
