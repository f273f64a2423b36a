//! The keys Confluent's storage sinks share, parsed and checked: where
//! files go, when they rotate, how records are partitioned and written.
//! Each connector passes the `format.class` names it knows.

use config_checks::{Problems, choice, list, number, text, value};
use wasmconnect_sdk::{ConfigKey, ConfigType, Importance, config_key as key};

use crate::format::Format;
use crate::partitioner::{Partitioner, Timestamp};
use crate::time::{Pattern, parse_zone};

pub const TOPICS_DIR: &str = "topics.dir";
pub const FLUSH_SIZE: &str = "flush.size";
pub const ROTATE_INTERVAL: &str = "rotate.interval.ms";
pub const ROTATE_SCHEDULE: &str = "rotate.schedule.interval.ms";
pub const PARTITIONER: &str = "partitioner.class";
pub const FIELD_NAME: &str = "partition.field.name";
pub const PATH_FORMAT: &str = "path.format";
pub const DURATION: &str = "partition.duration.ms";
pub const LOCALE: &str = "locale";
pub const TIMEZONE: &str = "timezone";
pub const EXTRACTOR: &str = "timestamp.extractor";
pub const TIMESTAMP_FIELD: &str = "timestamp.field";
pub const FORMAT: &str = "format.class";
pub const DIRECTORY_DELIM: &str = "directory.delim";
pub const FILE_DELIM: &str = "file.delim";
pub const ZERO_PAD: &str = "filename.offset.zero.pad.width";
pub const BYTES_EXTENSION: &str = "format.bytearray.extension";
pub const BYTES_SEPARATOR: &str = "format.bytearray.separator";
pub const NULL_VALUES: &str = "behavior.on.null.values";

/// Which kind of format a `format.class` name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatKind {
    /// JSON lines (`.json`).
    Json,
    /// Raw bytes, `format.bytearray.extension` and `.separator`.
    Bytes,
    /// Values as text lines (`.txt`): HDFS's StringFormat.
    Text,
}

/// The storage settings of one connector.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub topics_dir: String,
    pub flush_size: usize,
    /// Rotate when a file's records span this long (record time).
    pub rotate_interval_ms: Option<i64>,
    /// Rotate on the wall clock, at multiples of this in `timezone`.
    pub rotate_schedule_ms: Option<i64>,
    pub offset_minutes: i64,
    pub partitioner: Partitioner,
    pub format: Format,
    pub directory_delim: String,
    pub file_delim: String,
    pub zero_pad: usize,
    /// `behavior.on.null.values=ignore`: skip tombstones (else they fail).
    pub ignore_nulls: bool,
    /// Names end with the last record's offset too
    /// (`<topic>+<partition>+<start>+<end>`, as HDFS names files).
    pub name_with_end: bool,
}

const PARTITIONER_PREFIXES: [&str; 2] = [
    "io.confluent.connect.storage.partitioner.",
    "io.confluent.connect.hdfs.partitioner.",
];

