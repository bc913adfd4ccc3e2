//! Hostile files, one builder per attack, each derived from the legitimately
//! signed fixture (three sequential signatures U01, U02, U03).

use crate::pdf::{Dict, IncrementalUpdate, Limits, Object, PdfFile, PdfString};

use super::families;
use super::support::*;

/// Which signatures of a case must not be acceptable
/// ([`crate::verify::SignatureReport::is_acceptable`]); every other one must be.
#[derive(Debug, Clone, Copy)]
pub enum Bad {
    /// Every signature is acceptable (or there is none).
    None,
    /// No signature is acceptable.
    All,
    /// Only the newest signature is not acceptable.
    Last,
    /// Only the oldest signature is not acceptable.
    First,
    /// Every signature but the one of this field is not acceptable.
    AllBut(&'static str),
}

/// An attack: its name, how to build it, the verdict it must get, which
/// signatures it breaks, and what the report must name as the reason.
pub struct Case {
    pub name: String,
    pub build: Box<dyn Fn() -> Vec<u8>>,
    pub verdict: crate::verify::Verdict,
    pub bad: Bad,
    /// Each must appear in the report's problems or illegal changes.
    pub reasons: &'static [&'static str],
}

fn case(
    name: &str,
    build: fn() -> Vec<u8>,
    verdict: crate::verify::Verdict,
    bad: Bad,
    reasons: &'static [&'static str],
) -> Case {
    Case {
        name: name.to_owned(),
        build: Box::new(build),
        verdict,
        bad,
        reasons,
    }
}

/// The attack on the covenant with one signature (`name/1`) and with three (`name/3`).
fn each(
    name: &str,
    build: fn(usize) -> Vec<u8>,
    verdict: crate::verify::Verdict,
    bad: Bad,
    reasons: &'static [&'static str],
) -> [Case; 2] {
    [1, 3].map(|n| Case {
        name: format!("{name}/{n}"),
        build: Box::new(move || build(n)),
        verdict,
        bad,
        reasons,
    })
}

