//! Small helpers: PDF text strings and names, and object comparison that
//! ignores where things are stored.

use std::collections::BTreeMap;

use crate::pdf::{Object, PdfFile};

pub(crate) use crate::pdf::walk::{Budget, MAX_WORK};

/// Deepest nesting compared by [`same`].
const MAX_COMPARE_DEPTH: usize = 64;

/// A PDF text string (ISO 32000-2 7.9.2.2), decoded.
pub(crate) fn text_string(bytes: &[u8]) -> String {
    crate::pdf::decode_text_string(bytes)
}

/// A name for messages: `/Name`, non-printable bytes `#xx`-escaped.
pub(crate) fn show_name(name: &[u8]) -> String {
    let mut s = String::from("/");
    for &b in name {
        if b.is_ascii_graphic() && b != b'#' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("#{b:02x}"));
        }
    }
    s
}

/// Names of a list of keys, for messages: `/Rect, /F`.
pub(crate) fn show_keys(keys: &[Vec<u8>]) -> String {
    keys.iter()
        .map(|k| show_name(k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A short description of an object's type for messages, e.g.
/// `/Type /Annot /Subtype /Link`, `stream`, `array`.
pub(crate) fn type_hint(obj: &Object) -> String {
    match obj {
        Object::Dictionary(_) | Object::Stream(_) => {
            let d = obj.as_dict();
            let mut parts = Vec::new();
            for key in [&b"Type"[..], b"Subtype", b"FT"] {
                if let Some(n) = d.and_then(|d| d.get(key)).and_then(Object::as_name) {
                    parts.push(format!("{} {}", show_name(key), show_name(n)));
                }
            }
            let base = if matches!(obj, Object::Stream(_)) {
                "stream"
            } else {
                "dictionary"
            };
            if parts.is_empty() {
                base.to_owned()
            } else {
                format!("{base} {}", parts.join(" "))
            }
        }
        Object::Array(_) => "array".to_owned(),
        Object::Null => "null".to_owned(),
        _ => "value".to_owned(),
    }
}

/// Whether two objects mean the same thing, ignoring where they are stored:
/// dictionaries compare by keys regardless of order, strings by their bytes
/// (hex or literal alike), streams by dictionary and raw data. Too deep
/// nesting compares unequal (deny by default).
pub(crate) fn same(file: &PdfFile, a: &Object, b: &Object) -> bool {
    same_at(file, a, b, 0)
}

fn same_at(file: &PdfFile, a: &Object, b: &Object, depth: usize) -> bool {
    if depth > MAX_COMPARE_DEPTH {
        return false;
    }
    let next = depth.saturating_add(1);
    match (a, b) {
        (Object::Null, Object::Null) => true,
        (Object::Bool(x), Object::Bool(y)) => x == y,
        (Object::Integer(x), Object::Integer(y)) => x == y,
        (Object::Real(x), Object::Real(y)) => x.to_bits() == y.to_bits(),
        (Object::Name(x), Object::Name(y)) => x == y,
        (Object::String(x), Object::String(y)) => x.bytes == y.bytes,
        (Object::Reference(x), Object::Reference(y)) => x == y,
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| same_at(file, p, q, next))
        }
        (Object::Dictionary(x), Object::Dictionary(y)) => same_dict(file, x, y, next),
        (Object::Stream(x), Object::Stream(y)) => {
            let raw = |s: &crate::pdf::Stream| file.bytes().get(s.data_span.0..s.data_span.1);
            same_dict(file, &x.dict, &y.dict, next)
                && matches!((raw(x), raw(y)), (Some(p), Some(q)) if p == q)
        }
        _ => false,
    }
}

fn same_dict(file: &PdfFile, x: &crate::pdf::Dict, y: &crate::pdf::Dict, depth: usize) -> bool {
    if x.len() != y.len() {
        return false;
    }
    let index = key_index(y);
    x.entries.iter().all(|(k, v)| {
        index
            .get(k.as_slice())
            .is_some_and(|w| same_at(file, v, w, depth))
    })
}

/// A dictionary's entries by key (parsed dictionaries have unique keys).
pub(crate) fn key_index(d: &crate::pdf::Dict) -> BTreeMap<&[u8], &Object> {
    d.entries.iter().map(|(k, v)| (k.as_slice(), v)).collect()
}

/// Optional values compared with [`same`]; both absent counts as the same.
pub(crate) fn same_opt(file: &PdfFile, a: Option<&Object>, b: Option<&Object>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => same(file, x, y),
        _ => false,
    }
}