impl StorageSettings {
    /// Parses the shared keys; `formats` maps the connector's
    /// `format.class` names, the first being the default.
    pub fn parse(
        config: &[(String, String)],
        formats: &[(&str, FormatKind)],
        problems: &mut Problems,
    ) -> StorageSettings {
        let flush_size = match text(config, FLUSH_SIZE) {
            None => {
                problems.push((
                    FLUSH_SIZE.into(),
                    format!("Missing required configuration \"{FLUSH_SIZE}\" which has no default value."),
                ));
                1
            }
            Some(_) => number(config, FLUSH_SIZE, 1, 1, problems),
        };
        let interval = |key: &str, problems: &mut Problems| {
            let v: i64 = number(config, key, -1, -1, problems);
            (v > 0).then_some(v)
        };
        let rotate_interval_ms = interval(ROTATE_INTERVAL, problems);
        let rotate_schedule_ms = interval(ROTATE_SCHEDULE, problems);
        let zone = text(config, TIMEZONE);
        let offset_minutes = match &zone {
            None => 0,
            Some(z) => parse_zone(z).unwrap_or_else(|e| {
                problems.push((TIMEZONE.into(), e));
                0
            }),
        };
        if rotate_schedule_ms.is_some() && zone.is_none() {
            problems.push((
                TIMEZONE.into(),
                format!("{ROTATE_SCHEDULE} is set, so {TIMEZONE} must be set too"),
            ));
        }
        let partitioner = partitioner(config, zone.is_some(), offset_minutes, problems);
        let default_format = formats.first().map_or("", |f| f.0);
        let format_name = text(config, FORMAT).unwrap_or_else(|| default_format.to_string());
        let format = match formats.iter().find(|(n, _)| *n == format_name) {
            Some((_, FormatKind::Json)) => Format::Json,
            Some((_, FormatKind::Text)) => Format::Bytes {
                extension: ".txt".into(),
                separator: b"\n".to_vec(),
            },
            Some((_, FormatKind::Bytes)) => Format::Bytes {
                extension: text(config, BYTES_EXTENSION).unwrap_or_else(|| ".bin".into()),
                separator: value(config, BYTES_SEPARATOR)
                    .map_or_else(|| b"\n".to_vec(), |s| unescape(s).into_bytes()),
            },
            None => {
                let known: Vec<&str> = formats.iter().map(|f| f.0).collect();
                problems.push((
                    FORMAT.into(),
                    format!(
                        "Invalid value {format_name} for configuration {FORMAT}: this connector writes {}",
                        known.join(", ")
                    ),
                ));
                Format::Json
            }
        };
        let ignore_nulls =
            choice(config, NULL_VALUES, "fail", &["fail", "ignore"], problems) == "ignore";
        StorageSettings {
            topics_dir: text(config, TOPICS_DIR).unwrap_or_else(|| "topics".into()),
            flush_size,
            rotate_interval_ms,
            rotate_schedule_ms,
            offset_minutes,
            partitioner,
            format,
            directory_delim: value(config, DIRECTORY_DELIM)
                .filter(|v| !v.is_empty())
                .unwrap_or("/")
                .to_string(),
            file_delim: value(config, FILE_DELIM)
                .filter(|v| !v.is_empty())
                .unwrap_or("+")
                .to_string(),
            zero_pad: number(config, ZERO_PAD, 10, 0, problems),
            ignore_nulls,
            name_with_end: false,
        }
    }
}

