//! FileStreamSource as a wasmconnect component (Kafka Connect's
//! `org.apache.kafka.connect.file.FileStreamSourceConnector`).
//!
//! Reads lines from the file named by `file` and sends each one to `topic`.
//! Source partition `{"filename": <file>}`, source offset
//! `{"position": <byte offset after the line>}`, so a restarted task resumes
//! after the last committed line. Unlike Kafka's (which counts characters),
//! positions are byte offsets, so resuming is exact for non-ASCII text too.
//! Reading standard input is not possible in the sandbox, so `file` must be set.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasmconnect_sdk::{
    Config, ConfigExt, ConfigKey, ConfigType, ConfigValue, Connector, File, Importance, Key,
    OpenMode, Payload, Plugin, PluginKind, PluginMetadata, ResourceKind, SourceRecord, SourceTask,
    TaskError, fatal, open_file, read_offsets, warn,
};

const FILE: &str = "file";
const TOPIC: &str = "topic";
const BATCH_SIZE: &str = "batch.size";
const DEFAULT_BATCH_SIZE: u32 = 2000;
/// How much of the file one host call reads.
const READ_CHUNK: u32 = 64 * 1024;
/// How long an empty poll waits for the file to grow (Kafka waits one second).
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// The connector role: one task, configured exactly like the connector.
pub struct FileSourceConnector {
    config: Config,
}

impl Plugin for FileSourceConnector {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "org.apache.kafka.connect.file.FileStreamSourceConnector".into(),
            aliases: vec![
                "FileStreamSource".into(),
                "FileStreamSourceConnector".into(),
            ],
            // Test builds set another version to exercise upgrades.
            version: option_env!("WASMCONNECT_PLUGIN_VERSION")
                .unwrap_or(env!("CARGO_PKG_VERSION"))
                .into(),
            kind: PluginKind::Source,
            description: "Reads lines from a file and sends each one as a record".into(),
            task_class: Some("org.apache.kafka.connect.file.FileStreamSourceTask".into()),
        }
    }

    fn config_definition() -> Vec<ConfigKey> {
        vec![
            Key::new(FILE, ConfigType::String)
                .importance(Importance::High)
                .doc("Source filename. If not specified, the standard input will be used")
                .resource(ResourceKind::ReadFile)
                .into(),
            Key::new(TOPIC, ConfigType::String)
                .required()
                .importance(Importance::High)
                .doc("The topic to publish data to")
                .into(),
            Key::new(BATCH_SIZE, ConfigType::Int)
                .default_value("2000")
                .importance(Importance::Low)
                .doc("The maximum number of records the source task can read from the file each time it is polled")
                .into(),
        ]
    }

    fn validate(config: &[(String, String)]) -> Vec<ConfigValue> {
        let mut out = Vec::new();
        if config.get_non_blank(FILE).is_none() {
            out.push(ConfigValue {
                name: FILE.into(),
                value: config.value(FILE).map(str::to_string),
                recommended_values: Vec::new(),
                errors: vec![
                    "Missing required configuration \"file\": the sandbox has no standard input to read from".into(),
                ],
                visible: true,
            });
        }
        if let Some(raw) = config.get_non_blank(BATCH_SIZE)
            && raw.trim().parse::<u32>().map_or(true, |n| n == 0)
        {
            out.push(ConfigValue {
                name: BATCH_SIZE.into(),
                value: Some(raw.into()),
                recommended_values: Vec::new(),
                errors: vec![format!(
                    "Invalid value {raw} for configuration batch.size: Value must be at least 1"
                )],
                visible: true,
            });
        }
        out
    }
}

impl Connector for FileSourceConnector {
    fn start(config: Config) -> Result<Self, TaskError> {
        Ok(FileSourceConnector { config })
    }

    fn task_configs(&mut self, _max_tasks: u32) -> Result<Vec<Config>, TaskError> {
        // One file, one reader: Kafka's FileStreamSource always runs one task.
        Ok(vec![self.config.clone()])
    }

