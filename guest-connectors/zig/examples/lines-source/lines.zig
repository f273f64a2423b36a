//! LinesSource: every line of a text file becomes one record on a topic,
//! and lines appended later follow (the file is tailed), like Kafka's
//! FileStreamSource.
//!
//!   connector.class=LinesSource
//!   file=/data/in.txt
//!   topic=lines
//!
//! Each record's source offset is the byte position of the line after it
//! (`{"position":42}` in partition `{"file":"/data/in.txt"}`), so a
//! restarted task resumes exactly after the last line Kafka acknowledged.
//! A last line without its newline waits for it. The value is the line's
//! text without its `\n` (and a `\r` before it); a line that is not UTF-8
//! goes out as bytes. The key is null.
const std = @import("std");
const wc = @import("wasmconnect");

pub const LinesSource = struct {
    allocator: std.mem.Allocator,
    file: wc.File,
    topic: []u8,
    /// `{"file":…}`, the same for every record.
    partition: []u8,
    batch_size: usize,
    idle_ms: u32,
    /// Where the next line starts: what the last record's offset says.
    position: u64,
    /// Bytes read from `position` on that hold no complete line yet.
    pending: std.ArrayList(u8) = .empty,

    /// A line may be this long; a longer one is refused rather than held
    /// in memory until the sandbox's limit ends the task.
    const max_line = 1 << 20;
    const chunk = 64 * 1024;

    pub const metadata: wc.Metadata = .{
        .name = "io.wasmconnect.zig.LinesSource",
        .aliases = &.{"ZigLinesSource"},
        .version = "0.1.0",
        .description = "Reads a text file line by line, one record per line, and follows lines appended to it (written in Zig)",
    };

    pub const config_keys: []const wc.Key = &.{
        .{ .name = "file", .doc = "The text file to read", .required = true, .importance = .high, .resource = .read_file },
        .{ .name = "topic", .doc = "The topic the lines go to", .required = true, .importance = .high },
        .{ .name = "batch.size", .type = .int, .doc = "The most lines one poll returns", .default = "500" },
        .{ .name = "poll.interval.ms", .type = .int, .doc = "How long to wait for new lines once the end of the file is reached", .default = "200" },
    };

    const Offset = struct { position: u64 };

    pub fn validate(config: wc.Config, problems: *wc.Problems) !void {
        if (config.get("batch.size")) |text| {
            const n = std.fmt.parseInt(i64, text, 10) catch return; // the kit reports it
            if (n < 1) try problems.add("batch.size", "Invalid value {s} for configuration batch.size: must be at least 1", .{text});
        }
        if (config.get("poll.interval.ms")) |text| {
            const n = std.fmt.parseInt(i64, text, 10) catch return;
            if (n < 0) try problems.add("poll.interval.ms", "Invalid value {s} for configuration poll.interval.ms: must not be negative", .{text});
        }
    }

    pub fn init(allocator: std.mem.Allocator, config: wc.Config) !LinesSource {
        const path = try config.string("file");
        const batch_size = try config.int(u32, "batch.size");
        const idle_ms = try config.int(u32, "poll.interval.ms");
        var arena_state = std.heap.ArenaAllocator.init(allocator);
        defer arena_state.deinit();
        const committed = try wc.readOffset(Offset, arena_state.allocator(), .{ .file = path });
        const file = try wc.File.open(path, .read);
        errdefer file.close();
        const topic = try allocator.dupe(u8, try config.string("topic"));
        errdefer allocator.free(topic);
        const partition = try wc.json(allocator, .{ .file = path });
        errdefer allocator.free(partition);
        var self: LinesSource = .{
            .allocator = allocator,
            .file = file,
            .topic = topic,
            .partition = partition,
            .batch_size = batch_size,
            .idle_ms = idle_ms,
            .position = if (committed) |o| o.position else 0,
        };
        try self.restartIfTruncated();
        wc.log.info("reading {s} from byte {d}", .{ path, self.position });
        return self;
    }

    pub fn deinit(self: *LinesSource) void {
        self.file.close();
        self.pending.deinit(self.allocator);
        self.allocator.free(self.partition);
        self.allocator.free(self.topic);
    }

    /// A file now shorter than where we are was truncated or replaced:
    /// read it again from the start rather than wait past its end.
    fn restartIfTruncated(self: *LinesSource) !void {
        const size = try self.file.size();
        if (size >= self.position + self.pending.items.len) return;
        wc.log.warn("the file is {d} bytes, shorter than the position {d}: reading it again from the start", .{ size, self.position });
        self.position = 0;
        self.pending.clearRetainingCapacity();
    }

    pub fn poll(self: *LinesSource, records: *wc.RecordList) !void {
        try self.restartIfTruncated();
        // Read on only while what is held is short or holds no whole line,
        // so a file far ahead of the batches is not read into memory.
        var buf: [chunk]u8 = undefined;
        var n: usize = 0;
        if (self.pending.items.len < chunk or std.mem.indexOfScalar(u8, self.pending.items, '\n') == null) {
            n = try self.file.pread(&buf, self.position + self.pending.items.len);
            try self.pending.appendSlice(self.allocator, buf[0..n]);
        }

        var start: usize = 0;
        while (records.len() < self.batch_size) {
            const rest = self.pending.items[start..];
            const end = std.mem.indexOfScalar(u8, rest, '\n') orelse break;
            var line = rest[0..end];
            if (std.mem.endsWith(u8, line, "\r")) line = line[0 .. line.len - 1];
            start += end + 1;
            const next = self.position + start;
            // Copied: `pending` moves on before the kit packs the batch.
            const text = try records.arena.dupe(u8, line);
            try records.append(.{
                .source_partition = self.partition,
                .source_offset = try wc.json(records.arena, Offset{ .position = next }),
                .topic = self.topic,
                .value = if (std.unicode.utf8ValidateSlice(text)) .{ .text = text } else .{ .binary = text },
            });
        }
        // Keep only what follows the last line taken.
        const left = self.pending.items.len - start;
        std.mem.copyForwards(u8, self.pending.items[0..left], self.pending.items[start..]);
        self.pending.shrinkRetainingCapacity(left);
        self.position += start;

        if (records.len() == 0) {
            if (self.pending.items.len > max_line)
                return wc.fatal("the line at byte {d} is longer than {d} bytes", .{ self.position, max_line });
            // Idle only at the end of the file: a long line still being
            // read needs the next poll at once.
            if (n < buf.len) _ = wc.sleepUnlessStopped(self.idle_ms);
        }
    }

    /// Operators may move the position (PATCH /connectors/…/offsets) while
    /// the connector is stopped; only offsets this source writes are taken.
    pub fn alterOffsets(config: wc.Config, changes: []const wc.OffsetChange) !bool {
        _ = config;
        for (changes) |change| {
            const offset = change.offset orelse continue;
            var arena = std.heap.ArenaAllocator.init(std.heap.c_allocator);
            defer arena.deinit();
            _ = std.json.parseFromSliceLeaky(Offset, arena.allocator(), offset, .{}) catch
                return wc.fatal("offset {s} for {s} is not {{\"position\":<bytes>}}", .{ offset, change.partition });
        }
        return true;
    }
};

comptime {
    wc.exportSource(LinesSource);
}
