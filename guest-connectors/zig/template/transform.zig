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

export fn exports_wasmconnect_connector_record_transform_apply(
    records: *c.exports_wasmconnect_connector_record_transform_list_transform_record_t,
    ret: *c.exports_wasmconnect_connector_record_transform_list_outcome_t,
    err: *wc.Error,
) bool {
    _ = err;
    const Outcome = c.exports_wasmconnect_connector_record_transform_outcome_t;
    const Header = c.wasmconnect_connector_types_header_t;
    const outcomes = wc.alloc(Outcome, records.len);
    for (0..records.len) |i| {
        // The record is ours: move it into the replacement, then extend
        // its headers by one.
        var record = records.ptr[i];
        const old = record.headers;
        const headers = wc.alloc(Header, old.len + 1);
        if (old.len > 0) @memcpy(headers[0..old.len], old.ptr[0..old.len]);
        headers[old.len] = std.mem.zeroes(Header);
        headers[old.len].key = wc.str("via");
        headers[old.len].value.is_some = true;
        headers[old.len].value.val = .{ .ptr = wc.str("zig").ptr, .len = 3 };
        if (old.len > 0) c.free(old.ptr);
        record.headers = .{ .ptr = headers, .len = old.len + 1 };
        outcomes[i] = std.mem.zeroes(Outcome);
        outcomes[i].tag = c.EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_REPLACE;
        outcomes[i].val.replace = record;
    }
    // The records now live on in the outcomes; free only the list itself
    // (an empty list owns no memory).
    if (records.len > 0) c.free(records.ptr);
    ret.* = .{ .ptr = outcomes, .len = records.len };
    return true;
}
