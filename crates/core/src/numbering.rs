//! Invoice number formats: `{prefix}/{fy}/{seq:05}` → `DID/26-27/00001` (SPEC §2.5).
//!
//! GST rule 46 limits an invoice number to 16 characters of letters, digits, `-`
//! and `/`. A format is checked once, at start, against the longest number it can
//! produce; `{seq:0N}` has at most N digits, so a year's sequence is capped at
//! 10^N − 1 and running past it is an error, never a 17-character number.
//!
//! Every series (invoices, credit notes, debit notes) is also IRP-safe: the
//! e-invoice portal accepts document numbers of upper-case letters, digits, `/` and
//! `-` only, not starting with `0`, `/` or `-`. A format that could produce a number
//! the IRP rejects is refused at start, naming its configuration key, rather than
//! discovered the day the partner starts e-invoicing.

/// Longest invoice number GST allows.
pub const MAX_LEN: usize = 16;

/// One piece of a parsed format.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Fy,
    Seq { width: usize },
}

/// A validated invoice number format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberFormat {
    pieces: Vec<Piece>,
    width: usize,
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '/'
}

/// Characters the IRP accepts in a document number.
fn irp_allowed(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '/'
}

impl NumberFormat {
    /// Parses `invoice.number_format` with `{prefix}` replaced by `prefix`;
    /// explains any problem.
    pub fn parse(format: &str, prefix: &str) -> Result<NumberFormat, String> {
        NumberFormat::parse_series("invoice.number_format", format, prefix)
    }

    /// Parses the number format of the series configured under `key` (such as
    /// `credit_note.number_format`), naming `key` in every problem it explains.
    pub fn parse_series(key: &str, format: &str, prefix: &str) -> Result<NumberFormat, String> {
        if let Some(c) = prefix.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "invoice.prefix {prefix:?} contains {c:?}; GST invoice numbers may only use letters, digits, '-' and '/'"
            ));
        }
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = format;
        let mut width = None;
        let mut has_fy = false;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| format!("{key} {format:?} has an unclosed '{{'"))?;
            let name = &rest[open + 1..close];
            match name {
                "prefix" => literal.push_str(prefix),
                "fy" => {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    pieces.push(Piece::Fy);
                    has_fy = true;
                }
                _ => {
                    let w = name
                        .strip_prefix("seq:0")
                        .and_then(|w| w.parse::<usize>().ok())
                        .filter(|w| (1..=9).contains(w))
                        .ok_or_else(|| {
                            format!(
                                "{key} {format:?}: unknown placeholder {{{name}}}; \
                                 use {{prefix}}, {{fy}} and {{seq:0N}} with N from 1 to 9, e.g. {{seq:05}}"
                            )
                        })?;
                    if width.replace(w).is_some() {
                        return Err(format!("{key} {format:?} has {{seq}} twice"));
                    }
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    pieces.push(Piece::Seq { width: w });
                }
            }
            rest = &rest[close + 1..];
        }
        literal.push_str(rest);
        pieces.push(Piece::Literal(literal));
        pieces.retain(|p| !matches!(p, Piece::Literal(l) if l.is_empty()));
        let width = width.ok_or_else(|| {
            format!("{key} {format:?} has no {{seq:0N}}: invoice numbers would repeat")
        })?;
        if !has_fy {
            return Err(format!(
                "{key} {format:?} has no {{fy}}: the sequence restarts every financial \
                 year, so numbers would repeat across years"
            ));
        }
        let parsed = NumberFormat { pieces, width };
        let longest = parsed.render("00-00", parsed.max_seq());
        if let Some(c) = longest.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "{key} {format:?} contains {c:?}; GST invoice numbers may only use letters, digits, '-' and '/'"
            ));
        }
        if longest.len() > MAX_LEN {
            return Err(format!(
                "{key} {format:?} can produce {longest:?} ({} characters); GST allows at most {MAX_LEN}",
                longest.len()
            ));
        }
        if let Some(c) = longest.chars().find(|c| !irp_allowed(*c)) {
            return Err(format!(
                "{key} {format:?} contains {c:?}; the e-invoice portal (IRP) accepts only upper-case \
                 letters, digits, '-' and '/' in document numbers"
            ));
        }
        // The year as the IRP would see it in this century; `seq` starts at 1, so a
        // leading {seq:0N} of N > 1 always starts with `0`.
        let first = parsed.render("26-27", 1);
        if let Some(c) = first
            .chars()
            .next()
            .filter(|c| matches!(c, '0' | '/' | '-'))
        {
            return Err(format!(
                "{key} {format:?} produces {first:?}, which starts with {c:?}; the e-invoice portal \
                 (IRP) refuses document numbers starting with '0', '/' or '-'"
            ));
        }
        Ok(parsed)
    }

    /// The largest sequence number the format can hold.
    pub fn max_seq(&self) -> u64 {
        10u64.pow(self.width as u32) - 1
    }

    /// The invoice number for financial year `fy` (`26-27`) and sequence `seq`.
    pub fn render(&self, fy: &str, seq: u64) -> String {
        let mut out = String::with_capacity(MAX_LEN);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::Fy => out.push_str(fy),
                Piece::Seq { width } => out.push_str(&format!("{seq:0width$}")),
            }
        }
        out
    }
}

