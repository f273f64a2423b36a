//! Packed batches (interface `batches` of `wasmconnect:connector@0.2.0`)
//! to and from the records connector code reads and builds.
//!
//! A batch crosses the boundary as one byte buffer plus fixed-size entries
//! pointing into it, so the host lowers a batch of any size in a few
//! allocations. Connector code never sees it: `applyBatch`, `putBatch` and
//! `pollBatch` hand it the generated `types` records and pack what it
//! returns.
//!
//! Unpacked records are views: their strings and byte lists point into the
//! batch, which lives until the adapter returns, so reading a batch copies
//! no key, value or header. Packing copies whatever the records point to
//! into fresh heap lists (the generated post-return code frees them), so
//! records built for it may point anywhere that outlives the connector's
//! function: the batch, the arena, string literals, module state.
const std = @import("std");
const c = @import("c");
const wc = @import("wasmconnect.zig");

const Allocator = std.mem.Allocator;
const String = c.wc_string_t;
const Payload = c.wasmconnect_connector_types_payload_t;
const OptionPayload = c.wasmconnect_connector_types_option_payload_t;
const ListHeader = c.wasmconnect_connector_types_list_header_t;
const Bytes = @FieldType(@FieldType(Payload, "val"), "binary");
const OptionBytes = @FieldType(Header, "value");
const Span = c.wasmconnect_connector_batches_span_t;
const OptionSpan = c.wasmconnect_connector_batches_option_span_t;
const PackedPayload = c.wasmconnect_connector_batches_packed_payload_t;
const OptionPackedPayload = c.wasmconnect_connector_batches_option_packed_payload_t;
const PackedHeader = c.wasmconnect_connector_batches_packed_header_t;
const HeaderRange = c.wasmconnect_connector_batches_header_range_t;

pub const Header = c.wasmconnect_connector_types_header_t;
pub const TransformRecord = c.wasmconnect_connector_types_transform_record_t;
pub const SinkRecord = c.wasmconnect_connector_types_sink_record_t;
pub const SourceRecord = c.wasmconnect_connector_types_source_record_t;
pub const TransformBatch = c.wasmconnect_connector_batches_transform_batch_t;
pub const SinkBatch = c.wasmconnect_connector_batches_sink_batch_t;
pub const SourceBatch = c.wasmconnect_connector_batches_source_batch_t;
pub const Applied = c.exports_wasmconnect_connector_record_transform_applied_t;

/// What becomes of one record handed to `apply`.
pub const Outcome = union(enum) {
    /// Pass the record on unchanged.
    keep,
    /// Drop the record.
    drop,
    /// Pass this record on instead. The kit copies what it points to once
    /// `apply` returns.
    replace: TransformRecord,
};

/// A transform's `apply`: one outcome per record, all `.keep` on entry.
/// `arena` is scratch memory freed once the batch is packed.
pub const ApplyFn = fn (records: []const TransformRecord, outcomes: []Outcome, arena: Allocator, err: *wc.Error) bool;
/// A sink's `put`: the records are views into a batch that is freed when
/// `put` returns, so copy what you keep.
pub const PutFn = fn (records: []const SinkRecord, arena: Allocator, err: *wc.Error) bool;
/// A source's `poll`: set `records` (empty when nothing is ready); they
/// and everything they point to need only outlive the call.
pub const PollFn = fn (records: *[]const SourceRecord, arena: Allocator, err: *wc.Error) bool;

