//! FileSink: appends each record to a file as one line rendered from a
//! template, like Kafka's FileStreamSink with a format of your choice.
//!
//!   connector.class=FileSink
//!   topics=lines
//!   file=/data/out.txt
//!   format={topic}-{partition}@{offset}: {value}
//!
//! Placeholders: {topic} {partition} {offset} {timestamp} {key} {value};
//! `{{` and `}}` are literal braces. A text key or value is written as is,
//! a JSON one as its document, a binary one in base64, a null one as
//! `null` (and a null timestamp too). Line breaks inside a key or value are
//! written as `\n` and `\r`, so one record stays one line. Lines are
//! appended as `put` receives them and synced before every offset commit,
//! so the committed offsets never run ahead of the file.
const std = @import("std");
const wc = @import("wasmconnect");

pub const FileSink = struct {
    allocator: std.mem.Allocator,
    file: wc.File,
    format: Format,
    out: std.ArrayList(u8) = .empty,

    pub const metadata: wc.Metadata = .{
        .name = "io.wasmconnect.zig.FileSink",
        .aliases = &.{"ZigFileSink"},
        .version = "0.1.0",
        .description = "Appends each record to a file as one line rendered from a format (written in Zig)",
    };

    pub const config_keys: []const wc.Key = &.{
        .{ .name = "file", .doc = "The file the lines are appended to (created if missing)", .required = true, .importance = .high, .resource = .write_file },
        .{ .name = "format", .doc = "Each line: text with {topic}, {partition}, {offset}, {timestamp}, {key} and {value}; {{ and }} for braces", .default = "{value}" },
    };

    /// One file, written in order: more tasks would interleave their lines.
    pub const max_tasks: u32 = 1;

    pub fn validate(config: wc.Config, problems: *wc.Problems) !void {
        const text = config.get("format") orelse return;
        var parts = Format.parse(problems.arena, text) catch |e| switch (e) {
            error.OutOfMemory => return e,
            error.BadFormat => return problems.add("format", "Invalid value {s} for configuration format: {s}", .{ text, Format.why }),
        };
        parts.deinit(problems.arena);
    }

    pub fn init(allocator: std.mem.Allocator, config: wc.Config) !FileSink {
        var format = Format.parse(allocator, try config.string("format")) catch |e| switch (e) {
            error.OutOfMemory => return e,
            // validate() refused it already; the kit checks before init.
            error.BadFormat => return wc.fatal("format: {s}", .{Format.why}),
        };
        errdefer format.deinit(allocator);
        return .{
            .allocator = allocator,
            .file = try wc.File.open(try config.string("file"), .append),
            .format = format,
        };
    }

    pub fn deinit(self: *FileSink) void {
        self.file.close();
        self.format.deinit(self.allocator);
        self.out.deinit(self.allocator);
    }

    /// One append for the whole batch: its lines land together.
    pub fn put(self: *FileSink, records: []const wc.SinkRecord) !void {
        self.out.clearRetainingCapacity();
        for (records) |*record| try self.format.render(self.allocator, &self.out, record);
        if (self.out.items.len > 0) try self.file.append(self.out.items);
    }

    /// Before the worker commits what was put: make it durable.
    pub fn flush(self: *FileSink, current: []const wc.PartitionOffset) !void {
        _ = current;
        try self.file.sync();
    }
};

/// A parsed `format`: literal text and placeholders, in order.
const Format = struct {
    parts: std.ArrayList(Part),

    const Field = enum { topic, partition, offset, timestamp, key, value };
    const Part = union(enum) { literal: []const u8, field: Field };

    /// Why the last parse failed.
    var why: []const u8 = "";

    fn parse(allocator: std.mem.Allocator, text: []const u8) error{ OutOfMemory, BadFormat }!Format {
        var f: Format = .{ .parts = .empty };
        errdefer f.deinit(allocator);
        var literal: std.ArrayList(u8) = .empty;
        defer literal.deinit(allocator);
        var i: usize = 0;
        while (i < text.len) {
            const ch = text[i];
            if ((ch == '{' or ch == '}') and i + 1 < text.len and text[i + 1] == ch) {
                try literal.append(allocator, ch);
                i += 2;
            } else if (ch == '}') {
                why = "a } that closes nothing (write }} for a brace)";
                return error.BadFormat;
            } else if (ch == '{') {
                const close = std.mem.indexOfScalarPos(u8, text, i, '}') orelse {
                    why = "a { that is never closed (write {{ for a brace)";
                    return error.BadFormat;
                };
                const field = std.meta.stringToEnum(Field, text[i + 1 .. close]) orelse {
                    why = "unknown placeholder: use {topic}, {partition}, {offset}, {timestamp}, {key} or {value}";
                    return error.BadFormat;
                };
                try f.flushLiteral(allocator, &literal);
                try f.parts.append(allocator, .{ .field = field });
                i = close + 1;
            } else {
                try literal.append(allocator, ch);
                i += 1;
            }
        }
        try f.flushLiteral(allocator, &literal);
        return f;
    }

    fn flushLiteral(f: *Format, allocator: std.mem.Allocator, literal: *std.ArrayList(u8)) !void {
        if (literal.items.len == 0) return;
        const text = try allocator.dupe(u8, literal.items);
        errdefer allocator.free(text);
        try f.parts.append(allocator, .{ .literal = text });
        literal.clearRetainingCapacity();
    }

    fn deinit(f: *Format, allocator: std.mem.Allocator) void {
        for (f.parts.items) |p| if (p == .literal) allocator.free(p.literal);
        f.parts.deinit(allocator);
    }

    /// Appends `record`'s line, newline included, to `out`.
    fn render(f: *const Format, allocator: std.mem.Allocator, out: *std.ArrayList(u8), record: *const wc.SinkRecord) !void {
        for (f.parts.items) |part| switch (part) {
            .literal => |text| try out.appendSlice(allocator, text),
            .field => |field| switch (field) {
                .topic => try out.appendSlice(allocator, record.topic),
                .partition => try out.print(allocator, "{d}", .{record.partition}),
                .offset => try out.print(allocator, "{d}", .{record.offset}),
                .timestamp => if (record.timestamp) |t| try out.print(allocator, "{d}", .{t}) else try out.appendSlice(allocator, "null"),
                .key => try payload(allocator, out, record.key),
                .value => try payload(allocator, out, record.value),
            },
        };
        try out.append(allocator, '\n');
    }

    fn payload(allocator: std.mem.Allocator, out: *std.ArrayList(u8), value: ?wc.Payload) !void {
        const p = value orelse return out.appendSlice(allocator, "null");
        switch (p) {
            .binary => |bytes| {
                const encoder = std.base64.standard.Encoder;
                const start = out.items.len;
                try out.resize(allocator, start + encoder.calcSize(bytes.len));
                _ = encoder.encode(out.items[start..], bytes);
            },
            .text, .json => for (p.bytes()) |ch| switch (ch) {
                '\n' => try out.appendSlice(allocator, "\\n"),
                '\r' => try out.appendSlice(allocator, "\\r"),
                else => try out.append(allocator, ch),
            },
        }
    }
};

comptime {
    wc.exportSink(FileSink);
}
