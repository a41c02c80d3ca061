//! Call records (CDR rows) → validated calls, and the rows that cannot be billed.
//!
//! Rows that cannot be billed safely (no or unparsable `total_cost`, currency or
//! `start_time`, a direction other than `inbound` or `outbound`, one uuid with two
//! different contents) are not billed and reported as problems (the rows of
//! `usage_exceptions.csv`), like number exceptions: they do not stop a run unless
//! `--strict`. A row fetched twice (identical text) counts once. The billing
//! rules for the calls are in [`didbill_core::billing::usage`].

use rust_decimal::prelude::ToPrimitive;

use didbill_core::billing::usage::Call;
use didbill_core::money::Currency;
use vobiz::cdr::{CdrRecord, CustomerCdrs};
use vobiz::dto::JsonDecimal;

use super::distinct::distinct;
use super::{fee, parse_datetime};
use crate::text::escape_hidden;

/// The call directions billed (lower case, as CDRs name them after trimming).
const DIRECTIONS: [&str; 2] = ["inbound", "outbound"];

/// Billable seconds above this (31 days) are bad data.
const MAX_BILLSEC: u64 = 31 * 24 * 3600;

/// The calls of a run and the rows that could not be billed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    /// Billable calls, in the order fetched.
    pub calls: Vec<Call>,
    /// The rows not billed, by customer in the order fetched.
    pub problems: Vec<CallProblem>,
    /// What was noticed while fetching the rows (a total that changed, say).
    pub notes: Vec<String>,
}

impl Calls {
    /// Distinct rows read: every one is a call or a problem.
    pub fn fetched(&self) -> usize {
        self.calls.len() + self.problems.len()
    }
}

/// A call record that cannot be billed: one row of `usage_exceptions.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallProblem {
    /// The customer whose records held the row.
    pub customer_id: String,
    /// The row's `uuid` as it carried it (escaped), empty when none.
    pub uuid: String,
    /// The row's `start_time` as it carried it (escaped), empty when none.
    pub start_time: String,
    /// Why it was not billed; names the row's position when it has no uuid.
    pub reason: String,
}

impl std::fmt::Display for CallProblem {
    /// The warning sentence: customer, call and reason.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.uuid.is_empty() {
            true => write!(f, "customer {}, {}", self.customer_id, self.reason),
            false => write!(
                f,
                "customer {}, call {}: {}",
                self.customer_id, self.uuid, self.reason
            ),
        }
    }
}

/// Validates every customer's rows into calls (see the module doc for the rules).
pub fn validate<'c>(cdrs: &'c [CustomerCdrs]) -> Calls {
    let mut out = Calls::default();
    for customer in cdrs {
        let id = &customer.customer_id;
        let uuid = |row: &'c CdrRecord| row.uuid.as_str().filter(|u| !u.trim().is_empty());
        for d in distinct(&customer.rows, uuid, |r| r.fingerprint) {
            let row = d.first;
            let reason = if d.conflicting {
                "the uuid appears on rows with different content; none of them billed".into()
            } else {
                match call(id, row) {
                    Ok(call) => {
                        out.calls.push(call);
                        continue;
                    }
                    Err(reasons) => format!("{}; not billed", reasons.join("; ")),
                }
            };
            // What the rows carried is shown escaped (see `crate::text`).
            let carried = |s: Option<&str>| escape_hidden(s.unwrap_or("")).into_owned();
            let uuid = carried(uuid(row));
            let reason = match uuid.is_empty() {
                true => format!("row #{}: {reason}", d.index + 1),
                false => reason,
            };
            out.problems.push(CallProblem {
                customer_id: id.clone(),
                start_time: carried(row.start_time.as_str()),
                uuid,
                reason: escape_hidden(&reason).into_owned(),
            });
        }
    }
    out
}

