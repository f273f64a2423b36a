//! The directory (encoded partition) a record's file goes to: Confluent's
//! `DefaultPartitioner` (`partition=<n>`), `FieldPartitioner`
//! (`<field>=<value>`, one directory a field) and `TimeBasedPartitioner`
//! (and its Hourly and Daily presets): a time from the record, floored to
//! `partition.duration.ms` in `timezone`, formatted with `path.format`.

use serde_json::Value as Json;
use wasmconnect_sdk::{Payload, SinkRecord};

use crate::time::Pattern;

/// Where a TimeBased partitioner takes a record's time from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timestamp {
    /// The Kafka record's timestamp (`Record`).
    Record,
    /// A field of the value, milliseconds since the epoch (`RecordField`).
    Field(String),
    /// The worker's clock when the record is written (`Wallclock`).
    Wallclock,
}

/// A partitioner, configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partitioner {
    Default,
    Field(Vec<String>),
    Time {
        duration_ms: i64,
        pattern: Pattern,
        offset_minutes: i64,
        timestamp: Timestamp,
    },
}

impl Partitioner {
    /// The encoded partition of `record`, directories joined by `delim`.
    /// `now_ms` is the wall clock. `Err` says why the record has none.
    pub fn encode(&self, record: &SinkRecord, delim: &str, now_ms: i64) -> Result<String, String> {
        match self {
            Partitioner::Default => Ok(format!("partition={}", record.partition)),
            Partitioner::Field(fields) => {
                let value = value_json(record)?;
                let parts: Result<Vec<String>, String> = fields
                    .iter()
                    .map(|f| match value.get(f) {
                        Some(Json::String(s)) => Ok(format!("{f}={s}")),
                        Some(v @ (Json::Number(_) | Json::Bool(_))) => Ok(format!("{f}={v}")),
                        Some(other) => Err(format!(
                            "partition.field.name {f} must hold a string, number or boolean, not {other}"
                        )),
                        None => Err(format!("the value has no field {f} (partition.field.name)")),
                    })
                    .collect();
                Ok(parts?.join(delim))
            }
            Partitioner::Time {
                duration_ms,
                pattern,
                offset_minutes,
                timestamp,
            } => {
                let at = match timestamp {
                    Timestamp::Record => record
                        .timestamp
                        .ok_or("the record has no timestamp (timestamp.extractor=Record)")?,
                    Timestamp::Wallclock => now_ms,
                    Timestamp::Field(f) => match value_json(record)?.get(f) {
                        Some(Json::Number(n)) => n.as_i64().ok_or_else(|| {
                            format!("timestamp.field {f} is not whole milliseconds")
                        })?,
                        _ => {
                            return Err(format!(
                                "the value has no numeric field {f} (timestamp.field, milliseconds since the epoch)"
                            ));
                        }
                    },
                };
                // Buckets are aligned in the partitioner's zone, as Joda does.
                let shift = offset_minutes * 60_000;
                let start = (at + shift).div_euclid(*duration_ms) * duration_ms - shift;
                Ok(pattern.format(start, *offset_minutes))
            }
        }
    }
}

fn value_json(record: &SinkRecord) -> Result<Json, String> {
    match &record.value {
        Some(Payload::Json(j)) => serde_json::from_str(&j.document)
            .map_err(|e| format!("the value is not valid JSON: {e}")),
        _ => Err("this partitioner reads fields of a Struct or map value (JsonConverter)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmconnect_sdk::{JsonPayload, TimestampType};

    fn record(value: &str, ts: Option<i64>) -> SinkRecord {
        SinkRecord {
            topic: "t".into(),
            partition: 3,
            offset: 9,
            key: None,
            value: Some(Payload::Json(JsonPayload {
                document: value.into(),
                schema: None,
            })),
            headers: vec![],
            timestamp: ts,
            timestamp_type: TimestampType::CreateTime,
        }
    }

    #[test]
    fn default_and_field() {
        let r = record(r#"{"country":"fr","n":7,"x":{}}"#, None);
        assert_eq!(
            Partitioner::Default.encode(&r, "/", 0).unwrap(),
            "partition=3"
        );
        let f = Partitioner::Field(vec!["country".into(), "n".into()]);
        assert_eq!(f.encode(&r, "/", 0).unwrap(), "country=fr/n=7");
        assert!(
            Partitioner::Field(vec!["x".into()])
                .encode(&r, "/", 0)
                .is_err()
        );
        assert!(
            Partitioner::Field(vec!["gone".into()])
                .encode(&r, "/", 0)
                .unwrap_err()
                .contains("no field gone")
        );
    }

    #[test]
    fn time_based_buckets_in_the_zone() {
        let hourly = |offset, timestamp| Partitioner::Time {
            duration_ms: 3_600_000,
            pattern: Pattern::parse("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH").unwrap(),
            offset_minutes: offset,
            timestamp,
        };
        // 2023-11-14T22:13:20.123Z
        let r = record(r#"{"at":1700000000123}"#, Some(1_700_000_000_123));
        assert_eq!(
            hourly(0, Timestamp::Record).encode(&r, "/", 0).unwrap(),
            "year=2023/month=11/day=14/hour=22"
        );
        assert_eq!(
            hourly(90, Timestamp::Record).encode(&r, "/", 0).unwrap(),
            "year=2023/month=11/day=14/hour=23"
        );
        assert_eq!(
            hourly(0, Timestamp::Field("at".into()))
                .encode(&r, "/", 0)
                .unwrap(),
            "year=2023/month=11/day=14/hour=22"
        );
        assert_eq!(
            hourly(0, Timestamp::Wallclock).encode(&r, "/", 0).unwrap(),
            "year=1970/month=01/day=01/hour=00"
        );
        assert!(
            hourly(0, Timestamp::Record)
                .encode(&record("{}", None), "/", 0)
                .is_err()
        );
    }
}
