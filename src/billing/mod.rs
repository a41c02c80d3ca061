//! The billing engine: pure functions from validated numbers to charges and invoices.
//!
//! Nothing here touches files, HTTP or the ledger. [`charges`] turns one number into
//! its line items for the period (SPEC §2.1); [`invoice`] groups line items into one
//! invoice per customer and currency and adds GST (SPEC §2.3). Between the two, the
//! caller may drop setup lines the ledger has already billed.

pub mod charges;
pub mod invoice;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::config::{BillingTime, Config, Proration};
use crate::money::{Currency, Money, Rounding};
use crate::period::Period;
use crate::pricing::Pricing;

pub use charges::charges;
pub use invoice::{assemble, Invoice, IssuedInvoice};

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
}

impl Rules {
    /// Rules for `period` as of `as_of` under `config`.
    pub fn new(config: &Config, period: Period, as_of: DateTime<Utc>) -> Rules {
        Rules {
            period,
            timezone: config.timezone,
            billing_time: config.billing_time,
            proration: config.proration,
            rounding: config.rounding,
            grace: Duration::hours(i64::from(config.renewal_grace_hours)),
            as_of,
            pricing: config.pricing.clone(),
        }
    }

    /// The local date of an instant in the billing timezone.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.timezone).date_naive()
    }
}

/// What a line charges for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChargeKind {
    /// The one-time setup fee (sorted before rentals).
    Setup,
    /// Monthly rental.
    Rental,
}

impl ChargeKind {
    /// The name written in outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChargeKind::Setup => "setup",
            ChargeKind::Rental => "rental",
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

/// One invoice line: a charge for one number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The customer billed.
    pub customer_id: String,
    /// Currency of the amount.
    pub currency: Currency,
    /// The number's id.
    pub number_id: String,
    /// The number, E.164.
    pub e164: String,
    /// Setup or rental.
    pub charge: ChargeKind,
    /// First day of service billed (inclusive).
    pub service_from: NaiveDate,
    /// Last day of service billed (inclusive).
    pub service_to: NaiveDate,
    /// Days billed (`d`); `None` for setup.
    pub billable_days: Option<u32>,
    /// Days in the period or cycle; `None` for setup.
    pub period_days: Option<u32>,
    /// The partner's price (the provider's fee or its marked-up or fixed
    /// replacement), rounded once.
    pub unit_amount: Money,
    /// The amount charged, rounded once.
    pub amount: Money,
    /// What the provider charges the partner for the same service, computed and
    /// rounded like `amount` from the provider's fee (for the margin report).
    pub provider_amount: Money,
    /// For setup lines, the key that stops it being billed twice.
    pub setup_key: Option<SetupKey>,
}

impl Line {
    /// The order of `line_items.csv`: customer, currency, e164, charge, service_from.
    pub fn sort_key(&self) -> (&str, Currency, &str, ChargeKind, NaiveDate) {
        (
            &self.customer_id,
            self.currency,
            &self.e164,
            self.charge,
            self.service_from,
        )
    }
}