    fn alter_offsets(
        config: &[(String, String)],
        offsets: &[(String, Option<String>)],
    ) -> Result<bool, TaskError> {
        if config.get_non_blank(FILE).is_none() {
            return Err(fatal(
                "Offsets cannot be modified if the 'file' configuration is unspecified",
            ));
        }
        for (partition, offset) in offsets {
            let partition: serde_json::Value = serde_json::from_str(partition)
                .map_err(|e| fatal(format!("Partition is not JSON: {e}")))?;
            if partition.get("filename").is_none() {
                return Err(fatal("Partition objects should contain the key 'filename'"));
            }
            if let Some(offset) = offset {
                let offset: serde_json::Value = serde_json::from_str(offset)
                    .map_err(|e| fatal(format!("Offset is not JSON: {e}")))?;
                match offset.get("position") {
                    None => {
                        return Err(fatal(
                            "Offset objects should either be null or contain the key 'position'",
                        ));
                    }
                    Some(p) if p.as_i64().is_none() => {
                        return Err(fatal(
                            "The value for the 'position' key in the offset is expected to be a Long value",
                        ));
                    }
                    Some(p) if p.as_i64() < Some(0) => {
                        return Err(fatal(
                            "The value for the 'position' key in the offset should be a non-negative value",
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(true)
    }
}

/// The task: tails the file from the last committed position.
pub struct FileSourceTask {
    path: String,
    topic: String,
    batch_size: usize,
    partition_json: String,
    /// Opened on the first poll that finds the file.
    file: Option<File>,
    /// Byte offset in the file of `buffer[0]`.
    buffer_start: u64,
    /// Bytes read but not yet emitted as complete lines.
    buffer: Vec<u8>,
}

impl SourceTask for FileSourceTask {
    fn start(config: Config) -> Result<Self, TaskError> {
        let path = config
            .get_non_blank(FILE)
            .ok_or_else(|| fatal("Missing required configuration \"file\""))?
            .to_string();
        let topic = config
            .get_non_blank(TOPIC)
            .ok_or_else(|| {
                fatal("Missing required configuration \"topic\" which has no default value.")
            })?
            .to_string();
        let batch_size = config.parse_or(BATCH_SIZE, DEFAULT_BATCH_SIZE)?.max(1) as usize;
        let partition_json = serde_json::json!({ "filename": path }).to_string();
        Ok(FileSourceTask {
            path,
            topic,
            batch_size,
            partition_json,
            file: None,
            buffer_start: 0,
            buffer: Vec::new(),
        })
    }

    fn poll(&mut self) -> Result<Vec<SourceRecord>, TaskError> {
        if self.file.is_none() && !self.open()? {
            wasmconnect_sdk::sleep_unless_stopped(IDLE_WAIT);
            return Ok(Vec::new());
        }
        let mut records = self.take_lines();
        while records.len() < self.batch_size {
            if !self.read_more()? {
                break;
            }
            records.extend(self.take_lines_up_to(self.batch_size - records.len()));
        }
        if records.is_empty() {
            wasmconnect_sdk::sleep_unless_stopped(IDLE_WAIT);
        }
        Ok(records)
    }
}

impl FileSourceTask {
    /// Opens the file and seeks to the committed position; `false` when the
    /// file does not exist yet.
    fn open(&mut self) -> Result<bool, TaskError> {
        let file = match open_file(&self.path, OpenMode::Read) {
            Ok(f) => f,
            Err(wasmconnect_sdk::FileError::NotFound(_)) => {
                warn!(
                    "Couldn't find file {} for FileStreamSourceTask, sleeping to wait for it to be created",
                    self.path
                );
                return Ok(false);
            }
            Err(e) => return Err(fatal(format!("Couldn't open {}: {e}", self.path))),
        };
        let stored = read_offsets(std::slice::from_ref(&self.partition_json))?;
        let position = match stored.into_iter().next().flatten() {
            None => 0,
            Some(offset) => {
                let offset: serde_json::Value = serde_json::from_str(&offset)
                    .map_err(|e| fatal(format!("Stored offset is not JSON: {e}")))?;
                match offset.get("position") {
                    None | Some(serde_json::Value::Null) => 0,
                    Some(p) => p
                        .as_u64()
                        .ok_or_else(|| fatal("Offset position is the incorrect type"))?,
                }
            }
        };
        self.buffer_start = position;
        self.buffer.clear();
        self.file = Some(file);
        Ok(true)
    }

    /// Reads the next chunk into the buffer; `false` at end of file.
    fn read_more(&mut self) -> Result<bool, TaskError> {
        let Some(file) = &self.file else {
            return Ok(false);
        };
        let at = self.buffer_start + self.buffer.len() as u64;
        let chunk = file
            .read(at, READ_CHUNK)
            .map_err(|e| fatal(format!("Error reading {}: {e}", self.path)))?;
        if chunk.is_empty() {
            return Ok(false);
        }
        self.buffer.extend_from_slice(&chunk);
        Ok(true)
    }

    fn take_lines(&mut self) -> Vec<SourceRecord> {
        self.take_lines_up_to(self.batch_size)
    }

    /// Cuts up to `max` complete lines off the front of the buffer. A line
    /// ends at `\n`, `\r\n` or a lone `\r`; a `\r` that ends the buffer waits
    /// for the next byte to tell which.
    fn take_lines_up_to(&mut self, max: usize) -> Vec<SourceRecord> {
        let mut records = Vec::new();
        let mut consumed = 0usize;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .ok();
        while records.len() < max {
            let rest = &self.buffer[consumed..];
            let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                break;
            };
            let terminator = match (rest[end], rest.get(end + 1)) {
                (b'\r', Some(b'\n')) => 2,
                (b'\r', None) => break,
                _ => 1,
            };
            let line = String::from_utf8_lossy(&rest[..end]).into_owned();
            consumed += end + terminator;
            let position = self.buffer_start + consumed as u64;
            let mut record = SourceRecord::new(
                self.partition_json.clone(),
                format!("{{\"position\":{position}}}"),
                self.topic.clone(),
                Some(Payload::text(line)),
            );
            record.timestamp = now;
            records.push(record);
        }
        self.buffer.drain(..consumed);
        self.buffer_start += consumed as u64;
        records
    }
}

wasmconnect_sdk::export_source!(FileSourceConnector, FileSourceTask);
