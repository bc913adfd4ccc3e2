//! Time-stamps and long-term validation (ETSI EN 319 142-1 §6): a signature time-stamp makes
//! B-T and is the time the certificate is judged at; `/DSS` revocation data makes B-LT; a
//! document time-stamp over it makes B-LTA. Broken time-stamps are flagged with their reason.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::macros::datetime;
use x509_cert::Certificate;

use super::support::*;
use super::*;
use crate::pdf::{Dict, Object};
use crate::pki::alg::HashAlg;
use crate::sign::ltv::{ValidationData, add_validation_data, prepare_document_timestamp};
use crate::tsp::{Authority, MessageImprint, TimeStampRequest};

/// The built-in TSA (seeded), created in a fresh folder.
fn tsa() -> &'static Authority {
    &tsa_and_root().0
}

/// The CRL of the TSA's certificate (nothing revoked).
fn tsa_crl() -> Vec<u8> {
    tsa_and_root()
        .1
        .crl(
            &[],
            datetime!(2026-03-16 00:00 UTC),
            datetime!(2026-03-23 00:00 UTC),
            1,
        )
        .unwrap()
}

fn tsa_and_root() -> &'static (Authority, crate::ca::BlocCa) {
    static TSA: std::sync::OnceLock<(Authority, crate::ca::BlocCa)> = std::sync::OnceLock::new();
    TSA.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "giaouoc-lt-{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        Authority::open_or_create_with_root(
            &dir,
            "CA dấu thời gian thử",
            crate::tsp::DEFAULT_POLICY,
            datetime!(2026-01-01 00:00 UTC),
            &mut ChaCha20Rng::seed_from_u64(42),
            None,
        )
        .unwrap()
    })
}

use time::OffsetDateTime;

fn token_over(data: &[u8], at: OffsetDateTime) -> Vec<u8> {
    tsa()
        .stamp(
            &TimeStampRequest::new(MessageImprint::of(HashAlg::Sha256, data), &[1, 2, 3]),
            &[9; 8],
            at,
        )
        .unwrap()
}

/// The unsigned fixture covenant with U01 signed and time-stamped at `at`; `token` may replace
/// the honest token (given the signature value).
fn signed_with_timestamp(at: OffsetDateTime, token: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let f = fixture();
    let who = &f.leaders[0];
    let opts = crate::sign::SignOptions {
        field: "U01".into(),
        time: crate::pdf::parse_date(TIMES[0]).unwrap(),
        reason: None,
        location: None,
        image: None,
        seal: None,
    };
    let prepared = crate::sign::prepare(&f.unsigned, &who.cert, &opts).unwrap();
    use ed25519_dalek::Signer;
    let signature = who.key.sign(&prepared.signed_attributes).to_bytes();
    let cms = prepared
        .signed_data(&signature, &who.cert, &who.chain)
        .unwrap();
    let value = crate::sign::signature_value(&cms).unwrap();
    let _ = at;
    let cms = crate::sign::add_signature_timestamp(&cms, &token(&value)).unwrap();
    prepared.embed_cms(&f.unsigned, &cms).unwrap()
}

fn honest(at: OffsetDateTime) -> Vec<u8> {
    signed_with_timestamp(at, |value| token_over(value, at))
}

fn options(at: OffsetDateTime, crls: Vec<Crl>) -> VerifyOptions {
    VerifyOptions {
        trust_roots: vec![fixture().ca.clone(), tsa().root().clone()],
        crls,
        at: Some(at),
        ..VerifyOptions::default()
    }
}

fn with_document_timestamp(pdf: &[u8], at: OffsetDateTime) -> Vec<u8> {
    let prepared = prepare_document_timestamp(pdf).unwrap();
    let imprint = prepared.imprint();
    let token = tsa()
        .stamp(&TimeStampRequest::new(imprint, &[7]), &[5; 8], at)
        .unwrap();
    prepared.embed(pdf, &token).unwrap()
}

