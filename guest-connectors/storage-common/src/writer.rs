//! Files being written, per topic partition and encoded partition, and
//! when they are done. Records go in with [`Writer::add`]; what comes out
//! is [`Done`] files for the connector to store, in order, each confirmed
//! with [`Writer::stored`]. [`Writer::committable`] then gives the offsets
//! the worker may commit: never past a record whose file is not stored.
//!
//! Rotation is Confluent's, per topic partition (all its open files rotate
//! together): after `flush.size` records; before a record whose timestamp
//! is `rotate.interval.ms` or more past the first in the open files; and
//! at wall-clock multiples of `rotate.schedule.interval.ms` ([`Writer::tick`]).
//! All but the last are decided by the records alone, so a task that
//! starts again from the committed offsets cuts the same files.

use std::collections::{BTreeMap, HashMap};

use wasmconnect_sdk::{PartitionOffset, SinkRecord, TopicPartition};

use crate::settings::StorageSettings;

/// A file ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// Its path: `<topics.dir>/<topic>/<encodedPartition>/<topic>+<partition>+<start>.<ext>`.
    pub path: String,
    /// Its bytes.
    pub data: Vec<u8>,
    /// The topic partition it holds records of.
    pub topic: String,
    pub partition: i32,
    /// The offset after its last record.
    pub end: i64,
    /// Records in it.
    pub records: usize,
}

/// An open file.
#[derive(Debug, Default)]
struct Open {
    start: i64,
    end: i64,
    data: Vec<u8>,
    records: usize,
}

/// One topic partition's open files and positions.
#[derive(Debug, Default)]
struct PartitionFiles {
    open: BTreeMap<String, Open>,
    records: usize,
    first_timestamp: Option<i64>,
    /// The offset after the last record taken (stored or not).
    taken: Option<i64>,
    /// The offset after the last record whose file is stored, or that
    /// needed no file.
    stored: Option<i64>,
    /// Done files not yet confirmed stored: the first offset of the
    /// rotation that made each (all its files together), and the offset
    /// after the file's last record.
    in_flight: Vec<(i64, i64)>,
}

/// The files of one task.
pub struct Writer {
    settings: StorageSettings,
    parts: HashMap<(String, i32), PartitionFiles>,
    /// The next wall-clock boundary for scheduled rotation.
    next_schedule: Option<i64>,
}

impl Writer {
    pub fn new(settings: StorageSettings) -> Writer {
        Writer {
            settings,
            parts: HashMap::new(),
            next_schedule: None,
        }
    }

    /// The settings files are written with.
    pub fn settings(&self) -> &StorageSettings {
        &self.settings
    }

    /// Adds `record`; returns the files it completes, in order. `now_ms`
    /// is the wall clock. `Err` says why the record cannot be written (the
    /// files are unchanged).
    pub fn add(&mut self, record: &SinkRecord, now_ms: i64) -> Result<Vec<Done>, String> {
        let s = &self.settings;
        let key = (record.topic.clone(), record.partition);
        let Some(value) = &record.value else {
            if !s.ignore_nulls {
                return Err("the record's value is null (set behavior.on.null.values=ignore to skip tombstones)".into());
            }
            self.skip(record);
            return Ok(Vec::new());
        };
        let encoded = s.partitioner.encode(record, &s.directory_delim, now_ms)?;
        let mut data = Vec::new();
        s.format.append(value, &mut data)?;
        let mut done = Vec::new();
        let interval = s.rotate_interval_ms;
        let part = self.parts.entry(key.clone()).or_default();
        if let (Some(interval), Some(first), Some(ts)) =
            (interval, part.first_timestamp, record.timestamp)
            && ts - first >= interval
        {
            done.extend(rotate(&self.settings, &key, part));
        }
        let part = self.parts.entry(key.clone()).or_default();
        let file = part.open.entry(encoded).or_insert_with(|| Open {
            start: record.offset,
            ..Open::default()
        });
        file.data.extend_from_slice(&data);
        file.records += 1;
        file.end = record.offset + 1;
        part.records += 1;
        part.taken = Some(record.offset + 1);
        if part.first_timestamp.is_none() {
            part.first_timestamp = record.timestamp;
        }
        if part.records >= self.settings.flush_size {
            done.extend(rotate(&self.settings, &key, part));
        }
        Ok(done)
    }

    /// Passes over `record` (a tombstone ignored, or a record the error
    /// handling took): its offset may be committed with its neighbours'.
    pub fn skip(&mut self, record: &SinkRecord) {
        let part = self
            .parts
            .entry((record.topic.clone(), record.partition))
            .or_default();
        part.taken = Some(record.offset + 1);
        advance(part);
    }

