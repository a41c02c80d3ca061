//! PDF tax invoices, read back as text with pdf-extract.

use std::str::FromStr;

use chrono::NaiveDate;
use didbill::render::pdf::{
    PdfError, PdfInvoice, PdfLine, PdfParty, PdfPayment, PdfRenderer, PdfSignatory,
};
use didbill::render::words::format_indian;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn seller() -> PdfParty {
    PdfParty {
        name: "Demo Telecom Pvt Ltd".into(),
        address_lines: vec!["1 MG Road".into(), "Bengaluru 560001".into()],
        gstin: Some("29ABCDE1234F1ZW".into()),
        email: Some("billing@example.com".into()),
    }
}

fn rental(e164: &str, days: u32, fee: &str, amount: &str) -> PdfLine {
    PdfLine {
        e164: Some(e164.into()),
        charge: "rental".into(),
        service_from: date(2026, 11, 31 - days),
        service_to: date(2026, 11, 30),
        billable_days: Some(days),
        period_days: Some(30),
        unit_amount: Some(d(fee)),
        amount: d(amount),
        usage: None,
    }
}

/// A Karnataka business with six numbers, one of them new this month.
fn karnataka_invoice() -> PdfInvoice {
    let mut lines = vec![PdfLine {
        e164: Some("+918045678901".into()),
        charge: "setup".into(),
        service_from: date(2026, 11, 15),
        service_to: date(2026, 11, 15),
        billable_days: None,
        period_days: None,
        unit_amount: Some(d("100")),
        amount: d("100.00"),
        usage: None,
    }];
    lines.push(rental("+918045678901", 16, "300", "160.00"));
    lines.push(rental("+918045678902", 30, "300", "300.00"));
    lines.push(rental("+918045678903", 30, "300", "300.00"));
    lines.push(rental("+919876543210", 30, "499", "499.00"));
    lines.push(rental("+918068123456", 30, "1250", "1250.00"));
    lines.push(rental("+911800123456", 10, "2500", "833.33"));
    let subtotal: Decimal = lines.iter().map(|l| l.amount).sum();
    let half = (subtotal * d("0.09")).round_dp(2);
    PdfInvoice {
        draft: false,
        number: "DID/26-27/00042".into(),
        invoice_date: date(2026, 12, 1),
        due_date: date(2026, 12, 16),
        period: "2026-11".into(),
        currency: "INR".into(),
        seller: seller(),
        customer: PdfParty {
            name: "Sahyadri Logistics Private Limited".into(),
            address_lines: vec![
                "No. 14, 3rd Cross, Peenya Industrial Area Phase II".into(),
                "Bengaluru, Karnataka 560058".into(),
            ],
            gstin: Some("29AAGCS1234K1ZQ".into()),
            email: Some("accounts@sahyadri.example".into()),
        },
        place_of_supply_code: "29".into(),
        place_of_supply_name: "Karnataka".into(),
        sac: "9984".into(),
        tax_rate: d("18"),
        tax_enabled: true,
        export: false,
        export_igst: false,
        intra_state: true,
        lines,
        subtotal,
        cgst: half,
        sgst: half,
        igst: Decimal::ZERO,
        round_off: Decimal::ZERO,
        total: subtotal + half + half,
        payment: PdfPayment::default(),
        signatory: PdfSignatory::default(),
        rupees: None,
        note: None,
    }
}

fn text_of(pdf: &[u8]) -> String {
    pdf_extract::extract_text_from_mem(pdf).expect("pdf-extract reads the PDF")
}

fn renderer() -> PdfRenderer {
    PdfRenderer::new(None).expect("built-in template compiles")
}

