//! A small DER reader for structures read element by element (CMS from other signers,
//! RSASSA-PSS parameters): definite, minimal lengths (X.690 §10.1), every size bounded by the
//! input, no ordering required of `SET OF`.

use ::der::{Decode, Header, Reader, SliceReader};

/// Most elements read from one constructed value.
const MAX_ITEMS: usize = 256;

/// Why DER elements could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DerError {
    /// A header is not DER.
    #[error("DER error: {0}")]
    Der(#[from] der::Error),
    /// An element is longer than the input.
    #[error("truncated")]
    Truncated,
    /// Too many elements, or a length that overflows.
    #[error("too large")]
    TooLarge,
}

/// One DER element: its tag byte, its contents and all of its bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    /// The identifier octet (low tag numbers only, as CMS uses).
    pub tag: u8,
    /// The contents octets.
    pub value: &'a [u8],
    /// Identifier, length and contents.
    pub raw: &'a [u8],
}

/// The elements of `value`, in order (at most [`MAX_ITEMS`]).
pub(crate) fn elements(value: &[u8]) -> Result<Vec<Tlv<'_>>, DerError> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        if out.len() >= MAX_ITEMS {
            return Err(DerError::TooLarge);
        }
        let (tlv, after) = one(rest)?;
        out.push(tlv);
        rest = after;
    }
    Ok(out)
}

/// The first element of `bytes` and what follows it.
pub(crate) fn one(bytes: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let mut reader = SliceReader::new(bytes)?;
    let header = Header::decode(&mut reader)?;
    let header_len = usize::try_from(reader.position())?;
    let len = usize::try_from(header.length)?;
    let end = header_len.checked_add(len).ok_or(DerError::TooLarge)?;
    let raw = bytes.get(..end).ok_or(DerError::Truncated)?;
    let value = raw.get(header_len..).ok_or(DerError::Truncated)?;
    let tag = *bytes.first().ok_or(DerError::Truncated)?;
    Ok((
        Tlv { tag, value, raw },
        bytes.get(end..).unwrap_or_default(),
    ))
}
