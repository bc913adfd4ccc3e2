//! PDF text strings (ISO 32000-2 §7.9.2.2): what `/T`, `/Name`, `/Reason` and the document
//! information entries hold.

/// Encodes `s`: printable ASCII as is (PDFDocEncoding agrees there), anything else as UTF-16BE
/// with a byte order mark. Returns the bytes and whether they are best written as a hex string.
pub fn encode_text_string(s: &str) -> (Vec<u8>, bool) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        (s.as_bytes().to_vec(), false)
    } else {
        let mut v = vec![0xFE, 0xFF];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        (v, true)
    }
}

/// Decodes a text string: UTF-16BE or UTF-8 with a byte order mark, else PDFDocEncoding (read
/// as Latin-1, which agrees on the printable ASCII range).
pub fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| match c {
                [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                _ => 0xFFFD,
            })
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_round_trips_and_ascii_stays_literal() {
        let (b, hex) = encode_text_string("Âu Thị Hải Yến");
        assert!(hex && b.starts_with(&[0xFE, 0xFF]));
        assert_eq!(decode_text_string(&b), "Âu Thị Hải Yến");
        assert_eq!(encode_text_string("U07"), (b"U07".to_vec(), false));
        assert_eq!(decode_text_string(b"U07"), "U07");
        // An odd trailing byte never panics.
        assert_eq!(decode_text_string(&[0xFE, 0xFF, 0x00]), "\u{FFFD}");
    }
}
