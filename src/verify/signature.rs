//! Checks of one signature on its own: the signature dictionary and its
//! `/ByteRange` (ISO 32000-2 12.8.1, ETSI EN 319 142-1 5.1), the CMS
//! SignedData in `/Contents` (RFC 5652, RFC 8419), the digest of the signed
//! bytes, and the certificate chain at the claimed signing time `/M`.
//!
//! `/M` is the time the signer *claims* (PAdES B-B has no time-stamp), so the
//! chain and revocation are judged at a time the signer chose.

use sha2::{Digest, Sha512};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::pdf::{Object, PdfFile};
use crate::pki::{cert_info, validate_chain};
use crate::sign::cms::{CmsProblem, parse_signed_data, trim_der_padding, verify_signer_info};

use super::VerifyOptions;
use super::fields::FieldNode;
use super::report::{ModificationLevel, SignatureReport, SigningTime};
use super::util::{show_name, text_string};

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
    pub docmdp: Option<Result<u8, String>>,
}

/// Checks the signature held by a filled signature field.
/// SHA-512 of `[0, a) ++ [b, end)` for many signatures of one file without re-hashing the
/// shared prefix each time: the prefix state is kept every [`PrefixHasher::STEP`] bytes, so the
/// whole file is hashed once and each signature adds at most one step plus its own tail.
pub(crate) struct PrefixHasher<'a> {
    bytes: &'a [u8],
    /// `states[i]` has absorbed `bytes[..i * STEP]`.
    states: std::cell::RefCell<Vec<Sha512>>,
}

impl<'a> PrefixHasher<'a> {
    const STEP: usize = 64 * 1024;

    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        PrefixHasher {
            bytes,
            states: std::cell::RefCell::new(vec![Sha512::new()]),
        }
    }

    pub(crate) fn digest(
        &self,
        a: usize,
        b: usize,
        end: usize,
    ) -> Option<sha2::digest::Output<Sha512>> {
        let head_len = self.bytes.get(..a)?.len();
        let tail = self.bytes.get(b..end)?;
        let want = head_len / Self::STEP;
        let mut states = self.states.borrow_mut();
        while states.len() <= want {
            let i = states.len();
            let mut h = states.last()?.clone();
            h.update(self.bytes.get((i - 1) * Self::STEP..i * Self::STEP)?);
            states.push(h);
        }
        let mut h = states.get(want)?.clone();
        drop(states);
        h.update(self.bytes.get(want * Self::STEP..a)?);
        h.update(tail);
        Some(h.finalize())
    }
}

