//! Stream decoding: FlateDecode (ISO 32000-2 7.4.4) and its predictors
//! (7.4.4.4, PNG predictors 10..=15 and TIFF predictor 2 for 8-bit samples).
//!
//! Output is capped per stream by [`Limits::max_decoded_stream`] and per file
//! by [`Limits::max_total_decoded`]; a decoder never produces more than
//! cap + 1 bytes before failing, so a decompression bomb stops at the limit.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Limits;
use super::error::{PdfError, PdfErrorKind};
use super::object::{Dict, Object};

/// Longest filter chain accepted.
const MAX_FILTERS: usize = 8;

/// Running total of decoded bytes for one file.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    used: AtomicUsize,
}

impl Budget {
    pub(crate) fn with_used(used: usize) -> Self {
        Self {
            used: AtomicUsize::new(used),
        }
    }

    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Bytes one decode may still produce, and whether the file budget (rather
    /// than the per-stream limit) is what binds.
    fn cap(&self, limits: &Limits) -> (usize, bool) {
        let remaining = limits.max_total_decoded.saturating_sub(self.used());
        if remaining < limits.max_decoded_stream {
            (remaining, true)
        } else {
            (limits.max_decoded_stream, false)
        }
    }

    fn charge(&self, n: usize) {
        // Saturating add; a lost race only makes the budget stricter.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_add(n))
            });
    }
}

/// Dereferences a value that may be an indirect reference.
pub(crate) type Deref<'r> = dyn FnMut(&Object) -> Result<Object, PdfError> + 'r;

#[derive(Debug, Clone, Copy)]
struct Predictor {
    predictor: i64,
    colors: usize,
    bpc: usize,
    columns: usize,
}

impl Default for Predictor {
    fn default() -> Self {
        Self {
            predictor: 1,
            colors: 1,
            bpc: 8,
            columns: 1,
        }
    }
}

fn bad(msg: &'static str) -> PdfError {
    PdfError::new(PdfErrorKind::DecodeFailed(msg))
}

fn int_param(
    parms: &Dict,
    key: &[u8],
    default: i64,
    deref: &mut Deref<'_>,
) -> Result<i64, PdfError> {
    match parms.get(key) {
        None => Ok(default),
        Some(v) => deref(v)?
            .as_i64()
            .ok_or_else(|| bad("non-integer decode parameter")),
    }
}

fn predictor_params(parms: Option<&Dict>, deref: &mut Deref<'_>) -> Result<Predictor, PdfError> {
    let Some(p) = parms else {
        return Ok(Predictor::default());
    };
    let predictor = int_param(p, b"Predictor", 1, deref)?;
    let colors = int_param(p, b"Colors", 1, deref)?;
    let bpc = int_param(p, b"BitsPerComponent", 8, deref)?;
    let columns = int_param(p, b"Columns", 1, deref)?;
    if !(1..=32).contains(&colors) || ![1, 2, 4, 8, 16].contains(&bpc) || columns < 1 {
        return Err(bad("invalid predictor parameters"));
    }
    Ok(Predictor {
        predictor,
        colors: usize::try_from(colors).map_err(|_| bad("colors"))?,
        bpc: usize::try_from(bpc).map_err(|_| bad("bpc"))?,
        columns: usize::try_from(columns).map_err(|_| bad("columns"))?,
    })
}

/// Resolved filter chain of a stream dictionary: names and parameters.
fn filter_chain(dict: &Dict, deref: &mut Deref<'_>) -> Result<Vec<(Vec<u8>, Predictor)>, PdfError> {
    if dict.get(b"F").is_some() {
        return Err(PdfError::new(PdfErrorKind::UnsupportedFilter(
            b"external file (/F)".to_vec(),
        )));
    }
    let names: Vec<Vec<u8>> = match dict.get(b"Filter").map(&mut *deref).transpose()? {
        None | Some(Object::Null) => Vec::new(),
        Some(Object::Name(n)) => vec![n],
        Some(Object::Array(items)) => {
            if items.len() > MAX_FILTERS {
                return Err(PdfError::new(PdfErrorKind::LimitExceeded("filter chain")));
            }
            let mut v = Vec::with_capacity(items.len());
            for item in &items {
                match deref(item)? {
                    Object::Name(n) => v.push(n),
                    _ => return Err(bad("filter is not a name")),
                }
            }
            v
        }
        Some(_) => return Err(bad("invalid /Filter")),
    };
    let parms: Vec<Option<Dict>> = match dict.get(b"DecodeParms").map(&mut *deref).transpose()? {
        None | Some(Object::Null) => Vec::new(),
        Some(Object::Dictionary(d)) => vec![Some(d)],
        Some(Object::Array(items)) => {
            let mut v = Vec::new();
            for item in items.iter().take(MAX_FILTERS) {
                match deref(item)? {
                    Object::Dictionary(d) => v.push(Some(d)),
                    Object::Null => v.push(None),
                    _ => return Err(bad("invalid /DecodeParms entry")),
                }
            }
            v
        }
        Some(_) => return Err(bad("invalid /DecodeParms")),
    };
    let mut chain = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        if name != b"FlateDecode" && name != b"Fl" {
            return Err(PdfError::new(PdfErrorKind::UnsupportedFilter(name)));
        }
        let p = parms.get(i).and_then(Option::as_ref);
        chain.push((name, predictor_params(p, deref)?));
    }
    Ok(chain)
}

