//! Checks of one signature on its own: the signature dictionary and its
//! `/ByteRange` (ISO 32000-2 12.8.1, ETSI EN 319 142-1 5.1), the CMS
//! SignedData in `/Contents` (RFC 5652, RFC 8419), the digest of the signed
//! bytes, and the certificate chain at the claimed signing time `/M`.
//!
//! `/M` is the time the signer *claims* (PAdES B-B has no time-stamp), so the
//! chain and revocation are judged at a time the signer chose.

use sha2::{Digest, Sha256, Sha384, Sha512};
use time::OffsetDateTime;

use crate::cms::{Profile, parse_signed_data, trim_der_padding, verify_signer_info};
use crate::pdf::{Object, PdfFile};
use crate::pki::alg::HashAlg;
use crate::pki::{cert_info, validate_chain_with};

use super::VerifyOptions;
use super::fields::FieldNode;
use super::finding::Finding;
use super::report::{
    Binding, BindingRule, CheckedAt, ModificationLevel, PadesLevel, Revocation, SignatureReport,
    SigningTime, TimeSource,
};
use super::util::{show_name, text_string};
use crate::tsp::TokenProblem;

/// A signature checked on its own, before the modification analysis.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The report, with `modifications` and `changes_after` still to fill.
    pub report: SignatureReport,
    /// 0-based revision after which changes count against this signature:
    /// the signed revision, or (if the range ends nowhere) the revision that
    /// defines the signature dictionary.
    pub from: usize,
    /// `/M` as a time, if it parses.
    pub time: Option<OffsetDateTime>,
    /// The DocMDP transform of the signature dictionary, if it has one:
    /// its `/P`, or why it is unusable (see `mdp`).
    pub docmdp: Option<Result<u8, Finding>>,
    /// For a document time-stamp: what its token proves.
    pub stamp: Option<crate::tsp::TokenCheck>,
}

/// What a filled field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A signature (`/Type /Sig`, CAdES detached).
    Signature,
    /// A document time-stamp (`/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`).
    DocumentTimestamp,
}

/// A document time-stamp that proves its time.
#[derive(Debug, Clone)]
pub(crate) struct ProvenStamp {
    /// 0-based revision its byte range reaches: it covers every revision up to this one.
    pub covers: usize,
    /// `genTime`.
    pub time: OffsetDateTime,
    /// Its field.
    pub field: String,
    /// The TSA's name.
    pub tsa: Option<String>,
}

/// SHA-256/384/512 of `[0, a) ++ [b, end)` for many signatures of one file without re-hashing
/// the shared prefix each time: per hash, the prefix state is kept every
/// [`PrefixHasher::STEP`] bytes, so the whole file is hashed once per hash in use and each
/// signature adds at most one step plus its own tail.
pub(crate) struct PrefixHasher<'a> {
    bytes: &'a [u8],
    /// Per hash: `states[i]` has absorbed `bytes[..i * STEP]`.
    states: std::sync::Mutex<Vec<(HashAlg, Vec<State>)>>,
}

