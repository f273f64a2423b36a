//! Template: the smallest Zig source. Copy this directory, rename the
//! plugin in `metadata`, and produce your records in `poll`.
//!
//! This one counts: one record `hello <n>` per poll interval on `topic`,
//! its offset `{"n":<n>}`, so a restarted task goes on counting where the
//! last acknowledged record left off.
const std = @import("std");
const wc = @import("wasmconnect");

pub const TemplateSource = struct {
    allocator: std.mem.Allocator,
    topic: []u8,
    interval_ms: u32,
    /// The number of the next record.
    next: u64,
    polled: bool = false,

    pub const metadata: wc.Metadata = .{
        .name = "io.wasmconnect.zig.TemplateSource",
        .aliases = &.{"ZigTemplateSource"},
        .version = "0.1.0",
        .description = "Template Zig source: counts hello records onto a topic",
    };

    pub const config_keys: []const wc.Key = &.{
        .{ .name = "topic", .doc = "The topic the records go to", .required = true, .importance = .high },
        .{ .name = "interval.ms", .type = .int, .doc = "Milliseconds between records", .default = "1000" },
    };

    /// Every record's source partition: this source has one.
    const partition = .{ .counter = "hello" };
    const Offset = struct { n: u64 };

    pub fn validate(config: wc.Config, problems: *wc.Problems) !void {
        const text = config.get("interval.ms") orelse return;
        const ms = std.fmt.parseInt(i64, text, 10) catch return; // the kit reports it
        if (ms < 0) try problems.add("interval.ms", "Invalid value {s} for configuration interval.ms: must not be negative", .{text});
    }

    pub fn init(allocator: std.mem.Allocator, config: wc.Config) !TemplateSource {
        var arena = std.heap.ArenaAllocator.init(allocator);
        defer arena.deinit();
        // The offset of the last record Kafka acknowledged, if any.
        const committed = try wc.readOffset(Offset, arena.allocator(), partition);
        return .{
            .allocator = allocator,
            .topic = try allocator.dupe(u8, try config.string("topic")),
            .interval_ms = try config.int(u32, "interval.ms"),
            .next = if (committed) |o| o.n + 1 else 0,
        };
    }

    pub fn deinit(self: *TemplateSource) void {
        self.allocator.free(self.topic);
    }

    /// Waits the interval (but not before the first record), then adds
    /// one record. Strings live in `records.arena` until the kit has
    /// packed them.
    pub fn poll(self: *TemplateSource, records: *wc.RecordList) !void {
        if (self.polled and wc.sleepUnlessStopped(self.interval_ms)) return; // stopping
        self.polled = true;
        try records.append(.{
            .source_partition = try wc.json(records.arena, partition),
            .source_offset = try wc.json(records.arena, Offset{ .n = self.next }),
            .topic = self.topic,
            .value = .{ .text = try std.fmt.allocPrint(records.arena, "hello {d}", .{self.next}) },
        });
        self.next += 1;
    }
};

comptime {
    wc.exportSource(TemplateSource);
}
