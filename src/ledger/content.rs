//! What an invoice bills, in one canonical form: the content hash that decides
//! whether a re-run may reuse an issued invoice, and the differences a conflicting
//! re-run reports.
//!
//! The content of an invoice is exactly the fields of [`InvoiceContent`]: customer
//! id, currency, period, the customer's GSTIN and the place of supply (they decide
//! the tax and are printed on a GST invoice), every line (number id, E.164, charge,
//! service dates, days, unit amount, amount; for usage lines also the call
//! direction, calls and billable seconds) in `line_items.csv` order, and
//! subtotal, CGST, SGST, IGST, round-off and total. The hash is the SHA-256, in
//! lowercase hex, of the line `didbill invoice content v1` followed by the compact
//! JSON of that struct (fields in declaration order, amounts as 2-decimal strings;
//! the usage fields are left out of other lines, so their hashes are unchanged
//! from before usage was billed; a usage line's empty unit amount is `""`).
//! Not in it: the invoice number and dates (the ledger assigns those), the
//! customer's name, address and email (display details that may be corrected
//! without re-billing), and when the invoice was recorded.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use serde::Serialize;
use sha2::{Digest, Sha256};

use didbill_core::billing::{Invoice, Line};
use didbill_core::money::{format_2dp, Currency, Money, Rounding};
use didbill_core::period::Period;

/// Domain separation for the content hash; bump the version if the content changes.
const HASH_DOMAIN: &[u8] = b"didbill invoice content v1\n";

/// One billed line as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineContent {
    /// The number's id.
    pub number_id: String,
    /// The number, E.164.
    pub e164: String,
    /// `setup`, `rental` or `usage`.
    pub charge: String,
    /// First day of service billed, `YYYY-MM-DD`.
    pub service_from: String,
    /// Last day of service billed (inclusive), `YYYY-MM-DD`.
    pub service_to: String,
    /// Days billed; none for setup.
    pub billable_days: Option<u32>,
    /// Days in the period or cycle; none for setup.
    pub period_days: Option<u32>,
    /// The fee, 2 decimals; empty for usage.
    pub unit_amount: String,
    /// The amount charged, 2 decimals.
    pub amount: String,
    /// Usage lines: `inbound` or `outbound`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_direction: Option<String>,
    /// Usage lines: calls billed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<u64>,
    /// Usage lines: billable seconds of those calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billable_seconds: Option<u64>,
}

impl LineContent {
    /// The ledger form of a billing line.
    pub fn of(line: &Line) -> LineContent {
        LineContent {
            number_id: line.number_id.clone(),
            e164: line.e164.clone(),
            charge: line.charge.as_str().to_owned(),
            service_from: line.service_from.to_string(),
            service_to: line.service_to.to_string(),
            billable_days: line.billable_days,
            period_days: line.period_days,
            unit_amount: line.unit_amount.map(|m| m.to_string()).unwrap_or_default(),
            amount: line.amount.to_string(),
            call_direction: line.usage.as_ref().map(|u| u.direction.clone()),
            calls: line.usage.as_ref().map(|u| u.calls),
            billable_seconds: line.usage.as_ref().map(|u| u.billable_seconds),
        }
    }

    /// Identifies a line across runs: the same charge for the same number (or call
    /// direction) from the same day.
    pub(super) fn key(&self) -> (&str, &str, &str, &str) {
        (
            &self.number_id,
            &self.charge,
            &self.service_from,
            self.call_direction.as_deref().unwrap_or(""),
        )
    }

    fn describe(&self) -> String {
        if let Some(direction) = &self.call_direction {
            format!(
                "{} {direction} {}..{} {} calls {}",
                self.charge,
                self.service_from,
                self.service_to,
                self.calls.unwrap_or(0),
                self.amount
            )
        } else if self.service_from == self.service_to {
            format!(
                "{} {} {} {}",
                self.charge, self.e164, self.service_from, self.amount
            )
        } else {
            format!(
                "{} {} {}..{} {}",
                self.charge, self.e164, self.service_from, self.service_to, self.amount
            )
        }
    }
}

