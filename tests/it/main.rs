//! Integration tests: one binary, one module per capability.

mod helpers;
mod render_cli;
mod render_pdf;
