//! Tests of the configuration file: defaults, every key, and the errors naming bad values.

use super::*;
use didbill_core::money::Currency;
use didbill_core::pricing::{Price, Prices};
use std::str::FromStr;

#[test]
fn empty_file_gives_every_default() {
    let c = Config::parse("").unwrap();
    assert_eq!(c.timezone, chrono_tz::Asia::Kolkata);
    assert_eq!(c.billing_time, BillingTime::Calendar);
    assert_eq!(c.proration, Proration::Actual);
    assert_eq!(c.rounding, Rounding::HalfUp);
    assert_eq!(c.renewal_grace_hours, 72);
    assert!(!c.round_off);
    assert_eq!(c.seller.state_code, "29");
    assert_eq!(c.seller.address, vec!["1 MG Road", "Bengaluru 560001"]);
    assert!(c.tax.enabled);
    assert_eq!(c.tax.rate, Decimal::from(18));
    assert_eq!(c.tax.sac, "9984");
    assert_eq!(
        c.invoice.number_format.render("26-27", 1),
        "DID/26-27/00001"
    );
    assert_eq!(c.invoice.due_days, 15);
    assert_eq!(c.notes.credit_format.render("26-27", 1), "CN/26-27/00001");
    assert_eq!(c.notes.debit_format.render("26-27", 1), "DN/26-27/00001");
    assert_eq!(c.api.base_url, "https://api.vobiz.ai/api/v1/partner");
    assert_eq!((c.api.concurrency, c.api.per_page), (8, 100));
    assert_eq!(c, Config::default());
}

#[test]
fn every_key_can_be_set() {
    let c = Config::parse(
        r#"
        timezone = "Europe/London"
        billing_time = "anniversary"
        proration = "thirty"
        rounding = "half_even"
        renewal_grace_hours = 0
        round_off = true
        [seller]
        name = "Acme"
        address = ["x"]
        gstin = "27ABCDE1234F1Z0"
        state_code = "27"
        email = "a@b.c"
        [tax]
        enabled = false
        rate = 12.5
        sac = "998422"
        export = "igst"
        [gst]
        sac_digits = 6
        [invoice]
        number_format = "INV-{fy}-{seq:04}"
        prefix = "X"
        due_days = 30
        [credit_note]
        number_format = "{prefix}C{fy}{seq:04}"
        [debit_note]
        number_format = "DB-{fy}-{seq:03}"
        [api]
        base_url = "http://127.0.0.1:9000/"
        concurrency = 2
        per_page = 50
        "#,
    )
    .unwrap();
    assert_eq!(c.timezone, chrono_tz::Europe::London);
    assert_eq!(c.billing_time, BillingTime::Anniversary);
    assert_eq!(c.proration, Proration::Thirty);
    assert_eq!(c.rounding, Rounding::HalfEven);
    assert_eq!(c.tax.rate, Decimal::from_str("12.5").unwrap());
    assert_eq!(c.api.base_url, "http://127.0.0.1:9000");
    assert_eq!(c.invoice.number_format.render("26-27", 7), "INV-26-27-0007");
    assert_eq!(c.notes.credit_format.render("26-27", 7), "XC26-270007");
    assert_eq!(c.notes.debit_format.render("26-27", 7), "DB-26-27-007");
    assert_eq!(c.seller.state_code, "27");
    assert_eq!(c.tax.sac, "998422");
    assert!(c.tax.export_with_igst);
}

