//! The format-neutral document model: the contract between the template and the renderers.
//!
//! A [`Document`] is what a filled template becomes. It knows about paragraphs, runs, tables,
//! rules and the signature grid, in physical units (millimetres, points), and nothing about PDF
//! or DOCX. Both renderers take the same `Document`, so the two outputs carry the same content
//! in the same order.

use serde::Serialize;

/// A whole document: metadata, page set-up and the body, top to bottom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// Title, author, dates: written to PDF Info/XMP and DOCX core properties.
    pub meta: Metadata,
    /// Paper size, margins and page numbering.
    pub page: PageSetup,
    /// The body in reading order.
    pub blocks: Vec<Block>,
}

/// Document metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    /// Document title (e.g. "BẢN GIAO ƯỚC THI ĐUA NĂM 2021").
    pub title: String,
    /// Subject line (the bloc's full name).
    pub subject: String,
    /// Author: the bloc.
    pub author: String,
    /// Keywords, comma separated.
    pub keywords: String,
    /// Creation and modification date of the document: the covenant's date, at 00:00 local time.
    pub date: time::OffsetDateTime,
    /// BCP 47 language tag, "vi-VN".
    pub lang: String,
}

/// Page geometry (Decree 30/2020, Phụ lục I: A4, margins top/bottom 20-25 mm, left 30-35 mm,
/// right 15-20 mm).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PageSetup {
    /// Page width in millimetres.
    pub width_mm: f32,
    /// Page height in millimetres.
    pub height_mm: f32,
    /// Top margin in millimetres.
    pub margin_top_mm: f32,
    /// Bottom margin in millimetres.
    pub margin_bottom_mm: f32,
    /// Left margin in millimetres.
    pub margin_left_mm: f32,
    /// Right margin in millimetres.
    pub margin_right_mm: f32,
    /// Page numbers, centred in the top margin; `None` for none.
    pub page_numbers: Option<PageNumbers>,
}

impl PageSetup {
    /// Width of the text area in millimetres.
    pub fn text_width_mm(&self) -> f32 {
        self.width_mm - self.margin_left_mm - self.margin_right_mm
    }
}

/// Page numbering: Arabic numerals centred in the top margin, not shown before `first_shown`
/// (Decree 30: no number on page 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PageNumbers {
    /// The first page (1-based) that shows its number.
    pub first_shown: u32,
    /// Font size in points.
    pub size_pt: f32,
}

/// One block of the body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Block {
    /// A paragraph of text.
    Paragraph(Paragraph),
    /// A table (bordered data table or borderless layout grid such as the header).
    Table(Table),
    /// The grid of signature cells, one per signing unit.
    SignatureGrid(SignatureGrid),
}

/// Horizontal alignment of a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Align {
    /// Flush left.
    Left,
    /// Centred.
    Center,
    /// Flush right.
    Right,
    /// Justified; the last line is flush left.
    Justify,
}

/// A paragraph: runs of text sharing one size and alignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paragraph {
    /// The text, in runs of uniform style.
    pub runs: Vec<Run>,
    /// Alignment.
    pub align: Align,
    /// Font size in points.
    pub size_pt: f32,
    /// Indent of the first line, in millimetres (Decree 30: 10 mm or 12.7 mm).
    pub first_line_indent_mm: f32,
    /// Space before the paragraph, in points.
    pub space_before_pt: f32,
    /// Space after the paragraph, in points (Decree 30: at least 6 pt).
    pub space_after_pt: f32,
    /// Line height as a multiple of the font's natural line height (1.0 = single).
    pub line_spacing: f32,
    /// Keep on the same page as the next block.
    pub keep_with_next: bool,
    /// A solid rule drawn under the paragraph, centred on it.
    pub rule_below: Option<RuleWidth>,
}

impl Paragraph {
    /// A paragraph with one plain run and neutral settings.
    pub fn plain(text: impl Into<String>, size_pt: f32) -> Self {
        Paragraph {
            runs: vec![Run::plain(text)],
            align: Align::Left,
            size_pt,
            first_line_indent_mm: 0.0,
            space_before_pt: 0.0,
            space_after_pt: 0.0,
            line_spacing: 1.0,
            keep_with_next: false,
            rule_below: None,
        }
    }

    /// The paragraph's text, runs concatenated.
    pub fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

/// How long a rule under a paragraph is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum RuleWidth {
    /// As long as the paragraph's (last) line of text (Decree 30, the motto's rule).
    MatchText,
    /// A fraction of the paragraph's (last) line of text (Decree 30: 1/3 to 1/2 under the issuer).
    FractionOfText(f32),
    /// A fixed length in millimetres.
    Mm(f32),
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// The text, NFC. A `'\n'` is a forced line break.
    pub text: String,
    /// Bold.
    pub bold: bool,
    /// Italic.
    pub italic: bool,
}

