//! Text: splitting into script runs, OpenType shaping of Devanagari, measuring
//! and wrapping by glyph advances.

use azul_layout::text3::{
    cache::{BidiDirection, StyleProperties},
    default::shape_text_for_parsed_font,
    script::{Language, Script},
};

use super::page::{BLACK, GREY, LINE_SPACING};
use super::PdfRenderer;

/// The script of a run of text, which picks its font (DejaVu Sans or Noto Sans
/// Devanagari).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum RunScript {
    Latin,
    Devanagari,
}

/// How a piece of text is set: weight, size (pt) and grey level.
#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) bold: bool,
    pub(super) size: f32,
    pub(super) grey: f32,
}

impl Style {
    pub(super) const fn new(size: f32) -> Self {
        Style {
            bold: false,
            size,
            grey: BLACK,
        }
    }
    pub(super) const fn bold(self) -> Self {
        Style { bold: true, ..self }
    }
    pub(super) const fn grey(self) -> Self {
        Style { grey: GREY, ..self }
    }
    pub(super) fn line_height(self) -> f32 {
        self.size * LINE_SPACING
    }
}

/// A glyph placed by the shaper, relative to the start of its run (pt).
pub(super) struct PlacedGlyph {
    pub(super) gid: u16,
    pub(super) x: f32,
    pub(super) y: f32,
    pub(super) text: String,
}

fn is_devanagari(c: char) -> bool {
    matches!(c as u32, 0x0900..=0x097F | 0xA8E0..=0xA8FF | 0x1CD0..=0x1CFF)
}

/// Characters that belong to whichever script surrounds them.
fn is_neutral(c: char) -> bool {
    matches!(c, ' ' | '\u{00A0}' | '\u{200C}' | '\u{200D}')
}

/// Splits text into runs of one script each (spaces and joiners stay with the run
/// they are in).
pub(super) fn script_runs(text: &str) -> Vec<(RunScript, &str)> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut current: Option<RunScript> = None;
    for (i, c) in text.char_indices() {
        if is_neutral(c) {
            continue;
        }
        let script = if is_devanagari(c) {
            RunScript::Devanagari
        } else {
            RunScript::Latin
        };
        match current {
            Some(s) if s != script => {
                runs.push((s, &text[start..i]));
                start = i;
                current = Some(script);
            }
            None => current = Some(script),
            _ => {}
        }
    }
    if start < text.len() {
        runs.push((current.unwrap_or(RunScript::Latin), &text[start..]));
    }
    runs
}

/// The characters a shaped glyph stands for (its text for copy-paste). The shaper
/// reports the first character and the byte length of the glyph's characters, and
/// a byte offset that is right unless glyphs were reordered (pre-base `ि`, reph);
/// then the nearest place in the run that starts with that character is taken.
fn glyph_source(text: &str, offset: usize, len: usize, first: char) -> String {
    let fits = |p: usize| {
        text.get(p..p + len)
            .filter(|s| s.starts_with(first))
            .map(str::to_string)
    };
    fits(offset)
        .or_else(|| {
            text.char_indices()
                .filter(|(_, c)| *c == first)
                .min_by_key(|(p, _)| p.abs_diff(offset))
                .and_then(|(p, _)| fits(p))
        })
        .unwrap_or_else(|| first.to_string())
}

/// May a line break fall before `c` inside a word that must be split? Not before
/// a combining sign and not after a virama or joiner (it would cut a cluster).
fn can_break_between(prev: char, c: char) -> bool {
    let combining = matches!(c as u32,
        0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963 | 0x200C..=0x200D);
    let joining = matches!(prev as u32, 0x094D | 0x200C..=0x200D);
    !combining && !joining
}

impl PdfRenderer {
    /// The index in `faces` (and, for Latin, `core`) of a script's regular or bold
    /// face.
    pub(super) fn face(&self, script: RunScript, bold: bool) -> usize {
        match (script, bold) {
            (RunScript::Latin, false) => 0,
            (RunScript::Latin, true) => 1,
            (RunScript::Devanagari, false) => 2,
            (RunScript::Devanagari, true) => 3,
        }
    }

