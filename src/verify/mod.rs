//! Verifying the signatures of a covenant PDF: PAdES B-B with Ed25519, one
//! incremental revision per signer (ISO 32000-2 12.8, ETSI EN 319 142-1,
//! RFC 8419). See `docs/SIGNING.md`, "What a verifier must check".
//!
//! [`verify_pdf`] reads untrusted bytes only through [`crate::pdf`] (bounded by
//! [`Limits`]) and returns a [`VerificationReport`]. It returns an error only
//! when the file cannot be read as a PDF at all: a bad signature is a value in
//! the report, never an `Err` (habit 7).
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
//! 5. **Modifications**, deny by default (habit 9, see `diff`): every
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
//! # The report (`giaouoc.verification/1`)
//! ```json
//! { "format": "giaouoc.verification/1", "file_sha256": "…", "file_size": 123456,
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
//!                         "allowed": true, "description": "…", "description_vi": "…" }],
//!     "problems": [], "notes": [], "certification": null }] }
//! ```
//! `verdict` is `valid`, `invalid`, `no_signatures` or `untrusted`;
//! `modifications` is `none`, `later_signatures_only` or `illegal`; `revision`
//! is 1-based (the original file is revision 1). Fields are only ever added
//! to this format; a removal or change of meaning gets a new format name.

mod diff;
mod fields;
mod mdp;
mod report;
mod signature;
mod util;

#[cfg(test)]
mod tests;

use sha2::{Digest, Sha256};

use crate::pdf::{Anomaly, Limits, PdfError, PdfFile};
use crate::pki::Crl;

pub use report::{
    Change, ChangeKind, ModificationLevel, REPORT_FORMAT, SignatureReport, SigningTime, Verdict,
    VerificationReport,
};

use util::{Budget, MAX_WORK};

