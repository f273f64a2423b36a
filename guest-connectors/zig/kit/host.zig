//! What the worker offers a connector: logging, who the instance is and
//! whether it should stop, committed source offsets, and the files its
//! configuration names. Failures become Zig errors with a message recorded
//! (diagnostic.zig), so a connector can simply `try` them.
//!
//! Functions that use an import only the source or sink world has
//! (`offsets`, `files`) compile only into components that call them.
const std = @import("std");
const abi = @import("abi.zig");
const diagnostic = @import("diagnostic.zig");
const c = abi.c;

pub const Level = enum(u8) { trace, debug, info, warn, err };

pub fn logEnabled(level: Level) bool {
    return c.wasmconnect_connector_logging_enabled(@backingInt(level));
}

/// Logs one line in the worker's log, tagged with the connector and task,
/// when `level` is enabled; longer messages are cut at 1 KiB.
pub fn log(level: Level, comptime fmt: []const u8, args: anytype) void {
    if (!logEnabled(level)) return;
    var buf: [1024]u8 = undefined;
    var w: std.Io.Writer = .fixed(&buf);
    w.print(fmt, args) catch {};
    var text = abi.listOf(abi.String, w.buffered());
    c.wasmconnect_connector_logging_log(@backingInt(level), &text);
}

/// `std.log` into the worker's log: in your root file,
/// `pub const std_options: std.Options = .{ .logFn = wc.logFn, .log_level = .debug };`
/// (the worker's own level still applies).
pub fn logFn(comptime level: std.log.Level, comptime scope: @EnumLiteral(), comptime fmt: []const u8, args: anytype) void {
    const prefix = if (scope == .default) "" else "(" ++ @tagName(scope) ++ ") ";
    log(switch (level) {
        .debug => .debug,
        .info => .info,
        .warn => .warn,
        .err => .err,
    }, prefix ++ fmt, args);
}

/// Whether the worker has asked this instance to stop (or pause).
pub fn stopRequested() bool {
    return c.wasmconnect_connector_context_stop_requested();
}

extern "c" fn nanosleep(duration: *const std.c.timespec, rest: ?*std.c.timespec) c_int;

/// Sleeps up to `ms` milliseconds, returning true early once the worker
/// asks the instance to stop: what an idle source does instead of
/// returning empty batches in a tight loop.
pub fn sleepUnlessStopped(ms: u32) bool {
    // Naps of 20 ms keep a stop request from waiting behind a long sleep.
    var slept: u32 = 0;
    while (slept < ms) : (slept += 20) {
        if (stopRequested()) return true;
        const nap = @min(ms - slept, 20);
        const t: std.c.timespec = .{ .sec = 0, .nsec = @as(c_long, nap) * std.time.ns_per_ms };
        _ = nanosleep(&t, null);
    }
    return stopRequested();
}

/// The task's number, or null in the connector instance and transforms'.
pub fn taskId() ?u32 {
    var id: u32 = 0;
    return if (c.wasmconnect_connector_context_task_id(&id)) id else null;
}

/// The connector's name, allocated with `allocator`.
pub fn connectorName(allocator: std.mem.Allocator) error{OutOfMemory}![]u8 {
    var name: abi.String = .{};
    c.wasmconnect_connector_context_connector_name(&name);
    defer abi.free(abi.bytes(name));
    return allocator.dupe(u8, abi.bytes(name));
}

/// A task error the host returned, as a Zig error with its message.
fn hostError(err: *abi.TaskError, what: []const u8) error{ Retriable, Fatal } {
    defer c.wasmconnect_connector_types_task_error_free(err);
    if (err.tag == c.WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_RETRIABLE)
        return diagnostic.retry(0, "{s}: {s}", .{ what, abi.bytes(err.val.retriable.message) });
    return diagnostic.fatal("{s}: {s}", .{ what, abi.bytes(err.val.fatal) });
}

/// The committed offset of the source partition `partition` (a JSON
/// object, as in your records' `source_partition`) as JSON text allocated
/// with `allocator`, or null when none was committed. The worker hands it
/// back canonical: keys sorted, no spaces.
pub fn readOffsetJson(allocator: std.mem.Allocator, partition: []const u8) error{ OutOfMemory, Retriable, Fatal }!?[]u8 {
    var partitions = abi.listOf(c.wasmconnect_connector_offsets_list_json_t, &[_]abi.String{abi.listOf(abi.String, partition)});
    var found: c.wasmconnect_connector_offsets_list_option_json_t = .{};
    var err: abi.TaskError = .{};
    if (!c.wasmconnect_connector_offsets_read(&partitions, &found, &err)) return hostError(&err, "reading committed offsets");
    defer c.wasmconnect_connector_offsets_list_option_json_free(&found);
    const offsets = abi.items(found);
    if (offsets.len != 1 or !offsets[0].is_some) return null;
    return try allocator.dupe(u8, abi.bytes(offsets[0].val));
}

