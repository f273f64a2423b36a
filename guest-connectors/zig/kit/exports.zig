//! The world's exports, generated at comptime from a connector type:
//! `comptime { wc.exportSource(LinesSource); }` defines every function the
//! source world's C header declares under `exports_`, each one converting
//! the generated C types to and from the kit's, calling the type's
//! functions, and turning its errors into `task-error`s.
//!
//! What each role asks of the type is in wasmconnect.zig. Each instance
//! (the connector, each task, each transform stage) is a component
//! instance of its own, called one call at a time, so the kit keeps the
//! instance's state in module-level variables.
const std = @import("std");
const abi = @import("abi.zig");
const batch = @import("batch.zig");
const config = @import("config.zig");
const diagnostic = @import("diagnostic.zig");
const records = @import("records.zig");
const c = abi.c;

/// What every plugin declares as `pub const metadata`.
pub const Metadata = struct {
    /// The class operators use in `connector.class` or a transform's `type`.
    name: []const u8,
    aliases: []const []const u8 = &.{},
    version: []const u8,
    description: []const u8,
};

const Kind = enum(u8) { source, sink, transform };

/// Memory that outlives no call: freed when the export returns.
fn scratch() std.heap.ArenaAllocator {
    return .init(std.heap.c_allocator);
}

/// The allocator handed to `init`, for state that lives as long as the
/// instance: libc's, which the generated code shares.
const allocator = std.heap.c_allocator;

fn exportAs(comptime f: anytype, comptime name: []const u8) void {
    @export(f, .{ .name = name });
}

/// `plugin`: metadata, configuration definition, validate.
fn exportPlugin(comptime T: type, comptime kind: Kind) void {
    if (!@hasDecl(T, "metadata")) @compileError(@typeName(T) ++ " needs `pub const metadata: wc.Metadata`");
    const P = struct {
        fn metadata(ret: *c.exports_wasmconnect_connector_plugin_plugin_metadata_t) callconv(.c) void {
            const m: Metadata = T.metadata;
            const R = @TypeOf(ret.*);
            ret.* = .{
                .name = abi.heapOrTrap(abi.String, m.name),
                .aliases = abi.heapStrings(@FieldType(R, "aliases"), m.aliases) catch @trap(),
                .version = abi.heapOrTrap(abi.String, m.version),
                .kind = @backingInt(kind),
                .description = abi.heapOrTrap(abi.String, m.description),
                .task_class = .{},
            };
        }

        fn definition(ret: *c.exports_wasmconnect_connector_plugin_list_config_key_t) callconv(.c) void {
            ret.* = config.definition(@TypeOf(ret.*), config.keysOf(T)) catch @trap();
        }

        fn validate(list: *abi.ConfigList, ret: *c.exports_wasmconnect_connector_plugin_list_config_value_t) callconv(.c) void {
            defer c.wasmconnect_connector_types_config_free(list);
            diagnostic.clear();
            var arena = scratch();
            defer arena.deinit();
            const cfg = config.configOf(T, list);
            var problems: config.Problems = .{ .arena = arena.allocator() };
            // validate has no error channel: an error from the connector's
            // own checks is shown as a problem with the configuration.
            config.problemsOf(T, cfg, .by_host, &problems) catch |e| {
                problems.addJoined("", .{ "validation failed: ", diagnostic.messageFor(e) orelse @errorName(e) }) catch @trap();
            };
            ret.* = config.results(@TypeOf(ret.*), cfg, problems.list.items, arena.allocator()) catch @trap();
        }
    };
    exportAs(&P.metadata, "exports_wasmconnect_connector_plugin_metadata");
    exportAs(&P.definition, "exports_wasmconnect_connector_plugin_config_definition");
    exportAs(&P.validate, "exports_wasmconnect_connector_plugin_validate");
}

