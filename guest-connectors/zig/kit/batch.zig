//! Packed batches (interface `batches` of `wasmconnect:connector@0.2.0`)
//! to and from the records of records.zig.
//!
//! A batch crosses the boundary as one byte buffer plus fixed-size entries
//! pointing into it, so the host lowers a batch of any size in a few
//! allocations. Connector code never sees one: the exports (exports.zig)
//! unpack what the host sends into views and pack what connector code
//! returns. Unpacking copies no key, value or header: records point into
//! the batch. Packing copies everything records point to into fresh heap
//! lists, which the generated post-return code frees.
//!
//! Both directions pair each field of a packed record with the field of
//! the same name in the plain record and convert it by type, so a field
//! added to the contract fails the build here rather than going missing.
const std = @import("std");
const abi = @import("abi.zig");
const records = @import("records.zig");
const c = abi.c;

const Allocator = std.mem.Allocator;
const Payload = records.Payload;
const Header = records.Header;
const Span = c.wasmconnect_connector_batches_span_t;
const OptionSpan = c.wasmconnect_connector_batches_option_span_t;
const OptionPackedPayload = c.wasmconnect_connector_batches_option_packed_payload_t;
const PackedHeader = c.wasmconnect_connector_batches_packed_header_t;
const HeaderRange = c.wasmconnect_connector_batches_header_range_t;

/// The records of `batch` as views into it (see the file comment).
/// `why` receives the reason when the host packed it wrong (a span outside
/// the data, a bad index, text that is not UTF-8): the host never does,
/// but a malformed batch is refused rather than trusted.
pub fn unpack(comptime R: type, batch: anytype, arena: Allocator, why: *Message) error{ OutOfMemory, Malformed }![]R {
    const packed_records = abi.items(batch.records);
    var u: Unpacker = .{
        .data = abi.bytes(batch.data),
        .topics = abi.items(batch.topics),
        .packed_headers = abi.items(batch.headers),
        .headers = try arena.alloc(Header, batch.headers.len),
    };
    const out = try arena.alloc(R, packed_records.len);
    for (packed_records, out, 0..) |*p, *r, i| {
        r.* = u.record(R, p) catch {
            why.add(.{ "the host sent a malformed batch: record ", i, " (", u.field, "): ", u.why.slice() });
            return error.Malformed;
        };
    }
    return out;
}

/// A short message assembled without std.fmt, which would add tens of KB
/// to components that use no formatting of their own; what does not fit
/// is cut.
pub const Message = struct {
    buf: [240]u8 = undefined,
    len: usize = 0,

    /// Appends each part: text, or an integer in decimal.
    pub fn add(m: *Message, parts: anytype) void {
        inline for (parts) |part| switch (@typeInfo(@TypeOf(part))) {
            .int, .comptime_int => m.number(part),
            else => m.text(part),
        };
    }

    fn text(m: *Message, s: []const u8) void {
        const n = @min(s.len, m.buf.len - m.len);
        @memcpy(m.buf[m.len..][0..n], s[0..n]);
        m.len += n;
    }

    fn number(m: *Message, value: u64) void {
        var digits: [20]u8 = undefined;
        var i: usize = digits.len;
        var rest = value;
        while (true) {
            i -= 1;
            digits[i] = @intCast('0' + rest % 10);
            rest /= 10;
            if (rest == 0) break;
        }
        m.text(digits[i..]);
    }

    pub fn slice(m: *const Message) []const u8 {
        return m.buf[0..m.len];
    }
};

fn isOption(comptime T: type) bool {
    return @typeInfo(T) == .@"struct" and @hasField(T, "is_some") and @hasField(T, "val");
}

