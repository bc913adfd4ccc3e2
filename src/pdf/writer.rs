//! Serialization (ISO 32000-2 7.3) and incremental updates (7.5.6).

use std::collections::BTreeMap;

use super::error::{PdfError, PdfErrorKind};
use super::lexer::is_regular;
use super::object::{Dict, ObjRef, Object, PdfString};
use super::reader::PdfFile;
use super::xref::XrefKind;

/// Highest object number the writer will use (keeps `/Size` sane).
const MAX_OBJECT_NUMBER: u32 = i32::MAX as u32;

enum Task<'a> {
    Obj(&'a Object),
    Key(&'a [u8]),
    Raw(&'static [u8]),
}

/// Writes `obj` in canonical syntax: single spaces between tokens, names
/// `#xx`-escaped (7.3.5), literal strings with `\\`, `\(`, `\)`, `\r`
/// escaped (7.3.4.2), hex strings in upper case, reals in plain decimal
/// (never an exponent; non-finite values as `0.0`). Deterministic and
/// iterative (no recursion). A [`Object::Stream`] writes its dictionary
/// only: use [`IncrementalUpdate::put_stream`] for stream data.
pub fn serialize_object(obj: &Object, out: &mut Vec<u8>) {
    let mut stack = vec![Task::Obj(obj)];
    while let Some(task) = stack.pop() {
        match task {
            Task::Raw(b) => out.extend_from_slice(b),
            Task::Key(k) => write_name(k, out),
            Task::Obj(o) => match o {
                Object::Null => out.extend_from_slice(b"null"),
                Object::Bool(true) => out.extend_from_slice(b"true"),
                Object::Bool(false) => out.extend_from_slice(b"false"),
                Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
                Object::Real(r) => write_real(*r, out),
                Object::Name(n) => write_name(n, out),
                Object::String(s) => write_string(s, out),
                Object::Reference(r) => {
                    out.extend_from_slice(format!("{} {} R", r.num, r.generation).as_bytes())
                }
                Object::Array(items) => {
                    out.push(b'[');
                    stack.push(Task::Raw(b"]"));
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push(Task::Obj(item));
                        if i > 0 {
                            stack.push(Task::Raw(b" "));
                        }
                    }
                }
                Object::Dictionary(d) => push_dict(d, out, &mut stack),
                Object::Stream(s) => push_dict(&s.dict, out, &mut stack),
            },
        }
    }
}

fn push_dict<'a>(d: &'a Dict, out: &mut Vec<u8>, stack: &mut Vec<Task<'a>>) {
    out.extend_from_slice(b"<<");
    stack.push(Task::Raw(b">>"));
    for (i, (k, v)) in d.entries.iter().enumerate().rev() {
        stack.push(Task::Obj(v));
        stack.push(Task::Raw(b" "));
        stack.push(Task::Key(k));
        if i > 0 {
            stack.push(Task::Raw(b" "));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex(b: u8, out: &mut Vec<u8>) {
    out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
    out.push(HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0'));
}

fn write_name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in n {
        if is_regular(b) && b != b'#' && (0x21..=0x7e).contains(&b) {
            out.push(b);
        } else {
            out.push(b'#');
            push_hex(b, out);
        }
    }
}

fn write_string(s: &PdfString, out: &mut Vec<u8>) {
    if s.hex {
        out.push(b'<');
        for &b in &s.bytes {
            push_hex(b, out);
        }
        out.push(b'>');
    } else {
        out.push(b'(');
        for &b in &s.bytes {
            match b {
                b'\\' | b'(' | b')' => {
                    out.push(b'\\');
                    out.push(b);
                }
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
        out.push(b')');
    }
}

fn write_real(v: f64, out: &mut Vec<u8>) {
    if !v.is_finite() || v == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    // `Display` for f64 never uses exponent notation and round-trips.
    let mut s = v.to_string();
    if !s.contains('.') {
        s.push_str(".0");
    }
    out.extend_from_slice(s.as_bytes());
}

/// Result of [`IncrementalUpdate::finish`].
#[derive(Debug, Clone)]
pub struct UpdateOutput {
    /// Base bytes followed by the update.
    pub bytes: Vec<u8>,
    /// Absolute offset of each written object's `num generation obj` header.
    pub object_offsets: BTreeMap<ObjRef, usize>,
    /// Absolute byte range of each object's body (between the header line and `endobj`).
    pub body_spans: BTreeMap<ObjRef, (usize, usize)>,
    /// Offset of the new cross-reference section (the new `startxref` value).
    pub xref_offset: usize,
}

impl UpdateOutput {
    /// Absolute offset of the first occurrence of `marker` in the body of `r`
    /// (e.g. the `<000…>` /Contents placeholder of a signature dictionary).
    pub fn find_in_object(&self, r: ObjRef, marker: &[u8]) -> Option<usize> {
        let &(start, end) = self.body_spans.get(&r)?;
        let body = self.bytes.get(start..end)?;
        if marker.is_empty() {
            return None;
        }
        body.windows(marker.len())
            .position(|w| w == marker)
            .and_then(|p| start.checked_add(p))
    }
}

/// Builds an incremental update (7.5.6) appended to an existing file.
///
/// The new section is a classic table (7.5.4) when the base's newest section
/// is a table or hybrid, and an uncompressed cross-reference stream (7.5.8,
/// `/W [1 4 2]`) when it is a stream. The trailer gets `/Size`, `/Prev` (the
/// base's last `startxref`) and `/Root`, `/Info`, `/ID` copied from the
/// base's newest trailer.
#[derive(Debug, Clone)]
pub struct IncrementalUpdate {
    base_len: usize,
    prev: usize,
    use_stream: bool,
    root: Object,
    info: Option<Object>,
    id: Option<Object>,
    next: u32,
    exhausted: bool,
    objects: BTreeMap<u32, (u16, Vec<u8>)>,
}

fn werr(msg: &'static str) -> PdfError {
    PdfError::new(PdfErrorKind::Write(msg))
}

impl IncrementalUpdate {
    /// Prepares an update of `base`. The next object number is the largest
    /// `/Size` of any revision (or highest listed object + 1).
    pub fn new(base: &PdfFile) -> Result<Self, PdfError> {
        let last = base
            .revisions()
            .last()
            .ok_or_else(|| werr("base has no revision"))?;
        let root = last
            .trailer
            .get(b"Root")
            .cloned()
            .ok_or_else(|| werr("base trailer has no /Root"))?;
        let mut next: u32 = 1;
        for rev in base.revisions() {
            if let Some(size) = rev.trailer.get(b"Size") {
                let size = size
                    .as_i64()
                    .and_then(|s| u32::try_from(s).ok())
                    .filter(|s| *s <= MAX_OBJECT_NUMBER)
                    .ok_or_else(|| werr("base /Size invalid or too large"))?;
                next = next.max(size);
            }
            if let Some((&num, _)) = rev.xref.last_key_value() {
                let after = num
                    .checked_add(1)
                    .filter(|s| *s <= MAX_OBJECT_NUMBER)
                    .ok_or_else(|| werr("base object number too large"))?;
                next = next.max(after);
            }
        }
        Ok(Self {
            base_len: base.bytes().len(),
            prev: last.xref_offset,
            use_stream: last.kind == XrefKind::Stream,
            root,
            info: last.trailer.get(b"Info").cloned(),
            id: last.trailer.get(b"ID").cloned(),
            next,
            exhausted: false,
            objects: BTreeMap::new(),
        })
    }

    /// The number [`IncrementalUpdate::allocate`] will hand out next.
    pub fn next_object_number(&self) -> u32 {
        self.next
    }

    /// Allocates a fresh object number (generation 0).
    pub fn allocate(&mut self) -> ObjRef {
        let r = ObjRef::new(self.next, 0);
        if self.next >= MAX_OBJECT_NUMBER {
            self.exhausted = true;
        } else {
            self.next = self.next.saturating_add(1);
        }
        r
    }

    fn check_ref(&mut self, r: ObjRef) -> Result<(), PdfError> {
        if r.num == 0 || r.num > MAX_OBJECT_NUMBER {
            return Err(werr("invalid object number"));
        }
        if r.num >= self.next {
            self.next = r.num.saturating_add(1);
        }
        Ok(())
    }

    /// Writes (or replaces) object `r` with a direct object; streams are refused.
    pub fn put(&mut self, r: ObjRef, obj: Object) -> Result<(), PdfError> {
        if matches!(obj, Object::Stream(_)) {
            return Err(werr("use put_stream for streams"));
        }
        let mut body = Vec::new();
        serialize_object(&obj, &mut body);
        self.put_raw(r, body)
    }

    /// Writes object `r` with an already serialized body (what goes between
    /// `num generation obj` and `endobj`), byte for byte.
    pub fn put_raw(&mut self, r: ObjRef, body: Vec<u8>) -> Result<(), PdfError> {
        self.check_ref(r)?;
        self.objects.insert(r.num, (r.generation, body));
        Ok(())
    }

    /// Writes a stream object with `data` as its (already encoded) bytes;
    /// `/Length` is set to `data.len()`.
    pub fn put_stream(&mut self, r: ObjRef, mut dict: Dict, data: &[u8]) -> Result<(), PdfError> {
        let len = i64::try_from(data.len()).map_err(|_| werr("stream too long"))?;
        dict.set("Length", Object::Integer(len));
        let mut body = Vec::with_capacity(data.len().saturating_add(64));
        serialize_object(&Object::Dictionary(dict), &mut body);
        body.extend_from_slice(b"\nstream\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.put_raw(r, body)
    }

    /// Appends the update to `base_bytes` (which must be the bytes the base
    /// was parsed from; they are copied unchanged, plus a `\n` if they do not
    /// end in an EOL).
    pub fn finish(mut self, base_bytes: &[u8]) -> Result<UpdateOutput, PdfError> {
        if base_bytes.len() != self.base_len {
            return Err(werr("base bytes differ from the parsed file"));
        }
        let xref_obj = if self.use_stream {
            Some(self.allocate())
        } else {
            None
        };
        if self.exhausted {
            return Err(werr("object numbers exhausted"));
        }
        let mut out = base_bytes.to_vec();
        if !matches!(out.last(), Some(b'\n' | b'\r')) {
            out.push(b'\n');
        }
        let mut object_offsets = BTreeMap::new();
        let mut body_spans = BTreeMap::new();
        let mut written: Vec<(u32, u16, usize)> =
            Vec::with_capacity(self.objects.len().saturating_add(1));
        for (&num, (generation, body)) in &self.objects {
            let r = ObjRef::new(num, *generation);
            let off = out.len();
            out.extend_from_slice(format!("{num} {generation} obj\n").as_bytes());
            let body_start = out.len();
            out.extend_from_slice(body);
            body_spans.insert(r, (body_start, out.len()));
            out.extend_from_slice(b"\nendobj\n");
            object_offsets.insert(r, off);
            written.push((num, *generation, off));
        }
        let xref_offset = out.len();
        let mut trailer = Dict::new();
        match xref_obj {
            None => {
                write_table(&written, &mut out)?;
                trailer.set("Size", Object::Integer(i64::from(self.next)));
                trailer.set("Prev", Object::Integer(to_i64(self.prev)?));
                self.trailer_entries(&mut trailer);
                out.extend_from_slice(b"trailer\n");
                serialize_object(&Object::Dictionary(trailer), &mut out);
                out.push(b'\n');
            }
            Some(xr) => {
                written.push((xr.num, 0, xref_offset));
                let (index, data) = stream_rows(&written)?;
                trailer.set("Type", Object::name("XRef"));
                trailer.set("Size", Object::Integer(i64::from(self.next)));
                trailer.set(
                    "W",
                    Object::Array(vec![1, 4, 2].into_iter().map(Object::Integer).collect()),
                );
                trailer.set("Index", Object::Array(index));
                trailer.set("Prev", Object::Integer(to_i64(self.prev)?));
                self.trailer_entries(&mut trailer);
                trailer.set("Length", Object::Integer(to_i64(data.len())?));
                out.extend_from_slice(format!("{} 0 obj\n", xr.num).as_bytes());
                serialize_object(&Object::Dictionary(trailer), &mut out);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(&data);
                out.extend_from_slice(b"\nendstream\nendobj\n");
                object_offsets.insert(xr, xref_offset);
            }
        }
        out.extend_from_slice(format!("startxref\n{xref_offset}\n%%EOF\n").as_bytes());
        Ok(UpdateOutput {
            bytes: out,
            object_offsets,
            body_spans,
            xref_offset,
        })
    }

    fn trailer_entries(&self, trailer: &mut Dict) {
        trailer.set("Root", self.root.clone());
        if let Some(info) = &self.info {
            trailer.set("Info", info.clone());
        }
        if let Some(id) = &self.id {
            trailer.set("ID", id.clone());
        }
    }
}

fn to_i64(v: usize) -> Result<i64, PdfError> {
    i64::try_from(v).map_err(|_| werr("offset too large"))
}

/// Runs of consecutive object numbers: (first, entries).
fn runs(written: &[(u32, u16, usize)]) -> Vec<(u32, Vec<(u16, usize)>)> {
    let mut runs: Vec<(u32, Vec<(u16, usize)>)> = Vec::new();
    for &(num, generation, off) in written {
        match runs.last_mut() {
            Some((first, entries))
                if u32::try_from(entries.len())
                    .ok()
                    .and_then(|l| first.checked_add(l))
                    == Some(num) =>
            {
                entries.push((generation, off));
            }
            _ => runs.push((num, vec![(generation, off)])),
        }
    }
    runs
}

/// Classic section (7.5.4): one subsection per run, 20-byte `n` entries.
fn write_table(written: &[(u32, u16, usize)], out: &mut Vec<u8>) -> Result<(), PdfError> {
    out.extend_from_slice(b"xref\n");
    for (first, entries) in runs(written) {
        out.extend_from_slice(format!("{first} {}\n", entries.len()).as_bytes());
        for (generation, off) in entries {
            if off > 9_999_999_999 {
                return Err(werr("offset does not fit an xref entry"));
            }
            out.extend_from_slice(format!("{off:010} {generation:05} n\r\n").as_bytes());
        }
    }
    Ok(())
}

/// Cross-reference stream rows (7.5.8.3) with `/W [1 4 2]`.
fn stream_rows(written: &[(u32, u16, usize)]) -> Result<(Vec<Object>, Vec<u8>), PdfError> {
    let mut index = Vec::new();
    let mut data = Vec::new();
    for (first, entries) in runs(written) {
        index.push(Object::Integer(i64::from(first)));
        index.push(Object::Integer(to_i64(entries.len())?));
        for (generation, off) in entries {
            let off = u32::try_from(off).map_err(|_| werr("offset does not fit /W"))?;
            data.push(1);
            data.extend_from_slice(&off.to_be_bytes());
            data.extend_from_slice(&generation.to_be_bytes());
        }
    }
    Ok((index, data))
}
