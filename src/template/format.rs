//! Vietnamese formatting of dates, numbers and list markers (Decree 30/2020, Phụ lục I-II).

use time::Date;

/// Month with Decree 30's padding: months 1 and 2 get a leading zero, the others none.
pub(crate) fn pad_month(m: i64) -> String {
    if m < 3 {
        format!("{m:02}")
    } else {
        m.to_string()
    }
}

/// The date of the place-date line: "ngày 05 tháng 02 năm 2025", "ngày 14 tháng 3 năm 2024"
/// (Decree 30, Phụ lục I, II.4: days below 10 and months 1-2 padded with 0).
pub fn vn_date(d: Date) -> String {
    format!(
        "ngày {:02} tháng {} năm {}",
        d.day(),
        pad_month(i64::from(u8::from(d.month()))),
        d.year()
    )
}

/// A short date for running text: "22/01/2021".
pub fn vn_date_short(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// A number the Vietnamese way: '.' between thousands, ',' before decimals ("400.000",
/// "1,5"); at most two decimals, trailing zeros dropped.
pub fn format_number(v: f64) -> String {
    let negative = v < 0.0;
    let cents = (v.abs() * 100.0).round();
    // Values are bounded by input validation (< 1e15), so this fits in u64.
    let cents = if cents.is_finite() && cents < 1.8e19 {
        cents as u64
    } else {
        0
    };
    let int = cents / 100;
    let frac = cents % 100;
    let digits = int.to_string();
    let mut out = String::with_capacity(digits.len() + 8);
    if negative && cents > 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(ch);
    }
    if frac > 0 {
        out.push(',');
        if frac % 10 == 0 {
            out.push_str(&(frac / 10).to_string());
        } else {
            out.push_str(&format!("{frac:02}"));
        }
    }
    out
}

/// A target with its unit: "100%", "1,5%", "600 học viên".
pub fn target_text(v: f64, unit: Option<&str>) -> String {
    match unit {
        Some("%") => format!("{}%", format_number(v)),
        Some(u) => format!("{} {u}", format_number(v)),
        None => format_number(v),
    }
}

/// Roman numeral for section headings (1..=3999; other values as Arabic numerals).
pub fn roman(n: u32) -> String {
    if n == 0 || n > 3999 {
        return n.to_string();
    }
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut out = String::new();
    for (value, digits) in TABLE {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// The n-th (1-based) point letter: a, b, c, d, đ, e, g, ... y (no f, j, w, z; Decree 30,
/// Phụ lục I); beyond the alphabet, the number.
pub fn letter(n: u32) -> String {
    const LETTERS: [&str; 22] = [
        "a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o", "p", "q", "r", "s",
        "t", "u", "v", "x",
    ];
    match n
        .checked_sub(1)
        .and_then(|i| LETTERS.get(i as usize).copied())
    {
        Some(l) => l.to_string(),
        None if n == 23 => "y".to_string(),
        None => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_are_padded_per_decree_30() {
        assert_eq!(vn_date(date!(2025 - 02 - 05)), "ngày 05 tháng 02 năm 2025");
        assert_eq!(vn_date(date!(2024 - 03 - 14)), "ngày 14 tháng 3 năm 2024");
        assert_eq!(vn_date(date!(2021 - 01 - 22)), "ngày 22 tháng 01 năm 2021");
        assert_eq!(vn_date(date!(2021 - 12 - 09)), "ngày 09 tháng 12 năm 2021");
    }

    #[test]
    fn numbers_use_vietnamese_separators() {
        assert_eq!(format_number(60000.0), "60.000");
        assert_eq!(format_number(400000.0), "400.000");
        assert_eq!(format_number(1.5), "1,5");
        assert_eq!(format_number(1.25), "1,25");
        assert_eq!(format_number(100.0), "100");
        assert_eq!(format_number(999.0), "999");
        assert_eq!(format_number(1000.0), "1.000");
        assert_eq!(target_text(1.5, Some("%")), "1,5%");
        assert_eq!(target_text(600.0, Some("học viên")), "600 học viên");
    }

    #[test]
    fn section_and_point_markers() {
        assert_eq!(roman(4), "IV");
        assert_eq!(roman(12), "XII");
        assert_eq!(letter(5), "đ");
        assert_eq!(letter(7), "g");
        assert_eq!(letter(23), "y");
    }
}
