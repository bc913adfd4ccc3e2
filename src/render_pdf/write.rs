//! Writing the laid-out pages with printpdf, then finishing the file with lopdf.

use std::collections::BTreeMap;

use lopdf::{Dictionary, Object, ObjectId, StringFormat};
use printpdf::{
    Codepoint, Color, FontId, Greyscale, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem as PdfTextItem, TextMatrix,
};
use sha2::{Digest, Sha256};

use super::layout::{Item, Layout, MM};
use super::{FieldPlacement, PdfOptions, RenderError, RenderedPdf};
use crate::document::Document;
use crate::fonts::{Fonts, Style, Subset, subset};

/// The `/Producer` of our PDFs.
pub const PRODUCER: &str = concat!("giaouoc ", env!("CARGO_PKG_VERSION"), " (printpdf)");

pub(super) fn write(
    fonts: &Fonts,
    doc: &Document,
    laid: &Layout,
    opts: &PdfOptions,
) -> Result<RenderedPdf, RenderError> {
    // 1. Glyphs used per face.
    let mut used: BTreeMap<Style, BTreeMap<u16, char>> = BTreeMap::new();
    let mut missing = Vec::new();
    for page in &laid.pages {
        for item in page {
            if let Item::Text(t) = item {
                let face = fonts.face(t.style);
                let set = used.entry(t.style).or_default();
                for c in t.text.chars() {
                    let (gid, _) = face.glyph(c);
                    if gid == 0 {
                        missing.push(c);
                    } else {
                        set.entry(gid).or_insert(c);
                    }
                }
            }
        }
    }
    if !missing.is_empty() {
        missing.sort_unstable();
        missing.dedup();
        let list: Vec<String> = missing
            .iter()
            .map(|c| format!("'{c}' (U+{:04X})", *c as u32))
            .collect();
        return Err(RenderError::MissingGlyphs(list.join(", ")));
    }

    // 2. Subset each face and register it under a fixed resource name.
    let mut pdf = PdfDocument::new(&doc.meta.title);
    let mut subsets: BTreeMap<Style, Subset> = BTreeMap::new();
    for (style, glyphs) in &used {
        let sub = subset(fonts.face(*style), glyphs).map_err(RenderError::Subset)?;
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(&sub.bytes, 0, &mut warnings)
            .ok_or_else(|| RenderError::Subset("printpdf rejected the subset font".into()))?;
        pdf.resources.fonts.map.insert(
            FontId(style.resource_name().to_string()),
            PdfFont::new(parsed),
        );
        subsets.insert(*style, sub);
    }

    // 3. Pages.
    let page_h = doc.page.height_mm * MM;
    let black = Color::Greyscale(Greyscale {
        percent: 0.0,
        icc_profile: None,
    });
    let mut pages = Vec::with_capacity(laid.pages.len());
    for items in &laid.pages {
        let mut ops = vec![
            Op::SetOutlineColor { col: black.clone() },
            Op::SetFillColor { col: black.clone() },
        ];
        for item in items {
            if let Item::Line {
                x1,
                y1,
                x2,
                y2,
                width,
            } = item
            {
                ops.push(Op::SetOutlineThickness { pt: Pt(*width) });
                ops.push(Op::DrawLine {
                    line: Line {
                        points: vec![
                            LinePoint {
                                p: Point {
                                    x: Pt(*x1),
                                    y: Pt(page_h - y1),
                                },
                                bezier: false,
                            },
                            LinePoint {
                                p: Point {
                                    x: Pt(*x2),
                                    y: Pt(page_h - y2),
                                },
                                bezier: false,
                            },
                        ],
                        is_closed: false,
                    },
                });
            }
        }
        ops.push(Op::StartTextSection);
        let mut current: Option<(Style, u32)> = None;
        for item in items {
            let Item::Text(t) = item else { continue };
            let (Some(sub), face) = (subsets.get(&t.style), fonts.face(t.style)) else {
                continue;
            };
            let key = (t.style, t.size.to_bits());
            if current != Some(key) {
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(FontId(t.style.resource_name().to_string())),
                    size: Pt(t.size),
                });
                current = Some(key);
            }
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(t.x), Pt(page_h - t.baseline)),
            });
            let extra = if t.space_extra > 0.0 && t.size > 0.0 {
                -t.space_extra * 1000.0 / t.size
            } else {
                0.0
            };
            let glyphs: Vec<Codepoint> = t
                .text
                .chars()
                .map(|c| {
                    let gid = face.glyph(c).0;
                    let new = sub.new_gid.get(&gid).copied().unwrap_or(0);
                    let offset = if c == ' ' { extra } else { 0.0 };
                    Codepoint::with_cid(new, offset, c.to_string())
                })
                .collect();
            ops.push(Op::ShowText {
                items: vec![PdfTextItem::GlyphIds(glyphs)],
            });
        }
        ops.push(Op::EndTextSection);
        pages.push(PdfPage::new(
            Mm(doc.page.width_mm),
            Mm(doc.page.height_mm),
            ops,
        ));
    }
    let page_count = pages.len();
    pdf.with_pages(pages);

    let save = PdfSaveOptions {
        optimize: !opts.uncompressed,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = pdf.to_lopdf_document(&save, &mut warnings);

    // 4. Finish with lopdf.
    let fields =
        finish(&mut lo, doc, laid, &subsets, !opts.uncompressed).map_err(RenderError::Write)?;
    let mut bytes = Vec::new();
    lo.save_to(&mut bytes)
        .map_err(|e| RenderError::Write(e.to_string()))?;
    Ok(RenderedPdf {
        bytes,
        fields,
        pages: page_count,
    })
}

