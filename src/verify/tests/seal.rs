//! Seals (Decree 30/2020 Appendix I, ô 8): where the seal is drawn over the leader's
//! signature, and what the verifier says of each unit's pair of signatures.

use time::macros::datetime;

use super::support::*;
use crate::pdf::{Limits, Object, PdfFile};
use crate::pki::{IssuerKey, OrganisationSubject, issue_organisation_certificate};
use crate::render_pdf::PdfOptions;
use crate::sign::{SealImage, SignOptions, SignatureImage, sign_with_key};
use crate::template::Template;
use crate::verify::{Finding, Verdict, verify_pdf};

/// The reference covenant with `seal_signatures` on: fields U01, U01-dau, U02, U02-dau, …
fn render_sealed() -> Vec<u8> {
    let json = include_bytes!("../../../tests/fixtures/covenant-2021-quang-ninh.json");
    let mut v: serde_json::Value = serde_json::from_slice(json).unwrap();
    v["covenant"]["seal_signatures"] = serde_json::Value::Bool(true);
    let bytes = serde_json::to_vec(&v).unwrap();
    let (_, doc) = crate::render::prepare(&bytes, &Template::builtin()).unwrap();
    crate::render::pdf(&doc, &PdfOptions::default())
        .unwrap()
        .bytes
}

/// The organisation certificate of `unit` from the fixture's bloc CA.
fn organisation(unit: &str, seed: u8) -> Identity {
    let f = fixture();
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let cert = issue_organisation_certificate(
        &IssuerKey::Ed25519(f.ca_key.clone()),
        &f.ca,
        &crate::pki::verifying_key_to_spki(&key.verifying_key()).unwrap(),
        &OrganisationSubject {
            unit_name: format!("Đơn vị {unit}"),
            unit_id: unit.into(),
        },
        900 + u64::from(seed),
        (
            datetime!(2025-06-01 00:00:00 UTC),
            datetime!(2030-06-01 00:00:00 UTC),
        ),
        None,
    )
    .unwrap();
    Identity {
        key,
        cert,
        chain: vec![f.ca.clone()],
    }
}

fn opts_for(field: &str, minute: u8) -> SignOptions {
    SignOptions {
        field: field.into(),
        time: crate::pdf::parse_date(&format!("D:202603150{minute}0000+07'00'")).unwrap(),
        reason: None,
        location: None,
        image: None,
        seal: None,
    }
}

fn sign(pdf: &[u8], who: &Identity, opts: &SignOptions) -> Vec<u8> {
    sign_with_key(pdf, &who.key, &who.cert, &who.chain, opts).unwrap()
}

/// U01's leader signs with a handwritten image, then U01's clerk applies the 36 mm seal.
fn sealed_u01() -> Vec<u8> {
    let f = fixture();
    let mut leader = opts_for("U01", 1);
    let png = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/signature-blue.png"
    ))
    .unwrap();
    leader.image = Some(SignatureImage::from_png(&png).unwrap());
    let signed = sign(&render_sealed(), &f.leaders[0], &leader);
    let mut seal = opts_for("U01-dau", 2);
    seal.seal = Some(SealImage::from_png(&SealImage::sample_png(36.0, 0), None).unwrap());
    sign(&signed, &organisation("U01", 41), &seal)
}

