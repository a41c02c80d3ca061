//! Invoices: one per customer and currency, with GST and round-off (SPEC §2.3).

use std::collections::{BTreeMap, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};

use super::{Line, Rules, TaxRules};
use crate::gst::PlaceOfSupply;
use crate::inventory::Customer;
use crate::money::{self, Currency, Money, Rounding};

/// An invoice before it has a number: the lines of one customer in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoice {
    /// The customer billed.
    pub customer: Customer,
    /// The invoice currency.
    pub currency: Currency,
    /// Line items in `line_items.csv` order.
    pub lines: Vec<Line>,
    /// Place of supply, deciding CGST+SGST, IGST or export.
    pub place_of_supply: PlaceOfSupply,
    /// How GST applies, as decided from the place of supply and the configuration
    /// (the PDF and the accounting exports read it rather than deciding again).
    pub treatment: GstTreatment,
    /// Sum of the line amounts.
    pub subtotal: Money,
    /// Central GST (intra-state).
    pub cgst: Money,
    /// State GST (intra-state).
    pub sgst: Money,
    /// Integrated GST (inter-state).
    pub igst: Money,
    /// Brings the total to a whole unit when `round_off` is on.
    pub round_off: Money,
    /// Subtotal + taxes + round-off.
    pub total: Money,
}

impl Invoice {
    /// All GST on the invoice.
    pub fn tax(&self) -> Money {
        Money::sum(self.currency, [&self.cgst, &self.sgst, &self.igst])
    }

    /// Calls billed on its usage lines.
    pub fn calls(&self) -> u64 {
        self.lines
            .iter()
            .filter_map(|l| l.usage.as_ref())
            .map(|u| u.calls)
            .sum()
    }

    /// Each line's share of the invoice's CGST, SGST and IGST, in line order, by
    /// [`money::allocate`] over the line amounts: the shares of each tax add up to
    /// the invoice's figure exactly, each within a paisa of its exact share.
    pub fn line_taxes(&self) -> Vec<Taxes> {
        let amounts: Vec<Money> = self.lines.iter().map(|l| l.amount).collect();
        let [cgst, sgst, igst] =
            [self.cgst, self.sgst, self.igst].map(|tax| money::allocate(tax, &amounts));
        cgst.into_iter()
            .zip(sgst)
            .zip(igst)
            .map(|((cgst, sgst), igst)| Taxes { cgst, sgst, igst })
            .collect()
    }

    /// Whether the invoice is an export of services (zero-rated).
    pub fn is_export(&self) -> bool {
        self.place_of_supply == PlaceOfSupply::Export
    }
}

/// The tax amounts of an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taxes {
    /// Central GST.
    pub cgst: Money,
    /// State GST.
    pub sgst: Money,
    /// Integrated GST.
    pub igst: Money,
}

/// How GST applies to an invoice: decided once, here, for the tax amounts, the PDF
/// and the accounting exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GstTreatment {
    /// Supplied within the seller's state: CGST and SGST at half the rate each.
    IntraState,
    /// Supplied to another state: IGST at the full rate.
    InterState,
    /// Export of services under a letter of undertaking: zero-rated, no tax.
    ZeroRated,
    /// Export of services on payment of IGST at the full rate (zero-rated too: the
    /// IGST is refunded to the supplier).
    ExportWithIgst,
    /// Tax is turned off (`tax.enabled = false`).
    Untaxed,
}

impl GstTreatment {
    /// The treatment of a supply to `pos` under `tax`.
    pub fn of(pos: &PlaceOfSupply, tax: &TaxRules) -> GstTreatment {
        if !tax.enabled {
            GstTreatment::Untaxed
        } else if *pos == PlaceOfSupply::Export && tax.export_with_igst {
            GstTreatment::ExportWithIgst
        } else if *pos == PlaceOfSupply::Export {
            GstTreatment::ZeroRated
        } else if pos.code() == tax.seller_state_code {
            GstTreatment::IntraState
        } else {
            GstTreatment::InterState
        }
    }

    /// Its name in templates and in the `[export.*]` tax tables: `intra_state`,
    /// `inter_state`, `zero_rated`, `export_with_igst` or `untaxed`.
    pub fn key(self) -> &'static str {
        match self {
            GstTreatment::IntraState => "intra_state",
            GstTreatment::InterState => "inter_state",
            GstTreatment::ZeroRated => "zero_rated",
            GstTreatment::ExportWithIgst => "export_with_igst",
            GstTreatment::Untaxed => "untaxed",
        }
    }
}

