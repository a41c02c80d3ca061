//! The tera filters layouts use: `date(format=…)` and `amount`.
//!
//! Both work on text: dates arrive as `YYYY-MM-DD`, amounts as the decimal's string
//! form, so no value ever passes through a binary float.

use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use tera::{Kwargs, State, Tera, TeraResult, Value};

use didbill_core::money::format_2dp;

/// Registers the filters on `tera` (before any template is added: tera 2 rejects
/// templates that use unknown filters).
pub fn register(tera: &mut Tera) {
    tera.register_filter("date", date);
    tera.register_filter("amount", amount);
}

/// `"2026-11-30" | date(format="DD/MM/YYYY")` → `30/11/2026`. The format knows
/// `YYYY`, `YY`, `MM` and `DD`; everything else is copied. An empty value stays empty.
fn date(value: &str, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let format: &str = kwargs.must_get("format")?;
    if value.is_empty() {
        return Ok(String::new());
    }
    let d = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| tera::Error::message(format!("date: {value:?} is not a date YYYY-MM-DD")))?;
    Ok(format_date(d, format))
}

fn format_date(d: NaiveDate, format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 2);
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        let (text, used) = if rest.starts_with("YYYY") {
            (format!("{:04}", d.year()), 4)
        } else if rest.starts_with("YY") {
            (format!("{:02}", d.year().rem_euclid(100)), 2)
        } else if rest.starts_with("MM") {
            (format!("{:02}", d.month()), 2)
        } else if rest.starts_with("DD") {
            (format!("{:02}", d.day()), 2)
        } else {
            (c.to_string(), c.len_utf8())
        };
        out.push_str(&text);
        rest = &rest[used..];
    }
    out
}

/// `"-5" | amount` → `-5.00`: exactly two decimals (halves away from zero), `.` as
/// the point, no grouping. Takes decimal text or an integer; floats are refused
/// because they cannot carry an exact amount.
fn amount(value: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    let text = match (value.as_str(), value.as_i128()) {
        (Some(s), _) => s.trim().to_owned(),
        (None, Some(i)) if !value.is_f64() => i.to_string(),
        _ if value.is_f64() => {
            return Err(tera::Error::message(format!(
                "amount: {value} is a floating-point number, which cannot hold an exact \
                 amount; write it as decimal text such as \"12.50\""
            )))
        }
        _ => {
            return Err(tera::Error::message(format!(
                "amount: {value} is a {}, not decimal text such as \"12.50\"",
                value.name()
            )))
        }
    };
    if !is_decimal(&text) {
        return Err(tera::Error::message(format!(
            "amount: {text:?} is not a decimal number such as \"12.50\""
        )));
    }
    let d = Decimal::from_str(&text)
        .map_err(|e| tera::Error::message(format!("amount: {text:?} is out of range: {e}")))?;
    Ok(format_2dp(d))
}

/// A plain decimal: optional `-`, digits, optionally `.` and digits.
pub fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tera::Context;

    fn render(template: &str) -> TeraResult<String> {
        let mut tera = Tera::new();
        register(&mut tera);
        tera.add_raw_template("t", template)?;
        tera.render("t", &Context::new())
    }

    #[test]
    fn dates_are_reformatted_from_iso() {
        let cases = [
            ("DD/MM/YYYY", "01/11/2026"),
            ("YYYY-MM-DD", "2026-11-01"),
            ("MM/DD/YY", "11/01/26"),
            ("D.M.Y", "D.M.Y"),
        ];
        for (format, expected) in cases {
            let t = format!("{{{{ \"2026-11-01\" | date(format=\"{format}\") }}}}");
            assert_eq!(render(&t).unwrap(), expected, "{format}");
        }
        assert_eq!(render("{{ \"\" | date(format=\"DD\") }}").unwrap(), "");
        let err = render("{{ \"01/11/2026\" | date(format=\"DD\") }}").unwrap_err();
        assert!(format!("{err}").contains("not a date"), "{err}");
        assert!(render("{{ \"2026-11-01\" | date }}").is_err());
    }

    #[test]
    fn amounts_have_exactly_two_decimals_and_never_use_floats() {
        let cases = [
            ("\"-5\"", "-5.00"),
            ("\"1.5\"", "1.50"),
            ("\"0.125\"", "0.13"),
            ("\"-0.125\"", "-0.13"),
            ("\"12345678901234567890.10\"", "12345678901234567890.10"),
            ("\" 7 \"", "7.00"),
            ("42", "42.00"),
            ("-3", "-3.00"),
        ];
        for (input, expected) in cases {
            let t = format!("{{{{ {input} | amount }}}}");
            assert_eq!(render(&t).unwrap(), expected, "{input}");
        }
        for bad in [
            "\"1e2\"",
            "\"1,000.00\"",
            "\"abc\"",
            "\"\"",
            "\"5.\"",
            "0.1",
        ] {
            let t = format!("{{{{ {bad} | amount }}}}");
            assert!(render(&t).is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals_are_plain() {
        for ok in ["0", "-5", "5.00", "-0.125", "300"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in [
            "", "-", ".5", "5.", "+5", "1e2", "1_000", "1,0", " 5", "--5",
        ] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }
}
