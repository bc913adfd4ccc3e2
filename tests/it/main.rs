//! Integration tests: one binary, one module per capability.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod helpers;
mod golden;
mod render_cli;
mod render_pdf;
