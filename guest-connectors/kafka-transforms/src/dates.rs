//! `java.text.SimpleDateFormat` in UTC, as TimestampConverter and
//! TimestampRouter use it: [`Pattern::compile`] reads a pattern (refusing
//! letters Java refuses, and the week-based letters this port does not
//! implement), [`Pattern::format`] prints epoch milliseconds and
//! [`Pattern::parse`] reads text leniently (a prefix is enough, as
//! `DateFormat.parse(String)` accepts; out-of-range fields roll over).

use crate::schema::{self, Schema, Type};
use crate::value::Value;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Literal(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    items: Vec<Item>,
    text: String,
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day) of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_numeric(c: char, count: usize) -> bool {
    match c {
        'M' => count <= 2,
        'y' | 'd' | 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'S' | 'D' | 'u' => true,
        _ => false,
    }
}

impl Pattern {
    /// Compiles a pattern; `Err` is Java's IllegalArgumentException message.
    pub fn compile(pattern: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    items.push(Item::Literal("'".into()));
                    i += 2;
                    continue;
                }
                let mut lit = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unterminated quote".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            lit.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            lit.push(*ch);
                            i += 1;
                        }
                    }
                }
                items.push(Item::Literal(lit));
            } else if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                match c {
                    'G' | 'y' | 'M' | 'd' | 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'S' | 'E' | 'a'
                    | 'z' | 'Z' | 'X' | 'D' | 'u' => {}
                    'w' | 'W' | 'F' | 'Y' | 'L' => {
                        return Err(format!(
                            "pattern letter '{c}' (week-based or stand-alone fields) is not supported by this worker"
                        ));
                    }
                    _ => return Err(format!("Illegal pattern character '{c}'")),
                }
                items.push(Item::Field(c, n));
                i += n;
            } else {
                items.push(Item::Literal(c.to_string()));
                i += 1;
            }
        }
        Ok(Pattern {
            items,
            text: pattern.to_string(),
        })
    }

    /// The pattern as given (`toPattern()`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Formats epoch milliseconds in UTC.
    pub fn format(&self, millis: i64) -> String {
        let days = millis.div_euclid(86_400_000);
        let ms = millis.rem_euclid(86_400_000);
        let (y, mo, d) = civil_from_days(days);
        let (h, mi, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        let dow = (days + 4).rem_euclid(7) as usize;
        let doy = days - days_from_civil(y, 1, 1) + 1;
        let mut out = String::new();
        let pad = |v: i64, n: usize| format!("{:0>n$}", v, n = n);
        for item in &self.items {
            match item {
                Item::Literal(l) => out.push_str(l),
                Item::Field(c, n) => {
                    let n = *n;
                    let text = match c {
                        'G' => if y > 0 { "AD" } else { "BC" }.to_string(),
                        'y' if n == 2 => pad(y.rem_euclid(100), 2),
                        'y' => pad(if y > 0 { y } else { 1 - y }, n),
                        'M' if n >= 4 => MONTHS[(mo - 1) as usize].to_string(),
                        'M' if n == 3 => MONTHS[(mo - 1) as usize][..3].to_string(),
                        'M' => pad(mo, n),
                        'd' => pad(d, n),
                        'H' => pad(h, n),
                        'k' => pad(if h == 0 { 24 } else { h }, n),
                        'K' => pad(h % 12, n),
                        'h' => pad(if h % 12 == 0 { 12 } else { h % 12 }, n),
                        'm' => pad(mi, n),
                        's' => pad(s, n),
                        'S' => pad(milli, n),
                        'E' if n >= 4 => DAYS[dow].to_string(),
                        'E' => DAYS[dow][..3].to_string(),
                        'a' => if h < 12 { "AM" } else { "PM" }.to_string(),
                        'z' if n >= 4 => "Coordinated Universal Time".to_string(),
                        'z' => "UTC".to_string(),
                        'Z' => "+0000".to_string(),
                        'X' => "Z".to_string(),
                        'D' => pad(doy, n),
                        'u' => pad(if dow == 0 { 7 } else { dow as i64 }, n),
                        _ => String::new(),
                    };
                    out.push_str(&text);
                }
            }
        }
        out
    }

    /// Parses text leniently in UTC; `None` when Java's ParseException would be thrown.
    pub fn parse(&self, text: &str) -> Option<i64> {
        let s: Vec<char> = text.chars().collect();
        let mut pos = 0;
        let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ms) =
            (1970i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
        let mut pm: Option<bool> = None;
        let mut h12 = false;
        let mut offset_min = 0i64;
        let mut doy: Option<i64> = None;
        for (idx, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(l) => {
                    for lc in l.chars() {
                        if s.get(pos) != Some(&lc) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Item::Field(c, n) => {
                    let abutting = matches!(self.items.get(idx + 1), Some(Item::Field(nc, nn)) if is_numeric(*nc, *nn));
                    if is_numeric(*c, *n) {
                        let start = pos;
                        let mut sign = 1;
                        if matches!(s.get(pos), Some('-')) && *c == 'y' {
                            sign = -1;
                            pos += 1;
                        }
                        let limit = if abutting { *n } else { usize::MAX };
                        let mut v: i64 = 0;
                        let mut len = 0;
                        while len < limit && pos < s.len() && s[pos].is_ascii_digit() {
                            v = v
                                .saturating_mul(10)
                                .saturating_add(i64::from(s[pos] as u8 - b'0'));
                            pos += 1;
                            len += 1;
                        }
                        if len == 0 {
                            return None;
                        }
                        let v = v * sign;
                        match c {
                            'y' => {
                                y = if *n <= 2 && len == 2 && pos - start == 2 {
                                    if v <= 46 { 2000 + v } else { 1900 + v }
                                } else {
                                    v
                                }
                            }
                            'M' => mo = v,
                            'd' => d = v,
                            'H' => h = v,
                            'k' => h = if v == 24 { 0 } else { v },
                            'K' => {
                                h = v;
                                h12 = true;
                            }
                            'h' => {
                                h = if v == 12 { 0 } else { v };
                                h12 = true;
                            }
                            'm' => mi = v,
                            's' => sec = v,
                            'S' => ms = v,
                            'D' => doy = Some(v),
                            _ => {}
                        }
                    } else {
                        let rest: String = s[pos..].iter().collect();
                        let lower = rest.to_lowercase();
                        match c {
                            'M' => {
                                let (i, len) = MONTHS.iter().enumerate().find_map(|(i, m)| {
                                    let m = m.to_lowercase();
                                    if lower.starts_with(&m) {
                                        Some((i, m.len()))
                                    } else if lower.starts_with(&m[..3]) {
                                        Some((i, 3))
                                    } else {
                                        None
                                    }
                                })?;
                                mo = i as i64 + 1;
                                pos += len;
                            }
                            'E' => {
                                let len = DAYS.iter().find_map(|d| {
                                    let d = d.to_lowercase();
                                    if lower.starts_with(&d) {
                                        Some(d.len())
                                    } else if lower.starts_with(&d[..3]) {
                                        Some(3)
                                    } else {
                                        None
                                    }
                                })?;
                                pos += len;
                            }
                            'a' => {
                                if lower.starts_with("am") {
                                    pm = Some(false);
                                } else if lower.starts_with("pm") {
                                    pm = Some(true);
                                } else {
                                    return None;
                                }
                                pos += 2;
                            }
                            'G' if lower.starts_with("ad") || lower.starts_with("bc") => {
                                pos += 2;
                            }
                            'z' | 'Z' | 'X' => {
                                let (off, len) = parse_zone(&rest)?;
                                offset_min = off;
                                pos += len;
                            }
                            _ => return None,
                        }
                    }
                }
            }
        }
        if h12 && pm == Some(true) {
            h += 12;
        }
        let days = match doy {
            Some(n) => days_from_civil(y, 1, 1) + n - 1,
            // Lenient: a month beyond 12 rolls into the next year.
            None => {
                let months = y * 12 + (mo - 1);
                days_from_civil(months.div_euclid(12), months.rem_euclid(12) + 1, 1) + d - 1
            }
        };
        Some(
            days * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - offset_min * 60_000,
        )
    }
}

/// A zone at the start of `text`: (offset minutes, characters used).
fn parse_zone(text: &str) -> Option<(i64, usize)> {
    for name in ["UTC", "GMT"] {
        if let Some(rest) = text.strip_prefix(name) {
            return match parse_offset(rest) {
                Some((off, len)) => Some((off, name.len() + len)),
                None => Some((0, name.len())),
            };
        }
    }
    if text.starts_with('Z') {
        return Some((0, 1));
    }
    parse_offset(text)
}

fn parse_offset(text: &str) -> Option<(i64, usize)> {
    let b = text.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = text.get(from..from + n)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let hh = digits(1, 2)?;
    if b.get(3) == Some(&b':') {
        let mm = digits(4, 2)?;
        return Some((sign * (hh * 60 + mm), 6));
    }
    match digits(3, 2) {
        Some(mm) => Some((sign * (hh * 60 + mm), 5)),
        None => Some((sign * hh * 60, 3)),
    }
}

/// `Values` reading an ISO date, time or timestamp literal, as a logical value.
pub fn parse_iso_temporal(text: &str) -> Option<(Option<Schema>, Value)> {
    let (pattern, name) = match text.chars().count() {
        13 => ("HH:mm:ss.SSS'Z'", schema::TIME),
        24 => ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", schema::TIMESTAMP),
        10 => ("yyyy-MM-dd", schema::DATE),
        _ => return None,
    };
    let millis = Pattern::compile(pattern).ok()?.parse(text)?;
    let mut s = Schema::of(if name == schema::TIMESTAMP {
        Type::Int64
    } else {
        Type::Int32
    })
    .named(name);
    s.version = Some(1);
    let value = match name {
        schema::TIMESTAMP => Value::I64(millis),
        schema::DATE => Value::I32(millis.div_euclid(86_400_000) as i32),
        _ => Value::I32(millis as i32),
    };
    Some((Some(s), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_simple_date_format_in_utc() {
        let p = Pattern::compile("yyyy-MM-dd'T'HH:mm:ss.SSSZ").unwrap();
        assert_eq!(p.format(1_700_000_000_123), "2023-11-14T22:13:20.123+0000");
        assert_eq!(Pattern::compile("yyyyMMdd").unwrap().format(0), "19700101");
        assert_eq!(
            Pattern::compile("EEE, d MMM yy h:mm a")
                .unwrap()
                .format(1_700_000_000_123),
            "Tue, 14 Nov 23 10:13 PM"
        );
        assert_eq!(
            Pattern::compile("yyyy-MM-dd").unwrap().format(-86_400_000),
            "1969-12-31"
        );
        assert_eq!(
            Pattern::compile("yyyy q").unwrap_err(),
            "Illegal pattern character 'q'"
        );
    }

    #[test]
    fn parses_leniently() {
        let p = Pattern::compile("yyyy-MM-dd HH:mm:ss").unwrap();
        assert_eq!(
            p.parse("2023-11-14 22:13:20"),
            Some(1_699_999_999_000 + 1000)
        );
        assert_eq!(
            p.parse("2023-11-14 22:13:20 and more"),
            Some(1_700_000_000_000)
        );
        assert_eq!(p.parse("nope"), None);
        assert_eq!(
            Pattern::compile("yyyyMMdd").unwrap().parse("20231114"),
            Some(1_699_920_000_000)
        );
        assert_eq!(
            Pattern::compile("yyyy-MM-dd").unwrap().parse("2023-13-01"),
            Some(1_704_067_200_000)
        );
    }
}