/// Decodes `raw` according to the stream dictionary `dict`, charging `budget`.
pub(crate) fn decode(
    raw: &[u8],
    dict: &Dict,
    deref: &mut Deref<'_>,
    limits: &Limits,
    budget: &Budget,
) -> Result<Vec<u8>, PdfError> {
    let chain = filter_chain(dict, deref)?;
    let (cap, total_binds) = budget.cap(limits);
    let over = || {
        PdfError::new(PdfErrorKind::LimitExceeded(if total_binds {
            "total decoded size"
        } else {
            "decoded stream size"
        }))
    };
    let mut data: Option<Vec<u8>> = None;
    for (_, pred) in &chain {
        let input = data.as_deref().unwrap_or(raw);
        let inflated = inflate(input, cap).map_err(|e| match e {
            InflateError::TooBig => over(),
            InflateError::Corrupt => bad("corrupt flate data"),
        })?;
        data = Some(unpredict(inflated, pred)?);
    }
    let out = match data {
        Some(d) => d,
        None => {
            if raw.len() > cap {
                return Err(over());
            }
            raw.to_vec()
        }
    };
    budget.charge(out.len());
    Ok(out)
}

enum InflateError {
    TooBig,
    Corrupt,
}

/// zlib/deflate decoding (RFC 1950/1951) producing at most `cap` bytes.
fn inflate(input: &[u8], cap: usize) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    let take = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::ZlibDecoder::new(input)
        .take(take)
        .read_to_end(&mut out)
        .map_err(|_| InflateError::Corrupt)?;
    if out.len() > cap {
        return Err(InflateError::TooBig);
    }
    Ok(out)
}

fn unpredict(data: Vec<u8>, p: &Predictor) -> Result<Vec<u8>, PdfError> {
    match p.predictor {
        1 => Ok(data),
        2 => tiff_unpredict(data, p),
        10..=15 => png_unpredict(&data, p),
        _ => Err(bad("unknown predictor")),
    }
}

