//! The records connector code reads and builds: plain Zig structs of
//! slices and optionals, packed into (and unpacked from) the contract's
//! batches by batch.zig.
//!
//! Records the kit hands you are views: their slices point into the batch,
//! which lives until your function returns, so copy what you keep. Records
//! you hand the kit may point anywhere that outlives the call (your state,
//! the call's arena, string literals, the input records): the kit copies
//! them into the batch it returns.
const std = @import("std");

/// The key or the value of a record.
pub const Payload = union(enum) {
    /// Raw bytes (ByteArrayConverter).
    binary: []const u8,
    /// UTF-8 text (StringConverter).
    text: []const u8,
    /// A JSON document with its optional Connect schema (JsonConverter).
    json: Json,

    /// The raw bytes, the text or the JSON document.
    pub fn bytes(p: Payload) []const u8 {
        return switch (p) {
            .binary => |b| b,
            .text => |t| t,
            .json => |j| j.document,
        };
    }
};

/// A JSON value and, when it has one, its Connect schema (both JSON text).
pub const Json = struct {
    document: []const u8,
    schema: ?[]const u8 = null,
};

/// A record header; a null `value` is a null header value.
pub const Header = struct {
    key: []const u8,
    value: ?[]const u8 = null,
};

/// How a sink record's timestamp was assigned.
pub const TimestampType = enum(u8) { no_timestamp, create_time, log_append_time };

/// What a source's `poll` produces (Kafka Connect's SourceRecord).
pub const SourceRecord = struct {
    /// Where the record comes from, a JSON object such as `{"file":"/in.txt"}`.
    source_partition: []const u8,
    /// How far into that partition it is, a JSON object such as
    /// `{"position":42}`; handed back by `wc.readOffset` after a restart.
    source_offset: []const u8,
    topic: []const u8,
    /// null: the producer's partitioner chooses.
    partition: ?i32 = null,
    key: ?Payload = null,
    value: ?Payload = null,
    headers: []const Header = &.{},
    /// Milliseconds since the Unix epoch; null: the producer stamps it.
    timestamp: ?i64 = null,
    /// Set it to hear of the record's fate in `commitRecords`.
    ack_token: ?u64 = null,
};

/// What a sink's `put` receives (Kafka Connect's SinkRecord).
pub const SinkRecord = struct {
    topic: []const u8,
    partition: i32,
    offset: i64,
    key: ?Payload = null,
    value: ?Payload = null,
    headers: []const Header = &.{},
    timestamp: ?i64 = null,
    timestamp_type: TimestampType = .no_timestamp,
};

/// What a transform's `apply` reads and may return in its place.
pub const TransformRecord = struct {
    topic: []const u8,
    partition: ?i32 = null,
    key: ?Payload = null,
    value: ?Payload = null,
    headers: []const Header = &.{},
    timestamp: ?i64 = null,
};

/// What becomes of one record handed to `apply`.
pub const Outcome = union(enum) {
    /// Pass the record on unchanged.
    keep,
    /// Drop it.
    drop,
    /// Pass this record on instead; the kit copies it once `apply` returns.
    replace: TransformRecord,
};

pub const TopicPartition = struct {
    topic: []const u8,
    partition: i32,
};

/// A consumer position: the offset of the next record to read.
pub const PartitionOffset = struct {
    topic: []const u8,
    partition: i32,
    offset: i64,
};

/// What became of a source record that carried an `ack_token`.
pub const RecordAck = struct {
    token: u64,
    status: union(enum) {
        /// Kafka acknowledged it at this partition and offset.
        written: struct { partition: i32, offset: i64 },
        /// A transform dropped it.
        filtered,
    },
};

/// An operator's change to one source partition's offset (REST
/// `PATCH /connectors/{name}/offsets`): `offset` null means reset.
pub const OffsetChange = struct {
    partition: []const u8,
    offset: ?[]const u8,
};

/// The records one `poll` returns. `arena` is scratch memory that lives
/// until the kit has packed the records: build their strings in it.
pub const RecordList = struct {
    arena: std.mem.Allocator,
    records: std.ArrayList(SourceRecord) = .empty,

    pub fn append(list: *RecordList, record: SourceRecord) error{OutOfMemory}!void {
        try list.records.append(list.arena, record);
    }

    pub fn len(list: *const RecordList) usize {
        return list.records.items.len;
    }
};
