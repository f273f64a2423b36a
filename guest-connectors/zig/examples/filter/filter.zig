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

pub const ValueFilter = struct {
    allocator: std.mem.Allocator,
    pattern: []u8,
    drop_on_match: bool,

    pub const metadata: wc.Metadata = .{
        .name = "io.wasmconnect.zig.Filter",
        .aliases = &.{ "ValueFilter", "ZigFilter" },
        .version = "0.1.0",
        .description = "Drops or keeps the records whose value contains a pattern (written in Zig)",
    };

    pub const config_keys: []const wc.Key = &.{
        .{ .name = "pattern", .doc = "The bytes to look for in each record's value", .required = true, .importance = .high },
        .{ .name = "on.match", .doc = "What to do with a matching record: drop it, or keep only matching records", .default = "drop", .choices = &.{ "drop", "keep" } },
    };

    /// The kit has checked that `pattern` is set and `on.match` is one of
    /// its choices.
    pub fn init(allocator: std.mem.Allocator, config: wc.Config) !ValueFilter {
        return .{
            .allocator = allocator,
            .pattern = try allocator.dupe(u8, try config.string("pattern")),
            .drop_on_match = std.mem.eql(u8, try config.string("on.match"), "drop"),
        };
    }

    pub fn deinit(self: *ValueFilter) void {
        self.allocator.free(self.pattern);
    }

    pub fn apply(self: *ValueFilter, records: []const wc.TransformRecord, outcomes: []wc.Outcome, arena: std.mem.Allocator) !void {
        _ = arena;
        for (records, outcomes) |record, *outcome| {
            const matches = if (record.value) |value| std.mem.indexOf(u8, value.bytes(), self.pattern) != null else false;
            outcome.* = if (matches == self.drop_on_match) .drop else .keep;
        }
    }
};

comptime {
    wc.exportTransform(ValueFilter);
}
