//! Dates (ISO 32000-2 §7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// `D:YYYYMMDDHHmmSS+07'00'` (ISO 32000-2 §7.9.4).
pub fn format_date(t: OffsetDateTime) -> String {
    let [y, mo, d, h, mi, s, sign, oh, om] = parts(t);
    format!("D:{y}{mo}{d}{h}{mi}{s}{sign}{oh}'{om}'")
}

/// `YYYY-MM-DDTHH:mm:SS+07:00`, the date form of XMP metadata (ISO 16684-1, ISO 8601).
pub fn format_xmp_date(t: OffsetDateTime) -> String {
    let [y, mo, d, h, mi, s, sign, oh, om] = parts(t);
    format!("{y}-{mo}-{d}T{h}:{mi}:{s}{sign}{oh}:{om}")
}

/// Year, month, day, hour, minute, second, offset sign, offset hours and minutes, padded.
fn parts(t: OffsetDateTime) -> [String; 9] {
    let off = t.offset();
    let (oh, om, _) = off.as_hms();
    let sign = if off.is_negative() { "-" } else { "+" };
    [
        format!("{:04}", t.year()),
        format!("{:02}", u8::from(t.month())),
        format!("{:02}", t.day()),
        format!("{:02}", t.hour()),
        format!("{:02}", t.minute()),
        format!("{:02}", t.second()),
        sign.to_owned(),
        format!("{:02}", oh.unsigned_abs()),
        format!("{:02}", om.unsigned_abs()),
    ]
}

/// A PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (ISO 32000-2 7.9.4): every field
/// after the year is optional; without an offset the time is taken as UTC.
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let s = s.strip_prefix("D:").unwrap_or(s);
    let bytes = s.as_bytes();
    let mut pos = 0usize;
    let digits = |n: usize, pos: &mut usize| -> Option<u32> {
        let part = bytes.get(*pos..pos.checked_add(n)?)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *pos = pos.checked_add(n)?;
        part.iter()
            .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
    };
    let year = digits(4, &mut pos)?;
    let field = |default: u32, pos: &mut usize| -> Option<u32> {
        match bytes.get(*pos) {
            Some(b) if b.is_ascii_digit() => digits(2, pos),
            _ => Some(default),
        }
    };
    let month = field(1, &mut pos)?;
    let day = field(1, &mut pos)?;
    let hour = field(0, &mut pos)?;
    let minute = field(0, &mut pos)?;
    let second = field(0, &mut pos)?;
    let offset = match bytes.get(pos) {
        None | Some(b'Z') => UtcOffset::UTC,
        Some(sign @ (b'+' | b'-')) => {
            let rest = bytes.get(pos.saturating_add(1)..)?;
            let num = |r: &[u8]| -> Option<i8> {
                match r {
                    [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                        i8::try_from((a - b'0') * 10 + (b - b'0')).ok()
                    }
                    _ => None,
                }
            };
            let hh = num(rest)?;
            let after = rest.get(2..).unwrap_or_default();
            let after = after.strip_prefix(b"'").unwrap_or(after);
            let mm = if after.is_empty() { 0 } else { num(after)? };
            let (hh, mm) = if *sign == b'-' { (-hh, -mm) } else { (hh, mm) };
            UtcOffset::from_hms(hh, mm, 0).ok()?
        }
        Some(_) => return None,
    };
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}
