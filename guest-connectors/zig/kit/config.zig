//! Configuration: the keys a connector declares (`config_keys`), the
//! `Config` its `init` reads, and validation.
//!
//! Before `init` the kit checks everything a declaration says (required
//! keys, numbers, booleans, `choices`), so `init` never sees a
//! configuration `validate` would refuse; in `validate` it checks only
//! `choices`, the host having checked the rest. A connector's own
//! `validate` adds what declarations cannot say.
const std = @import("std");
const abi = @import("abi.zig");
const diagnostic = @import("diagnostic.zig");
const c = abi.c;

pub const Type = enum(u8) { boolean, string, int, short, long, double, list, class, password };
pub const Importance = enum(u8) { high, medium, low };
pub const Width = enum(u8) { none, short, medium, long };
/// What a value names outside the sandbox; the worker grants exactly that.
pub const Resource = enum(u8) { read_file, write_file, read_directory, write_directory, network_endpoint, url };

/// One configuration key, with Kafka's defaults.
pub const Key = struct {
    name: []const u8,
    type: Type = .string,
    /// Shown to operators by the REST API.
    doc: []const u8 = "",
    required: bool = false,
    /// The value `Config.get` returns when the key is unset or blank.
    default: ?[]const u8 = null,
    importance: Importance = .medium,
    group: ?[]const u8 = null,
    order: i32 = -1,
    width: Width = .none,
    /// Empty: the key's name, as Kafka's ConfigDef shows a key without one.
    display_name: []const u8 = "",
    dependents: []const []const u8 = &.{},
    /// Set for a key whose value is a file (or other resource) to grant.
    resource: ?Resource = null,
    /// When not empty, the only values accepted.
    choices: []const []const u8 = &.{},
};

/// A connector's settings, borrowed for the call that receives them (copy
/// what you keep). Values are trimmed; unset or blank keys fall back to
/// their declared default.
pub const Config = struct {
    entries: []const abi.ConfigEntry,
    keys: []const Key,

    /// The value exactly as set, or null when unset.
    pub fn raw(config: Config, name: []const u8) ?[]const u8 {
        for (config.entries) |e| {
            if (std.mem.eql(u8, abi.bytes(e.f0), name)) return abi.bytes(e.f1);
        }
        return null;
    }

    /// The trimmed value, else the key's default, else null.
    pub fn get(config: Config, name: []const u8) ?[]const u8 {
        if (config.raw(name)) |value| {
            const trimmed = std.mem.trim(u8, value, " \t\r\n");
            if (trimmed.len > 0) return trimmed;
        }
        for (config.keys) |k| if (std.mem.eql(u8, k.name, name)) return k.default;
        return null;
    }

    /// The value of a key the kit has checked is set (required, or with a
    /// default); an undeclared or unset key is a fatal error naming it.
    pub fn string(config: Config, name: []const u8) error{MissingConfig}![]const u8 {
        return config.get(name) orelse
            diagnostic.failJoined(error.MissingConfig, .{ "Missing required configuration \"", name, "\" which has no default value." });
    }

    /// The value as an integer of type `T`.
    pub fn int(config: Config, comptime T: type, name: []const u8) error{ MissingConfig, InvalidConfig }!T {
        const text = try config.string(name);
        return std.fmt.parseInt(T, text, 10) catch
            diagnostic.failJoined(error.InvalidConfig, .{ "Invalid value ", text, " for configuration ", name, ": not an integer in ", std.math.minInt(T), "..", std.math.maxInt(T) });
    }

    /// The value as a boolean (`true` or `false`, any case).
    pub fn boolean(config: Config, name: []const u8) error{ MissingConfig, InvalidConfig }!bool {
        const text = try config.string(name);
        if (std.ascii.eqlIgnoreCase(text, "true")) return true;
        if (std.ascii.eqlIgnoreCase(text, "false")) return false;
        return diagnostic.failJoined(error.InvalidConfig, .{ "Invalid value ", text, " for configuration ", name, ": expected true or false" });
    }
};

/// Problems `validate` found, one message per entry.
pub const Problems = struct {
    arena: std.mem.Allocator,
    list: std.ArrayList(Problem) = .empty,

    pub const Problem = struct { key: []const u8, message: []const u8 };

    /// Reports a problem with `key`.
    pub fn add(p: *Problems, key: []const u8, comptime fmt: []const u8, args: anytype) error{OutOfMemory}!void {
        const message = try std.fmt.allocPrint(p.arena, fmt, args);
        try p.list.append(p.arena, .{ .key = key, .message = message });
    }

    /// As `add`, the message joined from `parts` (slices and integers)
    /// rather than formatted (see `wc.failJoined`).
    pub fn addJoined(p: *Problems, key: []const u8, parts: anytype) error{OutOfMemory}!void {
        const message = try diagnostic.join(p.arena, parts);
        try p.list.append(p.arena, .{ .key = key, .message = message });
    }
};

/// Who has checked a configuration's required keys and value types.
pub const Checked = enum {
    /// The host, before `validate`: the kit checks only `choices`.
    by_host,
    /// Nobody: before `init`, the kit checks everything it declares.
    no,
};