#[test]
fn invoice_text_has_parties_lines_taxes_and_total() {
    let inv = karnataka_invoice();
    let pdf = renderer().render(&inv).unwrap();
    let text = text_of(&pdf);
    for needle in [
        "Tax Invoice",
        "DID/26-27/00042",
        "29ABCDE1234F1ZW",
        "29AAGCS1234K1ZQ",
        "Sahyadri Logistics Private Limited",
        "Karnataka (29)",
        "9984",
        "+918045678901",
        "+91 80456 78901",
        "+91 1800 123 456",
        "One-time setup fee",
        "Monthly rental (₹300.00/month), 16 of 30",
        "CGST @ 9%",
        "SGST @ 9%",
        "Page 1 of 1",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(
        !text.contains("IGST"),
        "intra-state invoice shows IGST:\n{text}"
    );
    for line in &inv.lines {
        let amount = format_indian(line.amount);
        assert!(
            text.contains(&amount),
            "missing line amount {amount}:\n{text}"
        );
    }
    // 3,442.33 + 2 × 309.81 = 4,061.95
    assert_eq!(inv.subtotal, d("3442.33"));
    assert!(text.contains("₹3,442.33"), "{text}");
    assert_eq!(inv.cgst, d("309.81"));
    assert!(text.contains("₹309.81"), "{text}");
    assert!(text.contains("₹4,061.95"), "{text}");
    assert!(
        text.contains("Rupees Four Thousand Sixty-One and Ninety-Five Paise Only"),
        "{text}"
    );
}

#[test]
fn inter_state_invoice_shows_igst_and_unregistered_customer() {
    let mut inv = karnataka_invoice();
    inv.customer.gstin = None;
    inv.place_of_supply_code = "27".into();
    inv.place_of_supply_name = "Maharashtra".into();
    inv.intra_state = false;
    inv.igst = inv.cgst + inv.sgst;
    inv.cgst = Decimal::ZERO;
    inv.sgst = Decimal::ZERO;
    inv.round_off = d("0.05");
    inv.total = inv.subtotal + inv.igst + inv.round_off;
    let text = text_of(&renderer().render(&inv).unwrap());
    for needle in [
        "IGST @ 18%",
        "₹619.62",
        "Maharashtra (27)",
        "GSTIN: Unregistered",
        "Round-off",
        "₹0.05",
        "₹4,062.00",
        "Rupees Four Thousand Sixty-Two Only",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("CGST"), "{text}");
}

#[test]
fn export_invoice_is_zero_rated_in_foreign_currency() {
    let mut inv = karnataka_invoice();
    inv.currency = "USD".into();
    inv.export = true;
    inv.customer.gstin = None;
    inv.customer.address_lines = vec!["500 Market Street".into(), "San Francisco CA 94105".into()];
    inv.place_of_supply_code = "96".into();
    inv.place_of_supply_name = "Other Country".into();
    inv.lines = vec![rental("+14155550123", 30, "1234", "1234.00")];
    inv.subtotal = d("1234");
    inv.cgst = Decimal::ZERO;
    inv.sgst = Decimal::ZERO;
    inv.total = d("1234");
    let text = text_of(&renderer().render(&inv).unwrap());
    for needle in [
        "Other Country (96)",
        "+1 415 555 0123",
        "IGST @ 0% (zero-rated)",
        "under LUT",
        "USD 1,234.00",
        "US Dollars One Thousand Two Hundred Thirty-Four Only",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains('₹'), "{text}");
}

#[test]
fn long_invoice_flows_onto_pages_with_repeated_header() {
    let mut inv = karnataka_invoice();
    inv.lines = (0..300)
        .map(|i| rental(&format!("+9180{:08}", 40_000_000 + i), 30, "300", "300.00"))
        .collect();
    inv.subtotal = d("90000");
    inv.cgst = d("8100");
    inv.sgst = d("8100");
    inv.total = d("106200");
    let pdf = renderer().render(&inv).unwrap();
    let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).unwrap();
    let n = pages.len();
    assert!(n >= 5, "300 lines on only {n} pages");
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains("Phone Number"),
            "page {} lacks the table header",
            i + 1
        );
        assert!(
            page.contains("Service Period"),
            "page {} lacks the table header",
            i + 1
        );
        assert!(
            page.contains(&format!("Page {} of {n}", i + 1)),
            "page {} footer:\n{page}",
            i + 1
        );
        if i > 0 {
            assert!(page.contains("(continued)"), "page {}", i + 1);
        }
    }
    let all = pages.concat();
    assert!(all.contains("+918040000299"), "last line missing");
    assert!(all.contains("₹1,06,200.00"));
    assert!(all.contains("Rupees One Lakh Six Thousand Two Hundred Only"));
    assert!(pdf.len() < 150_000, "300-line PDF is {} bytes", pdf.len());
}

