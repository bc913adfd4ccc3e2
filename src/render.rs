//! One call from covenant JSON to finished documents: parse, fill, render.

use crate::covenant::{self, Covenant, InputErrors, InputProblem};
use crate::document::Document;
use crate::render_docx::{self, DocxError, DocxOptions};
use crate::render_pdf::{self, PdfOptions, RenderError, RenderedPdf};
use crate::template::{Template, TemplateError};

/// Anything that stops a covenant from being rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The input is invalid: every problem with its JSON path.
    #[error(transparent)]
    Input(#[from] InputErrors),
    /// The template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The PDF could not be produced.
    #[error(transparent)]
    Pdf(#[from] RenderError),
    /// The DOCX could not be produced.
    #[error(transparent)]
    Docx(#[from] DocxError),
}

/// Parses, validates and fills a covenant, and checks that the fonts can show all its text.
///
/// # Errors
/// Invalid input (all problems at once) or a template error.
pub fn prepare(json: &[u8], template: &Template) -> Result<(Covenant, Document), PipelineError> {
    let covenant = covenant::parse(json)?;
    let doc = document(&covenant, template)?;
    Ok((covenant, doc))
}

/// Fills a validated covenant and checks that the fonts can show all its text.
///
/// # Errors
/// A template error, or characters the fonts cannot show.
pub fn document(covenant: &Covenant, template: &Template) -> Result<Document, PipelineError> {
    let doc = template.fill(covenant)?;
    check_glyphs(&doc)?;
    Ok(doc)
}

/// Renders the PDF of a prepared document.
///
/// # Errors
/// See [`render_pdf::render_pdf`].
pub fn pdf(doc: &Document, opts: &PdfOptions) -> Result<RenderedPdf, PipelineError> {
    Ok(render_pdf::render_pdf(doc, opts)?)
}

/// Renders the DOCX of a prepared document.
///
/// # Errors
/// See [`render_docx::render_docx`].
pub fn docx(doc: &Document, opts: &DocxOptions) -> Result<Vec<u8>, PipelineError> {
    Ok(render_docx::render_docx(doc, opts)?)
}

fn check_glyphs(doc: &Document) -> Result<(), InputErrors> {
    let json = serde_json::to_string(&doc.blocks).unwrap_or_default();
    let bad = crate::fonts::unsupported_chars(&json);
    if bad.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = bad
        .iter()
        .map(|c| format!("'{c}' (U+{:04X})", *c as u32))
        .collect();
    Err(InputErrors {
        problems: vec![InputProblem {
            path: String::new(),
            message: format!(
                "văn bản có ký tự không in được bằng phông Times New Roman/Liberation Serif: {}",
                list.join(", ")
            ),
        }],
    })
}
