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
        seal: None,
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

/// The built-in TSA in a fresh folder.
fn built_in_tsa() -> (giaouoc::tsp::Authority, giaouoc::ca::BlocCa) {
    use rand_core::SeedableRng;
    let dir = std::env::temp_dir().join(format!("giaouoc-bench-tsa-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    giaouoc::tsp::Authority::open_or_create_with_root(
        &dir,
        "CA dấu thời gian (đo tốc độ)",
        giaouoc::tsp::DEFAULT_POLICY,
        datetime!(2021-01-01 00:00 UTC),
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(7),
        None,
    )
    .unwrap()
}

/// A signature time-stamp from the built-in TSA, in process (goal: under 2 ms), and the
/// verification of the archived B-LTA covenant: 16 time-stamped signatures, /DSS and a
/// document time-stamp.
fn time_stamping(c: &mut Criterion) {
    use giaouoc::tsp::{MessageImprint, TimeStampRequest};
    let (tsa, tsa_root) = built_in_tsa();
    let at = datetime!(2021-01-22 08:30:45 UTC);
    let signature_value = [7u8; 64];
    c.bench_function("time-stamp one signature with the built-in TSA", |b| {
        b.iter(|| {
            let imprint = MessageImprint::of(
                giaouoc::pki::alg::HashAlg::Sha256,
                black_box(&signature_value),
            );
            tsa.stamp(&TimeStampRequest::new(imprint, &[1, 2, 3]), &[9; 16], at)
                .unwrap()
        })
    });

    let (cov, doc) = giaouoc::render::prepare(REFERENCE, &Template::builtin()).unwrap();
    let mut pdf = giaouoc::render::pdf(&doc, &Default::default())
        .unwrap()
        .bytes;
    let giaouoc::test_support::TestBloc {
        ca_key,
        ca,
        leaders,
    } = giaouoc::test_support::test_bloc(&cov);
    for (unit, k, cert) in &leaders {
        let opts = SignOptions {
            field: unit.clone(),
            time: datetime!(2021-01-22 15:30:45 +07:00),
            reason: None,
            location: None,
            image: None,
            seal: None,
        };
        let prepared = sign::prepare(&pdf, cert, &opts).unwrap();
        use ed25519_dalek::Signer;
        let signature = k.sign(&prepared.signed_attributes).to_bytes();
        let cms = prepared
            .signed_data(&signature, cert, std::slice::from_ref(&ca))
            .unwrap();
        let value = sign::signature_value(&cms).unwrap();
        let imprint = MessageImprint::of(giaouoc::pki::alg::HashAlg::Sha256, &value);
        let token = tsa
            .stamp(&TimeStampRequest::new(imprint, &[1]), &[2; 16], at)
            .unwrap();
        let cms = sign::add_signature_timestamp(&cms, &token).unwrap();
        pdf = prepared.embed_cms(&pdf, &cms).unwrap();
    }
    let der = |c: &x509_cert::Certificate| giaouoc::pki::certificate_to_der(c).unwrap();
    let crl = giaouoc::pki::create_crl(
        &ca_key,
        &ca,
        &[],
        datetime!(2021-01-23 00:00 UTC),
        datetime!(2021-01-30 00:00 UTC),
        1,
    )
    .unwrap();
    let tsa_crl = tsa_root
        .crl(
            &[],
            datetime!(2021-01-23 00:00 UTC),
            datetime!(2021-01-30 00:00 UTC),
            1,
        )
        .unwrap();
    let data = sign::ltv::ValidationData {
        certificates: vec![der(&ca), der(tsa.certificate()), der(tsa.root())],
        crls: vec![crl, tsa_crl],
        ocsps: vec![],
    };
    let with_dss = sign::ltv::add_validation_data(&pdf, &data).unwrap();
    let prepared = sign::ltv::prepare_document_timestamp(&with_dss).unwrap();
    let token = tsa
        .stamp(
            &TimeStampRequest::new(prepared.imprint(), &[3]),
            &[4; 16],
            datetime!(2021-01-24 00:00 UTC),
        )
        .unwrap();
    let archived = prepared.embed(&with_dss, &token).unwrap();
    // To time pyHanko on the same file: the file and its two roots.
    if let Some(dir) = std::env::var_os("GIAOUOC_BENCH_WRITE_LTA") {
        let dir = std::path::PathBuf::from(dir);
        let pem = |c: &x509_cert::Certificate| giaouoc::pki::certificate_to_pem(c).unwrap();
        std::fs::write(dir.join("lta-16.pdf"), &archived).unwrap();
        std::fs::write(dir.join("ca.pem"), pem(&ca)).unwrap();
        std::fs::write(dir.join("tsa.pem"), pem(tsa.root())).unwrap();
    }
    let vopts = giaouoc::verify::VerifyOptions {
        trust_roots: vec![ca.clone(), tsa.root().clone()],
        ..Default::default()
    };
    c.bench_function(
        "verify the archived B-LTA covenant (16 time-stamped signatures)",
        |b| {
            b.iter(|| {
                let r = giaouoc::verify::verify_pdf(black_box(&archived), &vopts).unwrap();
                assert_eq!(r.verdict, giaouoc::verify::Verdict::Valid);
                assert!(
                    r.signatures
                        .iter()
                        .all(|s| s.level == Some(giaouoc::verify::PadesLevel::BLTA))
                );
            })
        },
    );
}

/// The reference covenant with seals: each unit's organisation signs after its leader, the
/// seal image drawn at real size (32 signatures).
fn seals(c: &mut Criterion) {
    let mut input: serde_json::Value = serde_json::from_slice(REFERENCE).unwrap();
    input["covenant"]["seal_signatures"] = serde_json::Value::Bool(true);
    let input = serde_json::to_vec(&input).unwrap();
    let (cov, doc) = giaouoc::render::prepare(&input, &Template::builtin()).unwrap();
    let mut pdf = giaouoc::render::pdf(&doc, &Default::default())
        .unwrap()
        .bytes;
    let giaouoc::test_support::TestBloc {
        ca_key,
        ca,
        leaders,
    } = giaouoc::test_support::test_bloc(&cov);
    let issuer = giaouoc::pki::IssuerKey::Ed25519(ca_key);
    let seal = sign::SealImage::from_png(&sign::SealImage::sample_png(36.0, 0), None).unwrap();
    let opts = |field: &str, seal: Option<sign::SealImage>| SignOptions {
        field: field.into(),
        time: datetime!(2021-01-22 15:30:45 +07:00),
        reason: None,
        location: None,
        image: None,
        seal,
    };
    let mut last = None;
    for (i, (unit, k, cert)) in leaders.iter().enumerate() {
        pdf = sign::sign_with_key(&pdf, k, cert, std::slice::from_ref(&ca), &opts(unit, None))
            .unwrap();
        let org_key = ed25519_dalek::SigningKey::from_bytes(&[u8::try_from(150 + i).unwrap(); 32]);
        let org_cert = giaouoc::pki::issue_organisation_certificate(
            &issuer,
            &ca,
            &giaouoc::pki::verifying_key_to_spki(&org_key.verifying_key()).unwrap(),
            &giaouoc::pki::OrganisationSubject {
                unit_name: cov.units[i].name.clone(),
                unit_id: unit.clone(),
            },
            500 + i as u64,
            (
                datetime!(2021-01-01 00:00 +07:00),
                datetime!(2045-01-01 00:00 +07:00),
            ),
            None,
        )
        .unwrap();
        let field = format!("{unit}-dau");
        if i == 15 {
            last = Some((
                pdf.clone(),
                org_key.clone(),
                org_cert.clone(),
                field.clone(),
            ));
        }
        pdf = sign::sign_with_key(
            &pdf,
            &org_key,
            &org_cert,
            std::slice::from_ref(&ca),
            &opts(&field, Some(seal.clone())),
        )
        .unwrap();
    }
    let (base, org_key, org_cert, field) = last.unwrap();
    c.bench_function(
        "apply the 16th seal (prepare + embed, seal image at real size)",
        |b| {
            b.iter(|| {
                sign::sign_with_key(
                    black_box(&base),
                    &org_key,
                    &org_cert,
                    std::slice::from_ref(&ca),
                    &opts(&field, Some(seal.clone())),
                )
                .unwrap()
            })
        },
    );
    let vopts = giaouoc::verify::VerifyOptions {
        trust_roots: vec![ca.clone()],
        ..Default::default()
    };
    c.bench_function("verify the covenant with 16 leaders and 16 seals", |b| {
        b.iter(|| {
            let r = giaouoc::verify::verify_pdf(black_box(&pdf), &vopts).unwrap();
            assert_eq!(r.verdict, giaouoc::verify::Verdict::Valid);
            assert!(r.units.iter().all(|u| u.complete));
        })
    });
}

criterion_group!(benches, render, signing, verify_mixed, time_stamping, seals);
criterion_main!(benches);