    /// Advance width of a run set in one face without shaping (pt).
    pub(super) fn plain_width(&self, face: usize, text: &str, size: f32) -> f32 {
        let f = &self.faces[face];
        let units: u32 = text
            .chars()
            .map(|c| {
                let gid = f.font.lookup_glyph_index(c as u32).unwrap_or(0);
                u32::from(f.font.get_horizontal_advance(gid))
            })
            .sum();
        units as f32 * size / f.units_per_em
    }

    /// Shapes a Devanagari run; `None` if the shaper fails (then it is drawn
    /// glyph by glyph).
    pub(super) fn shape(
        &self,
        face: usize,
        text: &str,
        size: f32,
    ) -> Option<(Vec<PlacedGlyph>, f32)> {
        let style = StyleProperties {
            font_size_px: size,
            ..StyleProperties::default()
        };
        let glyphs = shape_text_for_parsed_font(
            self.faces[face].font.as_azul(),
            text,
            Script::Devanagari,
            Language::EnglishUS,
            BidiDirection::Ltr,
            &style,
        )
        .ok()?;
        let mut pen = 0.0;
        let mut placed = Vec::with_capacity(glyphs.len());
        for g in glyphs {
            placed.push(PlacedGlyph {
                gid: g.glyph_id,
                x: pen + g.offset.x,
                y: g.offset.y,
                text: glyph_source(text, g.logical_byte_index, g.logical_byte_len, g.codepoint),
            });
            pen += g.advance + g.kerning;
        }
        Some((placed, pen))
    }

    /// Width of text in a style, as it will be drawn (pt).
    pub(super) fn width(&self, text: &str, style: Style) -> f32 {
        script_runs(text)
            .into_iter()
            .map(|(script, run)| {
                let face = self.face(script, style.bold);
                match script {
                    RunScript::Devanagari => match self.shape(face, run, style.size) {
                        Some((_, w)) => w,
                        None => self.plain_width(face, run, style.size),
                    },
                    RunScript::Latin => self.plain_width(face, run, style.size),
                }
            })
            .sum()
    }

    /// Wraps text into lines no wider than `max` (explicit newlines start new
    /// lines; a word longer than a line is split between characters). A line's
    /// width is the sum of its words' and spaces' widths, so each word is measured
    /// once.
    pub(super) fn wrap(&self, text: &str, style: Style, max: f32) -> Vec<String> {
        // A space is set in the font of the text before it (see `script_runs`).
        let [latin_space, devanagari_space] = [RunScript::Latin, RunScript::Devanagari]
            .map(|script| self.plain_width(self.face(script, style.bold), " ", style.size));
        let space_after = |line: &str| match line.chars().next_back() {
            Some(c) if is_devanagari(c) => devanagari_space,
            _ => latin_space,
        };
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in paragraph.split_whitespace() {
                let word_w = self.width(word, style);
                if line.is_empty() && word_w <= max {
                    line.push_str(word);
                    line_w = word_w;
                    continue;
                }
                let space = space_after(&line);
                if !line.is_empty() && line_w + space + word_w <= max {
                    line.push(' ');
                    line.push_str(word);
                    line_w += space + word_w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if word_w <= max {
                    line = word.to_string();
                    line_w = word_w;
                } else {
                    let mut pieces = self.split_word(word, style, max);
                    line = pieces.pop().unwrap_or_default();
                    line_w = self.width(&line, style);
                    lines.extend(pieces);
                }
            }
            if !line.is_empty() || lines.is_empty() {
                lines.push(line);
            }
        }
        lines
    }

