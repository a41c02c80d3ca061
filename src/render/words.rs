//! Amounts for people: Indian digit grouping (`1,23,456.78`) and amounts in words
//! (`Rupees One Lakh Only`), as printed on the PDF tax invoices.
//!
//! Amounts are first rounded to 2 decimals, half away from zero (every currency is
//! treated as having 2 minor digits, as in the billing rules).
//!
//! Wording of [`amount_in_words`]:
//! - `INR` uses the Indian numbering system (thousand, lakh, crore; above 99 crore
//!   the crore count is itself spelled out, e.g. "One Hundred Crore"):
//!   "Rupees … and … Paise Only", "Rupees … Only" without paise, "… Paise Only"
//!   without rupees, "Rupees Zero Only" for zero.
//! - Other currencies are billed to customers abroad and use the international
//!   system (thousand, million, billion, trillion) with the currency's unit names
//!   for the common codes ("US Dollars … and … Cents Only", "Euros …", "Pounds
//!   Sterling … and … Pence Only", …); an unknown code is written as itself with the
//!   minor part as a fraction, cheque style: "JPY One Thousand and 50/100 Only".
//! - Negative amounts start with "Minus".

use rust_decimal::{Decimal, RoundingStrategy};

const ONES: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];

const TENS: [&str; 10] = [
    "", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety",
];

/// Major and minor unit names of the currencies spelled out by name.
const CURRENCY_NAMES: [(&str, &str, &str); 8] = [
    ("USD", "US Dollars", "Cents"),
    ("EUR", "Euros", "Cents"),
    ("GBP", "Pounds Sterling", "Pence"),
    ("AED", "UAE Dirhams", "Fils"),
    ("SGD", "Singapore Dollars", "Cents"),
    ("AUD", "Australian Dollars", "Cents"),
    ("CAD", "Canadian Dollars", "Cents"),
    ("NZD", "New Zealand Dollars", "Cents"),
];

/// The amount rounded to 2 decimals (half away from zero), split into sign,
/// whole units and hundredths.
fn split(amount: Decimal) -> (bool, u128, u32) {
    let rounded = amount
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .abs();
    let hundredths = rounded * Decimal::ONE_HUNDRED;
    let total: u128 = hundredths
        .trunc()
        .to_string()
        .parse()
        .expect("a rounded decimal's integer part is digits");
    let negative = amount.is_sign_negative() && total != 0;
    (negative, total / 100, (total % 100) as u32)
}

/// Formats an amount with 2 decimals and Indian digit grouping: `1,23,456.78`,
/// `-5.00`, `12,34,56,789.05` (rounded half away from zero first).
pub fn format_indian(amount: Decimal) -> String {
    format_grouped(amount, true)
}

/// Formats an amount with 2 decimals and international grouping (`1,234,567.89`).
pub(crate) fn format_international(amount: Decimal) -> String {
    format_grouped(amount, false)
}

fn format_grouped(amount: Decimal, indian: bool) -> String {
    let (negative, units, hundredths) = split(amount);
    let digits = units.to_string();
    let mut groups: Vec<&str> = Vec::new();
    let mut rest = digits.as_str();
    let mut size = 3;
    while rest.len() > size {
        let (head, tail) = rest.split_at(rest.len() - size);
        groups.push(tail);
        rest = head;
        if indian {
            size = 2;
        }
    }
    groups.push(rest);
    groups.reverse();
    let sign = if negative { "-" } else { "" };
    format!("{sign}{}.{hundredths:02}", groups.join(","))
}

/// Spells out 0..=99.
fn below_hundred(n: u128) -> String {
    let n = n as usize;
    if n < 20 {
        ONES[n].to_string()
    } else if n.is_multiple_of(10) {
        TENS[n / 10].to_string()
    } else {
        format!("{}-{}", TENS[n / 10], ONES[n % 10])
    }
}

/// Spells out 1..=999 (no "and": "Seven Hundred Eighty-Nine").
fn below_thousand(n: u128) -> String {
    let (hundreds, rest) = (n / 100, n % 100);
    let mut parts = Vec::new();
    if hundreds > 0 {
        parts.push(format!("{} Hundred", ONES[hundreds as usize]));
    }
    if rest > 0 {
        parts.push(below_hundred(rest));
    }
    parts.join(" ")
}

/// Spells out a positive whole number in the Indian system (thousand, lakh, crore).
fn indian_words(n: u128) -> String {
    let mut parts = Vec::new();
    let crores = n / 10_000_000;
    if crores > 0 {
        parts.push(format!("{} Crore", indian_words(crores)));
    }
    let lakhs = n / 100_000 % 100;
    if lakhs > 0 {
        parts.push(format!("{} Lakh", below_hundred(lakhs)));
    }
    let thousands = n / 1_000 % 100;
    if thousands > 0 {
        parts.push(format!("{} Thousand", below_hundred(thousands)));
    }
    let rest = n % 1_000;
    if rest > 0 {
        parts.push(below_thousand(rest));
    }
    parts.join(" ")
}

