//! Hostile files, one builder per attack, each derived from the legitimately
//! signed fixture (three sequential signatures U01, U02, U03).

use crate::pdf::{Dict, IncrementalUpdate, Limits, Object, PdfFile, PdfString};

use super::support::*;

/// An attack: its name, how to build it, and the verdict it must get.
pub struct Case {
    pub name: &'static str,
    pub build: fn() -> Vec<u8>,
    pub verdict: crate::verify::Verdict,
}

/// Every hostile (and legitimate) file, with the expected verdict.
pub fn cases() -> Vec<Case> {
    use crate::verify::Verdict::*;
    vec![
        Case {
            name: "legit-three-signatures",
            build: legit_three_signatures,
            verdict: Valid,
        },
        Case {
            name: "legit-info-updated-with-signature",
            build: info_updated_with_signature,
            verdict: Valid,
        },
        Case {
            name: "legit-xref-stream-updates",
            build: legit_xref_stream_updates,
            verdict: Valid,
        },
        Case {
            name: "info-pointed-at-a-page",
            build: info_pointed_at_a_page,
            verdict: Invalid,
        },
        Case {
            name: "unsigned",
            build: unsigned,
            verdict: NoSignatures,
        },
        Case {
            name: "byte-flipped-in-signed-range",
            build: byte_flipped_in_signed_range,
            verdict: Invalid,
        },
        Case {
            name: "page-content-replaced",
            build: page_content_replaced,
            verdict: Invalid,
        },
        Case {
            name: "content-stream-redefined",
            build: content_stream_redefined,
            verdict: Invalid,
        },
        Case {
            name: "annotation-added-over-text",
            build: annotation_added_over_text,
            verdict: Invalid,
        },
        Case {
            name: "new-form-field",
            build: new_form_field,
            verdict: Invalid,
        },
        Case {
            name: "signature-wrapping-contents-moved",
            build: signature_wrapping_contents_moved,
            verdict: Invalid,
        },
        Case {
            name: "byte-range-rewritten",
            build: byte_range_rewritten,
            verdict: Invalid,
        },
        Case {
            name: "trailing-bytes-after-eof",
            build: trailing_bytes_after_eof,
            verdict: Invalid,
        },
        Case {
            name: "last-revision-cut-off",
            build: last_revision_cut_off,
            verdict: Invalid,
        },
        Case {
            name: "certificate-from-other-ca-same-name",
            build: certificate_from_other_ca_same_name,
            verdict: Untrusted,
        },
        Case {
            name: "certificate-of-another-unit",
            build: certificate_of_another_unit,
            verdict: Invalid,
        },
        Case {
            name: "later-signature-also-changes-page",
            build: later_signature_also_changes_page,
            verdict: Invalid,
        },
        Case {
            name: "signed-field-hidden-later",
            build: signed_field_hidden_later,
            verdict: Invalid,
        },
        Case {
            name: "object-freed",
            build: object_freed,
            verdict: Invalid,
        },
        Case {
            name: "shadow-object-in-update",
            build: shadow_object_in_update,
            verdict: Invalid,
        },
        Case {
            name: "hidden-signature-outside-form",
            build: hidden_signature_outside_form,
            verdict: Invalid,
        },
    ]
}

/// The three-signature fixture with one more update appended by `edit`.
fn after_three(edit: impl FnOnce(&PdfFile, &mut IncrementalUpdate)) -> Vec<u8> {
    append(&fixture().signed[2], edit)
}

fn rect(x1: i64, y1: i64, x2: i64, y2: i64) -> Object {
    Object::Array(vec![
        Object::Integer(x1),
        Object::Integer(y1),
        Object::Integer(x2),
        Object::Integer(y2),
    ])
}

/// Page `n`'s dictionary with `obj` appended to its `/Annots`.
fn page_with_annot(file: &PdfFile, n: usize, obj: Object) -> (crate::pdf::ObjRef, Dict) {
    let page = page_ref(file, n);
    let mut pd = dict_of(file, page);
    let mut annots = pd
        .get(b"Annots")
        .and_then(Object::as_array)
        .map(<[Object]>::to_vec)
        .unwrap_or_default();
    annots.push(obj);
    pd.set("Annots", Object::Array(annots));
    (page, pd)
}

pub fn legit_three_signatures() -> Vec<u8> {
    fixture().signed[2].clone()
}

