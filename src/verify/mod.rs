//! Verifying the signatures of a covenant PDF: PAdES B-B with Ed25519, one
//! incremental revision per signer (ISO 32000-2 12.8, ETSI EN 319 142-1,
//! RFC 8419). The module map is in `docs/ARCHITECTURE.md`.
//!
//! [`verify_pdf`] reads untrusted bytes only through [`crate::pdf`] (bounded by
//! [`Limits`]) and returns a [`VerificationReport`]. It returns an error only
//! when the file cannot be read as a PDF at all: a bad signature is a value in
//! the report, never an `Err`.
//!
//! The steps, each with the attack it stops:
//! 1. **Find the signatures** as of the newest revision: walk `/AcroForm
//!    /Fields` and `/Kids` (bounded: 10 000 nodes, depth 32); a filled
//!    `/FT /Sig` field gives a signature, an empty one an unsigned field.
//!    Annotations on pages that hold a signature but are not in the form are
//!    reported (a hidden signature no viewer lists).
//! 2. **The signature dictionary** must be a plain (uncompressed) object with
//!    `/Filter /Adobe.PPKLite` and `/SubFilter /ETSI.CAdES.detached`
//!    (`/adbe.pkcs7.detached` is accepted with a note). `/ByteRange` is
//!    exactly `[0 a b c]`, its gap `[a, b)` is *exactly* this dictionary's
//!    `/Contents` hex string with its delimiters (stops signature wrapping:
//!    moving `/Contents` and rewriting the range), and `b + c` is the end of a
//!    revision (its `%%EOF`); a range past the end of the file is invalid.
//! 3. **The CMS**: `/Contents` is one DER SignedData followed by zero padding
//!    only; the signer's certificate must be the one signing-certificate-v2
//!    names; the Ed25519 signature over the signed attributes must verify
//!    (`valid`), and the message digest must equal SHA-512 of the signed bytes
//!    (`intact`).
//!    **Certification** (DocMDP, ISO 32000-2 12.8.2.2): the catalog's
//!    `/Perms /DocMDP` must name the first signature, whose `/Reference`
//!    holds the DocMDP transform, and the other way round; `/P` 1 turns every
//!    later change (even a signature) into a violation, `/P` 2 and 3 are
//!    covered by the rules of step 5 (stricter: annotations stay illegal).
//!    See `mdp` (stops Evil Annotation and Sneaky Signature attacks).
//! 4. **Trust**: the certificate chains to one of [`VerifyOptions::trust_roots`]
//!    at the time `/M` (checked with [`VerifyOptions::crls`]). `/M` is the
//!    time the signer *claims*: PAdES B-B has no time-stamp, so a signer
//!    whose certificate was revoked can back-date `/M`. The field name must
//!    equal the certificate's unit id (subject OU): a unit may only fill its
//!    own field.
//! 5. **Modifications**, deny by default (see `diff`): every
//!    revision after the signed one is compared object by object with the
//!    revision before it. Only later signatures filling their own empty
//!    fields (with their appearance), `/Version`, `/Extensions`,
//!    `/AcroForm /SigFlags` and `/Info` may change; anything else (page
//!    content, annotations, new fields, freed or redirected objects, bytes
//!    outside objects, bytes after the last `%%EOF`) is an illegal change
//!    naming what it changed.
//!
//! A file whose end does not read as a revision (objects appended without a
//! cross-reference section, a truncated update) is read from the newest
//! earlier `startxref` that reads (`PdfFile::parse_recovering`); the bytes
//! after that revision are then a problem and an illegal change for every
//! signature, so the signatures are still listed but the file is invalid.
//!
//! # The report (`giaouoc.verification/2`)
//! ```json
//! { "format": "giaouoc.verification/2", "file_sha256": "…", "file_size": 123456,
//!   "revisions": 4, "trailing_bytes": 0, "verdict": "valid",
//!   "unsigned_fields": ["U04", …], "problems": [], "notes": [],
//!   "signatures": [{
//!     "field": "U01", "signature_object": 80, "unit_id": "U01",
//!     "signer": { "subject_cn": "…", "title": "…", "unit_name": "…", "unit_id": "U01",
//!                 "issuer_cn": "…", "serial_hex": "…", … },
//!     "signing_time": { "as_given": "D:20260315093000+07'00'",
//!                       "rfc3339": "2026-03-15T09:30:00+07:00" },
//!     "sub_filter": "ETSI.CAdES.detached", "revision": 2, "covers_whole_file": false,
//!     "byte_range": [0, 1000, 17386, 500], "intact": true, "valid": true,
//!     "trusted": true, "chain_problems": [], "field_matches_certificate": true,
//!     "modifications": "later_signatures_only",
//!     "changes_after": [{ "revision": 3, "object": 5, "kind": "signature_added",
//!                         "allowed": true,
//!                         "finding": { "code": "signature_added", "field": "U02",
//!                                      "signature_object": 88 },
//!                         "description": "…", "description_vi": "…" }],
//!     "problems": [{ "code": "digest_mismatch", "en": "…", "vi": "…" }],
//!     "notes": [], "certification": null }] }
//! ```
//! Every problem and note is a finding ([`Finding`]: `code` and its data) with its text in
//! English (`en`) and Vietnamese (`vi`); version 1 had plain English strings there.
//! `verdict` is `valid`, `invalid`, `no_signatures` or `untrusted`;
//! `modifications` is `none`, `later_signatures_only` or `illegal`; `revision`
//! is 1-based (the original file is revision 1). Fields are only ever added
//! to this format; a removal or change of meaning gets a new format name.