/// PDF text string (ISO 32000-2 §7.9.2.2): PDFDocEncoding-compatible ASCII as is, anything
/// else UTF-16BE with a byte order mark.
pub(crate) fn text_string(s: &str) -> Object {
    match crate::pdf::encode_text_string(s) {
        (bytes, false) => Object::String(bytes, StringFormat::Literal),
        (bytes, true) => Object::String(bytes, StringFormat::Hexadecimal),
    }
}

fn xmp(doc: &Document, id_hex: &str) -> String {
    let m = &doc.meta;
    let date = crate::pdf::format_xmp_date(m.date);
    format!(
        r#"<?xpacket begin="{bom}" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}</rdf:li></rdf:Alt></dc:description>
<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>
<dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>
<xmp:CreateDate>{date}</xmp:CreateDate>
<xmp:ModifyDate>{date}</xmp:ModifyDate>
<xmp:MetadataDate>{date}</xmp:MetadataDate>
<xmp:CreatorTool>giaouoc</xmp:CreatorTool>
<pdf:Producer>{producer}</pdf:Producer>
<pdf:Keywords>{keywords}</pdf:Keywords>
<xmpMM:DocumentID>uuid:{id}</xmpMM:DocumentID>
<xmpMM:InstanceID>uuid:{id}</xmpMM:InstanceID>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#,
        title = crate::document::xml_text(&m.title),
        subject = crate::document::xml_text(&m.subject),
        author = crate::document::xml_text(&m.author),
        lang = crate::document::xml_text(&m.lang),
        keywords = crate::document::xml_text(&m.keywords),
        producer = crate::document::xml_text(PRODUCER),
        id = uuid_like(id_hex),
        bom = "\u{feff}",
    )
}