/// [`LineContent::key`] as owned text, to key maps that outlive the lines.
pub(super) fn owned_key(line: &LineContent) -> (String, String, String, String) {
    let (a, b, c, d) = line.key();
    (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())
}

/// Everything an invoice bills (see the module doc); its hash is the content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceContent {
    /// The customer billed.
    pub customer_id: String,
    /// The invoice currency.
    pub currency: String,
    /// `YYYY-MM`.
    pub period: String,
    /// The customer's GSTIN, empty when none.
    pub customer_gstin: String,
    /// Two-digit place of supply code (`96` for exports).
    pub place_of_supply: String,
    /// The lines, in `line_items.csv` order.
    pub lines: Vec<LineContent>,
    /// Sum of the line amounts.
    pub subtotal: String,
    /// Central GST.
    pub cgst: String,
    /// State GST.
    pub sgst: String,
    /// Integrated GST.
    pub igst: String,
    /// Round-off.
    pub round_off: String,
    /// Total.
    pub total: String,
}

impl InvoiceContent {
    /// The content of `invoice` billed for `period`.
    pub fn of(invoice: &Invoice, period: Period) -> InvoiceContent {
        InvoiceContent {
            customer_id: invoice.customer.id.clone(),
            currency: invoice.currency.to_string(),
            period: period.to_string(),
            customer_gstin: invoice.customer.gstin.clone().unwrap_or_default(),
            place_of_supply: invoice.place_of_supply.code().to_owned(),
            lines: invoice.lines.iter().map(LineContent::of).collect(),
            subtotal: invoice.subtotal.to_string(),
            cgst: invoice.cgst.to_string(),
            sgst: invoice.sgst.to_string(),
            igst: invoice.igst.to_string(),
            round_off: invoice.round_off.to_string(),
            total: invoice.total.to_string(),
        }
    }

    /// The invoice as issued, rebuilt from its recorded content for `customer` (the
    /// display details) under its recorded `treatment`; `provider` gives the
    /// provider's amount of a line by its key (for margins), zero when unknown.
    /// `None` when a recorded figure cannot be read (a damaged ledger).
    pub fn to_invoice(
        &self,
        customer: didbill_core::inventory::Customer,
        treatment: didbill_core::billing::GstTreatment,
        provider: impl Fn(&LineContent) -> Option<Money>,
    ) -> Option<Invoice> {
        use didbill_core::billing::{ChargeKind, UsageDetail};
        let currency = Currency::parse(&self.currency)?;
        let money = |s: &str| {
            Decimal::from_str(s)
                .ok()
                .map(|d| Money::round(d, currency, Rounding::HalfUp))
        };
        let lines = self
            .lines
            .iter()
            .map(|l| {
                Some(Line {
                    customer_id: self.customer_id.clone(),
                    currency,
                    number_id: l.number_id.clone(),
                    e164: l.e164.clone(),
                    charge: match l.charge.as_str() {
                        "setup" => ChargeKind::Setup,
                        "rental" => ChargeKind::Rental,
                        "usage" => ChargeKind::Usage,
                        _ => return None,
                    },
                    service_from: l.service_from.parse().ok()?,
                    service_to: l.service_to.parse().ok()?,
                    billable_days: l.billable_days,
                    period_days: l.period_days,
                    unit_amount: match l.unit_amount.as_str() {
                        "" => None,
                        text => Some(money(text)?),
                    },
                    amount: money(&l.amount)?,
                    provider_amount: provider(l).unwrap_or(Money::zero(currency)),
                    setup_key: None,
                    usage: l.call_direction.as_ref().map(|direction| UsageDetail {
                        direction: direction.clone(),
                        calls: l.calls.unwrap_or(0),
                        billable_seconds: l.billable_seconds.unwrap_or(0),
                    }),
                })
            })
            .collect::<Option<Vec<Line>>>()?;
        Some(Invoice {
            customer,
            currency,
            lines,
            place_of_supply: didbill_core::gst::PlaceOfSupply::from_code(&self.place_of_supply),
            treatment,
            subtotal: money(&self.subtotal)?,
            cgst: money(&self.cgst)?,
            sgst: money(&self.sgst)?,
            igst: money(&self.igst)?,
            round_off: money(&self.round_off)?,
            total: money(&self.total)?,
        })
    }