/// TIFF predictor 2, 8 bits per component only.
fn tiff_unpredict(mut data: Vec<u8>, p: &Predictor) -> Result<Vec<u8>, PdfError> {
    if p.bpc != 8 {
        return Err(PdfError::new(PdfErrorKind::UnsupportedFilter(
            b"TIFF predictor with BitsPerComponent != 8".to_vec(),
        )));
    }
    let row_len = p
        .colors
        .checked_mul(p.columns)
        .ok_or_else(|| bad("predictor row too long"))?;
    for row in data.chunks_mut(row_len.max(1)) {
        for i in p.colors..row.len() {
            let left = i
                .checked_sub(p.colors)
                .and_then(|j| row.get(j))
                .copied()
                .unwrap_or(0);
            if let Some(b) = row.get_mut(i) {
                *b = b.wrapping_add(left);
            }
        }
    }
    Ok(data)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia.wrapping_add(ib).wrapping_sub(ic);
    let (pa, pb, pc) = (p.abs_diff(ia), p.abs_diff(ib), p.abs_diff(ic));
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn average(a: u8, b: u8) -> u8 {
    (a & b).wrapping_add((a ^ b) >> 1)
}

/// PNG predictors (7.4.4.4): each row starts with its filter-type byte.
fn png_unpredict(data: &[u8], p: &Predictor) -> Result<Vec<u8>, PdfError> {
    let too_long = || bad("predictor row too long");
    let bits_per_pixel = p.colors.checked_mul(p.bpc).ok_or_else(too_long)?;
    let bpp = bits_per_pixel.div_ceil(8).max(1);
    let row_len = bits_per_pixel
        .checked_mul(p.columns)
        .ok_or_else(too_long)?
        .div_ceil(8);
    let stride = row_len.checked_add(1).ok_or_else(too_long)?;
    if data.is_empty() {
        return Ok(Vec::new());
    }
    if !data.len().is_multiple_of(stride) {
        return Err(bad("incomplete predictor row"));
    }
    let mut out = Vec::with_capacity(
        data.len()
            .saturating_sub(data.len().checked_div(stride).unwrap_or(0)),
    );
    let mut prev = vec![0u8; row_len];
    let mut cur = vec![0u8; row_len];
    for chunk in data.chunks_exact(stride) {
        let Some((&ft, row)) = chunk.split_first() else {
            return Err(bad("empty predictor row"));
        };
        for (i, &raw) in row.iter().enumerate() {
            let left = i
                .checked_sub(bpp)
                .and_then(|j| cur.get(j))
                .copied()
                .unwrap_or(0);
            let up = prev.get(i).copied().unwrap_or(0);
            let up_left = i
                .checked_sub(bpp)
                .and_then(|j| prev.get(j))
                .copied()
                .unwrap_or(0);
            let v = match ft {
                0 => raw,
                1 => raw.wrapping_add(left),
                2 => raw.wrapping_add(up),
                3 => raw.wrapping_add(average(left, up)),
                4 => raw.wrapping_add(paeth(left, up, up_left)),
                _ => return Err(bad("bad PNG filter type")),
            };
            if let Some(c) = cur.get_mut(i) {
                *c = v;
            }
        }
        out.extend_from_slice(&cur);
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn ident(o: &Object) -> Result<Object, PdfError> {
        Ok(o.clone())
    }

    fn flate_dict(parms: Option<Dict>) -> Dict {
        let mut d = Dict::new().with("Filter", Object::name("FlateDecode"));
        if let Some(p) = parms {
            d.set("DecodeParms", Object::Dictionary(p));
        }
        d
    }

    #[test]
    fn flate_round_trip() {
        let raw = zlib(b"hello hello hello");
        let out = decode(
            &raw,
            &flate_dict(None),
            &mut ident,
            &Limits::default(),
            &Budget::default(),
        )
        .unwrap();
        assert_eq!(out, b"hello hello hello");
    }

    #[test]
    fn png_up_predictor_decodes() {
        // Two rows of 3 columns, Up filter (2) on the second row.
        let encoded = [2u8, 1, 2, 3, 2, 1, 1, 1];
        let parms = Dict::new()
            .with("Predictor", Object::Integer(12))
            .with("Columns", Object::Integer(3));
        let out = decode(
            &zlib(&encoded),
            &flate_dict(Some(parms)),
            &mut ident,
            &Limits::default(),
            &Budget::default(),
        )
        .unwrap();
        assert_eq!(out, vec![1, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn png_paeth_sub_average_decode() {
        let p = Predictor {
            predictor: 15,
            colors: 1,
            bpc: 8,
            columns: 2,
        };
        // Rows: Sub, Average, Paeth.
        let out = png_unpredict(&[1, 5, 1, 3, 2, 4, 4, 1, 1], &p).unwrap();
        assert_eq!(out, vec![5, 6, 4, 9, 5, 10]);
        assert!(png_unpredict(&[1, 5, 1, 3], &p).is_err());
    }

    #[test]
    fn decompression_bomb_stops_at_limit() {
        let bomb = zlib(&vec![0u8; 10 * 1024 * 1024]);
        let limits = Limits {
            max_decoded_stream: 1024 * 1024,
            ..Limits::default()
        };
        let e = decode(
            &bomb,
            &flate_dict(None),
            &mut ident,
            &limits,
            &Budget::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind, PdfErrorKind::LimitExceeded("decoded stream size"));
    }

    #[test]
    fn total_budget_is_enforced() {
        let data = zlib(&[7u8; 1000]);
        let limits = Limits {
            max_total_decoded: 2500,
            ..Limits::default()
        };
        let budget = Budget::default();
        let d = flate_dict(None);
        assert!(decode(&data, &d, &mut ident, &limits, &budget).is_ok());
        assert!(decode(&data, &d, &mut ident, &limits, &budget).is_ok());
        let e = decode(&data, &d, &mut ident, &limits, &budget).unwrap_err();
        assert_eq!(e.kind, PdfErrorKind::LimitExceeded("total decoded size"));
    }

    #[test]
    fn unknown_filters_and_bad_predictors_fail() {
        let d = Dict::new().with("Filter", Object::name("DCTDecode"));
        let e = decode(b"x", &d, &mut ident, &Limits::default(), &Budget::default()).unwrap_err();
        assert_eq!(
            e.kind,
            PdfErrorKind::UnsupportedFilter(b"DCTDecode".to_vec())
        );
        let parms = Dict::new()
            .with("Predictor", Object::Integer(12))
            .with("Columns", Object::Integer(i64::MAX));
        assert!(
            decode(
                &zlib(&[0, 1, 2]),
                &flate_dict(Some(parms)),
                &mut ident,
                &Limits::default(),
                &Budget::default()
            )
            .is_err()
        );
        assert!(
            decode(
                b"not zlib",
                &flate_dict(None),
                &mut ident,
                &Limits::default(),
                &Budget::default()
            )
            .is_err()
        );
    }
}