/// `connector`: the instance that hands out task configurations. Every
/// task gets the connector's configuration; sources run one task unless
/// `T.max_tasks` says more, sinks as many as `tasks.max` unless it says
/// fewer.
fn exportConnector(comptime T: type, comptime kind: Kind) void {
    const most: u32 = if (@hasDecl(T, "max_tasks")) T.max_tasks else if (kind == .source) 1 else std.math.maxInt(u32);
    const C = struct {
        var kept: abi.ConfigList = .{};

        fn start(list: *abi.ConfigList, err: *abi.TaskError) callconv(.c) bool {
            diagnostic.clear();
            abi.freeConfig(&kept);
            // The export owns its argument: keep it for task-configs.
            kept = list.*;
            config.require(T, config.configOf(T, &kept)) catch |e| return diagnostic.report(e, err);
            return true;
        }

        fn taskConfigs(max_tasks: u32, ret: *c.exports_wasmconnect_connector_connector_list_config_t, err: *abi.TaskError) callconv(.c) bool {
            diagnostic.clear();
            const n = @max(1, @min(max_tasks, most));
            const tasks = abi.alloc(abi.ConfigList, n) catch |e| return diagnostic.report(e, err);
            for (tasks, 0..) |*t, i| {
                t.* = abi.cloneConfig(abi.items(kept)) catch |e| {
                    for (tasks[0..i]) |*done| abi.freeConfig(done);
                    abi.free(tasks);
                    return diagnostic.report(e, err);
                };
            }
            ret.* = abi.listOf(@TypeOf(ret.*), tasks);
            return true;
        }

        fn stop() callconv(.c) void {
            abi.freeConfig(&kept);
        }

        fn alterOffsets(list: *abi.ConfigList, offsets: *c.exports_wasmconnect_connector_connector_list_tuple2_json_option_json_t, ret: *bool, err: *abi.TaskError) callconv(.c) bool {
            defer c.wasmconnect_connector_types_config_free(list);
            defer c.exports_wasmconnect_connector_connector_list_tuple2_json_option_json_free(offsets);
            diagnostic.clear();
            if (!@hasDecl(T, "alterOffsets")) {
                ret.* = false;
                return true;
            }
            var arena = scratch();
            defer arena.deinit();
            const given = abi.items(offsets.*);
            const changes = arena.allocator().alloc(records.OffsetChange, given.len) catch |e| return diagnostic.report(e, err);
            for (given, changes) |g, *ch| ch.* = .{
                .partition = abi.bytes(g.f0),
                .offset = if (g.f1.is_some) abi.bytes(g.f1.val) else null,
            };
            ret.* = T.alterOffsets(config.configOf(T, list), changes) catch |e| return diagnostic.report(e, err);
            return true;
        }
    };
    exportAs(&C.start, "exports_wasmconnect_connector_connector_start");
    exportAs(&C.taskConfigs, "exports_wasmconnect_connector_connector_task_configs");
    exportAs(&C.stop, "exports_wasmconnect_connector_connector_stop");
    exportAs(&C.alterOffsets, "exports_wasmconnect_connector_connector_alter_offsets");
}

/// The task (or transform) instance: `T.init` on start, `T.deinit` on
/// stop or when configured again.
fn Instance(comptime T: type) type {
    return struct {
        var value: ?T = null;

        fn start(list: *abi.ConfigList, err: *abi.TaskError) bool {
            defer c.wasmconnect_connector_types_config_free(list);
            diagnostic.clear();
            stop();
            const cfg = config.configOf(T, list);
            config.require(T, cfg) catch |e| return diagnostic.report(e, err);
            value = T.init(allocator, cfg) catch |e| return diagnostic.report(e, err);
            return true;
        }

        fn get(err: *abi.TaskError) ?*T {
            if (value) |*v| return v;
            _ = diagnostic.report(diagnostic.failJoined(error.Fatal, .{"called before start (or configure) succeeded"}), err);
            return null;
        }

        fn stop() void {
            if (value) |*v| if (@hasDecl(T, "deinit")) v.deinit();
            value = null;
        }
    };
}

fn malformed(why: *const batch.Message, err: *abi.TaskError) bool {
    return diagnostic.report(diagnostic.failJoined(error.Fatal, .{why.slice()}), err);
}

