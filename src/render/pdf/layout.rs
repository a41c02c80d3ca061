//! Page layout: where each part of the invoice goes, and how the line table and
//! the parts after it flow onto further pages.

use super::draw::Canvas;
use super::page::{BLACK, CONTENT_BOTTOM, MARGIN_X, PAGE_W, RIGHT_EDGE, RULE_GREY};
use super::template::{display_date, display_period, money, plain_amount, Words};
use super::text::Style;
use super::{PdfInvoice, PdfLine, PdfParty, PdfRenderer};
use crate::render::words::amount_in_words;

// ---------------------------------------------------------------- geometry (pt)
const MARGIN_TOP: f32 = 40.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const SELLER_W: f32 = 290.0;
const META_X: f32 = MARGIN_X + 305.0;
const BILL_TO_W: f32 = 330.0;
const TOTALS_W: f32 = 250.0;
const CELL_PAD_X: f32 = 4.0;
const CELL_PAD_Y: f32 = 4.0;
/// Table columns: (width, right-aligned); the description column takes the rest.
const COL_INDEX: (f32, bool) = (30.0, true);
const COL_NUMBER: (f32, bool) = (98.0, false);
const COL_PERIOD: (f32, bool) = (76.0, false);
const COL_DAYS: (f32, bool) = (32.0, true);
const COL_AMOUNT: (f32, bool) = (78.0, true);

const BAND_GREY: f32 = 0.92;
/// The labels of the invoice facts.
const META_LABEL: Style = Style::new(8.5).grey();
/// Body text: addresses, totals rows, the amount in words.
const BODY: Style = Style::new(9.0);
/// Table cells.
const CELL: Style = Style::new(8.5);
/// The total row.
const TOTAL: Style = Style::new(11.0).bold();
/// The label above the amount in words.
const IN_WORDS_LABEL: Style = Style::new(8.0).bold().grey();
/// The notes under the amount in words.
const NOTE: Style = Style::new(8.0).grey();
/// Headings of the payment details and the signatory's role.
const HEADING: Style = Style::new(8.5).bold().grey();
/// Space between the notes and the payment details and signature.
const CLOSING_GAP: f32 = 14.0;
/// Width of the payment details, left of the signature block.
const PAYMENT_W: f32 = 250.0;
/// Height left blank for the signature.
const SIGNATURE_SPACE: f32 = 30.0;
/// Length of the line signed on.
const SIGNATURE_LINE_W: f32 = 150.0;
/// Width of the labels of the totals rows.
const TOTALS_LABEL_W: f32 = TOTALS_W * 0.55;
const TOTALS_X: f32 = RIGHT_EDGE - TOTALS_W;

/// Draws a whole invoice onto `page`, starting new pages as the content needs.
pub(super) fn layout(page: &mut Canvas, inv: &PdfInvoice, words: &Words, descriptions: &[String]) {
    let left = seller_block(page, &inv.seller, words);
    let right = title_and_facts(page, inv, words);
    let mut y = left.max(right) + 8.0;
    page.hrule(MARGIN_X, RIGHT_EDGE, y, RULE_GREY, 0.8);
    y += 10.0;
    y = bill_to(page, &inv.customer, words, y) + 12.0;
    y = line_table(page, inv, words, descriptions, y) + 10.0;
    totals(page, inv, words, y);
}

/// The seller's name, address, GSTIN and email, top left; returns its bottom.
fn seller_block(page: &mut Canvas, seller: &PdfParty, words: &Words) -> f32 {
    let mut left = MARGIN_TOP;
    left += page.paragraph(
        MARGIN_X,
        left,
        SELLER_W,
        &seller.name,
        Style::new(13.0).bold(),
        false,
    );
    left += 2.0;
    for line in &seller.address_lines {
        left += page.paragraph(MARGIN_X, left, SELLER_W, line, BODY, false);
    }
    if let Some(gstin) = &seller.gstin {
        let text = format!("{}: {gstin}", words.get("gstin"));
        left += page.paragraph(MARGIN_X, left, SELLER_W, &text, BODY, false);
    }
    if let Some(email) = &seller.email {
        let text = format!("{}: {email}", words.get("email"));
        left += page.paragraph(MARGIN_X, left, SELLER_W, &text, BODY, false);
    }
    left
}