/// A running hash of one of the supported functions.
#[derive(Clone)]
enum State {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl State {
    fn new(alg: HashAlg) -> Self {
        match alg {
            HashAlg::Sha256 => State::Sha256(Sha256::new()),
            HashAlg::Sha384 => State::Sha384(Sha384::new()),
            HashAlg::Sha512 => State::Sha512(Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            State::Sha256(h) => h.finalize().to_vec(),
            State::Sha384(h) => h.finalize().to_vec(),
            State::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

impl<'a> PrefixHasher<'a> {
    const STEP: usize = 4 * 1024;

    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        PrefixHasher {
            bytes,
            states: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn digest(&self, alg: HashAlg, a: usize, b: usize, end: usize) -> Option<Vec<u8>> {
        let head_len = self.bytes.get(..a)?.len();
        let tail = self.bytes.get(b..end)?;
        let want = head_len / Self::STEP;
        // Held while the prefix grows: the file is hashed once, whichever thread asks first.
        let mut all = self.states.lock().ok()?;
        let i = match all.iter().position(|(h, _)| *h == alg) {
            Some(i) => i,
            None => {
                all.push((alg, vec![State::new(alg)]));
                all.len().checked_sub(1)?
            }
        };
        let states = &mut all.get_mut(i)?.1;
        while states.len() <= want {
            let i = states.len();
            let mut h = states.last()?.clone();
            h.update(self.bytes.get((i - 1) * Self::STEP..i * Self::STEP)?);
            states.push(h);
        }
        let mut h = states.get(want)?.clone();
        drop(all);
        h.update(self.bytes.get(want * Self::STEP..a)?);
        h.update(tail);
        Some(h.finish())
    }
}

/// Material for chain validation besides the caller's: the file's `/DSS` certificates and
/// CRLs (ETSI EN 319 142-1 §5.4.2), and the certificate and CRL signatures already checked
/// for earlier signatures of the file.
#[derive(Debug, Default)]
pub(crate) struct Evidence {
    /// Certificates from `/DSS /Certs`.
    pub certificates: Vec<x509_cert::Certificate>,
    /// CRLs from `/DSS /CRLs` that parse.
    pub crls: Vec<crate::pki::Crl>,
    /// OCSP responses from `/DSS /OCSPs` that parse.
    pub ocsps: Vec<crate::pki::ocsp::OcspEvidence>,
    /// Signature checks shared by every chain of the run.
    pub checks: crate::pki::SignatureChecks,
    /// The document time-stamps that prove their time, earliest first.
    pub stamps: Vec<ProvenStamp>,
    /// 0-based revisions whose catalog has a `/DSS`.
    pub dss_revisions: Vec<usize>,
    /// The time of verification.
    pub now: Option<OffsetDateTime>,
}

/// Checks the signature held by a filled signature field.
pub(crate) fn check_signature(
    file: &PdfFile,
    field: &FieldNode,
    opts: &VerifyOptions,
    evidence: &Evidence,
    hasher: &PrefixHasher<'_>,
    kind: Kind,
) -> Checked {
    let last = file.last_revision();
    let mut c = Checked {
        report: empty_report(&field.name),
        from: last,
        time: None,
        docmdp: None,
        stamp: None,
    };
    let rep = &mut c.report;
    let Some(Object::Reference(sig_ref)) = field.value else {
        rep.problems.push(Finding::ValueNotReference.into());
        return c;
    };
    rep.signature_object = Some(sig_ref.num);
    let Some((def_rev, _)) = file.xref_entry(sig_ref.num, last) else {
        rep.problems.push(
            Finding::SignatureDictionaryMissing {
                object: sig_ref.num,
            }
            .into(),
        );
        return c;
    };
    c.from = def_rev;
    let sig = match file.resolve(sig_ref, last) {
        Ok(Object::Dictionary(d)) => d,
        Ok(_) => {
            rep.problems.push(
                Finding::NotSignatureDictionary {
                    object: sig_ref.num,
                }
                .into(),
            );
            return c;
        }
        Err(e) => {
            rep.problems.push(
                Finding::SignatureDictionaryUnreadable {
                    object: sig_ref.num,
                    error: e.to_string(),
                }
                .into(),
            );
            return c;
        }
    };
    c.docmdp = super::mdp::transform_of(file, &sig, last);
    let mut structure_ok = true;
    let mut fail = |rep: &mut SignatureReport, finding: Finding| {
        structure_ok = false;
        rep.problems.push(finding.into());
    };

    // Where the dictionary is: its offsets must be file offsets.
    let obj_span = file.object_span(sig_ref, last);
    if obj_span.is_none() {
        fail(
            rep,
            Finding::SignatureDictionaryNotPlain {
                object: sig_ref.num,
            },
        );
    }

    // /Type, /Filter, /SubFilter (ISO 32000-2 12.8.1 Table 255; ETSI EN 319 142-1 5.1).
    let wanted_type: &[u8] = match kind {
        Kind::Signature => b"Sig",
        Kind::DocumentTimestamp => b"DocTimeStamp",
    };
    if let Some(t) = sig.get(b"Type")
        && t.as_name() != Some(wanted_type)
    {
        fail(rep, Finding::TypeNotSig);
    }
    match sig.get(b"Filter").and_then(Object::as_name) {
        Some(b"Adobe.PPKLite") => {}
        Some(other) => fail(
            rep,
            Finding::FilterNotPpkLite {
                filter: show_name(other),
            },
        ),
        None => fail(rep, Finding::FilterMissing),
    }
    match sig.get(b"SubFilter").and_then(Object::as_name) {
        Some(sf) => {
            rep.sub_filter = Some(String::from_utf8_lossy(sf).into_owned());
            match (kind, sf) {
                (Kind::Signature, b"ETSI.CAdES.detached")
                | (Kind::DocumentTimestamp, b"ETSI.RFC3161") => {}
                (Kind::Signature, b"adbe.pkcs7.detached") => {
                    rep.notes.push(Finding::SubFilterPkcs7Detached.into());
                }
                other => fail(
                    rep,
                    Finding::SubFilterUnsupported {
                        sub_filter: show_name(other.1),
                    },
                ),
            }
        }
        None => fail(rep, Finding::SubFilterMissing),
    }

    // /M: claimed signing time (7.9.4 date string).
    if let Some(m) = sig.get(b"M").and_then(Object::as_string) {
        let as_given = text_string(&m.bytes);
        c.time = crate::pdf::parse_date(&as_given);
        rep.signing_time = Some(SigningTime {
            rfc3339: c.time.and_then(|t| crate::pki::util::rfc3339(t).ok()),
            as_given,
        });
    }

    // /ByteRange [0 a b c] (12.8.1): the gap [a, b) is exactly /Contents.
    let len = file.bytes().len();
    let range = byte_range(sig.get(b"ByteRange"));
    rep.byte_range = range;
    let mut signed: Option<(usize, usize, usize)> = None;
    match range {
        None => fail(rep, Finding::ByteRangeMalformed),
        Some([first, a, b, c_len]) => {
            let end = b.checked_add(c_len);
            if first != 0 {
                fail(rep, Finding::ByteRangeNotFromStart);
            } else if a == 0 || b <= a {
                fail(rep, Finding::ByteRangeGapBad);
            } else {
                match end.and_then(|e| usize::try_from(e).ok()) {
                    Some(e) if e <= len => {
                        if let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) {
                            signed = Some((a, b, e));
                        }
                    }
                    _ => fail(rep, Finding::ByteRangePastEnd { end, len }),
                }
            }
        }
    }
    if let Some((_, _, end)) = signed {
        match revision_ending_at(file, end) {
            Some(i) => {
                rep.revision = Some(i.saturating_add(1));
                c.from = i;
                rep.covers_whole_file =
                    i == last && file.revisions().get(last).and_then(|r| r.end_offset) == Some(len);
                if def_rev > i {
                    fail(
                        rep,
                        Finding::SignatureDictionaryAfterSignedRevision {
                            object: sig_ref.num,
                            revision: def_rev.saturating_add(1),
                        },
                    );
                }
            }
            None => fail(rep, Finding::SignedRangeNotRevisionEnd { end }),
        }
        if let Some(span) = obj_span
            && span.1 > end
        {
            fail(rep, Finding::SignatureDictionaryOutsideRange);
        }
    }
    let contents = match sig.get(b"Contents") {
        Some(Object::String(s)) => {
            if !s.hex {
                fail(rep, Finding::ContentsNotHex);
            }
            if let (Some(_), Some((a, b, _))) = (obj_span, signed)
                && s.span != (a, b)
            {
                fail(
                    rep,
                    Finding::GapNotContents {
                        a,
                        b,
                        contents_from: s.span.0,
                        contents_to: s.span.1,
                    },
                );
            }
            Some(s.bytes.as_slice())
        }
        _ => {
            fail(rep, Finding::ContentsMissing);
            None
        }
    };

    // The CMS (RFC 5652 5.1; one SignedData, zero padding only).
    let Some(contents) = contents else {
        return c;
    };
    if kind == Kind::DocumentTimestamp {
        let crls: Vec<crate::pki::Crl> = opts.crls.iter().chain(&evidence.crls).cloned().collect();
        let check = crate::tsp::check_token(
            contents,
            |h| signed.and_then(|(a, b, end)| hasher.digest(h, a, b, end)),
            &crate::tsp::TokenTrust {
                roots: &opts.trust_roots,
                certificates: &evidence.certificates,
                crls: &crls,
                ocsps: &evidence.ocsps,
                checks: &evidence.checks,
            },
        );
        rep.intact = !check.problems.iter().any(|p| {
            matches!(
                p,
                TokenProblem::ImprintMismatch
                    | TokenProblem::ContentDigestMismatch
                    | TokenProblem::Unreadable { .. }
            )
        });
        rep.valid = structure_ok
            && check
                .problems
                .iter()
                .all(|p| matches!(p, TokenProblem::Untrusted { .. }));
        rep.trusted = check.chain.as_ref().is_some_and(|ch| ch.trusted);
        c.stamp = Some(check);
        return c;
    }
    let parsed = match trim_der_padding(contents).and_then(parse_signed_data) {
        Ok(p) => p,
        Err(e) => {
            rep.problems.push(
                Finding::NotSignedData {
                    error: e.to_string(),
                }
                .into(),
            );
            return c;
        }
    };

    // Digest of the signed bytes, with the signer's digest algorithm.
    match (parsed.digest(), signed) {
        (Some(alg), Some((a, b, end))) => match hasher.digest(alg, a, b, end) {
            Some(d) if d == parsed.message_digest => rep.intact = true,
            Some(_) => rep.problems.push(Finding::DigestMismatch.into()),
            None => rep.problems.push(Finding::SignedBytesUnreadable.into()),
        },
        (Some(_), None) => rep.problems.push(Finding::SignedBytesUnreadable.into()),
        // An unsupported digest algorithm is reported by the CMS check below.
        (None, _) => {}
    }
    let profile = Profile {
        pades: rep.sub_filter.as_deref() == Some("ETSI.CAdES.detached"),
        encapsulated: None,
    };
    let check = verify_signer_info(&parsed, profile);
    for p in &check.problems {
        rep.problems.push(Finding::Cms(p.clone()).into());
    }
    for n in &check.notes {
        rep.notes.push(Finding::CmsNote(n.clone()).into());
    }
    // Undecidable only when nothing else is wrong: an unsupported algorithm never hides a
    // broken structure or an altered document.
    rep.indeterminate =
        structure_ok && check.is_unsupported() && (rep.intact || parsed.digest().is_none());
    rep.valid = structure_ok && check.is_ok();
    rep.algorithm = check.algorithm;
    if let Some(a) = check.algorithm
        && !a.listed_for_vietnam()
    {
        rep.notes.push(
            Finding::AlgorithmNotListedInVietnam {
                algorithm: a.to_string(),
            }
            .into(),
        );
    }

    // What proves the signature's time: its own time-stamp (RFC 3161 Appendix A), and the
    // document time-stamps after its revision; the earliest counts (ETSI EN 319 102-1 §5.6.2.4).
    let cms_crls: Vec<crate::pki::Crl> = parsed
        .crls
        .iter()
        .filter_map(|d| crate::pki::parse_crl(d).ok())
        .collect();
    let sources: [(&str, &[crate::pki::Crl]); 3] = [
        ("given", &opts.crls),
        ("dss", &evidence.crls),
        ("cms", &cms_crls),
    ];
    let crls: Vec<crate::pki::Crl> = sources
        .iter()
        .flat_map(|(_, list)| list.iter().cloned())
        .collect();
    let mut proofs: Vec<CheckedAt> = Vec::new();
    let mut proof_times: Vec<OffsetDateTime> = Vec::new();
    let trust = crate::tsp::TokenTrust {
        roots: &opts.trust_roots,
        certificates: &evidence.certificates,
        crls: &crls,
        ocsps: &evidence.ocsps,
        checks: &evidence.checks,
    };
    for token in parsed
        .unsigned_attrs
        .iter()
        .filter(|a| a.oid == crate::tsp::ID_AA_SIGNATURE_TIME_STAMP)
        .flat_map(|a| a.values.iter())
    {
        let check = crate::tsp::check_token(token, |h| Some(h.digest(&parsed.signature)), &trust);
        if let Some(t) = check.proven_time() {
            proof_times.push(t);
            proofs.push(CheckedAt {
                time: crate::pki::util::rfc3339(t).unwrap_or_default(),
                source: TimeSource::SignatureTimestamp,
                tsa: check.tsa_name(),
                field: None,
            });
            continue;
        }
        for p in &check.problems {
            if let TokenProblem::Untrusted { .. } = p {
                rep.notes.push(
                    Finding::SignatureTimestampUntrusted {
                        tsa: check.tsa_name().unwrap_or_default(),
                    }
                    .into(),
                );
            } else {
                rep.valid = false;
                rep.problems
                    .push(Finding::SignatureTimestampInvalid { problem: p.clone() }.into());
            }
        }
    }
    for stamp in evidence.stamps.iter().filter(|s| s.covers >= c.from) {
        proof_times.push(stamp.time);
        proofs.push(CheckedAt {
            time: crate::pki::util::rfc3339(stamp.time).unwrap_or_default(),
            source: TimeSource::DocumentTimestamp,
            tsa: stamp.tsa.clone(),
            field: Some(stamp.field.clone()),
        });
    }
    let earliest = proof_times
        .iter()
        .zip(proofs)
        .min_by_key(|(t, _)| **t)
        .map(|(t, p)| (*t, p));

    // Who signed, whether they may sign this field, and whether the chain is trusted at the
    // proven time (else at the time of verification).
    let Some(cert) = &parsed.signer_certificate else {
        return c;
    };
    let info = cert_info(cert);
    rep.unit_id = info.unit_id.clone();
    rep.signer = Some(info);
    bind(rep, field, cert, opts);
    if c.time.is_none() {
        rep.problems.push(Finding::NoSigningTime.into());
        return c;
    }
    let (at, checked_at) = match earliest {
        Some(found) => found,
        None => {
            let now = evidence.now.unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let text = crate::pki::util::rfc3339(now).unwrap_or_default();
            rep.notes
                .push(Finding::CheckedAtVerificationTime { at: text.clone() }.into());
            (
                now,
                CheckedAt {
                    time: text,
                    source: TimeSource::VerificationTime,
                    tsa: None,
                    field: None,
                },
            )
        }
    };
    let proven = checked_at.source != TimeSource::VerificationTime;
    rep.checked_at = Some(checked_at);
    let others: Vec<_> = parsed
        .certificates
        .iter()
        .chain(&evidence.certificates)
        .filter(|x| *x != cert)
        .cloned()
        .collect();
    let status = validate_chain_with(
        cert,
        &others,
        &opts.trust_roots,
        at,
        &crate::pki::RevocationInfo {
            crls: &crls,
            ocsps: &evidence.ocsps,
        },
        &evidence.checks,
    );
    rep.trusted = status.trusted;
    rep.chain_problems = status.problems;
    rep.revocation.checked = status.revocation_checked;
    rep.revocation.sources = sources
        .iter()
        .filter(|(_, list)| {
            list.iter()
                .any(|crl| crate::pki::name::same_name(&crl.issuer, &cert.tbs_certificate.issuer))
        })
        .map(|(name, _)| (*name).to_owned())
        .collect();
    if status.ocsp_checked && !rep.revocation.sources.iter().any(|s| s == "dss") {
        rep.revocation.sources.push("dss".to_owned());
    }
    if !rep.trusted {
        rep.problems.push(Finding::NotTrusted.into());
        for p in rep.chain_problems.iter().filter(|p| p.is_fatal()) {
            rep.problems.push(Finding::Chain(p.clone()).into());
        }
    }
    // The level (ETSI EN 319 142-1 §6): a proven time (B-T), the signer's revocation data in
    // /DSS (B-LT), a document time-stamp over a revision with that /DSS (B-LTA).
    let long_term = status.revocation_checked && rep.revocation.sources.iter().any(|s| s == "dss");
    let archived = evidence
        .stamps
        .iter()
        .any(|s| s.covers > c.from && evidence.dss_revisions.contains(&s.covers));
    rep.level = Some(match (proven, long_term, archived) {
        (false, _, _) => PadesLevel::BB,
        (true, false, _) => PadesLevel::BT,
        (true, true, false) => PadesLevel::BLT,
        (true, true, true) => PadesLevel::BLTA,
    });
    c
}

/// Decides whether the certificate may sign this field (see [`BindingRule`]): a certificate
/// naming a unit must name this one; a field with enrolled certificates takes only those; a
/// field with the leader's name printed under it takes a certificate of that name; any other
/// field belongs to no unit.
fn bind(
    rep: &mut SignatureReport,
    field: &FieldNode,
    cert: &x509_cert::Certificate,
    opts: &VerifyOptions,
) {
    let printed = field.tooltip.clone().filter(|t| !t.trim().is_empty());
    let fingerprint = rep
        .signer
        .as_ref()
        .map(|s| s.sha256_fingerprint.clone())
        .unwrap_or_default();
    let cn = rep.signer.as_ref().and_then(|s| s.subject_cn.clone());
    let organisation = rep.signer.as_ref().and_then(|s| s.unit_name.clone());
    let enrolled = opts.enrolled.get(&field.name);
    let (field_unit, seat) = crate::workflow::Seat::of_field(&field.name);
    let rule = if let Some(unit) = &rep.unit_id {
        if unit == field_unit {
            BindingRule::UnitIdInCertificate
        } else {
            rep.problems.push(
                Finding::WrongUnit {
                    field: field.name.clone(),
                    certificate_unit: Some(unit.clone()),
                }
                .into(),
            );
            BindingRule::Unbound
        }
    } else if let Some(list) = enrolled {
        if list.iter().any(|f| f.eq_ignore_ascii_case(&fingerprint)) {
            BindingRule::EnrolledCertificate
        } else {
            rep.problems.push(
                Finding::NotEnrolled {
                    field: field.name.clone(),
                }
                .into(),
            );
            BindingRule::Unbound
        }
    } else if let Some(name) = &printed {
        // A leader's (or a secretary's) field prints the person's name (the certificate's
        // CN); a seal field prints its unit's, the organisation certificate's O (or CN).
        let candidates: Vec<&str> = match seat {
            crate::workflow::Seat::Leader | crate::workflow::Seat::Secretary => {
                cn.as_deref().into_iter().collect()
            }
            crate::workflow::Seat::Seal => [organisation.as_deref(), cn.as_deref()]
                .into_iter()
                .flatten()
                .collect(),
        };
        if candidates.iter().any(|c| same_person(c, name)) {
            BindingRule::PrintedName
        } else if let Some(c) = candidates.iter().find(|c| same_letters(c, name)) {
            rep.notes.push(
                Finding::PrintedNameWithoutDiacritics {
                    field: field.name.clone(),
                    printed: name.clone(),
                    certificate: (*c).to_owned(),
                }
                .into(),
            );
            BindingRule::PrintedName
        } else {
            rep.problems.push(
                Finding::NotThePrintedLeader {
                    field: field.name.clone(),
                    printed: name.clone(),
                    certificate: candidates.first().copied().unwrap_or_default().to_owned(),
                }
                .into(),
            );
            BindingRule::Unbound
        }
    } else {
        BindingRule::NotApplicable
    };
    // The seat's holder: an organisation in a seal field, a person in a leader's field (an
    // enrolment for the seat says so itself).
    // A field that is no unit's (NotApplicable) is only judged when it is named as a seal.
    let judged = match rule {
        BindingRule::EnrolledCertificate => false,
        BindingRule::NotApplicable => seat == crate::workflow::Seat::Seal,
        _ => true,
    };
    let misfit = match (judged, seat, crate::pki::holder_of(cert)) {
        (true, crate::workflow::Seat::Seal, crate::pki::Holder::Person) => {
            Some(Finding::PersonalCertificateInSealField {
                field: field.name.clone(),
            })
        }
        (true, crate::workflow::Seat::Leader, crate::pki::Holder::Organisation) => {
            Some(Finding::OrganisationCertificateInLeaderField {
                field: field.name.clone(),
            })
        }
        _ => None,
    };
    let holder_fits = misfit.is_none();
    rep.problems.extend(misfit.map(Into::into));
    rep.field_matches_certificate = rule != BindingRule::Unbound && holder_fits;
    rep.binding = Binding {
        rule,
        printed_name: printed,
    };
}

/// Two names of the same person: NFC, case-insensitive, white space folded.
pub(crate) fn same_person(a: &str, b: &str) -> bool {
    fold_name(&crate::covenant::nfc(a)) == fold_name(&crate::covenant::nfc(b))
}

/// Two names that differ at most in Vietnamese diacritics (tone and vowel marks, đ): CAs
/// often write a holder's name in ASCII ("NGUYEN VAN A").
pub(crate) fn same_letters(a: &str, b: &str) -> bool {
    fold_name(&without_marks(a)) == fold_name(&without_marks(b))
}

/// Lower case, white space folded to single spaces.
fn fold_name(s: &str) -> String {
    s.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `s` without combining marks (after NFD) and with đ/Đ as d.
fn without_marks(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .collect()
}

fn empty_report(field: &str) -> SignatureReport {
    SignatureReport {
        field: field.to_owned(),
        signature_object: None,
        unit_id: None,
        signer: None,
        signing_time: None,
        sub_filter: None,
        revision: None,
        covers_whole_file: false,
        byte_range: None,
        intact: false,
        valid: false,
        trusted: false,
        chain_problems: Vec::new(),
        field_matches_certificate: false,
        binding: Binding::default(),
        algorithm: None,
        indeterminate: false,
        revocation: Revocation::default(),
        modifications: ModificationLevel::None,
        changes_after: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        certification: None,
        level: None,
        checked_at: None,
    }
}

/// `/ByteRange` as four non-negative direct integers.
fn byte_range(obj: Option<&Object>) -> Option<[u64; 4]> {
    let [a, b, c, d] = obj?.as_array()? else {
        return None;
    };
    let n = |o: &Object| o.as_i64().and_then(|v| u64::try_from(v).ok());
    Some([n(a)?, n(b)?, n(c)?, n(d)?])
}

/// The revision whose end is `end`: just after its `%%EOF` and end-of-line,
/// or just after `%%EOF` itself (a signer may leave the final EOL unsigned).
fn revision_ending_at(file: &PdfFile, end: usize) -> Option<usize> {
    let bytes = file.bytes();
    file.revisions().iter().position(|r| match r.end_offset {
        Some(e) if e == end => true,
        Some(e) if end < e => {
            let eof = end
                .checked_sub(5)
                .and_then(|s| bytes.get(s..end))
                .is_some_and(|w| w == b"%%EOF");
            let eol = bytes
                .get(end..e)
                .is_some_and(|w| w.iter().all(|b| matches!(b, b'\r' | b'\n')));
            eof && eol
        }
        _ => false,
    })
}
