//! giaouoc: a Vietnamese emulation bloc's yearly covenant (*giao ước thi đua*), from the
//! units' pledges to a signed, verified and archived PDF.
//!
//! The pipeline, one way:
//! 1. [`covenant`] parses and validates the input (`giaouoc.covenant/1`, NFC at the boundary);
//! 2. [`template`] fills the covenant template into a format-neutral [`document::Document`];
//! 3. [`render_pdf`] and `render_docx` turn the document into a PDF (with one empty signature
//!    field per unit) and a DOCX in the Decree 30/2020 format;
//! 4. signing and verification work on the PDF (incremental updates, PAdES B-B, Ed25519).
//!
//! [`render`] runs steps 1-3 in one call.

pub mod ca;
pub mod cms;
pub mod covenant;
pub mod document;
pub mod fonts;
pub mod http;
pub mod pdf;
pub mod pki;
pub mod render;
pub mod render_docx;
pub mod render_pdf;
pub mod secrets;
pub mod sign;
pub mod store;
pub mod template;
#[doc(hidden)]
pub mod test_support;
pub mod tsp;
pub mod verify;
pub mod workflow;
pub mod year;