#[test]
fn bad_values_are_named() {
    let cases = [
        ("colour = \"red\"", "colour"),
        ("[seller]\nfax = \"1\"", "fax"),
        ("timezone = \"Mars/Olympus\"", "Mars/Olympus"),
        ("proration = \"daily\"", "daily"),
        ("[tax]\nrate = -1", "tax.rate"),
        ("[tax]\nrate = 101", "tax.rate"),
        ("[tax]\nrate = \"abc\"", "abc"),
        (
            "[invoice]\nnumber_format = \"{prefix}/{fy}/{seq:09}\"",
            "16",
        ),
        ("[invoice]\nprefix = \"D I D\"", "prefix"),
        ("[api]\nper_page = 500", "per_page"),
        ("[api]\nconcurrency = 0", "concurrency"),
        ("[seller]\nstate_code = \"99\"", "state_code"),
        ("[seller]\ngstin = \"\"", "state_code"),
        ("[seller]\ngstin = \"29SHORT\"", "GSTIN"),
        ("[seller]\ngstin = \"29ABCDE1234F1-5\"", "is not a GSTIN"),
        ("renewal_grace_hours = -1", "renewal_grace_hours"),
        ("[tax]\nsac = \"98a4\"", "sac"),
        (
            "[tax]\nsac = \"998422\"",
            "tax.sac \"998422\" must be a SAC of 4 digits",
        ),
        (
            "[gst]\nsac_digits = 6",
            "tax.sac \"9984\" must be a SAC of 6 digits starting with 99",
        ),
        ("[gst]\nsac_digits = 5", "gst.sac_digits 5 must be 4 or 6"),
        ("[tax]\nsac = \"1234\"", "starting with 99"),
        ("renewal_grace_hours = 4294967295", "renewal_grace_hours"),
        ("[invoice]\ndue_days = 4000000000", "due_days"),
        ("[seller]\nname = \"Acme\\u001b[2J\"", "seller.name"),
        ("[seller]\naddress = [\"1 Road\\nEvil\"]", "seller.address"),
        ("[seller]\nemail = \"a\\u202e@b.c\"", "seller.email"),
        (
            "[credit_note]\nnumber_format = \"cn/{fy}/{seq:05}\"",
            "credit_note.number_format",
        ),
        (
            "[debit_note]\nnumber_format = \"DEBITNOTE/{fy}/{seq:05}\"",
            "debit_note.number_format",
        ),
        ("[debit_note]\nprefix = \"D\"", "prefix"),
        ("[invoice]\nprefix = \"inv\"", "IRP"),
    ];
    for (text, needle) in cases {
        let err = Config::parse(text).unwrap_err();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn export_settings_default_from_the_tax_rate() {
    let c = Config::parse("").unwrap();
    let x = &c.export.xero;
    assert_eq!(
        (x.account_code.as_str(), x.branding_theme.as_str()),
        ("200", "")
    );
    assert_eq!(x.tax_type.intra_state, "GST on Income 18% (CGST+SGST)");
    assert_eq!(x.tax_type.inter_state, "GST on Income 18% (IGST)");
    assert_eq!(x.tax_type.zero_rated, "Zero Rated Income");
    assert_eq!(x.tax_type.untaxed, "Tax Exempt");
    let z = &c.export.zoho;
    assert_eq!(
        (z.invoice_status.as_str(), z.account.as_str()),
        ("Draft", "Sales")
    );
    assert_eq!(
        (
            z.item_rental.as_str(),
            z.item_setup.as_str(),
            z.item_usage.as_str()
        ),
        ("DID Rental", "DID Setup Fee", "Call Usage")
    );
    assert_eq!(c.export.quickbooks.item_usage, "Call Usage");
    assert_eq!(
        [
            &z.item_tax.intra_state,
            &z.item_tax.inter_state,
            &z.item_tax.zero_rated,
            &z.item_tax.untaxed
        ],
        ["GST18", "IGST18", "IGST0", ""]
    );
    let q = &c.export.quickbooks.tax_code;
    assert_eq!(
        [&q.intra_state, &q.inter_state, &q.zero_rated, &q.untaxed],
        [
            "India GST 18% (CGST+SGST)",
            "India IGST 18%",
            "India IGST 0% (export)",
            "Out of Scope"
        ]
    );

    let c = Config::parse("[tax]\nrate = \"12.50\"").unwrap();
    assert_eq!(c.export.zoho.item_tax.inter_state, "IGST12.5");
    // An export on payment of IGST takes the inter-state name unless set.
    assert_eq!(c.export.zoho.item_tax.export_with_igst, "IGST12.5");
    let c = Config::parse(
        "[export.xero.tax_type]\ninter_state = \"IGST Out\"\n\
         [export.zoho.item_tax]\nexport_with_igst = \"IGST18 Export\"",
    )
    .unwrap();
    assert_eq!(c.export.xero.tax_type.export_with_igst, "IGST Out");
    assert_eq!(c.export.zoho.item_tax.export_with_igst, "IGST18 Export");
}

#[test]
fn exports_are_under_lut_unless_igst_is_chosen() {
    assert!(!Config::parse("").unwrap().tax.export_with_igst);
    assert!(
        !Config::parse("[tax]\nexport = \"lut\"")
            .unwrap()
            .tax
            .export_with_igst
    );
    let c = Config::parse("[tax]\nexport = \"igst\"").unwrap();
    assert!(c.tax.export_with_igst);
    assert!(
        c.rules("2026-11".parse().unwrap(), chrono::DateTime::UNIX_EPOCH)
            .tax
            .export_with_igst
    );
    let err = Config::parse("[tax]\nexport = \"LUT-2026\"").unwrap_err();
    assert!(
        err.contains("tax.export \"LUT-2026\" must be \"lut\""),
        "{err}"
    );
}

#[test]
fn export_settings_can_be_set_and_are_checked() {
    let c = Config::parse(
        r#"
        [export.xero]
        account_code = " 4000 "
        branding_theme = "GST invoice"
        [export.xero.tax_type]
        intra_state = "CGST/SGST 18%"
        untaxed = "No Tax"
        [export.zoho]
        invoice_status = "Sent"
        account = "Telephony Income"
        item_rental = "Number rental"
        item_setup = "Number setup"
        item_usage = "Calls"
        [export.zoho.item_tax]
        zero_rated = ""
        [export.quickbooks]
        item_rental = "Rental"
        item_setup = "Setup"
        item_usage = "Voice calls"
        [export.quickbooks.tax_code]
        inter_state = "IGST 18%"
        "#,
    )
    .unwrap();
    let e = &c.export;
    assert_eq!(e.xero.account_code, "4000");
    assert_eq!(e.xero.branding_theme, "GST invoice");
    assert_eq!(e.xero.tax_type.intra_state, "CGST/SGST 18%");
    assert_eq!(e.xero.tax_type.inter_state, "GST on Income 18% (IGST)");
    assert_eq!(e.xero.tax_type.untaxed, "No Tax");
    assert_eq!(e.zoho.invoice_status, "Sent");
    assert_eq!(e.zoho.account, "Telephony Income");
    assert_eq!(e.zoho.item_tax.zero_rated, "");
    assert_eq!(e.quickbooks.item_setup, "Setup");
    assert_eq!(
        (e.zoho.item_usage.as_str(), e.quickbooks.item_usage.as_str()),
        ("Calls", "Voice calls")
    );
    assert_eq!(e.quickbooks.tax_code.inter_state, "IGST 18%");

    let cases = [
        (
            "[export.xero]\naccount_code = \"\"",
            "export.xero.account_code",
        ),
        ("[export.xero]\ncolour = \"red\"", "colour"),
        ("[export.sage]\nx = 1", "sage"),
        (
            "[export.zoho]\nitem_rental = \" \"",
            "export.zoho.item_rental",
        ),
        (
            "[export.zoho.item_tax]\nintra_state = \"GST\\n18\"",
            "export.zoho.item_tax.intra_state",
        ),
        ("[export.quickbooks.tax_code]\nexempt = \"x\"", "exempt"),
        (
            "[export.quickbooks]\nitem_usage = \"\"",
            "export.quickbooks.item_usage",
        ),
    ];
    for (text, needle) in cases {
        let err = Config::parse(text).unwrap_err();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn pricing_defaults_to_the_provider_prices_and_resolves_overrides() {
    assert_eq!(Config::parse("").unwrap().pricing, Pricing::default());
    let c = Config::parse(
        r#"
        [pricing]
        rental_markup_percent = 20
        setup_markup_percent = "7.5"
        usage_markup_percent = 12.25
        [pricing.customers."MA_ACME"]
        monthly_fee = 450
        currency = "INR"
        usage_markup_percent = 0
        [pricing.customers."MA_BETA"]
        rental_markup_percent = 5
        setup_fee = "0"
        currency = "USD"
        "#,
    )
    .unwrap();
    let d = |s: &str| Decimal::from_str(s).unwrap();
    let p = &c.pricing;
    assert_eq!(
        p.default,
        Prices {
            rental: Price::Markup(d("20")),
            setup: Price::Markup(d("7.5")),
            usage_markup_percent: d("12.25"),
            currency: None,
        }
    );
    let (inr, usd) = (Currency::INR, Currency::parse("USD").unwrap());
    assert_eq!(
        p.prices("MA_ACME", inr),
        Prices {
            rental: Price::Fixed(d("450")),
            setup: Price::Markup(d("7.5")),
            usage_markup_percent: Decimal::ZERO,
            currency: Some(inr),
        }
    );
    assert_eq!(
        p.prices("MA_BETA", usd),
        Prices {
            rental: Price::Markup(d("5")),
            setup: Price::Fixed(Decimal::ZERO),
            usage_markup_percent: d("12.25"),
            currency: Some(usd),
        }
    );
    // Acme's numbers in USD: the provider's fee plus the top-level 20 %.
    assert_eq!(p.prices("MA_ACME", usd).rental, Price::Markup(d("20")));
    assert_eq!(p.prices("MA_OTHER", inr), p.default);
    assert_eq!(p.ambiguity(), None);
    assert!(p.is_active());
    // Explicit zero markups are the provider's prices.
    let zero = Config::parse("[pricing]\nrental_markup_percent = 0.0\n[pricing.customers.\"MA_X\"]\nsetup_markup_percent = 0").unwrap();
    assert!(!zero.pricing.is_active());
}

#[test]
fn bad_pricing_is_named() {
    let cases = [
        (
            "[pricing]\nrental_markup_percent = -5",
            "pricing.rental_markup_percent -5 must not be negative",
        ),
        (
            "[pricing]\nsetup_markup_percent = 20000",
            "pricing.setup_markup_percent",
        ),
        (
            "[pricing]\nusage_markup_percent = 1.23456",
            "pricing.usage_markup_percent",
        ),
        ("[pricing]\nusage_markup_percent = \"ten\"", "ten"),
        ("[pricing]\ndiscount_percent = 5", "discount_percent"),
        ("[pricing.customers.\"MA_A\"]\nmonthly = 5", "monthly"),
        (
            "[pricing.customers.\"MA_A\"]\nmonthly_fee = -1",
            "pricing.customers.\"MA_A\".monthly_fee",
        ),
        (
            "[pricing.customers.\"MA_A\"]\nsetup_fee = 1000000000",
            "pricing.customers.\"MA_A\".setup_fee",
        ),
        (
            "[pricing.customers.\"MA_A\"]\nusage_markup_percent = -1",
            "pricing.customers.\"MA_A\".usage_markup_percent",
        ),
        (
            "[pricing.customers.\"MA_A\"]\nmonthly_fee = 5\nrental_markup_percent = 5",
            "either monthly_fee",
        ),
        (
            "[pricing.customers.\"acme\"]\nmonthly_fee = 5",
            "pricing.customers.\"acme\"",
        ),
        (
            "[pricing.customers.\"MA_A\"]\nusage_markup_percent = 5\ncurrency = \"INR\"",
            "pricing.customers.\"MA_A\".currency is the currency of a fixed monthly_fee or setup_fee",
        ),
        (
            "[pricing.customers.\"MA_A\"]\nmonthly_fee = 5\ncurrency = \"inr\"",
            "pricing.customers.\"MA_A\".currency \"inr\" is not a currency code",
        ),
    ];
    for (text, needle) in cases {
        let err = Config::parse(text).unwrap_err();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn missing_explicit_file_is_an_error_but_missing_default_is_not() {
    let err = Config::load(Some(Path::new("/nonexistent/didbill.toml"))).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/didbill.toml"),
        "{err}"
    );
}

#[test]
fn seller_keys_left_out_are_listed_as_unset_and_take_the_demo_values() {
    let c = Config::parse("").unwrap();
    assert_eq!(
        c.seller.unset,
        vec!["seller.name", "seller.address", "seller.gstin"]
    );
    assert_eq!(c.seller.name, "Demo Telecom Pvt Ltd");
    let c = Config::parse("[seller]\nname = \"Acme Voice LLP\"\n").unwrap();
    assert_eq!(c.seller.unset, vec!["seller.address", "seller.gstin"]);
    assert_eq!(c.seller.name, "Acme Voice LLP");
    let c = Config::parse(
        "[seller]\nname = \"Acme\"\naddress = [\"1 Road\"]\ngstin = \"\"\nstate_code = \"27\"\n",
    )
    .unwrap();
    assert!(
        c.seller.unset.is_empty(),
        "an unregistered seller is configured"
    );
    assert_eq!(
        (c.seller.gstin.as_str(), c.seller.state_code.as_str()),
        ("", "27")
    );
}

#[test]
fn a_tax_rate_between_zero_and_one_is_refused_as_a_likely_fraction() {
    for (rate, advice) in [("0.18", "write 18 for 18 %"), ("0.05", "write 5 for 5 %")] {
        let err = Config::parse(&format!("[tax]\nrate = {rate}\n")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("tax.rate {rate} looks like a fraction"))
                && text.contains(advice),
            "{text}"
        );
    }
    for rate in ["0", "1", "0.0", "18", "100"] {
        Config::parse(&format!("[tax]\nrate = {rate}\n")).unwrap();
    }
}

#[test]
fn seller_payment_details_and_signatory_are_optional() {
    let c = Config::parse("").unwrap();
    assert_eq!(c.seller.payment, Payment::default());
    assert_eq!(
        (c.seller.signatory_name, c.seller.signatory_title),
        (None, None)
    );

    let c = Config::parse(
        r#"
        [seller]
        bank_name = " HDFC Bank, MG Road "
        bank_account = "50200012345678"
        ifsc = "hdfc0001234"
        upi_id = "demotelecom@hdfcbank"
        signatory_name = "Asha Rao"
        signatory_title = "Director"
        "#,
    )
    .unwrap();
    let p = &c.seller.payment;
    assert_eq!(p.bank_name.as_deref(), Some("HDFC Bank, MG Road"));
    assert_eq!(p.bank_account.as_deref(), Some("50200012345678"));
    assert_eq!(p.ifsc.as_deref(), Some("HDFC0001234"));
    assert_eq!(p.upi_id.as_deref(), Some("demotelecom@hdfcbank"));
    assert_eq!(c.seller.signatory_name.as_deref(), Some("Asha Rao"));
    assert_eq!(c.seller.signatory_title.as_deref(), Some("Director"));

    // A blank key is the same as no key.
    let c = Config::parse("[seller]\nifsc = \" \"\nupi_id = \"\"").unwrap();
    assert_eq!(c.seller.payment, Payment::default());

    for (text, needle) in [
        (
            "[seller]\nifsc = \"HDFC1234567\"",
            "seller.ifsc \"HDFC1234567\" is not an IFSC",
        ),
        ("[seller]\nifsc = \"HDF00001234\"", "seller.ifsc"),
        ("[seller]\nifsc = \"HDFC000123\"", "seller.ifsc"),
        ("[seller]\nifsc = \"HDFC000123-\"", "seller.ifsc"),
        ("[seller]\nbank_name = \"Bank\\nEvil\"", "seller.bank_name"),
        (
            "[seller]\nsignatory_title = \"a\\u202eb\"",
            "seller.signatory_title",
        ),
        ("[seller]\nupi = \"x@y\"", "upi"),
    ] {
        let err = Config::parse(text).unwrap_err();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn fx_rates_are_currency_codes_with_positive_rates() {
    let c = Config::parse("[fx]\nUSD = \"84.35\"\nEUR = 91\n").unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let usd = didbill_core::money::Currency::parse("USD").unwrap();
    assert_eq!(
        c.fx.rate(usd, date),
        Some(Decimal::from_str("84.35").unwrap())
    );
    for (text, needle) in [
        (
            "[fx]\nINR = 1\n",
            "fx.\"INR\": the keys of [fx] are currency codes other than INR",
        ),
        ("[fx]\nusd = 84\n", "fx.\"usd\""),
        ("[fx]\nUSD = 0\n", "fx.USD \"0\" is not an exchange rate"),
        ("[fx]\nUSD = \"84.1234567\"\n", "at most 6 decimals"),
    ] {
        let err = Config::parse(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn a_seller_gstin_with_a_wrong_check_character_loads_with_a_warning() {
    // The example of the contract's configuration has a wrong check character.
    let c = Config::parse("[seller]\ngstin = \"29ABCDE1234F1Z5\"").unwrap();
    let warning = c.seller.gstin_warning().unwrap();
    assert!(
        warning.contains("seller.gstin \"29ABCDE1234F1Z5\" fails its checksum")
            && warning.contains("'W'")
            && warning.contains("didbill gstr1"),
        "{warning}"
    );
    let c = Config::parse("[seller]\ngstin = \"29ABCDE1234F1ZW\"").unwrap();
    assert_eq!(c.seller.gstin_warning(), None);
    let c = Config::parse("[seller]\ngstin = \"\"\nstate_code = \"29\"").unwrap();
    assert_eq!(c.seller.gstin_warning(), None);
}
