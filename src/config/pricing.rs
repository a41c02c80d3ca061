//! `[pricing]`: the partner's markups and fixed prices, resolved per customer.
//!
//! A customer's fixed `monthly_fee` / `setup_fee` takes the `currency` beside it
//! (see [`didbill_core::pricing`]); a fixed price without one is read, and refused
//! by `didbill run` at start ([`Pricing::ambiguity`]), so the other commands keep
//! working on such a file.

use std::collections::BTreeMap;

use didbill_core::money::Currency;
use didbill_core::pricing::{self, Price, Prices, Pricing};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{decimal, some_decimal};

/// `[pricing]`: the partner's markups on the provider's fees (see [`didbill_core::pricing`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FilePricing {
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
pub(super) struct FileCustomerPricing {
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
    currency: Option<String>,
}

impl FilePricing {
    /// Checks every markup and fixed price and resolves each customer's prices.
    pub(super) fn validate(self) -> std::result::Result<Pricing, String> {
        let markup = |key: &str, v: Decimal| pricing::check_markup(&format!("pricing.{key}"), v);
        let default = Prices {
            rental: Price::Markup(markup("rental_markup_percent", self.rental_markup_percent)?),
            setup: Price::Markup(markup("setup_markup_percent", self.setup_markup_percent)?),
            usage_markup_percent: markup("usage_markup_percent", self.usage_markup_percent)?,
            currency: None,
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
                currency: None,
            };
            let currency = match &c.currency {
                None => None,
                Some(_) if !prices.has_fixed() => {
                    return Err(format!(
                        "{section}.currency is the currency of a fixed monthly_fee or setup_fee; \
                         set one of them, or remove currency"
                    ))
                }
                Some(code) => Some(Currency::parse(code).ok_or_else(|| {
                    format!(
                        "{section}.currency {code:?} is not a currency code of three capital letters such as \"INR\""
                    )
                })?),
            };
            customers.insert(id, Prices { currency, ..prices });
        }
        Ok(Pricing { default, customers })
    }
}
