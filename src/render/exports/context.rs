//! What a layout template can see: `invoice`, `line`, `seller`, `period`, `tax` and
//! `export` (the `[export.*]` settings).
//!
//! Dates are `YYYY-MM-DD` text and amounts are decimal text with two decimals (as in
//! the canonical CSVs), so templates print them unchanged and format them with the
//! `date` and `amount` filters without ever going through floats. Optional fields
//! (email, GSTIN, address parts, setup days) are `none`, which prints as nothing.
//! A `usage` line has no number, days or unit amount; instead `direction`
//! (`inbound`/`outbound`), `calls`, `billable_seconds` and `billable_minutes` (two
//! decimals) describe its calls, and are `none` on the other lines.

use serde::Serialize;
use tera::{Context, Value};

use crate::config::Config;
use didbill_core::billing::invoice::Taxes;
use didbill_core::billing::{GstTreatment, IssuedInvoice, Line};
use didbill_core::gst;
use didbill_core::money::Money;
use didbill_core::period::Period;

#[derive(Serialize)]
struct CustomerView<'a> {
    id: &'a str,
    name: &'a str,
    company: bool,
    gst_treatment: &'a str,
    email: Option<&'a str>,
    gstin: Option<&'a str>,
    address: &'a [String],
    street: Option<&'a str>,
    city: Option<&'a str>,
    state: Option<&'a str>,
    postal_code: Option<&'a str>,
    country: Option<&'a str>,
}

#[derive(Serialize)]
struct InvoiceView<'a> {
    number: &'a str,
    date: String,
    due_date: String,
    due_days: i64,
    currency: &'a str,
    /// Rupees per unit for an invoice in another currency (empty for rupees).
    fx_rate: String,
    lines: usize,
    subtotal: String,
    cgst: String,
    sgst: String,
    igst: String,
    tax: String,
    round_off: String,
    total: String,
    place_of_supply: &'a str,
    place_of_supply_name: Option<&'static str>,
    place_of_supply_letters: Option<&'static str>,
    export: bool,
    tax_treatment: &'static str,
    tax_rate: String,
    customer: CustomerView<'a>,
}

#[derive(Serialize)]
struct LineView<'a> {
    index: usize,
    number_id: &'a str,
    e164: &'a str,
    charge: &'static str,
    service_from: Option<String>,
    service_to: Option<String>,
    billable_days: Option<u32>,
    period_days: Option<u32>,
    unit_amount: Option<String>,
    amount: String,
    cgst: String,
    sgst: String,
    igst: String,
    tax: String,
    direction: Option<&'a str>,
    calls: Option<u64>,
    billable_seconds: Option<u64>,
    billable_minutes: Option<String>,
}

#[derive(Serialize)]
struct SellerView<'a> {
    name: &'a str,
    address: &'a [String],
    gstin: &'a str,
    state_code: &'a str,
    state_name: Option<&'static str>,
    email: &'a str,
}

#[derive(Serialize)]
struct PeriodView {
    month: String,
    name: String,
    start: String,
    end: String,
    days: u32,
}

#[derive(Serialize)]
struct TaxView<'a> {
    enabled: bool,
    rate: String,
    sac: &'a str,
}

/// The parts every row of a run shares: `seller`, `period`, `tax`, `export`.
pub fn run_context(config: &Config, period: Period) -> Context {
    let mut ctx = Context::new();
    let s = &config.seller;
    ctx.insert(
        "seller",
        &SellerView {
            name: &s.name,
            address: &s.address,
            gstin: &s.gstin,
            state_code: &s.state_code,
            state_name: gst::state_name(&s.state_code),
            email: &s.email,
        },
    );
    let last_day = period.end().pred_opt().unwrap_or(period.start());
    ctx.insert(
        "period",
        &PeriodView {
            month: period.to_string(),
            name: period.start().format("%B %Y").to_string(),
            start: period.start().to_string(),
            end: last_day.to_string(),
            days: period.days(),
        },
    );
    ctx.insert(
        "tax",
        &TaxView {
            enabled: config.tax.enabled,
            rate: config.tax.rate.normalize().to_string(),
            sac: &config.tax.sac,
        },
    );
    ctx.insert("export", &config.export);
    ctx
}