/// A field's widget rectangle (x0, y0, x1, y1 in points) and the image it draws: the `cm`
/// before `/Im1 Do` (w, h, x, y in the form's space) and the image dictionary.
fn drawn(file: &PdfFile, field: &str) -> ([f32; 4], [f32; 4], crate::pdf::Dict) {
    let r = field_ref(file, field);
    let widget = dict_of(file, r);
    let nums = |o: &Object| -> Vec<f32> {
        o.as_array()
            .unwrap()
            .iter()
            .map(|x| match x {
                Object::Real(r) => *r as f32,
                other => other.as_i64().unwrap() as f32,
            })
            .collect()
    };
    let rect = nums(widget.get(b"Rect").unwrap());
    let ap = widget.get(b"AP").unwrap().as_dict().unwrap();
    let n = ap.get(b"N").unwrap().as_reference().unwrap();
    let Object::Stream(s) = file.resolve_current(n).unwrap() else {
        panic!("no appearance stream")
    };
    let content = String::from_utf8(file.decoded_stream(&s).unwrap()).unwrap();
    let line = content.lines().find(|l| l.ends_with("/Im1 Do Q")).unwrap();
    let cm: Vec<f32> = line
        .split_whitespace()
        .filter_map(|t| t.parse::<f32>().ok())
        .collect();
    let resources = s.dict.get(b"Resources").unwrap().as_dict().unwrap();
    let xobjects = resources.get(b"XObject").unwrap().as_dict().unwrap();
    let im = xobjects.get(b"Im1").unwrap().as_reference().unwrap();
    let Object::Stream(image) = file.resolve_current(im).unwrap() else {
        panic!("no image")
    };
    (
        [rect[0], rect[1], rect[2], rect[3]],
        [cm[0], cm[3], cm[4], cm[5]],
        image.dict.clone(),
    )
}

#[test]
fn the_seal_covers_the_left_third_of_the_leaders_signature_at_real_size_with_its_transparency() {
    let pdf = sealed_u01();
    let file = PdfFile::parse(&pdf, &Limits::default()).unwrap();
    let (leader_rect, leader_cm, _) = drawn(&file, "U01");
    let (seal_rect, seal_cm, seal_image) = drawn(&file, "U01-dau");
    // Both forms are drawn at their rectangles' size (BBox = the rectangle), so page x of
    // the images is the rectangle's left plus the cm offset.
    let image_left = leader_rect[0] + leader_cm[2];
    let image_w = leader_cm[0];
    let image_mid_y = leader_rect[1] + leader_cm[3] + leader_cm[1] / 2.0;
    let seal_left = seal_rect[0] + seal_cm[2];
    let seal_right = seal_left + seal_cm[0];
    let seal_mid_y = seal_rect[1] + seal_cm[3] + seal_cm[1] / 2.0;
    // Real size: 36 mm across.
    let mm = 72.0 / 25.4;
    assert!((seal_cm[0] / mm - 36.0).abs() < 0.1, "{seal_cm:?}");
    assert!((seal_cm[1] / mm - 36.0).abs() < 0.1, "{seal_cm:?}");
    // It overlaps about one third of the leader's signature image, from the left.
    let overlap = (seal_right - image_left) / image_w;
    assert!((0.28..=0.40).contains(&overlap), "overlap {overlap}");
    assert!(seal_left < image_left, "the seal sits on the image's left");
    assert!(seal_right < image_left + image_w / 2.0);
    assert!(
        (seal_mid_y - image_mid_y).abs() < 3.0,
        "centred on the signature"
    );
    // Transparency kept: the seal image has its alpha as a soft mask.
    assert!(seal_image.get(b"SMask").is_some(), "{seal_image:?}");
    // And the verifier is satisfied with the pair.
    let report = verify_pdf(&pdf, &opts()).unwrap();
    let card = report.units.iter().find(|u| u.unit == "U01").unwrap();
    assert!(card.complete, "{card:?} {:#?}", report.problems);
    assert_eq!(card.seal_field.as_deref(), Some("U01-dau"));
    let u02 = report.units.iter().find(|u| u.unit == "U02").unwrap();
    assert!(!u02.complete && u02.leader.is_none() && u02.seal.is_none());
}

#[test]
fn a_seal_without_its_leaders_signature_before_it_is_flagged() {
    let pdf = sign(
        &render_sealed(),
        &organisation("U01", 41),
        &opts_for("U01-dau", 1),
    );
    let report = verify_pdf(&pdf, &opts()).unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(report.problems.iter().any(|p| matches!(
        &p.finding,
        Finding::SealWithoutLeader { field, leader_field } if field == "U01-dau" && leader_field == "U01"
    )));
    assert!(report.summary_vi().contains("không") || !report.problems.is_empty());
    let text = report.problems[0].text(crate::verify::Lang::Vi);
    assert!(
        text.contains("không có chữ ký của lãnh đạo (ô U01) trước nó"),
        "{text}"
    );
}