fn crl_der(serials: &[u64], when: OffsetDateTime) -> Vec<u8> {
    crl(serials, when).to_der().to_vec()
}

fn der(c: &Certificate) -> Vec<u8> {
    crate::pki::certificate_to_der(c).unwrap()
}

#[test]
fn a_signature_time_stamp_is_the_time_a_later_revocation_is_judged_against() {
    let at = datetime!(2026-03-15 02:30:00 UTC);
    let pdf = honest(at);
    // Revoked on 1 June, checked on 1 July: the time-stamp proves the signature came first.
    let crls = vec![crl(&[0x1000], datetime!(2026-06-01 00:00:00 UTC))];
    let r = verify_pdf(
        &pdf,
        &options(datetime!(2026-07-01 00:00 UTC), crls.clone()),
    )
    .unwrap();
    let s = &r.signatures[0];
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", s.problems);
    assert!(s.trusted);
    assert_eq!(s.level, Some(PadesLevel::BT));
    let checked = s.checked_at.as_ref().unwrap();
    assert_eq!(checked.source, TimeSource::SignatureTimestamp);
    assert_eq!(checked.time, "2026-03-15T02:30:00Z");
    assert_eq!(
        checked.tsa.as_deref(),
        Some("Đơn vị cấp dấu thời gian giaouoc")
    );
    // Stamped after the revocation: not trusted, and the report says revoked.
    let late = honest(datetime!(2026-06-02 00:00:00 UTC));
    let r = verify_pdf(&late, &options(datetime!(2026-07-01 00:00 UTC), crls)).unwrap();
    let s = &r.signatures[0];
    assert!(!s.trusted);
    assert!(
        s.problems
            .iter()
            .any(|m| m.vi.contains("đã bị thu hồi lúc 2026-06-01")),
        "{:?}",
        s.problems
    );
}

#[test]
fn validation_data_then_a_document_time_stamp_make_b_lt_then_b_lta() {
    let at = datetime!(2026-03-15 02:30:00 UTC);
    let f = fixture();
    let pdf = honest(at);
    let data = ValidationData {
        certificates: vec![der(&f.ca), der(tsa().certificate()), der(tsa().root())],
        crls: vec![crl_der(&[], datetime!(2026-03-16 00:00 UTC)), tsa_crl()],
        ocsps: vec![],
    };
    let lt = add_validation_data(&pdf, &data).unwrap();
    let later = datetime!(2026-04-01 00:00 UTC);
    let r = verify_pdf(&lt, &options(later, vec![])).unwrap();
    let s = &r.signatures[0];
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", s.changes_after);
    assert_eq!(s.level, Some(PadesLevel::BLT));
    assert_eq!(s.revocation.sources, vec!["dss".to_owned()]);
    assert_eq!(s.modifications, ModificationLevel::AllowedUpdates);

    let lta = with_document_timestamp(&lt, datetime!(2026-03-20 00:00 UTC));
    let r = verify_pdf(&lta, &options(later, vec![])).unwrap();
    let s = &r.signatures[0];
    assert_eq!(
        r.verdict,
        Verdict::Valid,
        "{:#?} {:#?}",
        r.problems,
        s.changes_after
    );
    assert_eq!(s.level, Some(PadesLevel::BLTA));
    assert_eq!(r.document_timestamps.len(), 1);
    let ts = &r.document_timestamps[0];
    assert!(ts.valid && ts.trusted, "{:?}", ts.problems);
    assert_eq!(ts.field, "DocTS1");
    assert_eq!(ts.time.as_deref(), Some("2026-03-20T00:00:00Z"));
    assert_eq!(ts.revision, Some(4));
    // The same file a second time: a new DSS and a second time-stamp keep every version valid.
    let renewed = with_document_timestamp(
        &add_validation_data(&lta, &data).unwrap(),
        datetime!(2027-03-20 00:00 UTC),
    );
    let r = verify_pdf(&renewed, &options(datetime!(2027-04-01 00:00 UTC), vec![])).unwrap();
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.problems);
    assert_eq!(r.document_timestamps.len(), 2);
    assert_eq!(r.document_timestamps[1].field, "DocTS2");
}