/// GST on `subtotal`: CGST+SGST at half the rate each when supplied within the
/// seller's state, IGST otherwise and on exports with payment of IGST, nothing for
/// exports under LUT or with tax disabled. Each amount is rounded on its own.
pub fn taxes(subtotal: Money, pos: &PlaceOfSupply, rules: &Rules) -> Taxes {
    taxes_of(
        subtotal,
        GstTreatment::of(pos, &rules.tax),
        rules.tax.rate,
        rules.rounding,
    )
}

/// GST on `subtotal` under a treatment already decided (a note repeats its
/// invoice's), at `rate` percent; each amount rounded once with `rounding`.
pub fn taxes_of(
    subtotal: Money,
    treatment: GstTreatment,
    rate: Decimal,
    rounding: Rounding,
) -> Taxes {
    let zero = Money::zero(subtotal.currency());
    let mut t = Taxes {
        cgst: zero,
        sgst: zero,
        igst: zero,
    };
    let hundred = Decimal::ONE_HUNDRED;
    let round = |v: Decimal| Money::round(v, subtotal.currency(), rounding);
    match treatment {
        GstTreatment::IntraState => {
            let half = subtotal.amount() * rate / Decimal::TWO / hundred;
            t.cgst = round(half);
            t.sgst = round(half);
        }
        GstTreatment::InterState | GstTreatment::ExportWithIgst => {
            t.igst = round(subtotal.amount() * rate / hundred)
        }
        GstTreatment::ZeroRated | GstTreatment::Untaxed => {}
    }
    t
}

/// The round-off that brings `amount` to the nearest whole unit (halves away from zero).
pub fn round_off(amount: Money) -> Money {
    let whole = amount
        .amount()
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    Money::round(whole - amount.amount(), amount.currency(), Rounding::HalfUp)
}

/// Groups line items into invoices, sorted by customer id then currency, each with
/// its lines sorted. Returns warnings for customers whose place of supply fell back
/// to the seller's state.
///
/// # Panics
/// When a line names a customer that is not in `customers` (validation prevents it).
pub fn assemble(
    lines: Vec<Line>,
    customers: &BTreeMap<String, Customer>,
    rules: &Rules,
) -> (Vec<Invoice>, Vec<String>) {
    // The lines are dealt into one bucket per customer, in customer id order (one
    // move each), and each bucket is sorted on its own: a stable sort of the whole
    // month would move every line through memory log2(n) times.
    let position: HashMap<&str, usize> = customers
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut counts = vec![0_usize; customers.len()];
    let slots: Vec<usize> = lines
        .iter()
        .map(|line| {
            let slot = *position
                .get(line.customer_id.as_str())
                .unwrap_or_else(|| panic!("line for unknown customer {}", line.customer_id));
            counts[slot] += 1;
            slot
        })
        .collect();
    let mut buckets: Vec<Vec<Line>> = counts.into_iter().map(Vec::with_capacity).collect();
    for (line, slot) in lines.into_iter().zip(slots) {
        buckets[slot].push(line);
    }
    let built: Vec<(Vec<Invoice>, Option<String>)> = customers
        .values()
        .zip(buckets)
        .filter(|(_, lines)| !lines.is_empty())
        .map(|(customer, lines)| customer_invoices(customer, lines, rules))
        .collect();
    let mut invoices = Vec::new();
    let mut warnings = Vec::new();
    for (built, warning) in built {
        invoices.extend(built);
        warnings.extend(warning);
    }
    (invoices, warnings)
}

