//! Indian GST state codes: the table of states and union territories, and how a
//! customer's place of supply is found (SPEC §2.3).

/// Place of supply code for a customer outside India (export of services).
pub const EXPORT_CODE: &str = "96";

/// One GST state or union territory: code, name, and the abbreviations in use.
struct State {
    code: &'static str,
    name: &'static str,
    abbreviations: &'static [&'static str],
    /// Other names people write, already normalised (see [`normalise`]).
    aliases: &'static [&'static str],
}

/// Every GST state code, 01–38 and 97. Codes 25 (Daman and Diu) and 28 (Andhra
/// Pradesh before division) only appear in older GSTINs: written names and
/// abbreviations map to their successors 26 and 37.
const STATES: &[State] = &[
    State {
        code: "01",
        name: "Jammu and Kashmir",
        abbreviations: &["JK"],
        // "J&K", the usual short form in Indian addresses.
        aliases: &["j and k"],
    },
    State {
        code: "02",
        name: "Himachal Pradesh",
        abbreviations: &["HP"],
        aliases: &[],
    },
    State {
        code: "03",
        name: "Punjab",
        abbreviations: &["PB"],
        aliases: &[],
    },
    State {
        code: "04",
        name: "Chandigarh",
        abbreviations: &["CH"],
        aliases: &[],
    },
    State {
        code: "05",
        name: "Uttarakhand",
        abbreviations: &["UK", "UT"],
        aliases: &["uttaranchal"],
    },
    State {
        code: "06",
        name: "Haryana",
        abbreviations: &["HR"],
        aliases: &[],
    },
    State {
        code: "07",
        name: "Delhi",
        abbreviations: &["DL"],
        aliases: &[
            "new delhi",
            "nct of delhi",
            "national capital territory of delhi",
        ],
    },
    State {
        code: "08",
        name: "Rajasthan",
        abbreviations: &["RJ"],
        aliases: &[],
    },
    State {
        code: "09",
        name: "Uttar Pradesh",
        abbreviations: &["UP"],
        aliases: &[],
    },
    State {
        code: "10",
        name: "Bihar",
        abbreviations: &["BR", "BH"],
        aliases: &[],
    },
    State {
        code: "11",
        name: "Sikkim",
        abbreviations: &["SK"],
        aliases: &[],
    },
    State {
        code: "12",
        name: "Arunachal Pradesh",
        abbreviations: &["AR"],
        aliases: &[],
    },
    State {
        code: "13",
        name: "Nagaland",
        abbreviations: &["NL"],
        aliases: &[],
    },
    State {
        code: "14",
        name: "Manipur",
        abbreviations: &["MN"],
        aliases: &[],
    },
    State {
        code: "15",
        name: "Mizoram",
        abbreviations: &["MZ"],
        aliases: &[],
    },
    State {
        code: "16",
        name: "Tripura",
        abbreviations: &["TR"],
        aliases: &[],
    },
    State {
        code: "17",
        name: "Meghalaya",
        abbreviations: &["ML"],
        aliases: &[],
    },
    State {
        code: "18",
        name: "Assam",
        abbreviations: &["AS"],
        aliases: &[],
    },
    State {
        code: "19",
        name: "West Bengal",
        abbreviations: &["WB"],
        aliases: &[],
    },
    State {
        code: "20",
        name: "Jharkhand",
        abbreviations: &["JH"],
        aliases: &[],
    },
    State {
        code: "21",
        name: "Odisha",
        abbreviations: &["OD", "OR"],
        aliases: &["orissa"],
    },
    State {
        code: "22",
        name: "Chhattisgarh",
        abbreviations: &["CG", "CT"],
        aliases: &["chattisgarh"],
    },
    State {
        code: "23",
        name: "Madhya Pradesh",
        abbreviations: &["MP"],
        aliases: &[],
    },
    State {
        code: "24",
        name: "Gujarat",
        abbreviations: &["GJ"],
        aliases: &[],
    },
    State {
        code: "25",
        name: "Daman and Diu",
        abbreviations: &[],
        aliases: &[],
    },
    State {
        code: "26",
        name: "Dadra and Nagar Haveli and Daman and Diu",
        abbreviations: &["DN", "DH", "DD"],
        aliases: &["dadra and nagar haveli", "daman and diu", "dnhdd"],
    },
    State {
        code: "27",
        name: "Maharashtra",
        abbreviations: &["MH"],
        aliases: &[],
    },
    State {
        code: "28",
        name: "Andhra Pradesh (before division)",
        abbreviations: &[],
        aliases: &[],
    },
    State {
        code: "29",
        name: "Karnataka",
        abbreviations: &["KA"],
        aliases: &[],
    },
    State {
        code: "30",
        name: "Goa",
        abbreviations: &["GA"],
        aliases: &[],
    },
    State {
        code: "31",
        name: "Lakshadweep",
        abbreviations: &["LD"],
        aliases: &[],
    },
    State {
        code: "32",
        name: "Kerala",
        abbreviations: &["KL"],
        aliases: &[],
    },
    State {
        code: "33",
        name: "Tamil Nadu",
        abbreviations: &["TN"],
        aliases: &[],
    },
    State {
        code: "34",
        name: "Puducherry",
        abbreviations: &["PY"],
        aliases: &["pondicherry"],
    },
    State {
        code: "35",
        name: "Andaman and Nicobar Islands",
        abbreviations: &["AN"],
        aliases: &["andaman and nicobar"],
    },
    State {
        code: "36",
        name: "Telangana",
        abbreviations: &["TS", "TG"],
        aliases: &[],
    },
    State {
        code: "37",
        name: "Andhra Pradesh",
        abbreviations: &["AP"],
        aliases: &[],
    },
    State {
        code: "38",
        name: "Ladakh",
        abbreviations: &["LA"],
        aliases: &[],
    },
    State {
        code: "97",
        name: "Other Territory",
        abbreviations: &["OT"],
        aliases: &[],
    },
];

