//! File structure and revisions (ISO 32000-2 7.5): the `/Prev` chain of
//! cross-reference sections (7.5.6 incremental updates), object lookup as of
//! a revision, object streams (7.5.7) and stream decoding.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use super::Limits;
use super::error::{PdfError, PdfErrorKind};
use super::filters::{self, Budget};
use super::lexer::Parser;
use super::object::{Dict, ObjRef, Object, Stream};
use super::xref::{self, XrefEntry, XrefKind};

/// How far after a section's end its `%%EOF` is searched for.
const EOF_WINDOW: usize = 4096;

/// Most nested indirections followed while resolving one object
/// (e.g. object → indirect /Length → object stream → its /Length ...).
const MAX_INDIRECTION: usize = 16;

/// One revision: the original file or one incremental update (7.5.6).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Revision {
    /// Offset of this section as given by `startxref` or the next revision's `/Prev`.
    pub xref_offset: usize,
    /// Table, stream or hybrid.
    pub kind: XrefKind,
    /// Entries defined by this section only (for hybrids, table and /XRefStm merged).
    pub xref: BTreeMap<u32, XrefEntry>,
    /// Trailer dictionary (the stream dictionary for xref streams).
    pub trailer: Dict,
    /// The trailer's `/Prev`.
    pub prev: Option<usize>,
    /// Byte range of the section: `xref`..trailer `>>`, or the xref stream object.
    pub section_span: (usize, usize),
    /// Just after this revision's `%%EOF` and at most one EOL (`\r\n`, `\n`
    /// or `\r`); `None` if no `%%EOF` follows the section within 4096 bytes.
    pub end_offset: Option<usize>,
}

impl Revision {
    /// Objects this revision defines (free entries skipped) and where each
    /// lives: a file offset ([`XrefEntry::InUse`]) or an object-stream slot.
    pub fn defined_objects(&self) -> impl Iterator<Item = (ObjRef, XrefEntry)> + '_ {
        self.xref.iter().filter_map(|(&num, &e)| match e {
            XrefEntry::InUse { generation, .. } => Some((ObjRef::new(num, generation), e)),
            XrefEntry::Compressed { .. } => Some((ObjRef::new(num, 0), e)),
            XrefEntry::Free { .. } => None,
        })
    }
}

/// Something odd but not fatal noticed while reading the structure.
/// Revision indices are oldest first, like [`PdfFile::revisions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anomaly {
    /// The section of `revision` starts before the previous revision ends
    /// (e.g. linearized files, or rearranged updates).
    RevisionOutOfOrder {
        /// Revision index.
        revision: usize,
    },
    /// `startxref`/`/Prev` pointed at white space before the section.
    XrefOffsetImprecise {
        /// Revision index.
        revision: usize,
        /// Offset where the section keyword or object really starts.
        actual: usize,
    },
    /// No `%%EOF` within 4096 bytes after the section.
    MissingEof {
        /// Revision index.
        revision: usize,
    },
    /// The `startxref` between the section and its `%%EOF` is missing or does
    /// not equal the offset the section was reached by.
    StartxrefMismatch {
        /// Revision index.
        revision: usize,
        /// Value found, if any.
        found: Option<usize>,
    },
    /// An object number appears twice in one section; the first entry is used.
    DuplicateXrefEntry {
        /// Revision index.
        revision: usize,
        /// Object number.
        num: u32,
    },
}

/// An indirect object parsed from bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct IndirectObject {
    /// `num generation` from the header.
    pub id: ObjRef,
    /// The object (a [`Object::Stream`] for streams).
    pub object: Object,
    /// From the first digit of the header to just after `endobj`.
    pub span: (usize, usize),
}

