//! Cross-reference sections: `startxref` (ISO 32000-2 7.5.5), classic tables
//! (7.5.4), cross-reference streams (7.5.8) and hybrid `/XRefStm` sections
//! (7.5.8.4).

use std::collections::BTreeMap;

use super::Limits;
use super::error::{PdfError, PdfErrorKind};
use super::filters::{self, Budget};
use super::lexer::Parser;
use super::object::{Dict, ObjRef, Object};

/// How far from the end of the file `startxref` is searched for.
pub(crate) const TAIL_WINDOW: usize = 4096;

/// One cross-reference entry (7.5.4 Table 17 / 7.5.8.3 Table 18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefEntry {
    /// Uncompressed object at a byte offset.
    InUse {
        /// Offset of `num generation obj`.
        offset: usize,
        /// Generation number.
        generation: u16,
    },
    /// Free entry.
    Free {
        /// Next free object number.
        next: u32,
        /// Generation to use if the number is reused.
        generation: u16,
    },
    /// Object stored in an object stream (7.5.7), generation 0.
    Compressed {
        /// Object number of the object stream.
        stream: u32,
        /// Index within the object stream.
        index: u32,
    },
}

/// Syntax of a revision's cross-reference section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum XrefKind {
    /// Classic `xref` table and `trailer` (7.5.4, 7.5.5).
    Table,
    /// Cross-reference stream (7.5.8).
    Stream,
    /// Classic table whose trailer has `/XRefStm` (7.5.8.4).
    Hybrid,
}

/// A parsed cross-reference section.
#[derive(Debug)]
pub(crate) struct Section {
    pub kind: XrefKind,
    pub xref: BTreeMap<u32, XrefEntry>,
    pub trailer: Dict,
    /// Where the section really starts (after white space at the declared offset).
    pub start: usize,
    /// Just after the trailer dictionary, or after `endobj` of an xref stream.
    pub end: usize,
    /// Byte ranges occupied (the section and, for hybrids, the /XRefStm object).
    pub ranges: Vec<(usize, usize)>,
    /// Object numbers listed more than once.
    pub duplicates: Vec<u32>,
}

fn bad(msg: &'static str, at: usize) -> PdfError {
    PdfError::at(PdfErrorKind::BadXref(msg), at)
}

/// Finds the value of the last `startxref` in the last [`TAIL_WINDOW`] bytes.
pub(crate) fn find_startxref(data: &[u8], limits: &Limits) -> Result<usize, PdfError> {
    let from = data.len().saturating_sub(TAIL_WINDOW);
    let tail = data.get(from..).unwrap_or(&[]);
    let pos = rfind(tail, b"startxref")
        .and_then(|p| p.checked_add(from))
        .ok_or_else(|| PdfError::new(PdfErrorKind::StartXrefNotFound))?;
    let mut p = Parser::new(data, pos.saturating_add(b"startxref".len()), limits);
    p.skip_ws_comments();
    let v = p.parse_unsigned(u64::MAX)?;
    usize::try_from(v).map_err(|_| PdfError::at(PdfErrorKind::IntegerOutOfRange, pos))
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Parses the section at `offset` (a `startxref` or `/Prev` value).
/// `entries_left` is decremented by the number of entries read.
pub(crate) fn parse_section(
    data: &[u8],
    offset: usize,
    limits: &Limits,
    budget: &Budget,
    entries_left: &mut usize,
) -> Result<Section, PdfError> {
    if offset >= data.len() {
        return Err(bad("offset beyond end of file", offset));
    }
    let mut p = Parser::new(data, offset, limits);
    p.skip_ws();
    let start = p.pos();
    if p.at_keyword(b"xref") {
        let mut sec = parse_table(&mut p, entries_left)?;
        if let Some(stm) = sec.trailer.get(b"XRefStm") {
            let stm_off = stm
                .as_i64()
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(|| bad("invalid /XRefStm", sec.end))?;
            let (extra, _dict, span) = parse_stream(data, stm_off, limits, budget, entries_left)?;
            for (num, e) in extra {
                // Table entries take precedence within a hybrid section (7.5.8.4).
                sec.xref.entry(num).or_insert(e);
            }
            sec.ranges.push(span);
            sec.kind = XrefKind::Hybrid;
        }
        Ok(sec)
    } else if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        let (xref, trailer, span) = parse_stream(data, start, limits, budget, entries_left)?;
        Ok(Section {
            kind: XrefKind::Stream,
            xref,
            trailer,
            start,
            end: span.1,
            ranges: vec![span],
            duplicates: Vec::new(),
        })
    } else {
        Err(bad(
            "startxref does not point at a cross-reference section",
            offset,
        ))
    }
}