/// The two-letter code of each GST state code, as the GST portal lists it and as
/// accounting tools (Zoho Books' `Place of Supply`) expect it. These differ from the
/// vehicle-registration style abbreviations in [`STATES`] for a few states: Andhra
/// Pradesh is `AD`, Odisha `OD`, Chhattisgarh `CG`, Telangana `TS`, Uttarakhand `UK`.
const TWO_LETTER_CODES: &[(&str, &str)] = &[
    ("01", "JK"),
    ("02", "HP"),
    ("03", "PB"),
    ("04", "CH"),
    ("05", "UK"),
    ("06", "HR"),
    ("07", "DL"),
    ("08", "RJ"),
    ("09", "UP"),
    ("10", "BR"),
    ("11", "SK"),
    ("12", "AR"),
    ("13", "NL"),
    ("14", "MN"),
    ("15", "MZ"),
    ("16", "TR"),
    ("17", "ML"),
    ("18", "AS"),
    ("19", "WB"),
    ("20", "JH"),
    ("21", "OD"),
    ("22", "CG"),
    ("23", "MP"),
    ("24", "GJ"),
    ("25", "DD"),
    ("26", "DN"),
    ("27", "MH"),
    ("28", "AP"),
    ("29", "KA"),
    ("30", "GA"),
    ("31", "LD"),
    ("32", "KL"),
    ("33", "TN"),
    ("34", "PY"),
    ("35", "AN"),
    ("36", "TS"),
    ("37", "AD"),
    ("38", "LA"),
    ("97", "OT"),
];

/// The two-letter code of a GST state code (`29` → `KA`); `None` for `96` (other
/// country) and unknown codes.
pub fn two_letter_code(code: &str) -> Option<&'static str> {
    TWO_LETTER_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, letters)| *letters)
}

/// Whether `code` is a GST state code (01–38 or 97).
pub fn is_state_code(code: &str) -> bool {
    STATES.iter().any(|s| s.code == code)
}

/// The name of a GST state code, or of `96` (other country); `None` if unknown.
pub fn state_name(code: &str) -> Option<&'static str> {
    if code == EXPORT_CODE {
        return Some("Other Country");
    }
    STATES.iter().find(|s| s.code == code).map(|s| s.name)
}

