//! PDF output of a [`Document`]: our own layout, written with printpdf.
//!
//! The layout ([`layout`]) measures text with the bundled Liberation Serif faces and breaks
//! lines and pages itself; printpdf writes the content streams and embeds the fonts, which we
//! subset first (allsorts) and address by glyph id, so every glyph carries its Unicode text in
//! the `/ToUnicode` CMap and `pdftotext` gives the input back. A final pass (lopdf) adds what
//! printpdf does not write: the signature fields (ISO 32000-2 §12.7.5.5, one per unit, empty),
//! the document information and XMP metadata (§14.3), `/Lang`, subset font names (§9.9.2)
//! and a content-derived `/ID`, so the same input always gives the same bytes.

mod layout;
mod write;

use serde::Serialize;

use crate::document::Document;
use crate::fonts::Fonts;

pub use write::PRODUCER;

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
    let fonts = Fonts::get().ok_or(RenderError::Fonts)?;
    let laid = layout::layout(fonts, doc);
    write::write(fonts, doc, &laid, opts)
}
