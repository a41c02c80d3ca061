//! The partner's own prices (config `[pricing]`): markups on the provider's fees and
//! fixed per-customer prices, and the provider cost and margin they leave.
//!
//! A partner price replaces the provider's fee *before* any arithmetic: the line's
//! `unit_amount` is the partner price and proration multiplies and divides it and
//! rounds once (SPEC §2.2), exactly as it would the provider's fee. A markup price is
//! `fee × (100 + markup) / 100`, kept unrounded; with the bounds below
//! ([`MAX_MARKUP_PERCENT`], [`MAX_MARKUP_DECIMALS`] and the fee limits of SPEC §1)
//! that product and the later `× d` stay within `Decimal`'s 96-bit mantissa, so
//! nothing is lost before the one rounding.
//!
//! Decisions where the issue is silent:
//! - Markups are percentages from 0 to 10 000 with at most 4 decimals. Negative
//!   markups (discounts) are refused: a stray minus sign would bill below cost on
//!   every invoice. A customer who pays less than the provider's price gets a fixed
//!   `monthly_fee` / `setup_fee` instead, which is visible and deliberate.
//! - A customer table may set a fixed fee or the matching markup, not both.
//!   Unset keys fall back to the top-level `[pricing]` markups.
//! - A fixed price names its currency (`currency = "INR"` in the customer's table)
//!   and prices only the numbers billed in it: 450 INR is not 450 USD. The
//!   customer's numbers in other currencies are billed at the provider's fee plus
//!   the top-level markup. A fixed price without a currency is ambiguous and a run
//!   refuses it at start ([`Pricing::ambiguity`]) rather than guess.
//! - A setup line exists when the provider or the partner charges a setup fee, so a
//!   fixed `setup_fee = 0` shows a waived setup as a 0.00 line (and its provider cost
//!   still counts).
//! - The provider cost of a line is the provider's fee prorated and rounded exactly
//!   like the line; the margin is the line amount minus it. `summary.json` shows both
//!   per currency only when some partner price differs from the provider's, so a run
//!   without `[pricing]` (or with zero markups) writes the same bytes as before.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::money::Currency;

/// The largest markup accepted, in percent (a price 101 times the provider's).
pub const MAX_MARKUP_PERCENT: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
/// The most decimal places a markup may have.
pub const MAX_MARKUP_DECIMALS: u32 = 4;

/// How the partner prices one kind of charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Price {
    /// The provider's fee plus this many percent.
    Markup(Decimal),
    /// This amount, whatever the provider charges.
    Fixed(Decimal),
}

impl Price {
    /// The provider's own price.
    pub const PROVIDER: Price = Price::Markup(Decimal::ZERO);

    /// The partner's price for a provider fee of `fee`, unrounded.
    pub fn apply(self, fee: Decimal) -> Decimal {
        match self {
            Price::Markup(m) if m.is_zero() => fee,
            Price::Markup(m) => fee * (Decimal::ONE_HUNDRED + m) / Decimal::ONE_HUNDRED,
            Price::Fixed(price) => price,
        }
    }

    /// Whether this is the provider's price unchanged.
    pub fn is_provider(self) -> bool {
        self == Price::PROVIDER
    }
}

/// The prices of one customer: rental, setup and call usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prices {
    /// Monthly rental (before proration).
    pub rental: Price,
    /// One-time setup fee.
    pub setup: Price,
    /// Markup on the provider's call cost, in percent.
    pub usage_markup_percent: Decimal,
    /// The currency of the fixed prices: they price only numbers billed in it.
    pub currency: Option<Currency>,
}

impl Prices {
    /// The provider's prices unchanged.
    pub const PROVIDER: Prices = Prices {
        rental: Price::PROVIDER,
        setup: Price::PROVIDER,
        usage_markup_percent: Decimal::ZERO,
        currency: None,
    };

