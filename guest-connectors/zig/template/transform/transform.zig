//! Template: the smallest Zig transform. Copy this directory, rename the
//! plugin in `metadata`, and decide each record's outcome in `apply`.
//!
//! This one keeps every record and tags it with a header `via: zig`.
const std = @import("std");
const wc = @import("wasmconnect");

pub const TemplateTransform = struct {
    pub const metadata: wc.Metadata = .{
        .name = "io.wasmconnect.zig.TemplateTransform",
        .aliases = &.{"ZigTemplateTransform"},
        .version = "0.1.0",
        .description = "Template Zig transform: adds a header to every record",
    };

    /// No settings: `configure` accepts any configuration.
    pub fn init(allocator: std.mem.Allocator, config: wc.Config) !TemplateTransform {
        _ = allocator;
        _ = config;
        return .{};
    }

    /// Replaces each record with a copy that has one more header. The
    /// records are views into the batch; a replacement may point into it,
    /// into `arena` or at literals, since the kit copies it once `apply`
    /// returns.
    pub fn apply(self: *TemplateTransform, records: []const wc.TransformRecord, outcomes: []wc.Outcome, arena: std.mem.Allocator) !void {
        _ = self;
        for (records, outcomes) |record, *outcome| {
            const headers = try arena.alloc(wc.Header, record.headers.len + 1);
            @memcpy(headers[0..record.headers.len], record.headers);
            headers[record.headers.len] = .{ .key = "via", .value = "zig" };
            var replacement = record;
            replacement.headers = headers;
            outcome.* = .{ .replace = replacement };
        }
    }
};

comptime {
    wc.exportTransform(TemplateTransform);
}
