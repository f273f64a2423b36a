//! What a sink task makes of a consumed message: the record its plugin
//! sees, converted by the connector's converters, or the message as
//! consumed for the error reporter when conversion fails.

use rdkafka::Message;
use rdkafka::Timestamp;
use rdkafka::message::{BorrowedMessage, Headers};

use super::errors::{Consumed, Stage};
use crate::bindings::types::{Header, SinkRecord, TimestampType};
use crate::convert::Converter;

/// `msg` as consumed, for error reports (`headers`: its headers, already
/// copied).
pub(super) fn as_consumed(msg: &BorrowedMessage<'_>, headers: &[Header]) -> Consumed {
    let (timestamp, timestamp_type) = timestamp_of(msg);
    Consumed {
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
        timestamp,
        timestamp_type,
        key: msg.key().map(<[u8]>::to_vec),
        value: msg.payload().map(<[u8]>::to_vec),
        headers: headers.to_vec(),
    }
}

pub(super) fn headers_of(msg: &BorrowedMessage<'_>) -> Vec<Header> {
    msg.headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    key: h.key.to_string(),
                    value: h.value.map(<[u8]>::to_vec),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn timestamp_of(msg: &BorrowedMessage<'_>) -> (Option<i64>, TimestampType) {
    match msg.timestamp() {
        Timestamp::NotAvailable => (None, TimestampType::NoTimestamp),
        Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
    }
}

/// Converts a consumed message into what the plugin sees; a failure names
/// the converter's stage.
pub(super) fn convert(
    (key_converter, value_converter): (Converter, Converter),
    msg: &BorrowedMessage<'_>,
) -> Result<SinkRecord, (Stage, String)> {
    let at = || {
        format!(
            "{}-{} offset {}",
            msg.topic(),
            msg.partition(),
            msg.offset()
        )
    };
    let key = key_converter.to_payload(msg.key()).map_err(|e| {
        (
            Stage::KeyConverter,
            format!("converting the key of the record at {} failed: {e}", at()),
        )
    })?;
    let value = value_converter.to_payload(msg.payload()).map_err(|e| {
        (
            Stage::ValueConverter,
            format!("converting the value of the record at {} failed: {e}", at()),
        )
    })?;
    let (timestamp, timestamp_type) = timestamp_of(msg);
    Ok(SinkRecord {
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
        key,
        value,
        headers: headers_of(msg),
        timestamp,
        timestamp_type,
    })
}