/// The unsigned covenant given a cross-reference-stream update (ISO 32000-2
/// 7.5.8), so both signatures are written with xref streams; U01, U02 sign.
pub fn legit_xref_stream_updates() -> Vec<u8> {
    let f = fixture();
    let mut base = f.unsigned.clone();
    let file = PdfFile::parse(&base, &Limits::default()).unwrap();
    let trailer = file.trailer().unwrap();
    let num = trailer.get(b"Size").unwrap().as_i64().unwrap();
    let info = trailer.get(b"Info").unwrap().as_reference().unwrap();
    let root = root_of(&file);
    let prev = file.revisions().last().unwrap().xref_offset;
    let off = base.len();
    let mut row = vec![1u8];
    row.extend_from_slice(&u32::try_from(off).unwrap().to_be_bytes());
    row.extend_from_slice(&[0, 0]);
    base.extend_from_slice(
        format!(
            "{num} 0 obj\n<</Type /XRef /Size {} /W [1 4 2] /Index [{num} 1] /Prev {prev} \
             /Root {} 0 R /Info {} 0 R /Length 7>>\nstream\n",
            num + 1,
            root.num,
            info.num
        )
        .as_bytes(),
    );
    base.extend_from_slice(&row);
    base.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{off}\n%%EOF\n").as_bytes());
    let one = sign_field(&base, "U01", &f.leaders[0], TIMES[0]);
    sign_field(&one, "U02", &f.leaders[1], TIMES[1])
}

pub fn unsigned() -> Vec<u8> {
    fixture().unsigned.clone()
}

/// U02 signs and, in the same revision, updates `/Info /ModDate` (allowed, noted).
pub fn info_updated_with_signature() -> Vec<u8> {
    let f = fixture();
    sign_field_with(&f.signed[0], "U02", &f.leaders[1], TIMES[1], |file, upd| {
        let info = file
            .trailer()
            .unwrap()
            .get(b"Info")
            .unwrap()
            .as_reference()
            .unwrap();
        let mut d = dict_of(file, info);
        d.set(
            "ModDate",
            Object::String(PdfString::literal("D:20260316100000+07'00'")),
        );
        upd.put(info, Object::Dictionary(d)).unwrap();
    })
}

/// One byte of the original revision (the /Producer text) changed in place.
pub fn byte_flipped_in_signed_range() -> Vec<u8> {
    let mut bytes = fixture().signed[2].clone();
    let at = bytes
        .windows(b"giaouoc 0.1.0".len())
        .position(|w| w == b"giaouoc 0.1.0")
        .unwrap();
    bytes[at] = b'G';
    bytes
}

/// An update pointing page 2's `/Contents` at a new stream.
pub fn page_content_replaced() -> Vec<u8> {
    after_three(|file, upd| {
        let page = page_ref(file, 2);
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
    })
}

/// An update redefining page 3's content stream under the same object number.
pub fn content_stream_redefined() -> Vec<u8> {
    after_three(|file, upd| {
        let page = dict_of(file, page_ref(file, 3));
        let content = match page.get(b"Contents").unwrap() {
            Object::Reference(r) => *r,
            Object::Array(a) => a[0].as_reference().unwrap(),
            _ => panic!("no page content"),
        };
        upd.put_stream(content, Dict::new(), b"BT /F1 12 Tf 72 700 Td (X) Tj ET")
            .unwrap();
    })
}

/// A FreeText annotation over the text of page 1.
pub fn annotation_added_over_text() -> Vec<u8> {
    after_three(|file, upd| {
        let annot = upd.allocate();
        let a = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("FreeText"))
            .with("Rect", rect(72, 600, 500, 700))
            .with("Contents", Object::String(PdfString::literal("Huỷ bỏ")))
            .with(
                "DA",
                Object::String(PdfString::literal("/Helv 24 Tf 1 0 0 rg")),
            );
        upd.put(annot, Object::Dictionary(a)).unwrap();
        let (page, pd) = page_with_annot(file, 1, Object::Reference(annot));
        upd.put(page, Object::Dictionary(pd)).unwrap();
    })
}

