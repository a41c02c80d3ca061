//! `[seller]`: the supplier printed on every invoice, and its checks.

use didbill_core::gst;
use serde::Deserialize;

/// The keys a real run needs set: the built-in values of these are a demo seller's,
/// fit for a dry run but never for a numbered tax invoice.
const REQUIRED_FOR_REAL_RUN: [&str; 3] = ["seller.name", "seller.address", "seller.gstin"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FileSeller {
    name: Option<String>,
    address: Option<Vec<String>>,
    gstin: Option<String>,
    state_code: Option<String>,
    email: Option<String>,
    bank_name: Option<String>,
    bank_account: Option<String>,
    ifsc: Option<String>,
    upi_id: Option<String>,
    signatory_name: Option<String>,
    signatory_title: Option<String>,
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
    /// Keys of [`REQUIRED_FOR_REAL_RUN`] the file leaves out, filled with the demo
    /// seller's values: a real run is refused while any is listed.
    pub unset: Vec<&'static str>,
    /// How customers pay the seller, printed on every invoice when any is set.
    pub payment: Payment,
    /// The authorised signatory's name (CGST Rule 46(q)), when set.
    pub signatory_name: Option<String>,
    /// The authorised signatory's title ("Director"), when set.
    pub signatory_title: Option<String>,
}

/// The seller's payment details (`[seller]` `bank_name`, `bank_account`, `ifsc`,
/// `upi_id`); a key left out or blank is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payment {
    /// The bank's name (and branch).
    pub bank_name: Option<String>,
    /// The account number.
    pub bank_account: Option<String>,
    /// The branch's IFSC, upper case.
    pub ifsc: Option<String>,
    /// A UPI ID (`name@bank`).
    pub upi_id: Option<String>,
}

impl Seller {
    /// A warning when the GSTIN fails its mod-36 checksum (a mistyped character):
    /// it is printed on every invoice, and `didbill gstr1` refuses to file under it.
    pub fn gstin_warning(&self) -> Option<String> {
        match gst::check_gstin(&self.gstin) {
            Err(e @ gst::GstinError::CheckCharacter { .. }) if !self.gstin.is_empty() => {
                Some(format!(
                    "seller.gstin {:?} {e}; it is printed on every invoice and `didbill gstr1` \
                     will not file under it: correct it in the configuration",
                    self.gstin
                ))
            }
            _ => None,
        }
    }
}

impl FileSeller {
    /// Checks the seller's GSTIN, state and text; the state comes from the GSTIN
    /// when `state_code` is not set.
    /// Keys left out take the demo seller's values and are listed in
    /// [`Seller::unset`].
    pub(super) fn validate(self) -> Result<Seller, String> {
        let unset = [
            self.name.is_none(),
            self.address.is_none(),
            self.gstin.is_none(),
        ]
        .into_iter()
        .zip(REQUIRED_FOR_REAL_RUN)
        .filter_map(|(missing, key)| missing.then_some(key))
        .collect();
        let name = self.name.unwrap_or_else(|| "Demo Telecom Pvt Ltd".into());
        let address = self
            .address
            .unwrap_or_else(|| vec!["1 MG Road".into(), "Bengaluru 560001".into()]);
        let raw_gstin = self.gstin.unwrap_or_else(|| "29ABCDE1234F1ZW".into());
        let email = self.email.unwrap_or_else(|| "billing@example.com".into());
        let gstin = raw_gstin.trim().to_owned();
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
        if !gstin.is_empty() {
            // The shape is refused here; a wrong check character only warns on
            // every run (see `Seller::gstin_warning`) and stops `gstr1`, so a
            // configuration written before the checksum was checked still loads.
            match gst::check_gstin(&gstin) {
                Ok(()) | Err(gst::GstinError::CheckCharacter { .. }) => {}
                Err(e) => {
                    return Err(format!(
                        "seller.gstin {gstin:?} is not a GSTIN: it {e} (15 characters: state \
                         code, PAN, entity code, Z, check character)"
                    ))
                }
            }
        }
        let optional = [
            ("seller.bank_name", &self.bank_name),
            ("seller.bank_account", &self.bank_account),
            ("seller.ifsc", &self.ifsc),
            ("seller.upi_id", &self.upi_id),
            ("seller.signatory_name", &self.signatory_name),
            ("seller.signatory_title", &self.signatory_title),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_ref().map(|v| (key, v)));
        let text = [
            ("seller.name", &name),
            ("seller.email", &email),
            ("seller.gstin", &raw_gstin),
        ];
        let address_lines = address.iter().map(|l| ("seller.address", l));
        if let Some((key, value)) = text
            .into_iter()
            .chain(address_lines)
            .chain(optional)
            .find(|(_, v)| v.chars().any(crate::text::is_hidden))
        {
            return Err(format!(
                "{key} \"{}\" must not contain line breaks, tabs or other control characters \
                 (one address line per array item)",
                crate::text::escape_hidden(value)
            ));
        }
        if name.trim().is_empty() {
            return Err("seller.name must not be empty: it is printed on every invoice".into());
        }
        let ifsc = set(self.ifsc).map(|i| i.to_ascii_uppercase());
        if let Some(ifsc) = ifsc.as_deref().filter(|i| !looks_like_ifsc(i)) {
            return Err(format!(
                "seller.ifsc {ifsc:?} is not an IFSC (11 characters: 4 letters, 0, then 6 \
                 letters or digits, e.g. \"HDFC0001234\"); fix it or remove the key"
            ));
        }
        Ok(Seller {
            name,
            address,
            gstin,
            state_code,
            email,
            unset,
            payment: Payment {
                bank_name: set(self.bank_name),
                bank_account: set(self.bank_account),
                ifsc,
                upi_id: set(self.upi_id),
            },
            signatory_name: set(self.signatory_name),
            signatory_title: set(self.signatory_title),
        })
    }
}

/// An optional key's value, trimmed; blank counts as not set.
fn set(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The shape of an IFSC (RBI): 4 letters (the bank), `0`, 6 letters or digits (the
/// branch).
fn looks_like_ifsc(ifsc: &str) -> bool {
    let b = ifsc.as_bytes();
    b.len() == 11
        && b[..4].iter().all(u8::is_ascii_uppercase)
        && b[4] == b'0'
        && b[5..].iter().all(u8::is_ascii_alphanumeric)
}