#[test]
fn output_is_byte_identical_across_renders_renderers_and_threads() {
    use rayon::prelude::*;
    let inv = karnataka_invoice();
    let a = renderer();
    let first = a.render(&inv).unwrap();
    assert_eq!(first, a.render(&inv).unwrap());
    assert_eq!(first, renderer().render(&inv).unwrap());
    let parallel: Vec<Vec<u8>> = (0..8)
        .into_par_iter()
        .map(|_| a.render(&inv).unwrap())
        .collect();
    assert!(parallel.iter().all(|p| *p == first));
    let mut other = inv.clone();
    other.number = "DID/26-27/00043".into();
    assert_ne!(first, a.render(&other).unwrap());
}

#[test]
fn one_page_invoice_is_small() {
    let pdf = renderer().render(&karnataka_invoice()).unwrap();
    assert!(pdf.len() < 50_000, "one-page PDF is {} bytes", pdf.len());
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn devanagari_names_and_addresses_render() {
    let mut inv = karnataka_invoice();
    inv.customer.name = "शर्मा ट्रेडर्स प्राइवेट लिमिटेड (Sharma Traders)".into();
    inv.customer.address_lines = vec![
        "मकान नं. 12, गांधी मार्ग, क्षेत्र 4".into(),
        "नई दिल्ली 110001".into(),
    ];
    inv.place_of_supply_code = "07".into();
    inv.place_of_supply_name = "दिल्ली".into();
    let pdf = renderer().render(&inv).unwrap();
    assert!(pdf.len() < 80_000, "{} bytes", pdf.len());
    let text = text_of(&pdf);
    assert!(text.contains("Sharma Traders"), "{text}");
    assert!(text.contains("110001"), "{text}");
    for c in ['श', 'म', 'ट', 'ड', 'ग', 'न'] {
        assert!(text.contains(c), "Devanagari {c} not extractable:\n{text}");
    }
    assert!(text.contains("DID/26-27/00042"));
}

/// The fonts a PDF embeds (`/BaseFont` names, each once, sorted).
fn base_fonts(pdf: &[u8]) -> Vec<String> {
    let key = b"/BaseFont/";
    let mut names: Vec<String> = pdf
        .windows(key.len())
        .enumerate()
        .filter(|(_, w)| *w == key)
        .map(|(i, _)| {
            let rest = &pdf[i + key.len()..];
            let end = rest
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'+' || *b == b'-'))
                .unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end]).into_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The names of `/BaseFont` entries without their subset tags, each once, sorted.
fn untagged(names: &[String]) -> Vec<&str> {
    let mut untagged: Vec<&str> = names
        .iter()
        .map(|n| n.split_once('+').map_or(n.as_str(), |(_, name)| name))
        .collect();
    untagged.sort();
    untagged.dedup();
    untagged
}

#[test]
fn core_characters_use_the_prebuilt_fonts_and_others_the_full_face() {
    // ASCII, ₹ and the footer's middle dot: only the two core cuts of DejaVu Sans
    // (embedded whole, the same two in every PDF).
    let plain = renderer().render(&karnataka_invoice()).unwrap();
    let core = base_fonts(&plain);
    assert_eq!(untagged(&core), ["DejaVuSans", "DejaVuSans-Bold"]);
    assert_eq!(core.len(), 2, "{core:?}");

    // Accented and Greek letters are set in the full face, subset into this PDF:
    // two more fonts of the same names beside the core cuts.
    let mut inv = karnataka_invoice();
    inv.customer.name = "Société Zürich Ωmega".into();
    inv.customer.address_lines[0] = "Straße 5, Αθήνα".into();
    let pdf = renderer().render(&inv).unwrap();
    let fonts = base_fonts(&pdf);
    assert_eq!(fonts.len(), 4, "{fonts:?}");
    assert!(core.iter().all(|c| fonts.contains(c)), "{fonts:?}");
    assert_eq!(untagged(&fonts), ["DejaVuSans", "DejaVuSans-Bold"]);
    let text = text_of(&pdf);
    assert!(text.contains("Société Zürich Ωmega"), "{text}");
    assert!(text.contains("Straße 5, Αθήνα"), "{text}");
    assert!(text.contains("Total"), "{text}");
}