/// Every hostile (and legitimate) file, with the expected verdict.
pub fn cases() -> Vec<Case> {
    use crate::verify::Verdict::*;
    use families::*;
    let mut v = vec![
        case(
            "legit-three-signatures",
            legit_three_signatures,
            Valid,
            Bad::None,
            &[],
        ),
        case(
            "legit-info-updated-with-signature",
            info_updated_with_signature,
            Valid,
            Bad::None,
            &[],
        ),
        case(
            "legit-info-only-update",
            info_only_update,
            Valid,
            Bad::None,
            &[],
        ),
        case(
            "legit-xref-stream-updates",
            legit_xref_stream_updates,
            Valid,
            Bad::None,
            &[],
        ),
        case(
            "legit-certified-p1",
            legit_certified_p1,
            Valid,
            Bad::None,
            &[],
        ),
        case(
            "info-pointed-at-a-page",
            info_pointed_at_a_page,
            Invalid,
            Bad::All,
            &[
                "trailer /Info points at an existing",
                "changed into more than text: /Rotate",
            ],
        ),
        case("unsigned", unsigned, NoSignatures, Bad::None, &[]),
        case(
            "byte-flipped-in-signed-range",
            byte_flipped_in_signed_range,
            Invalid,
            Bad::All,
            &["do not match the message digest"],
        ),
        case(
            "page-content-replaced",
            page_content_replaced,
            Invalid,
            Bad::All,
            &["page content changed (page 2: /Contents replaced, new stream"],
        ),
        case(
            "content-stream-redefined",
            content_stream_redefined,
            Invalid,
            Bad::All,
            &["page content changed (page 3, content stream"],
        ),
        case(
            "annotation-added-over-text",
            annotation_added_over_text,
            Invalid,
            Bad::All,
            &["annotation added to page 1", "/FreeText"],
        ),
        case(
            "new-form-field",
            new_form_field,
            Invalid,
            Bad::All,
            &[
                "new form field 'GhiChu' on page 1",
                "new form field 'GhiChu' (object",
            ],
        ),
        case(
            "signature-wrapping-contents-moved",
            signature_wrapping_contents_moved,
            Invalid,
            Bad::All,
            &["is not exactly this signature's /Contents"],
        ),
        case(
            "byte-range-rewritten",
            byte_range_rewritten,
            Invalid,
            Bad::All,
            &["/ByteRange ends at byte", "after the end of the file"],
        ),
        case(
            "trailing-bytes-after-eof",
            trailing_bytes_after_eof,
            Invalid,
            Bad::All,
            &["31 bytes after the last %%EOF"],
        ),
        case(
            "last-revision-cut-off",
            last_revision_cut_off,
            Invalid,
            Bad::All,
            &["after the end of the file", "revision 4 has no %%EOF"],
        ),
        case(
            "certificate-from-other-ca-same-name",
            certificate_from_other_ca_same_name,
            Untrusted,
            Bad::All,
            &["does not chain to a trusted root"],
        ),
        case(
            "certificate-of-another-unit",
            certificate_of_another_unit,
            Invalid,
            Bad::All,
            &["field U01 is signed with a certificate of unit U02"],
        ),
        case(
            "later-signature-also-changes-page",
            later_signature_also_changes_page,
            Invalid,
            Bad::AllBut("U04"),
            &["page 1 changed: /MediaBox"],
        ),
        case(
            "signed-field-hidden-later",
            signed_field_hidden_later,
            Invalid,
            Bad::All,
            &["signed field U01 changed: /F"],
        ),
        case(
            "object-freed",
            object_freed,
            Invalid,
            Bad::All,
            &["deleted"],
        ),
        case(
            "shadow-object-in-update",
            shadow_object_in_update,
            Invalid,
            Bad::All,
            &["belong to no object", "empty cross-reference section"],
        ),
        case(
            "hidden-signature-outside-form",
            hidden_signature_outside_form,
            Invalid,
            Bad::None,
            &["holds a signature but is not a field of /AcroForm"],
        ),
        // Truncation and bytes after the last revision.
        case(
            "truncated-mid-object/1",
            || truncated_mid_object(1),
            NoSignatures,
            Bad::None,
            &["cannot be read as a revision", "belong to no revision"],
        ),
        case(
            "truncated-mid-object/3",
            || truncated_mid_object(3),
            Invalid,
            Bad::All,
            &["cannot be read as a revision", "belong to no revision"],
        ),
        // Certified documents (DocMDP).
        case(
            "docmdp-p1-then-signed",
            docmdp_p1_then_signed,
            Invalid,
            Bad::First,
            &[
                "does not permit: it permits no change",
                "signature added to field U02",
                "certification (DocMDP /P 1) is broken",
            ],
        ),
        case(
            "docmdp-certification-not-first",
            docmdp_certification_not_first,
            Invalid,
            Bad::All,
            &["must be the first signature", "catalog changed: /Perms"],
        ),
        case(
            "docmdp-without-perms",
            docmdp_without_perms,
            Invalid,
            Bad::All,
            &["/Perms /DocMDP does not name"],
        ),
    ];
    let families: Vec<[Case; 2]> = vec![
        // Legitimate variants that must stay valid.
        each(
            "legit-contents-before-byte-range",
            contents_first,
            Valid,
            Bad::None,
            &[],
        ),
        each(
            "legit-extra-certificate-in-cms",
            legit_extra_certificate_in_cms,
            Valid,
            Bad::None,
            &[],
        ),
        each(
            "legit-shadow-prepared-then-signed",
            legit_shadow_prepared_then_signed,
            Valid,
            Bad::None,
            &[],
        ),
        each(
            "legit-certified-p2",
            legit_certified_p2,
            Valid,
            Bad::None,
            &[],
        ),
        // Incremental Saving Attacks.
        each(
            "isa-content-overlay",
            isa_content_overlay,
            Invalid,
            Bad::All,
            &["page content changed (page 1: /Contents replaced, new stream"],
        ),
        each(
            "isa-annotation-overlay",
            isa_annotation_overlay,
            Invalid,
            Bad::All,
            &["annotation added to page 1", "/Square"],
        ),
        each(
            "isa-form-field-overlay",
            isa_form_field_overlay,
            Invalid,
            Bad::All,
            &[
                "new form field 'SoTien' on page 1",
                "new form field 'SoTien' (object",
            ],
        ),
        each(
            "isa-xref-less-append",
            isa_xref_less_append,
            Invalid,
            Bad::All,
            &["cannot be read as a revision"],
        ),
        each(
            "isa-xref-less-append-with-trailer",
            isa_xref_less_append_with_trailer,
            Invalid,
            Bad::All,
            &["cannot be read as a revision"],
        ),
        each(
            "isa-trailer-only-append",
            isa_trailer_only_append,
            Invalid,
            Bad::All,
            &["bytes after the last %%EOF"],
        ),
        // Signature Wrapping.
        each(
            "swa-hex-contents",
            swa_hex,
            Invalid,
            Bad::All,
            &["is not exactly this signature's /Contents"],
        ),
        each(
            "swa-literal-contents",
            swa_literal,
            Invalid,
            Bad::All,
            &[
                "/Contents is not a hexadecimal string",
                "is not exactly this signature's /Contents",
            ],
        ),
        each(
            "swa-real-signer",
            swa_real_signer,
            Invalid,
            Bad::All,
            &[
                "is not exactly this signature's /Contents",
                "message digest",
            ],
        ),
        // Universal Signature Forgery.
        each(
            "usf-contents-empty",
            usf_contents_empty,
            Invalid,
            Bad::Last,
            &["/Contents is not one CMS SignedData"],
        ),
        each(
            "usf-contents-zeros",
            usf_contents_zeros,
            Invalid,
            Bad::Last,
            &["/Contents is not one CMS SignedData"],
        ),
        each(
            "usf-contents-null",
            usf_contents_null,
            Invalid,
            Bad::Last,
            &["/Contents is missing or not a string"],
        ),
        each(
            "usf-contents-missing",
            usf_contents_missing,
            Invalid,
            Bad::All,
            &["/Contents is missing or not a string"],
        ),
        each(
            "usf-byte-range-empty",
            usf_byte_range_empty,
            Invalid,
            Bad::Last,
            &["/ByteRange is not an array of four non-negative integers"],
        ),
        each(
            "usf-byte-range-null",
            usf_byte_range_null,
            Invalid,
            Bad::Last,
            &["/ByteRange is not an array of four non-negative integers"],
        ),
        each(
            "usf-byte-range-missing",
            usf_byte_range_missing,
            Invalid,
            Bad::All,
            &["/ByteRange is not an array of four non-negative integers"],
        ),
        each(
            "usf-byte-range-negative",
            usf_byte_range_negative,
            Invalid,
            Bad::Last,
            &["/ByteRange is not an array of four non-negative integers"],
        ),
        each(
            "usf-byte-range-overlapping",
            usf_byte_range_overlapping,
            Invalid,
            Bad::Last,
            &["/ByteRange gap is empty or its ranges are out of order"],
        ),
        each(
            "usf-byte-range-partial",
            usf_byte_range_partial,
            Invalid,
            Bad::Last,
            &["which is not the end of a revision"],
        ),
        each(
            "usf-byte-range-six-numbers",
            usf_byte_range_six_numbers,
            Invalid,
            Bad::Last,
            &["/ByteRange is not an array of four non-negative integers"],
        ),
        each(
            "usf-filter-other",
            usf_filter_other,
            Invalid,
            Bad::Last,
            &["/Filter is /Adobe.PPKMS, not /Adobe.PPKLite"],
        ),
        each(
            "usf-filter-unknown",
            usf_filter_unknown,
            Invalid,
            Bad::Last,
            &["/Filter is /Giaouoc.X, not /Adobe.PPKLite"],
        ),
        each(
            "usf-sub-filter-rsa-sha1",
            usf_sub_filter_rsa_sha1,
            Invalid,
            Bad::Last,
            &["/SubFilter /adbe.x509.rsa_sha1 is not supported"],
        ),
        each(
            "usf-sub-filter-timestamp",
            usf_sub_filter_timestamp,
            Invalid,
            Bad::Last,
            &["/SubFilter /ETSI.RFC3161 is not supported"],
        ),
        each(
            "usf-swapped-certificate",
            usf_swapped_certificate,
            Invalid,
            Bad::Last,
            &[
                "signing-certificate-v2 names another certificate",
                "does not verify with the certificate's key",
            ],
        ),
        each(
            "usf-swapped-certificate-same-sid",
            usf_swapped_certificate_same_sid,
            Invalid,
            Bad::Last,
            &["the signer's certificate is not included"],
        ),
        // Shadow attacks.
        each(
            "shadow-hide-overlay-emptied",
            shadow_hide_overlay_emptied,
            Invalid,
            Bad::All,
            &["page content changed (page 1, content stream"],
        ),
        each(
            "shadow-hide-overlay-redirected",
            shadow_hide_overlay_redirected,
            Invalid,
            Bad::All,
            &["points at byte", "outside revision"],
        ),
        each(
            "shadow-hide-annotation-shown",
            shadow_hide_annotation_shown,
            Invalid,
            Bad::All,
            &["on page 1 changed: /F"],
        ),
        each(
            "shadow-replace-field-value",
            shadow_replace_field_value,
            Invalid,
            Bad::All,
            &["form field SoTien changed: /AP, /V"],
        ),
        each(
            "shadow-replace-field-appearance",
            shadow_replace_field_appearance,
            Invalid,
            Bad::All,
            &["(stream /Type /XObject /Subtype /Form) changed"],
        ),
        each(
            "shadow-replace-font",
            shadow_replace_font,
            Invalid,
            Bad::All,
            &["(dictionary /Type /Font /Subtype /Type1) changed"],
        ),
        each(
            "shadow-hide-and-replace-root",
            shadow_hide_and_replace_root,
            Invalid,
            Bad::All,
            &["catalog replaced"],
        ),
        each(
            "shadow-hide-and-replace-pages",
            shadow_hide_and_replace_pages,
            Invalid,
            Bad::All,
            &["page tree changed (object"],
        ),
        each(
            "shadow-hide-and-replace-redirected",
            shadow_hide_and_replace_redirected,
            Invalid,
            Bad::All,
            &["points at byte", "outside revision"],
        ),
        // Certified documents: Evil Annotation, Sneaky Signature.
        each(
            "evil-annotation-p1",
            evil_annotation_p1,
            Invalid,
            Bad::All,
            &[
                "annotation added to page 1",
                "certification (DocMDP /P 1) is broken",
            ],
        ),
        each(
            "evil-annotation-p2",
            evil_annotation_p2,
            Invalid,
            Bad::All,
            &[
                "annotation added to page 1",
                "certification (DocMDP /P 2) is broken",
            ],
        ),
        each(
            "evil-annotation-p3",
            evil_annotation_p3,
            Invalid,
            Bad::All,
            &[
                "annotation added to page 1",
                "certification (DocMDP /P 3) is broken",
            ],
        ),
        each(
            "sneaky-signature-certified",
            sneaky_signature_certified,
            Invalid,
            Bad::AllBut("U17"),
            &[
                "new form field 'U17' on page 1",
                "new form field 'U17' (object",
                "certification (DocMDP /P 2) is broken",
            ],
        ),
        each(
            "sneaky-signature-plain",
            sneaky_signature_plain,
            Invalid,
            Bad::AllBut("U17"),
            &[
                "new form field 'U17' on page 1",
                "new form field 'U17' (object",
            ],
        ),
        // Truncation and trailing bytes.
        each(
            "revision-without-eof",
            revision_without_eof,
            Invalid,
            Bad::All,
            &[
                "has no %%EOF",
                "page content changed (page 1, content stream",
            ],
        ),
    ];
    v.extend(families.into_iter().flatten());
    v
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
        crate::test_support::set_info_mod_date(file, upd, "D:20260316100000+07'00'");
    })
}

/// After three signatures, an update that only sets `/Info /ModDate` (as a viewer saving
/// the document's properties does): maintenance, allowed and noted.
pub fn info_only_update() -> Vec<u8> {
    after_three(|file, upd| {
        crate::test_support::set_info_mod_date(file, upd, "D:20260401090000+07'00'");
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
    let der_len = crate::cms::trim_der_padding(&hex_decode(&hex))
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
