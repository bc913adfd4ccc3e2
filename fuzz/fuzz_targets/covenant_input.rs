//! The covenant input parser and the template fill: any bytes give a document or errors.
#![no_main]

use giaouoc::template::Template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = giaouoc::covenant::parse(data) {
        let _ = Template::builtin().fill(&c);
    }
});