/// The title and the invoice facts (number, dates, place of supply...), top
/// right; returns their bottom.
fn title_and_facts(page: &mut Canvas, inv: &PdfInvoice, words: &Words) -> f32 {
    let mut right = MARGIN_TOP;
    right += page.paragraph(
        META_X,
        right,
        RIGHT_EDGE - META_X,
        words.get("title"),
        Style::new(18.0).bold(),
        true,
    );
    right += 6.0;
    let rows = [
        ("invoice_number", inv.number.clone()),
        ("invoice_date", display_date(inv.invoice_date)),
        match &inv.note {
            // A note names the invoice it corrects where an invoice has its due date.
            Some(note) => (
                "due_date",
                format!(
                    "{} ({})",
                    note.original_number,
                    display_date(note.original_date)
                ),
            ),
            None => ("due_date", display_date(inv.due_date)),
        },
        ("period", display_period(&inv.period)),
        (
            "place_of_supply_label",
            words.get("place_of_supply").to_string(),
        ),
        ("sac", inv.sac.clone()),
        (
            "reverse_charge_label",
            words.get("reverse_charge").to_string(),
        ),
    ];
    let label_w = rows
        .iter()
        .map(|(l, _)| page.renderer.width(words.get(l), META_LABEL))
        .fold(0.0, f32::max)
        .min(100.0);
    for (label, value) in &rows {
        right += meta_row(page, right, words.get(label), value, label_w);
    }
    right
}

/// The bill-to block from `y`; it may be long (customer data), so it breaks
/// across pages like the table. Returns the y below it.
fn bill_to(page: &mut Canvas, customer: &PdfParty, words: &Words, mut y: f32) -> f32 {
    let mut bill_to: Vec<(String, Style)> = vec![(
        words.get("bill_to").to_string(),
        Style::new(8.5).bold().grey(),
    )];
    bill_to.push((customer.name.clone(), Style::new(11.0).bold()));
    bill_to.extend(customer.address_lines.iter().map(|l| (l.clone(), BODY)));
    let gstin = customer
        .gstin
        .as_deref()
        .unwrap_or(words.get("unregistered"));
    bill_to.push((format!("{}: {gstin}", words.get("gstin")), BODY));
    if let Some(email) = &customer.email {
        bill_to.push((format!("{}: {email}", words.get("email")), BODY));
    }
    for (text, style) in &bill_to {
        for line in page.renderer.wrap(text, *style, BILL_TO_W) {
            if y + style.line_height() > CONTENT_BOTTOM {
                y = continuation(page, words);
            }
            page.text(MARGIN_X, y, &line, *style);
            y += style.line_height();
        }
    }
    y
}

/// The line table from `y`, one row per line; a row that does not fit starts a
/// new page, and the header is repeated at the top of each page. Returns the y
/// below the table.
fn line_table(
    page: &mut Canvas,
    inv: &PdfInvoice,
    words: &Words,
    descriptions: &[String],
    mut y: f32,
) -> f32 {
    let header = header_cells(page.renderer, words);
    let header_h = cells_height(&header);
    let mut header_due = true;
    for (i, (line, description)) in inv.lines.iter().zip(descriptions).enumerate() {
        let cells = line_cells(page.renderer, i + 1, line, description, &inv.currency);
        let row_h = cells_height(&cells);
        let needed = row_h + if header_due { header_h } else { 0.0 };
        if y + needed > CONTENT_BOTTOM {
            y = continuation(page, words);
            header_due = true;
        }
        if header_due {
            y += table_header(page, y, &header);
            header_due = false;
        }
        draw_row(page, y, &cells);
        y += row_h;
        page.hrule(MARGIN_X, RIGHT_EDGE, y, RULE_GREY, 0.4);
    }
    if inv.lines.is_empty() {
        y += table_header(page, y, &header);
    }
    y
}

