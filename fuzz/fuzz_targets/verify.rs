//! The verifier on hostile bytes: a report or an error, never a panic or a hang.
#![no_main]

use giaouoc::verify::{VerifyOptions, verify_pdf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = verify_pdf(data, &VerifyOptions::default());
});