    /// Whether a rental or setup price is fixed.
    pub fn has_fixed(&self) -> bool {
        matches!(self.rental, Price::Fixed(_)) || matches!(self.setup, Price::Fixed(_))
    }

    /// Whether every price is the provider's.
    pub fn is_provider(&self) -> bool {
        *self == Prices::PROVIDER
    }
}

/// The validated `[pricing]` table: everyone's prices and per-customer overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pricing {
    /// Prices of customers without an override.
    pub default: Prices,
    /// Prices of the customers under `[pricing.customers."MA_..."]`, fully resolved.
    pub customers: BTreeMap<String, Prices>,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            default: Prices::PROVIDER,
            customers: BTreeMap::new(),
        }
    }
}

impl Pricing {
    /// The prices that apply to `customer_id`'s numbers billed in `currency`: a
    /// fixed price in another currency gives way to the top-level markup.
    pub fn prices(&self, customer_id: &str, currency: Currency) -> Prices {
        let Some(prices) = self.customers.get(customer_id) else {
            return self.default;
        };
        if prices.currency == Some(currency) {
            return *prices;
        }
        let unfixed = |price: Price, default: Price| match price {
            Price::Fixed(_) => default,
            markup => markup,
        };
        Prices {
            rental: unfixed(prices.rental, self.default.rental),
            setup: unfixed(prices.setup, self.default.setup),
            ..*prices
        }
    }

    /// The first customer table with a fixed price but no currency, as the error
    /// that names the key and the fix: such a price cannot be billed without a guess.
    pub fn ambiguity(&self) -> Option<String> {
        self.customers
            .iter()
            .find(|(_, p)| p.has_fixed() && p.currency.is_none())
            .map(|(id, p)| {
                let key = match p.rental {
                    Price::Fixed(_) => "monthly_fee",
                    Price::Markup(_) => "setup_fee",
                };
                format!(
                    "pricing.customers.{id:?}.{key} is a fixed price without a currency: add \
                     currency = \"INR\" (or the currency it is in) to [pricing.customers.{id:?}]; \
                     a fixed price bills only the numbers in its currency"
                )
            })
    }

    /// Whether any customer pays other than the provider's prices; only then does
    /// `summary.json` report provider cost and margin.
    pub fn is_active(&self) -> bool {
        !self.default.is_provider() || self.customers.values().any(|p| !p.is_provider())
    }

    /// A warning for each customer override that names no customer of the run.
    pub fn unknown_customers<'a>(
        &'a self,
        known: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = String> + 'a {
        self.customers
            .keys()
            .filter(move |id| !known(id))
            .map(|id| {
                format!(
                    "pricing.customers.{id:?} names no customer in the inventory; its prices were not used"
                )
            })
    }
}

/// Checks a markup in percent (see the module doc for the bounds).
pub fn check_markup(key: &str, value: Decimal) -> Result<Decimal, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!(
            "{key} {value} must not be negative; give a customer a lower price with a fixed monthly_fee or setup_fee"
        ));
    }
    if value > MAX_MARKUP_PERCENT || value.normalize().scale() > MAX_MARKUP_DECIMALS {
        return Err(format!(
            "{key} {value} must be a percentage from 0 to {MAX_MARKUP_PERCENT} with at most {MAX_MARKUP_DECIMALS} decimals"
        ));
    }
    Ok(value.normalize())
}

