//! What a layout template can see: `invoice`, `line`, `seller`, `period`, `tax` and
//! `export` (the `[export.*]` settings). A credit-note layout sees `note` instead of
//! `invoice`, with the same fields; a debit note goes through the invoice layout as
//! `invoice`. For a note, `kind` is `credit_note`/`debit_note`, `reason` why it was
//! issued, and `original` the invoice it corrects (`none` on an invoice).
//!
//! Dates are `YYYY-MM-DD` text and amounts are decimal text with two decimals (as in
//! the canonical CSVs), so templates print them unchanged and format them with the
//! `date` and `amount` filters without ever going through floats. Optional fields
//! (email, GSTIN, address parts, setup days) are `none`, which prints as nothing.
//! A `usage` line has no number, days or unit amount; instead `direction`
//! (`inbound`/`outbound`), `calls`, `billable_seconds` and `billable_minutes` (two
//! decimals) describe its calls, and are `none` on the other lines.

use rust_decimal::Decimal;
use serde::Serialize;
use tera::{Context, Value};

use crate::config::Config;
use crate::ledger::store::NoteRecord;
use didbill_core::billing::invoice::Taxes;
use didbill_core::billing::{GstTreatment, IssuedInvoice, Line};
use didbill_core::money::{self, format_2dp, Currency, Money, Rounding};
use didbill_core::notes::{issued_treatment, NoteKind};
use didbill_core::period::Period;
use didbill_core::{gst, gstr1};

#[derive(Serialize)]
struct CustomerView<'a> {
    id: &'a str,
    name: &'a str,
    /// Unknown (`none`) for a note, whose ledger record does not say.
    company: Option<bool>,
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

/// The invoice a note corrects.
#[derive(Serialize)]
struct OriginalView<'a> {
    number: &'a str,
    date: String,
    total: String,
    /// Zoho Books' "Reference Invoice type" of the invoice: `Registered`,
    /// `Export With Payment`, `Export Without Payment`, `B2C Large` or `B2C Others`.
    reference_type: &'static str,
}

