//! Money: exact decimal amounts that know their currency and how they were rounded.
//!
//! Every currency is treated as having two minor digits (SPEC §2.2). Amounts are
//! computed unrounded and rounded exactly once, by [`Money::round`], with the
//! configured [`Rounding`]; after that a [`Money`] always has scale 2, so it prints as
//! `1234.50` with no further formatting decisions.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
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

/// Shares `total` out over `weights` in proportion, so the parts add up to `total`
/// exactly: the largest-remainder method in minor units (paise). Each part starts
/// as its exact share rounded down to the paisa; the paise still missing go one each
/// to the parts with the largest remainders, ties to the earlier part. So every part
/// is within one paisa of its exact share, and the result depends only on the
/// inputs and their order.
///
/// Used to give each line of an invoice its share of the invoice's tax, which is
/// rounded once on the subtotal (SPEC §2.3), for tools that take a tax per line.
/// When the weights add up to zero there are no proportions, and all of `total`
/// goes to the first part. No weights, no parts.
///
/// # Panics
/// When a weight is in another currency than `total`.
pub fn allocate(total: Money, weights: &[Money]) -> Vec<Money> {
    let currency = total.currency;
    let whole = Money::sum(currency, weights).amount;
    let zero = Money::zero(currency);
    let mut parts = vec![zero; weights.len()];
    if whole.is_zero() {
        if let Some(first) = parts.first_mut() {
            *first = total;
        }
        return parts;
    }
    let paisa = Decimal::new(1, MINOR_DIGITS);
    let units = total.amount / paisa;
    let exact: Vec<Decimal> = weights.iter().map(|w| units * w.amount / whole).collect();
    let floors: Vec<Decimal> = exact.iter().map(|e| e.floor()).collect();
    let missing = units - floors.iter().sum::<Decimal>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Stable, so equal remainders keep line order.
    order.sort_by(|&a, &b| (exact[b] - floors[b]).cmp(&(exact[a] - floors[a])));
    // Between 0 and one less than the number of parts: each floor lost under a paisa.
    let extra = missing.to_usize().unwrap_or(0);
    for (i, part) in parts.iter_mut().enumerate() {
        *part = Money {
            amount: scaled(floors[i] * paisa),
            currency,
        };
    }
    for &i in order.iter().take(extra) {
        parts[i].amount = scaled(parts[i].amount + paisa);
    }
    parts
}

/// `value` with exactly two decimals (and no negative zero).
fn scaled(value: Decimal) -> Decimal {
    Rounding::HalfUp.round_dp(value, MINOR_DIGITS)
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

    fn inr(s: &str) -> Money {
        Money::round(d(s), Currency::INR, Rounding::HalfUp)
    }

    fn allocated(total: &str, weights: &[&str]) -> Vec<String> {
        let weights: Vec<Money> = weights.iter().map(|w| inr(w)).collect();
        allocate(inr(total), &weights)
            .iter()
            .map(Money::to_string)
            .collect()
    }

    #[test]
    fn allocation_gives_the_missing_paise_to_the_largest_remainders_then_line_order() {
        // 10.00 / 3 = 3.333…: one paisa short, the first of three equal remainders.
        assert_eq!(
            allocated("10.00", &["1", "1", "1"]),
            ["3.34", "3.33", "3.33"]
        );
        // Exact shares stay exact.
        assert_eq!(allocated("54.00", &["100", "200"]), ["18.00", "36.00"]);
        // 0.05 over 300 : 100 : 1 → 3.73…, 1.24…, 0.01… paise: the largest remainder
        // (0.74 of line 1) gets the one missing paisa before line 2 (0.24).
        assert_eq!(
            allocated("0.05", &["300", "100", "1"]),
            ["0.04", "0.01", "0.00"]
        );
        // A credit line takes a negative share; a negative total rounds down too.
        assert_eq!(allocated("1.00", &["3", "-1"]), ["1.50", "-0.50"]);
        assert_eq!(
            allocated("-0.10", &["1", "1", "1"]),
            ["-0.03", "-0.03", "-0.04"]
        );
        // Weights adding up to zero have no proportions: the first line takes it all.
        assert_eq!(allocated("0.00", &["5", "-5"]), ["0.00", "0.00"]);
        assert_eq!(allocated("0.07", &["0", "0"]), ["0.07", "0.00"]);
        assert!(allocated("0.00", &[]).is_empty());
    }

    #[test]
    fn allocated_parts_add_up_to_the_total() {
        let weights = ["300.00", "120.50", "0.01", "-45.00", "999.99"];
        for total in ["351.08", "0.01", "-12.34", "1000000.00"] {
            let parts = allocated(total, &weights);
            let sum: Decimal = parts.iter().map(|p| d(p)).sum();
            assert_eq!(sum, d(total), "{total}: {parts:?}");
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