/// Checks a fixed price against the limits the provider's fees must meet (SPEC §1).
pub fn check_fixed(key: &str, value: Decimal) -> Result<Decimal, String> {
    use crate::inventory::{MAX_FEE, MAX_FEE_DECIMALS};
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("{key} {value} must not be negative"));
    }
    if value >= MAX_FEE || value.normalize().scale() > MAX_FEE_DECIMALS {
        return Err(format!(
            "{key} {value} must be below {MAX_FEE} with at most {MAX_FEE_DECIMALS} decimals"
        ));
    }
    Ok(value.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn markups_are_exact_and_unrounded() {
        assert_eq!(Price::Markup(d("10")).apply(d("300")), d("330"));
        assert_eq!(Price::Markup(d("12.5")).apply(d("0.5")), d("0.5625"));
        assert_eq!(
            Price::Markup(d("33.3333")).apply(d("0.01")),
            d("0.0133333300")
        );
        assert_eq!(Price::Fixed(d("99")).apply(d("300")), d("99"));
        assert_eq!(Price::PROVIDER.apply(d("0.123456789")), d("0.123456789"));
        // The largest fee with the most decimals, at the largest markup: still exact.
        let fee = d("999999999.9999999999");
        let price = Price::Markup(d("9999.9999")).apply(fee);
        assert_eq!(
            price,
            Decimal::from_i128_with_scale(9_999_999_999_999_999_999 * 100_999_999, 16)
        );
    }

    #[test]
    fn bounds_name_the_key() {
        assert!(check_markup("k", d("-1")).unwrap_err().contains("k -1"));
        assert!(check_markup("k", d("10000.5")).is_err());
        assert!(check_markup("k", d("1.23456")).is_err());
        assert_eq!(check_markup("k", d("-0")).unwrap(), Decimal::ZERO);
        assert_eq!(check_markup("k", d("12.50")).unwrap().to_string(), "12.5");
        assert!(check_fixed("f", d("1000000000")).is_err());
        assert!(check_fixed("f", d("-0.01")).is_err());
        assert!(check_fixed("f", d("0.00000000001")).is_err());
        assert_eq!(check_fixed("f", d("0")).unwrap(), Decimal::ZERO);
    }

    #[test]
    fn overrides_replace_the_defaults_for_their_customer_only() {
        let mut pricing = Pricing::default();
        assert!(!pricing.is_active());
        pricing.customers.insert("MA_A".into(), Prices::PROVIDER);
        assert!(!pricing.is_active(), "an override equal to the provider's");
        let special = Prices {
            rental: Price::Fixed(d("250")),
            currency: Some(Currency::INR),
            ..Prices::PROVIDER
        };
        pricing.customers.insert("MA_B".into(), special);
        assert!(pricing.is_active());
        assert_eq!(pricing.prices("MA_B", Currency::INR), special);
        assert_eq!(pricing.prices("MA_C", Currency::INR), Prices::PROVIDER);
        let warned: Vec<String> = pricing.unknown_customers(|id| id == "MA_A").collect();
        assert_eq!(warned.len(), 1);
        assert!(warned[0].contains("\"MA_B\""), "{warned:?}");
    }

    #[test]
    fn a_fixed_price_prices_only_its_currency_and_needs_one() {
        let usd = Currency::parse("USD").unwrap();
        let mut pricing = Pricing {
            default: Prices {
                rental: Price::Markup(d("10")),
                ..Prices::PROVIDER
            },
            ..Pricing::default()
        };
        let fixed = Prices {
            rental: Price::Fixed(d("450")),
            setup: Price::Fixed(Decimal::ZERO),
            usage_markup_percent: d("5"),
            currency: Some(Currency::INR),
        };
        pricing.customers.insert("MA_A".into(), fixed);
        assert_eq!(pricing.prices("MA_A", Currency::INR), fixed);
        // In USD the provider's fee plus the top-level markup; the usage markup stays.
        assert_eq!(
            pricing.prices("MA_A", usd),
            Prices {
                rental: Price::Markup(d("10")),
                setup: Price::PROVIDER,
                ..fixed
            }
        );
        assert_eq!(pricing.ambiguity(), None);
        pricing.customers.insert(
            "MA_B".into(),
            Prices {
                setup: Price::Fixed(d("1")),
                ..Prices::PROVIDER
            },
        );
        let err = pricing.ambiguity().unwrap();
        assert!(
            err.starts_with("pricing.customers.\"MA_B\".setup_fee is a fixed price without a currency: add currency = \"INR\""),
            "{err}"
        );
    }
}
