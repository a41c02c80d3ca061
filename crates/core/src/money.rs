//! Money: exact decimal amounts that know their currency and how they were rounded.
//!
//! Every currency is treated as having two minor digits (SPEC §2.2). Amounts are
//! computed unrounded and rounded exactly once, by [`Money::round`], with the
//! configured [`Rounding`]; after that a [`Money`] always has scale 2, so it prints as
//! `1234.50` with no further formatting decisions.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

/// Minor digits of every currency didbill bills in.
pub const MINOR_DIGITS: u32 = 2;

/// An ISO 4217 currency code: three ASCII capital letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Indian rupee.
    pub const INR: Currency = Currency(*b"INR");

    /// Parses a code such as `INR`; `None` unless exactly three capital letters.
    pub fn parse(code: &str) -> Option<Currency> {
        let b = code.as_bytes();
        (b.len() == 3 && b.iter().all(u8::is_ascii_uppercase)).then(|| Currency([b[0], b[1], b[2]]))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII capitals.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a value is brought to two decimals (config `rounding`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Halves away from zero: 0.125 → 0.13, −0.125 → −0.13.
    #[default]
    HalfUp,
    /// Halves to the even neighbour (banker's rounding): 0.125 → 0.12.
    HalfEven,
}

impl Rounding {
    /// Rounds to `dp` decimals and pads to exactly `dp` decimals.
    pub fn round_dp(self, value: Decimal, dp: u32) -> Decimal {
        let strategy = match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        };
        let mut rounded = value.round_dp_with_strategy(dp, strategy);
        rounded.rescale(dp);
        if rounded.is_zero() {
            rounded.set_sign_positive(true);
        }
        rounded
    }
}

/// An amount in one currency, rounded once to two decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Rounds an unrounded value once into money.
    pub fn round(value: Decimal, currency: Currency, rounding: Rounding) -> Money {
        Money {
            amount: rounding.round_dp(value, MINOR_DIGITS),
            currency,
        }
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money {
            amount: Decimal::new(0, MINOR_DIGITS),
            currency,
        }
    }

    /// The amount, always with scale 2.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Sum of two amounts of the same currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        let mut amount = self.amount.checked_add(other.amount)?;
        amount.rescale(MINOR_DIGITS);
        Some(Money {
            amount,
            currency: self.currency,
        })
    }

    /// Sums amounts that are all in `currency`.
    ///
    /// # Panics
    /// When an amount is in another currency: mixing currencies is a programming error.
    pub fn sum<'a>(currency: Currency, items: impl IntoIterator<Item = &'a Money>) -> Money {
        items.into_iter().fold(Money::zero(currency), |acc, m| {
            acc.checked_add(*m)
                .unwrap_or_else(|| panic!("cannot add {} {} to {}", m.currency, m.amount, currency))
        })
    }
}

impl fmt::Display for Money {
    /// The amount with exactly two decimals, `.` as the point, no grouping.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.amount)
    }
}

/// Formats a decimal with exactly two decimals (rounding half up if it has more).
pub fn format_2dp(value: Decimal) -> String {
    Rounding::HalfUp.round_dp(value, MINOR_DIGITS).to_string()
}

/// Parses a decimal written as text (config values, CLI amounts).
pub fn parse_amount(text: &str) -> Option<Decimal> {
    Decimal::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn midpoints_follow_the_configured_mode() {
        let inr = Currency::INR;
        let cases = [
            ("0.125", "0.13", "0.12"),
            ("0.135", "0.14", "0.14"),
            ("-0.125", "-0.13", "-0.12"),
            ("2.5", "2.50", "2.50"),
            ("0.005", "0.01", "0.00"),
            ("-0.004", "0.00", "0.00"),
            ("1234.565", "1234.57", "1234.56"),
        ];
        for (input, up, even) in cases {
            assert_eq!(
                Money::round(d(input), inr, Rounding::HalfUp).to_string(),
                up,
                "{input}"
            );
            assert_eq!(
                Money::round(d(input), inr, Rounding::HalfEven).to_string(),
                even,
                "{input}"
            );
        }
    }

    #[test]
    fn money_always_prints_two_decimals() {
        let m = Money::round(d("1.5"), Currency::INR, Rounding::HalfUp);
        assert_eq!(m.to_string(), "1.50");
        assert_eq!(Money::zero(Currency::INR).to_string(), "0.00");
        assert_eq!(format_2dp(d("7")), "7.00");
        let sum = Money::sum(
            Currency::INR,
            &[
                m,
                m,
                Money::round(d("0.333"), Currency::INR, Rounding::HalfUp),
            ],
        );
        assert_eq!(sum.to_string(), "3.33");
    }

    #[test]
    fn currencies_do_not_mix() {
        let usd = Currency::parse("USD").unwrap();
        let a = Money::zero(Currency::INR);
        assert!(a.checked_add(Money::zero(usd)).is_none());
        assert!(Currency::parse("inr").is_none());
        assert!(Currency::parse("RUPEE").is_none());
        assert_eq!(usd.as_str(), "USD");
    }
}
