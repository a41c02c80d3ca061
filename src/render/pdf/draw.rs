//! Drawing: pages of printpdf operations built up text line by text line, with
//! the fonts they use recorded so that only those are embedded.

use printpdf::{
    Codepoint, Color, DictItem, Greyscale, Line, LinePoint, Op, PaintMode, PdfFontHandle, PdfPage,
    Point, Pt, Rect, TextItem, TextMatrix,
};

use super::fonts::in_core;
use super::page::{CONTENT_BOTTOM, MARGIN_X, PAGE_H, PAGE_W, RIGHT_EDGE, RULE_GREY};
use super::template::Words;
use super::text::{script_runs, RunScript, Style};
use super::{PdfError, PdfInvoice, PdfRenderer};

/// Pages under construction; `y` runs downwards from the top of the page.
pub(super) struct Canvas<'r> {
    pub(super) renderer: &'r PdfRenderer,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    fonts: FontsUsed,
}

/// Where a line of text goes: the start of its baseline on the page (PDF
/// coordinates, from the bottom left) and the baseline's direction.
#[derive(Clone, Copy)]
struct Baseline {
    x: f32,
    y: f32,
    cos: f32,
    sin: f32,
}

impl Baseline {
    /// A horizontal baseline.
    fn level(x: f32, y: f32) -> Self {
        Baseline {
            x,
            y,
            cos: 1.0,
            sin: 0.0,
        }
    }

    /// The text matrix of a glyph or run `dx` along the baseline and `dy` above it.
    fn matrix(self, dx: f32, dy: f32) -> TextMatrix {
        let x = self.x + dx * self.cos - dy * self.sin;
        let y = self.y + dx * self.sin + dy * self.cos;
        if self.sin == 0.0 {
            TextMatrix::Translate(Pt(x), Pt(y))
        } else {
            TextMatrix::Raw([self.cos, self.sin, -self.sin, self.cos, x, y])
        }
    }
}

/// The fonts a document's text uses, which are the ones it embeds.
#[derive(Default, Clone, Copy)]
pub(super) struct FontsUsed {
    /// Which of the renderer's `faces`.
    pub(super) full: [bool; 4],
    /// Which of the renderer's `core` cuts.
    pub(super) core: [bool; 2],
}

impl<'r> Canvas<'r> {
    /// An empty document drawn with `renderer`'s fonts.
    pub(super) fn new(renderer: &'r PdfRenderer) -> Self {
        Canvas {
            renderer,
            pages: Vec::new(),
            ops: Vec::new(),
            fonts: FontsUsed::default(),
        }
    }