/// `invoice`: the issued invoice with its customer.
pub fn invoice(issued: &IssuedInvoice, config: &Config) -> Value {
    let inv = &issued.invoice;
    let c = &inv.customer;
    let pos = inv.place_of_supply.code();
    let treatment = inv.treatment;
    Value::from_serializable(&InvoiceView {
        number: &issued.number,
        date: issued.invoice_date.to_string(),
        due_date: issued.due_date.to_string(),
        due_days: (issued.due_date - issued.invoice_date).num_days(),
        currency: inv.currency.as_str(),
        fx_rate: issued.fx_rate.map(|r| r.to_string()).unwrap_or_default(),
        lines: inv.lines.len(),
        subtotal: inv.subtotal.to_string(),
        cgst: inv.cgst.to_string(),
        sgst: inv.sgst.to_string(),
        igst: inv.igst.to_string(),
        tax: inv.tax().to_string(),
        round_off: inv.round_off.to_string(),
        total: inv.total.to_string(),
        place_of_supply: pos,
        place_of_supply_name: gst::state_name(pos),
        place_of_supply_letters: gst::two_letter_code(pos),
        export: inv.is_export(),
        tax_treatment: treatment.key(),
        tax_rate: if matches!(
            treatment,
            GstTreatment::IntraState | GstTreatment::InterState | GstTreatment::ExportWithIgst
        ) {
            config.tax.rate.normalize().to_string()
        } else {
            "0".into()
        },
        customer: CustomerView {
            id: &c.id,
            name: &c.name,
            company: c.company,
            gst_treatment: config.export.zoho.gst_treatment(c, inv.is_export()),
            email: c.email.as_deref(),
            gstin: c.gstin.as_deref(),
            address: &c.address,
            street: c.street.as_deref(),
            city: c.city.as_deref(),
            state: c.state.as_deref(),
            postal_code: c.postal_code.as_deref(),
            country: c.country.as_deref(),
        },
    })
}

/// `line`: one line item; `index` counts from 1 within its invoice, and `taxes` is
/// its share of the invoice's tax ([`didbill_core::billing::Invoice::line_taxes`]).
pub fn line(index: usize, l: &Line, taxes: &Taxes) -> Value {
    Value::from_serializable(&LineView {
        index,
        number_id: &l.number_id,
        e164: &l.e164,
        charge: l.charge.as_str(),
        service_from: Some(l.service_from.to_string()),
        service_to: Some(l.service_to.to_string()),
        billable_days: l.billable_days,
        period_days: l.period_days,
        unit_amount: l.unit_amount.map(|m| m.to_string()),
        amount: l.amount.to_string(),
        cgst: taxes.cgst.to_string(),
        sgst: taxes.sgst.to_string(),
        igst: taxes.igst.to_string(),
        tax: Money::sum(l.currency, [&taxes.cgst, &taxes.sgst, &taxes.igst]).to_string(),
        direction: l.usage.as_ref().map(|u| u.direction.as_str()),
        calls: l.usage.as_ref().map(|u| u.calls),
        billable_seconds: l.usage.as_ref().map(|u| u.billable_seconds),
        billable_minutes: l.usage.as_ref().map(|u| u.billable_minutes()),
    })
}

/// The row of a layout with `round_off_row` for an invoice's round-off: charge
/// `round_off`, the round-off as its amount, zero tax, and no number or dates.
pub fn round_off_line(index: usize, round_off: Money) -> Value {
    let zero = Money::zero(round_off.currency()).to_string();
    Value::from_serializable(&LineView {
        index,
        number_id: "",
        e164: "",
        charge: "round_off",
        service_from: None,
        service_to: None,
        billable_days: None,
        period_days: None,
        unit_amount: Some(round_off.to_string()),
        amount: round_off.to_string(),
        cgst: zero.clone(),
        sgst: zero.clone(),
        igst: zero.clone(),
        tax: zero,
        direction: None,
        calls: None,
        billable_seconds: None,
        billable_minutes: None,
    })
}
