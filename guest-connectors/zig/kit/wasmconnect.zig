//! wasmconnect Zig kit: write a source, a sink or a transform as a Zig
//! type, and export it with one line.
//!
//! ```zig
//! const wc = @import("wasmconnect");
//! pub const LinesSource = struct { ... };
//! comptime {
//!     wc.exportSource(LinesSource);
//! }
//! ```
//!
//! `exportSource`, `exportSink` and `exportTransform` (exports.zig) define
//! the world's C exports at comptime from what the type declares:
//!
//! every role
//!   `pub const metadata: wc.Metadata`         name, aliases, version, description
//!   `pub const config_keys: []const wc.Key`   optional; checked before `init`
//!   `pub fn validate(wc.Config, *wc.Problems) !void`   optional, further checks
//!   `pub fn init(std.mem.Allocator, wc.Config) !Self`  the task or transform starts
//!   `pub fn deinit(*Self) void`               optional, on stop or reconfigure
//! source
//!   `pub fn poll(*Self, *wc.RecordList) !void`           append records (or none)
//!   `pub fn commitRecords(*Self, []const wc.RecordAck) !void`   optional
//!   `pub fn commit(*Self) !void`              optional
//!   `pub const max_tasks: u32`                optional, default 1
//!   `pub fn alterOffsets(wc.Config, []const wc.OffsetChange) !bool`   optional
//! sink
//!   `pub fn put(*Self, []const wc.SinkRecord) !void`
//!   `pub fn flush(*Self, []const wc.PartitionOffset) !void`   optional, before commits
//!   `pub fn open(*Self, []const wc.TopicPartition) !void`, `close`   optional
//!   `pub const max_tasks: u32`                optional, default `tasks.max`
//! transform
//!   `pub fn apply(*Self, []const wc.TransformRecord, []wc.Outcome, std.mem.Allocator) !void`
//!
//! Errors: return `wc.retry(ms, fmt, args)` for a transient failure (the
//! host retries the call), `wc.fatal(fmt, args)` or any other error to
//! fail the task; `wc.fail(err, fmt, args)` attaches a message to an error
//! of your own (`wc.failJoined(err, .{ "part", 42 })` without std.fmt). Imports that fail (files, offsets) record their message,
//! so `try` reports them well.
//!
//! The generated C bindings (`wasmconnect-kit bindings c`, contract
//! `wasmconnect:connector@0.2.0`) are translated into the module `c` by
//! build.sh; `wc.c` reaches them for anything the kit does not wrap.
const std = @import("std");
pub const c = @import("c");
const config = @import("config.zig");
const diagnostic = @import("diagnostic.zig");
const exports = @import("exports.zig");
const host = @import("host.zig");
const records = @import("records.zig");

pub const exportSource = exports.exportSource;
pub const exportSink = exports.exportSink;
pub const exportTransform = exports.exportTransform;
pub const Metadata = exports.Metadata;

pub const Key = config.Key;
pub const Type = config.Type;
pub const Importance = config.Importance;
pub const Width = config.Width;
pub const Resource = config.Resource;
pub const Config = config.Config;
pub const Problems = config.Problems;

pub const Payload = records.Payload;
pub const Json = records.Json;
pub const Header = records.Header;
pub const TimestampType = records.TimestampType;
pub const SourceRecord = records.SourceRecord;
pub const SinkRecord = records.SinkRecord;
pub const TransformRecord = records.TransformRecord;
pub const Outcome = records.Outcome;
pub const RecordList = records.RecordList;
pub const TopicPartition = records.TopicPartition;
pub const PartitionOffset = records.PartitionOffset;
pub const RecordAck = records.RecordAck;
pub const OffsetChange = records.OffsetChange;

pub const fail = diagnostic.fail;
pub const failJoined = diagnostic.failJoined;
pub const fatal = diagnostic.fatal;
pub const retry = diagnostic.retry;

pub const Level = host.Level;
pub const logFn = host.logFn;
pub const stopRequested = host.stopRequested;
pub const sleepUnlessStopped = host.sleepUnlessStopped;
pub const taskId = host.taskId;
pub const connectorName = host.connectorName;
pub const readOffset = host.readOffset;
pub const readOffsetJson = host.readOffsetJson;
pub const json = host.json;
pub const File = host.File;

/// Logging into the worker's log, tagged with the connector and task:
/// `wc.log.info("read {d} lines", .{n})`. Nothing is formatted when the
/// worker's level leaves the message out; messages are cut at 1 KiB.
pub const log = struct {
    pub fn enabled(level: Level) bool {
        return host.logEnabled(level);
    }
    pub fn trace(comptime fmt: []const u8, args: anytype) void {
        host.log(.trace, fmt, args);
    }
    pub fn debug(comptime fmt: []const u8, args: anytype) void {
        host.log(.debug, fmt, args);
    }
    pub fn info(comptime fmt: []const u8, args: anytype) void {
        host.log(.info, fmt, args);
    }
    pub fn warn(comptime fmt: []const u8, args: anytype) void {
        host.log(.warn, fmt, args);
    }
    pub fn err(comptime fmt: []const u8, args: anytype) void {
        host.log(.err, fmt, args);
    }
};