/// The body of `exports_wasmconnect_connector_record_transform_apply`:
/// unpacks `batch`, calls `apply`, packs its outcomes into `ret`.
pub fn applyBatch(batch: *TransformBatch, ret: *Applied, err: *wc.Error, comptime apply: ApplyFn) bool {
    // The export owns the batch; defers run last to first, so it is freed
    // after the arena, once nothing views it any more.
    defer c.wasmconnect_connector_batches_transform_batch_free(batch);
    var arena_state = std.heap.ArenaAllocator.init(std.heap.c_allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    const records = unpack(TransformRecord, batch, arena, err) orelse return false;
    const outcomes = arena.alloc(Outcome, records.len) catch return outOfMemory(err);
    @memset(outcomes, .keep);
    if (!apply(records, outcomes, arena, err)) return false;
    ret.* = packApplied(outcomes, arena) catch |e| return packFailed(err, e);
    return true;
}

/// The body of `exports_wasmconnect_connector_sink_task_put`: unpacks
/// `batch` and calls `put`.
pub fn putBatch(batch: *SinkBatch, err: *wc.Error, comptime put: PutFn) bool {
    defer c.wasmconnect_connector_batches_sink_batch_free(batch);
    var arena_state = std.heap.ArenaAllocator.init(std.heap.c_allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    const records = unpack(SinkRecord, batch, arena, err) orelse return false;
    return put(records, arena, err);
}

/// The body of `exports_wasmconnect_connector_source_task_poll`: calls
/// `poll` and packs its records into `ret`.
pub fn pollBatch(ret: *SourceBatch, err: *wc.Error, comptime poll: PollFn) bool {
    var arena_state = std.heap.ArenaAllocator.init(std.heap.c_allocator);
    defer arena_state.deinit();
    var records: []const SourceRecord = &.{};
    if (!poll(&records, arena_state.allocator(), err)) return false;
    ret.* = pack(SourceBatch, records) catch |e| return packFailed(err, e);
    return true;
}

fn outOfMemory(err: *wc.Error) bool {
    return wc.fatal(err, "out of memory unpacking a batch");
}

const PackError = error{ OutOfMemory, TooLarge, UnknownPayload };

fn packFailed(err: *wc.Error, e: PackError) bool {
    return wc.fatal(err, switch (e) {
        error.OutOfMemory => "out of memory packing a batch",
        error.TooLarge => "a batch cannot hold more than 4 GiB of keys, values and headers",
        error.UnknownPayload => "a record has a payload whose tag is not binary, text or json",
    });
}

/// A short message assembled without std.fmt, which would add tens of KB
/// to every component; what does not fit is cut.
const Message = struct {
    buf: [240]u8 = undefined,
    len: usize = 0,

    /// Appends each part: text, or an integer in decimal.
    fn add(m: *Message, parts: anytype) void {
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

    fn slice(m: *const Message) []const u8 {
        return m.buf[0..m.len];
    }
};

/// `items` as the generated list type `L`; an empty list points nowhere,
/// as the generated code expects of lists it may free.
fn listOf(comptime L: type, items: anytype) L {
    return .{ .ptr = if (items.len == 0) null else items.ptr, .len = items.len };
}

fn some(comptime O: type, value: @FieldType(O, "val")) O {
    return .{ .is_some = true, .val = value };
}

/// The records of `batch` as views into it (see the file comment), or null
/// after filling `err`. The host packs correctly; a batch that does not is
/// refused rather than trusted.
fn unpack(comptime R: type, batch: anytype, arena: Allocator, err: *wc.Error) ?[]R {
    const packed_records = wc.items(batch.records);
    var u: Unpacker = .{
        .data = if (batch.data.len == 0) @constCast(&[0]u8{}) else batch.data.ptr[0..batch.data.len],
        .topics = wc.items(batch.topics),
        .packed_headers = wc.items(batch.headers),
        .headers = arena.alloc(Header, batch.headers.len) catch {
            _ = outOfMemory(err);
            return null;
        },
    };
    const records = arena.alloc(R, packed_records.len) catch {
        _ = outOfMemory(err);
        return null;
    };
    for (packed_records, records, 0..) |*p, *r, i| {
        r.* = u.record(R, p) catch {
            var m: Message = .{};
            m.add(.{ "the host sent a malformed batch: record ", i, " (", u.field, "): ", u.why.slice() });
            _ = wc.fatal(err, m.slice());
            return null;
        };
    }
    return records;
}

const Unpacker = struct {
    data: []u8,
    topics: []const String,
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
        var r: R = .{};
        inline for (comptime std.meta.fieldNames(R)) |name| {
            u.field = name;
            @field(r, name) = try u.convert(@FieldType(R, name), @field(p, name));
        }
        return r;
    }

    /// A packed field as the record field of type `To`, told apart by type.
    fn convert(u: *Unpacker, comptime To: type, from: anytype) error{Malformed}!To {
        const From = @TypeOf(from);
        return if (From == To)
            from
        else if (From == Span)
            wc.view(try u.text(from))
        else if (From == OptionPackedPayload)
            u.payload(from)
        else if (From == HeaderRange)
            u.headerList(from)
        else if (From == u32 and To == String)
            u.topic(from)
        else
            @compileError("cannot unpack " ++ @typeName(From) ++ " into " ++ @typeName(To));
    }

    fn bytes(u: *Unpacker, span: Span) error{Malformed}![]u8 {
        const end = @as(u64, span.offset) + span.len;
        if (end > u.data.len)
            return u.fail(.{ "bytes ", span.offset, "..", end, " lie outside the ", u.data.len, " bytes of data" });
        return u.data[span.offset..][0..span.len];
    }

    fn text(u: *Unpacker, span: Span) error{Malformed}![]u8 {
        const s = try u.bytes(span);
        if (!std.unicode.utf8ValidateSlice(s))
            return u.fail(.{ "bytes ", span.offset, "..", span.offset + s.len, " are not UTF-8 text" });
        return s;
    }

    fn topic(u: *Unpacker, index: u32) error{Malformed}!String {
        if (index >= u.topics.len)
            return u.fail(.{ "topic index ", index, " out of ", u.topics.len });
        return u.topics[index];
    }

    fn payload(u: *Unpacker, p: OptionPackedPayload) error{Malformed}!OptionPayload {
        if (!p.is_some) return .{};
        var out: Payload = .{};
        switch (p.val.kind) {
            c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY => {
                out.tag = c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_BINARY;
                out.val.binary = listOf(Bytes, try u.bytes(p.val.bytes));
            },
            c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT => {
                out.tag = c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_TEXT;
                out.val.text = wc.view(try u.text(p.val.bytes));
            },
            c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON => {
                out.tag = c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_JSON;
                out.val.json.document = wc.view(try u.text(p.val.bytes));
                if (p.val.schema.is_some)
                    out.val.json.schema = some(@TypeOf(out.val.json.schema), wc.view(try u.text(p.val.schema.val)));
            },
            else => return u.fail(.{ "unknown payload kind ", p.val.kind }),
        }
        return some(OptionPayload, out);
    }

    fn headerList(u: *Unpacker, range: HeaderRange) error{Malformed}!ListHeader {
        const end = @as(u64, range.start) + range.count;
        if (end > u.packed_headers.len)
            return u.fail(.{ "headers ", range.start, "..", end, " out of ", u.packed_headers.len });
        const views = u.headers[range.start..][0..range.count];
        for (u.packed_headers[range.start..][0..range.count], views) |h, *v| {
            v.key = wc.view(try u.text(h.key));
            v.value = if (h.value.is_some) some(OptionBytes, listOf(Bytes, try u.bytes(h.value.val))) else .{};
        }
        return listOf(ListHeader, views);
    }
};

/// Packs what `apply` returns: the replacements go into a batch of their
/// own, which the outcomes point into.
fn packApplied(outcomes: []const Outcome, arena: Allocator) PackError!Applied {
    const Packed = @FieldType(@FieldType(Applied, "outcomes"), "ptr");
    var count: usize = 0;
    for (outcomes) |o| count += @intFromBool(o == .replace);
    const replacements = try arena.alloc(TransformRecord, count);
    const packed_outcomes = try alloc(std.meta.Child(Packed), outcomes.len);
    errdefer free(packed_outcomes);
    var n: u32 = 0;
    for (outcomes, packed_outcomes) |o, *p| {
        p.* = .{};
        switch (o) {
            .keep => p.tag = c.EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_KEEP,
            .drop => p.tag = c.EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_DROP,
            .replace => |r| {
                p.tag = c.EXPORTS_WASMCONNECT_CONNECTOR_RECORD_TRANSFORM_OUTCOME_REPLACE;
                p.val.replace = n;
                replacements[n] = r;
                n += 1;
            },
        }
    }
    return .{
        .outcomes = listOf(@FieldType(Applied, "outcomes"), packed_outcomes),
        .replacements = try pack(TransformBatch, replacements),
    };
}

/// `records` packed into a batch of type `B`, all in heap lists.
fn pack(comptime B: type, records: anytype) PackError!B {
    const P = std.meta.Child(@FieldType(@FieldType(B, "records"), "ptr"));
    var sizes: Sizes = .{};
    for (records) |*r| try sizes.add(P, r);
    if (sizes.bytes > std.math.maxInt(u32) or sizes.headers > std.math.maxInt(u32)) return error.TooLarge;
    var p: Packer = .{};
    errdefer p.deinit();
    p.data = try alloc(u8, @intCast(sizes.bytes));
    // At most one new topic per record; usually one in all.
    p.topics = try alloc(String, records.len);
    p.headers = try alloc(PackedHeader, @intCast(sizes.headers));
    const packed_records = try alloc(P, records.len);
    errdefer free(packed_records);
    for (records, packed_records) |*r, *out| out.* = try p.record(P, r);
    return .{
        .data = listOf(@FieldType(B, "data"), p.data),
        .topics = listOf(@FieldType(B, "topics"), p.topics[0..p.topic_count]),
        .headers = listOf(@FieldType(B, "headers"), p.headers),
        .records = listOf(@FieldType(B, "records"), packed_records),
    };
}

/// `n` items from malloc, which the generated post-return code frees
/// (none for an empty list, which must own nothing).
fn alloc(comptime T: type, n: usize) error{OutOfMemory}![]T {
    if (n == 0) return @constCast(&[0]T{});
    const bytes = std.math.mul(usize, n, @sizeOf(T)) catch return error.OutOfMemory;
    const raw = c.malloc(bytes) orelse return error.OutOfMemory;
    const items: [*]T = @ptrCast(@alignCast(raw));
    return items[0..n];
}

fn free(items: anytype) void {
    if (items.len > 0) c.free(items.ptr);
}

/// The payload case of `tag`, which the author set: checked before
/// packing rather than trusted.
fn payloadKind(tag: u8) ?u8 {
    return switch (tag) {
        c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_BINARY => c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_BINARY,
        c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_TEXT => c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_TEXT,
        c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_JSON => c.WASMCONNECT_CONNECTOR_BATCHES_PAYLOAD_KIND_JSON,
        else => null,
    };
}

/// The bytes and headers a batch needs, so each list is allocated once at
/// its final size.
const Sizes = struct {
    bytes: u64 = 0,
    headers: u64 = 0,

    fn add(s: *Sizes, comptime P: type, r: anytype) error{UnknownPayload}!void {
        inline for (comptime std.meta.fieldNames(P)) |name| {
            const from = @field(r, name);
            const To = @FieldType(P, name);
            if (To == Span) {
                s.bytes += from.len;
            } else if (To == OptionPackedPayload) {
                if (from.is_some) {
                    _ = payloadKind(from.val.tag) orelse return error.UnknownPayload;
                    s.bytes += wc.payloadBytes(&from.val).len;
                    if (from.val.tag == c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_JSON and from.val.val.json.schema.is_some)
                        s.bytes += from.val.val.json.schema.val.len;
                }
            } else if (To == HeaderRange) {
                for (wc.items(from)) |h| {
                    s.bytes += h.key.len;
                    if (h.value.is_some) s.bytes += h.value.val.len;
                }
                s.headers += from.len;
            }
        }
    }
};

/// Fills the lists `pack` sized; owns them until they are returned.
const Packer = struct {
    data: []u8 = &.{},
    used: u32 = 0,
    topics: []String = &.{},
    topic_count: usize = 0,
    headers: []PackedHeader = &.{},
    header_count: u32 = 0,

    fn deinit(p: *Packer) void {
        free(p.data);
        for (p.topics[0..p.topic_count]) |t| if (t.len > 0) c.free(t.ptr);
        free(p.topics);
        free(p.headers);
    }

    fn record(p: *Packer, comptime P: type, r: anytype) error{OutOfMemory}!P {
        var out: P = .{};
        inline for (comptime std.meta.fieldNames(P)) |name| {
            const from = @field(r, name);
            const To = @FieldType(P, name);
            @field(out, name) = if (To == @TypeOf(from))
                from
            else if (To == Span)
                p.span(wc.bytes(from))
            else if (To == OptionPackedPayload)
                p.payload(from)
            else if (To == HeaderRange)
                p.headerRange(from)
            else if (To == u32 and @TypeOf(from) == String)
                try p.topic(wc.bytes(from))
            else
                @compileError("cannot pack " ++ @typeName(@TypeOf(from)) ++ " into " ++ @typeName(To));
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

    fn optionSpan(p: *Packer, present: bool, bytes: []const u8) OptionSpan {
        return if (present) some(OptionSpan, p.span(bytes)) else .{};
    }

    fn payload(p: *Packer, from: OptionPayload) OptionPackedPayload {
        if (!from.is_some) return .{};
        const v = &from.val;
        const is_json = v.tag == c.WASMCONNECT_CONNECTOR_TYPES_PAYLOAD_JSON;
        const schema: @TypeOf(v.val.json.schema) = if (is_json) v.val.json.schema else .{};
        return some(OptionPackedPayload, .{
            // `Sizes.add` refused unknown tags.
            .kind = payloadKind(v.tag).?,
            .bytes = p.span(wc.payloadBytes(v)),
            .schema = p.optionSpan(schema.is_some, wc.bytes(schema.val)),
        });
    }

    fn headerRange(p: *Packer, from: ListHeader) HeaderRange {
        const start = p.header_count;
        for (wc.items(from)) |h| {
            p.headers[p.header_count] = .{
                .key = p.span(wc.bytes(h.key)),
                .value = p.optionSpan(h.value.is_some, wc.items(h.value.val)),
            };
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
            if (std.mem.eql(u8, wc.bytes(p.topics[i]), name)) return @intCast(i);
        }
        const copy = try alloc(u8, name.len);
        @memcpy(copy, name);
        p.topics[p.topic_count] = listOf(String, copy);
        p.topic_count += 1;
        return @intCast(p.topic_count - 1);
    }
};