fn uuid_like(hex: &str) -> String {
    let h: String = hex.chars().chain(std::iter::repeat('0')).take(32).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or(""),
        h.get(8..12).unwrap_or(""),
        h.get(12..16).unwrap_or(""),
        h.get(16..20).unwrap_or(""),
        h.get(20..32).unwrap_or("")
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adds fields, metadata, subset names and the file identifier.
fn finish(
    lo: &mut lopdf::Document,
    doc: &Document,
    laid: &Layout,
    subsets: &BTreeMap<Style, Subset>,
    compress: bool,
) -> Result<Vec<FieldPlacement>, String> {
    let page_ids: Vec<ObjectId> = lo.get_pages().values().copied().collect();

    // Content-derived identifier: the document model and the fonts' glyph sets.
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(doc).map_err(|e| e.to_string())?);
    for (style, sub) in subsets {
        h.update(style.postscript_name().as_bytes());
        for (old, new) in &sub.new_gid {
            h.update(old.to_be_bytes());
            h.update(new.to_be_bytes());
        }
    }
    let digest = h.finalize();
    let id = digest.get(..16).unwrap_or(&[]).to_vec();
    let id_hex = hex(&id);

    // Subset font names (ISO 32000-2 §9.9.2): a six-letter tag derived from the glyph set.
    rename_fonts(lo, &page_ids, subsets);
    if compress {
        // Font programs and anything else printpdf left unfiltered (zlib level 6: lopdf's
        // own `compress` uses the slowest level for a few percent).
        for obj in lo.objects.values_mut() {
            if let Object::Stream(stream) = obj {
                if stream.dict.get(b"Filter").is_ok() {
                    continue;
                }
                let mut enc = flate2::write::ZlibEncoder::new(
                    Vec::with_capacity(stream.content.len() / 2),
                    flate2::Compression::new(6),
                );
                if std::io::Write::write_all(&mut enc, &stream.content).is_ok()
                    && let Ok(packed) = enc.finish()
                    && packed.len() < stream.content.len()
                {
                    stream
                        .dict
                        .set("Filter", Object::Name(b"FlateDecode".to_vec()));
                    stream.set_content(packed);
                }
            }
        }
    }

    // Signature fields: one widget-merged field per unit (§12.7.5.5), empty.
    let page_h = doc.page.height_mm * MM;
    let mut placements = Vec::new();
    let mut field_refs = Vec::new();
    for f in &laid.fields {
        let Some(page_id) = page_ids.get(f.page).copied() else {
            return Err(format!("field {} on missing page {}", f.name, f.page));
        };
        let rect = [
            round2(f.rect[0]),
            round2(page_h - f.rect[3]),
            round2(f.rect[2]),
            round2(page_h - f.rect[1]),
        ];
        let mut field = Dictionary::new();
        field.set("Type", Object::Name(b"Annot".to_vec()));
        field.set("Subtype", Object::Name(b"Widget".to_vec()));
        field.set("FT", Object::Name(b"Sig".to_vec()));
        field.set("T", text_string(&f.name));
        // The leader's name printed under the field (§12.7.4.1 /TU): a verifier binds the
        // field to a certificate of that name.
        field.set("TU", text_string(&f.signer));
        field.set("F", Object::Integer(4));
        field.set(
            "Rect",
            Object::Array(rect.iter().map(|v| Object::Real(*v)).collect()),
        );
        field.set("P", Object::Reference(page_id));
        let fid = lo.add_object(Object::Dictionary(field));
        field_refs.push(Object::Reference(fid));
        let page = lo.get_dictionary_mut(page_id).map_err(|e| e.to_string())?;
        let mut annots = match page.get(b"Annots") {
            Ok(Object::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        annots.push(Object::Reference(fid));
        page.set("Annots", Object::Array(annots));
        placements.push(FieldPlacement {
            name: f.name.clone(),
            page: f.page + 1,
            rect,
        });
    }

    // Document information (§14.3.3) and XMP (§14.3.2).
    let m = &doc.meta;
    let mut info = Dictionary::new();
    info.set("Title", text_string(&m.title));
    info.set("Subject", text_string(&m.subject));
    info.set("Author", text_string(&m.author));
    info.set("Keywords", text_string(&m.keywords));
    info.set("Creator", text_string("giaouoc"));
    info.set("Producer", text_string(PRODUCER));
    let date = crate::pdf::format_date(m.date);
    info.set(
        "CreationDate",
        Object::String(date.clone().into_bytes(), StringFormat::Literal),
    );
    info.set(
        "ModDate",
        Object::String(date.into_bytes(), StringFormat::Literal),
    );
    let info_id = lo.add_object(Object::Dictionary(info));
    let mut xmp_dict = Dictionary::new();
    xmp_dict.set("Type", Object::Name(b"Metadata".to_vec()));
    xmp_dict.set("Subtype", Object::Name(b"XML".to_vec()));
    let xmp_id = lo.add_object(Object::Stream(lopdf::Stream::new(
        xmp_dict,
        xmp(doc, &id_hex).into_bytes(),
    )));

    let catalog = lo.catalog_mut().map_err(|e| e.to_string())?;
    catalog.set("Lang", text_string(&m.lang));
    catalog.set("Metadata", Object::Reference(xmp_id));
    let mut prefs = Dictionary::new();
    prefs.set("DisplayDocTitle", Object::Boolean(true));
    catalog.set("ViewerPreferences", Object::Dictionary(prefs));
    if !field_refs.is_empty() {
        let mut acro = Dictionary::new();
        acro.set("Fields", Object::Array(field_refs));
        catalog.set("AcroForm", Object::Dictionary(acro));
    }
    lo.trailer.set("Info", Object::Reference(info_id));
    lo.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );
    lo.version = "1.7".to_string();
    Ok(placements)
}

fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

fn rename_fonts(
    lo: &mut lopdf::Document,
    page_ids: &[ObjectId],
    subsets: &BTreeMap<Style, Subset>,
) {
    // Resource name -> font dictionary id, from the first page that names it.
    let mut font_ids: BTreeMap<Vec<u8>, ObjectId> = BTreeMap::new();
    for pid in page_ids {
        let Ok((inline, referenced)) = lo.get_page_resources(*pid) else {
            continue;
        };
        let mut dicts: Vec<Dictionary> = inline.into_iter().cloned().collect();
        dicts.extend(
            referenced
                .iter()
                .filter_map(|r| lo.get_dictionary(*r).ok().cloned()),
        );
        for res in dicts {
            let fonts = match res.get(b"Font") {
                Ok(Object::Dictionary(d)) => Some(d.clone()),
                Ok(Object::Reference(r)) => lo.get_dictionary(*r).ok().cloned(),
                _ => None,
            };
            let Some(fonts) = fonts else { continue };
            for (name, obj) in fonts.iter() {
                if let Object::Reference(r) = obj {
                    font_ids.entry(name.clone()).or_insert(*r);
                }
            }
        }
    }
    for (style, sub) in subsets {
        let Some(font_id) = font_ids.get(style.resource_name().as_bytes()).copied() else {
            continue;
        };
        let mut h = Sha256::new();
        h.update(style.postscript_name().as_bytes());
        for old in sub.new_gid.keys() {
            h.update(old.to_be_bytes());
        }
        let d = h.finalize();
        let tag: String = d
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        let name = format!("{tag}+{}", style.postscript_name());
        let name_obj = Object::Name(name.into_bytes());
        // Type0 font, its descendant CIDFont and the descriptor all carry the name.
        let mut descendants = Vec::new();
        let mut descriptors = Vec::new();
        if let Ok(font) = lo.get_dictionary_mut(font_id) {
            font.set("BaseFont", name_obj.clone());
            if let Ok(Object::Array(a)) = font.get_mut(b"DescendantFonts") {
                for o in a.iter_mut() {
                    match o {
                        Object::Reference(r) => descendants.push(*r),
                        Object::Dictionary(cid) => {
                            cid.set("BaseFont", name_obj.clone());
                            if let Ok(Object::Reference(r)) = cid.get(b"FontDescriptor") {
                                descriptors.push(*r);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for did in descendants {
            if let Ok(cid) = lo.get_dictionary_mut(did) {
                cid.set("BaseFont", name_obj.clone());
                if let Ok(Object::Reference(r)) = cid.get(b"FontDescriptor") {
                    descriptors.push(*r);
                }
            }
        }
        for fd in descriptors {
            if let Ok(desc) = lo.get_dictionary_mut(fd) {
                desc.set("FontName", name_obj.clone());
            }
        }
    }
}