/// The GST state code of a state written as a two-letter code (`KA`), a two-digit
/// code (`29`) or a name (`Karnataka`, `tamil nadu`, `Jammu & Kashmir`).
pub fn state_code(state: &str) -> Option<&'static str> {
    let trimmed = state.trim();
    if trimmed.len() == 2 {
        if let Some(s) = STATES.iter().find(|s| s.code == trimmed) {
            return Some(s.code);
        }
        let upper = trimmed.to_ascii_uppercase();
        if let Some(s) = STATES
            .iter()
            .find(|s| s.abbreviations.contains(&upper.as_str()))
        {
            return Some(s.code);
        }
    }
    let wanted = normalise(trimmed);
    if wanted.is_empty() {
        return None;
    }
    STATES
        .iter()
        .filter(|s| s.code != "25" && s.code != "28")
        .find(|s| normalise(s.name) == wanted || s.aliases.contains(&wanted.as_str()))
        .map(|s| s.code)
}

/// The state code in a GSTIN's first two digits, when they are a GST state code.
pub fn gstin_state_code(gstin: &str) -> Option<&'static str> {
    let prefix = gstin.trim().get(..2)?;
    STATES.iter().find(|s| s.code == prefix).map(|s| s.code)
}

/// Why a text is not a valid GSTIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GstinError {
    /// Not 15 characters long.
    Length(usize),
    /// Has lower-case letters (GSTINs are upper case).
    LowerCase,
    /// Does not start with a GST state code (01–38, 97).
    StateCode,
    /// Characters 3–12 are not a PAN (5 letters, 4 digits, a letter), or characters
    /// 13–14 not an entity code and a letter or digit.
    Shape,
    /// The last character is not the check character of the first fourteen.
    CheckCharacter {
        /// The check character the first fourteen characters give.
        expected: char,
    },
}

impl std::fmt::Display for GstinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GstinError::Length(n) => write!(f, "has {n} characters, not 15"),
            GstinError::LowerCase => write!(f, "has lower-case letters"),
            GstinError::StateCode => write!(f, "does not start with a GST state code"),
            GstinError::Shape => write!(
                f,
                "is not state code, PAN (5 letters, 4 digits, a letter), entity code, a \
                 letter or digit and a check character"
            ),
            GstinError::CheckCharacter { expected } => write!(
                f,
                "fails its checksum (the check character of the first 14 characters is \
                 {expected:?}): a character is mistyped"
            ),
        }
    }
}

/// The 36 characters of the GSTIN checksum, in value order.
const GSTIN_CHARS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The check character of a GSTIN's first 14 characters (upper-case letters and
/// digits), by GSTN's mod-36 algorithm: each character's value (0–9, A=10 … Z=35)
/// is multiplied by 1 and 2 alternately, each product's base-36 digits are added,
/// and the check character brings the sum to a multiple of 36.
pub fn gstin_check_character(first14: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, b) in first14.bytes().enumerate() {
        let value = GSTIN_CHARS.iter().position(|c| *c == b)? as u32;
        let product = value * if i % 2 == 0 { 1 } else { 2 };
        sum += product / 36 + product % 36;
    }
    Some(GSTIN_CHARS[((36 - sum % 36) % 36) as usize] as char)
}

/// Checks a GSTIN: 15 characters, upper case, a state code, a PAN, an entity code
/// and the mod-36 check character.
pub fn check_gstin(gstin: &str) -> Result<(), GstinError> {
    let b = gstin.as_bytes();
    if gstin.chars().count() != 15 {
        return Err(GstinError::Length(gstin.chars().count()));
    }
    if gstin.chars().any(|c| c.is_lowercase()) {
        return Err(GstinError::LowerCase);
    }
    if gstin_state_code(gstin).is_none() {
        return Err(GstinError::StateCode);
    }
    let shape = b[2..7].iter().all(u8::is_ascii_uppercase)
        && b[7..11].iter().all(u8::is_ascii_digit)
        && b[11].is_ascii_uppercase()
        && b[12..15]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    if !shape {
        return Err(GstinError::Shape);
    }
    let expected = gstin_check_character(&gstin[..14]).ok_or(GstinError::Shape)?;
    if b[14] as char != expected {
        return Err(GstinError::CheckCharacter { expected });
    }
    Ok(())
}