/// The cells of the row of line number `index`: the number (grouped for reading,
/// with its E.164 form below), description, service period, days and amount.
fn line_cells(
    r: &PdfRenderer,
    index: usize,
    line: &PdfLine,
    description: &str,
    currency: &str,
) -> [Cell; 6] {
    let cols = columns();
    let small = Style::new(7.5).grey();
    let number_parts = match &line.e164 {
        Some(e164) => {
            let grouped = group_phone(e164);
            if grouped == *e164 {
                vec![(e164.clone(), CELL)]
            } else {
                vec![(grouped, CELL), (e164.clone(), small)]
            }
        }
        None => vec![("—".to_string(), CELL)],
    };
    let period = if line.service_from == line.service_to {
        display_date(line.service_from)
    } else {
        format!(
            "{} – {}",
            display_date(line.service_from),
            display_date(line.service_to)
        )
    };
    let days = line
        .billable_days
        .map(|d| d.to_string())
        .unwrap_or_default();
    [
        wrap_cell(r, &[(index.to_string(), CELL)], cols[0].1),
        wrap_cell(r, &number_parts, cols[1].1),
        wrap_cell(r, &[(description.to_string(), CELL)], cols[2].1),
        wrap_cell(r, &[(period, CELL)], cols[3].1),
        wrap_cell(r, &[(days, CELL)], cols[4].1),
        wrap_cell(r, &[(plain_amount(line.amount, currency), CELL)], cols[5].1),
    ]
}

/// Totals, the amount in words, the notes, the payment details and the signature
/// from `y`, kept together: if they do not fit below the table they all go to a new
/// page.
fn totals(page: &mut Canvas, inv: &PdfInvoice, words: &Words, mut y: f32) {
    let rows = totals_rows(inv, words);
    let in_words = amount_in_words(inv.total, &inv.currency);
    // Measured by drawing it where nothing is kept.
    let closing_h = closing(&mut Canvas::new(page.renderer), inv, words, 0.0);
    if y + totals_height(page.renderer, words, &rows, &in_words) + closing_h > CONTENT_BOTTOM {
        y = continuation(page, words);
    }
    for (label, value, style) in &rows {
        let h = totals_row_height(page.renderer, label, *style);
        page.paragraph(TOTALS_X, y, TOTALS_LABEL_W, label, *style, false);
        page.text_right(RIGHT_EDGE - CELL_PAD_X, y, value, *style);
        y += h;
    }
    y += 2.0;
    page.hrule(TOTALS_X, RIGHT_EDGE, y, BLACK, 0.8);
    y += 4.0;
    let h = totals_row_height(page.renderer, words.get("total"), TOTAL);
    page.paragraph(
        TOTALS_X,
        y,
        TOTALS_LABEL_W,
        words.get("total"),
        TOTAL,
        false,
    );
    page.text_right(
        RIGHT_EDGE - CELL_PAD_X,
        y,
        &money(inv.total, &inv.currency),
        TOTAL,
    );
    y += h + 12.0;
    y += page.paragraph(
        MARGIN_X,
        y,
        CONTENT_W,
        words.get("in_words"),
        IN_WORDS_LABEL,
        false,
    );
    y += page.paragraph(MARGIN_X, y, CONTENT_W, &in_words, BODY, false);
    for note in &words.notes {
        y += 6.0;
        y += page.paragraph(MARGIN_X, y, CONTENT_W, note, NOTE, false);
    }
    closing(page, inv, words, y);
}

/// The payment details (left, when any is set) and the signature block (right)
/// from `y`; returns the height used. A draft has neither: it asks for no payment
/// and nobody signs it.
fn closing(page: &mut Canvas, inv: &PdfInvoice, words: &Words, y: f32) -> f32 {
    if inv.draft {
        return 0.0;
    }
    let top = y + CLOSING_GAP;
    let p = &inv.payment;
    let mut left = top;
    if !p.is_empty() {
        left += page.paragraph(
            MARGIN_X,
            left,
            PAYMENT_W,
            words.get("payment_details"),
            HEADING,
            false,
        );
        let details = [
            ("bank_name", &p.bank_name),
            ("bank_account", &p.bank_account),
            ("ifsc", &p.ifsc),
            ("upi_id", &p.upi_id),
        ];
        for (label, value) in details {
            if let Some(value) = value {
                let text = format!("{}: {value}", words.get(label));
                left += page.paragraph(MARGIN_X, left, PAYMENT_W, &text, BODY, false);
            }
        }
    }
    let s = &inv.signatory;
    let mut right = top;
    right += page.paragraph(
        TOTALS_X,
        right,
        TOTALS_W,
        words.get("for_seller"),
        BODY.bold(),
        true,
    );
    // Room for the signature, above a line to sign on.
    right += SIGNATURE_SPACE;
    page.hrule(
        RIGHT_EDGE - SIGNATURE_LINE_W,
        RIGHT_EDGE,
        right,
        RULE_GREY,
        0.5,
    );
    right += 3.0;
    for line in [&s.name, &s.title].into_iter().flatten() {
        right += page.paragraph(TOTALS_X, right, TOTALS_W, line, BODY, true);
    }
    right += page.paragraph(
        TOTALS_X,
        right,
        TOTALS_W,
        words.get("signatory"),
        HEADING,
        true,
    );
    left.max(right) - y
}