#[test]
fn a_document_time_stamp_alone_proves_the_time_of_the_signatures_before_it() {
    // B-B signatures, then a document time-stamp before the revocation: B-T by the stamp.
    let pdf = with_document_timestamp(&legit_three_signatures(), datetime!(2026-03-18 00:00 UTC));
    let crls = vec![crl(&[0x1000], datetime!(2026-06-01 00:00:00 UTC))];
    let r = verify_pdf(&pdf, &options(datetime!(2026-07-01 00:00 UTC), crls)).unwrap();
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.problems);
    for s in &r.signatures {
        assert_eq!(s.level, Some(PadesLevel::BT));
        let c = s.checked_at.as_ref().unwrap();
        assert_eq!(c.source, TimeSource::DocumentTimestamp);
        assert_eq!(c.field.as_deref(), Some("DocTS1"));
    }
}

#[test]
fn a_time_stamp_over_another_signature_is_flagged() {
    let at = datetime!(2026-03-15 02:30:00 UTC);
    let pdf = signed_with_timestamp(at, |_| token_over(b"another signature", at));
    let r = verify_pdf(&pdf, &options(at, vec![])).unwrap();
    let s = &r.signatures[0];
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        s.problems
            .iter()
            .any(|m| m.vi.contains("dấu thời gian được cấp cho dữ liệu khác")),
        "{:?}",
        s.problems
    );
}

#[test]
fn a_tampered_time_stamp_token_is_flagged() {
    let at = datetime!(2026-03-15 02:30:00 UTC);
    let pdf = signed_with_timestamp(at, |value| {
        let mut token = token_over(value, at);
        // The serial number (eight 0x09 bytes) inside the TSTInfo changes.
        let i = token.windows(8).position(|w| w == [9; 8]).unwrap();
        token[i] = 0x0A;
        token
    });
    let r = verify_pdf(&pdf, &options(at, vec![])).unwrap();
    let s = &r.signatures[0];
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        s.problems
            .iter()
            .any(|m| m.vi.contains("mã dấu thời gian đã bị sửa")),
        "{:?}",
        s.problems
    );
    // An untrusted TSA is only noted: the time is not used (B-B).
    let r = verify_pdf(
        &honest(at),
        &VerifyOptions {
            trust_roots: vec![fixture().ca.clone()],
            at: Some(at),
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    let s = &r.signatures[0];
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(s.level, Some(PadesLevel::BB));
    assert!(s.notes.iter().any(|m| m.vi.contains("chưa được tin cậy")));
}

#[test]
fn a_validation_data_revision_that_also_changes_page_content_is_illegal() {
    let at = datetime!(2026-03-15 02:30:00 UTC);
    let lt = add_validation_data(
        &honest(at),
        &ValidationData {
            certificates: vec![der(&fixture().ca)],
            ..ValidationData::default()
        },
    )
    .unwrap();
    // Rewrite the last revision's catalog update with a page change in the same revision.
    let with_page = append(&lt, |file, upd| {
        let page = page_ref(file, 1);
        let content = upd.allocate();
        upd.put_stream(
            content,
            Dict::new(),
            b"BT /F1 12 Tf 100 700 Td (PAID) Tj ET",
        )
        .unwrap();
        let mut pd = dict_of(file, page);
        pd.set("Contents", Object::Reference(content));
        upd.put(page, Object::Dictionary(pd)).unwrap();
    });
    let r = verify_pdf(&with_page, &options(at, vec![])).unwrap();
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.signatures[0].modifications, ModificationLevel::Illegal);
    let d = illegal_descriptions(&r.signatures[0]);
    assert!(d.contains("page content changed (page 1"), "{d}");
}

