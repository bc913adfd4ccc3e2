//! Verifier tests: a legitimately signed covenant (three sequential
//! signatures), then one tampered file per check, named after the attack
//! (builders in `attacks`, expected verdicts in [`attacks::cases`]).

mod attacks;
mod families;
mod long_term;
mod seal;
mod support;

use time::macros::datetime;

use crate::pki::ChainProblem;

use super::*;
use crate::pdf::parse_date as parse_pdf_date;
use attacks::*;
use support::*;

fn verify(bytes: &[u8]) -> VerificationReport {
    verify_pdf(bytes, &opts()).unwrap()
}

fn kinds(s: &SignatureReport) -> Vec<ChangeKind> {
    s.changes_after
        .iter()
        .filter(|c| !c.allowed)
        .map(|c| c.kind)
        .collect()
}

fn illegal_descriptions(s: &SignatureReport) -> String {
    s.changes_after
        .iter()
        .filter(|c| !c.allowed)
        .map(|c| c.description.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every reason the report gives: document problems, signature problems
/// and illegal changes (with their object numbers).
fn reasons(r: &VerificationReport) -> String {
    let mut out: Vec<String> = r.problems.iter().map(|m| m.en.clone()).collect();
    for s in &r.signatures {
        out.extend(s.problems.iter().map(|p| format!("{}: {p}", s.field)));
        for c in s.changes_after.iter().filter(|c| !c.allowed) {
            let obj = c
                .object
                .map(|o| format!(" [object {o}]"))
                .unwrap_or_default();
            out.push(format!("{}: {}{obj}", s.field, c.description));
        }
    }
    out.join("\n")
}

/// What is wrong with the report of `case`, if anything.
fn judge(case: &Case, r: &VerificationReport) -> Option<String> {
    let mut wrong = Vec::new();
    if r.verdict != case.verdict {
        wrong.push(format!(
            "verdict {:?}, expected {:?}",
            r.verdict, case.verdict
        ));
    }
    let n = r.signatures.len();
    for (i, s) in r.signatures.iter().enumerate() {
        let must_fail = match case.bad {
            Bad::None => false,
            Bad::All => true,
            Bad::Last => i + 1 == n,
            Bad::First => i == 0,
            Bad::AllBut(field) => s.field != field,
        };
        if s.is_acceptable() == must_fail {
            wrong.push(format!(
                "signature {} is {}acceptable",
                s.field,
                if must_fail { "" } else { "not " }
            ));
        }
    }
    let text = reasons(r);
    for want in case.reasons {
        if !text.contains(want) {
            wrong.push(format!("no reason mentions {want:?}"));
        }
    }
    if case.verdict == Verdict::Valid && !text.is_empty() {
        wrong.push("a valid file with problems".to_owned());
    }
    if case.verdict == Verdict::Invalid && text.is_empty() {
        wrong.push("no reason given".to_owned());
    }
    (!wrong.is_empty()).then(|| format!("{}: {}\n{text}", case.name, wrong.join("; ")))
}

#[test]
fn every_hostile_fixture_gets_its_expected_verdict_and_reason() {
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let r = verify(&(case.build)());
        if let Some(f) = judge(case, &r) {
            failures.push(f);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

/// The same attack table on covenants whose signatures pyHanko made with a second CA's RSA
/// (PKCS#1 v1.5 and PSS) and ECDSA certificates: every family (incremental saving, wrapping,
/// universal forgery, shadow, DocMDP certification with pyHanko's `--certify`, truncation) gets
/// the same verdict and breaks the same signatures, with a reason (the words differ where
/// pyHanko's layout or its keys change what is wrong, e.g. an RSA key under an ECDSA
/// signature). Cases that need a signature pyHanko cannot make (a custom signature
/// dictionary, a bloc certificate of another unit) are skipped and counted.
#[test]
fn every_attack_family_gets_the_same_verdict_on_covenants_signed_by_pyhanko() {
    let (failures, run, skipped) = with_signer(Signer::PyHanko, || {
        let mut failures = Vec::new();
        let mut run = Vec::new();
        let mut skipped = Vec::new();
        for mut case in cases() {
            case.reasons = &[];
            let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.build)()));
            match built {
                Ok(bytes) => {
                    let r = verify(&bytes);
                    if let Some(f) = judge(&case, &r) {
                        failures.push(f);
                    }
                    run.push(case.name.clone());
                }
                Err(e) if e.is::<NotWithPyHanko>() => skipped.push(case.name.clone()),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
        (failures, run, skipped)
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n\n{}",
        failures.len(),
        run.len(),
        failures.join("\n\n")
    );
    let families = ["isa-", "swa-", "usf-", "shadow-", "certified", "trunc"];
    for family in families {
        assert!(
            run.iter().any(|n| n.contains(family)),
            "no {family} case ran with pyHanko; skipped: {skipped:?}"
        );
    }
    assert!(
        run.len() > skipped.len() * 3,
        "ran {run:?}, skipped {skipped:?}"
    );
    eprintln!(
        "pyHanko-signed: {} cases judged, {} skipped: {skipped:?}",
        run.len(),
        skipped.len()
    );
}

#[test]
fn three_sequential_signatures_are_valid() {
    let r = verify(&legit_three_signatures());
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.revisions, 4);
    assert_eq!(r.trailing_bytes, 0);
    assert_eq!(r.unsigned_fields.len(), 13);
    assert_eq!(r.unsigned_fields.first().map(String::as_str), Some("U04"));
    let fields: Vec<&str> = r.signatures.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(fields, ["U01", "U02", "U03"]);
    for (i, s) in r.signatures.iter().enumerate() {
        assert!(s.is_acceptable(), "{s:#?}");
        assert!(s.intact && s.valid && s.trusted && s.field_matches_certificate);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.revision, Some(i + 2));
        assert_eq!(s.unit_id.as_deref(), Some(s.field.as_str()));
        assert_eq!(s.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
        assert_eq!(s.signing_time.as_ref().unwrap().as_given, TIMES[i]);
        assert_eq!(s.covers_whole_file, i == 2);
        let signer = s.signer.as_ref().unwrap();
        assert_eq!(signer.issuer_cn.as_deref(), Some(BLOC));
        assert!(
            s.message_vi().contains("Chữ ký hợp lệ"),
            "{}",
            s.message_vi()
        );
        assert!(s.message_en().contains("valid signature"));
    }
    let [s1, s2, s3] = &r.signatures[..] else {
        panic!("three signatures expected")
    };
    assert_eq!(s1.modifications, ModificationLevel::LaterSignaturesOnly);
    assert_eq!(s2.modifications, ModificationLevel::LaterSignaturesOnly);
    assert_eq!(s3.modifications, ModificationLevel::None);
    assert!(s3.changes_after.is_empty());
    let added: Vec<&str> = s1
        .changes_after
        .iter()
        .filter(|c| c.kind == ChangeKind::SignatureAdded && c.allowed)
        .map(|c| c.description.as_str())
        .collect();
    assert_eq!(added.len(), 2);
    assert!(
        added[0].contains("U02") && added[1].contains("U03"),
        "{added:?}"
    );
    assert_eq!(
        s1.signing_time.as_ref().unwrap().rfc3339.as_deref(),
        Some("2026-03-15T09:30:00+07:00")
    );
    assert!(r.summary_vi().starts_with("Tất cả chữ ký hợp lệ"));
    assert!(r.summary_vi().contains("3/3"));
    assert!(r.summary_en().contains("3/3 signatures acceptable"));
}

#[test]
fn signatures_written_with_xref_streams_are_valid() {
    let bytes = legit_xref_stream_updates();
    let file = crate::pdf::PdfFile::parse(&bytes, &crate::pdf::Limits::default()).unwrap();
    assert!(
        file.revisions()
            .iter()
            .skip(1)
            .all(|r| r.kind == crate::pdf::XrefKind::Stream)
    );
    let r = verify(&bytes);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.revisions, 4);
    assert_eq!(
        r.signatures[0].modifications,
        ModificationLevel::LaterSignaturesOnly
    );
    assert_eq!(r.signatures[1].modifications, ModificationLevel::None);
}

#[test]
fn covenant_signed_by_the_real_signer_is_valid() {
    let f = fixture();
    let times = [
        datetime!(2026-03-15 09:30:00 +07:00),
        datetime!(2026-03-16 10:00:00 +07:00),
        datetime!(2026-03-17 14:30:00 +07:00),
    ];
    let mut pdf = f.unsigned.clone();
    for (i, time) in times.into_iter().enumerate() {
        let opts = crate::sign::SignOptions {
            field: format!("U{:02}", i + 1),
            time,
            reason: Some("Ký giao ước thi đua".into()),
            location: Some("Quảng Ninh".into()),
            image: None,
            seal: None,
        };
        let who = &f.leaders[i];
        pdf = crate::sign::sign_with_key(&pdf, &who.key, &who.cert, &who.chain, &opts).unwrap();
    }
    let r = verify(&pdf);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    let levels: Vec<ModificationLevel> = r.signatures.iter().map(|s| s.modifications).collect();
    assert_eq!(
        levels,
        [
            ModificationLevel::LaterSignaturesOnly,
            ModificationLevel::LaterSignaturesOnly,
            ModificationLevel::None
        ]
    );
    assert_eq!(
        r.signatures[0]
            .signing_time
            .as_ref()
            .unwrap()
            .rfc3339
            .as_deref(),
        Some("2026-03-15T09:30:00+07:00")
    );
}

#[test]
fn one_signature_covering_the_whole_file_has_no_modifications() {
    let r = verify(&fixture().signed[0]);
    assert_eq!(r.verdict, Verdict::Valid);
    let s = &r.signatures[0];
    assert!(s.covers_whole_file);
    assert_eq!(s.modifications, ModificationLevel::None);
    assert_eq!(r.unsigned_fields.len(), 15);
}

#[test]
fn unsigned_document_has_no_signatures() {
    let r = verify(&unsigned());
    assert_eq!(r.verdict, Verdict::NoSignatures);
    assert!(r.signatures.is_empty());
    assert_eq!(r.revisions, 1);
    let expected: Vec<String> = (1..=16).map(|i| format!("U{i:02}")).collect();
    assert_eq!(r.unsigned_fields, expected);
    assert_eq!(
        Verdict::NoSignatures.message_vi(),
        "Tài liệu chưa có chữ ký số."
    );
}

#[test]
fn random_garbage_is_an_error() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let garbage: Vec<u8> = (0..5000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let inputs: [&[u8]; 4] = [
        &garbage,
        b"",
        b"%PDF-1.7\n",
        b"%PDF-1.7\nstartxref\n0\n%%EOF\n",
    ];
    for input in inputs {
        let err = verify_pdf(input, &opts()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("không đọc được"), "{text}");
        assert!(text.contains("cannot be read as a PDF"), "{text}");
    }
}

#[test]
fn pdf_without_catalog_is_an_error() {
    let mut pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!(
            "xref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n<</Size 2>>\n\
             startxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let err = verify_pdf(&pdf, &opts()).unwrap_err();
    assert!(matches!(err, VerifyError::NoCatalog), "{err}");
    assert!(err.to_string().contains("no document catalog"));
}

#[test]
fn byte_flipped_in_signed_range_is_not_intact() {
    let r = verify(&byte_flipped_in_signed_range());
    assert_eq!(r.verdict, Verdict::Invalid);
    for s in &r.signatures {
        assert!(!s.intact, "{s:#?}");
        assert!(s.valid, "the CMS itself still verifies");
        assert!(
            s.problems.iter().any(|p| p.en.contains("message digest")),
            "{:?}",
            s.problems
        );
        assert!(s.message_vi().contains("Tài liệu bị thay đổi sau khi ký"));
    }
}

#[test]
fn page_content_replaced_after_signing_is_illegal() {
    let r = verify(&page_content_replaced());
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.revisions, 5);
    for s in &r.signatures {
        assert_eq!(s.modifications, ModificationLevel::Illegal);
        assert!(
            s.intact && s.valid && s.trusted,
            "signatures themselves still hold"
        );
        let k = kinds(s);
        assert!(k.contains(&ChangeKind::PageContentChanged), "{k:?}");
        assert!(k.contains(&ChangeKind::RevisionWithoutSignature), "{k:?}");
        // The new stream is named with the page, not as a stray object.
        assert!(!k.contains(&ChangeKind::ObjectAdded), "{k:?}");
        let d = illegal_descriptions(s);
        assert!(d.contains("page content changed (page 2"), "{d}");
        assert!(s.message_vi().contains("Tài liệu bị thay đổi sau khi ký"));
    }
    let vi: Vec<&str> = r.signatures[0]
        .changes_after
        .iter()
        .map(|c| c.description_vi.as_str())
        .collect();
    assert!(vi.iter().any(|d| d.contains("Nội dung trang 2")), "{vi:?}");
}

#[test]
fn content_stream_redefined_in_place_is_illegal() {
    let r = verify(&content_stream_redefined());
    assert_eq!(r.verdict, Verdict::Invalid);
    let d = illegal_descriptions(&r.signatures[2]);
    assert!(
        d.contains("page content changed (page 3, content stream"),
        "{d}"
    );
}

#[test]
fn annotation_added_over_the_text_is_illegal() {
    let r = verify(&annotation_added_over_text());
    assert_eq!(r.verdict, Verdict::Invalid);
    for s in &r.signatures {
        assert_eq!(s.modifications, ModificationLevel::Illegal);
        let d = illegal_descriptions(s);
        assert!(d.contains("annotation added to page 1"), "{d}");
        assert!(d.contains("/FreeText"), "{d}");
        assert!(!kinds(s).contains(&ChangeKind::ObjectAdded), "{d}");
    }
}

#[test]
fn new_form_field_is_illegal() {
    let r = verify(&new_form_field());
    assert_eq!(r.verdict, Verdict::Invalid);
    let s = &r.signatures[0];
    assert_eq!(s.modifications, ModificationLevel::Illegal);
    assert!(
        kinds(s).contains(&ChangeKind::FormFieldAdded),
        "{:?}",
        kinds(s)
    );
    let d = illegal_descriptions(s);
    assert!(d.contains("new form field 'GhiChu' on page 1"), "{d}");
    assert!(d.contains("new form field 'GhiChu' (object"), "{d}");
}

#[test]
fn signature_wrapping_contents_moved_inside_the_gap_is_invalid() {
    let r = verify(&signature_wrapping_contents_moved());
    let s = &r.signatures[0];
    assert!(
        s.intact,
        "the declared ranges still hash to the signed digest"
    );
    assert!(!s.valid, "{s:#?}");
    assert!(
        s.problems
            .iter()
            .any(|p| p.en.contains("not exactly this signature's /Contents")),
        "{:?}",
        s.problems
    );
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(s.message_vi().contains("Chữ ký không hợp lệ"));
}

#[test]
fn byte_range_rewritten_is_invalid_and_not_intact() {
    let r = verify(&byte_range_rewritten());
    let s = &r.signatures[0];
    assert!(!s.valid && !s.intact, "{s:#?}");
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn bytes_after_the_last_eof_are_reported() {
    let r = verify(&trailing_bytes_after_eof());
    assert_eq!(r.trailing_bytes, 31);
    assert!(
        r.problems
            .iter()
            .any(|p| p.en.contains("after the last %%EOF")),
        "{:?}",
        r.problems
    );
    let last = r.signatures.last().unwrap();
    assert!(!last.covers_whole_file);
    assert!(last.intact && last.valid);
    assert_eq!(last.modifications, ModificationLevel::Illegal);
    assert!(kinds(last).contains(&ChangeKind::TrailingBytes));
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn cut_off_last_revision_makes_its_range_exceed_the_file() {
    let r = verify(&last_revision_cut_off());
    assert_eq!(r.verdict, Verdict::Invalid);
    let last = r.signatures.last().unwrap();
    assert_eq!(last.field, "U03");
    assert!(!last.valid && !last.intact);
    assert!(!last.covers_whole_file);
    assert!(
        last.problems
            .iter()
            .any(|p| p.en.contains("after the end of the file")),
        "{:?}",
        last.problems
    );
    assert!(
        r.problems.iter().any(|p| p.en.contains("no %%EOF")),
        "{:?}",
        r.problems
    );
}

#[test]
fn certificate_from_another_ca_with_the_same_name_is_untrusted() {
    let r = verify(&certificate_from_other_ca_same_name());
    let s = &r.signatures[0];
    assert!(s.intact && s.valid && s.field_matches_certificate);
    assert!(!s.trusted);
    assert!(
        s.chain_problems
            .iter()
            .any(|p| matches!(p, ChainProblem::BadSignature { .. })),
        "{:?}",
        s.chain_problems
    );
    assert_eq!(r.verdict, Verdict::Untrusted);
    assert!(s.message_vi().contains("Chứng thư không được tin cậy"));
}

#[test]
fn certificate_of_another_unit_signing_u01_is_rejected() {
    let r = verify(&certificate_of_another_unit());
    let s = &r.signatures[0];
    assert!(s.intact && s.valid && s.trusted);
    assert_eq!(s.field, "U01");
    assert_eq!(s.unit_id.as_deref(), Some("U02"));
    assert!(!s.field_matches_certificate);
    assert!(!s.is_acceptable());
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        s.message_vi().contains("Chữ ký không đúng đơn vị"),
        "{}",
        s.message_vi()
    );
}

#[test]
fn revoked_certificate_is_untrusted() {
    let serial = 0x1000; // U01's leader
    let options = VerifyOptions {
        crls: vec![crl(&[serial], datetime!(2026-03-01 00:00:00 UTC))],
        ..opts()
    };
    let r = verify_pdf(&legit_three_signatures(), &options).unwrap();
    let s = &r.signatures[0];
    assert!(!s.trusted);
    assert!(
        s.chain_problems
            .iter()
            .any(|p| matches!(p, ChainProblem::Revoked { .. })),
        "{:?}",
        s.chain_problems
    );
    assert!(r.signatures[1].trusted && r.signatures[2].trusted);
    assert_eq!(r.verdict, Verdict::Untrusted);
}

#[test]
fn without_a_time_stamp_the_certificate_is_judged_at_the_time_of_verification() {
    // PAdES B-B: /M is only the signer's claim. A revocation after the time of verification
    // is only noted; once the verification happens after it, the signature is not trusted,
    // and the report says it was checked at the time of verification.
    let crls = vec![crl(&[0x1000], datetime!(2026-06-01 00:00:00 UTC))];
    let before = VerifyOptions {
        crls: crls.clone(),
        at: Some(datetime!(2026-05-01 00:00:00 UTC)),
        ..opts()
    };
    let r = verify_pdf(&legit_three_signatures(), &before).unwrap();
    let s = &r.signatures[0];
    assert!(s.trusted);
    assert!(
        s.chain_problems
            .iter()
            .any(|p| matches!(p, ChainProblem::RevokedLater { .. }))
    );
    assert_eq!(s.level, Some(crate::verify::PadesLevel::BB));
    let after = VerifyOptions {
        crls,
        at: Some(datetime!(2026-07-01 00:00:00 UTC)),
        ..opts()
    };
    let r = verify_pdf(&legit_three_signatures(), &after).unwrap();
    let s = &r.signatures[0];
    assert!(!s.trusted);
    assert_eq!(r.verdict, Verdict::Untrusted);
    let checked = s.checked_at.as_ref().unwrap();
    assert_eq!(checked.source, crate::verify::TimeSource::VerificationTime);
    assert_eq!(checked.time, "2026-07-01T00:00:00Z");
    assert!(
        s.problems
            .iter()
            .any(|m| m.vi.contains("đã bị thu hồi lúc 2026-06-01")),
        "{:?}",
        s.problems
    );
    assert!(
        s.notes.iter().any(|n| n
            .vi
            .contains("tại thời điểm xác minh (2026-07-01T00:00:00Z)")),
        "{:?}",
        s.notes
    );
}

#[test]
fn no_trust_roots_means_untrusted() {
    let r = verify_pdf(&fixture().signed[0], &VerifyOptions::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Untrusted);
}

#[test]
fn later_signature_that_also_changes_a_page_is_illegal_for_earlier_ones() {
    let r = verify(&later_signature_also_changes_page());
    assert_eq!(r.verdict, Verdict::Invalid);
    let s4 = r.signatures.last().unwrap();
    assert_eq!(s4.field, "U04");
    assert!(s4.is_acceptable(), "U04 signed what it saw: {s4:#?}");
    for s in &r.signatures[..3] {
        assert_eq!(s.modifications, ModificationLevel::Illegal);
        let d = illegal_descriptions(s);
        assert!(d.contains("page 1 changed: /MediaBox"), "{d}");
        assert!(
            s.changes_after
                .iter()
                .any(|c| c.allowed && c.description.contains("field U04")),
            "the signature itself is still recognised"
        );
    }
}

#[test]
fn info_change_in_a_signature_revision_is_allowed_but_noted() {
    let r = verify(&info_updated_with_signature());
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    let s = &r.signatures[0];
    assert_eq!(s.modifications, ModificationLevel::LaterSignaturesOnly);
    assert!(
        s.changes_after
            .iter()
            .any(|c| c.kind == ChangeKind::InfoUpdated
                && c.allowed
                && c.description.contains("/ModDate"))
    );
}

#[test]
fn info_only_update_after_signing_is_maintenance_noted_per_signature() {
    let r = verify(&info_only_update());
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    for s in &r.signatures {
        let info: Vec<&Change> = s
            .changes_after
            .iter()
            .filter(|c| c.kind == ChangeKind::InfoUpdated)
            .collect();
        assert!(
            info.len() == 1 && info[0].allowed && info[0].description.contains("/ModDate"),
            "{:#?}",
            s.changes_after
        );
        assert!(!kinds(s).contains(&ChangeKind::RevisionWithoutSignature));
    }
}

#[test]
fn info_pointed_at_a_page_does_not_launder_a_page_change() {
    let r = verify(&info_pointed_at_a_page());
    assert_eq!(r.verdict, Verdict::Invalid);
    let s = &r.signatures[0];
    assert!(
        !s.changes_after
            .iter()
            .any(|c| c.allowed && c.kind == ChangeKind::InfoUpdated),
        "{:#?}",
        s.changes_after
    );
    assert!(kinds(s).contains(&ChangeKind::TrailerChanged));
    let last: Vec<&Change> = s
        .changes_after
        .iter()
        .filter(|c| c.revision == Some(6))
        .collect();
    assert!(
        last.iter()
            .any(|c| !c.allowed && c.description.contains("/Rotate")),
        "{last:#?}"
    );
}

#[test]
fn signed_field_changed_later_is_illegal() {
    let r = verify(&signed_field_hidden_later());
    assert_eq!(r.verdict, Verdict::Invalid);
    let d = illegal_descriptions(&r.signatures[0]);
    assert!(d.contains("signed field U01 changed: /F"), "{d}");
}

#[test]
fn object_freed_after_signing_is_illegal() {
    let r = verify(&object_freed());
    assert_eq!(r.verdict, Verdict::Invalid);
    let k = kinds(&r.signatures[0]);
    assert!(k.contains(&ChangeKind::ObjectFreed), "{k:?}");
}

#[test]
fn shadow_object_in_a_later_revision_is_illegal() {
    let r = verify(&shadow_object_in_update());
    assert_eq!(r.verdict, Verdict::Invalid);
    let k = kinds(&r.signatures[2]);
    assert!(k.contains(&ChangeKind::UnaccountedBytes), "{k:?}");
    assert!(k.contains(&ChangeKind::MalformedRevision), "{k:?}");
}

#[test]
fn hidden_signature_outside_the_form_is_reported() {
    let r = verify(&hidden_signature_outside_form());
    assert!(r.signatures.is_empty());
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        r.problems
            .iter()
            .any(|p| p.en.contains("not a field of /AcroForm")),
        "{:?}",
        r.problems
    );
}

#[test]
fn report_round_trips_through_json() {
    let r = verify(&fixture().signed[1]);
    let json = serde_json::to_string_pretty(&r).unwrap();
    assert!(json.contains("\"format\": \"giaouoc.verification/2\""));
    assert!(json.contains("\"verdict\": \"valid\""));
    assert!(json.contains("\"modifications\": \"later_signatures_only\""));
    assert!(json.contains("\"kind\": \"signature_added\""));
    let back: VerificationReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn pdf_dates_parse_with_optional_parts() {
    let t = |s| parse_pdf_date(s).map(|t| crate::pki::util::rfc3339(t).unwrap());
    assert_eq!(
        t("D:20260315093000+07'00'").as_deref(),
        Some("2026-03-15T09:30:00+07:00")
    );
    assert_eq!(
        t("D:20260315093000Z").as_deref(),
        Some("2026-03-15T09:30:00Z")
    );
    assert_eq!(t("D:2026").as_deref(), Some("2026-01-01T00:00:00Z"));
    assert_eq!(
        t("D:202603150930-05'30").as_deref(),
        Some("2026-03-15T09:30:00-05:30")
    );
    for bad in [
        "",
        "D:",
        "D:20261345",
        "D:2026031509300",
        "D:20260315093000+7",
        "D:x",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
}

#[test]
fn hostile_mutations_never_panic() {
    // Samples per file; raise with VERIFY_MUTATIONS for a longer run.
    let samples: usize = std::env::var("VERIFY_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let started = std::time::Instant::now();
    for base in [&fixture().signed[0], &fixture().signed[2]] {
        // One byte flipped at a sample of positions, and truncations.
        for (n, i) in (0..base.len()).step_by(base.len() / samples).enumerate() {
            let mut m = base.clone();
            m[i] ^= [0x01u8, 0x20, 0xff][n % 3];
            let _ = verify_pdf(&m, &opts());
            if n % 5 == 0 {
                let _ = verify_pdf(&base[..i], &opts());
            }
        }
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(30 + samples as u64));
}

/// Writes every fixture of [`attacks::cases`] with its report, for an
/// outside check with pyHanko:
/// `VERIFY_ARTIFACTS=/dir cargo test --lib verify -- --ignored write_fixtures`, then
/// `pyhanko sign validate --pretty-print --trust /dir/ca.pem --trust-replace /dir/<case>.pdf`.
#[test]
#[ignore]
fn write_fixtures_for_pyhanko() {
    let dir = std::env::var("VERIFY_ARTIFACTS").unwrap_or_else(|_| "/tmp/verify-artifacts".into());
    std::fs::create_dir_all(&dir).unwrap();
    let w = |name: &str, data: &[u8]| std::fs::write(format!("{dir}/{name}"), data).unwrap();
    w(
        "ca.pem",
        crate::pki::certificate_to_pem(&fixture().ca)
            .unwrap()
            .as_bytes(),
    );
    for case in cases() {
        let bytes = (case.build)();
        let name = case.name.replace('/', "-");
        w(&format!("{name}.pdf"), &bytes);
        let report = serde_json::to_string_pretty(&verify(&bytes)).unwrap();
        w(&format!("{name}.report.json"), report.as_bytes());
    }
}

#[test]
fn signature_wrapping_keeps_the_signed_digest_but_is_invalid() {
    // The moved second part hashes to the signed digest: only the structure
    // (the gap is not exactly /Contents) tells the wrapped file apart.
    for (name, bytes) in [
        ("hex/1", families::swa_hex(1)),
        ("literal/1", families::swa_literal(1)),
        ("hex/3", families::swa_hex(3)),
    ] {
        let r = verify(&bytes);
        let s = r.signatures.last().unwrap();
        assert!(s.intact, "{name}: {s:#?}");
        assert!(!s.valid, "{name}: {s:#?}");
        assert_eq!(r.verdict, Verdict::Invalid, "{name}");
    }
    // With one signature the wrapped file even ends where the moved part's %%EOF is.
    let r = verify(&families::swa_hex(1));
    assert!(r.signatures[0].covers_whole_file, "{r:#?}");
    assert_eq!(r.trailing_bytes, 0);
}

#[test]
fn swapped_certificate_keeps_the_digest_but_not_the_signature() {
    let r = verify(&families::usf_swapped_certificate(1));
    let s = &r.signatures[0];
    assert!(s.intact, "the /Contents gap is not signed: {s:#?}");
    assert!(!s.valid);
    assert_eq!(s.unit_id.as_deref(), Some("U02"));
    assert!(!s.field_matches_certificate);
    assert!(s.message_vi().contains("Chữ ký không hợp lệ"));
}

#[test]
fn certification_signature_is_reported_with_its_permissions() {
    let r = verify(&families::legit_certified_p2(3));
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    let levels: Vec<Option<u8>> = r.signatures.iter().map(|s| s.certification).collect();
    assert_eq!(levels, [Some(2), None, None]);
    assert!(
        r.signatures[0]
            .notes
            .iter()
            .any(|n| n.en.contains("certification signature (DocMDP /P 2)")),
        "{:?}",
        r.signatures[0].notes
    );

    let r = verify(&families::docmdp_p1_then_signed());
    assert_eq!(r.verdict, Verdict::Invalid);
    let [u01, u02, u03] = &r.signatures[..] else {
        panic!("three signatures expected")
    };
    assert_eq!(u01.certification, Some(1));
    assert_eq!(u01.modifications, ModificationLevel::Illegal);
    // The later signatures are violations of the certification only.
    assert!(
        u01.changes_after
            .iter()
            .all(|c| !c.allowed && c.description.contains("DocMDP /P 1")),
        "{:#?}",
        u01.changes_after
    );
    assert!(u01.message_en().contains("changed after signing"));
    assert!(u02.is_acceptable() && u03.is_acceptable());
    assert_eq!(u02.modifications, ModificationLevel::LaterSignaturesOnly);
}

#[test]
fn shadow_redirects_name_the_redirected_object() {
    let p = families::shadow_prepared().1;
    let r = verify(&families::shadow_hide_overlay_redirected(1));
    let d = illegal_descriptions(&r.signatures[0]);
    assert!(
        d.contains(&format!("object {} points at byte", p.overlay.num)),
        "{d}"
    );
    let r = verify(&families::shadow_hide_and_replace_redirected(3));
    let d = illegal_descriptions(&r.signatures[0]);
    assert!(
        d.contains(&format!("object {} points at byte", p.pages.num)),
        "{d}"
    );
    let r = verify(&families::shadow_replace_font(1));
    let d = illegal_descriptions(&r.signatures[0]);
    assert!(
        d.contains(&format!("object {} (dictionary /Type /Font", p.font.num)),
        "{d}"
    );
}

#[test]
fn unreadable_end_of_file_is_read_up_to_the_last_good_revision() {
    // Objects appended without a section, more than 4 KiB: the last startxref
    // is far from the end; the signed revisions are still reported.
    let r = verify(&families::isa_xref_less_append(3));
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.revisions, 4);
    assert!(r.trailing_bytes > 5000, "{}", r.trailing_bytes);
    for s in &r.signatures {
        assert!(s.intact && s.valid && s.trusted, "{s:#?}");
        assert_eq!(s.modifications, ModificationLevel::Illegal);
        assert!(kinds(s).contains(&ChangeKind::TrailingBytes));
    }
    // Garbage is still no PDF at all.
    assert!(verify_pdf(b"%PDF-1.7\nstartxref\n0\n%%EOF\n", &opts()).is_err());
}

#[test]
fn reports_without_the_certification_field_still_parse() {
    let r = verify(&fixture().signed[0]);
    let mut json: serde_json::Value = serde_json::to_value(&r).unwrap();
    json["signatures"][0]
        .as_object_mut()
        .unwrap()
        .remove("certification");
    let back: VerificationReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn a_printed_name_matches_its_ascii_spelling_but_not_another_name() {
    use crate::verify::signature::{same_letters, same_person};
    assert!(same_person("Mạc  Đình Toàn", "mạc đình toàn"));
    assert!(!same_person("MAC DINH TOAN", "Mạc Đình Toàn"));
    assert!(same_letters("MAC DINH TOAN", "Mạc Đình Toàn"));
    assert!(same_letters("Mac Dinh Toan", "Mạc Đình Toàn"));
    assert!(!same_letters("Mac Dinh Tuan", "Mạc Đình Toàn"));
    assert!(!same_letters("Mạc Đình", "Mạc Đình Toàn"));
}