/// Lower case, `&` as `and`, punctuation dropped, single spaces.
fn normalise(name: &str) -> String {
    let spaced = name.to_lowercase().replace('&', " and ");
    let cleaned: String = spaced
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where a customer's place of supply came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlaceOfSupply {
    /// A customer outside India: export of services, code `96`, zero-rated.
    Export,
    /// From the customer's GSTIN or `state`.
    State(&'static str),
    /// Neither GSTIN nor state gave a code: the seller's state was used (a warning).
    SellerFallback(String),
}

impl PlaceOfSupply {
    /// Finds the place of supply of a customer from its country, GSTIN and state.
    pub fn of(
        country: Option<&str>,
        gstin: Option<&str>,
        state: Option<&str>,
        seller_state: &str,
    ) -> PlaceOfSupply {
        let abroad = country
            .map(str::trim)
            .is_some_and(|c| !c.is_empty() && !c.eq_ignore_ascii_case("IN"));
        if abroad {
            return PlaceOfSupply::Export;
        }
        if let Some(code) = gstin.and_then(gstin_state_code) {
            return PlaceOfSupply::State(code);
        }
        match state.and_then(state_code) {
            Some(code) => PlaceOfSupply::State(code),
            None => PlaceOfSupply::SellerFallback(seller_state.to_owned()),
        }
    }

    /// The two-digit code written on the invoice.
    pub fn code(&self) -> &str {
        match self {
            PlaceOfSupply::Export => EXPORT_CODE,
            PlaceOfSupply::State(c) => c,
            PlaceOfSupply::SellerFallback(c) => c,
        }
    }

    /// The place of supply an issued invoice recorded as its two-digit `code`
    /// (`96` abroad; a code outside the table is kept as written).
    pub fn from_code(code: &str) -> PlaceOfSupply {
        if code == EXPORT_CODE {
            return PlaceOfSupply::Export;
        }
        match STATES.iter().find(|s| s.code == code) {
            Some(state) => PlaceOfSupply::State(state.code),
            None => PlaceOfSupply::SellerFallback(code.to_owned()),
        }
    }
}

#[cfg(test)]
mod from_code_tests {
    use super::*;

    #[test]
    fn a_recorded_code_is_read_back_as_its_place_of_supply() {
        assert_eq!(PlaceOfSupply::from_code("96"), PlaceOfSupply::Export);
        assert_eq!(PlaceOfSupply::from_code("29"), PlaceOfSupply::State("29"));
        assert_eq!(PlaceOfSupply::from_code("29").code(), "29");
        assert_eq!(
            PlaceOfSupply::from_code("00"),
            PlaceOfSupply::SellerFallback("00".into())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gstins_are_checked_by_shape_and_mod_36_checksum() {
        // Published example GSTINs whose check characters are right.
        for valid in ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", "29ABCDE1234F1ZW"] {
            assert_eq!(check_gstin(valid), Ok(()), "{valid}");
        }
        // One character off: the checksum catches it.
        assert_eq!(
            check_gstin("27AAPFU0939F1ZW"),
            Err(GstinError::CheckCharacter { expected: 'V' })
        );
        assert_eq!(
            check_gstin("27AAPFU0938F1ZV"),
            Err(GstinError::CheckCharacter { expected: 'W' })
        );
        assert_eq!(check_gstin("27aapfu0939f1zv"), Err(GstinError::LowerCase));
        assert_eq!(check_gstin("27AAPFU0939F1Z"), Err(GstinError::Length(14)));
        assert_eq!(check_gstin("27AAPFU0939F1ZVV"), Err(GstinError::Length(16)));
        assert_eq!(check_gstin("99AAPFU0939F1ZV"), Err(GstinError::StateCode));
        assert_eq!(check_gstin("27AAPF10939F1ZV"), Err(GstinError::Shape));
        assert_eq!(check_gstin("27AAPFU0939F-ZV"), Err(GstinError::Shape));
        assert_eq!(gstin_check_character("29ABCDE1234F1Z"), Some('W'));
        assert!(GstinError::CheckCharacter { expected: 'W' }
            .to_string()
            .contains("'W'"));
    }

    #[test]
    fn every_state_and_ut_resolves_by_name_and_abbreviation() {
        let cases = [
            ("Karnataka", "29"),
            ("KA", "29"),
            ("ka", "29"),
            (" tamil  nadu ", "33"),
            ("Jammu & Kashmir", "01"),
            ("J&K", "01"),
            ("j & k", "01"),
            ("J. & K.", "01"),
            ("TS", "36"),
            ("TG", "36"),
            ("Telangana", "36"),
            ("UK", "05"),
            ("UT", "05"),
            ("Uttaranchal", "05"),
            ("Orissa", "21"),
            ("OR", "21"),
            ("OD", "21"),
            ("CG", "22"),
            ("CT", "22"),
            ("Andhra Pradesh", "37"),
            ("AP", "37"),
            ("Dadra and Nagar Haveli and Daman and Diu", "26"),
            ("Daman and Diu", "26"),
            ("DD", "26"),
            ("DN", "26"),
            ("Ladakh", "38"),
            ("Pondicherry", "34"),
            ("Andaman and Nicobar Islands", "35"),
            ("New Delhi", "07"),
            ("Delhi", "07"),
            ("Maharashtra", "27"),
            ("West Bengal", "19"),
            ("Lakshadweep", "31"),
            ("29", "29"),
        ];
        for (input, code) in cases {
            assert_eq!(state_code(input), Some(code), "{input}");
        }
        for s in STATES.iter().filter(|s| s.code != "25" && s.code != "28") {
            assert_eq!(state_code(s.name), Some(s.code), "{}", s.name);
            for a in s.abbreviations {
                assert_eq!(state_code(a), Some(s.code), "{a}");
            }
        }
        for bad in ["", "XX", "Narnia", "96", "99", "K A"] {
            assert_eq!(state_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_state_code_has_exactly_one_two_letter_code() {
        for s in STATES {
            let letters = two_letter_code(s.code).unwrap_or_else(|| panic!("{}", s.code));
            assert!(
                letters.len() == 2 && letters.bytes().all(|b| b.is_ascii_uppercase()),
                "{letters}"
            );
        }
        assert_eq!(TWO_LETTER_CODES.len(), STATES.len());
        let cases = [
            ("29", "KA"),
            ("33", "TN"),
            ("36", "TS"),
            ("37", "AD"),
            ("05", "UK"),
            ("26", "DN"),
            ("97", "OT"),
        ];
        for (code, letters) in cases {
            assert_eq!(two_letter_code(code), Some(letters), "{code}");
        }
        assert_eq!(two_letter_code(EXPORT_CODE), None);
        assert_eq!(two_letter_code("99"), None);
    }

    #[test]
    fn place_of_supply_prefers_gstin_then_state_then_seller() {
        let pos = |country, gstin, state| PlaceOfSupply::of(country, gstin, state, "29");
        assert_eq!(
            pos(None, Some("27AAACB1234C1Z5"), Some("KA")),
            PlaceOfSupply::State("27")
        );
        assert_eq!(
            pos(Some("IN"), Some("99XXXXX"), Some("Kerala")),
            PlaceOfSupply::State("32")
        );
        assert_eq!(
            pos(Some("in"), None, Some("TN")),
            PlaceOfSupply::State("33")
        );
        assert_eq!(
            pos(None, None, None),
            PlaceOfSupply::SellerFallback("29".into())
        );
        assert_eq!(
            pos(Some("US"), Some("29AAACB1234C1Z5"), Some("KA")),
            PlaceOfSupply::Export
        );
        assert_eq!(pos(Some(""), None, Some("Goa")).code(), "30");
        assert_eq!(PlaceOfSupply::Export.code(), "96");
        assert_eq!(state_name("96"), Some("Other Country"));
        assert_eq!(state_name("29"), Some("Karnataka"));
        assert!(is_state_code("38") && is_state_code("97") && !is_state_code("39"));
    }
}