#[test]
fn long_texts_wrap_instead_of_running_off() {
    let mut inv = karnataka_invoice();
    inv.customer.name = "The Extraordinarily Long-Named Cooperative Telecommunication \
                         Services and Logistics Society of Greater Bengaluru Limited"
        .into();
    inv.customer.address_lines = vec!["Building ".repeat(40)];
    inv.lines[1].charge = "rental-with-a-surprisingly-long-charge-type-name".into();
    let text = text_of(&renderer().render(&inv).unwrap());
    assert!(text.contains("Greater Bengaluru Limited"), "{text}");
}

const BUILTIN_LABELS: &str = include_str!("../../templates/pdf/labels.txt");

#[test]
fn user_templates_override_the_wording() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pdf")).unwrap();
    let labels = BUILTIN_LABELS.replace("title = Tax Invoice", "title = Rechnung");
    std::fs::write(dir.path().join("pdf/labels.txt"), labels).unwrap();
    std::fs::write(
        dir.path().join("pdf/footer.txt"),
        "Seite {{ page }} von {{ pages }}",
    )
    .unwrap();
    let r = PdfRenderer::new(Some(dir.path())).unwrap();
    let text = text_of(&r.render(&karnataka_invoice()).unwrap());
    assert!(text.contains("Rechnung"), "{text}");
    assert!(text.contains("Seite 1 von 1"), "{text}");
    // line.txt was not overridden: the built-in descriptions stay.
    assert!(text.contains("One-time setup fee"), "{text}");

    // A folder without pdf/ keeps the built-in wording.
    let empty = tempfile::tempdir().unwrap();
    let r = PdfRenderer::new(Some(empty.path())).unwrap();
    assert!(text_of(&r.render(&karnataka_invoice()).unwrap()).contains("Tax Invoice"));
}

#[test]
fn broken_user_template_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pdf")).unwrap();
    let typo = BUILTIN_LABELS.replace("{{ half_rate }}", "{{ hlaf_rate }}");
    let missing_key = BUILTIN_LABELS.replace("sac = SAC\n", "");
    let unknown_key = BUILTIN_LABELS.replace("sac = SAC", "sac = SAC\ntitel = Tax Invoice");
    let cases = [
        ("labels.txt", "title = {{ number"),
        ("labels.txt", typo.as_str()),
        ("labels.txt", missing_key.as_str()),
        ("labels.txt", unknown_key.as_str()),
        ("line.txt", "{% if line.charge %}setup"),
        ("footer.txt", "Page {{ page }} of {{ total_pages }}"),
    ];
    for (name, content) in cases {
        let path = dir.path().join("pdf").join(name);
        std::fs::write(&path, content).unwrap();
        let err = PdfRenderer::new(Some(dir.path()))
            .err()
            .unwrap_or_else(|| panic!("broken {name} accepted: {content}"));
        assert!(matches!(err, PdfError::Template { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "error does not name the file: {message}"
        );
        std::fs::remove_file(&path).unwrap();
    }
    let missing = dir.path().join("no-such-folder");
    assert!(matches!(
        PdfRenderer::new(Some(&missing)),
        Err(PdfError::Io { .. })
    ));
}

#[test]
fn renderer_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PdfRenderer>();
}