/// A new text field "GhiChu" on page 1, listed in /AcroForm /Fields.
pub fn new_form_field() -> Vec<u8> {
    after_three(|file, upd| {
        let field = upd.allocate();
        let page = page_ref(file, 1);
        let fd = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("Widget"))
            .with("FT", Object::name("Tx"))
            .with("T", Object::String(PdfString::literal("GhiChu")))
            .with("V", Object::String(PdfString::literal("Không đồng ý")))
            .with("Rect", rect(72, 400, 400, 430))
            .with("P", Object::Reference(page));
        upd.put(field, Object::Dictionary(fd)).unwrap();
        let (page, pd) = page_with_annot(file, 1, Object::Reference(field));
        upd.put(page, Object::Dictionary(pd)).unwrap();
        let root = root_of(file);
        let mut cat = dict_of(file, root);
        let mut acro = cat
            .get(b"AcroForm")
            .and_then(Object::as_dict)
            .cloned()
            .unwrap();
        let mut fields = acro
            .get(b"Fields")
            .and_then(Object::as_array)
            .unwrap()
            .to_vec();
        fields.push(Object::Reference(field));
        acro.set("Fields", Object::Array(fields));
        cat.set("AcroForm", Object::Dictionary(acro));
        upd.put(root, Object::Dictionary(cat)).unwrap();
    })
}