/// The rows above the total: subtotal, the taxes that apply, and the round-off
/// when it is not zero; each is (label, amount, style).
fn totals_rows(inv: &PdfInvoice, words: &Words) -> Vec<(String, String, Style)> {
    let cur = &inv.currency;
    let mut rows = vec![(
        words.get("subtotal").to_string(),
        money(inv.subtotal, cur),
        BODY,
    )];
    if inv.export && !inv.export_igst {
        rows.push((
            words.get("zero_rated").to_string(),
            money(inv.igst, cur),
            BODY,
        ));
    } else if inv.tax_enabled {
        if inv.intra_state {
            rows.push((words.get("cgst").to_string(), money(inv.cgst, cur), BODY));
            rows.push((words.get("sgst").to_string(), money(inv.sgst, cur), BODY));
        } else {
            rows.push((words.get("igst").to_string(), money(inv.igst, cur), BODY));
        }
    }
    if !inv.round_off.is_zero() {
        rows.push((
            words.get("round_off").to_string(),
            money(inv.round_off, cur),
            BODY,
        ));
    }
    rows
}

/// The height [`totals`] will draw, measured before drawing so the block can be
/// moved to a new page whole.
fn totals_height(
    r: &PdfRenderer,
    words: &Words,
    rows: &[(String, String, Style)],
    in_words: &str,
) -> f32 {
    let mut height: f32 = rows
        .iter()
        .map(|(l, _, s)| totals_row_height(r, l, *s))
        .sum::<f32>()
        + 6.0
        + totals_row_height(r, words.get("total"), TOTAL)
        + 12.0
        + r.wrap(words.get("in_words"), IN_WORDS_LABEL, CONTENT_W)
            .len() as f32
            * IN_WORDS_LABEL.line_height()
        + r.wrap(in_words, BODY, CONTENT_W).len() as f32 * BODY.line_height();
    for note in &words.notes {
        height += 6.0 + r.wrap(note, NOTE, CONTENT_W).len() as f32 * NOTE.line_height();
    }
    height
}

/// The height of one totals row: its label may wrap, its amount does not.
fn totals_row_height(r: &PdfRenderer, label: &str, style: Style) -> f32 {
    r.wrap(label, style, TOTALS_LABEL_W).len() as f32 * style.line_height() + 2.0
}

/// Column positions of the line table: (x, width, right-aligned).
fn columns() -> [(f32, f32, bool); 6] {
    let fixed = COL_INDEX.0 + COL_NUMBER.0 + COL_PERIOD.0 + COL_DAYS.0 + COL_AMOUNT.0;
    let widths = [
        COL_INDEX,
        COL_NUMBER,
        (CONTENT_W - fixed, false),
        COL_PERIOD,
        COL_DAYS,
        COL_AMOUNT,
    ];
    let mut x = MARGIN_X;
    widths.map(|(w, right)| {
        let col = (x, w, right);
        x += w;
        col
    })
}

/// The cells of one table row: lines of text per column, with their style.
type Cell = Vec<(String, Style)>;

/// The height of a cell's lines, without padding.
fn cell_height(cell: &Cell) -> f32 {
    cell.iter().map(|(_, s)| s.line_height()).sum()
}

