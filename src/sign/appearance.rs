//! The visible appearance of a signature in its unit's cell: the "Ký bởi / Cơ quan / Thời gian
//! ký" text of Vietnamese signing tools (DOMAIN.md §4), in an embedded subset of Liberation
//! Serif with a `/ToUnicode` CMap (ISO 32000-2 §9.10.3), as a form XObject (§8.10).

use std::io::Write;

use crate::document::seal_layout;
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
    /// Pixels per metre (x, y) from the PNG's `pHYs` chunk, when it gives them.
    pixels_per_metre: Option<(u32, u32)>,
}

/// An organisation's seal (Decree 30, ô 8: red, real size, transparent PNG), decoded and
/// checked, with its size across in millimetres.
#[derive(Debug, Clone, PartialEq)]
pub struct SealImage {
    image: SignatureImage,
    width_mm: f32,
    height_mm: f32,
}

impl SealImage {
    /// Decodes and checks a seal: a PNG with an alpha channel whose corners are transparent,
    /// red where it is opaque, between [`seal_layout::MIN_MM`] and [`seal_layout::BOX_MM`]
    /// across. The real size comes from `diameter_mm` if given, else from the PNG's `pHYs`.
    ///
    /// # Errors
    /// [`SignError::Appearance`] naming what is wrong, in Vietnamese.
    pub fn from_png(bytes: &[u8], diameter_mm: Option<f32>) -> Result<SealImage, SignError> {
        let bad = |m: String| SignError::Appearance(format!("ảnh dấu PNG: {m}"));
        let image = SignatureImage::from_png(bytes)?;
        let Some(alpha) = &image.alpha else {
            return Err(bad("phải có nền trong suốt (kênh alpha)".into()));
        };
        let (w, h) = (image.width as usize, image.height as usize);
        let corners = [0, w - 1, (h - 1) * w, h * w - 1];
        if corners
            .iter()
            .any(|&i| alpha.get(i).copied().unwrap_or(255) > 16)
        {
            return Err(bad(
                "các góc ảnh phải trong suốt (dấu tròn trên nền trong suốt)".into(),
            ));
        }
        let (mut opaque, mut red) = (0_u64, 0_u64);
        for (px, a) in image.rgb.chunks_exact(3).zip(alpha) {
            if let ([r, g, b], true) = (px, *a >= 128) {
                opaque += 1;
                let (r, g, b) = (i32::from(*r), i32::from(*g), i32::from(*b));
                if r >= 120 && r - g >= 60 && r - b >= 60 {
                    red += 1;
                }
            }
        }
        if opaque == 0 {
            return Err(bad("ảnh hoàn toàn trong suốt".into()));
        }
        if red * 10 < opaque * 8 {
            return Err(bad(format!(
                "dấu phải màu đỏ ({}% điểm ảnh đỏ, cần ít nhất 80%)",
                red * 100 / opaque
            )));
        }
        let (width_mm, height_mm) = match (diameter_mm, image.pixels_per_metre) {
            (Some(d), _) if d.is_finite() => {
                let scale = d / image.width.max(image.height) as f32;
                (image.width as f32 * scale, image.height as f32 * scale)
            }
            (Some(_), _) => return Err(bad("đường kính không hợp lệ".into())),
            (None, Some((x, y))) if x > 0 && y > 0 => (
                image.width as f32 * 1000.0 / x as f32,
                image.height as f32 * 1000.0 / y as f32,
            ),
            (None, _) => {
                return Err(bad(
                    "không rõ kích thước thật: ảnh không có độ phân giải (pHYs); hãy ghi đường kính dấu (mm)"
                        .into(),
                ));
            }
        };
        let across = width_mm.max(height_mm);
        if !(seal_layout::MIN_MM..=seal_layout::BOX_MM).contains(&across) {
            return Err(bad(format!(
                "kích thước thật {across:.1} mm, cần từ {} đến {} mm",
                seal_layout::MIN_MM,
                seal_layout::BOX_MM
            )));
        }
        Ok(SealImage {
            image,
            width_mm,
            height_mm,
        })
    }

    /// The size across, in millimetres (the larger of width and height).
    pub fn diameter_mm(&self) -> f32 {
        self.width_mm.max(self.height_mm)
    }

    /// A plain round seal for demonstrations and tests: red outer and inner rings and a
    /// five-pointed star on a transparent background, 400 pixels across, its `pHYs` saying
    /// `diameter_mm`. `variant` turns the star, so units' seals differ.
    pub fn sample_png(diameter_mm: f32, variant: u32) -> Vec<u8> {
        const SIDE: u32 = 400;
        let r = SIDE as f32 / 2.0;
        let turn = (variant % 72) as f32 * 5.0_f32.to_radians();
        let star: Vec<(f32, f32)> = (0..10)
            .map(|i| {
                let a = turn - std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
                let len = if i % 2 == 0 { 0.36 * r } else { 0.15 * r };
                (r + len * a.cos(), r + len * a.sin())
            })
            .collect();
        let inside_star = |x: f32, y: f32| {
            let mut inside = false;
            let edges = star.iter().zip(star.iter().cycle().skip(star.len() - 1));
            for (&(xi, yi), &(xj, yj)) in edges {
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
            }
            inside
        };
        let ring = |d: f32, from: f32, to: f32| {
            // Coverage of a ring with a one-pixel soft edge.
            ((d - from * r + 0.5).clamp(0.0, 1.0)).min((to * r - d + 0.5).clamp(0.0, 1.0))
        };
        let mut rgba = Vec::with_capacity((SIDE * SIDE * 4) as usize);
        for y in 0..SIDE {
            for x in 0..SIDE {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                let d = ((fx - r).powi(2) + (fy - r).powi(2)).sqrt();
                let mut a = ring(d, 0.90, 0.99).max(ring(d, 0.62, 0.67));
                if inside_star(fx, fy) {
                    a = 1.0;
                }
                rgba.extend_from_slice(&[214, 24, 32, (a * 255.0).round() as u8]);
            }
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, SIDE, SIDE);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let ppm = (SIDE as f32 * 1000.0 / diameter_mm).round() as u32;
            enc.set_pixel_dims(Some(png::PixelDimensions {
                xppu: ppm,
                yppu: ppm,
                unit: png::Unit::Meter,
            }));
            if let Ok(mut w) = enc.write_header() {
                let _ = w.write_image_data(&rgba);
            }
        }
        out
    }
}