fn partitioner(
    config: &[(String, String)],
    has_zone: bool,
    offset_minutes: i64,
    problems: &mut Problems,
) -> Partitioner {
    let class = text(config, PARTITIONER)
        .unwrap_or_else(|| "io.confluent.connect.storage.partitioner.DefaultPartitioner".into());
    let short = PARTITIONER_PREFIXES
        .iter()
        .find_map(|p| class.strip_prefix(p))
        .unwrap_or(&class);
    let (preset_format, preset_duration) = match short {
        "DefaultPartitioner" => return Partitioner::Default,
        "FieldPartitioner" => {
            let fields = list(config, FIELD_NAME);
            if fields.is_empty() {
                problems.push((
                    FIELD_NAME.into(),
                    format!("{FIELD_NAME} must name the fields to partition by"),
                ));
            }
            return Partitioner::Field(fields);
        }
        "TimeBasedPartitioner" => (None, None),
        "HourlyPartitioner" => (
            Some("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH"),
            Some(3_600_000),
        ),
        "DailyPartitioner" => (Some("'year'=YYYY/'month'=MM/'day'=dd"), Some(86_400_000)),
        _ => {
            problems.push((
                PARTITIONER.into(),
                format!(
                    "Invalid value {class} for configuration {PARTITIONER}: this connector knows DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, HourlyPartitioner and DailyPartitioner"
                ),
            ));
            return Partitioner::Default;
        }
    };
    let pattern_text = preset_format
        .map(str::to_string)
        .or_else(|| text(config, PATH_FORMAT));
    let pattern = match pattern_text {
        None => {
            problems.push((
                PATH_FORMAT.into(),
                format!("{PATH_FORMAT} must be set for {short}"),
            ));
            Pattern::default()
        }
        Some(p) => Pattern::parse(&p).unwrap_or_else(|e| {
            problems.push((PATH_FORMAT.into(), e));
            Pattern::default()
        }),
    };
    let duration_ms = match preset_duration {
        Some(d) => d,
        None if text(config, DURATION).is_none() => {
            problems.push((
                DURATION.into(),
                format!("{DURATION} must be set for {short}"),
            ));
            1
        }
        None => number(config, DURATION, 1, 1, problems),
    };
    if text(config, LOCALE).is_none() {
        problems.push((LOCALE.into(), format!("{LOCALE} must be set for {short}")));
    }
    if !has_zone {
        problems.push((
            TIMEZONE.into(),
            format!("{TIMEZONE} must be set for {short}"),
        ));
    }
    let timestamp = match choice(
        config,
        EXTRACTOR,
        "Wallclock",
        &["Wallclock", "Record", "RecordField"],
        problems,
    ) {
        "Record" => Timestamp::Record,
        "RecordField" => match text(config, TIMESTAMP_FIELD) {
            Some(f) => Timestamp::Field(f),
            None => {
                problems.push((
                    TIMESTAMP_FIELD.into(),
                    format!("{TIMESTAMP_FIELD} must be set for timestamp.extractor=RecordField"),
                ));
                Timestamp::Record
            }
        },
        _ => Timestamp::Wallclock,
    };
    Partitioner::Time {
        duration_ms,
        pattern,
        offset_minutes,
        timestamp,
    }
}

/// `\n`, `\t`, `\r` and `\\` in a separator as Java properties would give them.
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\r", "\r")
        .replace("\\\\", "\\")
}

