//! Typed errors of the PDF layer.

use super::object::ObjRef;

/// An error while reading or writing PDF syntax.
///
/// `offset` is the byte offset in the input where the problem was seen, when
/// known. For objects read from an object stream (ISO 32000-2 7.5.7) it is an
/// offset in the decoded stream data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}{}", fmt_offset(*.offset))]
#[non_exhaustive]
pub struct PdfError {
    /// What went wrong.
    pub kind: PdfErrorKind,
    /// Where it went wrong, when known.
    pub offset: Option<usize>,
}

fn fmt_offset(offset: Option<usize>) -> String {
    match offset {
        Some(o) => format!(" at byte {o}"),
        None => String::new(),
    }
}

impl PdfError {
    /// An error at a byte offset.
    pub fn at(kind: PdfErrorKind, offset: usize) -> Self {
        Self {
            kind,
            offset: Some(offset),
        }
    }

    /// An error without a position.
    pub fn new(kind: PdfErrorKind) -> Self {
        Self { kind, offset: None }
    }
}

/// The kind of a [`PdfError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdfErrorKind {
    /// The input ended inside a token or structure.
    #[error("unexpected end of file")]
    UnexpectedEof,
    /// The bytes do not form the expected syntax.
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    /// An integer does not fit the range allowed at this place.
    #[error("integer out of range")]
    IntegerOutOfRange,
    /// A dictionary repeats a key (ambiguous between readers, so rejected).
    #[error("duplicate dictionary key")]
    DuplicateKey,
    /// A configured [`Limits`](super::Limits) value was exceeded.
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    /// No `startxref` near the end of the file (ISO 32000-2 7.5.5).
    #[error("startxref not found")]
    StartXrefNotFound,
    /// A cross-reference section is malformed (7.5.4, 7.5.8).
    #[error("bad cross-reference section: {0}")]
    BadXref(&'static str),
    /// The /Prev chain of trailers loops (7.5.6).
    #[error("cycle in /Prev chain")]
    PrevCycle,
    /// Two cross-reference sections overlap in the file.
    #[error("overlapping cross-reference sections")]
    OverlappingSections,
    /// The object found at an offset is not the one the xref promised.
    #[error("object mismatch: expected {expected}, found {found}")]
    ObjectMismatch {
        /// Reference that was looked up.
        expected: ObjRef,
        /// Header actually found.
        found: ObjRef,
    },
    /// A stream is malformed, e.g. /Length does not land on `endstream` (7.3.8).
    #[error("bad stream: {0}")]
    BadStream(&'static str),
    /// A filter other than FlateDecode (7.4).
    #[error("unsupported filter {}", String::from_utf8_lossy(.0))]
    UnsupportedFilter(Vec<u8>),
    /// Decompression or predictor decoding failed (7.4.4).
    #[error("decode failed: {0}")]
    DecodeFailed(&'static str),
    /// An object stream is malformed (7.5.7).
    #[error("bad object stream: {0}")]
    BadObjectStream(&'static str),
    /// Resolving references looped or went too deep.
    #[error("reference cycle or too many indirections")]
    ReferenceCycle,
    /// A revision index past the last revision.
    #[error("no revision {0}")]
    NoSuchRevision(usize),
    /// The writer was given something it cannot write.
    #[error("write error: {0}")]
    Write(&'static str),
}
