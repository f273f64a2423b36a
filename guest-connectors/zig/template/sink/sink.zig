//! Template: the smallest Zig sink. Copy this directory, rename the
//! plugin in `metadata`, and write your records out in `put`.
//!
//! This one logs each record's position and value at INFO, and how many
//! records it has seen whenever the worker is about to commit offsets.
const std = @import("std");
const wc = @import("wasmconnect");

pub const TemplateSink = struct {
    seen: u64 = 0,

    pub const metadata: wc.Metadata = .{
        .name = "io.wasmconnect.zig.TemplateSink",
        .aliases = &.{"ZigTemplateSink"},
        .version = "0.1.0",
        .description = "Template Zig sink: logs every record",
    };

    /// No settings: `start` accepts any configuration.
    pub fn init(allocator: std.mem.Allocator, config: wc.Config) !TemplateSink {
        _ = allocator;
        _ = config;
        return .{};
    }

    /// The records are views into the batch, gone when `put` returns:
    /// copy what you keep.
    pub fn put(self: *TemplateSink, records: []const wc.SinkRecord) !void {
        for (records) |r| {
            const value = if (r.value) |v| v.bytes() else "null";
            wc.log.info("{s}-{d}@{d}: {s}", .{ r.topic, r.partition, r.offset, value });
        }
        self.seen += records.len;
    }

    /// Called before the worker commits `current`: anything buffered must
    /// be written out by the time this returns.
    pub fn flush(self: *TemplateSink, current: []const wc.PartitionOffset) !void {
        wc.log.info("{d} records so far, committing {d} partitions", .{ self.seen, current.len });
    }
};

comptime {
    wc.exportSink(TemplateSink);
}