mod diff;
mod fields;
mod finding;
mod mdp;
mod report;
mod signature;
mod util;

#[cfg(test)]
mod tests;

use der::Decode;
use sha2::{Digest, Sha256};

use crate::pdf::walk::WalkProblem;
use crate::pdf::{Anomaly, Limits, PdfError, PdfFile};
use crate::pki::Crl;

pub use finding::{Finding, Lang, Message, ObjectRole};
pub use report::{
    Binding, BindingRule, Change, ChangeKind, CheckedAt, DocumentTimestampReport,
    ModificationLevel, PadesLevel, REPORT_FORMAT, Revocation, SignatureReport, SigningTime,
    TimeSource, UnitCard, Verdict, VerificationReport,
};
pub(crate) use signature::same_person;

use util::{Budget, MAX_WORK};

/// What to trust when verifying.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Trust anchors: the bloc CA certificate(s), and roots an operator adds (the national
    /// root CA, the government CA). Empty trusts nothing.
    pub trust_roots: Vec<x509_cert::Certificate>,
    /// CRLs to check revocation with (each is used only if its signature verifies).
    pub crls: Vec<Crl>,
    /// Certificates each unit enrolled with the service: field (unit id) → SHA-256
    /// fingerprints (lowercase hex). A field listed here is bound by enrolment.
    pub enrolled: std::collections::BTreeMap<String, Vec<String>>,
    /// Bounds for reading the file.
    pub limits: Limits,
    /// The time of verification: a signature no trusted time-stamp covers is checked at this
    /// time (the current time if `None`).
    pub at: Option<time::OffsetDateTime>,
}

/// The file cannot be read as a PDF at all. Anything else is a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The file structure (cross-reference sections, trailer) is unreadable.
    #[error("không đọc được tệp PDF / the file cannot be read as a PDF: {0}")]
    Unreadable(#[from] PdfError),
    /// The trailer has no `/Root`, or it is not a dictionary (ISO 32000-2 7.7.2).
    #[error(
        "tệp PDF không có danh mục gốc (catalog) / the PDF has no document catalog (trailer /Root)"
    )]
    NoCatalog,
}