/// How a signature field is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Look<'a> {
    /// A framed box: the handwritten signature on the left, "Ký bởi / Cơ quan / Thời gian ký"
    /// on the right (the convention of Vietnamese signing tools).
    Boxed(Option<&'a SignatureImage>),
    /// A leader's field whose seal follows (Decree 30 ô 7c): the handwritten signature alone in
    /// the image area of [`seal_layout`], or the text there when there is no image.
    UnderSeal(Option<&'a SignatureImage>),
    /// The seal (ô 8): the image at real size against the box's right edge, vertically centred,
    /// nothing else.
    Seal(&'a SealImage),
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
        let (w, h, pixels_per_metre) = {
            let info = reader.info();
            let ppm = info
                .pixel_dims
                .filter(|d| d.unit == png::Unit::Meter)
                .map(|d| (d.xppu, d.yppu));
            (info.width, info.height, ppm)
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
            pixels_per_metre,
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
        update.put_stream(mask, base("DeviceGray"), &deflate_image(alpha))?;
        dict.set("SMask", Object::Reference(mask));
    }
    let r = update.allocate();
    update.put_stream(r, dict, &deflate_image(&img.rgb))?;
    Ok(r)
}

/// Writes the appearance stream (and its font, if it has text) into `update`; returns the
/// stream's reference. See [`Look`] for what goes where.
pub(crate) fn write(
    update: &mut IncrementalUpdate,
    width: f32,
    height: f32,
    lines: &[String],
    look: Look<'_>,
) -> Result<ObjRef, SignError> {
    let mut content = Vec::new();
    let mut text_x = PAD;
    let mut image_ref = None;
    let mut framed = true;
    let mut text = true;
    match look {
        Look::Boxed(image) => {
            if let Some(img) = image {
                let area_w = width * 0.4;
                place(&mut content, img, (PAD, area_w), height - 2.0 * PAD, height);
                text_x = area_w + 2.0 * PAD;
                image_ref = Some(write_image(update, img)?);
            }
        }
        Look::UnderSeal(image) => {
            framed = false;
            let (from, to) = seal_layout::image_area(width);
            if let Some(img) = image {
                place(
                    &mut content,
                    img,
                    (from, to - from),
                    height - 2.0 * PAD,
                    height,
                );
                image_ref = Some(write_image(update, img)?);
                text = false;
            } else {
                text_x = from;
            }
        }
        Look::Seal(seal) => {
            // Real size: the box's user space is its rectangle in points.
            let (w, h) = (seal.width_mm * MM, seal.height_mm * MM);
            let (x, y) = (width - w, (height - h) / 2.0);
            let _ = writeln!(content, "q {w:.2} 0 0 {h:.2} {x:.2} {y:.2} cm /Im1 Do Q");
            image_ref = Some(write_image(update, &seal.image)?);
            framed = false;
            text = false;
        }
    }
    if !text {
        return finish_form(update, width, height, &content, None, image_ref);
    }
    let all: String = lines.concat();
    let font = small_font(&all).map_err(|e| SignError::Appearance(e.to_string()))?;
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
    if framed {
        let _ = writeln!(
            content,
            "q 0 0.25 0.6 RG 0.6 w {:.2} {:.2} {:.2} {:.2} re S Q",
            0.3,
            0.3,
            width - 0.6,
            height - 0.6
        );
    }
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
    finish_form(update, width, height, &content, Some(font_ref), image_ref)
}

/// Points per millimetre.
const MM: f32 = 72.0 / 25.4;

/// Draws `img` as `/Im1` fitted (aspect kept) and centred in the area from `x` `w` wide and
/// `area_h` high, centred on a box `height` high.
fn place(
    content: &mut Vec<u8>,
    img: &SignatureImage,
    (x, w): (f32, f32),
    area_h: f32,
    height: f32,
) {
    let scale = (w / img.width as f32).min(area_h / img.height as f32);
    let (iw, ih) = (img.width as f32 * scale, img.height as f32 * scale);
    let ix = x + (w - iw) / 2.0;
    let iy = (height - ih) / 2.0;
    let _ = writeln!(
        content,
        "q {iw:.2} 0 0 {ih:.2} {ix:.2} {iy:.2} cm /Im1 Do Q"
    );
}

/// The form XObject (ISO 32000-2 §8.10) around `content`, with its font and image.
fn finish_form(
    update: &mut IncrementalUpdate,
    width: f32,
    height: f32,
    content: &[u8],
    font_ref: Option<ObjRef>,
    image_ref: Option<ObjRef>,
) -> Result<ObjRef, SignError> {
    let ap = update.allocate();
    let mut resources = Dict::new();
    if let Some(font_ref) = font_ref {
        resources.set(
            "Font",
            Object::Dictionary(Dict::new().with("F1", Object::Reference(font_ref))),
        );
    }
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
    update.put_stream(ap, dict, content)?;
    Ok(ap)
}

/// Image samples compress nearly as well at zlib's fastest level, several times faster (a
/// 400 × 400 seal: 6.2 ms at the default level for the whole signature).
fn deflate_image(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
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
