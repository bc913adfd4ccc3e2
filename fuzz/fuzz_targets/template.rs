//! The template engine and the document markup: any template source (an operator's
//! `--template` folder) filled with the reference covenant gives a document or a
//! `TemplateError`, within the template's fuel, and never panics. A source without `{` is
//! raw markup, so this also fuzzes the markup parser.
#![no_main]

use std::sync::OnceLock;

use giaouoc::covenant::Covenant;
use giaouoc::template::Template;
use libfuzzer_sys::fuzz_target;

fn covenant() -> &'static Covenant {
    static C: OnceLock<Covenant> = OnceLock::new();
    C.get_or_init(|| {
        giaouoc::covenant::parse(include_bytes!(
            "../../tests/fixtures/covenant-2021-quang-ninh.json"
        ))
        .expect("the reference covenant parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(template) = Template::from_source(source) {
        let _ = template.fill(covenant());
    }
});
