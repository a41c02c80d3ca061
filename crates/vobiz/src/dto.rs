//! The Vobiz Partner API's JSON shapes (SPEC §1), read leniently.
//!
//! Envelopes are typed strictly: a snapshot or response without its `accounts` or
//! `items` array is unusable. Number records are read field by field with [`Loose`],
//! which never fails on a wrong type: one bad record must become an exception row,
//! not abort the month. Fees keep the JSON number's own text until it is parsed into
//! a [`Decimal`] (never through a binary float). Unknown fields are ignored.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The `GET /accounts` envelope: `{"accounts": [...], "total", "page", "size"}`.
#[derive(Debug, Deserialize)]
pub struct AccountsPage<T> {
    /// The accounts on this page.
    pub accounts: Vec<T>,
    /// How many accounts exist in all.
    #[serde(default)]
    pub total: Option<u64>,
    /// The 1-based page number.
    #[serde(default)]
    pub page: Option<u64>,
    /// The page size the server used.
    #[serde(default)]
    pub size: Option<u64>,
}

/// The `GET /numbers` and `GET /accounts/{id}/numbers` envelope.
#[derive(Debug, Deserialize)]
pub struct NumbersPage<T> {
    /// The number records on this page.
    pub items: Vec<T>,
    /// The 1-based page number.
    #[serde(default)]
    pub page: Option<u64>,
    /// The page size the server used.
    #[serde(default)]
    pub per_page: Option<u64>,
    /// How many records exist in all.
    #[serde(default)]
    pub total: Option<u64>,
    /// The customer, on the per-customer endpoint.
    #[serde(default)]
    pub account_auth_id: Option<String>,
}

/// A customer account (SPEC §1), the fields didbill uses.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountRecord {
    /// The customer id, `MA_...`.
    #[serde(default)]
    pub auth_id: Option<String>,
    /// The contact name.
    #[serde(default)]
    pub name: Option<String>,
    /// The company name; preferred over `name` on invoices when not blank.
    #[serde(default)]
    pub company: Option<String>,
    /// Billing email.
    #[serde(default)]
    pub email: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State: a two-letter code or a state name.
    #[serde(default)]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub zip_code: Option<String>,
    /// ISO 3166-1 alpha-2 country; null means India.
    #[serde(default)]
    pub country: Option<String>,
    /// GSTIN, when the customer is registered.
    #[serde(default)]
    pub gstin: Option<String>,
    /// Prepaid balance: a decimal string such as `"1300.00000"` (a number is accepted).
    #[serde(default)]
    pub cash_credits: JsonDecimal,
    /// Whether the account is active.
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// A rented number (DID) record (SPEC §1), every field read leniently.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NumberRecord {
    /// The number's UUID.
    #[serde(default)]
    pub id: Loose<String>,
    /// The owning customer, `MA_...`.
    #[serde(default)]
    pub account_id: Loose<String>,
    /// The number in E.164 form, `+` and digits.
    #[serde(default)]
    pub e164: Loose<String>,
    /// `active`, `pending_purchase`, `pending_release`, `released`, `blocked`, `suspended`.
    #[serde(default)]
    pub status: Loose<String>,
    /// One-time fee charged in the month of purchase.
    #[serde(default)]
    pub setup_fee: JsonDecimal,
    /// Monthly rental.
    #[serde(default)]
    pub monthly_fee: JsonDecimal,
    /// ISO 4217 currency of the fees.
    #[serde(default)]
    pub currency: Loose<String>,
    /// The voice application the number routes to; null when none.
    #[serde(default)]
    pub application_id: Loose<String>,
    /// When the number was bought (RFC 3339, UTC).
    #[serde(default)]
    pub purchased_at: Loose<String>,
    /// The last renewal debit.
    #[serde(default)]
    pub last_billing_date: Loose<String>,
    /// The next renewal debit.
    #[serde(default)]
    pub next_billing_date: Loose<String>,
    /// When the number was released, if it was.
    #[serde(default)]
    pub released_at: Loose<String>,
    /// Whether Aadhaar KYC is required for this number.
    #[serde(default)]
    pub aadhaar_verification_required: Loose<bool>,
    /// Whether Aadhaar KYC is done.
    #[serde(default)]
    pub aadhaar_verified: Loose<bool>,
    /// A hash of the record's parsed values (see [`NumberRecord::content_hash`]):
    /// two records with the same id and fingerprint are the same record fetched twice.
    #[serde(skip)]
    pub fingerprint: u64,
    /// Why the record could not be read at all (it is not a JSON object, say).
    #[serde(skip)]
    pub unreadable: Option<String>,
}

