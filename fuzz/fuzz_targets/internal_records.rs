//! Records of the config, status and offsets topics, which any client of
//! the cluster can write: the first line is the key, the rest the value.
#![no_main]

use wasmconnect::distributed::config_log::ConfigRecord;
use wasmconnect::distributed::status_log::{StatusKey, StatusRecord, parse_offset_key};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (key, value) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = ConfigRecord::decode(key, Some(value.as_bytes()));
    let _ = ConfigRecord::decode(key, None);
    let _ = StatusRecord::decode(data);
    let _ = StatusKey::decode(&text);
    let _ = parse_offset_key(data);
});