/// Exports a source connector: `T` declares `metadata`, optionally
/// `config_keys`, `validate`, `max_tasks`, `alterOffsets`, and the task's
/// `init`, `poll`, and optionally `commitRecords`, `commit`, `deinit`.
pub fn exportSource(comptime T: type) void {
    exportPlugin(T, .source);
    exportConnector(T, .source);
    const I = Instance(T);
    const S = struct {
        fn start(list: *abi.ConfigList, err: *abi.TaskError) callconv(.c) bool {
            return I.start(list, err);
        }

        fn poll(ret: *c.exports_wasmconnect_connector_source_task_source_batch_t, err: *abi.TaskError) callconv(.c) bool {
            diagnostic.clear();
            const self = I.get(err) orelse return false;
            var arena = scratch();
            defer arena.deinit();
            var list: records.RecordList = .{ .arena = arena.allocator() };
            self.poll(&list) catch |e| return diagnostic.report(e, err);
            ret.* = batch.pack(@TypeOf(ret.*), list.records.items) catch |e| switch (e) {
                error.TooLarge => return diagnostic.report(diagnostic.failJoined(error.Fatal, .{"a batch cannot hold more than 4 GiB of keys, values and headers"}), err),
                error.OutOfMemory => return diagnostic.report(e, err),
            };
            return true;
        }

        fn commitRecords(acks: *c.exports_wasmconnect_connector_source_task_list_record_ack_t, err: *abi.TaskError) callconv(.c) bool {
            defer c.exports_wasmconnect_connector_source_task_list_record_ack_free(acks);
            diagnostic.clear();
            const self = I.get(err) orelse return false;
            if (!@hasDecl(T, "commitRecords")) return true;
            var arena = scratch();
            defer arena.deinit();
            const given = abi.items(acks.*);
            const out = arena.allocator().alloc(records.RecordAck, given.len) catch |e| return diagnostic.report(e, err);
            for (given, out) |g, *o| o.* = .{
                .token = g.token,
                .status = if (g.status.tag == c.EXPORTS_WASMCONNECT_CONNECTOR_SOURCE_TASK_ACK_STATUS_WRITTEN)
                    .{ .written = .{ .partition = g.status.val.written.f0, .offset = g.status.val.written.f1 } }
                else
                    .filtered,
            };
            self.commitRecords(out) catch |e| return diagnostic.report(e, err);
            return true;
        }

        fn commit(err: *abi.TaskError) callconv(.c) bool {
            diagnostic.clear();
            const self = I.get(err) orelse return false;
            if (@hasDecl(T, "commit")) self.commit() catch |e| return diagnostic.report(e, err);
            return true;
        }

        fn stop() callconv(.c) void {
            I.stop();
        }
    };
    exportAs(&S.start, "exports_wasmconnect_connector_source_task_start");
    exportAs(&S.poll, "exports_wasmconnect_connector_source_task_poll");
    exportAs(&S.commitRecords, "exports_wasmconnect_connector_source_task_commit_records");
    exportAs(&S.commit, "exports_wasmconnect_connector_source_task_commit");
    exportAs(&S.stop, "exports_wasmconnect_connector_source_task_stop");
}

/// Exports a sink connector: `T` declares `metadata`, optionally
/// `config_keys`, `validate`, `max_tasks`, and the task's `init`, `put`,
/// and optionally `open`, `close`, `flush`, `deinit`.
pub fn exportSink(comptime T: type) void {
    exportPlugin(T, .sink);
    exportConnector(T, .sink);
    const I = Instance(T);
    const TopicPartitions = c.exports_wasmconnect_connector_sink_task_list_topic_partition_t;
    const Offsets = c.exports_wasmconnect_connector_sink_task_list_partition_offset_t;
    const S = struct {
        fn start(list: *abi.ConfigList, err: *abi.TaskError) callconv(.c) bool {
            return I.start(list, err);
        }

        /// `open` and `close`: the partitions as plain structs.
        fn partitions(comptime name: []const u8, list: *TopicPartitions, err: *abi.TaskError) bool {
            defer c.exports_wasmconnect_connector_sink_task_list_topic_partition_free(list);
            diagnostic.clear();
            const self = I.get(err) orelse return false;
            if (!@hasDecl(T, name)) return true;
            var arena = scratch();
            defer arena.deinit();
            const given = abi.items(list.*);
            const out = arena.allocator().alloc(records.TopicPartition, given.len) catch |e| return diagnostic.report(e, err);
            for (given, out) |g, *o| o.* = .{ .topic = abi.bytes(g.topic), .partition = g.partition };
            @field(T, name)(self, out) catch |e| return diagnostic.report(e, err);
            return true;
        }

        fn open(list: *TopicPartitions, err: *abi.TaskError) callconv(.c) bool {
            return partitions("open", list, err);
        }

        fn close(list: *TopicPartitions, err: *abi.TaskError) callconv(.c) bool {
            return partitions("close", list, err);
        }

        fn put(b: *c.exports_wasmconnect_connector_sink_task_sink_batch_t, err: *abi.TaskError) callconv(.c) bool {
            // Defers run last to first: the batch is freed after the arena
            // that holds views of it.
            defer c.exports_wasmconnect_connector_sink_task_sink_batch_free(b);
            diagnostic.clear();
            const self = I.get(err) orelse return false;
            var arena = scratch();
            defer arena.deinit();
            var why: batch.Message = .{};
            const got = batch.unpack(records.SinkRecord, b, arena.allocator(), &why) catch |e| switch (e) {
                error.Malformed => return malformed(&why, err),
                error.OutOfMemory => return diagnostic.report(e, err),
            };
            self.put(got) catch |e| return diagnostic.report(e, err);
            return true;
        }

        /// Kafka's preCommit: flush, then commit what was put. Returning
        /// the host's own list hands it back without a copy.
        fn preCommit(current: *Offsets, ret: *Offsets, err: *abi.TaskError) callconv(.c) bool {
            diagnostic.clear();
            const self = I.get(err) orelse {
                c.exports_wasmconnect_connector_sink_task_list_partition_offset_free(current);
                return false;
            };
            if (@hasDecl(T, "flush")) {
                var arena = scratch();
                defer arena.deinit();
                const given = abi.items(current.*);
                const out = arena.allocator().alloc(records.PartitionOffset, given.len) catch |e| {
                    c.exports_wasmconnect_connector_sink_task_list_partition_offset_free(current);
                    return diagnostic.report(e, err);
                };
                for (given, out) |g, *o| o.* = .{ .topic = abi.bytes(g.topic), .partition = g.partition, .offset = g.offset };
                self.flush(out) catch |e| {
                    c.exports_wasmconnect_connector_sink_task_list_partition_offset_free(current);
                    return diagnostic.report(e, err);
                };
            }
            ret.* = current.*;
            return true;
        }

        fn stop() callconv(.c) void {
            I.stop();
        }
    };
    exportAs(&S.start, "exports_wasmconnect_connector_sink_task_start");
    exportAs(&S.open, "exports_wasmconnect_connector_sink_task_open");
    exportAs(&S.close, "exports_wasmconnect_connector_sink_task_close");
    exportAs(&S.put, "exports_wasmconnect_connector_sink_task_put");
    exportAs(&S.preCommit, "exports_wasmconnect_connector_sink_task_pre_commit");
    exportAs(&S.stop, "exports_wasmconnect_connector_sink_task_stop");
}

