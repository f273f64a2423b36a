//! Template: the smallest Zig transform. Copy this directory, rename the
//! plugin in metadata(), and decide each record's outcome in apply().
//!
//! This one keeps every record and tags it with a header `via: zig`.
const std = @import("std");
const wc = @import("wasmconnect");
const c = wc.c;

export fn exports_wasmconnect_connector_plugin_metadata(ret: *c.exports_wasmconnect_connector_plugin_plugin_metadata_t) void {
    ret.* = std.mem.zeroes(@TypeOf(ret.*));
    ret.name = wc.str("io.wasmconnect.zig.TemplateTransform");
    ret.aliases = wc.strings(&.{"ZigTemplate"});
    ret.version = wc.str("0.1.0");
    ret.kind = c.EXPORTS_WASMCONNECT_CONNECTOR_PLUGIN_PLUGIN_KIND_TRANSFORM;
    ret.description = wc.str("Template Zig transform: adds a header to every record");
}

export fn exports_wasmconnect_connector_plugin_config_definition(ret: *c.exports_wasmconnect_connector_plugin_list_config_key_t) void {
    ret.* = .{ .ptr = wc.alloc(c.wc_config_key_t, 0), .len = 0 };
}

export fn exports_wasmconnect_connector_plugin_validate(config: *wc.Config, ret: *c.exports_wasmconnect_connector_plugin_list_config_value_t) void {
    c.wasmconnect_connector_types_config_free(config);
    ret.* = .{ .ptr = wc.alloc(c.wc_config_value_t, 0), .len = 0 };
}

export fn exports_wasmconnect_connector_record_transform_configure(config: *wc.Config, err: *wc.Error) bool {
    _ = err;
    c.wasmconnect_connector_types_config_free(config);
    return true;
}

export fn exports_wasmconnect_connector_record_transform_apply(batch: *wc.TransformBatch, ret: *wc.Applied, err: *wc.Error) bool {
    return wc.applyBatch(batch, ret, err, apply);
}

/// Replaces each record with a copy that has one more header. The records
/// are views into the batch; a replacement may point into it, into
/// `arena` or at literals, since the kit copies it once apply returns.
fn apply(records: []const wc.TransformRecord, outcomes: []wc.Outcome, arena: std.mem.Allocator, err: *wc.Error) bool {
    for (records, outcomes) |record, *outcome| {
        const old = wc.items(record.headers);
        const headers = arena.alloc(wc.Header, old.len + 1) catch return wc.fatal(err, "out of memory");
        @memcpy(headers[0..old.len], old);
        headers[old.len] = wc.header("via", "zig");
        var replacement = record;
        replacement.headers = .{ .ptr = headers.ptr, .len = headers.len };
        outcome.* = .{ .replace = replacement };
    }
    return true;
}
