//! The visible appearance of a signature in its unit's cell: the "Ký bởi / Cơ quan / Thời gian
//! ký" text of Vietnamese signing tools (DOMAIN.md §4), in an embedded subset of Liberation
//! Serif with a `/ToUnicode` CMap (ISO 32000-2 §9.10.3), as a form XObject (§8.10).

use std::io::Write;

use crate::fonts::{SmallFont, small_font};
use crate::pdf::{Dict, IncrementalUpdate, ObjRef, Object, PdfString};

use super::SignError;

/// Text size of the appearance, in points.
const SIZE: f32 = 9.0;
const PAD: f32 = 3.0;

/// A signer's handwritten signature (Decree 30, ô 7c: blue, transparent PNG), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureImage {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

/// Largest accepted image, in pixels per side, and PNG file size.
const MAX_SIDE: u32 = 4000;
const MAX_PNG_BYTES: usize = 8 * 1024 * 1024;

impl SignatureImage {
    /// Decodes a PNG (any bit depth and colour type; alpha kept as a soft mask).
    ///
    /// # Errors
    /// Not a PNG, too large, or corrupt.
    pub fn from_png(bytes: &[u8]) -> Result<SignatureImage, SignError> {
        let bad = |m: String| SignError::Appearance(format!("ảnh chữ ký PNG: {m}"));
        if bytes.len() > MAX_PNG_BYTES {
            return Err(bad(format!("quá lớn ({} byte)", bytes.len())));
        }
        let mut decoder = png::Decoder::new_with_limits(
            std::io::Cursor::new(bytes),
            png::Limits {
                bytes: 128 * 1024 * 1024,
            },
        );
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().map_err(|e| bad(e.to_string()))?;
        let (w, h) = {
            let info = reader.info();
            (info.width, info.height)
        };
        if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
            return Err(bad(format!("kích thước {w}x{h} không hợp lệ")));
        }
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| bad("kích thước không hợp lệ".into()))?;
        let mut buf = vec![0; size];
        let out = reader
            .next_frame(&mut buf)
            .map_err(|e| bad(e.to_string()))?;
        let data = buf.get(..out.buffer_size()).unwrap_or(&[]);
        let pixels = (w as usize) * (h as usize);
        let (rgb, alpha) = match out.color_type {
            png::ColorType::Rgb => (data.to_vec(), None),
            png::ColorType::Rgba => {
                let mut rgb = Vec::with_capacity(pixels * 3);
                let mut a = Vec::with_capacity(pixels);
                for px in data.chunks_exact(4) {
                    rgb.extend_from_slice(px.get(..3).unwrap_or(&[0, 0, 0]));
                    a.push(px.get(3).copied().unwrap_or(255));
                }
                (rgb, Some(a))
            }
            png::ColorType::Grayscale => (data.iter().flat_map(|g| [*g, *g, *g]).collect(), None),
            png::ColorType::GrayscaleAlpha => {
                let mut rgb = Vec::with_capacity(pixels * 3);
                let mut a = Vec::with_capacity(pixels);
                for px in data.chunks_exact(2) {
                    let g = px.first().copied().unwrap_or(0);
                    rgb.extend_from_slice(&[g, g, g]);
                    a.push(px.get(1).copied().unwrap_or(255));
                }
                (rgb, Some(a))
            }
            png::ColorType::Indexed => return Err(bad("bảng màu chưa được mở rộng".into())),
        };
        if rgb.len() != pixels * 3 {
            return Err(bad("dữ liệu ảnh không đủ".into()));
        }
        Ok(SignatureImage {
            width: w,
            height: h,
            rgb,
            alpha,
        })
    }
}