pub(crate) fn check_signature(
    file: &PdfFile,
    field: &FieldNode,
    opts: &VerifyOptions,
    hasher: &PrefixHasher<'_>,
) -> Checked {
    let last = file.last_revision();
    let mut c = Checked {
        report: empty_report(&field.name),
        from: last,
        time: None,
        docmdp: None,
    };
    let rep = &mut c.report;
    let Some(Object::Reference(sig_ref)) = field.value else {
        rep.problems.push(
            "the field's /V is not an indirect reference to a signature dictionary".to_owned(),
        );
        return c;
    };
    rep.signature_object = Some(sig_ref.num);
    let Some((def_rev, _)) = file.xref_entry(sig_ref.num, last) else {
        rep.problems.push(format!(
            "signature dictionary {} does not exist",
            sig_ref.num
        ));
        return c;
    };
    c.from = def_rev;
    let sig = match file.resolve(sig_ref, last) {
        Ok(Object::Dictionary(d)) => d,
        Ok(_) => {
            rep.problems.push(format!(
                "object {} is not a signature dictionary",
                sig_ref.num
            ));
            return c;
        }
        Err(e) => {
            rep.problems.push(format!(
                "signature dictionary {} cannot be read: {e}",
                sig_ref.num
            ));
            return c;
        }
    };
    c.docmdp = super::mdp::transform_of(file, &sig, last);
    let mut structure_ok = true;
    let mut fail = |rep: &mut SignatureReport, msg: String| {
        structure_ok = false;
        rep.problems.push(msg);
    };

    // Where the dictionary is: its offsets must be file offsets.
    let obj_span = file.object_span(sig_ref, last);
    if obj_span.is_none() {
        fail(
            rep,
            format!(
                "signature dictionary {} is not stored as a plain object (e.g. it is inside an \
                 object stream), so its /Contents cannot be located in the file",
                sig_ref.num
            ),
        );
    }

    // /Type, /Filter, /SubFilter (ISO 32000-2 12.8.1 Table 255; ETSI EN 319 142-1 5.1).
    if let Some(t) = sig.get(b"Type")
        && t.as_name() != Some(b"Sig")
    {
        fail(rep, "signature dictionary /Type is not /Sig".to_owned());
    }
    match sig.get(b"Filter").and_then(Object::as_name) {
        Some(b"Adobe.PPKLite") => {}
        Some(other) => fail(
            rep,
            format!("/Filter is {}, not /Adobe.PPKLite", show_name(other)),
        ),
        None => fail(rep, "/Filter is missing".to_owned()),
    }
    match sig.get(b"SubFilter").and_then(Object::as_name) {
        Some(sf) => {
            rep.sub_filter = Some(String::from_utf8_lossy(sf).into_owned());
            match sf {
                b"ETSI.CAdES.detached" => {}
                b"adbe.pkcs7.detached" => rep.notes.push(
                    "/SubFilter is /adbe.pkcs7.detached (accepted; PAdES uses /ETSI.CAdES.detached)"
                        .to_owned(),
                ),
                other => fail(
                    rep,
                    format!("/SubFilter {} is not supported", show_name(other)),
                ),
            }
        }
        None => fail(rep, "/SubFilter is missing".to_owned()),
    }

    // /M: claimed signing time (7.9.4 date string).
    if let Some(m) = sig.get(b"M").and_then(Object::as_string) {
        let as_given = text_string(&m.bytes);
        c.time = parse_pdf_date(&as_given);
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
        None => fail(
            rep,
            "/ByteRange is not an array of four non-negative integers".to_owned(),
        ),
        Some([first, a, b, c_len]) => {
            let end = b.checked_add(c_len);
            if first != 0 {
                fail(rep, "/ByteRange does not start at byte 0".to_owned());
            } else if a == 0 || b <= a {
                fail(
                    rep,
                    "/ByteRange gap is empty or its ranges are out of order".to_owned(),
                );
            } else {
                match end.and_then(|e| usize::try_from(e).ok()) {
                    Some(e) if e <= len => {
                        if let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) {
                            signed = Some((a, b, e));
                        }
                    }
                    _ => fail(
                        rep,
                        format!(
                            "/ByteRange ends at byte {}, after the end of the file ({len} bytes)",
                            end.map_or_else(|| "?".to_owned(), |e| e.to_string())
                        ),
                    ),
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
                        format!(
                            "signature dictionary {} is defined in revision {}, after the \
                             revision it signs",
                            sig_ref.num,
                            def_rev.saturating_add(1)
                        ),
                    );
                }
            }
            None => fail(
                rep,
                format!("the signed range ends at byte {end}, which is not the end of a revision"),
            ),
        }
        if let Some(span) = obj_span
            && span.1 > end
        {
            fail(
                rep,
                "the signature dictionary lies outside the signed range".to_owned(),
            );
        }
    }
    let contents = match sig.get(b"Contents") {
        Some(Object::String(s)) => {
            if !s.hex {
                fail(rep, "/Contents is not a hexadecimal string".to_owned());
            }
            if let (Some(_), Some((a, b, _))) = (obj_span, signed)
                && s.span != (a, b)
            {
                fail(
                    rep,
                    format!(
                        "the unsigned gap [{a}, {b}) is not exactly this signature's /Contents \
                         string (at [{}, {}))",
                        s.span.0, s.span.1
                    ),
                );
            }
            Some(s.bytes.as_slice())
        }
        _ => {
            fail(rep, "/Contents is missing or not a string".to_owned());
            None
        }
    };

    // Digest of the signed bytes.
    let digest = signed.and_then(|(a, b, end)| hasher.digest(a, b, end));

    // The CMS (RFC 5652 5.1; one SignedData, zero padding only).
    let Some(contents) = contents else {
        return c;
    };
    let parsed = match trim_der_padding(contents).and_then(parse_signed_data) {
        Ok(p) => p,
        Err(e) => {
            rep.problems
                .push(format!("/Contents is not one CMS SignedData: {e}"));
            return c;
        }
    };
    match digest {
        Some(d) if d.as_slice() == parsed.message_digest.as_slice() => rep.intact = true,
        Some(_) => rep.problems.push(
            "the signed bytes do not match the message digest: the document was altered".to_owned(),
        ),
        None => rep
            .problems
            .push("the signed bytes cannot be read, so the digest was not checked".to_owned()),
    }
    let check = verify_signer_info(&parsed);
    for p in &check.problems {
        rep.problems.push(cms_problem(p));
    }
    rep.valid = structure_ok && check.is_ok();

    // Who signed, and whether the chain is trusted at /M.
    let Some(cert) = &parsed.signer_certificate else {
        return c;
    };
    let info = cert_info(cert);
    rep.unit_id = info.unit_id.clone();
    rep.signer = Some(info);
    rep.field_matches_certificate = rep.unit_id.as_deref() == Some(field.name.as_str());
    if !rep.field_matches_certificate {
        rep.problems.push(format!(
            "field {} is signed with a certificate of unit {}",
            field.name,
            rep.unit_id.as_deref().unwrap_or("(none)")
        ));
    }
    match c.time {
        Some(at) => {
            let others: Vec<_> = parsed
                .certificates
                .iter()
                .filter(|x| *x != cert)
                .cloned()
                .collect();
            let status = validate_chain(cert, &others, &opts.trust_roots, at, &opts.crls);
            rep.trusted = status.trusted;
            rep.chain_problems = status.problems;
            if !rep.trusted {
                rep.problems.push(
                    "the certificate does not chain to a trusted root at the signing time \
                     (see chain_problems)"
                        .to_owned(),
                );
            }
        }
        None => rep.problems.push(
            "no readable signing time /M, so the certificate chain was not validated".to_owned(),
        ),
    }
    c
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
        modifications: ModificationLevel::None,
        changes_after: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        certification: None,
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