/// One customer's invoices, one per currency, from all of its lines; with a warning
/// when its place of supply fell back to the seller's state.
fn customer_invoices(
    customer: &Customer,
    mut lines: Vec<Line>,
    rules: &Rules,
) -> (Vec<Invoice>, Option<String>) {
    lines.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let pos = PlaceOfSupply::of(
        customer.country.as_deref(),
        customer.gstin.as_deref(),
        customer.state.as_deref(),
        &rules.tax.seller_state_code,
    );
    let warning = match &pos {
        PlaceOfSupply::SellerFallback(code) => Some(format!(
            "customer {}: no GSTIN state code and no recognisable state ({:?}); place of supply \
             set to the seller's state {code} — add the state to the account",
            customer.id,
            customer.state.as_deref().unwrap_or("")
        )),
        _ => None,
    };
    let mut invoices = Vec::new();
    while let Some(first) = lines.first() {
        let currency = first.currency;
        let end = lines
            .iter()
            .position(|l| l.currency != currency)
            .unwrap_or(lines.len());
        let rest = lines.split_off(end);
        invoices.push(invoice(
            customer.clone(),
            currency,
            std::mem::replace(&mut lines, rest),
            pos.clone(),
            rules,
        ));
    }
    (invoices, warning)
}

/// Builds one invoice from its lines.
pub fn invoice(
    customer: Customer,
    currency: Currency,
    lines: Vec<Line>,
    place_of_supply: PlaceOfSupply,
    rules: &Rules,
) -> Invoice {
    let subtotal = Money::sum(currency, lines.iter().map(|l| &l.amount));
    let t = taxes(subtotal, &place_of_supply, rules);
    let before = Money::sum(currency, [&subtotal, &t.cgst, &t.sgst, &t.igst]);
    let round_off = if rules.round_off {
        round_off(before)
    } else {
        Money::zero(currency)
    };
    let total = Money::sum(currency, [&before, &round_off]);
    Invoice {
        customer,
        currency,
        lines,
        treatment: GstTreatment::of(&place_of_supply, &rules.tax),
        place_of_supply,
        subtotal,
        cgst: t.cgst,
        sgst: t.sgst,
        igst: t.igst,
        round_off,
        total,
    }
}