/// What to trust when verifying.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Trust anchors: the bloc CA certificate(s). Empty trusts nothing.
    pub trust_roots: Vec<x509_cert::Certificate>,
    /// CRLs to check revocation with (each is used only if its signature verifies).
    pub crls: Vec<Crl>,
    /// Bounds for reading the file.
    pub limits: Limits,
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
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if !bytes.starts_with(b"%PDF-") {
        notes.push("the file does not start with a %PDF- header".to_owned());
    }
    if file.trailer().and_then(|t| t.get(b"Encrypt")).is_some() {
        problems.push(
            "the file is encrypted; encrypted documents are not supported, so its signatures \
             cannot be relied on"
                .to_owned(),
        );
    }

    // 1. Signature fields as of the newest revision, and hidden signatures.
    let scan = fields::scan_fields(&file, last, &mut budget);
    problems.extend(scan.problems.iter().cloned());
    let unsigned_fields: Vec<String> = scan
        .fields
        .iter()
        .filter(|f| f.is_signature && f.value.is_none())
        .map(|f| f.name.clone())
        .collect();
    let pages = fields::index_pages(&file, last, &mut budget);
    problems.extend(pages.problems.iter().cloned());
    let hidden = fields::hidden_signatures(&file, last, &pages, &scan, &mut budget);
    for (a, page) in &hidden {
        problems.push(format!(
            "annotation {} on page {page} holds a signature but is not a field of /AcroForm",
            a.num
        ));
    }

    // 2-4. Each signature on its own.
    let hasher = signature::PrefixHasher::new(bytes);
    let mut checked: Vec<signature::Checked> = scan
        .signed()
        .map(|f| signature::check_signature(&file, f, opts, &hasher))
        .collect();
    checked.sort_by_key(|c| (c.from, c.report.field.clone()));
    flag_shared_dictionaries(&mut checked);
    note_time_order(&mut checked);
    let perms = mdp::perms_docmdp(&file, last, &mut budget);
    mdp::check_certification(&mut checked, perms, &mut problems);

    // 5. Modifications after each signature.
    let trailing = file.trailing_bytes_after_last_eof().unwrap_or(0);
    if trailing > 0 {
        problems.push(format!(
            "{trailing} bytes after the last %%EOF belong to no revision"
        ));
    }
    // The end of the file that does not read as a revision (see `PdfFile::parse_recovering`).
    let unreadable_tail = recovery.map(|r| {
        let from = file
            .revisions()
            .last()
            .map_or(0, |rev| rev.end_offset.unwrap_or(rev.section_span.1));
        let n = bytes.len().saturating_sub(from);
        let en = format!(
            "the end of the file cannot be read as a revision ({}); the file was read from the \
             startxref at byte {} instead, so the {n} bytes from byte {from} belong to no \
             revision and no signature covers them",
            r.error, r.startxref_at
        );
        let vi = format!(
            "Phần cuối tệp không đọc được thành một phiên bản ({}); {n} byte từ byte {from} \
             không thuộc phiên bản nào và không được chữ ký nào bảo vệ",
            r.error
        );
        (en, vi)
    });
    if let Some((en, _)) = &unreadable_tail {
        problems.push(en.clone());
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
                    format!("{trailing} bytes after the last %%EOF, outside any revision"),
                    format!("{trailing} byte nằm sau %%EOF cuối cùng, ngoài mọi phiên bản"),
                ));
            }
            if let Some((en, vi)) = &unreadable_tail {
                changes.push(Change::illegal(
                    None,
                    None,
                    ChangeKind::MalformedRevision,
                    en.clone(),
                    vi.clone(),
                ));
            }
            if let Some(p) = c.report.certification {
                mdp::restrict(p, &mut changes);
            }
            c.report.modifications = if changes.is_empty() {
                ModificationLevel::None
            } else if changes.iter().all(|ch| ch.allowed) {
                ModificationLevel::LaterSignaturesOnly
            } else {
                ModificationLevel::Illegal
            };
            if c.report.modifications == ModificationLevel::Illegal {
                c.report
                    .problems
                    .push("the document was changed after this signature".to_owned());
                if let Some(p) = c.report.certification {
                    c.report.problems.push(mdp::violation(p));
                }
            }
            c.report.changes_after = changes;
        }
    }
    if budget.exhausted() {
        problems.push(format!(
            "work limit reached ({MAX_WORK} objects read); the analysis is incomplete"
        ));
    }

    let signatures: Vec<SignatureReport> = checked.into_iter().map(|c| c.report).collect();
    let verdict = if signatures.is_empty() {
        if hidden.is_empty() {
            Verdict::NoSignatures
        } else {
            Verdict::Invalid
        }
    } else if !problems.is_empty()
        || signatures.iter().any(|s| {
            !s.intact
                || !s.valid
                || !s.field_matches_certificate
                || s.modifications == ModificationLevel::Illegal
        })
    {
        Verdict::Invalid
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
    })
}

/// Reader anomalies: inside signed revisions they are notes (the signer
/// signed them), after the first signed revision they are problems.
fn structure_findings(
    file: &PdfFile,
    first_signed: usize,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    for a in file.anomalies() {
        let (rev, text) = match a {
            Anomaly::RevisionOutOfOrder { revision } => (
                *revision,
                "starts before the previous revision ends".to_owned(),
            ),
            Anomaly::MissingEof { revision } => (*revision, "has no %%EOF".to_owned()),
            Anomaly::StartxrefMismatch { revision, found } => (
                *revision,
                format!(
                    "has a startxref ({}) that does not point at its section",
                    found.map_or_else(|| "missing".to_owned(), |f| f.to_string())
                ),
            ),
            Anomaly::DuplicateXrefEntry { revision, num } => (
                *revision,
                format!("lists object {num} twice in its cross-reference section"),
            ),
            Anomaly::XrefOffsetImprecise { revision, .. } => {
                notes.push(format!(
                    "revision {}: startxref points at white space before the section",
                    revision.saturating_add(1)
                ));
                continue;
            }
        };
        let msg = format!("revision {} {text}", rev.saturating_add(1));
        if rev > first_signed {
            problems.push(msg);
        } else {
            notes.push(msg);
        }
    }
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
            c.report.problems.push(format!(
                "signature dictionary {o} is the value of more than one field"
            ));
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
            c.report.notes.push(
                "the claimed signing time /M is earlier than the previous signature's".to_owned(),
            );
        }
        if c.time.is_some() {
            previous = c.time;
        }
    }
}