/// The shared keys' definitions; `formats` as for [`StorageSettings::parse`].
pub fn definition(formats: &[(&str, FormatKind)]) -> Vec<ConfigKey> {
    use ConfigType::*;
    use Importance::*;
    let store = "Storage";
    let part = "Partitioner";
    let default_format = formats.first().map_or("", |f| f.0);
    vec![
        key(
            TOPICS_DIR,
            String,
            Some("topics"),
            High,
            store,
            10,
            "The directory files are written under, one subdirectory a topic.",
        ),
        key(
            FLUSH_SIZE,
            Int,
            None,
            High,
            store,
            11,
            "Records a file holds before it is committed (required).",
        ),
        key(
            ROTATE_INTERVAL,
            Long,
            Some("-1"),
            High,
            store,
            12,
            "Commit a file when its records' timestamps span this long; -1 turns it off.",
        ),
        key(
            ROTATE_SCHEDULE,
            Long,
            Some("-1"),
            Medium,
            store,
            13,
            "Commit open files at multiples of this on the wall clock (in timezone); -1 turns it off.",
        ),
        key(
            FORMAT,
            Class,
            Some(default_format),
            High,
            store,
            14,
            "How values are written to files.",
        ),
        key(
            BYTES_EXTENSION,
            String,
            Some(".bin"),
            Low,
            store,
            15,
            "File extension of ByteArrayFormat files.",
        ),
        key(
            BYTES_SEPARATOR,
            String,
            Some("\\n"),
            Low,
            store,
            16,
            "Written after each value by ByteArrayFormat.",
        ),
        key(
            DIRECTORY_DELIM,
            String,
            Some("/"),
            Low,
            store,
            17,
            "Between directories of a file's path.",
        ),
        key(
            FILE_DELIM,
            String,
            Some("+"),
            Low,
            store,
            18,
            "Between topic, partition and offset in a file's name.",
        ),
        key(
            ZERO_PAD,
            Int,
            Some("10"),
            Low,
            store,
            19,
            "Digits the start offset in a file's name is padded to.",
        ),
        key(
            NULL_VALUES,
            String,
            Some("fail"),
            Low,
            store,
            20,
            "What to do with a record whose value is null: fail or ignore.",
        ),
        key(
            PARTITIONER,
            Class,
            Some("io.confluent.connect.storage.partitioner.DefaultPartitioner"),
            High,
            part,
            1,
            "DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, HourlyPartitioner or DailyPartitioner.",
        ),
        key(
            FIELD_NAME,
            List,
            Some(""),
            Medium,
            part,
            2,
            "The value fields FieldPartitioner partitions by.",
        ),
        key(
            PATH_FORMAT,
            String,
            Some(""),
            Medium,
            part,
            3,
            "The Joda-style format of TimeBasedPartitioner's directories, e.g. 'year'=YYYY/'month'=MM.",
        ),
        key(
            DURATION,
            Long,
            Some("-1"),
            Medium,
            part,
            4,
            "The span of one TimeBasedPartitioner directory, in milliseconds.",
        ),
        key(
            LOCALE,
            String,
            Some(""),
            Medium,
            part,
            5,
            "The locale of TimeBasedPartitioner's formats (required by it).",
        ),
        key(
            TIMEZONE,
            String,
            Some(""),
            Medium,
            part,
            6,
            "UTC or a fixed offset (+02:00) for time-based directories and scheduled rotation.",
        ),
        key(
            EXTRACTOR,
            String,
            Some("Wallclock"),
            Medium,
            part,
            7,
            "Where TimeBasedPartitioner takes time from: Wallclock, Record or RecordField.",
        ),
        key(
            TIMESTAMP_FIELD,
            String,
            Some("timestamp"),
            Medium,
            part,
            8,
            "The value field RecordField reads, in milliseconds since the epoch.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMATS: [(&str, FormatKind); 2] = [
        (
            "io.confluent.connect.s3.format.json.JsonFormat",
            FormatKind::Json,
        ),
        (
            "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            FormatKind::Bytes,
        ),
    ];

    use config_checks::pairs as config;

    #[test]
    fn defaults_and_required_keys() {
        let mut problems = Problems::new();
        let s = StorageSettings::parse(&config(&[(FLUSH_SIZE, "3")]), &FORMATS, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            (s.flush_size, s.topics_dir.as_str(), s.zero_pad),
            (3, "topics", 10)
        );
        assert_eq!(
            (s.format.clone(), s.partitioner.clone()),
            (Format::Json, Partitioner::Default)
        );
        let mut problems = Problems::new();
        StorageSettings::parse(&config(&[]), &FORMATS, &mut problems);
        assert_eq!(problems[0].0, FLUSH_SIZE);
    }

    #[test]
    fn time_based_needs_its_keys() {
        let mut problems = Problems::new();
        let c = config(&[
            (FLUSH_SIZE, "3"),
            (
                PARTITIONER,
                "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            ),
        ]);
        StorageSettings::parse(&c, &FORMATS, &mut problems);
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, [PATH_FORMAT, DURATION, LOCALE, TIMEZONE]);
        let mut problems = Problems::new();
        let c = config(&[
            (FLUSH_SIZE, "3"),
            (
                PARTITIONER,
                "io.confluent.connect.storage.partitioner.HourlyPartitioner",
            ),
            (LOCALE, "en-US"),
            (TIMEZONE, "UTC"),
            (EXTRACTOR, "Record"),
            (
                FORMAT,
                "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            ),
            (BYTES_SEPARATOR, "\\r\\n"),
        ]);
        let s = StorageSettings::parse(&c, &FORMATS, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(matches!(
            s.partitioner,
            Partitioner::Time {
                duration_ms: 3_600_000,
                timestamp: Timestamp::Record,
                ..
            }
        ));
        assert_eq!(
            s.format,
            Format::Bytes {
                extension: ".bin".into(),
                separator: b"\r\n".to_vec()
            }
        );
    }
}
