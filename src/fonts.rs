//! The bundled Liberation Serif faces (SIL OFL, metric-compatible with Times New Roman), parsed
//! once per process: metrics and glyph ids for the PDF layout, the DOCX rule measurement and the
//! signature appearance, and subsetting for embedding (ISO 32000-2 §9.9).

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One of the four faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Style {
    Regular = 0,
    Bold = 1,
    Italic = 2,
    BoldItalic = 3,
}

impl Style {
    pub(crate) fn of(bold: bool, italic: bool) -> Style {
        match (bold, italic) {
            (false, false) => Style::Regular,
            (true, false) => Style::Bold,
            (false, true) => Style::Italic,
            (true, true) => Style::BoldItalic,
        }
    }

    /// PostScript name of the face.
    pub(crate) fn postscript_name(self) -> &'static str {
        match self {
            Style::Regular => "LiberationSerif",
            Style::Bold => "LiberationSerif-Bold",
            Style::Italic => "LiberationSerif-Italic",
            Style::BoldItalic => "LiberationSerif-BoldItalic",
        }
    }

    /// Resource name in the page's /Font dictionary.
    pub(crate) fn resource_name(self) -> &'static str {
        match self {
            Style::Regular => "F1",
            Style::Bold => "F2",
            Style::Italic => "F3",
            Style::BoldItalic => "F4",
        }
    }
}

const REGULAR: &[u8] = include_bytes!("../fonts/LiberationSerif-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/LiberationSerif-Bold.ttf");
const ITALIC: &[u8] = include_bytes!("../fonts/LiberationSerif-Italic.ttf");
const BOLD_ITALIC: &[u8] = include_bytes!("../fonts/LiberationSerif-BoldItalic.ttf");

/// Characters below this are looked up in a table built once.
const TABLE_CHARS: usize = 0x2100;

/// Metrics of one face, in em units (1.0 = font size).
pub(crate) struct Face {
    pub(crate) data: &'static [u8],
    /// (glyph id, advance in em) for chars below `TABLE_CHARS`; gid 0 = missing.
    table: Vec<(u16, f32)>,
    face: ttf_parser::Face<'static>,
    units_per_em: f32,
    pub(crate) ascender: f32,
    pub(crate) descender: f32,
    pub(crate) line_gap: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Option<Face> {
        let face = ttf_parser::Face::parse(data, 0).ok()?;
        let units_per_em = f32::from(face.units_per_em());
        let mut table = Vec::with_capacity(TABLE_CHARS);
        for cp in 0..TABLE_CHARS as u32 {
            let entry = char::from_u32(cp)
                .and_then(|c| face.glyph_index(c))
                .map(|g| {
                    let adv = face.glyph_hor_advance(g).unwrap_or(0);
                    (g.0, f32::from(adv) / units_per_em)
                })
                .unwrap_or((0, 0.0));
            table.push(entry);
        }
        Some(Face {
            data,
            table,
            units_per_em,
            ascender: f32::from(face.ascender()) / units_per_em,
            descender: f32::from(face.descender()) / units_per_em,
            line_gap: f32::from(face.line_gap()) / units_per_em,
            face,
        })
    }

    /// Glyph id and advance (em) of a character; glyph 0 (.notdef) when the face lacks it.
    pub(crate) fn glyph(&self, c: char) -> (u16, f32) {
        if let Some(e) = self.table.get(c as usize)
            && e.0 != 0
        {
            return *e;
        }
        match self.face.glyph_index(c) {
            Some(g) => (
                g.0,
                f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) / self.units_per_em,
            ),
            None => {
                let adv = self
                    .face
                    .glyph_hor_advance(ttf_parser::GlyphId(0))
                    .unwrap_or(0);
                (0, f32::from(adv) / self.units_per_em)
            }
        }
    }

    /// Whether the face has a glyph for `c`.
    pub(crate) fn covers(&self, c: char) -> bool {
        self.glyph(c).0 != 0
    }

    /// Natural line height (em): ascender - descender + line gap.
    pub(crate) fn line_height(&self) -> f32 {
        self.ascender - self.descender + self.line_gap
    }
}

/// The four faces.
pub(crate) struct Fonts {
    faces: [Face; 4],
}

impl Fonts {
    /// The bundled fonts, parsed once per process.
    pub(crate) fn get() -> Option<&'static Fonts> {
        static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
        FONTS
            .get_or_init(|| {
                Some(Fonts {
                    faces: [
                        Face::load(REGULAR)?,
                        Face::load(BOLD)?,
                        Face::load(ITALIC)?,
                        Face::load(BOLD_ITALIC)?,
                    ],
                })
            })
            .as_ref()
    }

    pub(crate) fn face(&self, s: Style) -> &Face {
        match s {
            Style::Regular => &self.faces[0],
            Style::Bold => &self.faces[1],
            Style::Italic => &self.faces[2],
            Style::BoldItalic => &self.faces[3],
        }
    }
}