/// Classic table (7.5.4): `xref`, subsections `first count` of 20-byte
/// entries, then `trailer` and its dictionary. Entry fields are fixed width
/// (10 and 5 digits); the line ending may be any 1–2 white-space bytes
/// (`\r\n`, ` \n`, ` \r`, or a lone `\n` / `\r`).
fn parse_table(p: &mut Parser<'_>, entries_left: &mut usize) -> Result<Section, PdfError> {
    let start = p.pos();
    p.expect_keyword(b"xref", "expected xref")?;
    let mut xref = BTreeMap::new();
    let mut duplicates = Vec::new();
    loop {
        p.skip_ws();
        if p.eat_keyword(b"trailer") {
            break;
        }
        let sub_at = p.pos();
        let first = p.parse_unsigned(u64::from(u32::MAX))?;
        p.skip_ws();
        let count = p.parse_unsigned(u64::from(u32::MAX))?;
        let count = usize::try_from(count).map_err(|_| bad("subsection too large", sub_at))?;
        if count > *entries_left {
            return Err(PdfError::at(PdfErrorKind::LimitExceeded("objects"), sub_at));
        }
        if count.saturating_mul(19) > p.rest().len() {
            return Err(bad("subsection larger than the file", sub_at));
        }
        *entries_left = entries_left.saturating_sub(count);
        for i in 0..count {
            p.skip_ws();
            let at = p.pos();
            let (num, entry) =
                table_entry(p.rest(), first, i).ok_or_else(|| bad("malformed entry", at))?;
            p.set_pos(at.saturating_add(18));
            match xref.entry(num) {
                std::collections::btree_map::Entry::Occupied(_) => duplicates.push(num),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(entry);
                }
            }
        }
    }
    let trailer = p.parse_dict()?;
    let end = p.pos();
    Ok(Section {
        kind: XrefKind::Table,
        xref,
        trailer,
        start,
        end,
        ranges: vec![(start, end)],
        duplicates,
    })
}

/// `oooooooooo ggggg n` (18 bytes, then the line ending).
fn table_entry(rest: &[u8], first: u64, i: usize) -> Option<(u32, XrefEntry)> {
    let line = rest.get(..18)?;
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = line.get(r)?;
        s.iter().try_fold(0u64, |acc, &b| {
            b.is_ascii_digit().then(|| {
                acc.wrapping_mul(10)
                    .wrapping_add(u64::from(b.wrapping_sub(b'0')))
            })
        })
    };
    let field = digits(0..10)?;
    let generation = u16::try_from(digits(11..16)?).ok()?;
    if line.get(10) != Some(&b' ') || line.get(16) != Some(&b' ') {
        return None;
    }
    let after = rest.get(18).copied();
    if after.is_some_and(|b| !super::lexer::is_whitespace(b)) {
        return None;
    }
    let num = u32::try_from(first.checked_add(u64::try_from(i).ok()?)?).ok()?;
    let entry = match line.get(17)? {
        b'n' => XrefEntry::InUse {
            offset: usize::try_from(field).ok()?,
            generation,
        },
        b'f' => XrefEntry::Free {
            next: u32::try_from(field).ok()?,
            generation,
        },
        _ => return None,
    };
    Some((num, entry))
}

fn no_indirect(_: ObjRef) -> Result<i64, PdfError> {
    Err(PdfError::new(PdfErrorKind::BadXref(
        "indirect /Length in cross-reference stream",
    )))
}

fn dict_usize(d: &Dict, key: &[u8], at: usize) -> Result<Option<usize>, PdfError> {
    match d.get(key) {
        None => Ok(None),
        Some(o) => o
            .as_i64()
            .and_then(|v| usize::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| bad("invalid integer in xref stream dictionary", at)),
    }
}

type StreamSection = (BTreeMap<u32, XrefEntry>, Dict, (usize, usize));

