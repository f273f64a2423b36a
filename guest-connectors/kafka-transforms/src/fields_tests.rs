use super::*;
use crate::config::parse;
use crate::testing::{cfg, json, record, shown};

fn make<T: KafkaTransform>(side: Side, pairs: &[(&str, &str)]) -> Result<T, String> {
    T::configure(side, &parse(&T::definition(), &cfg(pairs))?)
}

const S: &str = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"},{"type":"string","optional":true,"field":"b"}],"optional":false,"name":"n"}"#;

#[test]
fn insert_field_adds_metadata_with_and_without_schema() {
    let t: InsertField = make(
        Side::Value,
        &[
            ("topic.field", "t!"),
            ("timestamp.field", "ts"),
            ("static.field", "s"),
            ("static.value", "v"),
        ],
    )
    .unwrap();
    let r = t
        .apply(record(None, json(r#"{"a":1}"#, None)))
        .unwrap()
        .unwrap();
    assert_eq!(
        shown(&r.value).0,
        r#"{"a":1,"t":"orders","ts":1700000000123,"s":"v"}"#
    );
    let r = t
        .apply(record(None, json(r#"{"a":1,"b":null}"#, Some(S))))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.value), (
        r#"{"a":1,"b":null,"t":"orders","ts":1700000000123,"s":"v"}"#.into(),
        Some(r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"},{"type":"string","optional":true,"field":"b"},{"type":"string","optional":false,"field":"t"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"},{"type":"string","optional":true,"field":"s"}],"optional":false,"name":"n"}"#.into())
    ));
    assert!(shown(&t.apply(record(None, None)).unwrap().unwrap().value).0 == "<null>");
    let e = t
        .apply(record(
            None,
            Some(wasmconnect_sdk::Payload::Text("x".into())),
        ))
        .unwrap_err();
    assert_eq!(
        e,
        "Only Struct objects supported for [field insertion], found: java.lang.String"
    );
    assert_eq!(
        make::<InsertField>(Side::Value, &[]).err().unwrap(),
        "No field insertion configured"
    );
    assert!(parse(&InsertField::definition(), &cfg(&[("offset.field", "o")])).is_err());
}

#[test]
fn replace_field_filters_and_renames() {
    let t: ReplaceField = make(Side::Key, &[("exclude", "b"), ("renames", "a:x")]).unwrap();
    let r = t
        .apply(record(json(r#"{"a":1,"b":"y"}"#, Some(S)), None))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.key), (r#"{"x":1}"#.into(), Some(r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"x"}],"optional":false,"name":"n"}"#.into())));
    let r = t
        .apply(record(json(r#"{"a":1,"b":"y","c":true}"#, None), None))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.key).0, r#"{"x":1,"c":true}"#);
    assert_eq!(
        parse(&ReplaceField::definition(), &cfg(&[("renames", "a:b,c")])).unwrap_err(),
        "Invalid value [a:b, c] for configuration renames: Invalid rename mapping: c"
    );
}

#[test]
fn mask_field_zeroes_or_replaces() {
    let t: MaskField = make(Side::Value, &[("fields", "a,b")]).unwrap();
    let r = t
        .apply(record(None, json(r#"{"a":5,"b":"secret"}"#, Some(S))))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.value).0, r#"{"a":0,"b":""}"#);
    let t: MaskField = make(Side::Value, &[("fields", "a"), ("replacement", "9")]).unwrap();
    let r = t
        .apply(record(None, json(r#"{"a":5,"c":{}}"#, None)))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.value).0, r#"{"a":9,"c":{}}"#);
    let t: MaskField = make(Side::Value, &[("fields", "c")]).unwrap();
    let r = t
        .apply(record(None, json(r#"{"c":true}"#, None)))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.value).0, r#"{"c":false}"#);
    let e = t.apply(record(None, None)).unwrap_err();
    assert_eq!(
        e,
        "Only Map objects supported in absence of schema for [mask fields], found: null"
    );
}

#[test]
fn value_to_key_builds_the_key() {
    let t: ValueToKey = make(Side::Value, &[("fields", "a")]).unwrap();
    let r = t
        .apply(record(None, json(r#"{"a":5,"b":"x"}"#, Some(S))))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.key), (r#"{"a":5}"#.into(), Some(r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"}],"optional":false}"#.into())));
    let t: ValueToKey = make(Side::Value, &[("fields", "zz")]).unwrap();
    assert_eq!(
        t.apply(record(None, json(r#"{"a":5}"#, Some(S))))
            .unwrap_err(),
        "Field does not exist: zz"
    );
}
