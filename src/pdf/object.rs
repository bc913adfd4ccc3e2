//! Object model (ISO 32000-2 7.3).

use std::fmt;

/// An indirect reference `num generation R` (7.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjRef {
    /// Object number.
    pub num: u32,
    /// Generation number.
    pub generation: u16,
}

impl ObjRef {
    /// A reference `num generation R`.
    pub const fn new(num: u32, generation: u16) -> Self {
        Self { num, generation }
    }
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} R", self.num, self.generation)
    }
}

/// A string object (7.3.4), decoded.
///
/// `span` is the half-open byte range of the whole token including its
/// delimiters (`(`..`)` or `<`..`>`). It is a file offset when the object was
/// read from the file, and an offset into the decoded object-stream data for
/// objects stored in an object stream (7.5.7); check
/// [`PdfFile::object_span`](super::PdfFile::object_span) before trusting it.
/// Strings built by hand carry `(0, 0)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfString {
    /// Decoded bytes (escapes resolved, hex decoded).
    pub bytes: Vec<u8>,
    /// Written as a hexadecimal string (7.3.4.3).
    pub hex: bool,
    /// Byte range of the token, delimiters included.
    pub span: (usize, usize),
}

impl PdfString {
    /// A literal string built by hand.
    pub fn literal(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            hex: false,
            span: (0, 0),
        }
    }

    /// A hexadecimal string built by hand.
    pub fn hex(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            hex: true,
            span: (0, 0),
        }
    }
}

/// A dictionary (7.3.7), keeping the order in which keys were written.
///
/// Keys are decoded names without the leading `/`. The parser rejects
/// duplicate keys, so [`Dict::get`] is unambiguous for parsed input.
/// `span` is the byte range of `<<`..`>>` (same convention as
/// [`PdfString::span`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict {
    /// Entries in file order.
    pub entries: Vec<(Vec<u8>, Object)>,
    /// Byte range of the dictionary, delimiters included.
    pub span: (usize, usize),
}

impl Dict {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Value of `key` (name without `/`).
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    /// Sets `key`, replacing an existing value in place or appending.
    pub fn set(&mut self, key: impl Into<Vec<u8>>, value: Object) {
        let key = key.into();
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// Builder-style [`Dict::set`].
    pub fn with(mut self, key: impl Into<Vec<u8>>, value: Object) -> Self {
        self.set(key, value);
        self
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        let pos = self.entries.iter().position(|(k, _)| k.as_slice() == key)?;
        Some(self.entries.remove(pos).1)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `/Type` equals `name`.
    pub fn is_type(&self, name: &[u8]) -> bool {
        self.get(b"Type").and_then(Object::as_name) == Some(name)
    }
}

/// A stream (7.3.8): its dictionary and where its raw (still encoded) bytes
/// are in the file. Decode with [`PdfFile::decoded_stream`](super::PdfFile::decoded_stream).
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Stream dictionary.
    pub dict: Dict,
    /// Half-open range of the raw data, as given by /Length.
    pub data_span: (usize, usize),
}

/// A PDF object (7.3).
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// `null` (7.3.9).
    Null,
    /// `true` / `false` (7.3.2).
    Bool(bool),
    /// Integer (7.3.3).
    Integer(i64),
    /// Real (7.3.3).
    Real(f64),
    /// Name, `#xx` escapes decoded, without `/` (7.3.5).
    Name(Vec<u8>),
    /// String (7.3.4).
    String(PdfString),
    /// Array (7.3.6).
    Array(Vec<Object>),
    /// Dictionary (7.3.7).
    Dictionary(Dict),
    /// Stream (7.3.8); only as the value of an indirect object.
    Stream(Stream),
    /// Indirect reference (7.3.10).
    Reference(ObjRef),
}

impl Object {
    /// A name object from bytes.
    pub fn name(n: impl Into<Vec<u8>>) -> Self {
        Object::Name(n.into())
    }

    /// Integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Object::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// Name bytes.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    /// String value.
    pub fn as_string(&self) -> Option<&PdfString> {
        match self {
            Object::String(s) => Some(s),
            _ => None,
        }
    }

    /// Array items.
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Dictionary, also the dictionary of a stream.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// Stream.
    pub fn as_stream(&self) -> Option<&Stream> {
        match self {
            Object::Stream(s) => Some(s),
            _ => None,
        }
    }

    /// Reference.
    pub fn as_reference(&self) -> Option<ObjRef> {
        match self {
            Object::Reference(r) => Some(*r),
            _ => None,
        }
    }
}