impl NumberRecord {
    /// Reads one record from its JSON text; never fails: an unreadable record is
    /// kept with the reason, to become an exception row.
    pub fn from_json(raw: &str) -> NumberRecord {
        let mut record =
            parse_object::<NumberRecord>(raw.as_bytes()).unwrap_or_else(|e| NumberRecord {
                unreadable: Some(format!("record is not a number object: {e}")),
                ..NumberRecord::default()
            });
        record.fingerprint = record.content_hash();
        record
    }

    /// A hash of every field as parsed, so copies that differ only in how the JSON
    /// was written (member order, whitespace, `\u002b` for `+`, `100` or `"100.0"`
    /// for a fee) are the same record (SPEC §2: identical records count once). Fields
    /// didbill does not read are not part of the comparison; a value of the wrong
    /// type counts by its type only (the record is an exception either way).
    pub fn content_hash(&self) -> u64 {
        let NumberRecord {
            id,
            account_id,
            e164,
            status,
            setup_fee,
            monthly_fee,
            currency,
            application_id,
            purchased_at,
            last_billing_date,
            next_billing_date,
            released_at,
            aadhaar_verification_required,
            aadhaar_verified,
            fingerprint: _,
            unreadable,
        } = self;
        hash_values((
            (
                id,
                account_id,
                e164,
                status,
                setup_fee,
                monthly_fee,
                currency,
            ),
            (
                application_id,
                purchased_at,
                last_billing_date,
                next_billing_date,
            ),
            (
                released_at,
                aadhaar_verification_required,
                aadhaar_verified,
                unreadable,
            ),
        ))
    }
}

/// The hash of parsed values, for telling copies of a record apart.
pub(crate) fn hash_values(values: impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    values.hash(&mut hasher);
    hasher.finish()
}

/// Parses JSON text that must be an object (a record or an envelope; from a file or
/// an API response). serde's derived structs also accept an array of the fields in
/// declaration order, which no Vobiz response is, so that shape is refused rather
/// than read positionally.
pub fn parse_object<'de, T: Deserialize<'de>>(json: &'de [u8]) -> Result<T, String> {
    if json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("it is not a JSON object".into());
    }
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

/// A JSON field that may be absent, null, of the expected type, or of another type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Loose<T> {
    /// The key was not in the record.
    #[default]
    Absent,
    /// The key was `null`.
    Null,
    /// A value of the expected type.
    Value(T),
    /// A value of another JSON type (the type's name).
    WrongType(&'static str),
}

impl<T> Loose<T> {
    /// The value when it is present and of the expected type.
    pub fn value(&self) -> Option<&T> {
        match self {
            Loose::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl Loose<String> {
    /// The text, or `None` when absent or null; an error naming the JSON type otherwise.
    pub fn text(&self) -> Result<Option<&str>, &'static str> {
        match self {
            Loose::Absent | Loose::Null => Ok(None),
            Loose::Value(s) => Ok(Some(s.as_str())),
            Loose::WrongType(t) => Err(t),
        }
    }

    /// The text when present and a string; `None` otherwise. For display only.
    pub fn as_str(&self) -> Option<&str> {
        self.value().map(String::as_str)
    }
}

struct LooseVisitor<T>(std::marker::PhantomData<T>);

macro_rules! wrong_type {
    ($name:ident, $ty:ty, $label:expr) => {
        fn $name<E: de::Error>(self, _: $ty) -> Result<Self::Value, E> {
            Ok(Loose::WrongType($label))
        }
    };
}

/// Implements the visits that are the wrong type for every `Loose<T>`.
macro_rules! loose_visitor_common {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Loose::Null)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Loose::Null)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        wrong_type!(visit_i64, i64, "number");
        wrong_type!(visit_u64, u64, "number");
        wrong_type!(visit_f64, f64, "number");
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Loose::WrongType("array"))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Loose::WrongType("object"))
        }
    };
}

