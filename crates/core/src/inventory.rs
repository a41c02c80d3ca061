//! The validated inventory the billing engine works on: customers, billable
//! numbers, numbers not billable by status, and the records that cannot be billed.
//!
//! These are the types the source's validation produces (in the application crate);
//! nothing here reads or parses anything.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::money::Currency;

/// Fees at or above this are bad data (SPEC §1). With [`MAX_FEE_DECIMALS`] this
/// bound is what keeps the billing arithmetic overflow-free: a fee × 31 days, a
/// month's lines summed and taxed stay far inside rust_decimal's 28 digits
/// (`tests/hostile_input.rs` bills 100,000 lines of the largest valid fee at the
/// largest markup).
pub const MAX_FEE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// Fees with more decimal places than this are bad data (SPEC §1).
pub const MAX_FEE_DECIMALS: u32 = 10;

/// A customer account, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Customer {
    /// The customer id, `MA_...`.
    pub id: String,
    /// The name on invoices: the company when it has text, else the contact name.
    pub name: String,
    /// Whether the account names a company (so `name` is a business, not a person).
    pub company: bool,
    /// Billing email, when known.
    pub email: Option<String>,
    /// Address lines for the invoice (street, city with postal code, state).
    pub address: Vec<String>,
    /// Street address, for layouts with separate address fields.
    pub street: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal (PIN) code.
    pub postal_code: Option<String>,
    /// ISO country code as the API sent it (`None` means India).
    pub country: Option<String>,
    /// GSTIN, when registered.
    pub gstin: Option<String>,
    /// State as written (code or name).
    pub state: Option<String>,
    /// Prepaid balance, when the API gave a usable one.
    pub cash_credits: Option<Decimal>,
}

/// Number status values seen in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Routing calls.
    Active,
    /// Bought but not yet provisioned: never billed.
    PendingPurchase,
    /// Being released; billed like active.
    PendingRelease,
    /// Released; billed up to `released_at`.
    Released,
    /// Blocked; billed like active.
    Blocked,
    /// Older name of blocked; billed like active.
    Suspended,
}

impl Status {
    /// The API's name of the status, as [`Status::parse`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::PendingPurchase => "pending_purchase",
            Status::PendingRelease => "pending_release",
            Status::Released => "released",
            Status::Blocked => "blocked",
            Status::Suspended => "suspended",
        }
    }

    /// Parses an API status value.
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "active" => Status::Active,
            "pending_purchase" => Status::PendingPurchase,
            "pending_release" => Status::PendingRelease,
            "released" => Status::Released,
            "blocked" => Status::Blocked,
            "suspended" => Status::Suspended,
            _ => return None,
        })
    }
}

/// A number that passed validation and may be billed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number {
    /// The number's UUID.
    pub id: String,
    /// The owning customer.
    pub customer_id: String,
    /// `+` and digits.
    pub e164: String,
    /// Status (never `PendingPurchase` here).
    pub status: Status,
    /// Currency of both fees.
    pub currency: Currency,
    /// One-time setup fee, unrounded, ≥ 0.
    pub setup_fee: Decimal,
    /// Monthly rental, unrounded, ≥ 0.
    pub monthly_fee: Decimal,
    /// Purchase instant: the service starts on its local date.
    pub purchased_at: DateTime<Utc>,
    /// Release instant, if released.
    pub released_at: Option<DateTime<Utc>>,
    /// Last renewal debit.
    pub last_billing_date: Option<DateTime<Utc>>,
    /// Next renewal debit (drives the lapse rule).
    pub next_billing_date: Option<DateTime<Utc>>,
}

/// A number record that cannot be billed safely, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exception {
    /// The customer id the record carried (may be empty).
    pub customer_id: String,
    /// The e164 the record carried, as is (may be empty or invalid).
    pub e164: String,
    /// The number id (may be empty).
    pub number_id: String,
    /// What is wrong and what to do.
    pub reason: String,
}

/// A number that is not billable because of its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingNumber {
    /// The number's id.
    pub id: String,
    /// The owning customer, if the record named one.
    pub customer_id: String,
    /// The number as the record carried it.
    pub e164: String,
}

/// The validated inventory the billing engine works on.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Customers by id (sorted).
    pub customers: BTreeMap<String, Customer>,
    /// Numbers that may be billed, in input order of first appearance.
    pub numbers: Vec<Number>,
    /// Numbers not billable by status (`pending_purchase`).
    pub pending: Vec<PendingNumber>,
    /// Records that cannot be billed, sorted by customer, e164, id.
    pub exceptions: Vec<Exception>,
    /// Distinct number ids plus records without id.
    pub numbers_fetched: usize,
}
