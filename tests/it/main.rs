//! Integration tests: one binary, one module per capability.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod golden;
mod helpers;
mod render_cli;
mod render_docx;
mod render_pdf;
mod sign;
mod verify_cli;
