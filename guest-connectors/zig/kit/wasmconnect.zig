//! wasmconnect Zig kit: slices and optionals over the C bindings.
//!
//! The C bindings (`wasmconnect-kit bindings c`, from wit/connector.wit,
//! `wasmconnect:connector@0.2.0`) and the C kit's helpers
//! (`guest-connectors/c/kit`) are translated into the module `c` by
//! `zig translate-c` in build.sh; this module re-exports them as `c` and
//! adds what makes them pleasant from Zig. Ownership is the C kit's:
//! arguments handed to an export belong to it, and everything an export
//! returns must come from `malloc` (the generated post-return code frees
//! it), which is why these helpers allocate through libc. Batches of
//! records are the exception: `applyBatch`, `putBatch` and `pollBatch`
//! (batch.zig) own them, hand connector code views of ordinary records
//! and copy what it returns.
const std = @import("std");
pub const c = @import("c");
const batch = @import("batch.zig");

pub const Config = c.wc_config_t;
pub const Error = c.wc_error_t;
pub const Payload = c.wasmconnect_connector_types_payload_t;

pub const Header = batch.Header;
pub const TransformRecord = batch.TransformRecord;
pub const SinkRecord = batch.SinkRecord;
pub const SourceRecord = batch.SourceRecord;
pub const TransformBatch = batch.TransformBatch;
pub const SinkBatch = batch.SinkBatch;
pub const SourceBatch = batch.SourceBatch;
pub const Applied = batch.Applied;
pub const Outcome = batch.Outcome;
pub const applyBatch = batch.applyBatch;
pub const putBatch = batch.putBatch;
pub const pollBatch = batch.pollBatch;

/// The bytes of a WIT string, borrowed.
pub fn bytes(s: c.wc_string_t) []const u8 {
    if (s.len == 0) return &.{};
    return s.ptr[0..s.len];
}

/// The items of a generated `list<T>`, borrowed.
pub fn items(list: anytype) []const std.meta.Child(@TypeOf(list.ptr)) {
    if (list.len == 0) return &.{};
    return list.ptr[0..list.len];
}

/// A WIT string borrowing `text`, for records the kit packs (it only reads
/// them); never for what an export returns itself, which must be heap.
pub fn view(text: []const u8) c.wc_string_t {
    return .{ .ptr = @constCast(text.ptr), .len = text.len };
}

/// A header borrowing `key` and `value` (null: a null value), for records
/// the kit packs.
pub fn header(key: []const u8, value: ?[]const u8) Header {
    var h: Header = .{ .key = view(key) };
    if (value) |v| {
        h.value.is_some = true;
        h.value.val = .{ .ptr = @constCast(v.ptr), .len = v.len };
    }
    return h;
}

/// A heap WIT string holding a copy of `text` (empty: owns nothing).
pub fn str(text: []const u8) c.wc_string_t {
    return c.wc_str_n(text.ptr, text.len);
}

/// A heap list of heap strings.
pub fn strings(texts: []const []const u8) c.wc_list_string_t {
    const list = alloc(c.wc_string_t, texts.len);
    for (texts, 0..) |text, i| list[i] = str(text);
    return .{ .ptr = list, .len = texts.len };
}

/// `count` uninitialised items from malloc; traps when memory is exhausted,
/// which the host reports as the task's failure. An empty list owns no
/// memory (the generated post-return code frees only non-empty lists), so
/// zero items give an aligned pointer that is never dereferenced.
pub fn alloc(comptime T: type, count: usize) [*]T {
    if (count == 0) return @ptrFromInt(@alignOf(T));
    const raw = c.malloc(count * @sizeOf(T)) orelse @trap();
    return @ptrCast(@alignCast(raw));
}

/// The value of `key` with blanks trimmed, or null when unset or blank.
/// Borrowed from `config`.
pub fn configGet(config: *const Config, key: [:0]const u8) ?[]const u8 {
    const value = c.wc_config_find(config, key.ptr) orelse return null;
    const trimmed = std.mem.trim(u8, bytes(value.*), " \t\r\n");
    return if (trimmed.len == 0) null else trimmed;
}

/// A heap copy of `text` that outlives the call (for settings kept
/// between calls).
pub fn keep(text: []const u8) []u8 {
    const copy = alloc(u8, text.len);
    @memcpy(copy[0..text.len], text);
    return copy[0..text.len];
}

/// Fills `err` with a fatal error and returns false, so an export can
/// `return wc.fatal(err, "...")`.
pub fn fatal(err: *Error, message: []const u8) bool {
    err.tag = c.WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_FATAL;
    err.val.fatal = str(message);
    return false;
}

/// Fills `err` with a retriable error (the host retries the call, after
/// `backoff_ms` when it is not 0) and returns false.
pub fn retriable(err: *Error, message: []const u8, backoff_ms: u32) bool {
    err.tag = c.WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_RETRIABLE;
    err.val.retriable.message = str(message);
    err.val.retriable.backoff_ms.is_some = backoff_ms != 0;
    err.val.retriable.backoff_ms.val = backoff_ms;
    return false;
}

pub const Level = enum(u8) { trace, debug, info, warn, err };

/// Logs `message` through the host, tagged with the connector and task,
/// when `level` is enabled.
pub fn log(level: Level, message: []const u8) void {
    const l: u8 = @intFromEnum(level);
    if (!c.wasmconnect_connector_logging_enabled(l)) return;
    var text = str(message);
    defer if (text.len > 0) c.free(text.ptr);
    c.wasmconnect_connector_logging_log(l, &text);
}

/// Logs `message` at info level.
pub fn info(message: []const u8) void {
    log(.info, message);
}

/// The bytes of a payload: raw bytes, UTF-8 text, or the JSON document.
pub fn payloadBytes(payload: *const Payload) []const u8 {
    return switch (payload.tag) {
        c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_BINARY => if (payload.val.binary.len == 0)
            &.{}
        else
            payload.val.binary.ptr[0..payload.val.binary.len],
        c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_TEXT => bytes(payload.val.text),
        else => bytes(payload.val.json.document),
    };
}
