//! Errors with messages: Zig errors carry no payload, so `fail` records a
//! message next to the error it returns, and the exports turn the error a
//! connector returns into the contract's `task-error` with that message.
//!
//! `error.Retriable` becomes a retriable error (the host retries the same
//! call after a backoff); every other error is fatal (the task fails, the
//! message in its status trace). An error returned without a message is
//! reported by name. Each instance is called one call at a time, so one
//! module-level record suffices; the exports clear it before every call.
const std = @import("std");
const abi = @import("abi.zig");
const c = abi.c;

var recorded: struct {
    err: ?anyerror = null,
    message: []u8 = &.{},
    backoff_ms: u32 = 0,
} = .{};

/// Forgets the last message (the exports call it on entry).
pub fn clear() void {
    if (recorded.message.len > 0) std.heap.c_allocator.free(recorded.message);
    recorded = .{};
}

/// Records a message for `err` and returns `err`:
/// `return wc.fail(error.BadLine, "line {d} is empty", .{n});`.
pub fn fail(err: anytype, comptime fmt: []const u8, args: anytype) @TypeOf(err) {
    clear();
    recorded.err = err;
    recorded.message = std.fmt.allocPrint(std.heap.c_allocator, fmt, args) catch &.{};
    return err;
}

/// As `fail`, with the message joined from `parts` (a tuple of slices and
/// integers) instead of formatted: without std.fmt, which adds tens of KB
/// to a component that formats nothing else.
pub fn failJoined(err: anytype, parts: anytype) @TypeOf(err) {
    clear();
    recorded.err = err;
    recorded.message = join(std.heap.c_allocator, parts) catch &.{};
    return err;
}

/// `parts` (slices and integers, in decimal) joined into one string.
pub fn join(allocator: std.mem.Allocator, parts: anytype) error{OutOfMemory}![]u8 {
    var text: std.ArrayList(u8) = .empty;
    errdefer text.deinit(allocator);
    inline for (parts) |part| switch (@typeInfo(@TypeOf(part))) {
        .int, .comptime_int => {
            var digits: [40]u8 = undefined;
            try text.appendSlice(allocator, decimal(&digits, part));
        },
        else => try text.appendSlice(allocator, part),
    };
    return text.toOwnedSlice(allocator);
}

fn decimal(buf: *[40]u8, value: i128) []const u8 {
    var i: usize = buf.len;
    var rest: u128 = @abs(value);
    while (true) {
        i -= 1;
        buf[i] = @intCast('0' + rest % 10);
        rest /= 10;
        if (rest == 0) break;
    }
    if (value < 0) {
        i -= 1;
        buf[i] = '-';
    }
    return buf[i..];
}

/// A fatal error with a message: the task fails with it.
pub fn fatal(comptime fmt: []const u8, args: anytype) error{Fatal} {
    return fail(error.Fatal, fmt, args);
}

/// A retriable error with a message: the host retries the same call after
/// `backoff_ms` (0: the worker's own backoff).
pub fn retry(backoff_ms: u32, comptime fmt: []const u8, args: anytype) error{Retriable} {
    const e = fail(error.Retriable, fmt, args);
    recorded.backoff_ms = backoff_ms;
    return e;
}

/// The message recorded for `err`, or null.
pub fn messageFor(err: anyerror) ?[]const u8 {
    if (!isRecorded(err) or recorded.message.len == 0) return null;
    return recorded.message;
}

fn isRecorded(err: anyerror) bool {
    return if (recorded.err) |e| e == err else false;
}

/// Fills the export's `task-error` from `err` and returns false, so an
/// export can `return diagnostic.report(e, err_out)`.
pub fn report(err: anyerror, out: *abi.TaskError) bool {
    const message = messageFor(err) orelse switch (err) {
        error.OutOfMemory => "out of memory",
        else => @errorName(err),
    };
    // Out of memory while reporting leaves an empty message rather than
    // trapping: the host still fails (or retries) the call.
    const text = abi.heap(abi.String, message) catch abi.String{};
    if (err == error.Retriable) {
        out.tag = c.WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_RETRIABLE;
        out.val.retriable.message = text;
        const backoff = if (isRecorded(err)) recorded.backoff_ms else 0;
        out.val.retriable.backoff_ms = .{ .is_some = backoff != 0, .val = backoff };
    } else {
        out.tag = c.WASMCONNECT_CONNECTOR_TYPES_TASK_ERROR_FATAL;
        out.val.fatal = text;
    }
    return false;
}