/// Parses `num generation obj ... endobj` at `offset` (leading white space allowed).
///
/// Without a cross-reference table an indirect `/Length` cannot be resolved,
/// so streams whose `/Length` is a reference are rejected here; use
/// [`PdfFile::resolve`] for those.
pub fn parse_indirect_object_at(
    bytes: &[u8],
    offset: usize,
    limits: &Limits,
) -> Result<IndirectObject, PdfError> {
    let mut p = Parser::new(bytes, offset, limits);
    let mut no_length = |_r: ObjRef| -> Result<i64, PdfError> {
        Err(PdfError::at(
            PdfErrorKind::BadStream("indirect /Length needs a cross-reference table"),
            offset,
        ))
    };
    let (id, object, span) = p.parse_indirect(&mut no_length)?;
    Ok(IndirectObject { id, object, span })
}

/// Most `startxref` keywords [`PdfFile::parse_recovering`] tries, newest first
/// (each try may read a whole chain of sections, so few).
pub const MAX_RECOVERY_TRIES: usize = 4;

/// Why and how [`PdfFile::parse_recovering`] read a file from an earlier `startxref`.
#[derive(Debug)]
pub struct Recovery {
    /// Why the file cannot be read from its last `startxref`.
    pub error: PdfError,
    /// Offset of the `startxref` keyword the file was read from instead.
    pub startxref_at: usize,
}

/// A decoded object stream: its data and the absolute start of each object.
#[derive(Debug)]
struct ObjStm {
    data: Vec<u8>,
    objects: Vec<(u32, usize)>,
}

/// Objects already parsed at a file offset, shared by every revision that points there.
/// Only objects whose parse read no other object (no indirect `/Length`) are kept, so a
/// hit is exactly what parsing again would give; total span bytes are capped at twice the
/// file size.
#[derive(Debug, Default)]
struct ParsedCache {
    by_offset: HashMap<(usize, ObjRef), (Object, (usize, usize))>,
    bytes: usize,
}

#[derive(Debug, Default)]
struct ObjStmCache {
    by_offset: HashMap<(usize, usize), Arc<ObjStm>>,
    bytes: usize,
}

/// A parsed PDF file: its bytes, its revisions and lookup of objects.
///
/// Parsing reads only the cross-reference structure; objects are parsed on
/// demand by [`PdfFile::resolve`]. All work is bounded by [`Limits`]; decoded
/// bytes are charged to one budget per file ([`Limits::max_total_decoded`]).
pub struct PdfFile {
    data: Vec<u8>,
    limits: Limits,
    revisions: Vec<Revision>,
    anomalies: Vec<Anomaly>,
    budget: Budget,
    objstm_cache: Mutex<ObjStmCache>,
    parsed: Mutex<ParsedCache>,
}

impl std::fmt::Debug for PdfFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfFile")
            .field("len", &self.data.len())
            .field("revisions", &self.revisions.len())
            .field("anomalies", &self.anomalies)
            .finish_non_exhaustive()
    }
}