    /// The pieces of a word too wide for a line, broken only between clusters.
    fn split_word(&self, word: &str, style: Style, max: f32) -> Vec<String> {
        let mut pieces = Vec::new();
        let mut piece = String::new();
        let mut prev: Option<char> = None;
        for c in word.chars() {
            let breakable = prev.is_some_and(|p| can_break_between(p, c));
            let mut candidate = piece.clone();
            candidate.push(c);
            if breakable && !piece.is_empty() && self.width(&candidate, style) > max {
                pieces.push(std::mem::take(&mut piece));
            }
            piece.push(c);
            prev = Some(c);
        }
        pieces.push(piece);
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_split_into_script_runs() {
        assert_eq!(script_runs("Sharma"), vec![(RunScript::Latin, "Sharma")]);
        assert_eq!(
            script_runs("शर्मा ट्रेडर्स (Sharma)"),
            vec![
                (RunScript::Devanagari, "शर्मा ट्रेडर्स "),
                (RunScript::Latin, "(Sharma)")
            ]
        );
        assert_eq!(
            script_runs("Plot 12, नई दिल्ली"),
            vec![
                (RunScript::Latin, "Plot 12, "),
                (RunScript::Devanagari, "नई दिल्ली")
            ]
        );
        assert_eq!(script_runs("  "), vec![(RunScript::Latin, "  ")]);
        assert!(script_runs("").is_empty());
    }

    #[test]
    fn wrapped_lines_fit_their_width() {
        let r = PdfRenderer::new(None).unwrap();
        let style = Style::new(9.0);
        let text = "No. 14, 3rd Cross, Peenya Industrial Area Phase II, मकान नं. 12, \
                    गांधी मार्ग, श्रीनगर कॉलोनी, Bengaluru AVeryLongWordWithoutSpacesAtAll";
        for width in [40.0, 80.0, 150.0, 300.0] {
            let lines = r.wrap(text, style, width);
            assert!(lines.len() > 1);
            for line in &lines {
                assert!(
                    r.width(line, style) <= width + 0.01,
                    "{line:?} wider than {width}"
                );
            }
            let rejoined: String = lines.concat().split_whitespace().collect();
            let original: String = text.split_whitespace().collect();
            assert_eq!(rejoined, original, "wrapping lost text at width {width}");
        }
        assert_eq!(r.wrap("", style, 100.0), vec![String::new()]);
        assert_eq!(r.wrap("a\nb", style, 100.0), vec!["a", "b"]);
    }

    #[test]
    fn wrapping_by_word_widths_breaks_where_measuring_whole_lines_does() {
        let r = PdfRenderer::new(None).unwrap();
        // The reference: every candidate line measured whole, as it is drawn.
        let reference = |text: &str, style: Style, max: f32| {
            let mut lines = Vec::new();
            let mut line = String::new();
            for word in text.split_whitespace() {
                let candidate = match line.is_empty() {
                    true => word.to_string(),
                    false => format!("{line} {word}"),
                };
                if r.width(&candidate, style) <= max {
                    line = candidate;
                } else {
                    lines.push(std::mem::replace(&mut line, word.to_string()));
                }
            }
            lines.push(line);
            lines
        };
        let texts = [
            "मकान नं. 12, गांधी मार्ग, क्षेत्र 4, नई दिल्ली 110001 शर्मा ट्रेडर्स प्राइवेट लिमिटेड कार्यालय",
            "Sharma ट्रेडर्स (Private) Limited, प्लॉट 14, 3rd Cross, Peenya Industrial Area Phase II",
            "Monthly rental (₹1,250.00/month), 16 of 30 days — Société Générale, Zürich",
        ];
        let mut lines = 0;
        for text in texts {
            for max in [90.0, 110.0, 130.0, 150.0, 190.0, 230.0] {
                for style in [Style::new(9.0), Style::new(11.0).bold()] {
                    // (Words longer than a line are split, which the reference does not.)
                    if text.split_whitespace().any(|w| r.width(w, style) > max) {
                        continue;
                    }
                    let wrapped = r.wrap(text, style, max);
                    assert_eq!(wrapped, reference(text, style, max), "{text} in {max} pt");
                    lines += wrapped.len();
                }
            }
        }
        assert!(lines > 60, "the texts wrap ({lines} lines)");
    }

    #[test]
    fn devanagari_is_shaped_into_conjuncts() {
        let r = PdfRenderer::new(None).unwrap();
        // क्ष is one conjunct glyph in Noto Sans Devanagari, not क + ् + ष.
        let (glyphs, width) = r.shape(2, "क्ष", 10.0).expect("shapes");
        assert_eq!(glyphs.len(), 1, "conjunct not formed");
        assert_eq!(glyphs[0].text, "क्ष");
        assert!(width > 0.0);
        // The pre-base matra of कि is drawn first, and each glyph keeps its text.
        let (glyphs, _) = r.shape(2, "कि", 10.0).expect("shapes");
        assert_eq!(glyphs.len(), 2);
        assert_eq!(
            (glyphs[0].text.as_str(), glyphs[1].text.as_str()),
            ("ि", "क")
        );
        // Reph: र् is drawn above the end of the cluster.
        let (glyphs, _) = r.shape(2, "र्म", 10.0).expect("shapes");
        let texts: Vec<&str> = glyphs.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(texts, ["म", "र्"]);
    }
}