/// One row as a call, or every reason it cannot be billed.
fn call(customer_id: &str, row: &CdrRecord) -> Result<Call, Vec<String>> {
    if let Some(why) = &row.unreadable {
        return Err(vec![why.clone()]);
    }
    let mut problems = Vec::new();
    let total_cost = fee("total_cost", &row.total_cost, &mut problems);
    let currency = match row.currency.text() {
        Ok(Some(c)) => Currency::parse(c.trim()).or_else(|| {
            problems.push(format!("currency {c:?} is not an ISO 4217 code"));
            None
        }),
        Ok(None) => {
            problems.push("currency is missing".into());
            None
        }
        Err(t) => {
            problems.push(format!("currency is a {t}, not text"));
            None
        }
    };
    let start = match row.start_time.text() {
        Ok(Some(s)) => parse_datetime(s).or_else(|| {
            problems.push(format!("start_time {s:?} is not an RFC 3339 date and time"));
            None
        }),
        _ => {
            problems.push("start_time is missing".into());
            None
        }
    };
    let direction = match row.call_direction.text() {
        Ok(Some(d)) if !d.trim().is_empty() => {
            let direction = d.trim().to_lowercase();
            // Only these two have a line on the invoice (and a template wording);
            // anything else is not a call the customer can be billed for.
            match DIRECTIONS.contains(&direction.as_str()) {
                true => Some(direction),
                false => {
                    problems.push(format!(
                        "call_direction {d:?} is neither inbound nor outbound"
                    ));
                    None
                }
            }
        }
        _ => {
            problems.push("call_direction is missing".into());
            None
        }
    };
    let billsec = match &row.billsec {
        JsonDecimal::Absent | JsonDecimal::Null => Some(0),
        JsonDecimal::Amount(s) if s.fract().is_zero() => s.to_u64(),
        _ => None,
    }
    .or_else(|| {
        problems.push("billsec is not a whole number of seconds".into());
        None
    })
    .filter(|&b| {
        // No call lasts a month; the bound also keeps the seconds summed per line
        // far from overflowing.
        let plausible = b <= MAX_BILLSEC;
        if !plausible {
            problems.push(format!("billsec {b} is more than 31 days"));
        }
        plausible
    });
    match (total_cost, currency, start, direction, billsec) {
        (Some(total_cost), Some(currency), Some(start), Some(direction), Some(billsec))
            if problems.is_empty() =>
        {
            Ok(Call {
                customer_id: customer_id.to_owned(),
                currency,
                direction,
                start,
                billsec,
                total_cost,
            })
        }
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use chrono::{DateTime, Utc};
    use didbill_core::billing::usage::usage_lines;
    use didbill_core::billing::{ChargeKind, Line, Rules};
    use didbill_core::money::Rounding;
    use didbill_core::period::Period;
    use std::str::FromStr;

    fn rules(config: &Config) -> Rules {
        config.rules(
            Period::from_str("2026-11").unwrap(),
            DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    fn customer(id: &str, rows: &[&str]) -> CustomerCdrs {
        CustomerCdrs {
            customer_id: id.into(),
            dates: None,
            rows: rows.iter().map(|r| CdrRecord::from_json(r)).collect(),
        }
    }

    fn row(uuid: &str, direction: &str, start: &str, billsec: u64, cost: &str) -> String {
        format!(
            r#"{{"uuid":"{uuid}","call_direction":"{direction}","billsec":{billsec},"duration":{billsec},"cost":{cost},"total_cost":{cost},"currency":"INR","start_time":"{start}","end_time":"{start}"}}"#
        )
    }

    /// (customer, direction, calls, seconds, amount, provider amount) of each line.
    fn summary(lines: &[Line]) -> Vec<(String, String, u64, u64, String, String)> {
        lines
            .iter()
            .map(|l| {
                let u = l.usage.as_ref().unwrap();
                (
                    l.customer_id.clone(),
                    u.direction.clone(),
                    u.calls,
                    u.billable_seconds,
                    l.amount.to_string(),
                    l.provider_amount.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn calls_straddling_midnight_belong_to_the_local_day_they_start() {
        // Asia/Kolkata is UTC+05:30: local midnight starting 1 November is
        // 2026-10-31T18:30Z, and local midnight ending 30 November is 2026-11-30T18:30Z.
        let rows = [
            // 31 Oct 23:50 → 1 Nov 00:20 local: starts before the period.
            row("a", "inbound", "2026-10-31T18:20:00Z", 1800, "1.00"),
            // 1 Nov 00:00:00 local exactly: the first instant of the period.
            row("b", "inbound", "2026-10-31T18:30:00Z", 60, "0.10"),
            // 30 Nov 23:50 → 1 Dec 00:20 local: starts in the period, billed in full.
            row("c", "outbound", "2026-11-30T18:20:00Z", 1800, "2.005"),
            // 1 Dec 00:00:00 local: after the period.
            row("d", "outbound", "2026-11-30T18:30:00Z", 60, "4.00"),
        ];
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let calls = validate(&[customer("MA_1", &rows)]);
        assert!(calls.problems.is_empty(), "{:?}", calls.problems);
        let lines = usage_lines(&calls.calls, &rules(&Config::default()));
        assert_eq!(
            summary(&lines),
            vec![
                (
                    "MA_1".into(),
                    "inbound".into(),
                    1,
                    60,
                    "0.10".into(),
                    "0.10".into()
                ),
                (
                    "MA_1".into(),
                    "outbound".into(),
                    1,
                    1800,
                    "2.01".into(),
                    "2.01".into()
                ),
            ]
        );
        let l = &lines[1];
        assert_eq!(l.charge, ChargeKind::Usage);
        assert_eq!(
            (l.service_from.to_string(), l.service_to.to_string()),
            ("2026-11-01".into(), "2026-11-30".into())
        );
        assert_eq!(
            (l.unit_amount, l.billable_days, l.period_days),
            (None, None, None)
        );
        assert_eq!(l.usage.as_ref().unwrap().billable_minutes(), "30.00");
        // In UTC the edges move: a and b start on 31 October, c and d on 30 November.
        let utc = Config {
            timezone: chrono_tz::UTC,
            ..Config::default()
        };
        assert_eq!(
            summary(&usage_lines(&calls.calls, &rules(&utc))),
            vec![(
                "MA_1".into(),
                "outbound".into(),
                2,
                1860,
                "6.01".into(),
                "6.01".into()
            )]
        );
    }

    #[test]
    fn the_sum_is_marked_up_and_rounded_once() {
        // Five calls of 0.005: each would round to 0.01 (0.05), their sum is 0.025.
        let rows: Vec<String> = (0..5)
            .map(|i| {
                row(
                    &format!("c{i}"),
                    "Outbound",
                    "2026-11-10T10:00:00Z",
                    61,
                    "0.005",
                )
            })
            .collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let calls = validate(&[customer("MA_1", &rows)]);
        let mut config = Config::default();
        assert_eq!(
            summary(&usage_lines(&calls.calls, &rules(&config))),
            vec![(
                "MA_1".into(),
                "outbound".into(),
                5,
                305,
                "0.03".into(),
                "0.03".into()
            )]
        );
        config.rounding = Rounding::HalfEven;
        assert_eq!(
            summary(&usage_lines(&calls.calls, &rules(&config)))[0].4,
            "0.02"
        );
        // + 50%: 0.0375, not the rounded 0.03 × 1.5 = 0.045 → 0.05.
        config.rounding = Rounding::HalfUp;
        config.pricing = Config::parse("[pricing]\nusage_markup_percent = 50")
            .unwrap()
            .pricing;
        let lines = usage_lines(&calls.calls, &rules(&config));
        assert_eq!(
            (
                lines[0].amount.to_string(),
                lines[0].provider_amount.to_string()
            ),
            ("0.04".into(), "0.03".into())
        );
        assert_eq!(lines[0].usage.as_ref().unwrap().billable_minutes(), "5.08");
    }

    #[test]
    fn bad_rows_are_reported_and_duplicates_count_once() {
        let good = row("g", "inbound", "2026-11-10T10:00:00Z", 10, "1");
        let conflicting = row("g", "inbound", "2026-11-10T10:00:00Z", 10, "2");
        let spaced = good.replace(',', ", ");
        let rows = [
            good.as_str(),
            spaced.as_str(),
            r#"{"uuid":"x","call_direction":"inbound","billsec":1.5,"total_cost":"abc","currency":"inr","start_time":"yesterday"}"#,
            r#"{"call_direction":"","total_cost":1,"currency":"INR","start_time":"2026-11-10T10:00:00Z"}"#,
            r#"{"uuid":"n","call_direction":"inbound","total_cost":-1,"currency":"INR","start_time":"2026-11-10T10:00:00Z"}"#,
            "7",
        ];
        let calls = validate(&[customer("MA_1", &rows)]);
        assert_eq!(calls.calls.len(), 1, "the same row twice is one call");
        assert_eq!(calls.calls[0].billsec, 10);
        assert_eq!(calls.problems.len(), 4, "{:#?}", calls.problems);
        let p: Vec<String> = calls.problems.iter().map(ToString::to_string).collect();
        assert!(
            p[0].starts_with("customer MA_1, call x: total_cost \"abc\""),
            "{}",
            p[0]
        );
        for needle in [
            "currency \"inr\"",
            "start_time \"yesterday\"",
            "billsec",
            "not billed",
        ] {
            assert!(p[0].contains(needle), "{needle}: {}", p[0]);
        }
        assert!(
            p[1].contains("row #4") && p[1].contains("call_direction"),
            "{}",
            p[1]
        );
        assert!(
            p[2].contains("call n") && p[2].contains("negative"),
            "{}",
            p[2]
        );
        assert!(p[3].contains("row #6"), "{}", p[3]);

        let rows = [good.as_str(), conflicting.as_str(), good.as_str()];
        let calls = validate(&[customer("MA_1", &rows)]);
        assert!(calls.calls.is_empty());
        assert_eq!(calls.problems.len(), 1, "{:?}", calls.problems);
        assert_eq!(calls.problems[0].uuid, "g", "{:?}", calls.problems);
    }
}