/// Image XObject (ISO 32000-2 §8.9.5) with its alpha as a soft mask (§11.6.5.3).
fn write_image(update: &mut IncrementalUpdate, img: &SignatureImage) -> Result<ObjRef, SignError> {
    let base = |cs: &str| {
        Dict::new()
            .with("Type", Object::name("XObject"))
            .with("Subtype", Object::name("Image"))
            .with("Width", Object::Integer(i64::from(img.width)))
            .with("Height", Object::Integer(i64::from(img.height)))
            .with("ColorSpace", Object::name(cs))
            .with("BitsPerComponent", Object::Integer(8))
            .with("Filter", Object::name("FlateDecode"))
    };
    let mut dict = base("DeviceRGB");
    if let Some(alpha) = &img.alpha {
        let mask = update.allocate();
        update.put_stream(mask, base("DeviceGray"), &deflate(alpha))?;
        dict.set("SMask", Object::Reference(mask));
    }
    let r = update.allocate();
    update.put_stream(r, dict, &deflate(&img.rgb))?;
    Ok(r)
}

/// Writes the appearance stream and its font into `update`; returns the stream's reference.
/// With an image, the image takes the left part of the box (aspect kept), the text the rest.
pub(crate) fn write(
    update: &mut IncrementalUpdate,
    width: f32,
    height: f32,
    lines: &[String],
    image: Option<&SignatureImage>,
) -> Result<ObjRef, SignError> {
    let all: String = lines.concat();
    let font = small_font(&all).map_err(|e| SignError::Appearance(e.to_string()))?;
    let mut content = Vec::new();
    let mut text_x = PAD;
    let mut image_ref = None;
    if let Some(img) = image {
        let area_w = width * 0.4;
        let area_h = height - 2.0 * PAD;
        let scale = (area_w / img.width as f32).min(area_h / img.height as f32);
        let (w, h) = (img.width as f32 * scale, img.height as f32 * scale);
        let x = PAD + (area_w - w) / 2.0;
        let y = (height - h) / 2.0;
        let _ = writeln!(content, "q {w:.2} 0 0 {h:.2} {x:.2} {y:.2} cm /Im1 Do Q");
        text_x = area_w + 2.0 * PAD;
        image_ref = Some(write_image(update, img)?);
    }
    // Wrap each line to the box width.
    let max_w = (width - text_x - PAD).max(10.0);
    let mut wrapped: Vec<String> = Vec::new();
    for line in lines {
        let mut cur = String::new();
        for word in line.split(' ') {
            let candidate = if cur.is_empty() {
                word.to_string()
            } else {
                format!("{cur} {word}")
            };
            if font.width(&candidate, SIZE) > max_w && !cur.is_empty() {
                wrapped.push(std::mem::take(&mut cur));
                cur = word.to_string();
            } else {
                cur = candidate;
            }
        }
        wrapped.push(cur);
    }
    let leading = SIZE * 1.2;
    // A thin frame in the blue of signatures, then the text in black.
    let _ = writeln!(
        content,
        "q 0 0.25 0.6 RG 0.6 w {:.2} {:.2} {:.2} {:.2} re S Q",
        0.3,
        0.3,
        width - 0.6,
        height - 0.6
    );
    content.extend_from_slice(b"BT 0 0 0 rg\n");
    let block_h = leading * wrapped.len() as f32;
    let mut y = (height + block_h) / 2.0 - SIZE;
    for line in &wrapped {
        let _ = write!(content, "/F1 {SIZE} Tf 1 0 0 1 {text_x:.2} {y:.2} Tm <");
        for c in line.chars() {
            let gid = font.glyphs.get(&c).map(|g| g.0).unwrap_or(0);
            let _ = write!(content, "{gid:04X}");
        }
        content.extend_from_slice(b"> Tj\n");
        y -= leading;
    }
    content.extend_from_slice(b"ET\n");

    let font_ref = write_font(update, &font)?;
    let ap = update.allocate();
    let mut resources = Dict::new().with(
        "Font",
        Object::Dictionary(Dict::new().with("F1", Object::Reference(font_ref))),
    );
    if let Some(r) = image_ref {
        resources.set(
            "XObject",
            Object::Dictionary(Dict::new().with("Im1", Object::Reference(r))),
        );
    }
    let dict = Dict::new()
        .with("Type", Object::name("XObject"))
        .with("Subtype", Object::name("Form"))
        .with(
            "BBox",
            Object::Array(vec![
                Object::Integer(0),
                Object::Integer(0),
                Object::Real(f64::from(width)),
                Object::Real(f64::from(height)),
            ]),
        )
        .with("Resources", Object::Dictionary(resources));
    update.put_stream(ap, dict, &content)?;
    Ok(ap)
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Type0 / CIDFontType2 with Identity-H (ISO 32000-2 §9.7).
fn write_font(update: &mut IncrementalUpdate, font: &SmallFont) -> Result<ObjRef, SignError> {
    let file = update.allocate();
    let program = deflate(&font.program);
    let file_dict = Dict::new()
        .with("Filter", Object::name("FlateDecode"))
        .with("Length1", Object::Integer(font.program.len() as i64));
    update.put_stream(file, file_dict, &program)?;

    let descriptor = update.allocate();
    update.put(
        descriptor,
        Object::Dictionary(
            Dict::new()
                .with("Type", Object::name("FontDescriptor"))
                .with("FontName", Object::name(font.name.as_bytes()))
                .with("Flags", Object::Integer(34))
                .with(
                    "FontBBox",
                    Object::Array(vec![
                        Object::Integer(-200),
                        Object::Integer(i64::from(font.descent)),
                        Object::Integer(1200),
                        Object::Integer(i64::from(font.ascent)),
                    ]),
                )
                .with("ItalicAngle", Object::Integer(0))
                .with("Ascent", Object::Integer(i64::from(font.ascent)))
                .with("Descent", Object::Integer(i64::from(font.descent)))
                .with("CapHeight", Object::Integer(662))
                .with("StemV", Object::Integer(80))
                .with("FontFile2", Object::Reference(file)),
        ),
    )?;

    let mut widths = Vec::new();
    let mut by_gid: Vec<(u16, u16)> = font.glyphs.values().copied().collect();
    by_gid.sort_unstable();
    by_gid.dedup();
    for (gid, w) in &by_gid {
        widths.push(Object::Integer(i64::from(*gid)));
        widths.push(Object::Array(vec![Object::Integer(i64::from(*w))]));
    }
    let cid = Dict::new()
        .with("Type", Object::name("Font"))
        .with("Subtype", Object::name("CIDFontType2"))
        .with("BaseFont", Object::name(font.name.as_bytes()))
        .with(
            "CIDSystemInfo",
            Object::Dictionary(
                Dict::new()
                    .with("Registry", Object::String(PdfString::literal("Adobe")))
                    .with("Ordering", Object::String(PdfString::literal("Identity")))
                    .with("Supplement", Object::Integer(0)),
            ),
        )
        .with("FontDescriptor", Object::Reference(descriptor))
        .with("CIDToGIDMap", Object::name("Identity"))
        .with("DW", Object::Integer(500))
        .with("W", Object::Array(widths));

    let to_unicode = update.allocate();
    update.put_stream(to_unicode, Dict::new(), &cmap(font))?;

    let type0 = update.allocate();
    update.put(
        type0,
        Object::Dictionary(
            Dict::new()
                .with("Type", Object::name("Font"))
                .with("Subtype", Object::name("Type0"))
                .with("BaseFont", Object::name(font.name.as_bytes()))
                .with("Encoding", Object::name("Identity-H"))
                .with(
                    "DescendantFonts",
                    Object::Array(vec![Object::Dictionary(cid)]),
                )
                .with("ToUnicode", Object::Reference(to_unicode)),
        ),
    )?;
    Ok(type0)
}

/// ToUnicode CMap (ISO 32000-2 §9.10.3) mapping each glyph id back to its character.
fn cmap(font: &SmallFont) -> Vec<u8> {
    let mut pairs: Vec<(u16, char)> = font.glyphs.iter().map(|(c, g)| (g.0, *c)).collect();
    pairs.sort_unstable();
    pairs.dedup_by_key(|p| p.0);
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for chunk in pairs.chunks(100) {
        out.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (gid, c) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            out.push_str(&format!("<{gid:04X}> <{hex}>\n"));
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out.into_bytes()
}
