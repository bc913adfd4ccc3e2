//! Time-stamp tokens, requests and responses, OCSP responses and the CMS splice: any bytes give
//! a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let checks = giaouoc::pki::SignatureChecks::default();
    let trust = giaouoc::tsp::TokenTrust {
        roots: &[],
        certificates: &[],
        crls: &[],
        ocsps: &[],
        checks: &checks,
    };
    let _ = giaouoc::tsp::check_token(data, |h| Some(h.digest(b"x")), &trust);
    let _ = giaouoc::tsp::TstInfo::from_der(data);
    let _ = giaouoc::tsp::TimeStampRequest::from_der(data);
    let _ = giaouoc::tsp::token_from_response(data);
    let _ = giaouoc::pki::ocsp::parse_response(data);
    let _ = giaouoc::cms::add_unsigned_attribute(
        data,
        giaouoc::tsp::ID_AA_SIGNATURE_TIME_STAMP,
        b"\x30\x00",
    );
});