/// What the declarations say about `config`.
pub fn check(config: Config, checked: Checked, problems: *Problems) error{OutOfMemory}!void {
    for (config.keys) |k| {
        const value = config.get(k.name) orelse {
            if (k.required and checked == .no)
                try problems.addJoined(k.name, .{ "Missing required configuration \"", k.name, "\" which has no default value." });
            continue;
        };
        const valid = checked == .by_host or switch (k.type) {
            .int => isInt(i32, value),
            .short => isInt(i16, value),
            .long => isInt(i64, value),
            .double => isDouble(value),
            .boolean => std.ascii.eqlIgnoreCase(value, "true") or std.ascii.eqlIgnoreCase(value, "false"),
            else => true,
        };
        if (!valid) {
            try problems.addJoined(k.name, .{ "Invalid value ", value, " for configuration ", k.name, ": not a valid ", @tagName(k.type) });
        } else if (k.choices.len > 0) {
            for (k.choices) |choice| {
                if (std.mem.eql(u8, choice, value)) break;
            } else {
                var choices: std.ArrayList(u8) = .empty;
                for (k.choices, 0..) |choice, i| {
                    if (i > 0) try choices.appendSlice(problems.arena, ", ");
                    try choices.appendSlice(problems.arena, choice);
                }
                try problems.addJoined(k.name, .{ "Invalid value ", value, " for configuration ", k.name, ": must be one of ", choices.items });
            }
        }
    }
}

/// Whether `text` is a decimal number such as `-1.5e3` (Java's
/// Double.parseDouble reads more, hexadecimal and `NaN` among them; the
/// host checks those). A grammar check rather than std.fmt.parseFloat,
/// which would add 25 KB to every component.
fn isDouble(text: []const u8) bool {
    var i: usize = 0;
    if (i < text.len and (text[i] == '+' or text[i] == '-')) i += 1;
    const int_start = i;
    while (i < text.len and std.ascii.isDigit(text[i])) i += 1;
    var digits = i - int_start;
    if (i < text.len and text[i] == '.') {
        i += 1;
        const frac_start = i;
        while (i < text.len and std.ascii.isDigit(text[i])) i += 1;
        digits += i - frac_start;
    }
    if (digits == 0) return false;
    if (i < text.len and (text[i] == 'e' or text[i] == 'E')) {
        i += 1;
        if (i < text.len and (text[i] == '+' or text[i] == '-')) i += 1;
        const exp_start = i;
        while (i < text.len and std.ascii.isDigit(text[i])) i += 1;
        if (i == exp_start) return false;
    }
    return i == text.len;
}

fn isInt(comptime T: type, text: []const u8) bool {
    _ = std.fmt.parseInt(T, text, 10) catch return false;
    return true;
}

/// Runs the kit's checks and `T.validate` (when declared) on `config`.
pub fn problemsOf(comptime T: type, config: Config, checked: Checked, problems: *Problems) anyerror!void {
    try check(config, checked, problems);
    if (@hasDecl(T, "validate")) try T.validate(config, problems);
}

/// The first problem with `config` as a fatal error (before `init`).
pub fn require(comptime T: type, config: Config) anyerror!void {
    var arena = std.heap.ArenaAllocator.init(std.heap.c_allocator);
    defer arena.deinit();
    var problems: Problems = .{ .arena = arena.allocator() };
    try problemsOf(T, config, .no, &problems);
    if (problems.list.items.len > 0)
        return diagnostic.failJoined(error.Fatal, .{problems.list.items[0].message});
}

pub fn keysOf(comptime T: type) []const Key {
    return if (@hasDecl(T, "config_keys")) T.config_keys else &.{};
}

pub fn configOf(comptime T: type, list: *const abi.ConfigList) Config {
    return .{ .entries = abi.items(list.*), .keys = keysOf(T) };
}

const ConfigKey = c.wasmconnect_connector_config_def_config_key_t;
const ConfigValue = c.wasmconnect_connector_config_def_config_value_t;

/// `keys` as the heap list `config-definition` returns.
pub fn definition(comptime L: type, keys: []const Key) error{OutOfMemory}!L {
    const out = try abi.alloc(ConfigKey, keys.len);
    for (keys, out) |k, *o| {
        o.* = .{
            .name = try abi.heap(abi.String, k.name),
            .type = @backingInt(k.type),
            .required = k.required,
            .default_value = try abi.heapOption(@FieldType(ConfigKey, "default_value"), k.default),
            .importance = @backingInt(k.importance),
            .documentation = try abi.heap(abi.String, k.doc),
            .group = try abi.heapOption(@FieldType(ConfigKey, "group"), k.group),
            .order_in_group = k.order,
            .width = @backingInt(k.width),
            .display_name = try abi.heap(abi.String, if (k.display_name.len == 0) k.name else k.display_name),
            .dependents = try abi.heapStrings(@FieldType(ConfigKey, "dependents"), k.dependents),
            .resource = if (k.resource) |r| .{ .is_some = true, .val = @backingInt(r) } else .{},
        };
    }
    return abi.listOf(L, out);
}

/// `problems` as the heap list `validate` returns: one entry per key, in
/// the order the keys first had a problem.
pub fn results(comptime L: type, config: Config, problems: []const Problems.Problem, arena: std.mem.Allocator) error{OutOfMemory}!L {
    var keys: std.ArrayList([]const u8) = .empty;
    for (problems) |p| {
        for (keys.items) |k| {
            if (std.mem.eql(u8, k, p.key)) break;
        } else try keys.append(arena, p.key);
    }
    const out = try abi.alloc(ConfigValue, keys.items.len);
    for (keys.items, out) |key, *o| {
        var messages: std.ArrayList([]const u8) = .empty;
        for (problems) |p| if (std.mem.eql(u8, p.key, key)) try messages.append(arena, p.message);
        o.* = .{
            .name = try abi.heap(abi.String, key),
            .value = try abi.heapOption(@FieldType(ConfigValue, "value"), config.raw(key)),
            .recommended_values = .{},
            .errors = try abi.heapStrings(@FieldType(ConfigValue, "errors"), messages.items),
            .visible = true,
        };
    }
    return abi.listOf(L, out);
}