#[derive(Serialize)]
struct InvoiceView<'a> {
    /// `invoice`, `credit_note` or `debit_note`.
    kind: &'static str,
    /// For a note, the invoice it corrects; `none` for an invoice.
    original: Option<OriginalView<'a>>,
    /// For a note, why it was issued; `none` for an invoice.
    reason: Option<&'a str>,
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
    charge: &'a str,
    /// A note's typed amount (charge `adjustment`): what it is for; else `none`.
    description: Option<&'a str>,
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
        kind: "invoice",
        original: None,
        reason: None,
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
        tax_rate: tax_rate(treatment, config),
        customer: CustomerView {
            id: &c.id,
            name: &c.name,
            company: Some(c.company),
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

/// The GST rate printed for `treatment`: the configured rate when GST is charged,
/// else `0`.
fn tax_rate(treatment: GstTreatment, config: &Config) -> String {
    match treatment {
        GstTreatment::IntraState | GstTreatment::InterState | GstTreatment::ExportWithIgst => {
            config.tax.rate.normalize().to_string()
        }
        GstTreatment::ZeroRated | GstTreatment::Untaxed => "0".into(),
    }
}

/// A credit or debit note in the fields of `invoice` (see [`invoice`]): its own
/// number and date (and, for a debit note imported as an invoice, a due date the
/// configured days later), the customer as billed on the original invoice (no
/// email or address parts: the contact already exists), and `kind`, `reason` and
/// `original`.
pub fn note(note: &NoteRecord, config: &Config) -> Value {
    let amount = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let [cgst, sgst, igst] = [&note.cgst, &note.sgst, &note.igst].map(|t| amount(t));
    let pos = note.place_of_supply.as_str();
    let export = pos == gst::EXPORT_CODE;
    let treatment = issued_treatment(
        cgst,
        sgst,
        igst,
        pos,
        &config.seller.state_code,
        config.tax.enabled,
    );
    let gstin = (!note.customer_gstin.is_empty()).then_some(note.customer_gstin.as_str());
    let due_days = i64::from(config.invoice.due_days);
    let invoice_inr = amount(&note.invoice_total) * note.fx_rate.unwrap_or(Decimal::ONE);
    let reference_type = match (gstin.is_some(), export, treatment) {
        (true, _, _) => "Registered",
        (false, true, GstTreatment::ExportWithIgst) => "Export With Payment",
        (false, true, _) => "Export Without Payment",
        (false, false, GstTreatment::InterState)
            if invoice_inr > gstr1::b2cl_limit(note.invoice_date) =>
        {
            "B2C Large"
        }
        (false, false, _) => "B2C Others",
    };
    Value::from_serializable(&InvoiceView {
        kind: match note.kind {
            NoteKind::Credit => "credit_note",
            NoteKind::Debit => "debit_note",
        },
        original: Some(OriginalView {
            number: &note.invoice_number,
            date: note.invoice_date.to_string(),
            total: note.invoice_total.clone(),
            reference_type,
        }),
        reason: Some(&note.reason),
        number: &note.number,
        date: note.note_date.to_string(),
        due_date: (note.note_date + chrono::Duration::days(due_days)).to_string(),
        due_days,
        currency: &note.currency,
        fx_rate: note.fx_rate.map(|r| r.to_string()).unwrap_or_default(),
        lines: note.lines.len(),
        subtotal: note.subtotal.clone(),
        cgst: note.cgst.clone(),
        sgst: note.sgst.clone(),
        igst: note.igst.clone(),
        tax: format_2dp(cgst + sgst + igst),
        round_off: note.round_off.clone(),
        total: note.total.clone(),
        place_of_supply: pos,
        place_of_supply_name: gst::state_name(pos),
        place_of_supply_letters: gst::two_letter_code(pos),
        export,
        tax_treatment: treatment.key(),
        tax_rate: tax_rate(treatment, config),
        customer: CustomerView {
            id: &note.customer_id,
            name: &note.customer_name,
            company: None,
            gst_treatment: config.export.zoho.treatment_of(
                &note.customer_id,
                gstin.is_some(),
                None,
                export,
            ),
            email: None,
            gstin,
            address: &note.customer_address,
            street: None,
            city: None,
            state: None,
            postal_code: None,
            country: None,
        },
    })
}

/// The rows of a note, in the fields of `line` (see [`line`]): its lines, each with
/// its share of the note's tax, then its round-off as a `round_off` row when it
/// has one; and how many of them are lines.
pub fn note_lines(note: &NoteRecord) -> (Vec<Value>, usize) {
    let currency = Currency::parse(&note.currency).unwrap_or(Currency::INR);
    let money = |s: &str| {
        Money::round(
            s.parse::<Decimal>().unwrap_or_default(),
            currency,
            Rounding::HalfUp,
        )
    };
    let amounts: Vec<Money> = note.lines.iter().map(|nl| money(&nl.line.amount)).collect();
    let [cgst, sgst, igst] =
        [&note.cgst, &note.sgst, &note.igst].map(|t| money::allocate(money(t), &amounts));
    let mut rows: Vec<Value> = note
        .lines
        .iter()
        .enumerate()
        .map(|(i, nl)| {
            let l = &nl.line;
            let taxes = [cgst[i], sgst[i], igst[i]];
            Value::from_serializable(&LineView {
                index: i + 1,
                number_id: &l.number_id,
                e164: &l.e164,
                charge: &l.charge,
                description: nl
                    .invoice_line_no
                    .is_none()
                    .then_some(nl.description.as_str()),
                service_from: Some(l.service_from.clone()),
                service_to: Some(l.service_to.clone()),
                billable_days: l.billable_days,
                period_days: l.period_days,
                unit_amount: (!l.unit_amount.is_empty()).then(|| l.unit_amount.clone()),
                amount: l.amount.clone(),
                cgst: taxes[0].to_string(),
                sgst: taxes[1].to_string(),
                igst: taxes[2].to_string(),
                tax: Money::sum(currency, &taxes).to_string(),
                direction: l.call_direction.as_deref(),
                calls: l.calls,
                billable_seconds: l.billable_seconds,
                billable_minutes: l
                    .billable_seconds
                    .map(|s| format_2dp(Decimal::from(s) / Decimal::from(60))),
            })
        })
        .collect();
    let items = rows.len();
    let round_off = money(&note.round_off);
    if !round_off.amount().is_zero() {
        rows.push(round_off_line(items + 1, round_off));
    }
    (rows, items)
}

/// `line`: one line item; `index` counts from 1 within its invoice, and `taxes` is
/// its share of the invoice's tax ([`didbill_core::billing::Invoice::line_taxes`]).
pub fn line(index: usize, l: &Line, taxes: &Taxes) -> Value {
    Value::from_serializable(&LineView {
        index,
        number_id: &l.number_id,
        e164: &l.e164,
        charge: l.charge.as_str(),
        description: None,
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
        description: None,
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
