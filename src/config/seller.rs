//! `[seller]`: the supplier printed on every invoice, and its checks.

use didbill_core::gst;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileSeller {
    name: String,
    address: Vec<String>,
    gstin: String,
    state_code: Option<String>,
    email: String,
}

impl Default for FileSeller {
    fn default() -> Self {
        FileSeller {
            name: "Demo Telecom Pvt Ltd".into(),
            address: vec!["1 MG Road".into(), "Bengaluru 560001".into()],
            gstin: "29ABCDE1234F1Z5".into(),
            state_code: None,
            email: "billing@example.com".into(),
        }
    }
}

/// The seller printed on every invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seller {
    /// Legal name.
    pub name: String,
    /// Address lines.
    pub address: Vec<String>,
    /// GSTIN (may be empty for an unregistered seller).
    pub gstin: String,
    /// GST state code of the seller, e.g. `29`.
    pub state_code: String,
    /// Billing email.
    pub email: String,
}

impl FileSeller {
    /// Checks the seller's GSTIN, state and text; the state comes from the GSTIN
    /// when `state_code` is not set.
    pub(super) fn validate(self) -> Result<Seller, String> {
        let gstin = self.gstin.trim().to_owned();
        let state_code = match &self.state_code {
            Some(code) if gst::is_state_code(code.trim()) => code.trim().to_owned(),
            Some(code) => {
                return Err(format!(
                    "seller.state_code {code:?} is not a GST state code (two digits, e.g. \"29\" for Karnataka)"
                ))
            }
            None => gst::gstin_state_code(&gstin)
                .ok_or_else(|| {
                    format!(
                        "seller.state_code is not set and seller.gstin {gstin:?} does not start with a GST state code; set one of them"
                    )
                })?
                .to_owned(),
        };
        if !gstin.is_empty() && !looks_like_gstin(&gstin) {
            return Err(format!(
                "seller.gstin {gstin:?} is not a GSTIN (15 characters: state code, PAN, entity, Z, check)"
            ));
        }
        let text = [
            ("seller.name", &self.name),
            ("seller.email", &self.email),
            ("seller.gstin", &self.gstin),
        ];
        let address = self.address.iter().map(|l| ("seller.address", l));
        if let Some((key, value)) = text
            .into_iter()
            .chain(address)
            .find(|(_, v)| v.chars().any(crate::text::is_hidden))
        {
            return Err(format!(
                "{key} \"{}\" must not contain line breaks, tabs or other control characters \
                 (one address line per array item)",
                crate::text::escape_hidden(value)
            ));
        }
        if self.name.trim().is_empty() {
            return Err("seller.name must not be empty: it is printed on every invoice".into());
        }
        Ok(Seller {
            name: self.name,
            address: self.address,
            gstin,
            state_code,
            email: self.email,
        })
    }
}

/// The shape of a GSTIN: state code, PAN (5 letters, 4 digits, a letter), entity
/// code, `Z`, check character.
pub fn looks_like_gstin(g: &str) -> bool {
    let b = g.as_bytes();
    b.len() == 15
        && gst::gstin_state_code(g).is_some()
        && b[2..7].iter().all(u8::is_ascii_uppercase)
        && b[7..11].iter().all(u8::is_ascii_digit)
        && b[11].is_ascii_uppercase()
        && b[12].is_ascii_alphanumeric()
        && b[13].is_ascii_alphanumeric()
        && b[14].is_ascii_alphanumeric()
}