    /// Scheduled rotation: every open file, when the wall clock has passed
    /// a multiple of `rotate.schedule.interval.ms` since it opened.
    pub fn tick(&mut self, now_ms: i64) -> Vec<Done> {
        let Some(every) = self.settings.rotate_schedule_ms else {
            return Vec::new();
        };
        let shift = self.settings.offset_minutes * 60_000;
        let boundary = |t: i64| (t + shift).div_euclid(every) * every + every - shift;
        let due = match self.next_schedule {
            None => {
                self.next_schedule = Some(boundary(now_ms));
                false
            }
            Some(next) => now_ms >= next,
        };
        if !due {
            return Vec::new();
        }
        self.next_schedule = Some(boundary(now_ms));
        let mut keys: Vec<(String, i32)> = self.parts.keys().cloned().collect();
        keys.sort();
        let mut done = Vec::new();
        for key in keys {
            if let Some(part) = self.parts.get_mut(&key) {
                done.extend(rotate(&self.settings, &key, part));
            }
        }
        done
    }

    /// Every open file, done now (a flush or close that must not wait).
    pub fn rotate_all(&mut self) -> Vec<Done> {
        let mut keys: Vec<(String, i32)> = self.parts.keys().cloned().collect();
        keys.sort();
        let mut done = Vec::new();
        for key in keys {
            if let Some(part) = self.parts.get_mut(&key) {
                done.extend(rotate(&self.settings, &key, part));
            }
        }
        done
    }

    /// Confirms `file` stored: its records' offsets may be committed once
    /// every earlier record of its partition is stored too.
    pub fn stored(&mut self, file: &Done) {
        if let Some(part) = self.parts.get_mut(&(file.topic.clone(), file.partition)) {
            part.in_flight.retain(|&(_, end)| end != file.end);
            advance(part);
        }
    }