const Unpacker = struct {
    data: []const u8,
    topics: []const abi.String,
    packed_headers: []const PackedHeader,
    /// Views of `packed_headers`, same indexes, filled as records claim them.
    headers: []Header,
    /// The field being unpacked and what is wrong with it.
    field: []const u8 = "",
    why: Message = .{},

    fn fail(u: *Unpacker, parts: anytype) error{Malformed} {
        u.why.add(parts);
        return error.Malformed;
    }

    fn record(u: *Unpacker, comptime R: type, p: anytype) error{Malformed}!R {
        var r: R = undefined;
        inline for (comptime std.meta.fieldNames(R)) |name| {
            u.field = name;
            @field(r, name) = try u.convert(@FieldType(R, name), @field(p, name));
        }
        return r;
    }

    /// A packed field as the plain field of type `To`, told apart by type.
    fn convert(u: *Unpacker, comptime To: type, from: anytype) error{Malformed}!To {
        const From = @TypeOf(from);
        if (From == To) return from;
        if (From == OptionPackedPayload) return u.payload(from);
        if (From == HeaderRange) return u.headerList(from);
        if (From == u32 and To == []const u8) return u.topic(from);
        if (From == Span) return u.text(from);
        if (To == records.TimestampType) {
            if (from > @backingInt(records.TimestampType.log_append_time))
                return u.fail(.{ "unknown timestamp type ", from });
            return @fromBackingInt(@intCast(from));
        }
        if (comptime isOption(From)) return if (from.is_some) from.val else null;
        @compileError("cannot unpack " ++ @typeName(From) ++ " into " ++ @typeName(To));
    }

    fn bytes(u: *Unpacker, span: Span) error{Malformed}![]const u8 {
        const end = @as(u64, span.offset) + span.len;
        if (end > u.data.len)
            return u.fail(.{ "bytes ", span.offset, "..", end, " lie outside the ", u.data.len, " bytes of data" });
        return u.data[span.offset..][0..span.len];
    }

    fn text(u: *Unpacker, span: Span) error{Malformed}![]const u8 {
        const s = try u.bytes(span);
        if (!std.unicode.utf8ValidateSlice(s))
            return u.fail(.{ "bytes ", span.offset, "..", span.offset + s.len, " are not UTF-8 text" });
        return s;
    }

    fn topic(u: *Unpacker, index: u32) error{Malformed}![]const u8 {
        if (index >= u.topics.len)
            return u.fail(.{ "topic index ", index, " out of ", u.topics.len });
        return abi.bytes(u.topics[index]);
    }

    fn payload(u: *Unpacker, p: OptionPackedPayload) error{Malformed}!?Payload {
        if (!p.is_some) return null;
        return switch (p.val.kind) {
            c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY => .{ .binary = try u.bytes(p.val.bytes) },
            c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT => .{ .text = try u.text(p.val.bytes) },
            c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON => .{ .json = .{
                .document = try u.text(p.val.bytes),
                .schema = if (p.val.schema.is_some) try u.text(p.val.schema.val) else null,
            } },
            else => u.fail(.{ "unknown payload kind ", p.val.kind }),
        };
    }

    fn headerList(u: *Unpacker, range: HeaderRange) error{Malformed}![]const Header {
        const end = @as(u64, range.start) + range.count;
        if (end > u.packed_headers.len)
            return u.fail(.{ "headers ", range.start, "..", end, " out of ", u.packed_headers.len });
        const views = u.headers[range.start..][0..range.count];
        for (u.packed_headers[range.start..][0..range.count], views) |h, *v| {
            v.* = .{
                .key = try u.text(h.key),
                .value = if (h.value.is_some) try u.bytes(h.value.val) else null,
            };
        }
        return views;
    }
};

pub const PackError = error{ OutOfMemory, TooLarge };

/// `plain` packed into a heap batch of type `B` (its records' type tells
/// which fields to fill).
pub fn pack(comptime B: type, plain: anytype) PackError!B {
    const P = std.meta.Child(@FieldType(@FieldType(B, "records"), "ptr"));
    var sizes: Sizes = .{};
    for (plain) |*r| sizes.add(P, r);
    if (sizes.bytes > std.math.maxInt(u32) or sizes.headers > std.math.maxInt(u32)) return error.TooLarge;
    var p: Packer = .{};
    errdefer p.deinit();
    p.data = try abi.alloc(u8, @intCast(sizes.bytes));
    // At most one new topic per record; usually one in all.
    p.topics = try abi.alloc(abi.String, plain.len);
    p.headers = try abi.alloc(PackedHeader, @intCast(sizes.headers));
    const packed_records = try abi.alloc(P, plain.len);
    errdefer abi.free(packed_records);
    for (plain, packed_records) |*r, *out| out.* = try p.record(P, r);
    return .{
        .data = abi.listOf(@FieldType(B, "data"), p.data),
        .topics = abi.listOf(@FieldType(B, "topics"), p.topics[0..p.topic_count]),
        .headers = abi.listOf(@FieldType(B, "headers"), p.headers),
        .records = abi.listOf(@FieldType(B, "records"), packed_records),
    };
}