#[test]
fn an_ocsp_response_in_the_dss_is_revocation_evidence_for_b_lt() {
    let at = datetime!(2026-03-15 02:30:00 UTC);
    let f = fixture();
    let who = &f.leaders[0];
    let ca_key = crate::pki::IssuerKey::Ed25519(f.ca_key.clone());
    let answer = |status: crate::pki::ocsp::OcspStatus| {
        crate::pki::ocsp::respond(
            &crate::pki::ocsp::request_for(&who.cert, &f.ca).unwrap(),
            &ca_key,
            &f.ca,
            |_| status,
            datetime!(2026-03-16 00:00 UTC),
            datetime!(2026-03-17 00:00 UTC),
        )
    };
    let with = |ocsp: Vec<u8>| {
        add_validation_data(
            &honest(at),
            &ValidationData {
                certificates: vec![der(&f.ca)],
                crls: vec![tsa_crl()],
                ocsps: vec![ocsp],
            },
        )
        .unwrap()
    };
    let lt = with(answer(crate::pki::ocsp::OcspStatus::Good));
    let r = verify_pdf(&lt, &options(datetime!(2026-04-01 00:00 UTC), vec![])).unwrap();
    let s = &r.signatures[0];
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", s.problems);
    assert_eq!(s.level, Some(PadesLevel::BLT));
    assert!(s.revocation.checked);
    assert_eq!(s.revocation.sources, vec!["dss".to_owned()]);
    // Revoked after the time-stamp: still good at the time it proves.
    let later = with(answer(crate::pki::ocsp::OcspStatus::Revoked(datetime!(
        2026-03-15 12:00 UTC
    ))));
    let r = verify_pdf(&later, &options(datetime!(2026-04-01 00:00 UTC), vec![])).unwrap();
    assert_eq!(r.verdict, Verdict::Valid);
    assert!(
        r.signatures[0]
            .chain_problems
            .iter()
            .any(|p| matches!(p, ChainProblem::RevokedLater { .. }))
    );
    // Revoked before it: not trusted.
    let before = with(answer(crate::pki::ocsp::OcspStatus::Revoked(datetime!(
        2026-03-01 00:00 UTC
    ))));
    let r = verify_pdf(&before, &options(datetime!(2026-04-01 00:00 UTC), vec![])).unwrap();
    assert!(!r.signatures[0].trusted);
}

#[test]
fn a_certificate_expired_today_signed_and_time_stamped_while_valid_is_still_valid_at_b_lta() {
    // The fixture's leader certificates expire; checked long after, the time-stamps prove the
    // signature and the validation data came while it was valid.
    let at = datetime!(2026-03-15 02:30:00 UTC);
    let f = fixture();
    let not_after =
        crate::pki::util::from_x509_time(&f.leaders[0].cert.tbs_certificate.validity.not_after)
            .unwrap();
    let data = ValidationData {
        certificates: vec![der(&f.ca), der(tsa().certificate()), der(tsa().root())],
        crls: vec![crl_der(&[], datetime!(2026-03-16 00:00 UTC)), tsa_crl()],
        ocsps: vec![],
    };
    let lta = with_document_timestamp(
        &add_validation_data(&honest(at), &data).unwrap(),
        datetime!(2026-03-20 00:00 UTC),
    );
    let after_expiry = not_after + time::Duration::days(1);
    let r = verify_pdf(&lta, &options(after_expiry, vec![])).unwrap();
    let s = &r.signatures[0];
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", s.problems);
    assert_eq!(s.level, Some(PadesLevel::BLTA));
    // The same signature without any time-stamp, checked then: expired.
    let r = verify_pdf(
        &legit_three_signatures(),
        &VerifyOptions {
            at: Some(after_expiry),
            ..opts()
        },
    )
    .unwrap();
    assert!(!r.signatures[0].trusted);
    assert!(
        r.signatures[0]
            .chain_problems
            .iter()
            .any(|p| matches!(p, ChainProblem::Expired { .. }))
    );
}