/// As `readOffsetJson`, parsed into `T` with std.json (unknown fields
/// ignored); `partition` is any value std.json can write, such as
/// `.{ .file = path }`. An offset that does not parse is a fatal error.
pub fn readOffset(comptime T: type, arena: std.mem.Allocator, partition: anytype) error{ OutOfMemory, Retriable, Fatal }!?T {
    const key = try std.json.Stringify.valueAlloc(arena, partition, .{});
    const text = try readOffsetJson(arena, key) orelse return null;
    return std.json.parseFromSliceLeaky(T, arena, text, .{ .ignore_unknown_fields = true }) catch |e|
        diagnostic.fatal("the committed offset {s} of source partition {s} is not what this connector writes: {s}", .{ text, key, @errorName(e) });
}

/// `value` as JSON text (std.json), for source partitions and offsets.
pub fn json(allocator: std.mem.Allocator, value: anytype) error{OutOfMemory}![]u8 {
    return std.json.Stringify.valueAlloc(allocator, value, .{});
}

/// A file the configuration names (a key declared with `.resource =
/// .read_file` or `.write_file`), through the worker.
pub const File = struct {
    handle: c.wasmconnect_connector_files_own_file_t,

    pub const Mode = enum(u8) { read, append };
    pub const Error = error{ NotGranted, FileNotFound, InputOutput, OutOfMemory };

    /// Opens `path` exactly as the configuration spells it.
    pub fn open(path: []const u8, mode: Mode) Error!File {
        var p = abi.listOf(abi.String, path);
        var handle: c.wasmconnect_connector_files_own_file_t = .{};
        var err: c.wasmconnect_connector_files_file_error_t = .{};
        if (!c.wasmconnect_connector_files_open(&p, @backingInt(mode), &handle, &err)) return fileError(&err, "opening", path);
        return .{ .handle = handle };
    }

    pub fn close(f: File) void {
        c.wasmconnect_connector_files_file_drop_own(f.handle);
    }

    fn borrow(f: File) c.wasmconnect_connector_files_borrow_file_t {
        return c.wasmconnect_connector_files_borrow_file(f.handle);
    }

    /// Reads up to `buf.len` bytes at byte `offset`; 0 means end of file.
    pub fn pread(f: File, buf: []u8, offset: u64) Error!usize {
        var got: abi.Bytes = .{};
        var err: c.wasmconnect_connector_files_file_error_t = .{};
        const max: u32 = @intCast(@min(buf.len, std.math.maxInt(u32)));
        if (!c.wasmconnect_connector_files_method_file_read(f.borrow(), offset, max, &got, &err)) return fileError(&err, "reading", "");
        defer abi.free(abi.bytes(got));
        // The host never returns more than asked; a copy that assumes so
        // would write past `buf`.
        const n = @min(got.len, buf.len);
        @memcpy(buf[0..n], abi.bytes(got)[0..n]);
        return n;
    }

    /// Appends `data` at the end of the file (opened in `.append` mode).
    pub fn append(f: File, data: []const u8) Error!void {
        var d = abi.listOf(abi.Bytes, data);
        var err: c.wasmconnect_connector_files_file_error_t = .{};
        if (!c.wasmconnect_connector_files_method_file_append(f.borrow(), &d, &err)) return fileError(&err, "appending to", "");
    }

    /// Flushes appended bytes to stable storage.
    pub fn sync(f: File) Error!void {
        var err: c.wasmconnect_connector_files_file_error_t = .{};
        if (!c.wasmconnect_connector_files_method_file_sync(f.borrow(), &err)) return fileError(&err, "syncing", "");
    }

    /// The file's current size in bytes.
    pub fn size(f: File) Error!u64 {
        var n: u64 = 0;
        var err: c.wasmconnect_connector_files_file_error_t = .{};
        if (!c.wasmconnect_connector_files_method_file_size(f.borrow(), &n, &err)) return fileError(&err, "reading the size of", "");
        return n;
    }

    fn fileError(err: *c.wasmconnect_connector_files_file_error_t, doing: []const u8, path: []const u8) Error {
        defer c.wasmconnect_connector_files_file_error_free(err);
        const shown = if (path.len > 0) path else "a file";
        return switch (err.tag) {
            c.WASMCONNECT_CONNECTOR_FILES_FILE_ERROR_NOT_GRANTED => diagnostic.fail(error.NotGranted, "{s} {s}: not granted: {s}", .{ doing, shown, abi.bytes(err.val.not_granted) }),
            c.WASMCONNECT_CONNECTOR_FILES_FILE_ERROR_NOT_FOUND => diagnostic.fail(error.FileNotFound, "{s} {s}: not found: {s}", .{ doing, shown, abi.bytes(err.val.not_found) }),
            else => diagnostic.fail(error.InputOutput, "{s} {s}: {s}", .{ doing, shown, abi.bytes(err.val.io) }),
        };
    }
};