/// An invoice with its number and dates, ready to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedInvoice {
    /// The GST invoice number (or `DRAFT-0001` in a dry run).
    pub number: String,
    /// Invoice date.
    pub invoice_date: chrono::NaiveDate,
    /// Due date.
    pub due_date: chrono::NaiveDate,
    /// The invoice's content.
    pub invoice: Invoice,
    /// Rupees per unit of the invoice currency, for an invoice that needs one (not
    /// in rupees, GST applying); recorded in the ledger with the invoice.
    pub fx_rate: Option<Decimal>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn m(s: &str) -> Money {
        Money::round(
            Decimal::from_str(s).unwrap(),
            Currency::INR,
            Rounding::HalfUp,
        )
    }

    #[test]
    fn halves_of_gst_are_rounded_on_their_own() {
        let config = Rules::default();
        // 9% of 0.25 is 0.0225 → 0.02 twice; 18% is 0.045 → 0.05.
        let intra = taxes(m("0.25"), &PlaceOfSupply::State("29"), &config);
        assert_eq!(
            (
                intra.cgst.to_string(),
                intra.sgst.to_string(),
                intra.igst.to_string()
            ),
            ("0.02".into(), "0.02".into(), "0.00".into())
        );
        let inter = taxes(m("0.25"), &PlaceOfSupply::State("27"), &config);
        assert_eq!(
            (inter.cgst.to_string(), inter.igst.to_string()),
            ("0.00".into(), "0.05".into())
        );
        let export = taxes(m("1000"), &PlaceOfSupply::Export, &config);
        assert_eq!(export.igst.to_string(), "0.00");
        let fallback = taxes(
            m("100"),
            &PlaceOfSupply::SellerFallback("29".into()),
            &config,
        );
        assert_eq!(fallback.cgst.to_string(), "9.00");
        let mut off = Rules::default();
        off.tax.enabled = false;
        assert_eq!(
            taxes(m("100"), &PlaceOfSupply::State("27"), &off)
                .igst
                .to_string(),
            "0.00"
        );
        let mut twelve = Rules::default();
        twelve.tax.rate = Decimal::from(12);
        assert_eq!(
            taxes(m("100"), &PlaceOfSupply::State("29"), &twelve)
                .cgst
                .to_string(),
            "6.00"
        );
    }

    #[test]
    fn the_gst_treatment_is_decided_once_with_the_taxes() {
        let config = Rules::default();
        let of = |pos: PlaceOfSupply, config: &Rules| GstTreatment::of(&pos, &config.tax).key();
        assert_eq!(of(PlaceOfSupply::State("29"), &config), "intra_state");
        assert_eq!(
            of(PlaceOfSupply::SellerFallback("29".into()), &config),
            "intra_state"
        );
        assert_eq!(of(PlaceOfSupply::State("27"), &config), "inter_state");
        assert_eq!(of(PlaceOfSupply::Export, &config), "zero_rated");
        let mut igst = Rules::default();
        igst.tax.export_with_igst = true;
        assert_eq!(of(PlaceOfSupply::Export, &igst), "export_with_igst");
        assert_eq!(of(PlaceOfSupply::State("27"), &igst), "inter_state");
        assert_eq!(of(PlaceOfSupply::State("29"), &igst), "intra_state");
        let subtotal = Money::round(Decimal::new(10_005, 2), Currency::INR, Rounding::HalfUp);
        let t = taxes(subtotal, &PlaceOfSupply::Export, &igst);
        assert_eq!(
            (t.cgst.to_string(), t.sgst.to_string(), t.igst.to_string()),
            ("0.00".into(), "0.00".into(), "18.01".into())
        );
        let t = taxes(subtotal, &PlaceOfSupply::Export, &config);
        assert!(t.igst.amount().is_zero());
        igst.tax.enabled = false;
        assert_eq!(of(PlaceOfSupply::Export, &igst), "untaxed");
        let mut off = Rules::default();
        off.tax.enabled = false;
        assert_eq!(of(PlaceOfSupply::State("29"), &off), "untaxed");
        // The seller's state code decides, not its GSTIN, and also when nothing is
        // charged: a zero invoice to Maharashtra from a seller registered there.
        let mut mumbai = Rules::default();
        mumbai.tax.seller_state_code = "27".into();
        let zero = invoice(
            Customer::default(),
            Currency::INR,
            Vec::new(),
            PlaceOfSupply::State("27"),
            &mumbai,
        );
        assert_eq!(zero.treatment, GstTreatment::IntraState);
        assert_eq!(zero.tax().to_string(), "0.00");
    }

    #[test]
    fn round_off_reaches_the_nearest_whole_unit() {
        assert_eq!(round_off(m("100.49")).to_string(), "-0.49");
        assert_eq!(round_off(m("100.50")).to_string(), "0.50");
        assert_eq!(round_off(m("100.00")).to_string(), "0.00");
        assert_eq!(round_off(m("-2.50")).to_string(), "-0.50");
    }

    #[test]
    fn invoice_totals_add_up_with_round_off() {
        let customer = Customer {
            id: "MA_1".into(),
            name: "A".into(),
            state: Some("KA".into()),
            ..Customer::default()
        };
        let config = Rules {
            round_off: true,
            ..Rules::default()
        };
        let line = |amount: &str| super::super::Line {
            customer_id: "MA_1".into(),
            currency: Currency::INR,
            number_id: "n".into(),
            e164: "+91".into(),
            charge: super::super::ChargeKind::Rental,
            service_from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            service_to: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            billable_days: Some(30),
            period_days: Some(30),
            unit_amount: Some(m(amount)),
            provider_amount: m(amount),
            amount: m(amount),
            setup_key: None,
            usage: None,
        };
        let inv = invoice(
            customer,
            Currency::INR,
            vec![line("126.67"), line("266.66")],
            PlaceOfSupply::State("29"),
            &config,
        );
        // 393.33 + 35.40 + 35.40 = 464.13 → round-off −0.13 → 464.00
        assert_eq!(
            [inv.subtotal, inv.cgst, inv.sgst, inv.round_off, inv.total].map(|m| m.to_string()),
            ["393.33", "35.40", "35.40", "-0.13", "464.00"]
        );
        assert_eq!(inv.tax().to_string(), "70.80");
        // The lines' shares of 35.40: 11.4003… and 23.9996…; the missing paisa goes
        // to the larger remainder (line 2), and IGST shares are all zero.
        let shares: Vec<[String; 3]> = inv
            .line_taxes()
            .iter()
            .map(|t| [t.cgst, t.sgst, t.igst].map(|m| m.to_string()))
            .collect();
        assert_eq!(
            shares,
            [["11.40", "11.40", "0.00"], ["24.00", "24.00", "0.00"]].map(|r| r.map(String::from))
        );
    }
}
