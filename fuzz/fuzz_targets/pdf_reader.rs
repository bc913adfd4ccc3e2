//! The untrusted-PDF reader: parse, walk every revision's objects, decode every stream.
#![no_main]

use giaouoc::pdf::{Limits, PdfFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_decoded_stream: 4 * 1024 * 1024,
        max_total_decoded: 16 * 1024 * 1024,
        ..Limits::default()
    };
    let Ok(file) = PdfFile::parse(data, &limits) else {
        return;
    };
    let _ = file.trailing_bytes_after_last_eof();
    for (i, rev) in file.revisions().iter().enumerate() {
        for (r, _) in rev.defined_objects().take(2000) {
            if let Ok(obj) = file.resolve(r, i) {
                if let Some(s) = obj.as_stream() {
                    let _ = file.decoded_stream(s);
                }
            }
            let _ = file.object_span(r, i);
        }
    }
});