    /// The content hash: SHA-256 (hex) of the domain line and the compact JSON.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("invoice content serialises");
        let mut hasher = Sha256::new();
        hasher.update(HASH_DOMAIN);
        hasher.update(&json);
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The change in call usage from `self` (as issued) to `now`, as the phrase the
    /// exit-4 message leads with: calls that reached the API after the month was
    /// invoiced are billed by no later run, so the difference must be seen.
    pub fn usage_change(&self, now: &InvoiceContent) -> Option<String> {
        let usage = |c: &InvoiceContent| {
            c.lines.iter().filter(|l| l.call_direction.is_some()).fold(
                (0u64, Decimal::ZERO),
                |(calls, amount), l| {
                    // Amounts in the ledger are written by didbill with 2 decimals.
                    let a = Decimal::from_str(&l.amount).unwrap_or_default();
                    (calls + l.calls.unwrap_or(0), amount + a)
                },
            )
        };
        let ((calls_before, before), (calls_now, now_amount)) = (usage(self), usage(now));
        if (calls_before, before) == (calls_now, now_amount) {
            return None;
        }
        let difference = now_amount - before;
        Some(format!(
            "call usage {calls_before} → {calls_now} call(s), {}{} {} before GST",
            if difference.is_sign_negative() {
                ""
            } else {
                "+"
            },
            format_2dp(difference),
            now.currency
        ))
    }