impl<'de> Visitor<'de> for LooseVisitor<String> {
    type Value = Loose<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Value(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Value(v))
    }
    wrong_type!(visit_bool, bool, "boolean");
    loose_visitor_common!();
}

impl<'de> Visitor<'de> for LooseVisitor<bool> {
    type Value = Loose<bool>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Value(v))
    }
    wrong_type!(visit_str, &str, "string");
    loose_visitor_common!();
}

impl<'de> Deserialize<'de> for Loose<String> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor::<String>(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Loose<bool> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor::<bool>(std::marker::PhantomData))
    }
}

/// A decimal field (fee or balance) as the API sent it: parsed from the JSON number's own text.
/// Equal amounts are equal and hash alike whatever their scale (`100`, `100.0`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum JsonDecimal {
    /// The key was not in the record.
    #[default]
    Absent,
    /// The key was `null`.
    Null,
    /// A JSON number, or a string in JSON number syntax, as an exact decimal.
    Amount(Decimal),
    /// Anything else; the raw JSON text is kept for the error message.
    Invalid(String),
}

impl<'de> Deserialize<'de> for JsonDecimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(d)?;
        Ok(match raw {
            None => JsonDecimal::Null,
            Some(raw) => JsonDecimal::parse_json(raw.get()),
        })
    }
}

impl JsonDecimal {
    /// Parses the raw JSON text of a fee: a number, or a string holding a number.
    pub fn parse_json(raw: &str) -> JsonDecimal {
        let text = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) => inner,
            None => raw,
        };
        match parse_decimal(text) {
            Some(d) => JsonDecimal::Amount(d),
            None => JsonDecimal::Invalid(raw.to_owned()),
        }
    }
}

