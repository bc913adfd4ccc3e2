//! Low-level PDF reading and incremental writing (ISO 32000-2).
//!
//! Built for untrusted input: no panics, no unbounded recursion or loops,
//! and every size is bounded by [`Limits`]. Reading covers the object syntax
//! (7.3), classic cross-reference tables (7.5.4), trailers (7.5.5),
//! incremental updates (7.5.6), object streams (7.5.7), cross-reference
//! streams (7.5.8) and FlateDecode with predictors (7.4.4). Writing covers
//! canonical object serialization and incremental updates.
//!
//! ```ignore
//! # fn demo(bytes: &[u8]) -> Result<(), crate::pdf::PdfError> {
//! use crate::pdf::{Limits, PdfFile};
//! let file = PdfFile::parse(bytes, &Limits::default())?;
//! for (i, rev) in file.revisions().iter().enumerate() {
//!     println!("revision {i}: xref at {}, ends at {:?}", rev.xref_offset, rev.end_offset);
//! }
//! # Ok(()) }
//! ```

mod date;
mod error;
mod filters;
mod lexer;
mod object;
mod reader;
mod text;
pub mod walk;
mod writer;
mod xref;

#[cfg(test)]
mod tests;

pub use date::{format_date, format_xmp_date, parse_date};
pub use error::{PdfError, PdfErrorKind};
pub use object::{Dict, ObjRef, Object, PdfString, Stream};
pub use reader::{
    Anomaly, IndirectObject, MAX_RECOVERY_TRIES, PdfFile, Recovery, Revision,
    parse_indirect_object_at,
};
pub use text::{decode_text_string, encode_text_string};
pub use writer::{IncrementalUpdate, UpdateOutput, serialize_object};
pub use xref::{XrefEntry, XrefKind};

/// Resource bounds applied while reading. Exceeding one gives
/// [`PdfErrorKind::LimitExceeded`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_file_size: usize,
    /// Most cross-reference entries, summed over all revisions; also the
    /// largest /N of an object stream.
    pub max_objects: usize,
    /// Deepest nesting of arrays and dictionaries (hard-capped at 256).
    pub max_nesting_depth: usize,
    /// Largest decoded output of one stream.
    pub max_decoded_stream: usize,
    /// Total decoded bytes over the life of one [`PdfFile`] (parsing,
    /// object streams and [`PdfFile::decoded_stream`] calls together).
    pub max_total_decoded: usize,
    /// Most cross-reference sections (original plus updates).
    pub max_revisions: usize,
    /// Longest decoded string.
    pub max_string_len: usize,
    /// Longest decoded name.
    pub max_name_len: usize,
    /// Most items in one array or entries in one dictionary.
    pub max_container_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_size: 64 << 20,
            max_objects: 500_000,
            max_nesting_depth: 64,
            max_decoded_stream: 32 << 20,
            max_total_decoded: 128 << 20,
            max_revisions: 1000,
            max_string_len: 8 << 20,
            max_name_len: 1024,
            max_container_len: 1_000_000,
        }
    }
}
