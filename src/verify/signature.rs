//! Checks of one signature on its own: the signature dictionary and its
//! `/ByteRange` (ISO 32000-2 12.8.1, ETSI EN 319 142-1 5.1), the CMS
//! SignedData in `/Contents` (RFC 5652, RFC 8419), the digest of the signed
//! bytes, and the certificate chain at the claimed signing time `/M`.
//!
//! `/M` is the time the signer *claims* (PAdES B-B has no time-stamp), so the
//! chain and revocation are judged at a time the signer chose.

use sha2::{Digest, Sha512};
use time::OffsetDateTime;

use crate::cms::{parse_signed_data, trim_der_padding, verify_signer_info};
use crate::pdf::{Object, PdfFile};
use crate::pki::{cert_info, validate_chain};

use super::VerifyOptions;
use super::fields::FieldNode;
use super::finding::Finding;
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
    pub docmdp: Option<Result<u8, Finding>>,
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
    if let Some(t) = sig.get(b"Type")
        && t.as_name() != Some(b"Sig")
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
            match sf {
                b"ETSI.CAdES.detached" => {}
                b"adbe.pkcs7.detached" => rep.notes.push(Finding::SubFilterPkcs7Detached.into()),
                other => fail(
                    rep,
                    Finding::SubFilterUnsupported {
                        sub_filter: show_name(other),
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

    // Digest of the signed bytes.
    let digest = signed.and_then(|(a, b, end)| hasher.digest(a, b, end));

    // The CMS (RFC 5652 5.1; one SignedData, zero padding only).
    let Some(contents) = contents else {
        return c;
    };
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
    match digest {
        Some(d) if d.as_slice() == parsed.message_digest.as_slice() => rep.intact = true,
        Some(_) => rep.problems.push(Finding::DigestMismatch.into()),
        None => rep.problems.push(Finding::SignedBytesUnreadable.into()),
    }
    let check = verify_signer_info(&parsed);
    for p in &check.problems {
        rep.problems.push(Finding::Cms(p.clone()).into());
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
        rep.problems.push(
            Finding::WrongUnit {
                field: field.name.clone(),
                certificate_unit: rep.unit_id.clone(),
            }
            .into(),
        );
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
                rep.problems.push(Finding::NotTrusted.into());
                for p in rep.chain_problems.iter().filter(|p| p.is_fatal()) {
                    rep.problems.push(Finding::Chain(p.clone()).into());
                }
            }
        }
        None => rep.problems.push(Finding::NoSigningTime.into()),
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
