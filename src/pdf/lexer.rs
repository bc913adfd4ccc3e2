//! Tokenizer and object parser (ISO 32000-2 7.2 lexical conventions, 7.3 objects).
//!
//! The parser works on a byte slice with absolute positions, so every span
//! it records is an offset into that slice. Nesting is bounded by
//! [`Limits::max_nesting_depth`] (clamped to [`HARD_MAX_DEPTH`]); every loop
//! consumes input, so work is linear in the bytes read.

use std::collections::BTreeSet;

use super::Limits;
use super::error::{PdfError, PdfErrorKind};
use super::object::{Dict, ObjRef, Object, PdfString, Stream};

/// Absolute cap on nesting depth, whatever the limits say (keeps the stack safe).
pub const HARD_MAX_DEPTH: usize = 256;

/// Longest numeric token accepted.
const MAX_NUMBER_LEN: usize = 256;

/// Resolves an indirect `/Length` (7.3.8.2) to its integer value.
pub(crate) type LengthResolver<'r> = dyn FnMut(ObjRef) -> Result<i64, PdfError> + 'r;

/// White-space characters (7.2.3, Table 1).
pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

/// Delimiter characters (7.2.3, Table 2).
pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// Regular characters: neither white space nor delimiter.
pub(crate) fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// Value of a hex digit, or 0xff.
const fn hex_digit(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b.wrapping_sub(b'0'),
        b'a'..=b'f' => b.wrapping_sub(b'a' - 10),
        b'A'..=b'F' => b.wrapping_sub(b'A' - 10),
        _ => 0xff,
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(b.wrapping_sub(b'a' - 10)),
        b'A'..=b'F' => Some(b.wrapping_sub(b'A' - 10)),
        _ => None,
    }
}