/// Verifies every signature of a PDF.
///
/// # Errors
/// [`VerifyError`] only when the bytes cannot be read as a PDF; every finding
/// about signatures and changes is in the returned report.
pub fn verify_pdf(bytes: &[u8], opts: &VerifyOptions) -> Result<VerificationReport, VerifyError> {
    let (file, recovery) = PdfFile::parse_recovering(bytes, &opts.limits)?;
    let last = file.last_revision();
    let mut budget = Budget::new(MAX_WORK);
    if fields::catalog(&file, last, &mut budget).is_none() {
        return Err(VerifyError::NoCatalog);
    }
    let mut problems: Vec<Message> = Vec::new();
    let mut notes: Vec<Message> = Vec::new();
    if !bytes.starts_with(b"%PDF-") {
        notes.push(Finding::NoPdfHeader.into());
    }
    if file.trailer().and_then(|t| t.get(b"Encrypt")).is_some() {
        problems.push(Finding::Encrypted.into());
    }

    // 1. Signature fields as of the newest revision, and hidden signatures.
    let scan = fields::scan_fields(&file, last, &mut budget);
    problems.extend(scan.problems.iter().map(walk_finding));
    let unsigned_fields: Vec<String> = scan
        .fields
        .iter()
        .filter(|f| f.is_signature && f.value.is_none())
        .map(|f| f.name.clone())
        .collect();
    let pages = fields::index_pages(&file, last, &mut budget);
    problems.extend(pages.problems.iter().map(walk_finding));
    let hidden = fields::hidden_signatures(&file, last, &pages, &scan, &mut budget);
    for (a, page) in &hidden {
        problems.push(
            Finding::HiddenSignature {
                annotation: a.num,
                page: *page,
            }
            .into(),
        );
    }

    // 2-4. Each signature on its own, after the document time-stamps whose times prove when
    // the signatures before them existed.
    let hasher = signature::PrefixHasher::new(bytes);
    let mut evidence = dss_evidence(&file, last, &mut budget);
    evidence.now = Some(opts.at.unwrap_or_else(time::OffsetDateTime::now_utc));
    evidence.dss_revisions = (0..=last)
        .filter(|&rev| {
            fields::catalog(&file, rev, &mut budget).is_some_and(|c| c.get(b"DSS").is_some())
        })
        .collect();
    let (stamps, signed): (Vec<_>, Vec<_>) = scan
        .signed()
        .partition(|f| fields::is_document_timestamp(&file, f, last, &mut budget));
    let mut stamp_checks: Vec<signature::Checked> = stamps
        .into_iter()
        .map(|f| {
            signature::check_signature(
                &file,
                f,
                opts,
                &evidence,
                &hasher,
                signature::Kind::DocumentTimestamp,
            )
        })
        .collect();
    stamp_checks.sort_by_key(|c| (c.from, c.report.field.clone()));
    let document_timestamps: Vec<DocumentTimestampReport> = stamp_checks
        .iter()
        .map(|c| document_timestamp_report(c, &mut problems, &mut notes))
        .collect();
    evidence.stamps = stamp_checks
        .iter()
        .filter(|c| c.report.valid && c.report.intact)
        .filter_map(|c| {
            let check = c.stamp.as_ref()?;
            Some(signature::ProvenStamp {
                covers: c.from,
                time: check.proven_time()?,
                field: c.report.field.clone(),
                tsa: check.tsa_name(),
            })
        })
        .collect();
    evidence.stamps.sort_by_key(|s| s.time);
    let mut checked: Vec<signature::Checked> = signed
        .into_iter()
        .map(|f| {
            signature::check_signature(
                &file,
                f,
                opts,
                &evidence,
                &hasher,
                signature::Kind::Signature,
            )
        })
        .collect();
    checked.sort_by_key(|c| (c.from, c.report.field.clone()));
    flag_shared_dictionaries(&mut checked);
    note_time_order(&mut checked);
    let perms = mdp::perms_docmdp(&file, last, &mut budget);
    mdp::check_certification(&mut checked, perms, &mut problems);

    // 5. Modifications after each signature.
    let trailing = file.trailing_bytes_after_last_eof().unwrap_or(0);
    if trailing > 0 {
        problems.push(Finding::TrailingBytes { count: trailing }.into());
    }
    // The end of the file that does not read as a revision (see `PdfFile::parse_recovering`).
    let unreadable_tail = recovery.map(|r| {
        let from = file
            .revisions()
            .last()
            .map_or(0, |rev| rev.end_offset.unwrap_or(rev.section_span.1));
        Finding::UnreadableTail {
            error: r.error.to_string(),
            startxref_at: r.startxref_at,
            from,
            count: bytes.len().saturating_sub(from),
        }
    });
    if let Some(f) = &unreadable_tail {
        problems.push(f.clone().into());
    }
    if let Some(first) = checked.iter().map(|c| c.from).min() {
        structure_findings(&file, first, &mut problems, &mut notes);
        let per_revision = diff::analyse(&file, first, &mut budget);
        for c in &mut checked {
            let mut changes: Vec<Change> = per_revision
                .range(c.from.saturating_add(1)..)
                .flat_map(|(_, v)| v.iter().cloned())
                .collect();
            if trailing > 0 {
                changes.push(Change::illegal(
                    None,
                    None,
                    ChangeKind::TrailingBytes,
                    Finding::TrailingBytesChange { count: trailing },
                ));
            }
            if let Some(f) = &unreadable_tail {
                changes.push(Change::illegal(
                    None,
                    None,
                    ChangeKind::MalformedRevision,
                    f.clone(),
                ));
            }
            if let Some(p) = c.report.certification {
                mdp::restrict(p, &mut changes);
            }
            c.report.modifications = if changes.is_empty() {
                ModificationLevel::None
            } else if changes.iter().all(|ch| ch.allowed) {
                let maintenance = changes.iter().any(|ch| {
                    matches!(
                        ch.kind,
                        ChangeKind::MetadataUpdated
                            | ChangeKind::ValidationDataAdded
                            | ChangeKind::TimestampAdded
                    ) || matches!(
                        ch.finding,
                        Finding::PermsUpdated
                            | Finding::FormResourcesAdded
                            | Finding::FormDefaultsChanged { .. }
                    )
                });
                if maintenance {
                    ModificationLevel::AllowedUpdates
                } else {
                    ModificationLevel::LaterSignaturesOnly
                }
            } else {
                ModificationLevel::Illegal
            };
            if c.report.modifications == ModificationLevel::Illegal {
                c.report
                    .problems
                    .push(Finding::ChangedAfterSignature.into());
                if let Some(p) = c.report.certification {
                    c.report
                        .problems
                        .push(Finding::CertificationBroken { p }.into());
                }
            }
            c.report.changes_after = changes;
        }
    }
    if budget.exhausted() {
        problems.push(Finding::WorkLimit { max: MAX_WORK }.into());
    }

    let signatures: Vec<SignatureReport> = checked.into_iter().map(|c| c.report).collect();
    let field_names: Vec<String> = scan
        .fields
        .iter()
        .filter(|f| f.is_signature)
        .filter(|f| f.value.is_none() || signatures.iter().any(|s| s.field == f.name))
        .map(|f| f.name.clone())
        .collect();
    let units = unit_cards(&field_names, &signatures, &mut problems);
    let verdict = if signatures.is_empty() {
        if hidden.is_empty() {
            Verdict::NoSignatures
        } else {
            Verdict::Invalid
        }
    } else if !problems.is_empty()
        || signatures.iter().any(|s| {
            (!s.indeterminate && (!s.intact || !s.valid))
                || !s.field_matches_certificate
                || s.modifications == ModificationLevel::Illegal
        })
    {
        Verdict::Invalid
    } else if signatures.iter().any(|s| s.indeterminate) {
        Verdict::Indeterminate
    } else if signatures.iter().any(|s| !s.trusted) {
        Verdict::Untrusted
    } else {
        Verdict::Valid
    };

    Ok(VerificationReport {
        format: REPORT_FORMAT.to_owned(),
        file_sha256: crate::pki::util::hex_lower(&Sha256::digest(bytes)),
        file_size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        revisions: file.revisions().len(),
        signatures,
        unsigned_fields,
        trailing_bytes: trailing,
        verdict,
        problems,
        notes,
        document_timestamps,
        units,
    })
}