#[test]
fn a_personal_certificate_in_a_seal_field_is_flagged() {
    let f = fixture();
    let signed = sign(&render_sealed(), &f.leaders[0], &opts_for("U01", 1));
    // The leader's own certificate in the seal field (the service refuses it; another tool
    // does not).
    let pdf = sign_field(&signed, "U01-dau", &f.leaders[0], "D:20260315100000+07'00'");
    let report = verify_pdf(&pdf, &opts()).unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    let seal = report
        .signatures
        .iter()
        .find(|s| s.field == "U01-dau")
        .unwrap();
    assert!(!seal.field_matches_certificate);
    assert!(seal.problems.iter().any(|p| matches!(
        &p.finding,
        Finding::PersonalCertificateInSealField { field } if field == "U01-dau"
    )));
    assert!(
        !report
            .units
            .iter()
            .find(|u| u.unit == "U01")
            .unwrap()
            .complete
    );
}

#[test]
fn a_seal_by_another_units_organisation_certificate_is_flagged() {
    let f = fixture();
    let signed = sign(&render_sealed(), &f.leaders[0], &opts_for("U01", 1));
    let pdf = sign_field(
        &signed,
        "U01-dau",
        &organisation("U02", 42),
        "D:20260315100000+07'00'",
    );
    let report = verify_pdf(&pdf, &opts()).unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    let seal = report
        .signatures
        .iter()
        .find(|s| s.field == "U01-dau")
        .unwrap();
    assert!(seal.problems.iter().any(|p| matches!(
        &p.finding,
        Finding::WrongUnit { field, certificate_unit: Some(u) } if field == "U01-dau" && u == "U02"
    )));
}

#[test]
fn an_organisation_certificate_in_a_leaders_field_is_flagged() {
    let pdf = sign(
        &render_sealed(),
        &organisation("U01", 41),
        &opts_for("U01", 1),
    );
    let report = verify_pdf(&pdf, &opts()).unwrap();
    let leader = report.signatures.iter().find(|s| s.field == "U01").unwrap();
    assert!(leader.problems.iter().any(|p| matches!(
        &p.finding,
        Finding::OrganisationCertificateInLeaderField { .. }
    )));
    assert_eq!(report.verdict, Verdict::Invalid);
}

#[test]
fn a_seal_image_must_be_transparent_red_and_of_a_real_seals_size() {
    let ok = SealImage::sample_png(36.0, 3);
    let seal = SealImage::from_png(&ok, None).unwrap();
    assert!((seal.diameter_mm() - 36.0).abs() < 0.1);
    // A stated size overrides pHYs.
    assert!((SealImage::from_png(&ok, Some(40.0)).unwrap().diameter_mm() - 40.0).abs() < 0.01);
    // Too small, too large.
    let e = SealImage::from_png(&SealImage::sample_png(12.0, 0), None).unwrap_err();
    assert!(e.to_string().contains("cần từ 20 đến 42 mm"), "{e}");
    assert!(SealImage::from_png(&ok, Some(60.0)).is_err());
    // Not red: the blue handwritten signature.
    let blue = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/signature-blue.png"
    ))
    .unwrap();
    let e = SealImage::from_png(&blue, Some(36.0)).unwrap_err();
    assert!(
        e.to_string().contains("màu đỏ") || e.to_string().contains("trong suốt"),
        "{e}"
    );
    // Not a PNG.
    assert!(SealImage::from_png(b"%PDF-1.7", Some(36.0)).is_err());
    // No transparency: an opaque RGB image.
    let mut opaque = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut opaque, 40, 40);
        enc.set_color(png::ColorType::Rgb);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[200u8, 20, 20].repeat(1600)).unwrap();
    }
    let e = SealImage::from_png(&opaque, Some(36.0)).unwrap_err();
    assert!(e.to_string().contains("trong suốt"), "{e}");
}
