//! The page every invoice and note is drawn on: A4 in points, its margins, and
//! the greys of text and rules, shared by the layout, the text runs and the canvas.

/// Page width (A4), in points.
pub(super) const PAGE_W: f32 = 595.28;
/// Page height (A4), in points.
pub(super) const PAGE_H: f32 = 841.89;
/// Left and right margin.
pub(super) const MARGIN_X: f32 = 40.0;
/// Lowest point (from the top) that content may reach; the footer sits below.
pub(super) const CONTENT_BOTTOM: f32 = PAGE_H - 58.0;
/// Where right-aligned content ends.
pub(super) const RIGHT_EDGE: f32 = PAGE_W - MARGIN_X;
/// Line height as a multiple of the font size.
pub(super) const LINE_SPACING: f32 = 1.3;
/// The grey level of body text (0 is black).
pub(super) const BLACK: f32 = 0.1;
/// The grey level of labels and notes.
pub(super) const GREY: f32 = 0.4;
/// The grey level of table rules.
pub(super) const RULE_GREY: f32 = 0.75;
