//! The bundled fonts: parsed once per renderer, plus the core cuts of DejaVu Sans
//! that are embedded whole instead of being subset into every PDF.

use std::io::Write;

use flate2::{write::ZlibEncoder, Compression};
use printpdf::{FontId, ParsedFont, PdfFont};
use sha2::{Digest, Sha256};

use super::PdfError;

const FONT_FILES: [(&str, &[u8]); 4] = [
    (
        "DejaVuSans.ttf",
        include_bytes!("../../../assets/fonts/DejaVuSans.ttf"),
    ),
    (
        "DejaVuSans-Bold.ttf",
        include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf"),
    ),
    (
        "NotoSansDevanagari-Regular.ttf",
        include_bytes!("../../../assets/fonts/NotoSansDevanagari-Regular.ttf"),
    ),
    (
        "NotoSansDevanagari-Bold.ttf",
        include_bytes!("../../../assets/fonts/NotoSansDevanagari-Bold.ttf"),
    ),
];

/// Fixed resource names (printpdf also tags the per-PDF subsets with them, a tag
/// [`super::PdfRenderer::tag_subsets`] replaces).
const FONT_IDS: [&str; 4] = ["DJVREG", "DJVBLD", "NDVREG", "NDVBLD"];
/// Resource names of the core cuts of DejaVu Sans regular and bold.
const CORE_IDS: [&str; 2] = ["DJVCOR", "DJVCOB"];

/// Characters of DejaVu Sans's core cut: printable ASCII, the rupee sign and common
/// punctuation, which cover nearly every invoice. (All of Latin-1 would add 10 KB
/// to every PDF; accented letters take the full face instead.)
pub(super) fn in_core(c: char) -> bool {
    matches!(
        c as u32,
        0x20..=0x7E | 0xA0 | 0xB7 | 0xD7 | 0x2013 | 0x2014 | 0x2018..=0x201D | 0x2022 | 0x2026 | 0x20B9
    )
}

/// A bundled font, parsed once.
pub(super) struct Face {
    pub(super) font: ParsedFont,
    pub(super) id: FontId,
    pub(super) units_per_em: f32,
}

/// DejaVu Sans (regular or bold) cut down to [`in_core`] characters once per
/// renderer and embedded whole, already compressed. Subsetting and compressing a
/// font for every PDF was most of the cost of a PDF; a run of text with any other
/// character uses the full face, subset into that PDF as before.
pub(super) struct CoreFace {
    pub(super) font: PdfFont,
    pub(super) id: FontId,
    /// The font program exactly as printpdf embeds it (to recognise its stream).
    pub(super) program: Vec<u8>,
    /// `program` zlib-compressed at the best level.
    pub(super) packed: Vec<u8>,
    /// The subset tag of `program` (see [`subset_tag`]), computed once.
    pub(super) tag: String,
}

/// The six-letter subset tag of a font program (ISO 32000-1 §9.6.4): letters of
/// its SHA-256, so a different glyph set gives a different tag and the same one
/// always the same tag (the PDF stays byte-reproducible).
pub(super) fn subset_tag(program: &[u8]) -> String {
    let digest = Sha256::digest(program);
    digest[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// Parses the four bundled faces (DejaVu Sans and Noto Sans Devanagari, regular
/// and bold) and cuts the core fonts from the two DejaVu faces.
pub(super) fn load() -> Result<([Face; 4], [CoreFace; 2]), PdfError> {
    let mut faces = Vec::with_capacity(4);
    for ((file, bytes), id) in FONT_FILES.iter().zip(FONT_IDS) {
        let font = ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or(PdfError::Font(file))?;
        let units_per_em = f32::from(font.font_metrics.units_per_em.max(1));
        faces.push(Face {
            font,
            id: FontId(id.to_string()),
            units_per_em,
        });
    }
    let faces: [Face; 4] = faces
        .try_into()
        .unwrap_or_else(|_| unreachable!("four fonts"));
    let core = [
        CoreFace::new(&faces[0], FONT_FILES[0].0, FONT_FILES[0].1, CORE_IDS[0])?,
        CoreFace::new(&faces[1], FONT_FILES[1].0, FONT_FILES[1].1, CORE_IDS[1])?,
    ];
    Ok((faces, core))
}

impl CoreFace {
    fn new(face: &Face, file: &'static str, bytes: &[u8], id: &str) -> Result<Self, PdfError> {
        use allsorts::{binary::read::ReadScope, font_data::FontData, subset, tag};
        // .notdef first, then the glyphs of the core characters, each once.
        let mut glyphs: Vec<u16> = (0..=0x20B9_u32)
            .filter_map(char::from_u32)
            .filter(|c| in_core(*c))
            .filter_map(|c| face.font.lookup_glyph_index(c as u32))
            .filter(|gid| *gid != 0)
            .collect();
        glyphs.sort_unstable();
        glyphs.dedup();
        glyphs.insert(0, 0);
        let font = ReadScope::new(bytes)
            .read::<FontData<'_>>()
            .map_err(|_| PdfError::Font(file))?;
        let provider = font.table_provider(0).map_err(|_| PdfError::Font(file))?;
        // The tables a PDF TrueType font program needs (ISO 32000 9.9), without the
        // `name` table that printpdf's profile keeps (15 KB of licence text).
        let tables = vec![
            tag::CMAP,
            tag::CVT,
            tag::FPGM,
            tag::GLYF,
            tag::HEAD,
            tag::HHEA,
            tag::HMTX,
            tag::LOCA,
            tag::MAXP,
            tag::POST,
            tag::PREP,
        ];
        let program = subset::subset(
            &provider,
            &glyphs,
            &subset::SubsetProfile::Custom(tables),
            subset::CmapTarget::Unicode,
        )
        .map_err(|_| PdfError::Font(file))?;
        let mut parsed =
            ParsedFont::from_bytes(&program, 0, &mut Vec::new()).ok_or(PdfError::Font(file))?;
        // The cut has no `name` table: give it the face's PostScript name, which
        // printpdf writes as its /BaseFont and /FontName.
        parsed.font_name = face.font.font_name.clone();
        let meta = printpdf::PrintpdfFontMeta {
            embedding_mode: printpdf::FontEmbeddingMode::Full,
            requires_subsetting: false,
            ..Default::default()
        };
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&program).map_err(|_| PdfError::Font(file))?;
        let packed = z.finish().map_err(|_| PdfError::Font(file))?;
        Ok(CoreFace {
            font: PdfFont::with_meta(parsed, meta),
            id: FontId(id.to_string()),
            tag: subset_tag(&program),
            program,
            packed,
        })
    }
}
