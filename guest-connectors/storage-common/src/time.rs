//! Civil time from epoch milliseconds, and Joda-style patterns
//! (`'year'=YYYY/'month'=MM/…`) as `path.format` uses them. Only fixed
//! offsets from UTC: the component carries no time zone database.

/// A fixed offset from UTC, in minutes, from `timezone`: `UTC` (and its
/// aliases) or `+HH:MM` / `-HH:MM` / `UTC+HH:MM`. `Err` says why not.
pub fn parse_zone(zone: &str) -> Result<i64, String> {
    let z = zone.trim();
    let utc = [
        "UTC",
        "GMT",
        "Etc/UTC",
        "Etc/GMT",
        "Z",
        "UCT",
        "Universal",
        "Zulu",
    ];
    if utc.iter().any(|u| u.eq_ignore_ascii_case(z)) {
        return Ok(0);
    }
    let rest = z
        .strip_prefix("UTC")
        .or_else(|| z.strip_prefix("GMT"))
        .unwrap_or(z);
    let (sign, hm) = match rest.as_bytes().first() {
        Some(b'+') => (1, &rest[1..]),
        Some(b'-') => (-1, &rest[1..]),
        _ => {
            return Err(format!(
                "timezone {z} is not supported: this connector knows UTC and fixed offsets such as +02:00 (it carries no time zone database)"
            ));
        }
    };
    let (h, m) = hm.split_once(':').unwrap_or((hm, "0"));
    match (h.parse::<i64>(), m.parse::<i64>()) {
        (Ok(h), Ok(m)) if (0..=18).contains(&h) && (0..60).contains(&m) => Ok(sign * (h * 60 + m)),
        _ => Err(format!("timezone {z} is not a valid offset (+HH:MM)")),
    }
}

/// Year, month (1-12), day, hour, minute, second and millisecond of
/// `millis` since the epoch shifted by `offset_minutes`.
pub fn civil(millis: i64, offset_minutes: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let local = millis + offset_minutes * 60_000;
    let days = local.div_euclid(86_400_000);
    let ms_of_day = local.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        ((secs / 60) % 60) as u32,
        (secs % 60) as u32,
        (ms_of_day % 1000) as u32,
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A `path.format` checked once: literal text and fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pattern(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Year(usize),
    Month(usize),
    Day(usize),
    Hour(usize),
    Minute(usize),
    Second(usize),
}

impl Pattern {
    /// Parses Joda letters `Y`/`y` (year), `M` (month), `d` (day), `H`
    /// (hour), `m` (minute), `s` (second), text in single quotes (`''` is
    /// a quote) and any other non-letter as itself.
    pub fn parse(pattern: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut parts = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("path.format {pattern}: unterminated quote")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                if text.is_empty() {
                    text.push('\'');
                }
                parts.push(Part::Text(text));
                continue;
            }
            if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                parts.push(match c {
                    'Y' | 'y' => Part::Year(n),
                    'M' => Part::Month(n),
                    'd' => Part::Day(n),
                    'H' => Part::Hour(n),
                    'm' => Part::Minute(n),
                    's' => Part::Second(n),
                    other => {
                        return Err(format!(
                            "path.format {pattern}: the letter {other} is not supported (Y, M, d, H, m, s; quote literal text)"
                        ));
                    }
                });
                i += n;
                continue;
            }
            parts.push(Part::Text(c.to_string()));
            i += 1;
        }
        Ok(Pattern(parts))
    }

    /// `millis` formatted in the zone `offset_minutes` from UTC.
    pub fn format(&self, millis: i64, offset_minutes: i64) -> String {
        let (y, mo, d, h, mi, s, _) = civil(millis, offset_minutes);
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                // Joda prints yy as the last two digits.
                Part::Year(2) => out.push_str(&format!("{:02}", y.rem_euclid(100))),
                Part::Year(n) => out.push_str(&format!("{y:0n$}")),
                Part::Month(n) => out.push_str(&format!("{mo:0n$}")),
                Part::Day(n) => out.push_str(&format!("{d:0n$}")),
                Part::Hour(n) => out.push_str(&format!("{h:0n$}")),
                Part::Minute(n) => out.push_str(&format!("{mi:0n$}")),
                Part::Second(n) => out.push_str(&format!("{s:0n$}")),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_time_and_zones() {
        // 2023-11-14T22:13:20.123Z
        assert_eq!(civil(1_700_000_000_123, 0), (2023, 11, 14, 22, 13, 20, 123));
        assert_eq!(
            civil(1_700_000_000_123, 120),
            (2023, 11, 15, 0, 13, 20, 123)
        );
        assert_eq!(civil(-1, 0), (1969, 12, 31, 23, 59, 59, 999));
        let leap = civil(951_782_400_000, 0);
        assert_eq!((leap.0, leap.1, leap.2), (2000, 2, 29));
        assert_eq!(parse_zone("UTC"), Ok(0));
        assert_eq!(parse_zone("+05:30"), Ok(330));
        assert_eq!(parse_zone("UTC-08:00"), Ok(-480));
        assert!(
            parse_zone("America/New_York")
                .unwrap_err()
                .contains("time zone database")
        );
    }

    #[test]
    fn joda_patterns() {
        let p = Pattern::parse("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH").unwrap();
        assert_eq!(
            p.format(1_700_000_000_123, 0),
            "year=2023/month=11/day=14/hour=22"
        );
        let q = Pattern::parse("yy-M-d'T'HH''mm").unwrap();
        assert_eq!(q.format(1_700_000_000_123, 0), "23-11-14T22'13");
        assert!(Pattern::parse("YYYY/EEE").unwrap_err().contains("letter E"));
        assert!(Pattern::parse("'open").is_err());
    }
}
