//! The cases of the side-by-side transforms test (`tests/tests/transforms.rs`):
//! input records and transform chains run through both Kafka Connect and
//! us, and the bad configurations both must judge alike. Kept apart from
//! the test's machinery so each stays short.

use serde_json::{Value, json};

pub const CLASS: &str = "io.wasmconnect.testing.ReplaySourceConnector";
pub const T: &str = "org.apache.kafka.connect.transforms.";
pub const BASE_TS: i64 = 1_700_000_000_000;

/// One case: records (`topic` is a suffix: `in`, `a`, …), whether keys and
/// values are schemaless, and the chain's settings.
pub struct Case {
    pub name: &'static str,
    pub schemaless: bool,
    pub records: Vec<Value>,
    pub chain: Vec<(&'static str, String)>,
}

pub fn case(name: &'static str, records: Vec<Value>, chain: &[(&'static str, &str)]) -> Case {
    Case {
        name,
        schemaless: false,
        records,
        chain: chain.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

pub fn schemaless(mut c: Case) -> Case {
    c.schemaless = true;
    c
}

// ---- input data -------------------------------------------------------------

pub fn field(name: &str, ty: &str, optional: bool) -> Value {
    json!({"type": ty, "optional": optional, "field": name})
}

/// The struct schema most cases use: id, name, ts (int64 ms), an optional
/// nested address.
pub fn person_schema() -> Value {
    json!({"type": "struct", "fields": [
        field("id", "int32", false),
        field("name", "string", true),
        field("ts", "int64", false),
        {"type": "struct", "fields": [field("city", "string", true)], "optional": true, "field": "addr"},
    ], "optional": false, "name": "person"})
}

pub fn person(id: i32, name: &str) -> Value {
    json!({"id": id, "name": name, "ts": BASE_TS + id as i64 * 86_400_000,
           "addr": {"city": format!("city-{id}")}})
}

pub fn envelope(schema: Value, payload: Value) -> Value {
    json!({"schema": schema, "payload": payload})
}

pub fn key_schema() -> Value {
    json!({"type": "struct", "fields": [field("k", "int32", false)], "optional": false})
}

/// A schema-ful record: struct key `{k}` and a person value.
pub fn rec(topic: &str, id: i32, headers: &[(&str, &str)]) -> Value {
    json!({"topic": topic, "key": envelope(key_schema(), json!({"k": id})),
           "value": envelope(person_schema(), person(id, &format!("name-{id}"))),
           "headers": headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
           "timestamp": BASE_TS + id as i64})
}

/// A schemaless record: map key and a person value.
pub fn plain(topic: &str, id: i32, headers: &[(&str, &str)]) -> Value {
    json!({"topic": topic, "key": {"k": id}, "value": person(id, &format!("name-{id}")),
           "headers": headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
           "timestamp": BASE_TS + id as i64})
}

pub fn tombstone(topic: &str, id: i32) -> Value {
    json!({"topic": topic, "key": envelope(key_schema(), json!({"k": id})), "value": null,
           "headers": [], "timestamp": BASE_TS + id as i64})
}

pub fn three() -> Vec<Value> {
    (1..=3).map(|i| rec("in", i, &[])).collect()
}

pub fn three_plain() -> Vec<Value> {
    (1..=3).map(|i| plain("in", i, &[])).collect()
}

// ---- the cases --------------------------------------------------------------

pub fn cases() -> Vec<Case> {
    let insert = format!("{T}InsertField$Value");
    let filter = format!("{T}Filter");
    let p = "org.apache.kafka.connect.transforms.predicates.";
    vec![
        // No chain: the replay sources and converters alone must agree.
        case(
            "passthrough",
            vec![
                rec("in", 1, &[("h", "v")]),
                tombstone("in", 2),
                rec("in", 3, &[]),
            ],
            &[],
        ),
        schemaless(case("passthrough-plain", three_plain(), &[])),
        case(
            "insert-value",
            three(),
            &[
                ("transforms", "i"),
                ("transforms.i.type", &insert),
                ("transforms.i.static.field", "origin"),
                ("transforms.i.static.value", "replay"),
                ("transforms.i.topic.field", "topic"),
                ("transforms.i.timestamp.field", "at"),
            ],
        ),
        schemaless(case(
            "insert-value-plain",
            three_plain(),
            &[
                ("transforms", "i"),
                ("transforms.i.type", &insert),
                ("transforms.i.static.field", "origin"),
                ("transforms.i.static.value", "replay"),
                ("transforms.i.topic.field", "topic"),
            ],
        )),
        case(
            "insert-key",
            three(),
            &[
                ("transforms", "i"),
                ("transforms.i.type", &format!("{T}InsertField$Key")),
                ("transforms.i.static.field", "origin"),
                ("transforms.i.static.value", "replay"),
            ],
        ),
        case(
            "replace-value",
            three(),
            &[
                ("transforms", "r"),
                ("transforms.r.type", &format!("{T}ReplaceField$Value")),
                ("transforms.r.exclude", "ts"),
                ("transforms.r.renames", "id:ident,name:who"),
            ],
        ),
        schemaless(case(
            "replace-key-plain",
            three_plain(),
            &[
                ("transforms", "r"),
                ("transforms.r.type", &format!("{T}ReplaceField$Key")),
                ("transforms.r.renames", "k:key"),
            ],
        )),
        case(
            "mask-value",
            three(),
            &[
                ("transforms", "m"),
                ("transforms.m.type", &format!("{T}MaskField$Value")),
                ("transforms.m.fields", "id,name"),
            ],
        ),
        schemaless(case(
            "mask-value-replacement",
            three_plain(),
            &[
                ("transforms", "m"),
                ("transforms.m.type", &format!("{T}MaskField$Value")),
                ("transforms.m.fields", "name"),
                ("transforms.m.replacement", "***"),
            ],
        )),
        case(
            "value-to-key",
            three(),
            &[
                ("transforms", "v"),
                ("transforms.v.type", &format!("{T}ValueToKey")),
                ("transforms.v.fields", "id,name"),
            ],
        ),
        schemaless(case(
            "value-to-key-plain",
            three_plain(),
            &[
                ("transforms", "v"),
                ("transforms.v.type", &format!("{T}ValueToKey")),
                ("transforms.v.fields", "id"),
            ],
        )),
        case(
            "extract-key-and-value",
            three(),
            &[
                ("transforms", "k,v"),
                ("transforms.k.type", &format!("{T}ExtractField$Key")),
                ("transforms.k.field", "k"),
                ("transforms.v.type", &format!("{T}ExtractField$Value")),
                ("transforms.v.field", "addr"),
            ],
        ),
        schemaless(case(
            "extract-value-plain",
            three_plain(),
            &[
                ("transforms", "v"),
                ("transforms.v.type", &format!("{T}ExtractField$Value")),
                ("transforms.v.field", "name"),
            ],
        )),
        case(
            "hoist-value",
            three(),
            &[
                ("transforms", "h"),
                ("transforms.h.type", &format!("{T}HoistField$Value")),
                ("transforms.h.field", "wrapped"),
            ],
        ),
        schemaless(case(
            "hoist-key-plain",
            three_plain(),
            &[
                ("transforms", "h"),
                ("transforms.h.type", &format!("{T}HoistField$Key")),
                ("transforms.h.field", "wrapped"),
            ],
        )),
        case(
            "cast-value",
            three(),
            &[
                ("transforms", "c"),
                ("transforms.c.type", &format!("{T}Cast$Value")),
                ("transforms.c.spec", "id:string,ts:float64"),
            ],
        ),
        schemaless(case(
            "cast-key-plain",
            three_plain(),
            &[
                ("transforms", "c"),
                ("transforms.c.type", &format!("{T}Cast$Key")),
                ("transforms.c.spec", "k:string"),
            ],
        )),
        // Both refuse a record Cast cannot convert: the task fails.
        schemaless(case(
            "cast-refused",
            vec![
                json!({"topic": "in", "key": null, "value": {"n": "abc"}, "headers": [],
                         "timestamp": BASE_TS}),
            ],
            &[
                ("transforms", "c"),
                ("transforms.c.type", &format!("{T}Cast$Value")),
                ("transforms.c.spec", "n:int32"),
            ],
        )),
        case(
            "timestamp-value",
            three(),
            &[
                ("transforms", "t"),
                ("transforms.t.type", &format!("{T}TimestampConverter$Value")),
                ("transforms.t.field", "ts"),
                ("transforms.t.target.type", "string"),
                ("transforms.t.format", "yyyy-MM-dd HH:mm"),
            ],
        ),
        schemaless(case(
            "timestamp-value-plain",
            three_plain(),
            &[
                ("transforms", "t"),
                ("transforms.t.type", &format!("{T}TimestampConverter$Value")),
                ("transforms.t.field", "ts"),
                ("transforms.t.target.type", "string"),
                ("transforms.t.format", "yyyy-MM-dd"),
            ],
        )),
        case(
            "timestamp-key-unix",
            three(),
            &[
                ("transforms", "t"),
                ("transforms.t.type", &format!("{T}TimestampConverter$Key")),
                ("transforms.t.field", "k"),
                ("transforms.t.target.type", "Timestamp"),
            ],
        ),
        case(
            "regex-router",
            three(),
            &[
                ("transforms", "r"),
                ("transforms.r.type", &format!("{T}RegexRouter")),
                ("transforms.r.regex", "(.*)\\.in"),
                ("transforms.r.replacement", "$1.routed"),
            ],
        ),
        case(
            "timestamp-router",
            three(),
            &[
                ("transforms", "r"),
                ("transforms.r.type", &format!("{T}TimestampRouter")),
                ("transforms.r.topic.format", "${topic}-${timestamp}"),
                ("transforms.r.timestamp.format", "yyyyMMdd"),
            ],
        ),
        case(
            "flatten-value",
            three(),
            &[
                ("transforms", "f"),
                ("transforms.f.type", &format!("{T}Flatten$Value")),
                ("transforms.f.delimiter", "_"),
            ],
        ),
        schemaless(case(
            "flatten-value-plain",
            three_plain(),
            &[
                ("transforms", "f"),
                ("transforms.f.type", &format!("{T}Flatten$Value")),
            ],
        )),
        case(
            "set-schema-metadata",
            three(),
            &[
                ("transforms", "s,k"),
                ("transforms.s.type", &format!("{T}SetSchemaMetadata$Value")),
                ("transforms.s.schema.name", "renamed"),
                ("transforms.s.schema.version", "3"),
                ("transforms.k.type", &format!("{T}SetSchemaMetadata$Key")),
                ("transforms.k.schema.name", "the.key"),
            ],
        ),
        case(
            "drop-headers",
            (1..=2)
                .map(|i| rec("in", i, &[("a", "1"), ("b", "2"), ("c", "3")]))
                .collect(),
            &[
                ("transforms", "d"),
                ("transforms.d.type", &format!("{T}DropHeaders")),
                ("transforms.d.headers", "a,c"),
            ],
        ),
        case(
            "insert-header",
            three(),
            &[
                ("transforms", "h"),
                ("transforms.h.type", &format!("{T}InsertHeader")),
                ("transforms.h.header", "added"),
                ("transforms.h.value.literal", "hello"),
            ],
        ),
        case(
            "header-from-value",
            three(),
            &[
                ("transforms", "h"),
                ("transforms.h.type", &format!("{T}HeaderFrom$Value")),
                ("transforms.h.fields", "id,name"),
                ("transforms.h.headers", "hid,hname"),
                ("transforms.h.operation", "copy"),
            ],
        ),
        schemaless(case(
            "header-from-key-move",
            three_plain(),
            &[
                ("transforms", "h"),
                ("transforms.h.type", &format!("{T}HeaderFrom$Key")),
                ("transforms.h.fields", "k"),
                ("transforms.h.headers", "hk"),
                ("transforms.h.operation", "move"),
            ],
        )),
        // Filter with each predicate, plain and negated.
        case(
            "filter-has-header",
            vec![
                rec("in", 1, &[("drop", "x")]),
                rec("in", 2, &[]),
                rec("in", 3, &[("drop", "")]),
            ],
            &[
                ("transforms", "f"),
                ("transforms.f.type", &filter),
                ("transforms.f.predicate", "h"),
                ("predicates", "h"),
                ("predicates.h.type", &format!("{p}HasHeaderKey")),
                ("predicates.h.name", "drop"),
            ],
        ),
        case(
            "filter-topic-negated",
            vec![
                rec("keep", 1, &[]),
                rec("other", 2, &[]),
                rec("keep", 3, &[]),
            ],
            &[
                ("transforms", "f"),
                ("transforms.f.type", "Filter"),
                ("transforms.f.predicate", "k"),
                ("transforms.f.negate", "true"),
                ("predicates", "k"),
                ("predicates.k.type", "TopicNameMatches"),
                ("predicates.k.pattern", ".*\\.keep"),
            ],
        ),
        case(
            "filter-tombstones",
            vec![rec("in", 1, &[]), tombstone("in", 2), rec("in", 3, &[])],
            &[
                ("transforms", "f"),
                ("transforms.f.type", &filter),
                ("transforms.f.predicate", "t"),
                ("predicates", "t"),
                ("predicates.t.type", "RecordIsTombstone"),
            ],
        ),
        // A transformation skipped for the records its predicate excludes.
        case(
            "insert-unless-tombstone",
            vec![rec("in", 1, &[]), tombstone("in", 2), rec("in", 3, &[])],
            &[
                ("transforms", "i"),
                ("transforms.i.type", &insert),
                ("transforms.i.static.field", "origin"),
                ("transforms.i.static.value", "replay"),
                ("transforms.i.predicate", "t"),
                ("transforms.i.negate", "true"),
                ("predicates", "t"),
                ("predicates.t.type", &format!("{p}RecordIsTombstone")),
            ],
        ),
        case(
            "chain-with-predicates",
            vec![
                rec("a", 1, &[("trace", "1")]),
                rec("b", 2, &[]),
                rec("a", 3, &[]),
                rec("b", 4, &[("trace", "2")]),
            ],
            &[
                ("transforms", "mask,tag,route"),
                ("transforms.mask.type", &format!("{T}MaskField$Value")),
                ("transforms.mask.fields", "name"),
                ("transforms.mask.predicate", "onA"),
                ("transforms.tag.type", &format!("{T}InsertHeader")),
                ("transforms.tag.header", "traced"),
                ("transforms.tag.value.literal", "yes"),
                ("transforms.tag.predicate", "traced"),
                ("transforms.route.type", &format!("{T}RegexRouter")),
                ("transforms.route.regex", "(.*)\\.b"),
                ("transforms.route.replacement", "$1.b-out"),
                ("transforms.route.predicate", "onA"),
                ("transforms.route.negate", "false"),
                ("predicates", "onA,traced"),
                ("predicates.onA.type", "TopicNameMatches"),
                ("predicates.onA.pattern", ".*\\.b"),
                ("predicates.traced.type", "HasHeaderKey"),
                ("predicates.traced.name", "trace"),
            ],
        ),
        // Validation passes a predicate `predicates` does not list; the
        // task fails when it starts (Kafka's ConnectorConfig).
        case(
            "undeclared-predicate",
            three(),
            &[
                ("transforms", "f"),
                ("transforms.f.type", &filter),
                ("transforms.f.predicate", "nope"),
            ],
        ),
    ]
}

/// Bad configurations both workers' validate must judge alike.
pub fn bad_configs() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "unknown-predicate-class",
            vec![
                ("transforms", "f"),
                (
                    "transforms.f.type",
                    "org.apache.kafka.connect.transforms.Filter",
                ),
                ("transforms.f.predicate", "p"),
                ("predicates", "p"),
                ("predicates.p.type", "NoSuchPredicate"),
            ],
        ),
        (
            "missing-predicate-type-and-keys",
            vec![
                ("predicates", "p,q,r"),
                ("predicates.q.type", "HasHeaderKey"),
                ("predicates.r.type", "TopicNameMatches"),
                ("predicates.r.pattern", ""),
            ],
        ),
        (
            "bad-regex",
            vec![
                ("predicates", "p"),
                ("predicates.p.type", "TopicNameMatches"),
                ("predicates.p.pattern", "(unclosed"),
            ],
        ),
        (
            "negate-without-predicate",
            vec![
                ("transforms", "f"),
                (
                    "transforms.f.type",
                    "org.apache.kafka.connect.transforms.Filter",
                ),
                ("transforms.f.negate", "true"),
            ],
        ),
        (
            "bad-negate",
            vec![
                ("transforms", "f"),
                (
                    "transforms.f.type",
                    "org.apache.kafka.connect.transforms.Filter",
                ),
                ("transforms.f.predicate", "p"),
                ("transforms.f.negate", "maybe"),
                ("predicates", "p"),
                ("predicates.p.type", "RecordIsTombstone"),
            ],
        ),
        (
            "undeclared-predicate",
            vec![
                ("transforms", "f"),
                (
                    "transforms.f.type",
                    "org.apache.kafka.connect.transforms.Filter",
                ),
                ("transforms.f.predicate", "nope"),
            ],
        ),
        (
            "duplicate-predicate-alias",
            vec![
                ("predicates", "p,p"),
                ("predicates.p.type", "RecordIsTombstone"),
            ],
        ),
        (
            "bad-cast-spec",
            vec![
                ("transforms", "c"),
                (
                    "transforms.c.type",
                    "org.apache.kafka.connect.transforms.Cast$Value",
                ),
                ("transforms.c.spec", "id:notatype"),
            ],
        ),
    ]
}