/// The number of the `seq`-th draft invoice of a `--dry-run`: `DRAFT-0001`.
pub fn draft_number(seq: u64) -> String {
    format!("DRAFT-{seq:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_format_renders_like_the_spec() {
        let f = NumberFormat::parse("{prefix}/{fy}/{seq:05}", "DID").unwrap();
        assert_eq!(f.render("26-27", 1), "DID/26-27/00001");
        assert_eq!(f.max_seq(), 99_999);
        assert_eq!(f.render("26-27", 99_999).len(), 15);
        assert_eq!(draft_number(2), "DRAFT-0002");
    }

    #[test]
    fn formats_that_break_gst_rule_46_are_rejected() {
        let cases = [
            ("{prefix}/{fy}/{seq:08}", "DID", "at most 16"),
            ("{prefix}/{fy}/{seq:05}", "DIDBILL", "at most 16"),
            ("{prefix}_{fy}_{seq:05}", "D", "'_'"),
            ("{prefix}/{fy}/{seq:05}", "D D", "prefix"),
            ("{prefix}/{seq:05}", "DID", "no {fy}"),
            ("{prefix}/{fy}", "DID", "no {seq"),
            ("{prefix}/{fy}/{seq}", "DID", "unknown placeholder"),
            ("{prefix}/{fy}/{seq:05", "DID", "unclosed"),
            ("{fy}{seq:03}{seq:03}", "", "twice"),
        ];
        for (format, prefix, needle) in cases {
            let err = NumberFormat::parse(format, prefix).unwrap_err();
            assert!(err.contains(needle), "{format} {prefix}: {err}");
        }
        let err = NumberFormat::parse_series("credit_note.number_format", "{fy}/{seq:05}x", "")
            .unwrap_err();
        assert!(err.starts_with("credit_note.number_format"), "{err}");
        assert_eq!(
            NumberFormat::parse("INV-{fy}-{seq:06}", "x")
                .unwrap()
                .render("27-28", 42),
            "INV-27-28-000042"
        );
    }

    #[test]
    fn formats_the_irp_would_reject_are_refused_naming_the_key() {
        let cases = [
            ("cn/{fy}/{seq:05}", "upper-case"),
            ("{seq:05}/{fy}", "starts with '0'"),
            ("/CN/{fy}/{seq:05}", "starts with '/'"),
            ("-{fy}-{seq:05}", "starts with '-'"),
        ];
        for (format, needle) in cases {
            let err =
                NumberFormat::parse_series("debit_note.number_format", format, "").unwrap_err();
            assert!(
                err.contains(needle) && err.contains("debit_note.number_format"),
                "{format}: {err}"
            );
        }
        // A lower-case prefix breaks the invoice series the same way.
        let err = NumberFormat::parse("{prefix}/{fy}/{seq:05}", "inv").unwrap_err();
        assert!(
            err.contains("invoice.number_format") && err.contains("upper-case"),
            "{err}"
        );
        // The defaults are IRP-safe; a leading {fy} or a single-digit seq is fine.
        assert!(NumberFormat::parse_series("k", "{fy}/{seq:05}", "").is_ok());
        assert!(NumberFormat::parse_series("k", "{seq:01}-{fy}", "").is_ok());
        assert_eq!(
            NumberFormat::parse_series("k", "CN/{fy}/{seq:05}", "")
                .unwrap()
                .render("26-27", 1),
            "CN/26-27/00001"
        );
    }
}
