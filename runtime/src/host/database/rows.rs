//! What every driver shares: packing result rows into the contract's
//! `row-batch`, and dates and times as the contract counts them (days and
//! microseconds since 1970-01-01, proleptic Gregorian) written and read as
//! SQL text.

use crate::bindings::database::sql::{Cell, RowBatch, Span, ValueKind};

/// Stop filling a batch past this much text and bytes, whatever the row
/// count asked for: the guest allocates the whole batch at once.
pub const MAX_BATCH_BYTES: usize = 8 << 20;

/// Rows being packed.
#[derive(Default)]
pub struct RowBatchBuilder {
    data: Vec<u8>,
    cells: Vec<Cell>,
    rows: u32,
}

impl RowBatchBuilder {
    /// Counts a finished row.
    pub fn end_row(&mut self) {
        self.rows += 1;
    }

    /// Rows packed so far.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Whether the batch has grown as large as one should.
    pub fn full(&self) -> bool {
        self.data.len() >= MAX_BATCH_BYTES
    }

    /// A value held in `num`.
    pub fn num(&mut self, kind: ValueKind, num: i64) {
        self.cells.push(Cell {
            kind,
            num,
            bytes: Span { offset: 0, len: 0 },
        });
    }

    /// A null.
    pub fn null(&mut self) {
        self.num(ValueKind::Null, 0);
    }

    /// A value held in `data` (text must be UTF-8: callers pass `&str`
    /// for text and decimals).
    pub fn bytes(&mut self, kind: ValueKind, bytes: &[u8]) {
        // Batches stop at MAX_BATCH_BYTES, far below u32::MAX, so the
        // offsets fit; saturate rather than wrap if a single value is huge.
        let offset = u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.data.extend_from_slice(bytes);
        self.cells.push(Cell {
            kind,
            num: 0,
            bytes: Span { offset, len },
        });
    }

    /// Text.
    pub fn text(&mut self, kind: ValueKind, text: &str) {
        self.bytes(kind, text.as_bytes());
    }

    /// The batch; `done` when the cursor has no more rows.
    pub fn finish(self, done: bool) -> RowBatch {
        RowBatch {
            data: self.data,
            cells: self.cells,
            rows: self.rows,
            done,
        }
    }
}

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
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

/// `YYYY-MM-DD`, with ` BC` for years before 1 as SQL writes them.
pub fn format_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    if year >= 1 {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{:04}-{month:02}-{day:02} BC", 1 - year)
    }
}

/// `HH:MM:SS`, with `.ffffff` when there are microseconds.
pub fn format_time(micros_of_day: i64) -> String {
    let micros = micros_of_day.rem_euclid(MICROS_PER_DAY);
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let hms = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        hms
    } else {
        format!("{hms}.{frac:06}")
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC wall clock) of microseconds since
/// the epoch. Years before 1 keep the ` BC` after the time, as PostgreSQL
/// reads them.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let time = format_time(micros.rem_euclid(MICROS_PER_DAY));
    let date = format_date(days);
    match date.strip_suffix(" BC") {
        Some(d) => format!("{d} {time} BC"),
        None => format!("{date} {time}"),
    }
}

/// Microseconds since the epoch of SQL timestamp text (`YYYY-MM-DD`,
/// `YYYY-MM-DD HH:MM[:SS[.f…]]`, `T` instead of the space, a trailing `Z`
/// or `+00:00`), as SQLite stores timestamps. `None` for anything else.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = match text.find([' ', 'T']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let days = parse_date(date)?;
    let micros = match time {
        None => 0,
        Some(t) => {
            let t = t
                .strip_suffix('Z')
                .or_else(|| t.strip_suffix("+00:00"))
                .unwrap_or(t);
            parse_time(t)?
        }
    };
    days.checked_mul(MICROS_PER_DAY)?.checked_add(micros)
}

/// Days since the epoch of `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day))
        .then(|| days_from_civil(year, month, day))
}

/// Microseconds since midnight of `HH:MM[:SS[.f…]]`.
pub fn parse_time(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, ':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let (secs, frac) = match parts.next() {
        None => (0, 0),
        Some(s) => {
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits: String = frac.chars().chain("000000".chars()).take(6).collect();
            (whole.parse::<i64>().ok()?, digits.parse::<i64>().ok()?)
        }
    };
    ((0..24).contains(&hours) && (0..60).contains(&minutes) && (0..=60).contains(&secs))
        .then(|| ((hours * 60 + minutes) * 60 + secs) * 1_000_000 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-719_468 - 1000, -1, 0, 1, 10_957, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(2000, 1, 1), 10_957);
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(days_from_civil(0, 12, 31)), "0001-12-31 BC");
    }

    #[test]
    fn timestamps_as_text() {
        let t = days_from_civil(2024, 2, 29) * MICROS_PER_DAY + 3_723_000_042;
        assert_eq!(format_timestamp(t), "2024-02-29 01:02:03.000042");
        assert_eq!(parse_timestamp("2024-02-29 01:02:03.000042"), Some(t));
        assert_eq!(parse_timestamp("2024-02-29T01:02:03.000042Z"), Some(t));
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(parse_timestamp("1970-01-01"), Some(0));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_time("12:30"), Some(45_000_000_000));
        assert_eq!(parse_time("25:00:00"), None);
        assert_eq!(format_time(1), "00:00:00.000001");
    }
}