/// A subset of one face: the font program and the old-to-new glyph id map.
pub(crate) struct Subset {
    pub(crate) bytes: Vec<u8>,
    pub(crate) new_gid: BTreeMap<u16, u16>,
}

/// Subsets `face` to the glyphs in `used` (original glyph ids). Glyph 0 is kept first;
/// allsorts numbers the kept glyphs by their position in the list it is given.
pub(crate) fn subset(face: &Face, used: &BTreeMap<u16, char>) -> Result<Subset, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};

    let ids: Vec<u16> = std::iter::once(0)
        .chain(used.keys().copied().filter(|g| *g != 0))
        .collect();
    let font = ReadScope::new(face.data)
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    let provider = font.table_provider(0).map_err(|e| e.to_string())?;
    let bytes = allsorts::subset::subset(
        &provider,
        &ids,
        &SubsetProfile::Minimal,
        CmapTarget::Unicode,
    )
    .map_err(|e| e.to_string())?;
    let new_gid = ids
        .iter()
        .enumerate()
        .filter_map(|(i, g)| u16::try_from(i).ok().map(|n| (*g, n)))
        .collect();
    Ok(Subset { bytes, new_gid })
}

/// The bundled fonts cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    /// The bundled fonts could not be parsed (a broken build).
    #[error("không đọc được phông chữ đi kèm")]
    Unreadable,
    /// Subsetting a font failed.
    #[error("không tạo được tập con phông chữ: {0}")]
    Subset(String),
    /// The text contains characters the fonts cannot show.
    #[error("văn bản có ký tự không có trong phông chữ: {0}")]
    MissingGlyphs(String),
}

/// Characters of `text` that the bundled fonts cannot show.
pub fn unsupported_chars(text: &str) -> Vec<char> {
    let Some(fonts) = Fonts::get() else {
        return Vec::new();
    };
    let face = fonts.face(Style::Regular);
    let mut out: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && !face.covers(*c))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A subset of Liberation Serif Regular for a few lines of text (a signature appearance):
/// the font program and, per character, its glyph id in the subset and advance.
#[derive(Debug, Clone)]
pub struct SmallFont {
    /// TrueType font program of the subset.
    pub program: Vec<u8>,
    /// PostScript name with a subset tag, e.g. `ABCDEF+LiberationSerif`.
    pub name: String,
    /// Character → (glyph id in the subset, advance in 1/1000 em).
    pub glyphs: std::collections::BTreeMap<char, (u16, u16)>,
    /// Ascender and descender in 1/1000 em.
    pub ascent: i32,
    /// Descender (negative) in 1/1000 em.
    pub descent: i32,
}

impl SmallFont {
    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.glyphs.get(&c).map(|g| f32::from(g.1)).unwrap_or(500.0))
            .sum::<f32>()
            * size
            / 1000.0
    }
}

/// Subsets the regular face to the characters of `text`.
///
/// # Errors
/// Characters the font lacks, or a subsetting failure.
pub fn small_font(text: &str) -> Result<SmallFont, FontError> {
    let fonts = Fonts::get().ok_or(FontError::Unreadable)?;
    let face = fonts.face(Style::Regular);
    let mut used = std::collections::BTreeMap::new();
    let mut missing = Vec::new();
    for c in text.chars() {
        let (gid, _) = face.glyph(c);
        if gid == 0 {
            missing.push(c);
        } else {
            used.entry(gid).or_insert(c);
        }
    }
    if !missing.is_empty() {
        return Err(FontError::MissingGlyphs(missing.into_iter().collect()));
    }
    let sub = subset(face, &used).map_err(FontError::Subset)?;
    let mut glyphs = std::collections::BTreeMap::new();
    for c in text.chars() {
        let (gid, adv) = face.glyph(c);
        let new = sub.new_gid.get(&gid).copied().unwrap_or(0);
        glyphs.insert(c, (new, (adv * 1000.0).round() as u16));
    }
    let tag: String = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for g in used.keys() {
            h.update(g.to_be_bytes());
        }
        h.finalize()
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect()
    };
    Ok(SmallFont {
        program: sub.bytes,
        name: format!("{tag}+LiberationSerif"),
        glyphs,
        ascent: (face.ascender * 1000.0).round() as i32,
        descent: (face.descender * 1000.0).round() as i32,
    })
}