impl PdfFile {
    /// Parses the file structure: finds the last `startxref` (7.5.5), follows
    /// `/Prev` (7.5.6) with cycle detection, and records each revision.
    ///
    /// Sections must not overlap each other; a `/Prev` loop, an offset past
    /// the end, or more than `max_revisions` sections is an error.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<PdfFile, PdfError> {
        if bytes.len() > limits.max_file_size {
            return Err(PdfError::new(PdfErrorKind::LimitExceeded("file size")));
        }
        let first = xref::find_startxref(bytes, limits)?;
        Self::parse_chain(bytes, limits, first)
    }

    /// [`PdfFile::parse`], and when the file cannot be read from its last
    /// `startxref` (a truncated or half-appended revision, objects appended
    /// without a section), the file as of an earlier `startxref`: the newest
    /// of the last [`MAX_RECOVERY_TRIES`] `startxref` keywords whose chain
    /// reads. The bytes after that revision then belong to no revision (see
    /// [`PdfFile::trailing_bytes_after_last_eof`]); the caller must treat
    /// them as such, [`Recovery`] says why.
    ///
    /// # Errors
    /// The error of [`PdfFile::parse`] when no earlier `startxref` reads either.
    pub fn parse_recovering(
        bytes: &[u8],
        limits: &Limits,
    ) -> Result<(PdfFile, Option<Recovery>), PdfError> {
        let error = match Self::parse(bytes, limits) {
            Ok(f) => return Ok((f, None)),
            Err(e) => e,
        };
        if bytes.len() > limits.max_file_size {
            return Err(error);
        }
        let mut before = bytes.len();
        for _ in 0..MAX_RECOVERY_TRIES {
            let Some(at) = bytes
                .get(..before)
                .and_then(|head| xref::rfind(head, b"startxref"))
            else {
                break;
            };
            before = at;
            let mut p = Parser::new(bytes, at.saturating_add(b"startxref".len()), limits);
            p.skip_ws_comments();
            let Some(offset) = p
                .parse_unsigned(u64::MAX)
                .ok()
                .and_then(|v| usize::try_from(v).ok())
            else {
                continue;
            };
            if let Ok(file) = Self::parse_chain(bytes, limits, offset) {
                return Ok((
                    file,
                    Some(Recovery {
                        error,
                        startxref_at: at,
                    }),
                ));
            }
        }
        Err(error)
    }

    fn parse_chain(bytes: &[u8], limits: &Limits, first: usize) -> Result<PdfFile, PdfError> {
        let budget = Budget::default();
        let mut chain: Vec<(usize, xref::Section)> = Vec::new();
        let mut visited = BTreeSet::new();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let mut entries_left = limits.max_objects;
        let mut next = Some(first);
        while let Some(off) = next {
            if !visited.insert(off) {
                return Err(PdfError::at(PdfErrorKind::PrevCycle, off));
            }
            if chain.len() >= limits.max_revisions {
                return Err(PdfError::at(PdfErrorKind::LimitExceeded("revisions"), off));
            }
            let sec = xref::parse_section(bytes, off, limits, &budget, &mut entries_left)?;
            for r in &sec.ranges {
                if ranges.iter().any(|q| r.0 < q.1 && q.0 < r.1) {
                    return Err(PdfError::at(PdfErrorKind::OverlappingSections, r.0));
                }
            }
            ranges.extend_from_slice(&sec.ranges);
            next = match sec.trailer.get(b"Prev") {
                None => None,
                Some(v) => Some(
                    v.as_i64()
                        .and_then(|v| usize::try_from(v).ok())
                        .ok_or_else(|| {
                            PdfError::at(PdfErrorKind::BadXref("invalid /Prev"), sec.end)
                        })?,
                ),
            };
            chain.push((off, sec));
        }
        chain.reverse();

        let mut anomalies = Vec::new();
        let mut revisions: Vec<Revision> = Vec::with_capacity(chain.len());
        for (i, (declared, sec)) in chain.into_iter().enumerate() {
            if sec.start != declared {
                anomalies.push(Anomaly::XrefOffsetImprecise {
                    revision: i,
                    actual: sec.start,
                });
            }
            for num in &sec.duplicates {
                anomalies.push(Anomaly::DuplicateXrefEntry {
                    revision: i,
                    num: *num,
                });
            }
            let (end_offset, startxref) = find_eof(bytes, sec.end, limits);
            if end_offset.is_none() {
                anomalies.push(Anomaly::MissingEof { revision: i });
            }
            if startxref != Some(declared) {
                anomalies.push(Anomaly::StartxrefMismatch {
                    revision: i,
                    found: startxref,
                });
            }
            if let Some(prev_rev) = revisions.last() {
                let prev_end = prev_rev.end_offset.unwrap_or(prev_rev.section_span.1);
                if sec.start < prev_end {
                    anomalies.push(Anomaly::RevisionOutOfOrder { revision: i });
                }
            }
            let prev = sec
                .trailer
                .get(b"Prev")
                .and_then(Object::as_i64)
                .and_then(|v| usize::try_from(v).ok());
            revisions.push(Revision {
                xref_offset: declared,
                kind: sec.kind,
                xref: sec.xref,
                trailer: sec.trailer,
                prev,
                section_span: (sec.start, sec.end),
                end_offset,
            });
        }
        Ok(PdfFile {
            data: bytes.to_vec(),
            limits: limits.clone(),
            revisions,
            anomalies,
            budget: Budget::with_used(budget.used()),
            objstm_cache: Mutex::new(ObjStmCache::default()),
            parsed: Mutex::new(ParsedCache::default()),
        })
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Limits this file was parsed with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Revisions, oldest first (never empty).
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Index of the newest revision.
    pub fn last_revision(&self) -> usize {
        self.revisions.len().saturating_sub(1)
    }

    /// Trailer of the newest revision.
    pub fn trailer(&self) -> Option<&Dict> {
        self.revisions.last().map(|r| &r.trailer)
    }

    /// Structural oddities found while parsing.
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }

    /// Bytes after the newest revision's `end_offset`; `None` if it has no `%%EOF`.
    pub fn trailing_bytes_after_last_eof(&self) -> Option<usize> {
        let end = self.revisions.last()?.end_offset?;
        self.data.len().checked_sub(end)
    }

    fn check_rev(&self, rev: usize) -> Result<(), PdfError> {
        if rev < self.revisions.len() {
            Ok(())
        } else {
            Err(PdfError::new(PdfErrorKind::NoSuchRevision(rev)))
        }
    }

    /// The entry for object `num` visible in revision `as_of_revision` (the
    /// newest section at or before it that lists `num`), with that section's index.
    pub fn xref_entry(&self, num: u32, as_of_revision: usize) -> Option<(usize, XrefEntry)> {
        let upto = self.revisions.get(..=as_of_revision)?;
        upto.iter()
            .enumerate()
            .rev()
            .find_map(|(i, r)| r.xref.get(&num).map(|e| (i, *e)))
    }

    /// The object `r` as visible in revision `as_of_revision` (7.5.6: newer
    /// sections override older ones). Free, missing or generation-mismatched
    /// entries give [`Object::Null`] (7.3.10). References inside the result
    /// are left unresolved.
    pub fn resolve(&self, r: ObjRef, as_of_revision: usize) -> Result<Object, PdfError> {
        self.check_rev(as_of_revision)?;
        let mut stack = Vec::new();
        self.resolve_inner(r, as_of_revision, &mut stack)
    }

    /// [`PdfFile::resolve`] as of the newest revision.
    pub fn resolve_current(&self, r: ObjRef) -> Result<Object, PdfError> {
        self.resolve(r, self.last_revision())
    }

    /// Byte range `num generation obj ... endobj` of `r` as of a revision, when it is
    /// stored uncompressed and parses correctly.
    pub fn object_span(&self, r: ObjRef, as_of_revision: usize) -> Option<(usize, usize)> {
        match self.xref_entry(r.num, as_of_revision)? {
            (_, XrefEntry::InUse { offset, generation }) if generation == r.generation => {
                let mut stack = vec![r];
                self.parse_at(r, offset, as_of_revision, &mut stack)
                    .ok()
                    .map(|(_, span)| span)
            }
            _ => None,
        }
    }

    /// Decoded data of a stream: no filter or FlateDecode (with predictors).
    /// Indirect /Filter or /DecodeParms values are resolved as of the newest
    /// revision. Output is capped by the limits; other filters give
    /// [`PdfErrorKind::UnsupportedFilter`].
    pub fn decoded_stream(&self, s: &Stream) -> Result<Vec<u8>, PdfError> {
        let last = self.last_revision();
        let mut stack = Vec::new();
        self.decode_at(s, last, &mut stack)
    }

    fn decode_at(
        &self,
        s: &Stream,
        rev: usize,
        stack: &mut Vec<ObjRef>,
    ) -> Result<Vec<u8>, PdfError> {
        let raw = self
            .data
            .get(s.data_span.0..s.data_span.1)
            .ok_or_else(|| PdfError::new(PdfErrorKind::BadStream("data outside file")))?;
        let mut deref = |o: &Object| match o {
            Object::Reference(r) => self.resolve_inner(*r, rev, stack),
            other => Ok(other.clone()),
        };
        filters::decode(raw, &s.dict, &mut deref, &self.limits, &self.budget)
    }

    fn resolve_inner(
        &self,
        r: ObjRef,
        rev: usize,
        stack: &mut Vec<ObjRef>,
    ) -> Result<Object, PdfError> {
        if stack.contains(&r) || stack.len() >= MAX_INDIRECTION {
            return Err(PdfError::new(PdfErrorKind::ReferenceCycle));
        }
        stack.push(r);
        let res = self.resolve_entry(r, rev, stack);
        stack.pop();
        res
    }

    fn resolve_entry(
        &self,
        r: ObjRef,
        rev: usize,
        stack: &mut Vec<ObjRef>,
    ) -> Result<Object, PdfError> {
        match self.xref_entry(r.num, rev) {
            None | Some((_, XrefEntry::Free { .. })) => Ok(Object::Null),
            Some((_, XrefEntry::InUse { offset, generation })) => {
                if generation != r.generation {
                    return Ok(Object::Null);
                }
                Ok(self.parse_at(r, offset, rev, stack)?.0)
            }
            Some((_, XrefEntry::Compressed { stream, index })) => {
                if r.generation != 0 {
                    return Ok(Object::Null);
                }
                self.compressed(r, stream, index, rev, stack)
            }
        }
    }

    /// Parses the indirect object at `offset` and checks its header is `r`.
    fn parse_at(
        &self,
        r: ObjRef,
        offset: usize,
        rev: usize,
        stack: &mut Vec<ObjRef>,
    ) -> Result<(Object, (usize, usize)), PdfError> {
        if let Ok(cache) = self.parsed.lock()
            && let Some(hit) = cache.by_offset.get(&(offset, r))
        {
            return Ok(hit.clone());
        }
        let mut p = Parser::new(&self.data, offset, &self.limits);
        let mut read_other = false;
        let mut length = |lr: ObjRef| -> Result<i64, PdfError> {
            read_other = true;
            self.resolve_inner(lr, rev, stack)?.as_i64().ok_or_else(|| {
                PdfError::at(
                    PdfErrorKind::BadStream("indirect /Length is not an integer"),
                    offset,
                )
            })
        };
        let (id, obj, span) = p.parse_indirect(&mut length)?;
        if id != r {
            return Err(PdfError::at(
                PdfErrorKind::ObjectMismatch {
                    expected: r,
                    found: id,
                },
                offset,
            ));
        }
        if !read_other && let Ok(mut cache) = self.parsed.lock() {
            let len = span.1.saturating_sub(span.0);
            let cap = self.data.len().saturating_mul(2);
            if cache.bytes.saturating_add(len) <= cap {
                cache.bytes = cache.bytes.saturating_add(len);
                cache.by_offset.insert((offset, r), (obj.clone(), span));
            }
        }
        Ok((obj, span))
    }

    /// Object `r` stored at `index` of object stream `stream` (7.5.7).
    fn compressed(
        &self,
        r: ObjRef,
        stream: u32,
        index: u32,
        rev: usize,
        stack: &mut Vec<ObjRef>,
    ) -> Result<Object, PdfError> {
        let bad = |m| PdfError::new(PdfErrorKind::BadObjectStream(m));
        let sref = ObjRef::new(stream, 0);
        let offset = match self.xref_entry(stream, rev) {
            Some((
                _,
                XrefEntry::InUse {
                    offset,
                    generation: 0,
                },
            )) => offset,
            _ => return Err(bad("container is not an uncompressed object")),
        };
        if stack.contains(&sref) || stack.len() >= MAX_INDIRECTION {
            return Err(PdfError::new(PdfErrorKind::ReferenceCycle));
        }
        stack.push(sref);
        let objstm = self.object_stream(sref, offset, rev, stack);
        stack.pop();
        let objstm = objstm?;
        let idx = usize::try_from(index).map_err(|_| bad("index out of range"))?;
        let &(num, start) = objstm
            .objects
            .get(idx)
            .ok_or_else(|| bad("index out of range"))?;
        if num != r.num {
            return Err(bad("object number does not match index"));
        }
        let mut p = Parser::new(&objstm.data, start, &self.limits);
        p.parse_object()
    }

    fn object_stream(
        &self,
        sref: ObjRef,
        offset: usize,
        rev: usize,
        stack: &mut Vec<ObjRef>,
    ) -> Result<Arc<ObjStm>, PdfError> {
        if let Ok(cache) = self.objstm_cache.lock()
            && let Some(hit) = cache.by_offset.get(&(offset, rev))
        {
            return Ok(Arc::clone(hit));
        }
        let bad = |m| PdfError::at(PdfErrorKind::BadObjectStream(m), offset);
        let (obj, _) = self.parse_at(sref, offset, rev, stack)?;
        let Object::Stream(s) = obj else {
            return Err(bad("container is not a stream"));
        };
        if !s.dict.is_type(b"ObjStm") {
            return Err(bad("container is not /Type /ObjStm"));
        }
        let int = |k: &[u8]| {
            s.dict
                .get(k)
                .and_then(Object::as_i64)
                .and_then(|v| usize::try_from(v).ok())
        };
        let n = int(b"N").ok_or_else(|| bad("invalid /N"))?;
        let first = int(b"First").ok_or_else(|| bad("invalid /First"))?;
        let data = self.decode_at(&s, rev, stack)?;
        if first > data.len() || n > self.limits.max_objects || n > data.len() {
            return Err(bad("/N or /First out of range"));
        }
        let mut objects = Vec::with_capacity(n);
        let mut p = Parser::new(&data, 0, &self.limits);
        for _ in 0..n {
            p.skip_ws_comments();
            let num = p.parse_unsigned(u64::from(u32::MAX))?;
            p.skip_ws_comments();
            let off = p.parse_unsigned(u64::MAX)?;
            let start = usize::try_from(off)
                .ok()
                .and_then(|o| o.checked_add(first))
                .filter(|s| *s <= data.len())
                .ok_or_else(|| bad("object offset out of range"))?;
            let num = u32::try_from(num).map_err(|_| bad("object number out of range"))?;
            objects.push((num, start));
        }
        let stm = Arc::new(ObjStm { data, objects });
        if let Ok(mut cache) = self.objstm_cache.lock() {
            let cap = self.limits.max_decoded_stream;
            if cache.bytes.saturating_add(stm.data.len()) > cap {
                cache.by_offset.clear();
                cache.bytes = 0;
            }
            cache.bytes = cache.bytes.saturating_add(stm.data.len());
            cache.by_offset.insert((offset, rev), Arc::clone(&stm));
        }
        Ok(stm)
    }
}

