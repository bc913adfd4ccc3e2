//! Speed goals (issue: render under 15 ms PDF / 3 ms DOCX; one signature under 2 ms).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use time::macros::datetime;

use giaouoc::sign::{self, SignOptions};
use giaouoc::template::Template;

const REFERENCE: &[u8] = include_bytes!("../tests/fixtures/covenant-2021-quang-ninh.json");

fn render(c: &mut Criterion) {
    let template = Template::builtin();
    let (_, doc) = giaouoc::render::prepare(REFERENCE, &template).unwrap();
    c.bench_function("fill reference covenant (parse + template)", |b| {
        b.iter(|| giaouoc::render::prepare(black_box(REFERENCE), &template).unwrap())
    });
    c.bench_function("render_pdf reference covenant", |b| {
        b.iter(|| giaouoc::render::pdf(black_box(&doc), &Default::default()).unwrap())
    });
    c.bench_function("render_docx reference covenant", |b| {
        b.iter(|| giaouoc::render::docx(black_box(&doc), &Default::default()).unwrap())
    });
}

fn signing(c: &mut Criterion) {
    let (cov, doc) = giaouoc::render::prepare(REFERENCE, &Template::builtin()).unwrap();
    let mut pdf = giaouoc::render::pdf(&doc, &Default::default())
        .unwrap()
        .bytes;
    let giaouoc::test_support::TestBloc { ca, leaders, .. } =
        giaouoc::test_support::test_bloc(&cov);
    let opts = |field: &str| SignOptions {
        field: field.into(),
        time: datetime!(2021-01-22 15:30:45 +07:00),
        reason: None,
        location: None,
        image: None,
    };
    for (unit, k, cert) in leaders.iter().take(15) {
        pdf = sign::sign_with_key(&pdf, k, cert, std::slice::from_ref(&ca), &opts(unit)).unwrap();
    }
    let (unit, k, cert) = &leaders[15];
    c.bench_function(
        "sign the 16th signature (prepare + embed, in memory)",
        |b| {
            b.iter(|| {
                sign::sign_with_key(
                    black_box(&pdf),
                    k,
                    cert,
                    std::slice::from_ref(&ca),
                    &opts(unit),
                )
                .unwrap()
            })
        },
    );
    let full = sign::sign_with_key(&pdf, k, cert, std::slice::from_ref(&ca), &opts(unit)).unwrap();
    let vopts = giaouoc::verify::VerifyOptions {
        trust_roots: vec![ca.clone()],
        ..Default::default()
    };
    c.bench_function("verify the 16-signature covenant", |b| {
        b.iter(|| {
            let r = giaouoc::verify::verify_pdf(black_box(&full), &vopts).unwrap();
            assert_eq!(r.verdict, giaouoc::verify::Verdict::Valid);
        })
    });
}

/// The covenant signed in all 16 fields by pyHanko with a second CA's RSA-2048, RSA-3072 PSS,
/// ECDSA P-256 and P-384 and Ed25519 keys in turn (`write_mixed_fixture` in tests/it).
const MIXED: &[u8] = include_bytes!("fixtures/mixed-16.pdf");
const MIXED_ROOT: &[u8] = include_bytes!("fixtures/mixed-16-root.pem");

fn verify_mixed(c: &mut Criterion) {
    let vopts = giaouoc::verify::VerifyOptions {
        trust_roots: giaouoc::pki::certificates_from_pem_or_der(MIXED_ROOT).unwrap(),
        ..Default::default()
    };
    c.bench_function("verify the 16-signature covenant, mixed algorithms", |b| {
        b.iter(|| {
            let r = giaouoc::verify::verify_pdf(black_box(MIXED), &vopts).unwrap();
            assert_eq!(r.verdict, giaouoc::verify::Verdict::Valid);
        })
    });
}

criterion_group!(benches, render, signing, verify_mixed);
criterion_main!(benches);