/// Each embedded font of a PDF, read back with lopdf: the Type0 font's
/// /BaseFont, its descendant CIDFont's /BaseFont and the descriptor's /FontName.
fn embedded_font_names(pdf: &[u8]) -> Vec<[String; 3]> {
    use lopdf::Object;
    let doc = lopdf::Document::load_mem(pdf).expect("lopdf reads the PDF");
    let name = |o: &Object| String::from_utf8(o.as_name().unwrap().to_vec()).unwrap();
    let mut fonts = Vec::new();
    for object in doc.objects.values() {
        let Ok(font) = object.as_dict() else { continue };
        if font.get(b"Type").and_then(Object::as_name).ok() != Some(b"Font".as_slice())
            || font.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Type0".as_slice())
        {
            continue;
        }
        let cid_font = font.get(b"DescendantFonts").unwrap().as_array().unwrap()[0]
            .as_dict()
            .unwrap();
        let descriptor = doc
            .get_dictionary(
                cid_font
                    .get(b"FontDescriptor")
                    .unwrap()
                    .as_reference()
                    .unwrap(),
            )
            .unwrap();
        assert!(descriptor.get(b"FontFile2").is_ok(), "font not embedded");
        fonts.push([
            name(font.get(b"BaseFont").unwrap()),
            name(cid_font.get(b"BaseFont").unwrap()),
            name(descriptor.get(b"FontName").unwrap()),
        ]);
    }
    let descriptors = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| {
            d.get(b"Type").and_then(Object::as_name).ok() == Some(b"FontDescriptor".as_slice())
        })
        .count();
    assert_eq!(
        descriptors,
        fonts.len(),
        "a font descriptor outside a Type0 font"
    );
    fonts.sort();
    fonts
}

/// The subset tag of a font name (`ABCDEF` of `ABCDEF+DejaVuSans`), asserting
/// its shape (ISO 32000-1 §9.6.4: six upper-case letters and `+`).
fn subset_tag(name: &str) -> &str {
    let (tag, rest) = name
        .split_once('+')
        .unwrap_or_else(|| panic!("{name} has no subset tag"));
    assert!(
        tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()) && !rest.is_empty(),
        "{name}: the subset tag is not six capitals and `+`"
    );
    tag
}

#[test]
fn every_embedded_font_is_named_as_a_tagged_subset() {
    let plain = karnataka_invoice();
    let mut accented = karnataka_invoice();
    accented.customer.address_lines[0] = "Straße 5, Zürich".into();
    let mut greek = karnataka_invoice();
    greek.customer.address_lines[0] = "Ωmega, Αθήνα".into();
    let mut hindi = karnataka_invoice();
    hindi.customer.name = "शर्मा ट्रेडर्स".into();
    let r = renderer();
    let mut tags_by_pdf = Vec::new();
    for inv in [&plain, &accented, &greek, &hindi] {
        let pdf = r.render(inv).unwrap();
        let fonts = embedded_font_names(&pdf);
        assert!(fonts.len() >= 2, "{fonts:?}");
        for [type0, cid_font, descriptor] in &fonts {
            subset_tag(type0);
            assert_eq!(type0, cid_font, "Type0 and CIDFont /BaseFont differ");
            assert_eq!(type0, descriptor, "/BaseFont and /FontName differ");
        }
        let mut tags: Vec<&str> = fonts.iter().map(|[n, _, _]| subset_tag(n)).collect();
        tags.sort();
        tags.dedup();
        assert_eq!(
            tags.len(),
            fonts.len(),
            "two subsets share a tag: {fonts:?}"
        );
        // The tag is the same on every render of the same invoice.
        assert_eq!(fonts, embedded_font_names(&r.render(inv).unwrap()));
        tags_by_pdf.push(fonts);
    }
    let hindi_fonts = tags_by_pdf.pop().unwrap();
    assert!(
        hindi_fonts
            .iter()
            .any(|[n, _, _]| n.contains("+NotoSansDevanagari")),
        "{hindi_fonts:?}"
    );
    // The full face's subset differs with the glyphs used, and so does its tag;
    // the core cuts are the same fonts, with the same tags, in every PDF.
    let regular = |fonts: &[[String; 3]]| -> Vec<String> {
        fonts
            .iter()
            .map(|[n, _, _]| n.clone())
            .filter(|n| n.ends_with("+DejaVuSans"))
            .collect()
    };
    let (core, accented, greek) = (
        regular(&tags_by_pdf[0]),
        regular(&tags_by_pdf[1]),
        regular(&tags_by_pdf[2]),
    );
    assert_eq!(core.len(), 1);
    assert!(accented.contains(&core[0]) && greek.contains(&core[0]));
    let subset = |fonts: &[String]| fonts.iter().find(|n| **n != core[0]).cloned().unwrap();
    assert_ne!(subset(&accented), subset(&greek));
}