/// Cross-reference stream (7.5.8): an indirect stream object with /Type /XRef,
/// /Size, /W, optional /Index; all dictionary values must be direct.
pub(crate) fn parse_stream(
    data: &[u8],
    offset: usize,
    limits: &Limits,
    budget: &Budget,
    entries_left: &mut usize,
) -> Result<StreamSection, PdfError> {
    let mut p = Parser::new(data, offset, limits);
    let (_id, obj, span) = p.parse_indirect(&mut no_indirect)?;
    let Object::Stream(s) = obj else {
        return Err(bad("xref stream is not a stream", offset));
    };
    if !s.dict.is_type(b"XRef") {
        return Err(bad("xref stream without /Type /XRef", offset));
    }
    let raw = data
        .get(s.data_span.0..s.data_span.1)
        .ok_or_else(|| bad("stream data outside file", offset))?;
    let mut direct = |o: &Object| match o {
        Object::Reference(_) => Err(bad("indirect value in xref stream dictionary", offset)),
        other => Ok(other.clone()),
    };
    let decoded =
        filters::decode(raw, &s.dict, &mut direct, limits, budget).map_err(|e| PdfError {
            offset: e.offset.or(Some(offset)),
            ..e
        })?;

    let size = dict_usize(&s.dict, b"Size", offset)?.ok_or_else(|| bad("missing /Size", offset))?;
    let w: Vec<usize> = s
        .dict
        .get(b"W")
        .and_then(Object::as_array)
        .filter(|a| a.len() == 3)
        .ok_or_else(|| bad("invalid /W", offset))?
        .iter()
        .map(|o| {
            o.as_i64()
                .and_then(|v| usize::try_from(v).ok())
                .filter(|v| *v <= 8)
        })
        .collect::<Option<_>>()
        .ok_or_else(|| bad("invalid /W", offset))?;
    let (w0, w1, w2) = match w.as_slice() {
        [a, b, c] => (*a, *b, *c),
        _ => return Err(bad("invalid /W", offset)),
    };
    let entry_len = w0.saturating_add(w1).saturating_add(w2);
    if entry_len == 0 {
        return Err(bad("invalid /W", offset));
    }

    // Subsections: /Index [first count ...], default [0 Size].
    let mut subsections: Vec<(u32, usize)> = Vec::new();
    match s.dict.get(b"Index") {
        None => subsections.push((0, size)),
        Some(Object::Array(items)) => {
            if items.len() % 2 != 0 {
                return Err(bad("odd /Index", offset));
            }
            for pair in items.chunks_exact(2) {
                let (Some(first), Some(count)) = (
                    pair.first().and_then(Object::as_i64),
                    pair.get(1).and_then(Object::as_i64),
                ) else {
                    return Err(bad("invalid /Index", offset));
                };
                let first = u32::try_from(first).map_err(|_| bad("invalid /Index", offset))?;
                let count = usize::try_from(count).map_err(|_| bad("invalid /Index", offset))?;
                subsections.push((first, count));
            }
        }
        Some(_) => return Err(bad("invalid /Index", offset)),
    }
    let total = subsections
        .iter()
        .try_fold(0usize, |acc, (_, c)| acc.checked_add(*c))
        .ok_or_else(|| bad("/Index too large", offset))?;
    if total > *entries_left {
        return Err(PdfError::at(PdfErrorKind::LimitExceeded("objects"), offset));
    }
    let needed = total
        .checked_mul(entry_len)
        .ok_or_else(|| bad("/Index too large", offset))?;
    if needed > decoded.len() {
        return Err(bad("xref stream data shorter than /Index", offset));
    }
    *entries_left = entries_left.saturating_sub(total);

    let mut xref = BTreeMap::new();
    let mut rows = decoded.chunks_exact(entry_len);
    for (first, count) in subsections {
        for i in 0..count {
            let row = rows
                .next()
                .ok_or_else(|| bad("xref stream too short", offset))?;
            let num = u32::try_from(i)
                .ok()
                .and_then(|i| first.checked_add(i))
                .ok_or_else(|| bad("object number overflow", offset))?;
            let (f0, rest) = row.split_at_checked(w0).ok_or_else(|| bad("row", offset))?;
            let (f1, f2) = rest
                .split_at_checked(w1)
                .ok_or_else(|| bad("row", offset))?;
            let ty = if w0 == 0 { 1 } else { be(f0) };
            let (a, b) = (be(f1), be(f2));
            let range = || bad("entry field out of range", offset);
            let entry = match ty {
                0 => XrefEntry::Free {
                    next: u32::try_from(a).map_err(|_| range())?,
                    generation: u16::try_from(b).map_err(|_| range())?,
                },
                1 => XrefEntry::InUse {
                    offset: usize::try_from(a).map_err(|_| range())?,
                    generation: u16::try_from(b).map_err(|_| range())?,
                },
                2 => XrefEntry::Compressed {
                    stream: u32::try_from(a).map_err(|_| range())?,
                    index: u32::try_from(b).map_err(|_| range())?,
                },
                // Unknown types are references to the null object (7.5.8.3).
                _ => continue,
            };
            xref.entry(num).or_insert(entry);
        }
    }
    Ok((xref, s.dict, span))
}

/// Big-endian unsigned integer of at most 8 bytes.
fn be(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |acc, &b| acc.wrapping_shl(8) | u64::from(b))
}
