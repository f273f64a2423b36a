//! Calendar arithmetic and the text forms of dates, times and timestamps
//! (SQLite keeps them as text; the proleptic Gregorian calendar throughout).

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 9 {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DD` (a leading `-` for years before 1 BCE) as days since the epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut parts = body.splitn(3, '-');
    let year = digits(parts.next()?)?;
    let month = digits(parts.next()?)?;
    let day = digits(parts.next()?)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let year = if negative { -year } else { year };
    Some(days_from_civil(year, month as u32, day as u32))
}

/// `HH:MM[:SS[.fraction]]` as microseconds since midnight.
pub fn parse_time(s: &str) -> Option<i64> {
    let (clock, fraction) = match s.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (s, None),
    };
    let mut parts = clock.split(':');
    let hours = digits(parts.next()?)?;
    let minutes = digits(parts.next()?)?;
    let seconds = match parts.next() {
        Some(p) => digits(p)?,
        None => 0,
    };
    if parts.next().is_some() || hours > 24 || minutes > 59 || seconds > 60 {
        return None;
    }
    let mut micros = 0;
    if let Some(f) = fraction {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Digits past the sixth are below our resolution: truncated.
        for (i, b) in f.bytes().take(6).enumerate() {
            micros += i64::from(b - b'0') * 10_i64.pow(5 - i as u32);
        }
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + micros)
}

/// A timestamp as text (`YYYY-MM-DD[ T]HH:MM[:SS[.f]]`, an optional `Z` or
/// `±HH[:MM]` zone, or a bare date) as microseconds since the epoch; a zone
/// moves the instant to UTC, no zone reads the wall clock as UTC.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    // The date ends at the first ' ' or 'T' after the year.
    let split = s
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == ' ' || c == 'T')
        .map(|(i, _)| i);
    let Some(split) = split else {
        return parse_date(s)?.checked_mul(MICROS_PER_DAY);
    };
    let days = parse_date(&s[..split])?;
    let mut rest = s[split + 1..].trim_start();
    let mut zone_micros = 0;
    if let Some(r) = rest.strip_suffix('Z') {
        rest = r;
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (clock, zone) = rest.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let zone = &zone[1..];
        let (h, m) = match zone.split_once(':') {
            Some((h, m)) => (digits(h)?, digits(m)?),
            None if zone.len() == 4 => (digits(zone.get(..2)?)?, digits(zone.get(2..)?)?),
            None => (digits(zone)?, 0),
        };
        zone_micros = sign * (h * 3600 + m * 60) * MICROS_PER_SECOND;
        rest = clock.trim_end();
    }
    let time = parse_time(rest)?;
    // Checked: a year of many digits is text a column may hold.
    days.checked_mul(MICROS_PER_DAY)?
        .checked_add(time)?
        .checked_sub(zone_micros)
}

/// `YYYY-MM-DD` of a day count.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `HH:MM:SS` with `.SSS` when there are milliseconds and `.SSSSSS` when
/// there are microseconds: the forms SQLite's own functions write, so text
/// comparisons against stored values line up.
pub fn format_time(micros_of_day: i64) -> String {
    let seconds = micros_of_day.div_euclid(MICROS_PER_SECOND);
    let fraction = micros_of_day.rem_euclid(MICROS_PER_SECOND);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    );
    if fraction == 0 {
        clock
    } else if fraction % 1000 == 0 {
        format!("{clock}.{:03}", fraction / 1000)
    } else {
        format!("{clock}.{fraction:06}")
    }
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]` of microseconds since the epoch, read as UTC.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let time = micros.rem_euclid(MICROS_PER_DAY);
    format!("{} {}", format_date(days), format_time(time))
}

/// Days since the epoch of the day a timestamp falls on.
pub fn micros_to_days(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

/// Milliseconds since the epoch, rounded down as `java.sql.Timestamp.getTime` does.
pub fn micros_to_millis(micros: i64) -> i64 {
    micros.div_euclid(1000)
}

/// The microseconds of a Julian day number (SQLite's `julianday()` as a REAL).
pub fn julian_day_to_micros(jd: f64) -> Option<i64> {
    let micros = ((jd - 2_440_587.5) * MICROS_PER_DAY as f64).round();
    (micros.is_finite() && micros.abs() < 9.0e18).then_some(micros as i64)
}

/// Microseconds in a day, for callers that split timestamps.
pub const fn micros_per_day() -> i64 {
    MICROS_PER_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_beyond_the_microsecond_range_is_refused_not_overflowed() {
        assert_eq!(parse_timestamp("999999999-01-01"), None);
        assert_eq!(parse_timestamp("999999999-01-01 00:00:00"), None);
    }

    #[test]
    fn civil_round_trip() {
        for days in [-719_468, -1, 0, 1, 10_957, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2000, 1, 1), 10_957);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn parses_text_forms() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_time("01:00:00.5"), Some(3_600_500_000));
        assert_eq!(parse_time("23:59"), Some((23 * 60 + 59) * 60_000_000));
        assert_eq!(parse_timestamp("1970-01-01 00:00:01"), Some(1_000_000));
        assert_eq!(parse_timestamp("1970-01-01T00:00:01.25Z"), Some(1_250_000));
        assert_eq!(parse_timestamp("1970-01-01 02:00:00+02:00"), Some(0));
        assert_eq!(
            parse_timestamp("1970-01-01 00:00:00-0130"),
            Some(5_400_000_000)
        );
        assert_eq!(parse_timestamp("1970-01-02"), Some(MICROS_PER_DAY));
        assert_eq!(parse_timestamp("garbage"), None);
        assert_eq!(parse_timestamp("2024-13-01 00:00:00"), None);
    }

    #[test]
    fn formats_like_sqlite() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(format_timestamp(1_500_000), "1970-01-01 00:00:01.500");
        assert_eq!(format_timestamp(1_000_001), "1970-01-01 00:00:01.000001");
        assert_eq!(format_timestamp(-1_000_000), "1969-12-31 23:59:59");
        assert_eq!(micros_to_millis(-1), -1);
        assert_eq!(julian_day_to_micros(2_440_588.5), Some(MICROS_PER_DAY));
    }
}