    /// Closes the page being drawn and starts the next one.
    pub(super) fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.ops));
    }

    fn fill(&mut self, grey: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale::new(grey, None)),
        });
    }

    /// One line of text whose line box starts at `top`.
    pub(super) fn text(&mut self, x: f32, top: f32, text: &str, style: Style) {
        let baseline = Baseline::level(x, PAGE_H - (top + style.size));
        self.text_on(baseline, text, style);
    }

    /// One line of text set along `baseline`.
    fn text_on(&mut self, baseline: Baseline, text: &str, style: Style) {
        self.fill(style.grey);
        let mut pen = 0.0;
        for (script, run) in script_runs(text) {
            let face = self.renderer.face(script, style.bold);
            let id = if script == RunScript::Latin && run.chars().all(in_core) {
                self.fonts.core[face] = true;
                &self.renderer.core[face].id
            } else {
                self.fonts.full[face] = true;
                &self.renderer.faces[face].id
            };
            let font = PdfFontHandle::External(id.clone());
            let shaped = match script {
                RunScript::Devanagari => self.renderer.shape(face, run, style.size),
                RunScript::Latin => None,
            };
            if shaped.is_some() {
                self.ops.push(actual_text(run));
            }
            self.ops.push(Op::StartTextSection);
            self.ops.push(Op::SetFont {
                font,
                size: Pt(style.size),
            });
            let actual_text = shaped.is_some();
            match shaped {
                Some((glyphs, width)) => {
                    for g in glyphs {
                        self.ops.push(Op::SetTextMatrix {
                            matrix: baseline.matrix(pen + g.x, g.y),
                        });
                        self.ops.push(Op::ShowText {
                            items: vec![TextItem::GlyphIds(vec![Codepoint::with_cid(
                                g.gid, 0.0, g.text,
                            )])],
                        });
                    }
                    pen += width;
                }
                None => {
                    self.ops.push(Op::SetTextMatrix {
                        matrix: baseline.matrix(pen, 0.0),
                    });
                    self.ops.push(Op::ShowText {
                        items: vec![TextItem::Text(run.to_string())],
                    });
                    pen += self.renderer.plain_width(face, run, style.size);
                }
            }
            self.ops.push(Op::EndTextSection);
            if actual_text {
                self.ops.push(Op::EndMarkedContent);
            }
        }
    }

    /// One line of text ending at `right`.
    pub(super) fn text_right(&mut self, right: f32, top: f32, text: &str, style: Style) {
        let w = self.renderer.width(text, style);
        self.text(right - w, top, text, style);
    }

    /// One line of text centred on `center`.
    fn text_center(&mut self, center: f32, top: f32, text: &str, style: Style) {
        let w = self.renderer.width(text, style);
        self.text(center - w / 2.0, top, text, style);
    }

    /// Wrapped lines, left- or right-aligned in `[x, x + width]`; returns the
    /// height used.
    pub(super) fn paragraph(
        &mut self,
        x: f32,
        top: f32,
        width: f32,
        text: &str,
        style: Style,
        right: bool,
    ) -> f32 {
        let lines = self.renderer.wrap(text, style, width);
        for (i, line) in lines.iter().enumerate() {
            let y = top + i as f32 * style.line_height();
            if right {
                self.text_right(x + width, y, line, style);
            } else {
                self.text(x, y, line, style);
            }
        }
        lines.len() as f32 * style.line_height()
    }

    /// A horizontal rule at `y` from `x0` to `x1`.
    pub(super) fn hrule(&mut self, x0: f32, x1: f32, y: f32, grey: f32, thickness: f32) {
        self.ops.push(Op::SetOutlineColor {
            col: Color::Greyscale(Greyscale::new(grey, None)),
        });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        let point = |x: f32| LinePoint {
            p: Point {
                x: Pt(x),
                y: Pt(PAGE_H - y),
            },
            bezier: false,
        };
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![point(x0), point(x1)],
                is_closed: false,
            },
        });
    }

    /// A filled grey rectangle, the background of the table header.
    pub(super) fn band(&mut self, x: f32, top: f32, w: f32, h: f32, grey: f32) {
        self.fill(grey);
        let mut rect = Rect::from_xywh(Pt(x), Pt(PAGE_H - top - h), Pt(w), Pt(h));
        rect.mode = Some(PaintMode::Fill);
        self.ops.push(Op::DrawRectangle { rectangle: rect });
    }

    /// A draft's marks on the page being drawn: the watermark across the page and
    /// the banner in the top margin, both from the labels (`watermark`,
    /// `draft_banner`), so no page of a draft can pass for a tax invoice.
    fn draft_marks(&mut self, words: &Words) {
        let mark = Style {
            grey: WATERMARK_GREY,
            ..Style::new(110.0).bold()
        };
        let text = words.get("watermark");
        let (sin, cos) = WATERMARK_ANGLE.to_radians().sin_cos();
        let half = self.renderer.width(text, mark) / 2.0;
        // Centred on the page: back half the width along the baseline, and down
        // about half the height of capitals across it.
        let drop = mark.size * 0.36;
        let baseline = Baseline {
            x: PAGE_W / 2.0 - half * cos + drop * sin,
            y: PAGE_H / 2.0 - half * sin - drop * cos,
            cos,
            sin,
        };
        self.text_on(baseline, text, mark);

        let banner = Style::new(9.0).bold();
        let (top, height) = (14.0, 18.0);
        self.band(MARGIN_X, top, RIGHT_EDGE - MARGIN_X, height, BANNER_GREY);
        let text_top = top + (height - banner.size) / 2.0 - 1.0;
        self.text_center(PAGE_W / 2.0, text_top, words.get("draft_banner"), banner);
    }

    /// Closes the last page, adds "Page X of Y" footers (and on a draft the
    /// watermark and banner) and returns the pages with the fonts they use.
    pub(super) fn finish(
        mut self,
        inv: &PdfInvoice,
        words: &Words,
    ) -> Result<(Vec<PdfPage>, FontsUsed), PdfError> {
        self.new_page();
        let footers = self.renderer.footers(inv, self.pages.len())?;
        let style = Style::new(7.5).grey();
        let mut pages = Vec::with_capacity(footers.len());
        for (ops, footer) in std::mem::take(&mut self.pages).into_iter().zip(footers) {
            if inv.draft {
                // Drawn first, so the content is printed over the watermark.
                self.draft_marks(words);
            }
            self.ops.extend(ops);
            let top = CONTENT_BOTTOM + 22.0;
            self.hrule(MARGIN_X, RIGHT_EDGE, top - 5.0, RULE_GREY, 0.5);
            self.text_center(PAGE_W / 2.0, top, &footer, style);
            pages.push(PdfPage::new(
                printpdf::Mm(210.0),
                printpdf::Mm(297.0),
                std::mem::take(&mut self.ops),
            ));
        }
        Ok((pages, self.fonts))
    }
}

/// The watermark's slope, degrees anticlockwise from the horizontal.
const WATERMARK_ANGLE: f32 = 45.0;
/// Light enough that the invoice stays readable through the watermark.
const WATERMARK_GREY: f32 = 0.88;
/// The draft banner's background.
const BANNER_GREY: f32 = 0.8;

/// Opens a marked-content span carrying `run` as `/ActualText`: shaped glyphs are
/// in visual order, and viewers that support it (Acrobat, poppler) copy-paste
/// the logical text instead.
fn actual_text(run: &str) -> Op {
    let utf16: Vec<u8> = [0xFEFF_u16]
        .into_iter()
        .chain(run.encode_utf16())
        .flat_map(u16::to_be_bytes)
        .collect();
    Op::BeginMarkedContentWithProperties {
        tag: "Span".into(),
        properties: DictItem::Dict {
            map: [(
                "ActualText".to_string(),
                DictItem::String {
                    data: utf16,
                    literal: false,
                },
            )]
            .into(),
        },
    }
}