fn with_payment_details(mut inv: PdfInvoice) -> PdfInvoice {
    inv.payment = PdfPayment {
        bank_name: Some("HDFC Bank, MG Road".into()),
        bank_account: Some("50200012345678".into()),
        ifsc: Some("HDFC0001234".into()),
        upi_id: Some("demotelecom@hdfcbank".into()),
    };
    inv.signatory = PdfSignatory {
        name: Some("Asha Rao".into()),
        title: Some("Director".into()),
    };
    inv
}

/// The text of a PDF with runs of whitespace as one space.
fn squeezed_text(pdf: &[u8]) -> String {
    text_of(pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn payment_details_and_the_signatory_are_printed_when_set() {
    let text = squeezed_text(
        &renderer()
            .render(&with_payment_details(karnataka_invoice()))
            .unwrap(),
    );
    for needle in [
        "Payment Details",
        "Bank: HDFC Bank, MG Road",
        "Account No.: 50200012345678",
        "IFSC: HDFC0001234",
        "UPI ID: demotelecom@hdfcbank",
        "For Demo Telecom Pvt Ltd",
        "Asha Rao",
        "Director",
        "Authorised Signatory",
        "Please quote invoice number DID/26-27/00042 with your payment",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }

    // Only a UPI ID: only that line; no signatory name: the block still names the
    // seller and the role (CGST Rule 46(q)).
    let mut inv = karnataka_invoice();
    inv.payment.upi_id = Some("demotelecom@hdfcbank".into());
    let text = squeezed_text(&renderer().render(&inv).unwrap());
    assert!(
        text.contains("Payment Details UPI ID: demotelecom@hdfcbank"),
        "{text}"
    );
    assert!(!text.contains("Bank:") && !text.contains("IFSC"), "{text}");
    assert!(text.contains("For Demo Telecom Pvt Ltd"), "{text}");
    assert!(text.contains("Authorised Signatory"), "{text}");

    // Nothing set: no payment block.
    let text = squeezed_text(&renderer().render(&karnataka_invoice()).unwrap());
    assert!(!text.contains("Payment Details"), "{text}");
    assert!(text.contains("Authorised Signatory"), "{text}");
}

/// The lowest baseline (pt from the bottom of the page) of any text on each page
/// other than its footer, read from the content streams' text matrices.
fn lowest_text_above_footer(pdf: &[u8]) -> Vec<f32> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.get_pages()
        .values()
        .map(|&page| {
            let content = lopdf::content::Content::decode(&doc.get_page_content(page)).unwrap();
            content
                .operations
                .iter()
                .filter(|op| op.operator == "Tm")
                .map(|op| op.operands[5].as_float().unwrap())
                // The footer's baseline is about 28 pt up.
                .filter(|y| *y > 35.0)
                .fold(f32::MAX, f32::min)
        })
        .collect()
}

#[test]
fn the_closing_blocks_move_to_a_new_page_with_the_totals() {
    // From the number of lines where the totals only just fit on the last page
    // without the payment details and signature: with them, all of it moves to a
    // new page rather than running into the footer.
    let inv = with_payment_details(karnataka_invoice());
    let r = renderer();
    let mut moved = 0;
    for n in 20..45 {
        let mut inv = inv.clone();
        inv.lines = (0..n)
            .map(|i| rental(&format!("+9180{:08}", 40_000_000 + i), 30, "300", "300.00"))
            .collect();
        let pdf = r.render(&inv).unwrap();
        for (page, y) in lowest_text_above_footer(&pdf).into_iter().enumerate() {
            // The content area ends 58 pt above the bottom edge.
            assert!(y >= 58.0, "{n} lines: text at {y} pt on page {}", page + 1);
        }
        let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).unwrap();
        let last = pages.last().unwrap();
        for needle in [
            "Total",
            "Amount in words",
            "IFSC: HDFC0001234",
            "Authorised Signatory",
        ] {
            assert!(
                last.contains(needle),
                "{n} lines: {needle} not on the last page"
            );
        }
        // No line of the table on the last page: the closing part moved whole.
        if !last.contains("+9180400") {
            moved += 1;
        }
    }
    assert!(moved > 0, "the totals never moved to a page of their own");
}