/// First `%%EOF` within [`EOF_WINDOW`] bytes after `from`, plus one optional
/// EOL, and the value of a `startxref` found before it.
fn find_eof(data: &[u8], from: usize, limits: &Limits) -> (Option<usize>, Option<usize>) {
    let to = from.saturating_add(EOF_WINDOW).min(data.len());
    let window = data.get(from..to).unwrap_or(&[]);
    let Some(rel) = xref::find(window, b"%%EOF") else {
        return (None, None);
    };
    let eof_at = from.saturating_add(rel);
    let startxref = window
        .get(..rel)
        .and_then(|w| xref::rfind(w, b"startxref"))
        .and_then(|sx| {
            let at = from.saturating_add(sx).saturating_add(b"startxref".len());
            let mut p = Parser::new(data, at, limits);
            p.skip_ws_comments();
            p.parse_unsigned(u64::MAX).ok()
        })
        .and_then(|v| usize::try_from(v).ok());
    let mut end = eof_at.saturating_add(b"%%EOF".len());
    match (data.get(end), data.get(end.saturating_add(1))) {
        (Some(b'\r'), Some(b'\n')) => end = end.saturating_add(2),
        (Some(b'\r'), _) | (Some(b'\n'), _) => end = end.saturating_add(1),
        _ => {}
    }
    (Some(end), startxref)
}