/// The height of a table row: its tallest cell plus padding.
fn cells_height(cells: &[Cell; 6]) -> f32 {
    cells.iter().map(cell_height).fold(0.0, f32::max) + 2.0 * CELL_PAD_Y
}

/// Wraps each (text, style) of a cell to the column width.
fn wrap_cell(r: &PdfRenderer, parts: &[(String, Style)], width: f32) -> Cell {
    parts
        .iter()
        .flat_map(|(text, style)| {
            r.wrap(text, *style, width - 2.0 * CELL_PAD_X)
                .into_iter()
                .map(move |l| (l, *style))
        })
        .collect()
}

/// Draws one table row whose top is at `top`.
fn draw_row(page: &mut Canvas, top: f32, cells: &[Cell; 6]) {
    for ((x, w, right), cell) in columns().into_iter().zip(cells) {
        let mut y = top + CELL_PAD_Y;
        for (line, style) in cell {
            if right {
                page.text_right(x + w - CELL_PAD_X, y, line, *style);
            } else {
                page.text(x + CELL_PAD_X, y, line, *style);
            }
            y += style.line_height();
        }
    }
}

/// The cells of the table header, from the `col_*` labels.
fn header_cells(r: &PdfRenderer, words: &Words) -> [Cell; 6] {
    let style = Style::new(8.0).bold();
    let names = [
        "col_index",
        "col_number",
        "col_description",
        "col_period",
        "col_days",
        "col_amount",
    ];
    let cols = columns();
    std::array::from_fn(|i| wrap_cell(r, &[(words.get(names[i]).to_string(), style)], cols[i].1))
}

/// Draws the table header on its band; returns its height.
fn table_header(page: &mut Canvas, top: f32, cells: &[Cell; 6]) -> f32 {
    let height = cells_height(cells);
    page.band(MARGIN_X, top, CONTENT_W, height, BAND_GREY);
    draw_row(page, top, cells);
    height
}

/// Starts a continuation page; returns the first free y.
fn continuation(page: &mut Canvas, words: &Words) -> f32 {
    page.new_page();
    let style = Style::new(8.5).grey();
    MARGIN_TOP
        + page.paragraph(
            MARGIN_X,
            MARGIN_TOP,
            CONTENT_W,
            words.get("continued"),
            style,
            false,
        )
        + 6.0
}

/// A label and a value on one row, the value right-aligned and wrapped.
fn meta_row(page: &mut Canvas, top: f32, label: &str, value: &str, label_w: f32) -> f32 {
    let vstyle = Style::new(8.5).bold();
    let value_x = META_X + label_w + 6.0;
    let h1 = page.paragraph(META_X, top, label_w, label, META_LABEL, false);
    let h2 = page.paragraph(value_x, top, RIGHT_EDGE - value_x, value, vstyle, true);
    h1.max(h2) + 1.5
}

/// A phone number grouped for reading: `+91 80456 78901`, `+91 1800 123 4567`,
/// `+1 415 555 0123`; other numbers are printed as given.
fn group_phone(e164: &str) -> String {
    let Some(digits) = e164
        .strip_prefix('+')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    else {
        return e164.to_string();
    };
    if let Some(n) = digits.strip_prefix("91").filter(|n| n.len() == 10) {
        if n.starts_with("1800") || n.starts_with("1860") {
            return format!("+91 {} {} {}", &n[..4], &n[4..7], &n[7..]);
        }
        return format!("+91 {} {}", &n[..5], &n[5..]);
    }
    if let Some(n) = digits.strip_prefix('1').filter(|n| n.len() == 10) {
        return format!("+1 {} {} {}", &n[..3], &n[3..6], &n[6..]);
    }
    e164.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_grouped_for_reading() {
        assert_eq!(group_phone("+918045678901"), "+91 80456 78901");
        assert_eq!(group_phone("+919876543210"), "+91 98765 43210");
        assert_eq!(group_phone("+9118001234567"), "+9118001234567");
        assert_eq!(group_phone("+911800123456"), "+91 1800 123 456");
        assert_eq!(group_phone("+14155550123"), "+1 415 555 0123");
        assert_eq!(group_phone("+442079460958"), "+442079460958");
        assert_eq!(group_phone("not a number"), "not a number");
        assert_eq!(group_phone("+"), "+");
    }
}