fn cms_problem(p: &CmsProblem) -> String {
    match p {
        CmsProblem::SignerCertificateMissing => {
            "CMS: the signer's certificate is not included".to_owned()
        }
        CmsProblem::UnsupportedSignatureAlgorithm { oid } => {
            format!("CMS: signature algorithm {oid} is not Ed25519")
        }
        CmsProblem::UnsupportedDigestAlgorithm { oid } => {
            format!("CMS: digest algorithm {oid} is not SHA-512")
        }
        CmsProblem::MessageDigestLength => "CMS: the message digest is not 64 bytes".to_owned(),
        CmsProblem::SignerKeyNotEd25519 => "CMS: the signer's key is not Ed25519".to_owned(),
        CmsProblem::BadSignature => {
            "CMS: the Ed25519 signature does not verify with the certificate's key".to_owned()
        }
        CmsProblem::ContentTypeMismatch => {
            "CMS: content-type attribute differs from the content type".to_owned()
        }
        CmsProblem::NotDetachedData => "CMS: not a detached signature over id-data".to_owned(),
        CmsProblem::SignedAttributesNotDer => {
            "CMS: signed attributes are not DER-encoded".to_owned()
        }
        CmsProblem::SigningCertificateAttributeMissing => {
            "CMS: signing-certificate-v2 attribute is missing".to_owned()
        }
        CmsProblem::UnsupportedEssHashAlgorithm { oid } => {
            format!("CMS: signing-certificate-v2 uses unsupported hash {oid}")
        }
        CmsProblem::SigningCertificateMismatch => {
            "CMS: signing-certificate-v2 names another certificate than the signer's".to_owned()
        }
    }
}

/// A PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (ISO 32000-2 7.9.4): every field
/// after the year is optional; without an offset the time is taken as UTC.
pub(crate) fn parse_pdf_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let s = s.strip_prefix("D:").unwrap_or(s);
    let bytes = s.as_bytes();
    let mut pos = 0usize;
    let digits = |n: usize, pos: &mut usize| -> Option<u32> {
        let part = bytes.get(*pos..pos.checked_add(n)?)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *pos = pos.checked_add(n)?;
        part.iter()
            .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
    };
    let year = digits(4, &mut pos)?;
    let field = |default: u32, pos: &mut usize| -> Option<u32> {
        match bytes.get(*pos) {
            Some(b) if b.is_ascii_digit() => digits(2, pos),
            _ => Some(default),
        }
    };
    let month = field(1, &mut pos)?;
    let day = field(1, &mut pos)?;
    let hour = field(0, &mut pos)?;
    let minute = field(0, &mut pos)?;
    let second = field(0, &mut pos)?;
    let offset = match bytes.get(pos) {
        None | Some(b'Z') => UtcOffset::UTC,
        Some(sign @ (b'+' | b'-')) => {
            let rest = bytes.get(pos.saturating_add(1)..)?;
            let num = |r: &[u8]| -> Option<i8> {
                match r {
                    [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                        i8::try_from((a - b'0') * 10 + (b - b'0')).ok()
                    }
                    _ => None,
                }
            };
            let hh = num(rest)?;
            let after = rest.get(2..).unwrap_or_default();
            let after = after.strip_prefix(b"'").unwrap_or(after);
            let mm = if after.is_empty() { 0 } else { num(after)? };
            let (hh, mm) = if *sign == b'-' { (-hh, -mm) } else { (hh, mm) };
            UtcOffset::from_hms(hh, mm, 0).ok()?
        }
        Some(_) => return None,
    };
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}