/// Spells out a positive whole number in the international system.
fn international_words(n: u128) -> String {
    const SCALES: [(u128, &str); 4] = [
        (1_000_000_000_000, "Trillion"),
        (1_000_000_000, "Billion"),
        (1_000_000, "Million"),
        (1_000, "Thousand"),
    ];
    let mut parts = Vec::new();
    let mut rest = n;
    for (scale, name) in SCALES {
        let count = rest / scale;
        if count > 0 {
            let count_words = if count >= 1_000 {
                international_words(count)
            } else {
                below_thousand(count)
            };
            parts.push(format!("{count_words} {name}"));
            rest %= scale;
        }
    }
    if rest > 0 {
        parts.push(below_thousand(rest));
    }
    parts.join(" ")
}

/// The total of an invoice in words, e.g. for INR 12,34,56,789.05: "Rupees Twelve
/// Crore Thirty-Four Lakh Fifty-Six Thousand Seven Hundred Eighty-Nine and Five Paise
/// Only" (see the module documentation for other currencies and edge cases).
pub fn amount_in_words(amount: Decimal, currency: &str) -> String {
    let (negative, units, hundredths) = split(amount);
    let code = currency.trim().to_ascii_uppercase();
    let words = if code == "INR" {
        match (units, hundredths) {
            (0, 0) => "Rupees Zero Only".to_string(),
            (0, p) => format!("{} Paise Only", below_hundred(p.into())),
            (r, 0) => format!("Rupees {} Only", indian_words(r)),
            (r, p) => format!(
                "Rupees {} and {} Paise Only",
                indian_words(r),
                below_hundred(p.into())
            ),
        }
    } else if let Some((_, major, minor)) = CURRENCY_NAMES.iter().find(|(c, _, _)| *c == code) {
        match (units, hundredths) {
            (0, 0) => format!("{major} Zero Only"),
            (0, c) => format!("{} {minor} Only", below_hundred(c.into())),
            (u, 0) => format!("{major} {} Only", international_words(u)),
            (u, c) => format!(
                "{major} {} and {} {minor} Only",
                international_words(u),
                below_hundred(c.into())
            ),
        }
    } else {
        let whole = if units == 0 {
            "Zero".to_string()
        } else {
            international_words(units)
        };
        if hundredths == 0 {
            format!("{code} {whole} Only")
        } else {
            format!("{code} {whole} and {hundredths:02}/100 Only")
        }
    };
    if negative {
        format!("Minus {words}")
    } else {
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn inr(s: &str) -> String {
        amount_in_words(d(s), "INR")
    }

    #[test]
    fn words_inr_examples_from_the_issue() {
        assert_eq!(inr("0.50"), "Fifty Paise Only");
        assert_eq!(inr("1"), "Rupees One Only");
        assert_eq!(inr("100000"), "Rupees One Lakh Only");
        assert_eq!(
            inr("123456789.05"),
            "Rupees Twelve Crore Thirty-Four Lakh Fifty-Six Thousand Seven Hundred \
             Eighty-Nine and Five Paise Only"
        );
        assert_eq!(inr("10000000"), "Rupees One Crore Only");
        assert_eq!(
            inr("999999999.99"),
            "Rupees Ninety-Nine Crore Ninety-Nine Lakh Ninety-Nine Thousand Nine Hundred \
             Ninety-Nine and Ninety-Nine Paise Only"
        );
        assert_eq!(inr("0"), "Rupees Zero Only");
        assert_eq!(inr("0.00"), "Rupees Zero Only");
    }

    #[test]
    fn words_inr_small_and_round_numbers() {
        assert_eq!(inr("0.01"), "One Paise Only");
        assert_eq!(inr("7"), "Rupees Seven Only");
        assert_eq!(inr("10"), "Rupees Ten Only");
        assert_eq!(inr("19"), "Rupees Nineteen Only");
        assert_eq!(inr("20"), "Rupees Twenty Only");
        assert_eq!(inr("21"), "Rupees Twenty-One Only");
        assert_eq!(inr("100"), "Rupees One Hundred Only");
        assert_eq!(inr("101"), "Rupees One Hundred One Only");
        assert_eq!(inr("110"), "Rupees One Hundred Ten Only");
        assert_eq!(inr("1000"), "Rupees One Thousand Only");
        assert_eq!(inr("1001"), "Rupees One Thousand One Only");
        assert_eq!(
            inr("99999"),
            "Rupees Ninety-Nine Thousand Nine Hundred Ninety-Nine Only"
        );
        assert_eq!(inr("100001"), "Rupees One Lakh One Only");
        assert_eq!(inr("1050000"), "Rupees Ten Lakh Fifty Thousand Only");
        assert_eq!(inr("354.00"), "Rupees Three Hundred Fifty-Four Only");
        assert_eq!(
            inr("1416.10"),
            "Rupees One Thousand Four Hundred Sixteen and Ten Paise Only"
        );
    }

    #[test]
    fn words_inr_above_ninety_nine_crore() {
        assert_eq!(inr("1000000000"), "Rupees One Hundred Crore Only");
        assert_eq!(
            inr("123456789012"),
            "Rupees Twelve Thousand Three Hundred Forty-Five Crore Sixty-Seven Lakh \
             Eighty-Nine Thousand Twelve Only"
        );
    }

    #[test]
    fn words_round_half_away_from_zero_first() {
        assert_eq!(inr("0.005"), "One Paise Only");
        assert_eq!(inr("0.004"), "Rupees Zero Only");
        assert_eq!(inr("1.995"), "Rupees Two Only");
        assert_eq!(inr("-0.004"), "Rupees Zero Only");
    }

    #[test]
    fn words_negative_amounts_say_minus() {
        assert_eq!(inr("-5"), "Minus Rupees Five Only");
        assert_eq!(inr("-0.50"), "Minus Fifty Paise Only");
        assert_eq!(
            inr("-100000.25"),
            "Minus Rupees One Lakh and Twenty-Five Paise Only"
        );
    }

    #[test]
    fn words_other_currencies() {
        assert_eq!(
            amount_in_words(d("1234.05"), "USD"),
            "US Dollars One Thousand Two Hundred Thirty-Four and Five Cents Only"
        );
        assert_eq!(
            amount_in_words(d("1000000"), "usd"),
            "US Dollars One Million Only"
        );
        assert_eq!(amount_in_words(d("0.99"), "EUR"), "Ninety-Nine Cents Only");
        assert_eq!(
            amount_in_words(d("2.50"), "GBP"),
            "Pounds Sterling Two and Fifty Pence Only"
        );
        assert_eq!(
            amount_in_words(d("1234567890123"), "USD"),
            "US Dollars One Trillion Two Hundred Thirty-Four Billion Five Hundred \
             Sixty-Seven Million Eight Hundred Ninety Thousand One Hundred Twenty-Three Only"
        );
        assert_eq!(
            amount_in_words(d("1000.5"), "JPY"),
            "JPY One Thousand and 50/100 Only"
        );
        assert_eq!(amount_in_words(d("0"), "XYZ"), "XYZ Zero Only");
        assert_eq!(
            amount_in_words(d("-3"), "USD"),
            "Minus US Dollars Three Only"
        );
    }

    #[test]
    fn indian_grouping() {
        assert_eq!(format_indian(d("0")), "0.00");
        assert_eq!(format_indian(d("0.5")), "0.50");
        assert_eq!(format_indian(d("1")), "1.00");
        assert_eq!(format_indian(d("999")), "999.00");
        assert_eq!(format_indian(d("1000")), "1,000.00");
        assert_eq!(format_indian(d("99999.99")), "99,999.99");
        assert_eq!(format_indian(d("100000")), "1,00,000.00");
        assert_eq!(format_indian(d("123456.78")), "1,23,456.78");
        assert_eq!(format_indian(d("10000000")), "1,00,00,000.00");
        assert_eq!(format_indian(d("123456789.05")), "12,34,56,789.05");
        assert_eq!(format_indian(d("999999999.99")), "99,99,99,999.99");
        assert_eq!(format_indian(d("1234567890123.4")), "12,34,56,78,90,123.40");
    }

    #[test]
    fn indian_grouping_negatives_and_rounding() {
        assert_eq!(format_indian(d("-5")), "-5.00");
        assert_eq!(format_indian(d("-123456.78")), "-1,23,456.78");
        assert_eq!(format_indian(d("-0.001")), "0.00");
        assert_eq!(format_indian(d("2.345")), "2.35");
        assert_eq!(format_indian(d("-2.345")), "-2.35");
        assert_eq!(format_indian(d("0.125")), "0.13");
    }

    #[test]
    fn international_grouping() {
        assert_eq!(format_international(d("1234567.891")), "1,234,567.89");
        assert_eq!(format_international(d("-1000")), "-1,000.00");
        assert_eq!(format_international(d("999.5")), "999.50");
    }
}