fn hex_decode(hex: &[u8]) -> Vec<u8> {
    hex.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// Signature wrapping: `/ByteRange` unchanged (the digest still matches), but
/// the gap now holds a shorter `/Contents` followed by attacker-chosen bytes.
pub fn signature_wrapping_contents_moved() -> Vec<u8> {
    let mut bytes = fixture().signed[0].clone();
    let (a, b) = last_gap(&bytes);
    let hex = bytes[a + 1..b - 1].to_vec();
    let der_len = crate::sign::cms::trim_der_padding(&hex_decode(&hex))
        .unwrap()
        .len();
    let mut gap = vec![b'<'];
    gap.extend_from_slice(&hex[..der_len * 2]);
    gap.extend_from_slice(b"> /Reason (");
    gap.extend_from_slice("Đã thanh toán".as_bytes());
    gap.push(b')');
    gap.resize(b - a, b' ');
    bytes[a..b].copy_from_slice(&gap);
    bytes
}

/// `/ByteRange` edited to start the second range one byte later.
pub fn byte_range_rewritten() -> Vec<u8> {
    let mut bytes = fixture().signed[0].clone();
    let (a, b) = last_gap(&bytes);
    // Rewrite the numbers inside the last `/ByteRange [...]`, keeping its length.
    let key = b"/ByteRange [";
    let start = bytes.windows(key.len()).rposition(|w| w == key).unwrap() + key.len();
    let end = start + bytes[start..].iter().position(|&c| c == b']').unwrap();
    let old: Vec<u64> = std::str::from_utf8(&bytes[start..end])
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!((old[1], old[2]), (a as u64, b as u64));
    let mut moved = format!("{} {} {} {}", old[0], old[1], old[2] + 1, old[3]).into_bytes();
    assert!(moved.len() <= end - start);
    moved.resize(end - start, b' ');
    bytes[start..end].copy_from_slice(&moved);
    bytes
}

/// Text after the last `%%EOF` (31 bytes), outside any revision.
pub fn trailing_bytes_after_eof() -> Vec<u8> {
    let mut bytes = fixture().signed[2].clone();
    bytes.extend_from_slice(b"% trailing\n1 0 obj\n<<>>\nendobj\n");
    bytes
}

/// The final `%%EOF\n` cut off: U03's signed range now ends past the file.
pub fn last_revision_cut_off() -> Vec<u8> {
    let full = &fixture().signed[2];
    full[..full.len() - b"%%EOF\n".len()].to_vec()
}

/// U01 signed with a certificate from another CA that reuses the bloc CA's name.
pub fn certificate_from_other_ca_same_name() -> Vec<u8> {
    let (fake_ca_key, fake_ca) = ca_identity(0x66);
    let impostor = leader(&fake_ca_key, &fake_ca, 0, 0x21);
    sign_field(&fixture().unsigned, "U01", &impostor, TIMES[0])
}

/// Field U01 signed by the leader of U02 (a trusted certificate, wrong unit).
pub fn certificate_of_another_unit() -> Vec<u8> {
    let f = fixture();
    sign_field(&f.unsigned, "U01", &f.leaders[1], TIMES[0])
}

/// U04 signs, and its revision also shrinks page 1's /MediaBox.
pub fn later_signature_also_changes_page() -> Vec<u8> {
    let f = fixture();
    sign_field_with(
        &f.signed[2],
        "U04",
        &f.leaders[3],
        "D:20260318080000+07'00'",
        |file, upd| {
            let page = page_ref(file, 1);
            let mut pd = dict_of(file, page);
            pd.set("MediaBox", rect(0, 0, 300, 300));
            upd.put(page, Object::Dictionary(pd)).unwrap();
        },
    )
}

/// An update setting U01's signed widget to hidden (/F 2).
pub fn signed_field_hidden_later() -> Vec<u8> {
    after_three(|file, upd| {
        let field = field_ref(file, "U01");
        let mut fd = dict_of(file, field);
        fd.set("F", Object::Integer(2));
        upd.put(field, Object::Dictionary(fd)).unwrap();
    })
}

/// A hand-written update whose only entry frees the /Info object.
pub fn object_freed() -> Vec<u8> {
    let mut bytes = fixture().signed[2].clone();
    let file = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    let info = file
        .trailer()
        .unwrap()
        .get(b"Info")
        .unwrap()
        .as_reference()
        .unwrap();
    let prev = file.revisions().last().unwrap().xref_offset;
    let root = root_of(&file);
    let xref_at = bytes.len();
    bytes.extend_from_slice(
        format!(
            "xref\n{} 1\n0000000000 00001 f\r\ntrailer\n<</Size 200 /Root {} 0 R /Prev {prev}>>\n\
             startxref\n{xref_at}\n%%EOF\n",
            info.num, root.num
        )
        .as_bytes(),
    );
    bytes
}

/// An update holding an object that no cross-reference entry lists
/// (recovery-mode readers may still pick it up), with an empty section.
pub fn shadow_object_in_update() -> Vec<u8> {
    let mut bytes = fixture().signed[2].clone();
    let file = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    let root = root_of(&file);
    let prev = file.revisions().last().unwrap().xref_offset;
    bytes.extend_from_slice(b"99 0 obj\n<</Type /Annot /Subtype /Text>>\nendobj\n");
    let xref_at = bytes.len();
    bytes.extend_from_slice(
        format!(
            "xref\n0 0\ntrailer\n<</Size 200 /Root {} 0 R /Prev {prev}>>\nstartxref\n{xref_at}\n%%EOF\n",
            root.num
        )
        .as_bytes(),
    );
    bytes
}

/// A widget with a signature value on page 1 that /AcroForm does not list.
pub fn hidden_signature_outside_form() -> Vec<u8> {
    append(&fixture().unsigned, |file, upd| {
        let sig = upd.allocate();
        upd.put(
            sig,
            Object::Dictionary(Dict::new().with("Type", Object::name("Sig"))),
        )
        .unwrap();
        let w = upd.allocate();
        let wd = Dict::new()
            .with("Type", Object::name("Annot"))
            .with("Subtype", Object::name("Widget"))
            .with("FT", Object::name("Sig"))
            .with("Rect", rect(0, 0, 0, 0))
            .with("V", Object::Reference(sig));
        upd.put(w, Object::Dictionary(wd)).unwrap();
        let (page, pd) = page_with_annot(file, 1, Object::Reference(w));
        upd.put(page, Object::Dictionary(pd)).unwrap();
    })
}

/// Two updates: the first points trailer `/Info` at page 2, the second then
/// rotates page 2 (which must not pass as an `/Info` update).
pub fn info_pointed_at_a_page() -> Vec<u8> {
    let mut bytes = fixture().signed[2].clone();
    let file = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    let page = page_ref(&file, 2);
    let root = root_of(&file);
    let prev = file.revisions().last().unwrap().xref_offset;
    let xref_at = bytes.len();
    bytes.extend_from_slice(
        format!(
            "xref\n0 0\ntrailer\n<</Size 200 /Root {} 0 R /Info {} 0 R /Prev {prev}>>\n\
             startxref\n{xref_at}\n%%EOF\n",
            root.num, page.num
        )
        .as_bytes(),
    );
    append(&bytes, |file, upd| {
        let page = page_ref(file, 2);
        let mut pd = dict_of(file, page);
        pd.set("Rotate", Object::Integer(180));
        upd.put(page, Object::Dictionary(pd)).unwrap();
    })
}
