//! Dates of the input format: `YYYY-MM-DD` and `YYYY-MM` (planned months).

use time::Date;

/// Parses `YYYY-MM-DD`.
pub fn parse_iso_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &f).ok()
}

pub(super) fn parse_month(s: &str) -> Option<(i32, u8)> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    (1..=12).contains(&m).then_some((y, m))
}

/// A date serialised as `YYYY-MM-DD` (serialising only: input goes through validation).
pub(super) mod iso_date {
    use serde::Serializer;
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_iso_date(*d))
    }
}

/// An optional date serialised as `YYYY-MM-DD` or null.
pub(super) mod iso_date_opt {
    use serde::Serializer;
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_iso_date(*d)),
            None => s.serialize_none(),
        }
    }
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