    /// The offsets the worker may commit: per partition, the offset after
    /// the last record whose file is stored.
    pub fn committable(&self) -> Vec<PartitionOffset> {
        let mut out: Vec<PartitionOffset> = self
            .parts
            .iter()
            .filter_map(|((topic, partition), p)| {
                p.stored.map(|offset| PartitionOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    offset,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        out
    }

    /// Forgets `partitions` (revoked, or about to be read again from their
    /// committed offsets): their open files are dropped, not stored.
    pub fn forget(&mut self, partitions: &[TopicPartition]) {
        for p in partitions {
            self.parts.remove(&(p.topic.clone(), p.partition));
        }
    }

    /// Records held in open files.
    pub fn buffered(&self) -> usize {
        self.parts.values().map(|p| p.records).sum()
    }
}

/// Moves the committable offset up to the first record not yet stored
/// (in an open file or a file in flight), or past everything taken. A
/// rotation's files count as one: until all are stored the offset stays at
/// the rotation's first record, so a task that starts again there cuts the
/// same files (one stored file's later records read again into a file of
/// another name would be written twice).
fn advance(part: &mut PartitionFiles) {
    let pending = part.open.values().map(|f| f.start);
    let in_flight = part.in_flight.iter().map(|&(start, _)| start);
    let next = match pending.chain(in_flight).min() {
        Some(first_unstored) => Some(first_unstored),
        None => part.taken,
    };
    if let Some(next) = next {
        part.stored = Some(part.stored.map_or(next, |s| s.max(next)));
    }
}

/// Closes every open file of one partition, in order of their encoded
/// partitions.
fn rotate(settings: &StorageSettings, key: &(String, i32), part: &mut PartitionFiles) -> Vec<Done> {
    let (topic, partition) = key;
    let s = settings;
    let files = std::mem::take(&mut part.open);
    part.records = 0;
    part.first_timestamp = None;
    let first = files.values().map(|f| f.start).min().unwrap_or_default();
    files
        .into_iter()
        .map(|(encoded, f)| {
            let mut name = format!(
                "{topic}{d}{partition}{d}{start:0pad$}",
                d = s.file_delim,
                start = f.start,
                pad = s.zero_pad,
            );
            if s.name_with_end {
                name.push_str(&format!(
                    "{}{:0pad$}",
                    s.file_delim,
                    f.end - 1,
                    pad = s.zero_pad
                ));
            }
            name.push_str(s.format.extension());
            let dir =
                [s.topics_dir.as_str(), topic.as_str(), encoded.as_str()].join(&s.directory_delim);
            part.in_flight.push((first, f.end));
            Done {
                path: format!("{dir}{}{name}", s.directory_delim),
                data: f.data,
                topic: topic.clone(),
                partition: *partition,
                end: f.end,
                records: f.records,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;
    use crate::partitioner::Partitioner;
    use wasmconnect_sdk::{Payload, TimestampType};

    fn settings(flush: usize, interval: Option<i64>) -> StorageSettings {
        StorageSettings {
            topics_dir: "topics".into(),
            flush_size: flush,
            rotate_interval_ms: interval,
            rotate_schedule_ms: None,
            offset_minutes: 0,
            partitioner: Partitioner::Default,
            format: Format::Bytes {
                extension: ".bin".into(),
                separator: b"\n".to_vec(),
            },
            directory_delim: "/".into(),
            file_delim: "+".into(),
            zero_pad: 10,
            ignore_nulls: true,
            name_with_end: false,
        }
    }

    fn record(partition: i32, offset: i64, value: Option<&str>, ts: i64) -> SinkRecord {
        SinkRecord {
            topic: "t".into(),
            partition,
            offset,
            key: None,
            value: value.map(|v| Payload::Text(v.into())),
            headers: vec![],
            timestamp: Some(ts),
            timestamp_type: TimestampType::CreateTime,
        }
    }

    #[test]
    fn files_rotate_by_size_and_offsets_follow_stores() {
        let mut w = Writer::new(settings(2, None));
        assert!(w.add(&record(0, 10, Some("a"), 0), 0).unwrap().is_empty());
        assert!(w.committable().is_empty(), "nothing stored yet");
        let done = w.add(&record(0, 11, Some("b"), 0), 0).unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].path, "topics/t/partition=0/t+0+0000000010.bin");
        assert_eq!(done[0].data, b"a\nb\n");
        assert_eq!((done[0].end, done[0].records), (12, 2));
        assert!(w.add(&record(0, 12, Some("c"), 0), 0).unwrap().is_empty());
        w.stored(&done[0]);
        let c = w.committable();
        assert_eq!(
            (c.len(), c[0].topic.as_str(), c[0].partition, c[0].offset),
            (1, "t", 0, 12)
        );
        // A tombstone ignored while a file is open does not move the offset.
        w.add(&record(0, 13, None, 0), 0).unwrap();
        assert_eq!(w.committable()[0].offset, 12);
        assert_eq!(w.buffered(), 1);
    }

    #[test]
    fn files_rotate_by_record_time_and_on_schedule() {
        let mut w = Writer::new(settings(100, Some(1000)));
        w.add(&record(1, 0, Some("a"), 5_000), 0).unwrap();
        w.add(&record(1, 1, Some("b"), 5_999), 0).unwrap();
        let done = w.add(&record(1, 2, Some("c"), 6_000), 0).unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].data, b"a\nb\n");
        assert_eq!(done[0].end, 2);

        let mut s = settings(2, None);
        s.name_with_end = true;
        let mut w = Writer::new(s);
        w.add(&record(0, 4, Some("a"), 0), 0).unwrap();
        let done = w.add(&record(0, 5, Some("b"), 0), 0).unwrap();
        assert_eq!(
            done[0].path,
            "topics/t/partition=0/t+0+0000000004+0000000005.bin"
        );

        let mut s = settings(100, None);
        s.rotate_schedule_ms = Some(60_000);
        let mut w = Writer::new(s);
        w.add(&record(0, 0, Some("a"), 0), 1_000).unwrap();
        assert!(w.tick(1_000).is_empty(), "the first tick sets the boundary");
        assert!(w.tick(59_999).is_empty());
        let done = w.tick(60_000);
        assert_eq!(done.len(), 1);
        w.stored(&done[0]);
        assert_eq!(w.committable()[0].offset, 1);
    }

    #[test]
    fn a_rotation_commits_only_once_all_its_files_are_stored() {
        let mut s = settings(3, None);
        s.partitioner = Partitioner::Field(vec!["k".into()]);
        let json = |v: &str| {
            Some(Payload::Json(wasmconnect_sdk::JsonPayload {
                document: v.into(),
                schema: None,
            }))
        };
        let mut w = Writer::new(s);
        let mut add = |offset: i64, v: &str| {
            let mut r = record(0, offset, None, 0);
            r.value = json(v);
            w.add(&r, 0).unwrap()
        };
        add(10, r#"{"k":"x"}"#);
        add(11, r#"{"k":"y"}"#);
        let done = add(12, r#"{"k":"x"}"#);
        assert_eq!(done.len(), 2);
        let (x, y) = (&done[0], &done[1]);
        assert_eq!(
            (x.path.as_str(), y.path.as_str()),
            (
                "topics/t/k=x/t+0+0000000010.bin",
                "topics/t/k=y/t+0+0000000011.bin"
            )
        );
        // x holds 10 and 12; with y not stored, committing 11 would read 12
        // again into a file named +12 beside x's copy.
        w.stored(x);
        assert_eq!(w.committable()[0].offset, 10);
        w.stored(y);
        assert_eq!(w.committable()[0].offset, 13);
    }

    #[test]
    fn tombstones_alone_advance_and_forget_drops() {
        let mut w = Writer::new(settings(2, None));
        w.add(&record(0, 0, None, 0), 0).unwrap();
        assert_eq!(w.committable()[0].offset, 1);
        w.add(&record(0, 1, Some("x"), 0), 0).unwrap();
        w.forget(&[TopicPartition {
            topic: "t".into(),
            partition: 0,
        }]);
        assert!(w.committable().is_empty());
        assert!(w.rotate_all().is_empty());
        let mut strict = settings(2, None);
        strict.ignore_nulls = false;
        assert!(
            Writer::new(strict)
                .add(&record(0, 0, None, 0), 0)
                .unwrap_err()
                .contains("null")
        );
    }
}