/// Pairs each unit's leader's field (`U05`) with its seal field (`U05-dau`): one card per
/// unit, in field order. A seal whose leader's signature is missing or not in an earlier
/// revision is a document problem (the organisation signs after the competent person).
fn unit_cards(
    fields: &[String],
    signatures: &[SignatureReport],
    problems: &mut Vec<Message>,
) -> Vec<UnitCard> {
    use crate::workflow::Seat;
    let index = |field: &str| signatures.iter().position(|s| s.field == field);
    let mut units: Vec<String> = Vec::new();
    for f in fields {
        let (unit, _) = Seat::of_field(f);
        if !units.iter().any(|u| u == unit) {
            units.push(unit.to_owned());
        }
    }
    let sound = |i: Option<usize>| {
        i.and_then(|i| signatures.get(i))
            .is_some_and(|s| s.intact && s.valid && s.field_matches_certificate)
    };
    units
        .into_iter()
        .map(|unit| {
            let seal_name = Seat::Seal.field(&unit);
            let seal_field = fields.contains(&seal_name).then_some(seal_name);
            let leader_present = fields.contains(&unit);
            let leader = index(&unit);
            let seal = seal_field.as_deref().and_then(index);
            let mut in_order = true;
            if let (Some(field), Some(s)) = (&seal_field, seal.and_then(|i| signatures.get(i))) {
                let before = leader
                    .and_then(|i| signatures.get(i))
                    .is_some_and(|l| l.revision.zip(s.revision).is_some_and(|(a, b)| a < b));
                if !before {
                    in_order = false;
                    problems.push(
                        Finding::SealWithoutLeader {
                            field: field.clone(),
                            leader_field: unit.clone(),
                        }
                        .into(),
                    );
                }
            }
            let complete = (!leader_present || sound(leader))
                && (seal_field.is_none() || sound(seal))
                && in_order
                && (leader_present || seal.is_some());
            UnitCard {
                unit,
                leader,
                seal_field,
                seal,
                complete,
            }
        })
        .collect()
}