/// Exports a transform: `T` declares `metadata`, optionally `config_keys`
/// and `validate`, then `init`, `apply` and optionally `deinit`.
pub fn exportTransform(comptime T: type) void {
    exportPlugin(T, .transform);
    const I = Instance(T);
    const X = struct {
        fn configure(list: *abi.ConfigList, err: *abi.TaskError) callconv(.c) bool {
            return I.start(list, err);
        }

        fn apply(b: *c.exports_wasmconnect_connector_record_transform_transform_batch_t, ret: *c.exports_wasmconnect_connector_record_transform_applied_t, err: *abi.TaskError) callconv(.c) bool {
            defer c.exports_wasmconnect_connector_record_transform_transform_batch_free(b);
            diagnostic.clear();
            const self = I.get(err) orelse return false;
            var arena_state = scratch();
            defer arena_state.deinit();
            const arena = arena_state.allocator();
            var why: batch.Message = .{};
            const got = batch.unpack(records.TransformRecord, b, arena, &why) catch |e| switch (e) {
                error.Malformed => return malformed(&why, err),
                error.OutOfMemory => return diagnostic.report(e, err),
            };
            const outcomes = arena.alloc(records.Outcome, got.len) catch |e| return diagnostic.report(e, err);
            @memset(outcomes, .keep);
            self.apply(got, outcomes, arena) catch |e| return diagnostic.report(e, err);
            ret.* = packApplied(@TypeOf(ret.*), outcomes, arena) catch |e| switch (e) {
                error.TooLarge => return diagnostic.report(diagnostic.failJoined(error.Fatal, .{"a batch cannot hold more than 4 GiB of keys, values and headers"}), err),
                error.OutOfMemory => return diagnostic.report(e, err),
            };
            return true;
        }
    };
    exportAs(&X.configure, "exports_wasmconnect_connector_record_transform_configure");
    exportAs(&X.apply, "exports_wasmconnect_connector_record_transform_apply");
}

/// What `apply` decided, packed: the replacements go into a batch of
/// their own, which the outcomes point into.
fn packApplied(comptime A: type, outcomes: []const records.Outcome, arena: std.mem.Allocator) batch.PackError!A {
    const Packed = std.meta.Child(@FieldType(@FieldType(A, "outcomes"), "ptr"));
    var count: usize = 0;
    for (outcomes) |o| count += @intFromBool(o == .replace);
    const replacements = try arena.alloc(records.TransformRecord, count);
    const packed_outcomes = try abi.alloc(Packed, outcomes.len);
    errdefer abi.free(packed_outcomes);
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
        .outcomes = abi.listOf(@FieldType(A, "outcomes"), packed_outcomes),
        .replacements = try batch.pack(@FieldType(A, "replacements"), replacements),
    };
}
