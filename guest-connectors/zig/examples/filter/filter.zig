//! Filter: a transform that drops (or keeps only) the records whose value
//! contains a pattern, like Kafka Connect's Filter transformation with a
//! predicate, without the predicate plumbing.
//!
//!   transforms=quiet
//!   transforms.quiet.type=ValueFilter
//!   transforms.quiet.pattern="level":"debug"
//!   transforms.quiet.on.match=drop        (drop | keep; default drop)
//!
//! The value is matched as bytes: the text of a string value, the raw
//! bytes of a binary one, the document of a JSON one. A record with a null
//! value never matches.
const std = @import("std");
const wc = @import("wasmconnect");
const c = wc.c;

const PATTERN = "pattern";
const ON_MATCH = "on.match";

var pattern: []u8 = &.{};
var drop_on_match = true;

export fn exports_wasmconnect_connector_plugin_metadata(ret: *c.exports_wasmconnect_connector_plugin_plugin_metadata_t) void {
    ret.* = std.mem.zeroes(@TypeOf(ret.*));
    ret.name = wc.str("io.wasmconnect.zig.Filter");
    ret.aliases = wc.strings(&.{ "ValueFilter", "ZigFilter" });
    ret.version = wc.str("0.1.0");
    ret.kind = c.EXPORTS_WASMCONNECT_CONNECTOR_PLUGIN_PLUGIN_KIND_TRANSFORM;
    ret.description = wc.str("Drops or keeps the records whose value contains a pattern (written in Zig)");
}

export fn exports_wasmconnect_connector_plugin_config_definition(ret: *c.exports_wasmconnect_connector_plugin_list_config_key_t) void {
    const keys = wc.alloc(c.wc_config_key_t, 2);
    keys[0] = c.wc_key(PATTERN, c.WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_STRING, "The bytes to look for in each record's value");
    keys[0].required = true;
    keys[0].importance = c.WASMCONNECT_CONNECTOR_CONFIG_DEF_IMPORTANCE_HIGH;
    keys[1] = c.wc_key(ON_MATCH, c.WASMCONNECT_CONNECTOR_CONFIG_DEF_CONFIG_TYPE_STRING, "What to do with a matching record: drop it, or keep only matching records");
    keys[1].default_value = c.wc_some("drop");
    ret.* = .{ .ptr = keys, .len = 2 };
}

/// The first problem with a configuration: the key and the message.
fn problem(config: *const wc.Config) ?struct { [:0]const u8, [:0]const u8 } {
    if (wc.configGet(config, PATTERN) == null)
        return .{ PATTERN, "Missing required configuration \"pattern\"" };
    if (wc.configGet(config, ON_MATCH)) |mode| {
        if (!std.mem.eql(u8, mode, "drop") and !std.mem.eql(u8, mode, "keep"))
            return .{ ON_MATCH, "on.match must be drop or keep" };
    }
    return null;
}

export fn exports_wasmconnect_connector_plugin_validate(config: *wc.Config, ret: *c.exports_wasmconnect_connector_plugin_list_config_value_t) void {
    defer c.wasmconnect_connector_types_config_free(config);
    const values = wc.alloc(c.wc_config_value_t, 1);
    ret.* = .{ .ptr = values, .len = 0 };
    if (problem(config)) |found| {
        values[0] = c.wc_config_error(config, found[0].ptr, found[1].ptr);
        ret.len = 1;
    }
}

export fn exports_wasmconnect_connector_record_transform_configure(config: *wc.Config, err: *wc.Error) bool {
    defer c.wasmconnect_connector_types_config_free(config);
    if (problem(config)) |found| return wc.fatal(err, found[1]);
    if (pattern.len > 0) c.free(pattern.ptr);
    pattern = wc.keep(wc.configGet(config, PATTERN).?); // problem() proved it is set
    const mode = wc.configGet(config, ON_MATCH) orelse "drop";
    drop_on_match = std.mem.eql(u8, mode, "drop");
    return true;
}

export fn exports_wasmconnect_connector_record_transform_apply(batch: *wc.TransformBatch, ret: *wc.Applied, err: *wc.Error) bool {
    return wc.applyBatch(batch, ret, err, apply);
}

fn apply(records: []const wc.TransformRecord, outcomes: []wc.Outcome, arena: std.mem.Allocator, err: *wc.Error) bool {
    _ = arena;
    _ = err;
    for (records, outcomes) |*record, *outcome| {
        const matches = record.value.is_some and
            std.mem.indexOf(u8, wc.payloadBytes(&record.value.val), pattern) != null;
        outcome.* = if (matches == drop_on_match) .drop else .keep;
    }
    return true;
}
