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

/// One DER element: `tag`, the definite minimal length, `content` (X.690 §8.1.3, §10.1).
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len().saturating_add(6));
    out.push(tag);
    let len = content.len();
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    match (
        len < 0x80,
        u8::try_from(len),
        u8::try_from(significant.len()),
    ) {
        (true, Ok(short), _) => out.push(short),
        (_, _, Ok(n)) => {
            out.push(0x80 | n);
            out.extend_from_slice(significant);
        }
        _ => {}
    }
    out.extend_from_slice(content);
    out
}

/// The contents octets of a DER INTEGER holding the unsigned big-endian `bytes` (X.690 §8.3:
/// minimal, a leading zero when the high bit is set).
pub(crate) fn unsigned_integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed = super::util::strip_leading_zeros(bytes);
    match trimmed.first() {
        None => vec![0],
        Some(b) if b & 0x80 != 0 => [&[0u8][..], trimmed].concat(),
        Some(_) => trimmed.to_vec(),
    }
}