/// The report of a document time-stamp; its failures become document-level problems (an
/// untrusted TSA only a note: its time is simply not used).
fn document_timestamp_report(
    c: &signature::Checked,
    problems: &mut Vec<Message>,
    notes: &mut Vec<Message>,
) -> DocumentTimestampReport {
    let field = c.report.field.clone();
    let mut own: Vec<Message> = c
        .report
        .problems
        .iter()
        .map(|m| {
            Finding::DocumentTimestampMalformed {
                field: field.clone(),
                finding: Box::new(m.finding.clone()),
            }
            .into()
        })
        .collect();
    let check = c.stamp.as_ref();
    for p in check.iter().flat_map(|k| k.problems.iter()) {
        if let crate::tsp::TokenProblem::Untrusted { .. } = p {
            notes.push(
                Finding::DocumentTimestampUntrusted {
                    field: field.clone(),
                    tsa: check.and_then(|k| k.tsa_name()).unwrap_or_default(),
                }
                .into(),
            );
        } else {
            own.push(
                Finding::DocumentTimestampInvalid {
                    field: field.clone(),
                    problem: p.clone(),
                }
                .into(),
            );
        }
    }
    problems.extend(own.iter().cloned());
    let info = check.and_then(|k| k.info.as_ref());
    DocumentTimestampReport {
        field,
        revision: c.report.revision,
        time: info.and_then(|i| crate::pki::util::rfc3339(i.gen_time).ok()),
        tsa: check.and_then(|k| k.tsa_name()),
        tsa_not_after: check
            .and_then(|k| k.tsa.as_ref())
            .and_then(|t| crate::pki::util::from_x509_time(&t.tbs_certificate.validity.not_after))
            .and_then(|t| crate::pki::util::rfc3339(t).ok()),
        valid: c.report.valid && c.report.intact && own.is_empty(),
        trusted: c.report.trusted,
        problems: own,
    }
}

/// Reader anomalies: inside signed revisions they are notes (the signer
/// signed them), after the first signed revision they are problems.
fn structure_findings(
    file: &PdfFile,
    first_signed: usize,
    problems: &mut Vec<Message>,
    notes: &mut Vec<Message>,
) {
    for a in file.anomalies() {
        let (rev, finding) = match a {
            Anomaly::RevisionOutOfOrder { revision } => (
                *revision,
                Finding::RevisionOutOfOrder {
                    revision: revision.saturating_add(1),
                },
            ),
            Anomaly::MissingEof { revision } => (
                *revision,
                Finding::RevisionWithoutEof {
                    revision: revision.saturating_add(1),
                },
            ),
            Anomaly::StartxrefMismatch { revision, found } => (
                *revision,
                Finding::StartxrefMismatch {
                    revision: revision.saturating_add(1),
                    found: *found,
                },
            ),
            Anomaly::DuplicateXrefEntry { revision, num } => (
                *revision,
                Finding::DuplicateXrefEntry {
                    revision: revision.saturating_add(1),
                    object: *num,
                },
            ),
            Anomaly::XrefOffsetImprecise { revision, .. } => {
                notes.push(
                    Finding::XrefOffsetImprecise {
                        revision: revision.saturating_add(1),
                    }
                    .into(),
                );
                continue;
            }
        };
        if rev > first_signed {
            problems.push(finding.into());
        } else {
            notes.push(finding.into());
        }
    }
}