#[test]
fn a_draft_is_marked_on_every_page_and_asks_for_no_payment() {
    let mut inv = with_payment_details(karnataka_invoice());
    inv.draft = true;
    inv.number = "DRAFT-0003".into();
    inv.lines = (0..80)
        .map(|i| rental(&format!("+9180{:08}", 40_000_000 + i), 30, "300", "300.00"))
        .collect();
    let pdf = renderer().render(&inv).unwrap();
    let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).unwrap();
    assert!(pages.len() >= 2);
    for (i, page) in pages.iter().enumerate() {
        let page: String = page.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            page.contains(
                "DRAFT — for review only. This is not a tax invoice and no payment is due on it."
            ),
            "page {} has no draft banner:\n{page}",
            i + 1
        );
        assert!(page.contains("DRAFT "), "page {} has no watermark", i + 1);
    }
    let text = squeezed_text(&pdf);
    assert!(text.contains("Draft — not a tax invoice"), "{text}");
    assert!(text.contains("Draft DRAFT-0003 (continued)"), "{text}");
    assert!(
        text.contains("DRAFT-0003 is a draft number, not an invoice number"),
        "{text}"
    );
    for absent in [
        "Tax Invoice",
        "Please quote",
        "Payment is due",
        "Payment Details",
        "50200012345678",
        "HDFC0001234",
        "demotelecom@hdfcbank",
        "Authorised Signatory",
        "For Demo Telecom Pvt Ltd",
        "Asha Rao",
    ] {
        assert!(!text.contains(absent), "a draft shows {absent:?}:\n{text}");
    }
    // The same invoice issued has none of the draft marks.
    let mut issued = inv.clone();
    issued.draft = false;
    issued.number = "DID/26-27/00003".into();
    let text = squeezed_text(&renderer().render(&issued).unwrap());
    assert!(text.contains("Tax Invoice") && text.contains("Authorised Signatory"));
    assert!(!text.contains("DRAFT") && !text.contains("Draft"), "{text}");
}

#[test]
fn a_foreign_currency_code_is_spaced_from_its_amount() {
    let mut inv = karnataka_invoice();
    inv.currency = "USD".into();
    inv.lines = vec![rental("+14155550123", 15, "5", "2.50")];
    inv.subtotal = d("2.50");
    inv.cgst = d("0.23");
    inv.sgst = d("0.23");
    inv.total = d("2.96");
    let text = squeezed_text(&renderer().render(&inv).unwrap());
    for needle in [
        "Monthly rental (USD 5.00/month), 15 of 30 days",
        "USD 2.50",
        "USD 0.23",
        "USD 2.96",
        "Amount (USD)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("USD2") && !text.contains("USD5"), "{text}");
    // Rupees keep the sign against the amount.
    let text = squeezed_text(&renderer().render(&karnataka_invoice()).unwrap());
    assert!(text.contains("Monthly rental (₹300.00/month)"), "{text}");
}

#[test]
fn an_older_labels_template_gets_the_new_keys_in_the_built_in_wording() {
    // A labels.txt written before the draft, payment and signatory keys existed.
    let optional = [
        "draft_banner",
        "watermark",
        "payment_details",
        "bank_name",
        "bank_account",
        "ifsc",
        "upi_id",
        "for_seller",
        "signatory",
    ];
    let old: String = BUILTIN_LABELS
        .lines()
        .filter(|l| !optional.iter().any(|k| l.starts_with(&format!("{k} ="))))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replace("Authorised", "");
    assert!(!old.contains("for_seller"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pdf")).unwrap();
    std::fs::write(dir.path().join("pdf/labels.txt"), old).unwrap();
    let r = PdfRenderer::new(Some(dir.path())).unwrap();
    let text = squeezed_text(
        &r.render(&with_payment_details(karnataka_invoice()))
            .unwrap(),
    );
    for needle in [
        "IFSC: HDFC0001234",
        "For Demo Telecom Pvt Ltd",
        "Authorised Signatory",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Defined twice is still an error.
    let twice = format!("{BUILTIN_LABELS}\nifsc = IFSC Code\n");
    std::fs::write(dir.path().join("pdf/labels.txt"), twice).unwrap();
    let err = PdfRenderer::new(Some(dir.path()))
        .err()
        .expect("ifsc twice accepted");
    assert!(
        err.to_string().contains("key `ifsc` is defined twice"),
        "{err}"
    );
}