fn payloadKind(p: Payload) u8 {
    return switch (p) {
        .binary => c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY,
        .text => c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT,
        .json => c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON,
    };
}

/// The bytes and headers a batch needs, so each list is allocated once at
/// its final size.
const Sizes = struct {
    bytes: u64 = 0,
    headers: u64 = 0,

    fn add(s: *Sizes, comptime P: type, r: anytype) void {
        inline for (comptime std.meta.fieldNames(P)) |name| {
            const from = @field(r, name);
            const To = @FieldType(P, name);
            if (To == Span) {
                s.bytes += from.len;
            } else if (To == OptionPackedPayload) {
                if (from) |payload| {
                    s.bytes += payload.bytes().len;
                    if (payload == .json) if (payload.json.schema) |schema| {
                        s.bytes += schema.len;
                    };
                }
            } else if (To == HeaderRange) {
                for (from) |h| s.bytes += h.key.len + if (h.value) |v| v.len else 0;
                s.headers += from.len;
            }
        }
    }
};

/// Fills the lists `pack` sized; owns them until they are returned.
const Packer = struct {
    data: []u8 = &.{},
    used: u32 = 0,
    topics: []abi.String = &.{},
    topic_count: usize = 0,
    headers: []PackedHeader = &.{},
    header_count: u32 = 0,

    fn deinit(p: *Packer) void {
        abi.free(p.data);
        for (p.topics[0..p.topic_count]) |t| abi.free(abi.bytes(t));
        abi.free(p.topics);
        abi.free(p.headers);
    }

    fn record(p: *Packer, comptime P: type, r: anytype) error{OutOfMemory}!P {
        var out: P = .{};
        inline for (comptime std.meta.fieldNames(P)) |name| {
            const from = @field(r, name);
            const From = @TypeOf(from);
            const To = @FieldType(P, name);
            @field(out, name) = if (To == From)
                from
            else if (To == Span)
                p.span(from)
            else if (To == OptionPackedPayload)
                p.payload(from)
            else if (To == HeaderRange)
                p.headerRange(from)
            else if (To == u32 and From == []const u8)
                try p.topic(from)
            else if (From == records.TimestampType)
                @backingInt(from)
            else if (comptime isOption(To))
                if (from) |v| .{ .is_some = true, .val = v } else .{}
            else
                @compileError("cannot pack " ++ @typeName(From) ++ " into " ++ @typeName(To));
        }
        return out;
    }

    fn span(p: *Packer, bytes: []const u8) Span {
        const offset = p.used;
        @memcpy(p.data[offset..][0..bytes.len], bytes);
        // `pack` checked that the whole batch fits in 4 GiB.
        p.used += @intCast(bytes.len);
        return .{ .offset = offset, .len = @intCast(bytes.len) };
    }

    fn optionSpan(p: *Packer, bytes: ?[]const u8) OptionSpan {
        return if (bytes) |b| .{ .is_some = true, .val = p.span(b) } else .{};
    }

    fn payload(p: *Packer, from: ?Payload) OptionPackedPayload {
        const v = from orelse return .{};
        return .{ .is_some = true, .val = .{
            .kind = payloadKind(v),
            .bytes = p.span(v.bytes()),
            .schema = p.optionSpan(if (v == .json) v.json.schema else null),
        } };
    }

    fn headerRange(p: *Packer, from: []const Header) HeaderRange {
        const start = p.header_count;
        for (from) |h| {
            p.headers[p.header_count] = .{ .key = p.span(h.key), .value = p.optionSpan(h.value) };
            p.header_count += 1;
        }
        return .{ .start = start, .count = p.header_count - start };
    }

    /// The index of `name` among the batch's topics, added if new; most
    /// batches have one topic, so the last one added is tried first.
    fn topic(p: *Packer, name: []const u8) error{OutOfMemory}!u32 {
        var i = p.topic_count;
        while (i > 0) {
            i -= 1;
            if (std.mem.eql(u8, abi.bytes(p.topics[i]), name)) return @intCast(i);
        }
        p.topics[p.topic_count] = try abi.heap(abi.String, name);
        p.topic_count += 1;
        return @intCast(p.topic_count - 1);
    }
};