    /// What changed from `self` (as issued) to `now`, one human phrase per change:
    /// lines removed, added or altered, then GSTIN, place of supply and amounts.
    pub fn differences(&self, now: &InvoiceContent) -> Vec<String> {
        let before: BTreeMap<_, _> = self.lines.iter().map(|l| (l.key(), l)).collect();
        let after: BTreeMap<_, _> = now.lines.iter().map(|l| (l.key(), l)).collect();
        let mut changes = Vec::new();
        for (key, old) in &before {
            match after.get(key) {
                None => changes.push(format!("line removed: {}", old.describe())),
                Some(new) if new != old => changes.push(format!(
                    "line changed: {} (was {})",
                    new.describe(),
                    old.describe()
                )),
                Some(_) => {}
            }
        }
        for (key, new) in &after {
            if !before.contains_key(key) {
                changes.push(format!("line added: {}", new.describe()));
            }
        }
        let fields = [
            ("customer GSTIN", &self.customer_gstin, &now.customer_gstin),
            (
                "place of supply",
                &self.place_of_supply,
                &now.place_of_supply,
            ),
            ("subtotal", &self.subtotal, &now.subtotal),
            ("CGST", &self.cgst, &now.cgst),
            ("SGST", &self.sgst, &now.sgst),
            ("IGST", &self.igst, &now.igst),
            ("round-off", &self.round_off, &now.round_off),
            ("total", &self.total, &now.total),
        ];
        for (name, old, new) in fields {
            if old != new {
                let shown = |s: &str| {
                    if s.is_empty() {
                        "none".to_owned()
                    } else {
                        s.to_owned()
                    }
                };
                changes.push(format!("{name} {} → {}", shown(old), shown(new)));
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(number: &str, charge: &str, amount: &str) -> LineContent {
        LineContent {
            number_id: number.into(),
            e164: format!("+91{number}"),
            charge: charge.into(),
            service_from: "2026-11-01".into(),
            service_to: if charge == "setup" {
                "2026-11-01".into()
            } else {
                "2026-11-30".into()
            },
            billable_days: (charge == "rental").then_some(30),
            period_days: (charge == "rental").then_some(30),
            unit_amount: amount.into(),
            amount: amount.into(),
            call_direction: None,
            calls: None,
            billable_seconds: None,
        }
    }

    fn content(lines: Vec<LineContent>, total: &str) -> InvoiceContent {
        InvoiceContent {
            customer_id: "MA_1".into(),
            currency: "INR".into(),
            period: "2026-11".into(),
            customer_gstin: String::new(),
            place_of_supply: "29".into(),
            lines,
            subtotal: total.into(),
            cgst: "0.00".into(),
            sgst: "0.00".into(),
            igst: "0.00".into(),
            round_off: "0.00".into(),
            total: total.into(),
        }
    }

    #[test]
    fn the_hash_is_stable_and_sensitive_to_every_billed_field() {
        let a = content(vec![line("1", "rental", "300.00")], "300.00");
        // Pinned (and reproducible outside didbill: sha256 of the domain line plus
        // compact JSON): changing the canonical form silently would turn every
        // re-run of an issued period into a conflict.
        assert_eq!(
            a.hash(),
            "ebe46cf6034c169aa6d9d294b6fdc78882cdf90c4ab32f4b56f52528caf0daf6"
        );
        assert_eq!(a.hash(), a.clone().hash());
        let mut b = a.clone();
        b.lines[0].amount = "300.01".into();
        assert_ne!(a.hash(), b.hash());
        let mut c = a.clone();
        c.customer_gstin = "29AAACA1234A1Z5".into();
        assert_ne!(a.hash(), c.hash());
        let mut d = a.clone();
        d.period = "2026-12".into();
        assert_ne!(a.hash(), d.hash());
    }

    #[test]
    fn usage_lines_hash_their_calls_and_other_lines_do_not_carry_usage_keys() {
        let rental = line("1", "rental", "300.00");
        let json = serde_json::to_string(&rental).unwrap();
        assert!(
            !json.contains("call_direction") && !json.contains("calls"),
            "{json}"
        );
        let usage = LineContent {
            number_id: String::new(),
            e164: String::new(),
            charge: "usage".into(),
            unit_amount: String::new(),
            billable_days: None,
            period_days: None,
            call_direction: Some("inbound".into()),
            calls: Some(3),
            billable_seconds: Some(95),
            ..line("", "usage", "1.50")
        };
        let a = content(vec![rental.clone(), usage.clone()], "301.50");
        let mut more_calls = a.clone();
        more_calls.lines[1].calls = Some(4);
        assert_ne!(a.hash(), more_calls.hash());
        let mut outbound = a.clone();
        outbound.lines[1].call_direction = Some("outbound".into());
        assert_ne!(a.hash(), outbound.hash());
        // Two directions are two lines, not one changed line.
        let both = content(
            vec![rental, usage.clone(), outbound.lines[1].clone()],
            "303.00",
        );
        assert_eq!(
            a.differences(&both),
            vec![
                "line added: usage outbound 2026-11-01..2026-11-30 3 calls 1.50",
                "subtotal 301.50 → 303.00",
                "total 301.50 → 303.00",
            ]
        );
    }

    #[test]
    fn differences_name_added_removed_and_changed_lines_and_totals() {
        let issued = content(
            vec![line("1", "rental", "300.00"), line("2", "rental", "100.00")],
            "400.00",
        );
        let now = content(
            vec![line("1", "setup", "50.00"), line("1", "rental", "250.00")],
            "300.00",
        );
        assert_eq!(
            issued.differences(&now),
            vec![
                "line changed: rental +911 2026-11-01..2026-11-30 250.00 (was rental +911 2026-11-01..2026-11-30 300.00)",
                "line removed: rental +912 2026-11-01..2026-11-30 100.00",
                "line added: setup +911 2026-11-01 50.00",
                "subtotal 400.00 → 300.00",
                "total 400.00 → 300.00",
            ]
        );
        assert!(issued.differences(&issued).is_empty());
    }
}