/// Parses text in JSON number syntax (`100`, `0.5`, `-2`, `1e2`, `1.5E-3`) exactly.
///
/// Returns `None` for anything else, including values a `Decimal` cannot hold
/// (more than 28 decimal places, or magnitudes beyond about 7.9e28).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    if !is_json_number(text) {
        return None;
    }
    if text.contains(['e', 'E']) {
        let normal = text.replace('E', "e").replace("e+", "e");
        Decimal::from_scientific(&normal).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

/// Whether `s` is a number in JSON syntax (RFC 8259 §6).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == frac_start {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimals_keep_their_exact_text() {
        assert_eq!(
            JsonDecimal::parse_json("100"),
            JsonDecimal::Amount(dec("100"))
        );
        assert_eq!(
            JsonDecimal::parse_json("0.5"),
            JsonDecimal::Amount(dec("0.5"))
        );
        // 0.1 + 0.2 style values survive without binary rounding.
        assert_eq!(
            JsonDecimal::parse_json("0.30000000000000004"),
            JsonDecimal::Amount(dec("0.30000000000000004"))
        );
        assert_eq!(
            JsonDecimal::parse_json("\"300\""),
            JsonDecimal::Amount(dec("300"))
        );
        assert_eq!(
            JsonDecimal::parse_json("1e2"),
            JsonDecimal::Amount(dec("100"))
        );
        assert_eq!(
            JsonDecimal::parse_json("1.5E+1"),
            JsonDecimal::Amount(dec("15"))
        );
        assert_eq!(
            JsonDecimal::parse_json("25e-2"),
            JsonDecimal::Amount(dec("0.25"))
        );
        assert_eq!(
            JsonDecimal::parse_json("-5"),
            JsonDecimal::Amount(dec("-5"))
        );
        // Scale is preserved: 1300.00000 stays five places.
        assert_eq!(
            JsonDecimal::parse_json("\"1300.00000\""),
            JsonDecimal::Amount(dec("1300.00000"))
        );
        match JsonDecimal::parse_json("\"1300.00000\"") {
            JsonDecimal::Amount(d) => assert_eq!(d.scale(), 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_numbers_are_invalid_not_panics() {
        for raw in [
            "\"\"",
            "\"abc\"",
            "\" 300\"",
            "\"300.\"",
            "\"+5\"",
            "\"0x10\"",
            "\"01\"",
            "true",
            "[1]",
            "{}",
            "1e30",
            "1e-40",
            "0.123456789012345678901234567890",
        ] {
            assert!(
                matches!(JsonDecimal::parse_json(raw), JsonDecimal::Invalid(_)),
                "{raw} should be invalid"
            );
        }
    }

    #[test]
    fn number_records_survive_wrong_types() {
        let rec: NumberRecord = serde_json::from_str(
            r#"{"id": 7, "e164": "+911", "status": null, "setup_fee": "x", "aadhaar_verified": "yes",
                "capabilities": {"voice": true}, "tags": ["a"], "extra": {"deep": [1, {"x": 2}]}}"#,
        )
        .unwrap();
        assert_eq!(rec.id, Loose::WrongType("number"));
        assert_eq!(rec.e164, Loose::Value("+911".into()));
        assert_eq!(rec.status, Loose::Null);
        assert_eq!(rec.account_id, Loose::Absent);
        assert_eq!(rec.setup_fee, JsonDecimal::Invalid("\"x\"".into()));
        assert_eq!(rec.monthly_fee, JsonDecimal::Absent);
        assert_eq!(rec.aadhaar_verified, Loose::WrongType("string"));
    }

    #[test]
    fn fingerprints_compare_parsed_values_not_text() {
        let a = NumberRecord::from_json(
            r#"{"id": "x", "e164": "+9180", "monthly_fee": 100, "tags": ["a"]}"#,
        );
        for same in [
            "{\"monthly_fee\":100,\n \"e164\":\"+9180\", \"id\":\"x\"}",
            r#"{"id": "x", "e164": "\u002b9180", "monthly_fee": 100}"#,
            r#"{"id": "\u0078", "e164": "+9180", "monthly_fee": "100.0"}"#,
            r#"{"id": "x", "e164": "+9180", "monthly_fee": 1e2, "tags": ["b"]}"#,
        ] {
            assert_eq!(
                NumberRecord::from_json(same).fingerprint,
                a.fingerprint,
                "{same}"
            );
        }
        for different in [
            r#"{"id": "x", "e164": "+9181", "monthly_fee": 100}"#,
            r#"{"id": "x", "e164": "+9180", "monthly_fee": 100.01}"#,
            r#"{"id": "x", "e164": "+9180", "monthly_fee": null}"#,
            r#"{"id": "x", "e164": "+9180"}"#,
            r#"{"id": "x", "e164": "+9180", "monthly_fee": 100, "status": null}"#,
        ] {
            assert_ne!(
                NumberRecord::from_json(different).fingerprint,
                a.fingerprint,
                "{different}"
            );
        }
        let bad = NumberRecord::from_json("42");
        assert!(bad.unreadable.unwrap().contains("not a number object"));
        // Never read positionally, as serde would read an array into a struct.
        let bad = NumberRecord::from_json(r#"["n1", "MA_1", "+9180"]"#);
        assert!(bad.unreadable.unwrap().contains("not a JSON object"));
        assert_eq!(bad.id, Loose::Absent);
    }

    #[test]
    fn null_fee_is_null() {
        let rec: NumberRecord = serde_json::from_str(r#"{"monthly_fee": null}"#).unwrap();
        assert_eq!(rec.monthly_fee, JsonDecimal::Null);
    }
}