/// A cursor over PDF bytes.
pub(crate) struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    limits: &'a Limits,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize, limits: &'a Limits) -> Self {
        Self {
            data,
            pos: pos.min(data.len()),
            limits,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.data.get(self.pos.checked_add(k)?).copied()
    }

    fn bump(&mut self) {
        self.advance(1);
    }

    fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.data.len());
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    pub(crate) fn err(&self, kind: PdfErrorKind) -> PdfError {
        PdfError::at(kind, self.pos)
    }

    fn eof_or(&self, kind: PdfErrorKind) -> PdfError {
        if self.pos >= self.data.len() {
            self.err(PdfErrorKind::UnexpectedEof)
        } else {
            self.err(kind)
        }
    }

    /// Skips white space only.
    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_whitespace) {
            self.bump();
        }
    }

    /// Skips white space and comments (7.2.4).
    pub(crate) fn skip_ws_comments(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.bump();
            } else if b == b'%' {
                while self.peek().is_some_and(|c| c != b'\r' && c != b'\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    /// Whether the input at the cursor is keyword `kw` followed by a non-regular byte.
    pub(crate) fn at_keyword(&self, kw: &[u8]) -> bool {
        let rest = self.rest();
        rest.starts_with(kw) && rest.get(kw.len()).is_none_or(|&b| !is_regular(b))
    }

    /// Consumes keyword `kw` if present.
    pub(crate) fn eat_keyword(&mut self, kw: &[u8]) -> bool {
        if self.at_keyword(kw) {
            self.advance(kw.len());
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_keyword(&mut self, kw: &[u8], what: &'static str) -> Result<(), PdfError> {
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(self.eof_or(PdfErrorKind::Syntax(what)))
        }
    }

    /// An unsigned decimal token (digits only) not above `max`.
    pub(crate) fn parse_unsigned(&mut self, max: u64) -> Result<u64, PdfError> {
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b.wrapping_sub(b'0'))))
                .filter(|v| *v <= max)
                .ok_or_else(|| PdfError::at(PdfErrorKind::IntegerOutOfRange, start))?;
            self.bump();
        }
        if self.pos == start {
            return Err(self.eof_or(PdfErrorKind::Syntax("expected unsigned integer")));
        }
        if self.peek().is_some_and(is_regular) {
            return Err(self.err(PdfErrorKind::Syntax("malformed integer")));
        }
        Ok(value)
    }

    /// Parses one direct object (no streams).
    pub(crate) fn parse_object(&mut self) -> Result<Object, PdfError> {
        self.parse_object_depth(0)
    }

    fn parse_object_depth(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > self.limits.max_nesting_depth.min(HARD_MAX_DEPTH) {
            return Err(self.err(PdfErrorKind::LimitExceeded("nesting depth")));
        }
        self.skip_ws_comments();
        let b = self
            .peek()
            .ok_or_else(|| self.err(PdfErrorKind::UnexpectedEof))?;
        match b {
            b'/' => Ok(Object::Name(self.parse_name()?)),
            b'(' => Ok(Object::String(self.parse_literal_string()?)),
            b'<' if self.peek_at(1) == Some(b'<') => {
                Ok(Object::Dictionary(self.parse_dict_depth(depth)?))
            }
            b'<' => Ok(Object::String(self.parse_hex_string()?)),
            b'[' => self.parse_array(depth),
            b'0'..=b'9' | b'+' | b'-' | b'.' => self.parse_number_or_ref(),
            _ => {
                if self.eat_keyword(b"true") {
                    Ok(Object::Bool(true))
                } else if self.eat_keyword(b"false") {
                    Ok(Object::Bool(false))
                } else if self.eat_keyword(b"null") {
                    Ok(Object::Null)
                } else {
                    Err(self.err(PdfErrorKind::Syntax("unexpected token")))
                }
            }
        }
    }

    /// Number (7.3.3); a non-negative integer followed by `generation R` is a reference.
    fn parse_number_or_ref(&mut self) -> Result<Object, PdfError> {
        let start = self.pos;
        let num = self.parse_number()?;
        if let Object::Integer(n) = num
            && let Ok(n) = u32::try_from(n)
        {
            let digits_only = self.data.get(start).is_some_and(|b| b.is_ascii_digit());
            if digits_only {
                let save = self.pos;
                if let Some(r) = self.try_ref_tail(n) {
                    return Ok(Object::Reference(r));
                }
                self.pos = save;
            }
        }
        Ok(num)
    }

    fn try_ref_tail(&mut self, num: u32) -> Option<ObjRef> {
        self.skip_ws_comments();
        if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return None;
        }
        let generation = self.parse_unsigned(u64::from(u16::MAX)).ok()?;
        self.skip_ws_comments();
        if self.eat_keyword(b"R") {
            Some(ObjRef::new(num, u16::try_from(generation).ok()?))
        } else {
            None
        }
    }

    fn parse_number(&mut self) -> Result<Object, PdfError> {
        let start = self.pos;
        let mut negative = false;
        if let Some(s @ (b'+' | b'-')) = self.peek() {
            negative = s == b'-';
            self.bump();
        }
        let mut int: i64 = 0;
        let mut overflow = false;
        let mut digits = 0usize;
        let mut dot = false;
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' => {
                    digits = digits.saturating_add(1);
                    if !dot {
                        let d = i64::from(b.wrapping_sub(b'0'));
                        let next = int.checked_mul(10).and_then(|v| {
                            if negative {
                                v.checked_sub(d)
                            } else {
                                v.checked_add(d)
                            }
                        });
                        match next {
                            Some(v) => int = v,
                            None => overflow = true,
                        }
                    }
                }
                b'.' if !dot => dot = true,
                _ => break,
            }
            self.bump();
            if self.pos.saturating_sub(start) > MAX_NUMBER_LEN {
                return Err(PdfError::at(
                    PdfErrorKind::LimitExceeded("number length"),
                    start,
                ));
            }
        }
        if digits == 0 || self.peek().is_some_and(is_regular) {
            return Err(PdfError::at(
                PdfErrorKind::Syntax("malformed number"),
                start,
            ));
        }
        if !dot {
            if overflow {
                return Err(PdfError::at(PdfErrorKind::IntegerOutOfRange, start));
            }
            return Ok(Object::Integer(int));
        }
        let text = self
            .data
            .get(start..self.pos)
            .and_then(|t| std::str::from_utf8(t).ok())
            .ok_or_else(|| PdfError::at(PdfErrorKind::Syntax("malformed number"), start))?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Object::Real(v)),
            _ => Err(PdfError::at(PdfErrorKind::Syntax("malformed real"), start)),
        }
    }

    /// Name (7.3.5): `/` then regular characters, `#xx` decoded.
    fn parse_name(&mut self) -> Result<Vec<u8>, PdfError> {
        let start = self.pos;
        self.advance(1);
        let mut out = Vec::new();
        while let Some(b) = self.peek().filter(|b| is_regular(*b)) {
            if b == b'#' {
                let hi = self.peek_at(1).and_then(hex_val);
                let lo = self.peek_at(2).and_then(hex_val);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    self.advance(3);
                    continue;
                }
            }
            out.push(b);
            self.bump();
            if out.len() > self.limits.max_name_len {
                return Err(PdfError::at(
                    PdfErrorKind::LimitExceeded("name length"),
                    start,
                ));
            }
        }
        Ok(out)
    }

    fn check_string_len(&self, len: usize, start: usize) -> Result<(), PdfError> {
        if len > self.limits.max_string_len {
            Err(PdfError::at(
                PdfErrorKind::LimitExceeded("string length"),
                start,
            ))
        } else {
            Ok(())
        }
    }

    /// Literal string (7.3.4.2): balanced parentheses, escapes, EOL normalisation.
    fn parse_literal_string(&mut self) -> Result<PdfString, PdfError> {
        let start = self.pos;
        self.advance(1);
        let mut out = Vec::new();
        let mut depth: usize = 1;
        loop {
            let b = self
                .peek()
                .ok_or_else(|| self.err(PdfErrorKind::UnexpectedEof))?;
            self.bump();
            match b {
                b'(' => {
                    depth = depth.saturating_add(1);
                    out.push(b);
                }
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => self.parse_escape(&mut out)?,
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.bump();
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
            self.check_string_len(out.len(), start)?;
        }
        Ok(PdfString {
            bytes: out,
            hex: false,
            span: (start, self.pos),
        })
    }

    fn parse_escape(&mut self, out: &mut Vec<u8>) -> Result<(), PdfError> {
        let e = self
            .peek()
            .ok_or_else(|| self.err(PdfErrorKind::UnexpectedEof))?;
        self.bump();
        match e {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'0'..=b'7' => {
                let mut v = u32::from(e.wrapping_sub(b'0'));
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = (v << 3) | u32::from(d.wrapping_sub(b'0'));
                            self.bump();
                        }
                        _ => break,
                    }
                }
                // High-order overflow is ignored (7.3.4.2).
                out.push((v & 0xff) as u8);
            }
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.bump();
                }
            }
            b'\n' => {}
            // `\(`, `\)`, `\\`, and unknown escapes: the backslash is dropped.
            other => out.push(other),
        }
        Ok(())
    }

    /// Hexadecimal string (7.3.4.3): white space ignored, odd length padded with 0.
    fn parse_hex_string(&mut self) -> Result<PdfString, PdfError> {
        let start = self.pos;
        self.advance(1);
        // One pass over the bytes (signature /Contents run to tens of kilobytes and are read
        // by every pass of the verifier); same errors at the same offsets as byte-by-byte.
        let rest = self.rest();
        // Fast path: an even run of hex digits up to `>` (how writers store /Contents).
        if let Some(end) = rest.iter().position(|&b| b == b'>')
            && let Some(body) = rest.get(..end)
            && body.len() % 2 == 0
            && body.len() / 2 <= self.limits.max_string_len
        {
            let mut out = Vec::with_capacity(body.len() / 2);
            let mut bad = 0u8;
            for pair in body.chunks_exact(2) {
                if let [h, l] = pair {
                    let (h, l) = (hex_digit(*h), hex_digit(*l));
                    bad |= h | l;
                    out.push(h << 4 | (l & 0x0f));
                }
            }
            if bad < 16 {
                self.advance(end + 1);
                return Ok(PdfString {
                    bytes: out,
                    hex: true,
                    span: (start, self.pos),
                });
            }
        }
        let mut out = Vec::with_capacity(rest.len().min(self.limits.max_string_len) / 2);
        let mut pending: Option<u8> = None;
        let mut used = 0usize;
        let mut closed = false;
        for &b in rest {
            if b == b'>' {
                used += 1;
                closed = true;
                break;
            }
            if is_whitespace(b) {
                used += 1;
                continue;
            }
            let Some(v) = hex_val(b) else {
                self.advance(used);
                return Err(self.err(PdfErrorKind::Syntax("bad hex string")));
            };
            used += 1;
            match pending.take() {
                Some(hi) => {
                    out.push(hi << 4 | v);
                    if out.len() > self.limits.max_string_len {
                        self.advance(used);
                        self.check_string_len(out.len(), start)?;
                    }
                }
                None => pending = Some(v),
            }
        }
        self.advance(used);
        if !closed {
            return Err(self.err(PdfErrorKind::UnexpectedEof));
        }
        if let Some(hi) = pending {
            out.push(hi << 4);
        }
        Ok(PdfString {
            bytes: out,
            hex: true,
            span: (start, self.pos),
        })
    }

    fn parse_array(&mut self, depth: usize) -> Result<Object, PdfError> {
        self.advance(1);
        let mut items = Vec::new();
        loop {
            self.skip_ws_comments();
            match self.peek() {
                None => return Err(self.err(PdfErrorKind::UnexpectedEof)),
                Some(b']') => {
                    self.bump();
                    return Ok(Object::Array(items));
                }
                Some(_) => {
                    if items.len() >= self.limits.max_container_len {
                        return Err(self.err(PdfErrorKind::LimitExceeded("array length")));
                    }
                    items.push(self.parse_object_depth(depth.saturating_add(1))?);
                }
            }
        }
    }

    /// Parses a dictionary at the cursor (which must be at `<<`).
    pub(crate) fn parse_dict(&mut self) -> Result<Dict, PdfError> {
        self.skip_ws_comments();
        if !(self.peek() == Some(b'<') && self.peek_at(1) == Some(b'<')) {
            return Err(self.eof_or(PdfErrorKind::Syntax("expected dictionary")));
        }
        self.parse_dict_depth(0)
    }

    fn parse_dict_depth(&mut self, depth: usize) -> Result<Dict, PdfError> {
        let start = self.pos;
        self.advance(2);
        let mut entries = Vec::new();
        let mut seen = BTreeSet::new();
        loop {
            self.skip_ws_comments();
            match self.peek() {
                None => return Err(self.err(PdfErrorKind::UnexpectedEof)),
                Some(b'>') if self.peek_at(1) == Some(b'>') => {
                    self.advance(2);
                    return Ok(Dict {
                        entries,
                        span: (start, self.pos),
                    });
                }
                Some(b'/') => {
                    let key_pos = self.pos;
                    let key = self.parse_name()?;
                    if entries.len() >= self.limits.max_container_len {
                        return Err(self.err(PdfErrorKind::LimitExceeded("dictionary size")));
                    }
                    if !seen.insert(key.clone()) {
                        return Err(PdfError::at(PdfErrorKind::DuplicateKey, key_pos));
                    }
                    let value = self.parse_object_depth(depth.saturating_add(1))?;
                    entries.push((key, value));
                }
                Some(_) => return Err(self.err(PdfErrorKind::Syntax("expected name key"))),
            }
        }
    }

    /// Parses `num generation obj ... endobj` (7.3.10) at the cursor, including a
    /// stream body (7.3.8). Returns the header reference, the object and the
    /// span from the first digit to just after `endobj`.
    ///
    /// Stream data is located by /Length only; after it, optional white
    /// space and then `endstream` must follow or the object is rejected
    /// (no searching for `endstream`).
    pub(crate) fn parse_indirect(
        &mut self,
        length: &mut LengthResolver<'_>,
    ) -> Result<(ObjRef, Object, (usize, usize)), PdfError> {
        self.skip_ws();
        let start = self.pos;
        let num = self.parse_unsigned(u64::from(u32::MAX))?;
        self.skip_ws_comments();
        let generation = self.parse_unsigned(u64::from(u16::MAX))?;
        self.skip_ws_comments();
        self.expect_keyword(b"obj", "expected obj")?;
        let id = ObjRef::new(
            u32::try_from(num).map_err(|_| PdfError::at(PdfErrorKind::IntegerOutOfRange, start))?,
            u16::try_from(generation)
                .map_err(|_| PdfError::at(PdfErrorKind::IntegerOutOfRange, start))?,
        );
        let mut obj = self.parse_object()?;
        self.skip_ws_comments();
        if self.at_keyword(b"stream") {
            let dict = match obj {
                Object::Dictionary(d) => d,
                _ => return Err(self.err(PdfErrorKind::BadStream("stream without dictionary"))),
            };
            obj = Object::Stream(self.parse_stream_body(dict, length)?);
            self.skip_ws_comments();
        }
        self.expect_keyword(b"endobj", "expected endobj")?;
        Ok((id, obj, (start, self.pos)))
    }

    fn parse_stream_body(
        &mut self,
        dict: Dict,
        length: &mut LengthResolver<'_>,
    ) -> Result<Stream, PdfError> {
        self.advance(b"stream".len());
        match (self.peek(), self.peek_at(1)) {
            (Some(b'\r'), Some(b'\n')) => self.advance(2),
            (Some(b'\n'), _) | (Some(b'\r'), _) => self.advance(1),
            _ => return Err(self.eof_or(PdfErrorKind::BadStream("no EOL after stream"))),
        }
        let data_start = self.pos;
        let len = match dict.get(b"Length") {
            Some(Object::Integer(n)) => *n,
            Some(Object::Reference(r)) => length(*r)?,
            _ => return Err(self.err(PdfErrorKind::BadStream("missing or invalid /Length"))),
        };
        let data_end = usize::try_from(len)
            .ok()
            .and_then(|l| data_start.checked_add(l))
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| self.err(PdfErrorKind::BadStream("/Length out of range")))?;
        self.pos = data_end;
        self.skip_ws();
        if !self.eat_keyword(b"endstream") {
            return Err(self.err(PdfErrorKind::BadStream("/Length does not end at endstream")));
        }
        Ok(Stream {
            dict,
            data_span: (data_start, data_end),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn parse(src: &[u8]) -> Result<Object, PdfError> {
        let limits = Limits::default();
        Parser::new(src, 0, &limits).parse_object()
    }

    #[test]
    fn parses_scalars_and_references() {
        assert_eq!(parse(b"null").unwrap(), Object::Null);
        assert_eq!(parse(b" true").unwrap(), Object::Bool(true));
        assert_eq!(parse(b"-17").unwrap(), Object::Integer(-17));
        assert_eq!(parse(b"+4.").unwrap(), Object::Real(4.0));
        assert_eq!(parse(b"-.5").unwrap(), Object::Real(-0.5));
        assert_eq!(
            parse(b"12 0 R").unwrap(),
            Object::Reference(ObjRef::new(12, 0))
        );
        assert_eq!(
            parse(b"[1 2 R 3]").unwrap(),
            Object::Array(vec![
                Object::Reference(ObjRef::new(1, 2)),
                Object::Integer(3)
            ])
        );
        let arr = parse(b"[1 2 0 R 3]").unwrap();
        assert_eq!(
            arr,
            Object::Array(vec![
                Object::Integer(1),
                Object::Reference(ObjRef::new(2, 0)),
                Object::Integer(3)
            ])
        );
    }

    #[test]
    fn rejects_overflowing_and_malformed_numbers() {
        assert_eq!(
            parse(b"99999999999999999999").unwrap_err().kind,
            PdfErrorKind::IntegerOutOfRange
        );
        assert_eq!(
            parse(b"-9223372036854775808").unwrap(),
            Object::Integer(i64::MIN)
        );
        assert!(parse(b"-9223372036854775809").is_err());
        assert!(parse(b"--5").is_err());
        assert!(parse(b"1.2.3").is_err());
        assert!(parse(b"-").is_err());
        assert!(parse(b"12abc").is_err());
        // A negative number followed by `0 R` is not a reference.
        assert_eq!(parse(b"-1 0 R").unwrap(), Object::Integer(-1));
        // Generation beyond u16 is not a reference either.
        assert_eq!(parse(b"1 70000 R").unwrap(), Object::Integer(1));
    }

    #[test]
    fn decodes_names_and_strings() {
        assert_eq!(parse(b"/A#20B#2").unwrap(), Object::name("A B#2"));
        assert_eq!(parse(b"/").unwrap(), Object::name(""));
        let s = parse(b"(a\\)b(c)\\101\\0612\\\r\nz\r\n)").unwrap();
        assert_eq!(s.as_string().unwrap().bytes, b"a)b(c)A12z\n");
        let h = parse(b"<4 1 4>").unwrap();
        assert_eq!(h.as_string().unwrap().bytes, b"A@");
        assert!(h.as_string().unwrap().hex);
        assert!(parse(b"<4x>").is_err());
        assert!(parse(b"(unbalanced").is_err());
    }

    #[test]
    fn string_spans_cover_delimiters() {
        let src = b"<< /Contents <00ab> /Other (a\\)b) >>";
        let d = parse(src).unwrap();
        let d = d.as_dict().unwrap();
        assert_eq!(d.span, (0, src.len()));
        let c = d.get(b"Contents").unwrap().as_string().unwrap();
        assert_eq!(c.bytes, vec![0x00, 0xab]);
        assert_eq!(&src[c.span.0..c.span.1], b"<00ab>");
        let o = d.get(b"Other").unwrap().as_string().unwrap();
        assert_eq!(o.bytes, b"a)b");
        assert_eq!(&src[o.span.0..o.span.1], b"(a\\)b)");
    }

    #[test]
    fn rejects_duplicate_keys_and_bad_dicts() {
        assert_eq!(
            parse(b"<</A 1 /A 2>>").unwrap_err().kind,
            PdfErrorKind::DuplicateKey
        );
        assert!(parse(b"<</A>>").is_err());
        assert!(parse(b"<<1 2>>").is_err());
        assert!(parse(b"<</A 1").is_err());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut deep = vec![b'['; 100_000];
        deep.extend(std::iter::repeat_n(b']', 100_000));
        assert_eq!(
            parse(&deep).unwrap_err().kind,
            PdfErrorKind::LimitExceeded("nesting depth")
        );
        let mut dicts = Vec::new();
        for _ in 0..100_000 {
            dicts.extend_from_slice(b"<</A ");
        }
        assert!(parse(&dicts).is_err());
    }

    #[test]
    fn indirect_object_with_stream_uses_length() {
        let src = b"7 0 obj\n<</Length 5>>\nstream\r\nhello\nendstream\nendobj\n";
        let limits = Limits::default();
        let mut none = |_r: ObjRef| -> Result<i64, PdfError> {
            Err(PdfError::new(PdfErrorKind::BadStream("no resolver")))
        };
        let (id, obj, span) = Parser::new(src, 0, &limits)
            .parse_indirect(&mut none)
            .unwrap();
        assert_eq!(id, ObjRef::new(7, 0));
        let s = obj.as_stream().unwrap();
        assert_eq!(&src[s.data_span.0..s.data_span.1], b"hello");
        assert_eq!(&src[span.0..span.1], &src[..src.len() - 1]);

        let wrong = b"7 0 obj\n<</Length 3>>\nstream\nhello\nendstream\nendobj\n";
        let e = Parser::new(wrong, 0, &limits)
            .parse_indirect(&mut none)
            .unwrap_err();
        assert_eq!(
            e.kind,
            PdfErrorKind::BadStream("/Length does not end at endstream")
        );
        let huge = b"7 0 obj\n<</Length 99999999999>>\nstream\nhello\nendstream\nendobj\n";
        assert!(
            Parser::new(huge, 0, &limits)
                .parse_indirect(&mut none)
                .is_err()
        );
    }
}
