//! Text hygiene: control characters and bidirectional overrides never reach a CSV
//! cell, an invoice or a terminal as themselves.
//!
//! Names and addresses are *cleaned* (`inventory::clean_text` drops such
//! characters), because they are printed on invoices. Text that reports what a record
//! carried (exception rows, warnings, error messages) is *escaped* instead, so the
//! person fixing the record sees what is there: `\u{1b}` rather than a terminal
//! colour change, `\u{202e}` rather than text that silently reads backwards.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is a bidirectional embedding, override or isolate (U+202A–U+202E,
/// U+2066–U+2069): invisible characters that reorder the text around them, so a
/// name or an id can read differently from what it is ("Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` must not appear as itself in any output: a control character
/// (C0, DEL, C1) or a bidi control.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// `s` with every hidden character written as an escape (`\n`, `\r`, `\t`, or
/// `\u{1b}`); everything else, right-to-left scripts included, is kept as is.
pub fn escape_hidden(s: &str) -> Cow<'_, str> {
    escape(s, is_hidden)
}

/// Like [`escape_hidden`], but tabs and carriage returns at the very start are kept
/// as themselves: a CSV cell that begins with them is guarded with a leading `'`
/// (SPEC §4) rather than rewritten, so a spreadsheet shows what the record holds.
/// Everything hidden after the first other character is escaped.
pub fn escape_inside(s: &str) -> Cow<'_, str> {
    let rest = s.trim_start_matches(['\t', '\r']);
    match escape_hidden(rest) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(escaped) => Cow::Owned(format!("{}{escaped}", &s[..s.len() - rest.len()])),
    }
}

/// Like [`escape_hidden`] but keeps line breaks: for multi-line messages printed
/// on a terminal.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    escape(s, |c| c != '\n' && is_hidden(c))
}

fn escape(s: &str, hidden: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !hidden(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Writing into a String cannot fail.
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// Whether text begins with a character a spreadsheet reads as the start of a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return).
pub fn starts_like_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_escaped_and_scripts_kept() {
        assert_eq!(escape_hidden("Acme"), "Acme");
        assert!(matches!(escape_hidden("شركة"), Cow::Borrowed(_)));
        assert_eq!(
            escape_hidden("a\u{1b}[31mb\nc\td\re\u{0}"),
            "a\\u{1b}[31mb\\nc\\td\\re\\u{0}"
        );
        assert_eq!(escape_hidden("x\u{202E}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(escape_hidden("\u{85}\u{7f}"), "\\u{85}\\u{7f}");
        assert_eq!(for_terminal("one\ntwo\u{7}"), "one\ntwo\\u{7}");
        assert!(!is_hidden('\u{200F}'), "a right-to-left mark is harmless");
    }

    #[test]
    fn a_leading_tab_or_return_is_kept_for_the_csv_guard_and_the_rest_escaped() {
        assert_eq!(escape_inside("\t\r+91\t\u{1b}"), "\t\r+91\\t\\u{1b}");
        assert!(matches!(escape_inside("\tAcme"), Cow::Borrowed("\tAcme")));
        assert_eq!(escape_inside("a\tb"), "a\\tb");
        assert_eq!(escape_inside("\u{1b}\t"), "\\u{1b}\\t");
    }
}
