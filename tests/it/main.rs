//! Integration tests: one binary, one module per capability.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod blob_s3;
mod browser;
mod crash;
mod every_path;
mod foreign_ca;
mod golden;
mod helpers;
mod hostile_limits;
mod http_api;
mod http_authz;
mod http_client;
mod http_server;
mod http_support;
mod http_web;
mod http_year;
mod http_year_after;
mod logs;
mod long_term;
mod render_cli;
mod render_docx;
mod render_pdf;
mod scale_out;
mod seal;
mod sign;
mod signing_paths;
mod soak;
mod store_copy;
mod throughput;
mod token;
mod verify_cli;
mod webdriver;
