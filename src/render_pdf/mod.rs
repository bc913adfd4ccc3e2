//! PDF output of a [`Document`]: our own layout, written with printpdf.
//!
//! The layout ([`layout`]) measures text with the bundled Liberation Serif faces and breaks
//! lines and pages itself; printpdf writes the content streams and embeds the fonts, which we
//! subset first (allsorts) and address by glyph id, so every glyph carries its Unicode text in
//! the `/ToUnicode` CMap and `pdftotext` gives the input back. A final pass (lopdf) adds what
//! printpdf does not write: the signature fields (ISO 32000-2 §12.7.5.5, one per unit, empty),
//! the document information and XMP metadata (§14.3), `/Lang`, subset font names (§9.9.2)
//! and a content-derived `/ID`, so the same input always gives the same bytes.

mod fonts;
mod layout;
mod write;

use serde::Serialize;

use crate::document::Document;

pub use write::{PRODUCER, pdf_date};

/// Options for [`render_pdf`].
#[derive(Debug, Clone, Default)]
pub struct PdfOptions {
    /// Leave content streams uncompressed (for debugging).
    pub uncompressed: bool,
}

/// A rendered PDF and where its signature fields are.
#[derive(Debug, Clone)]
pub struct RenderedPdf {
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// The signature fields, in grid order.
    pub fields: Vec<FieldPlacement>,
    /// Number of pages.
    pub pages: usize,
}

/// Where a signature field sits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldPlacement {
    /// Field name (the unit id).
    pub name: String,
    /// 1-based page number.
    pub page: usize,
    /// Rectangle in PDF user space (points from the bottom-left): [x1, y1, x2, y2].
    pub rect: [f32; 4],
}

/// A PDF could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The bundled fonts could not be parsed (a broken build).
    #[error("không đọc được phông chữ đi kèm")]
    Fonts,
    /// Subsetting a font failed.
    #[error("không tạo được tập con phông chữ: {0}")]
    Subset(String),
    /// The text contains characters the fonts cannot show.
    #[error("văn bản có ký tự không có trong phông chữ: {0}")]
    MissingGlyphs(String),
    /// Writing the PDF failed.
    #[error("không ghi được PDF: {0}")]
    Write(String),
}

/// Renders a document to PDF.
///
/// # Errors
/// Characters outside the fonts, or an internal failure of the font or PDF writer.
pub fn render_pdf(doc: &Document, opts: &PdfOptions) -> Result<RenderedPdf, RenderError> {
    let fonts = fonts::Fonts::get().ok_or(RenderError::Fonts)?;
    let laid = layout::layout(fonts, doc);
    write::write(fonts, doc, &laid, opts)
}

/// Characters of `text` that the bundled fonts cannot show.
pub fn unsupported_chars(text: &str) -> Vec<char> {
    let Some(fonts) = fonts::Fonts::get() else {
        return Vec::new();
    };
    let face = fonts.face(fonts::Style::Regular);
    let mut out: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && !face.covers(*c))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A subset of Liberation Serif Regular for a few lines of text (a signature appearance):
/// the font program and, per character, its glyph id in the subset and advance.
#[derive(Debug, Clone)]
pub struct SmallFont {
    /// TrueType font program of the subset.
    pub program: Vec<u8>,
    /// PostScript name with a subset tag, e.g. `ABCDEF+LiberationSerif`.
    pub name: String,
    /// Character → (glyph id in the subset, advance in 1/1000 em).
    pub glyphs: std::collections::BTreeMap<char, (u16, u16)>,
    /// Ascender and descender in 1/1000 em.
    pub ascent: i32,
    /// Descender (negative) in 1/1000 em.
    pub descent: i32,
}

impl SmallFont {
    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.glyphs.get(&c).map(|g| f32::from(g.1)).unwrap_or(500.0))
            .sum::<f32>()
            * size
            / 1000.0
    }
}

/// Subsets the regular face to the characters of `text`.
///
/// # Errors
/// Characters the font lacks, or a subsetting failure.
pub fn small_font(text: &str) -> Result<SmallFont, RenderError> {
    let fonts = fonts::Fonts::get().ok_or(RenderError::Fonts)?;
    let face = fonts.face(fonts::Style::Regular);
    let mut used = std::collections::BTreeMap::new();
    let mut missing = Vec::new();
    for c in text.chars() {
        let (gid, _) = face.glyph(c);
        if gid == 0 {
            missing.push(c);
        } else {
            used.entry(gid).or_insert(c);
        }
    }
    if !missing.is_empty() {
        return Err(RenderError::MissingGlyphs(missing.into_iter().collect()));
    }
    let sub = fonts::subset(face, &used).map_err(RenderError::Subset)?;
    let mut glyphs = std::collections::BTreeMap::new();
    for c in text.chars() {
        let (gid, adv) = face.glyph(c);
        let new = sub.new_gid.get(&gid).copied().unwrap_or(0);
        glyphs.insert(c, (new, (adv * 1000.0).round() as u16));
    }
    let tag: String = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for g in used.keys() {
            h.update(g.to_be_bytes());
        }
        h.finalize()
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect()
    };
    Ok(SmallFont {
        program: sub.bytes,
        name: format!("{tag}+LiberationSerif"),
        glyphs,
        ascent: (face.ascender * 1000.0).round() as i32,
        descent: (face.descender * 1000.0).round() as i32,
    })
}
