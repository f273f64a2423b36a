//! The kit's view of the generated C bindings: the world-independent names
//! of their string and list types, and the heap rules of the canonical ABI.
//!
//! `wasmconnect-kit bindings c` prefixes some types with the world
//! (`source_string_t`, `sink_string_t`, …), so the kit names them through
//! the fields of types every world shares instead. Everything an export
//! returns must come from libc `malloc`: the generated post-return code
//! calls `free` on every non-empty string and list, and on nothing empty.
const std = @import("std");
pub const c = @import("c");

pub const String = @FieldType(c.wasmconnect_connector_types_header_t, "key");
pub const Bytes = @FieldType(@FieldType(c.wasmconnect_connector_types_header_t, "value"), "val");
pub const TaskError = c.wasmconnect_connector_types_task_error_t;
pub const ConfigList = c.wasmconnect_connector_types_config_t;
pub const ConfigEntry = std.meta.Child(@FieldType(ConfigList, "ptr"));

/// The bytes of a generated string or `list<u8>`, borrowed.
pub fn bytes(s: anytype) []const u8 {
    if (s.len == 0) return &.{};
    return s.ptr[0..s.len];
}

/// The items of a generated `list<T>`, borrowed.
pub fn items(list: anytype) []const std.meta.Child(@TypeOf(list.ptr)) {
    if (list.len == 0) return &.{};
    return list.ptr[0..list.len];
}

/// `slice` as the generated list type `L`, borrowing it; an empty list
/// points nowhere, as the generated code expects of lists it may free.
pub fn listOf(comptime L: type, slice: anytype) L {
    return .{ .ptr = if (slice.len == 0) null else @constCast(slice.ptr), .len = slice.len };
}

/// `n` items from malloc (none for an empty list, which must own nothing).
pub fn alloc(comptime T: type, n: usize) error{OutOfMemory}![]T {
    if (n == 0) return &.{};
    const size = std.math.mul(usize, n, @sizeOf(T)) catch return error.OutOfMemory;
    const raw = std.c.malloc(size) orelse return error.OutOfMemory;
    const typed: [*]T = @ptrCast(@alignCast(raw));
    return typed[0..n];
}

pub fn free(slice: anytype) void {
    if (slice.len > 0) std.c.free(@ptrCast(@constCast(slice.ptr)));
}

/// A heap copy of `text` as the generated list type `L`.
pub fn heap(comptime L: type, text: []const u8) error{OutOfMemory}!L {
    const copy = try alloc(u8, text.len);
    @memcpy(copy, text);
    return listOf(L, copy);
}

/// As `heap`, for results of exports that have no error to report
/// (metadata, the configuration definition): running out of memory there
/// traps, which the host reports as the instance's failure.
pub fn heapOrTrap(comptime L: type, text: []const u8) L {
    return heap(L, text) catch @trap();
}

/// A heap `option<string>`.
pub fn heapOption(comptime O: type, text: ?[]const u8) error{OutOfMemory}!O {
    const t = text orelse return .{};
    return .{ .is_some = true, .val = try heap(@FieldType(O, "val"), t) };
}

/// A heap `list<string>` of heap strings.
pub fn heapStrings(comptime L: type, texts: []const []const u8) error{OutOfMemory}!L {
    const S = std.meta.Child(@FieldType(L, "ptr"));
    const list = try alloc(S, texts.len);
    for (texts, list, 0..) |text, *s, i| {
        s.* = heap(S, text) catch |e| {
            for (list[0..i]) |done| free(bytes(done));
            free(list);
            return e;
        };
    }
    return listOf(L, list);
}

/// A heap deep copy of a configuration, for results (task-configs).
pub fn cloneConfig(entries: []const ConfigEntry) error{OutOfMemory}!ConfigList {
    const copy = try alloc(ConfigEntry, entries.len);
    var done: usize = 0;
    errdefer {
        for (copy[0..done]) |e| {
            free(bytes(e.f0));
            free(bytes(e.f1));
        }
        free(copy);
    }
    for (entries, copy) |from, *to| {
        to.f0 = try heap(String, bytes(from.f0));
        to.f1 = heap(String, bytes(from.f1)) catch |e| {
            free(bytes(to.f0));
            return e;
        };
        done += 1;
    }
    return listOf(ConfigList, copy);
}

/// Frees a configuration the kit copied with `cloneConfig`.
pub fn freeConfig(list: *ConfigList) void {
    c.wasmconnect_connector_types_config_free(list);
    list.* = .{};
}
