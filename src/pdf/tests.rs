//! File-level tests: handmade, lopdf- and qpdf-produced files, incremental
//! updates, hostile inputs and a mutation smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use super::*;

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A classic-table PDF from (number, body) pairs; unlisted numbers are free.
fn build_pdf(objs: &[(u32, Vec<u8>)], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = BTreeMap::new();
    for (n, body) in objs {
        offs.insert(*n, out.len());
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let size = offs.keys().max().map_or(1, |m| m + 1);
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f\r\n").as_bytes());
    for i in 1..size {
        match offs.get(&i) {
            Some(o) => out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes()),
            None => out.extend_from_slice(b"0000000000 00000 f\r\n"),
        }
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    out
}

fn stream_body(dict_extra: &str, data: &[u8]) -> Vec<u8> {
    let mut b = format!("<< /Length {} {dict_extra} >>\nstream\n", data.len()).into_bytes();
    b.extend_from_slice(data);
    b.extend_from_slice(b"\nendstream");
    b
}

const CONTENT: &[u8] = b"0 0 m 100 100 l S";

/// Catalog, pages, page, Flate content with indirect /Length, info, a
/// signature-like dictionary.
fn sample_pdf() -> Vec<u8> {
    let z = zlib(CONTENT);
    let mut content = b"<< /Length 5 0 R /Filter /FlateDecode >>\nstream\n".to_vec();
    content.extend_from_slice(&z);
    content.extend_from_slice(b"\nendstream");
    build_pdf(
        &[
            (1, b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()),
            (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
            (
                3,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> /Contents 4 0 R >>"
                    .to_vec(),
            ),
            (4, content),
            (5, z.len().to_string().into_bytes()),
            (6, b"<< /Producer (giaouoc test) >>".to_vec()),
            (
                7,
                b"<< /Type /Sig /Contents <00ab> /Name (a\\)b) /M (D:2024) >>".to_vec(),
            ),
        ],
        "/Root 1 0 R /Info 6 0 R /ID [<0102> <0304>]",
    )
}

/// Same document with a cross-reference stream (PNG Up predictor) and
/// objects 1, 2 in an object stream.
fn sample_xref_stream_pdf() -> Vec<u8> {
    xref_stream_pdf(None, &|_| {})
}

/// [`sample_xref_stream_pdf`] with an optional /Length token for the object
/// stream and a hook to alter the xref rows.
fn xref_stream_pdf(objstm_len: Option<&str>, patch: &dyn Fn(&mut Vec<[u8; 4]>)) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let b1 = b"<< /Type /Catalog /Pages 2 0 R >>";
    let b2 = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
    let header = format!("1 0 2 {} ", b1.len() + 1);
    let mut osd = header.clone().into_bytes();
    osd.extend_from_slice(b1);
    osd.push(b' ');
    osd.extend_from_slice(b2);
    let mut offs = BTreeMap::new();
    let mut put = |out: &mut Vec<u8>, n: u32, body: &[u8]| {
        offs.insert(n, out.len());
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    put(
        &mut out,
        3,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> /Contents 4 0 R >>",
    );
    put(
        &mut out,
        4,
        &stream_body("/Filter /FlateDecode", &zlib(CONTENT)),
    );
    let osd = zlib(&osd);
    let len = objstm_len.map_or(osd.len().to_string(), str::to_string);
    let mut body = format!(
        "<< /Length {len} /Type /ObjStm /N 2 /First {} /Filter /FlateDecode >>\nstream\n",
        header.len()
    )
    .into_bytes();
    body.extend_from_slice(&osd);
    body.extend_from_slice(b"\nendstream");
    put(&mut out, 5, &body);
    let xref_off = out.len();
    offs.insert(6, xref_off);
    let mut rows: Vec<[u8; 4]> = vec![[0, 0, 0, 255], [2, 0, 5, 0], [2, 0, 5, 1]];
    for n in 3..=6u32 {
        let o = offs[&n] as u16;
        rows.push([1, (o >> 8) as u8, o as u8, 0]);
    }
    patch(&mut rows);
    let mut enc = Vec::new();
    let mut prev = [0u8; 4];
    for row in &rows {
        enc.push(2);
        for i in 0..4 {
            enc.push(row[i].wrapping_sub(prev[i]));
        }
        prev = *row;
    }
    let body = stream_body(
        "/Type /XRef /Size 7 /W [1 2 1] /Root 1 0 R /ID [<01> <02>] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>",
        &zlib(&enc),
    );
    out.extend_from_slice(b"6 0 obj\n");
    out.extend_from_slice(&body);
    out.extend_from_slice(format!("\nendobj\nstartxref\n{xref_off}\n%%EOF\n").as_bytes());
    out
}

/// [`sample_xref_stream_pdf`] turned into a hybrid file (7.5.8.4): a classic
/// table for the uncompressed objects whose trailer has /XRefStm.
fn hybrid_pdf() -> Vec<u8> {
    let b = sample_xref_stream_pdf();
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    let rev = &f.revisions()[0];
    let stm = rev.xref_offset;
    let cut = b.windows(10).rposition(|w| w == b"startxref\n").unwrap();
    let mut out = b[..cut].to_vec();
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f\r\n3 4\n");
    for n in 3..=6 {
        let Some(XrefEntry::InUse { offset, .. }) = rev.xref.get(&n) else {
            panic!("object {n} not uncompressed");
        };
        out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 7 /Root 1 0 R /XRefStm {stm} >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    out
}

fn lopdf_doc() -> lopdf::Document {
    use lopdf::{Document, Object as L, Stream as LS, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let content_id = doc.add_object(LS::new(dictionary! {}, CONTENT.to_vec()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! {},
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    doc.objects.insert(
        pages_id,
        L::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    doc
}

fn lopdf_classic() -> Vec<u8> {
    let mut buf = Vec::new();
    let mut doc = lopdf_doc();
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    doc.save_to(&mut buf).unwrap();
    buf
}

fn lopdf_modern() -> Vec<u8> {
    let mut buf = Vec::new();
    lopdf_doc().save_modern(&mut buf).unwrap();
    buf
}

fn root(f: &PdfFile) -> ObjRef {
    f.trailer()
        .unwrap()
        .get(b"Root")
        .unwrap()
        .as_reference()
        .unwrap()
}

/// Resolves every object of every revision and decodes every stream.
fn resolve_everything(f: &PdfFile) -> usize {
    let mut n = 0;
    for (k, rev) in f.revisions().iter().enumerate() {
        for (r, _) in rev.defined_objects() {
            let obj = f.resolve(r, k).unwrap();
            if let Object::Stream(s) = &obj {
                f.decoded_stream(s).unwrap();
            }
            n += 1;
        }
    }
    n
}

fn span_text(bytes: &[u8], span: (usize, usize)) -> &[u8] {
    &bytes[span.0..span.1]
}

#[test]
fn parses_handmade_pdf() {
    let bytes = sample_pdf();
    let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(f.revisions().len(), 1);
    let rev = &f.revisions()[0];
    assert_eq!(rev.kind, XrefKind::Table);
    assert_eq!(rev.end_offset, Some(bytes.len()));
    assert_eq!(f.trailing_bytes_after_last_eof(), Some(0));
    assert!(f.anomalies().is_empty(), "{:?}", f.anomalies());
    assert_eq!(rev.defined_objects().count(), 7);

    let cat = f.resolve_current(ObjRef::new(1, 0)).unwrap();
    assert!(cat.as_dict().unwrap().is_type(b"Catalog"));
    let content = f.resolve_current(ObjRef::new(4, 0)).unwrap();
    assert_eq!(
        f.decoded_stream(content.as_stream().unwrap()).unwrap(),
        CONTENT
    );

    let span = f.object_span(ObjRef::new(1, 0), 0).unwrap();
    assert_eq!(
        span_text(&bytes, span),
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj"
    );
    let direct = parse_indirect_object_at(&bytes, span.0, &Limits::default()).unwrap();
    assert_eq!(direct.object, cat);
    assert_eq!(direct.span, span);
    // Indirect /Length cannot be resolved without a table.
    let off4 = f.object_span(ObjRef::new(4, 0), 0).unwrap().0;
    assert!(parse_indirect_object_at(&bytes, off4, &Limits::default()).is_err());
    // Missing, free and wrong-generation references are null (7.3.10).
    assert_eq!(f.resolve_current(ObjRef::new(99, 0)).unwrap(), Object::Null);
    assert_eq!(f.resolve_current(ObjRef::new(1, 3)).unwrap(), Object::Null);
    assert!(f.resolve(ObjRef::new(1, 0), 1).is_err());
}

#[test]
fn string_spans_are_file_offsets() {
    let bytes = sample_pdf();
    let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    let sig = f.resolve_current(ObjRef::new(7, 0)).unwrap();
    let d = sig.as_dict().unwrap();
    let c = d.get(b"Contents").unwrap().as_string().unwrap();
    assert_eq!(span_text(&bytes, c.span), b"<00ab>");
    assert_eq!(c.bytes, [0x00, 0xab]);
    let n = d.get(b"Name").unwrap().as_string().unwrap();
    assert_eq!(span_text(&bytes, n.span), b"(a\\)b)");
    assert_eq!(n.bytes, b"a)b");
    assert_eq!(span_text(&bytes, d.span).first(), Some(&b'<'));
}

#[test]
fn parses_handmade_xref_stream_with_object_stream() {
    let bytes = sample_xref_stream_pdf();
    let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(f.revisions().len(), 1);
    let rev = &f.revisions()[0];
    assert_eq!(rev.kind, XrefKind::Stream);
    assert_eq!(rev.end_offset, Some(bytes.len()));
    assert_eq!(
        rev.xref.get(&2),
        Some(&XrefEntry::Compressed {
            stream: 5,
            index: 1
        })
    );
    assert!(f.anomalies().is_empty(), "{:?}", f.anomalies());
    let pages = f.resolve_current(ObjRef::new(2, 0)).unwrap();
    assert!(pages.as_dict().unwrap().is_type(b"Pages"));
    assert_eq!(f.object_span(ObjRef::new(2, 0), 0), None);
    assert_eq!(resolve_everything(&f), 6);
}

#[test]
fn parses_rich_file() {
    let bytes = rich_pdf();
    let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(resolve_everything(&f), 59);
    let s = f.resolve_current(ObjRef::new(3, 0)).unwrap();
    assert_eq!(
        f.decoded_stream(s.as_stream().unwrap()).unwrap(),
        [1, 2, 4, 6]
    );
    let o = f.resolve_current(ObjRef::new(8, 0)).unwrap();
    let a = o.as_dict().unwrap().get(b"A").unwrap().as_array().unwrap();
    assert_eq!(a[3].as_string().unwrap().bytes, b"x\\y)");
    assert_eq!(a[4].as_string().unwrap().bytes, [0xab, 0xc0]);
    assert_eq!(a[5], Object::name("N m"));
}

#[test]
fn parses_hybrid_file() {
    let bytes = hybrid_pdf();
    let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    let rev = &f.revisions()[0];
    assert_eq!(rev.kind, XrefKind::Hybrid);
    assert!(f.anomalies().is_empty(), "{:?}", f.anomalies());
    assert_eq!(rev.end_offset, Some(bytes.len()));
    assert!(matches!(
        rev.xref.get(&1),
        Some(XrefEntry::Compressed { .. })
    ));
    assert_eq!(resolve_everything(&f), 6);
    let (base, v1, v2) = two_updates(bytes);
    check_two_updates(&base, &v1, &v2, XrefKind::Table);
}

#[test]
fn out_of_order_sections_are_reported() {
    // NEW section (newest) placed before OLD in the file.
    let sample = sample_pdf();
    let table = sample.windows(9).position(|w| w == b"xref\n0 8\n").unwrap();
    let mut b = sample[..table].to_vec();
    let new = b.len();
    let mut probe = Vec::new();
    probe.extend_from_slice(b"xref\n0 0\ntrailer\n<< /Size 8 /Root 1 0 R /Prev ");
    let old = new + probe.len() + 10 + b" >>\n".len();
    probe.extend_from_slice(format!("{old:010} >>\n").as_bytes());
    b.extend_from_slice(&probe);
    assert_eq!(b.len(), old);
    b.extend_from_slice(&sample[table..]);
    b.extend_from_slice(format!("startxref\n{new}\n%%EOF\n").as_bytes());
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert_eq!(f.revisions().len(), 2);
    assert_eq!(f.revisions()[1].section_span.0, new);
    let a = f.anomalies();
    assert!(
        a.contains(&Anomaly::RevisionOutOfOrder { revision: 1 }),
        "{a:?}"
    );
    assert!(
        a.iter()
            .any(|x| matches!(x, Anomaly::StartxrefMismatch { revision: 0, .. }))
    );
    assert!(f.resolve_current(ObjRef::new(1, 0)).is_ok());
}

#[test]
fn parses_lopdf_classic_file() {
    let bytes = lopdf_classic();
    let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(f.revisions()[0].kind, XrefKind::Table);
    let cat = f.resolve_current(root(&f)).unwrap();
    assert!(cat.as_dict().unwrap().is_type(b"Catalog"));
    assert!(resolve_everything(&f) >= 4);
}

#[test]
fn parses_lopdf_xref_and_object_streams() {
    let bytes = lopdf_modern();
    let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
    let rev = f.revisions().last().unwrap();
    assert_eq!(rev.kind, XrefKind::Stream);
    assert!(
        rev.xref
            .values()
            .any(|e| matches!(e, XrefEntry::Compressed { .. }))
    );
    let cat = f.resolve_current(root(&f)).unwrap();
    assert!(cat.as_dict().unwrap().is_type(b"Catalog"));
    assert!(resolve_everything(&f) >= 4);
}

/// Two updates written by [`IncrementalUpdate`] on top of `base`.
fn two_updates(base: Vec<u8>) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let f0 = PdfFile::parse(&base, &Limits::default()).unwrap();
    let cat_ref = root(&f0);
    let mut up = IncrementalUpdate::new(&f0).unwrap();
    let note = up.allocate();
    up.put(
        note,
        Object::String(PdfString::literal("first (update)\r\\")),
    )
    .unwrap();
    let mut cat = f0
        .resolve_current(cat_ref)
        .unwrap()
        .as_dict()
        .unwrap()
        .clone();
    cat.set("Note", Object::Reference(note));
    up.put(cat_ref, Object::Dictionary(cat)).unwrap();
    let v1 = up.finish(&base).unwrap().bytes;

    let f1 = PdfFile::parse(&v1, &Limits::default()).unwrap();
    let mut up = IncrementalUpdate::new(&f1).unwrap();
    let s = up.allocate();
    up.put_stream(
        s,
        Dict::new().with("Filter", Object::name("FlateDecode")),
        &zlib(b"x y z"),
    )
    .unwrap();
    let mut cat = f1
        .resolve_current(cat_ref)
        .unwrap()
        .as_dict()
        .unwrap()
        .clone();
    cat.set("Extra", Object::Reference(s));
    up.put(cat_ref, Object::Dictionary(cat)).unwrap();
    let v2 = up.finish(&v1).unwrap().bytes;
    (base, v1, v2)
}

fn check_two_updates(base: &[u8], v1: &[u8], v2: &[u8], kind: XrefKind) {
    assert!(v1.starts_with(base) && v2.starts_with(v1));
    let f = PdfFile::parse(v2, &Limits::default()).unwrap();
    assert_eq!(f.revisions().len(), 3);
    assert!(f.anomalies().is_empty(), "{:?}", f.anomalies());
    let ends: Vec<_> = f.revisions().iter().map(|r| r.end_offset).collect();
    // The writer adds an EOL after a bare `%%EOF`; it counts as that revision's EOL.
    let eol = usize::from(!matches!(base.last(), Some(b'\n' | b'\r')));
    assert_eq!(
        ends,
        vec![Some(base.len() + eol), Some(v1.len()), Some(v2.len())]
    );
    assert_eq!(f.trailing_bytes_after_last_eof(), Some(0));
    assert_eq!(f.revisions()[2].kind, kind);
    assert_eq!(f.revisions()[2].prev, Some(f.revisions()[1].xref_offset));
    assert_eq!(f.revisions()[1].prev, Some(f.revisions()[0].xref_offset));
    let cat_ref = root(&f);
    let c0 = f.resolve(cat_ref, 0).unwrap();
    let c1 = f.resolve(cat_ref, 1).unwrap();
    let c2 = f.resolve(cat_ref, 2).unwrap();
    assert!(c0.as_dict().unwrap().get(b"Note").is_none());
    let note = c1
        .as_dict()
        .unwrap()
        .get(b"Note")
        .unwrap()
        .as_reference()
        .unwrap();
    assert!(c1.as_dict().unwrap().get(b"Extra").is_none());
    assert_eq!(f.resolve(note, 0).unwrap(), Object::Null);
    let s = f.resolve(note, 1).unwrap();
    assert_eq!(s.as_string().unwrap().bytes, b"first (update)\r\\");
    let extra = c2
        .as_dict()
        .unwrap()
        .get(b"Extra")
        .unwrap()
        .as_reference()
        .unwrap();
    let st = f.resolve(extra, 2).unwrap();
    assert_eq!(f.decoded_stream(st.as_stream().unwrap()).unwrap(), b"x y z");
    // Trailer entries are carried over.
    let t0 = &f.revisions()[0].trailer;
    let t2 = &f.revisions()[2].trailer;
    assert_eq!(t2.get(b"Root"), t0.get(b"Root"));
    // Each revision parsed alone gives the same objects.
    let g = PdfFile::parse(v1, &Limits::default()).unwrap();
    assert_eq!(g.resolve_current(cat_ref).unwrap(), c1);
    resolve_everything(&f);
}

#[test]
fn two_incremental_revisions_classic() {
    let (base, v1, v2) = two_updates(sample_pdf());
    check_two_updates(&base, &v1, &v2, XrefKind::Table);
    // The new section is a classic table with 20-byte entries.
    let f = PdfFile::parse(&v2, &Limits::default()).unwrap();
    let rev = &f.revisions()[2];
    let sec = span_text(&v2, rev.section_span);
    assert!(sec.starts_with(b"xref\n"));
    assert!(sec.windows(20).any(|w| w.ends_with(b" 00000 n\r\n")));
    let t = &rev.trailer;
    assert_eq!(t.get(b"Info"), Some(&Object::Reference(ObjRef::new(6, 0))));
    assert!(t.get(b"ID").is_some());
    assert_eq!(t.get(b"Size"), Some(&Object::Integer(10)));
}

#[test]
fn two_incremental_revisions_on_xref_stream_base() {
    let (base, v1, v2) = two_updates(sample_xref_stream_pdf());
    check_two_updates(&base, &v1, &v2, XrefKind::Stream);
    let (base, v1, v2) = two_updates(lopdf_modern());
    check_two_updates(&base, &v1, &v2, XrefKind::Stream);
}

#[test]
fn writer_appends_eol_and_reports_marker_offsets() {
    let mut base = sample_pdf();
    base.truncate(base.len() - 1); // ends in "%%EOF" without EOL
    let f = PdfFile::parse(&base, &Limits::default()).unwrap();
    assert_eq!(f.revisions()[0].end_offset, Some(base.len()));
    let mut up = IncrementalUpdate::new(&f).unwrap();
    let sig = up.allocate();
    let placeholder = format!("<{}>", "0".repeat(64));
    let body = format!("<< /Type /Sig /ByteRange [0 0 0 0] /Contents {placeholder} >>");
    up.put_raw(sig, body.into_bytes()).unwrap();
    let out = up.finish(&base).unwrap();
    assert_eq!(out.bytes[base.len()], b'\n');
    let at = out.find_in_object(sig, placeholder.as_bytes()).unwrap();
    let g = PdfFile::parse(&out.bytes, &Limits::default()).unwrap();
    // The added EOL becomes the optional EOL of revision 0.
    assert_eq!(g.revisions()[0].end_offset, Some(base.len() + 1));
    let obj = g.resolve_current(sig).unwrap();
    let c = obj
        .as_dict()
        .unwrap()
        .get(b"Contents")
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(c.span, (at, at + placeholder.len()));
    assert_eq!(g.object_span(sig, 1).unwrap().0, out.object_offsets[&sig]);
    // Wrong base bytes are refused.
    let up = IncrementalUpdate::new(&f).unwrap();
    assert!(up.finish(&base[1..]).is_err());
}

#[test]
fn serialize_object_is_canonical() {
    let obj = Object::Dictionary(
        Dict::new()
            .with("Type", Object::name("A B#/"))
            .with("R", Object::Real(0.1))
            .with("Big", Object::Real(1e20))
            .with("Neg", Object::Real(-2.0))
            .with("NaN", Object::Real(f64::NAN))
            .with(
                "S",
                Object::String(PdfString::literal(b"a(b)\\c\rd".to_vec())),
            )
            .with("H", Object::String(PdfString::hex(vec![0, 0xab])))
            .with(
                "A",
                Object::Array(vec![
                    Object::Null,
                    Object::Bool(true),
                    Object::Reference(ObjRef::new(3, 1)),
                ]),
            ),
    );
    let mut out = Vec::new();
    serialize_object(&obj, &mut out);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "<</Type /A#20B#23#2F /R 0.1 /Big 100000000000000000000.0 /Neg -2.0 /NaN 0.0 \
         /S (a\\(b\\)\\\\c\\rd) /H <00AB> /A [null true 3 1 R]>>"
    );
    // Round trip (spans aside).
    let limits = Limits::default();
    let mut src = b"1 0 obj\n".to_vec();
    src.extend_from_slice(&out);
    src.extend_from_slice(b"\nendobj");
    let back = parse_indirect_object_at(&src, 0, &limits).unwrap().object;
    let mut again = Vec::new();
    serialize_object(&back, &mut again);
    assert_eq!(again, out);
}

/// qpdf, or a panic with the install hint (`test_support::require`).
fn qpdf() -> std::path::PathBuf {
    crate::test_support::require("qpdf")
}

/// A fresh scratch directory for one test.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("giaouoc-pdf-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn qpdf_check(dir: &std::path::Path, bytes: &[u8], name: &str) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new(qpdf())
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "qpdf --check {name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn qpdf_check_passes_on_written_files() {
    let dir = temp_dir("check");
    let bases = [
        ("handmade", sample_pdf()),
        ("handmade-xrefstream", sample_xref_stream_pdf()),
        ("handmade-hybrid", hybrid_pdf()),
        ("rich", rich_pdf()),
        ("lopdf-classic", lopdf_classic()),
        ("lopdf-modern", lopdf_modern()),
    ];
    for (name, base) in bases {
        qpdf_check(&dir, &base, &format!("{name}-base.pdf"));
        let (_, v1, v2) = two_updates(base);
        qpdf_check(&dir, &v1, &format!("{name}-v1.pdf"));
        qpdf_check(&dir, &v2, &format!("{name}-v2.pdf"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parses_qpdf_rewritten_files() {
    let dir = temp_dir("rewrite");
    let input = dir.join("qpdf-in.pdf");
    std::fs::write(&input, two_updates(sample_pdf()).2).unwrap();
    for (i, args) in [
        &["--object-streams=generate"][..],
        &["--linearize"][..],
        &["--object-streams=generate", "--linearize"][..],
        &["--qdf"][..],
    ]
    .iter()
    .enumerate()
    {
        let output = dir.join(format!("qpdf-out-{i}.pdf"));
        let st = std::process::Command::new(qpdf())
            .args(*args)
            .arg(&input)
            .arg(&output)
            .status()
            .unwrap();
        assert!(st.success());
        let bytes = std::fs::read(&output).unwrap();
        let f = PdfFile::parse(&bytes, &Limits::default()).unwrap();
        if args.contains(&"--linearize") {
            // The first-page section comes first in the file but is the newest.
            assert_eq!(f.revisions().len(), 2);
            assert!(
                f.anomalies()
                    .contains(&Anomaly::RevisionOutOfOrder { revision: 1 })
            );
        }
        let cat = f.resolve_current(root(&f)).unwrap();
        assert!(cat.as_dict().unwrap().is_type(b"Catalog"), "{args:?}");
        resolve_everything(&f);
        // Our update on top of qpdf's output still passes qpdf.
        let (_, _, v2) = two_updates(bytes);
        qpdf_check(&dir, &v2, &format!("qpdf-out-{i}-updated.pdf"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn assert_fails_fast(bytes: &[u8]) -> PdfError {
    let t = Instant::now();
    let e = PdfFile::parse(bytes, &Limits::default()).unwrap_err();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    e
}

fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} not found"));
    let mut v = bytes[..at].to_vec();
    v.extend_from_slice(to.as_bytes());
    v.extend_from_slice(&bytes[at + from.len()..]);
    v
}

#[test]
fn truncated_files_fail_cleanly() {
    let bytes = two_updates(sample_pdf()).2;
    for cut in 0..bytes.len() {
        exercise(&bytes[..cut]);
    }
    // Cutting into the last update leaves the previous startxref in view:
    // the file reads as the older revisions plus trailing bytes.
    let cut = &bytes[..bytes.len() - 30];
    let f = PdfFile::parse(cut, &Limits::default()).unwrap();
    assert_eq!(f.revisions().len(), 2);
    assert!(f.trailing_bytes_after_last_eof().unwrap() > 0);
    let one = sample_pdf();
    let e = assert_fails_fast(&one[..one.len() - 30]);
    assert_eq!(e.kind, PdfErrorKind::StartXrefNotFound);
    assert_eq!(assert_fails_fast(b"").kind, PdfErrorKind::StartXrefNotFound);
}

/// An appended section `xref 0 0 trailer << ... /Prev prev >>` at a known offset.
fn append_section(out: &mut Vec<u8>, prev: usize) -> usize {
    let at = out.len();
    out.extend_from_slice(
        format!("xref\n0 0\ntrailer\n<< /Size 8 /Root 1 0 R /Prev {prev:010} >>\nstartxref\n{at}\n%%EOF\n")
            .as_bytes(),
    );
    at
}

#[test]
fn prev_cycles_are_rejected() {
    // Self loop.
    let mut b = sample_pdf();
    let at = b.len();
    append_section(&mut b, at);
    assert_eq!(assert_fails_fast(&b).kind, PdfErrorKind::PrevCycle);
    // Two-section loop: A -> B -> A.
    let mut b = sample_pdf();
    let a = b.len();
    let mut probe = b.clone();
    append_section(&mut probe, 0);
    append_section(&mut b, probe.len());
    append_section(&mut b, a);
    assert_eq!(assert_fails_fast(&b).kind, PdfErrorKind::PrevCycle);
}

#[test]
fn xref_offset_beyond_eof_is_rejected() {
    let b = sample_pdf();
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    let x = f.revisions()[0].xref_offset;
    let b = replace(&b, &format!("startxref\n{x}"), "startxref\n99999999");
    let e = assert_fails_fast(&b);
    assert_eq!(e.kind, PdfErrorKind::BadXref("offset beyond end of file"));
    let b = replace(
        &b,
        "startxref\n99999999",
        "startxref\n99999999999999999999999",
    );
    assert!(assert_fails_fast(&b).kind == PdfErrorKind::IntegerOutOfRange);
    // Pointing into the middle of an object.
    let b = replace(&b, "startxref\n99999999999999999999999", "startxref\n30");
    assert!(matches!(
        assert_fails_fast(&b).kind,
        PdfErrorKind::BadXref(_) | PdfErrorKind::Syntax(_)
    ));
}

#[test]
fn huge_sizes_are_bounded() {
    // Classic trailer with a huge /Size parses, but the writer refuses it.
    let b = replace(&sample_pdf(), "/Size 8", "/Size 99999999999");
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert!(IncrementalUpdate::new(&f).is_err());
    // Huge subsection count.
    let b = replace(&sample_pdf(), "xref\n0 8", "xref\n0 4000000000");
    assert_eq!(
        assert_fails_fast(&b).kind,
        PdfErrorKind::LimitExceeded("objects")
    );
    // Huge xref-stream /Size without /Index.
    let b = replace(&sample_xref_stream_pdf(), "/Size 7", "/Size 1099511627776");
    assert_eq!(
        assert_fails_fast(&b).kind,
        PdfErrorKind::LimitExceeded("objects")
    );
    let b = replace(
        &sample_xref_stream_pdf(),
        "/Size 7",
        "/Size 7 /Index [0 7 4294967290 100]",
    );
    assert!(assert_fails_fast(&b).kind != PdfErrorKind::UnexpectedEof);
}

#[test]
fn deeply_nested_arrays_fail_fast() {
    let mut deep = vec![b'['; 100_000];
    deep.extend(std::iter::repeat_n(b']', 100_000));
    let b = build_pdf(
        &[(1, b"<< /Type /Catalog >>".to_vec()), (2, deep)],
        "/Root 1 0 R",
    );
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    let t = Instant::now();
    let e = f.resolve_current(ObjRef::new(2, 0)).unwrap_err();
    assert_eq!(e.kind, PdfErrorKind::LimitExceeded("nesting depth"));
    assert!(t.elapsed() < Duration::from_secs(2));
    // Also as a trailer.
    let mut t = b"xref\n0 0\ntrailer\n<< /A ".to_vec();
    t.extend(std::iter::repeat_n(b'[', 100_000));
    t.extend_from_slice(b"\nstartxref\n0\n%%EOF\n");
    assert_eq!(
        assert_fails_fast(&t).kind,
        PdfErrorKind::LimitExceeded("nesting depth")
    );
}

#[test]
fn decompression_bomb_stops_at_limit() {
    let bomb = zlib(&vec![0u8; 10 << 20]);
    let b = build_pdf(
        &[
            (1, b"<< /Type /Catalog >>".to_vec()),
            (2, stream_body("/Filter /FlateDecode", &bomb)),
        ],
        "/Root 1 0 R",
    );
    let limits = Limits {
        max_decoded_stream: 1 << 20,
        ..Limits::default()
    };
    let f = PdfFile::parse(&b, &limits).unwrap();
    let s = f.resolve_current(ObjRef::new(2, 0)).unwrap();
    let t = Instant::now();
    let e = f.decoded_stream(s.as_stream().unwrap()).unwrap_err();
    assert_eq!(e.kind, PdfErrorKind::LimitExceeded("decoded stream size"));
    assert!(t.elapsed() < Duration::from_secs(2));
    // The per-file budget stops repeated decodes of a smaller stream.
    let b = build_pdf(
        &[
            (1, b"<< /Type /Catalog >>".to_vec()),
            (
                2,
                stream_body("/Filter /FlateDecode", &zlib(&vec![0u8; 1 << 20])),
            ),
        ],
        "/Root 1 0 R",
    );
    let limits = Limits {
        max_total_decoded: (3 << 20) + 10,
        ..Limits::default()
    };
    let f = PdfFile::parse(&b, &limits).unwrap();
    let s = f.resolve_current(ObjRef::new(2, 0)).unwrap();
    for _ in 0..3 {
        assert_eq!(
            f.decoded_stream(s.as_stream().unwrap()).unwrap().len(),
            1 << 20
        );
    }
    assert_eq!(
        f.decoded_stream(s.as_stream().unwrap()).unwrap_err().kind,
        PdfErrorKind::LimitExceeded("total decoded size")
    );
}

#[test]
fn object_stream_self_references_are_rejected() {
    // The object stream's own entry says it is inside itself.
    let b = xref_stream_pdf(None, &|rows| rows[5] = [2, 0, 5, 0]);
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    let e = f.resolve_current(ObjRef::new(1, 0)).unwrap_err();
    assert_eq!(
        e.kind,
        PdfErrorKind::BadObjectStream("container is not an uncompressed object")
    );
    // The object stream's /Length lives inside the object stream.
    let b = xref_stream_pdf(Some("2 0 R"), &|_| {});
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert_eq!(
        f.resolve_current(ObjRef::new(1, 0)).unwrap_err().kind,
        PdfErrorKind::ReferenceCycle
    );
    // An object's /Length is itself.
    let b = build_pdf(
        &[
            (1, b"<< /Type /Catalog >>".to_vec()),
            (2, b"<< /Length 2 0 R >>\nstream\nabc\nendstream".to_vec()),
        ],
        "/Root 1 0 R",
    );
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert_eq!(
        f.resolve_current(ObjRef::new(2, 0)).unwrap_err().kind,
        PdfErrorKind::ReferenceCycle
    );
    // Index past /N, and an entry claiming to be in a non-stream object.
    let b = xref_stream_pdf(None, &|rows| rows[2] = [2, 0, 5, 9]);
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert!(f.resolve_current(ObjRef::new(2, 0)).is_err());
    let b = xref_stream_pdf(None, &|rows| rows[2] = [2, 0, 3, 0]);
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert!(f.resolve_current(ObjRef::new(2, 0)).is_err());
}

#[test]
fn negative_and_overflowing_integers_are_errors() {
    let b = build_pdf(
        &[
            (1, b"<< /Type /Catalog >>".to_vec()),
            (2, b"<< /Length -5 >>\nstream\nabc\nendstream".to_vec()),
            (3, b"[99999999999999999999999]".to_vec()),
            (4, b"-3".to_vec()),
            (
                5,
                b"<< /Length 9223372036854775807 >>\nstream\nabc\nendstream".to_vec(),
            ),
        ],
        "/Root 1 0 R",
    );
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert!(f.resolve_current(ObjRef::new(2, 0)).is_err());
    assert_eq!(
        f.resolve_current(ObjRef::new(3, 0)).unwrap_err().kind,
        PdfErrorKind::IntegerOutOfRange
    );
    assert_eq!(
        f.resolve_current(ObjRef::new(4, 0)).unwrap(),
        Object::Integer(-3)
    );
    assert!(f.resolve_current(ObjRef::new(5, 0)).is_err());
    assert!(f.object_span(ObjRef::new(5, 0), 0).is_none());

    let neg_prev = replace(&sample_pdf(), "/Size 8", "/Size 8 /Prev -1");
    assert_eq!(
        assert_fails_fast(&neg_prev).kind,
        PdfErrorKind::BadXref("invalid /Prev")
    );
    let neg_start = replace(&sample_pdf(), "startxref\n", "startxref\n-");
    assert!(assert_fails_fast(&neg_start).offset.is_some());
    // An xref entry pointing past the end of the file.
    let far = replace(&sample_pdf(), "0000000015 00000 n", "9999999999 00000 n");
    let f = PdfFile::parse(&far, &Limits::default()).unwrap();
    assert!(f.resolve_current(ObjRef::new(1, 0)).is_err());
}

#[test]
fn anomalies_are_reported() {
    // Garbage after %%EOF.
    let mut b = sample_pdf();
    b.extend_from_slice(b"junk\n");
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert_eq!(f.trailing_bytes_after_last_eof(), Some(5));
    // Duplicate entry in one section; startxref pointing at white space.
    let b = replace(
        &sample_pdf(),
        "xref\n0 8",
        "xref\n1 1\n0000000015 00000 n\r\n0 8",
    );
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert!(f.anomalies().contains(&Anomaly::DuplicateXrefEntry {
        revision: 0,
        num: 1
    }));
    let x = PdfFile::parse(&sample_pdf(), &Limits::default())
        .unwrap()
        .revisions()[0]
        .xref_offset;
    let b = replace(&sample_pdf(), "\nxref\n", "\n \nxref\n");
    let b = replace(
        &b,
        &format!("startxref\n{x}"),
        &format!("startxref\n{}", x + 1),
    );
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert!(
        f.anomalies()
            .iter()
            .any(|a| matches!(a, Anomaly::XrefOffsetImprecise { .. }))
    );
    // Missing %%EOF.
    let b = replace(&sample_pdf(), "%%EOF", "%%EOX");
    let f = PdfFile::parse(&b, &Limits::default()).unwrap();
    assert_eq!(f.revisions()[0].end_offset, None);
    assert_eq!(f.trailing_bytes_after_last_eof(), None);
    assert!(f.anomalies().contains(&Anomaly::MissingEof { revision: 0 }));
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// A position, a third of the time inside the last 700 bytes (xref and trailers).
fn position(b: &[u8], rng: &mut XorShift) -> usize {
    if rng.below(3) == 0 {
        let tail = b.len().min(700);
        b.len() - tail + rng.below(tail)
    } else {
        rng.below(b.len())
    }
}

fn mutate(b: &mut Vec<u8>, rng: &mut XorShift) {
    if b.is_empty() {
        return;
    }
    const INTERESTING: &[u8] = b"0123456789 \n\r<>[]()/%R#\\";
    // Length-preserving edits (which keep xref offsets valid) are favoured.
    match rng.below(10) {
        0..=3 => {
            for _ in 0..1 + rng.below(8) {
                let i = position(b, rng);
                b[i] ^= (1 + rng.below(255)) as u8;
            }
        }
        6 => {
            let n = position(b, rng);
            b.truncate(n);
        }
        7 => {
            let a = position(b, rng);
            let l = 1 + rng.below((b.len() - a).min(200));
            let chunk = b[a..(a + l).min(b.len())].to_vec();
            let at = position(b, rng);
            b.splice(at..at, chunk);
        }
        8 => {
            let a = position(b, rng);
            let l = rng.below((b.len() - a).min(50));
            b.drain(a..a + l);
        }
        4 | 5 => {
            let i = position(b, rng);
            b[i] = INTERESTING[rng.below(INTERESTING.len())];
        }
        _ => {
            let i = position(b, rng);
            b.splice(i..i, b"99999999999".iter().copied());
        }
    }
}

/// Parses and walks a file like the verifier would; must never panic.
/// Returns how many objects resolved.
fn exercise(bytes: &[u8]) -> usize {
    let limits = Limits {
        max_decoded_stream: 1 << 20,
        max_total_decoded: 4 << 20,
        ..Limits::default()
    };
    let Ok(f) = PdfFile::parse(bytes, &limits) else {
        return 0;
    };
    let mut ok = 0;
    for (k, rev) in f.revisions().iter().enumerate() {
        for (r, _) in rev.defined_objects().take(200) {
            let _ = f.object_span(r, k);
            match f.resolve(r, k) {
                Ok(Object::Stream(s)) => {
                    ok += 1;
                    let _ = f.decoded_stream(&s);
                }
                Ok(_) => ok += 1,
                Err(_) => {}
            }
        }
    }
    let _ = f.trailing_bytes_after_last_eof();
    if let Ok(up) = IncrementalUpdate::new(&f) {
        let _ = up.finish(bytes);
    }
    ok
}

/// A file with many small objects of every kind (more body to mutate).
fn rich_pdf() -> Vec<u8> {
    let templates: [&[u8]; 8] = [
        br"<< /A [1 2.5 -3 (x\\y\051) <AB C> /N#20m true null] /B << /C 4 0 R >> >>",
        br"(literal (nested) \101\n)",
        b"[ [ [ 1 ] ] << /D [ 2 0 R ] >> ]",
        b"<< /Length 9 >>\nstream\nraw bytes\nendstream",
        b"-17.25",
        b"/Name#41",
        b"<feff00410042>",
        b"<< /Type /Annot /Rect [0 0 10 10] /P 3 0 R >>",
    ];
    let mut objs = vec![(1, b"<< /Type /Catalog /Pages 2 0 R >>".to_vec())];
    objs.push((2, b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec()));
    let png = zlib(&[2, 1, 2, 2, 3, 4]);
    objs.push((
        3,
        stream_body(
            "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 2 >>",
            &png,
        ),
    ));
    for i in 4..60u32 {
        objs.push((i, templates[i as usize % templates.len()].to_vec()));
    }
    build_pdf(&objs, "/Root 1 0 R")
}

#[test]
fn mutation_smoke_test_never_panics() {
    let seeds = [
        two_updates(rich_pdf()).2,
        two_updates(sample_pdf()).2,
        two_updates(sample_xref_stream_pdf()).2,
        lopdf_modern(),
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let start = Instant::now();
    let (mut parsed, mut resolved) = (0, 0);
    for i in 0..2000 {
        let mut b = seeds[i % seeds.len()].clone();
        for _ in 0..1 + rng.below(2) {
            mutate(&mut b, &mut rng);
        }
        parsed += usize::from(PdfFile::parse(&b, &Limits::default()).is_ok());
        resolved += exercise(&b);
    }
    eprintln!(
        "mutation smoke: 2000 variants, {parsed} parsed, {resolved} objects resolved, {:?}",
        start.elapsed()
    );
    assert!(parsed > 300 && resolved > 5_000);
}

#[test]
fn pdf_file_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PdfFile>();
    assert_send_sync::<IncrementalUpdate>();
}