impl Run {
    /// A regular run.
    pub fn plain(text: impl Into<String>) -> Self {
        Run {
            text: text.into(),
            bold: false,
            italic: false,
        }
    }
}

/// A table. Rows never split across pages; the first `header_rows` rows repeat on every page
/// the table spans.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Relative column widths; the table spans the text width.
    pub columns: Vec<f32>,
    /// Draw 0.5 pt borders around every cell.
    pub borders: bool,
    /// Number of leading rows that form the header.
    pub header_rows: usize,
    /// The rows.
    pub rows: Vec<Row>,
    /// Space after the table, in points.
    pub space_after_pt: f32,
}

/// A table row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The cells; spans add up to the table's column count.
    pub cells: Vec<Cell>,
}

/// A table cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// How many columns the cell spans (at least 1).
    pub span: usize,
    /// The cell's paragraphs.
    pub paragraphs: Vec<Paragraph>,
}

/// The grid of signature cells ("ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC"), filled row by row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureGrid {
    /// Number of columns (2 for a covenant).
    pub columns: usize,
    /// Height of the empty signature area in each cell, in millimetres.
    pub signature_height_mm: f32,
    /// Font size of the cell text, in points.
    pub size_pt: f32,
    /// The cells, in signing order.
    pub cells: Vec<SignatureCell>,
    /// The "Nơi nhận" block (Decree 30/2020 Appendix I, ô 9a/9b), set in the first cell of
    /// the first row so that a single signer stands on the right. Empty in a covenant's grid,
    /// and then left out of the serialised form, so covenants keep their identifiers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Paragraph>,
}

/// What one place of a signature grid holds, in reading order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridSlot<'a> {
    /// The "Nơi nhận" block: paragraphs, no signature field.
    Recipients(&'a [Paragraph]),
    /// A signer's cell.
    Signature(&'a SignatureCell),
}

impl SignatureGrid {
    /// The grid's places in reading order: the recipients block (if any), then the signers.
    pub fn slots(&self) -> Vec<GridSlot<'_>> {
        let recipients =
            (!self.recipients.is_empty()).then_some(GridSlot::Recipients(&self.recipients));
        recipients
            .into_iter()
            .chain(self.cells.iter().map(GridSlot::Signature))
            .collect()
    }
}

/// One unit's cell in the signature grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureCell {
    /// The PDF signature field name: the unit id (e.g. "U07").
    pub field_name: String,
    /// The unit's name, in capitals, bold.
    pub unit: String,
    /// Authority and position lines, in capitals, bold: `["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]`.
    pub authority_lines: Vec<String>,
    /// The signer's full name, bold.
    pub signer_name: String,
    /// The organisation's signature field (`U07-dau`) when the unit's seal follows its
    /// leader's signature; its box overlaps the left third of the leader's signature image.
    /// Left out of the serialised form when absent, so documents without seals keep their
    /// identifiers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal_field: Option<String>,
}

/// Where the seal goes when a unit's organisation signs after its leader (Decree 30/2020
/// Appendix I, ô 7c and ô 8): the leader's signature image in a fixed part of the leader's
/// field, the seal's box overlapping the left third of that part. The layout places the
/// fields, the signing appearances draw into them, both from these numbers.
pub mod seal_layout {
    /// Side of the seal field's square box, in millimetres: the largest seal drawn (agency
    /// seals are 30 to 42 mm across).
    pub const BOX_MM: f32 = 42.0;
    /// Smallest seal accepted, in millimetres across.
    pub const MIN_MM: f32 = 20.0;
    /// The leader's signature image area: from this fraction of the field's width...
    pub const IMAGE_FROM: f32 = 0.35;
    /// ...this fraction wide, the whole height of the field.
    pub const IMAGE_WIDTH: f32 = 0.40;

    /// The seal box for a leader field `[left, top, right, bottom]` (any unit, y down): its
    /// right edge one third into the image area, centred on the field's height.
    pub fn seal_box(leader: [f32; 4], mm: f32) -> [f32; 4] {
        let w = leader[2] - leader[0];
        let right = leader[0] + w * (IMAGE_FROM + IMAGE_WIDTH / 3.0);
        let side = BOX_MM * mm;
        let mid = (leader[1] + leader[3]) / 2.0;
        [right - side, mid - side / 2.0, right, mid + side / 2.0]
    }

    /// The image area inside a leader field of `width` (x from, x to).
    pub fn image_area(width: f32) -> (f32, f32) {
        (width * IMAGE_FROM, width * (IMAGE_FROM + IMAGE_WIDTH))
    }
}

/// `s` escaped for XML text (the documents' metadata in DOCX parts and PDF XMP), without the characters XML 1.0 cannot carry.
pub(crate) fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}