/// Most streams read from `/DSS /Certs` and `/DSS /CRLs`.
const MAX_DSS_ITEMS: usize = 512;

/// The certificates, CRLs and OCSP responses of the document security store (ISO 32000-2 §12.8.4.3, ETSI EN
/// 319 142-1 §5.4.2) as of the newest revision; unreadable entries are skipped.
fn dss_evidence(file: &PdfFile, rev: usize, budget: &mut Budget) -> signature::Evidence {
    use crate::pdf::Object;
    use crate::pdf::walk::{catalog, deref};
    let mut out = signature::Evidence::default();
    let Some(dss) = catalog(file, rev, budget)
        .and_then(|c| c.get(b"DSS").cloned())
        .and_then(|d| deref(file, &d, rev, budget))
    else {
        return out;
    };
    let Some(dss) = dss.as_dict() else {
        return out;
    };
    let streams = |key: &[u8], budget: &mut Budget| -> Vec<Vec<u8>> {
        let Some(Object::Array(items)) = dss.get(key).and_then(|v| deref(file, v, rev, budget))
        else {
            return Vec::new();
        };
        items
            .iter()
            .take(MAX_DSS_ITEMS)
            .filter_map(|item| match deref(file, item, rev, budget)? {
                Object::Stream(st) => file.decoded_stream(&st).ok(),
                _ => None,
            })
            .collect()
    };
    out.certificates = streams(b"Certs", budget)
        .iter()
        .filter_map(|der| x509_cert::Certificate::from_der(der).ok())
        .collect();
    out.crls = streams(b"CRLs", budget)
        .iter()
        .filter_map(|der| crate::pki::parse_crl(der).ok())
        .collect();
    out.ocsps = streams(b"OCSPs", budget)
        .iter()
        .filter_map(|der| crate::pki::ocsp::parse_response(der).ok())
        .collect();
    out
}

/// A problem of the form or page walk, as a finding.
fn walk_finding(p: &WalkProblem) -> Message {
    use crate::pdf::walk::{MAX_WALK_DEPTH, MAX_WALK_NODES};
    match p {
        WalkProblem::TooManyFieldNodes => Finding::TooManyFieldNodes {
            max: MAX_WALK_NODES,
        },
        WalkProblem::FieldTooDeep { field } => Finding::FieldTooDeep {
            field: field.clone(),
            max: MAX_WALK_DEPTH,
        },
        WalkProblem::FieldReachedTwice { object } => Finding::FieldReachedTwice { object: *object },
        WalkProblem::FieldsWorkLimit => Finding::FieldsWorkLimit,
        WalkProblem::PageTreeTooLarge => Finding::PageTreeTooLarge {
            max_nodes: MAX_WALK_NODES,
            max_depth: MAX_WALK_DEPTH,
        },
        WalkProblem::PageTreeLoop { object } => Finding::PageTreeLoop { object: *object },
        WalkProblem::PagesWorkLimit => Finding::PagesWorkLimit,
    }
    .into()
}

/// Two fields pointing at one signature dictionary: neither counts.
fn flag_shared_dictionaries(checked: &mut [signature::Checked]) {
    let objs: Vec<Option<u32>> = checked.iter().map(|c| c.report.signature_object).collect();
    for (i, c) in checked.iter_mut().enumerate() {
        let Some(o) = c.report.signature_object else {
            continue;
        };
        let shared = objs
            .iter()
            .enumerate()
            .any(|(k, other)| k != i && *other == Some(o));
        if shared {
            c.report.valid = false;
            c.report
                .problems
                .push(Finding::SharedSignatureDictionary { object: o }.into());
        }
    }
}

/// Notes a claimed signing time earlier than the signature before it.
fn note_time_order(checked: &mut [signature::Checked]) {
    let mut previous: Option<time::OffsetDateTime> = None;
    for c in checked.iter_mut() {
        if let (Some(p), Some(t)) = (previous, c.time)
            && t < p
        {
            c.report.notes.push(Finding::TimeBeforePrevious.into());
        }
        if c.time.is_some() {
            previous = c.time;
        }
    }
}
