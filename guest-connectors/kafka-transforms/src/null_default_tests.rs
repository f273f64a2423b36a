//! `replace.null.with.default` in every transform that has it: a struct
//! field that is null and has a schema default reads as the default with
//! `true` (Kafka's `Struct.get`) and stays null with `false`
//! (`Struct.getWithoutDefault`). Each test fails if the key is ignored.
//! Schemaless data has no defaults, so the key changes nothing there.

use wasmconnect_sdk::TransformRecord;

use crate::config::parse;
use crate::testing::{cfg, json, record, shown};
use crate::{
    Cast, ExtractField, Flatten, HeaderFrom, HoistField, InsertField, KafkaTransform, MaskField,
    ReplaceField, SetSchemaMetadata, Side, TimestampConverter, ValueToKey,
};

/// `n` (int32, default 7), `s` (string, default "dflt"), `ts` (Timestamp,
/// default one day) and `inner.c` (string, default "cc") are optional
/// fields with defaults; [`DOC`] holds null in each.
const SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"int32","optional":true,"default":7,"field":"n"},{"type":"string","optional":true,"default":"dflt","field":"s"},{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"default":86400000,"field":"ts"},{"type":"struct","fields":[{"type":"string","optional":true,"default":"cc","field":"c"}],"optional":true,"field":"inner"}],"optional":false}"#;
const DOC: &str = r#"{"id":1,"n":null,"s":null,"ts":null,"inner":{"c":null}}"#;

/// Runs `T` (value variant) on [`DOC`] with `pairs` and
/// `replace.null.with.default=rnwd`.
fn run<T: KafkaTransform>(pairs: &[(&str, &str)], rnwd: bool) -> TransformRecord {
    let mut pairs = pairs.to_vec();
    pairs.push((
        "replace.null.with.default",
        if rnwd { "true" } else { "false" },
    ));
    let settings = parse(&T::definition(), &cfg(&pairs)).expect("valid settings");
    let t = T::configure(Side::Value, &settings).expect("configures");
    t.apply(record(None, json(DOC, Some(SCHEMA))))
        .expect("applies")
        .expect("keeps the record")
}

/// The value document of `T`'s output with `true` and with `false`.
fn both<T: KafkaTransform>(pairs: &[(&str, &str)]) -> (String, String) {
    (
        shown(&run::<T>(pairs, true).value).0,
        shown(&run::<T>(pairs, false).value).0,
    )
}

#[test]
fn the_key_defaults_to_true() {
    let settings = parse(&MaskField::definition(), &cfg(&[("fields", "n")])).unwrap();
    let t = MaskField::configure(Side::Value, &settings).unwrap();
    let r = t.apply(record(None, json(DOC, Some(SCHEMA)))).unwrap();
    assert_eq!(
        shown(&r.unwrap().value).0,
        shown(&run::<MaskField>(&[("fields", "n")], true).value).0
    );
}

#[test]
fn insert_field_copies_fields_with_or_without_defaults() {
    let (t, f) = both::<InsertField>(&[("static.field", "x"), ("static.value", "y")]);
    // A nested struct is copied as it is: its own null field stays null.
    assert_eq!(
        t,
        r#"{"id":1,"n":7,"s":"dflt","ts":86400000,"inner":{"c":null},"x":"y"}"#
    );
    assert_eq!(
        f,
        r#"{"id":1,"n":null,"s":null,"ts":null,"inner":{"c":null},"x":"y"}"#
    );
}

#[test]
fn replace_field_reads_renamed_fields_with_or_without_defaults() {
    let (t, f) = both::<ReplaceField>(&[("include", "n,s"), ("renames", "n:m")]);
    assert_eq!(t, r#"{"m":7,"s":"dflt"}"#);
    assert_eq!(f, r#"{"m":null,"s":null}"#);
}

#[test]
fn mask_field_masks_the_default_or_keeps_the_null() {
    let (t, f) = both::<MaskField>(&[("fields", "n")]);
    assert_eq!(
        t,
        r#"{"id":1,"n":0,"s":"dflt","ts":86400000,"inner":{"c":null}}"#
    );
    assert_eq!(
        f,
        r#"{"id":1,"n":null,"s":null,"ts":null,"inner":{"c":null}}"#
    );
}

#[test]
fn value_to_key_copies_the_default_or_the_null() {
    let key = |rnwd| shown(&run::<ValueToKey>(&[("fields", "n,s")], rnwd).key).0;
    assert_eq!(key(true), r#"{"n":7,"s":"dflt"}"#);
    assert_eq!(key(false), r#"{"n":null,"s":null}"#);
}

#[test]
fn extract_field_yields_the_default_or_null() {
    assert_eq!(
        both::<ExtractField>(&[("field", "n")]),
        ("7".into(), "null".into())
    );
    // V2 paths: the last step follows the key.
    let v2 = [("field", "inner.c"), ("field.syntax.version", "V2")];
    assert_eq!(both::<ExtractField>(&v2), (r#""cc""#.into(), "null".into()));
    // The schema (with its default) is the field's either way.
    let r = run::<ExtractField>(&[("field", "n")], false);
    assert_eq!(
        shown(&r.value).1.as_deref(),
        Some(r#"{"type":"int32","optional":true,"default":7}"#)
    );
}

#[test]
fn set_schema_metadata_copies_the_struct_with_or_without_defaults() {
    let (t, f) = both::<SetSchemaMetadata>(&[("schema.name", "renamed")]);
    assert_eq!(
        t,
        r#"{"id":1,"n":7,"s":"dflt","ts":86400000,"inner":{"c":null}}"#
    );
    assert_eq!(f, DOC);
}

#[test]
fn cast_casts_the_default_or_keeps_the_null() {
    let (t, f) = both::<Cast>(&[("spec", "n:string")]);
    assert_eq!(
        t,
        r#"{"id":1,"n":"7","s":"dflt","ts":86400000,"inner":{"c":null}}"#
    );
    assert_eq!(
        f,
        r#"{"id":1,"n":null,"s":null,"ts":null,"inner":{"c":null}}"#
    );
}

#[test]
fn timestamp_converter_converts_the_default_or_keeps_the_null() {
    let pairs = [
        ("field", "ts"),
        ("target.type", "string"),
        ("format", "yyyy-MM-dd"),
    ];
    let (t, f) = both::<TimestampConverter>(&pairs);
    assert_eq!(
        t,
        r#"{"id":1,"n":7,"s":"dflt","ts":"1970-01-02","inner":{"c":null}}"#
    );
    assert_eq!(
        f,
        r#"{"id":1,"n":null,"s":null,"ts":null,"inner":{"c":null}}"#
    );
}

#[test]
fn header_from_writes_the_default_or_a_null_header() {
    let pairs = [("fields", "n"), ("headers", "hn"), ("operation", "move")];
    let header = |r: &TransformRecord| {
        r.headers
            .iter()
            .find(|h| h.key == "hn")
            .map(|h| h.value.clone())
    };
    let (t, f) = (
        run::<HeaderFrom>(&pairs, true),
        run::<HeaderFrom>(&pairs, false),
    );
    assert_eq!(header(&t), Some(Some(b"7".to_vec())));
    assert_eq!(header(&f), Some(None));
    // The fields left behind are copied the same way.
    assert_eq!(
        shown(&t.value).0,
        r#"{"id":1,"s":"dflt","ts":86400000,"inner":{"c":null}}"#
    );
    assert_eq!(
        shown(&f.value).0,
        r#"{"id":1,"s":null,"ts":null,"inner":{"c":null}}"#
    );
    // `copy` leaves the value as it was, nulls included.
    let copy = [("fields", "n"), ("headers", "hn"), ("operation", "copy")];
    assert_eq!(shown(&run::<HeaderFrom>(&copy, true).value).0, DOC);
}

#[test]
fn transforms_without_the_key_read_as_kafka_does() {
    // Flatten reads every field with `Struct.get`: defaults, nested too.
    let settings = parse(&Flatten::definition(), &cfg(&[])).unwrap();
    let r = Flatten::configure(Side::Value, &settings)
        .unwrap()
        .apply(record(None, json(DOC, Some(SCHEMA))))
        .unwrap()
        .unwrap();
    assert_eq!(
        shown(&r.value).0,
        r#"{"id":1,"n":7,"s":"dflt","ts":86400000,"inner.c":"cc"}"#
    );
    // HoistField wraps the struct untouched: its nulls stay null.
    let settings = parse(&HoistField::definition(), &cfg(&[("field", "w")])).unwrap();
    let r = HoistField::configure(Side::Value, &settings)
        .unwrap()
        .apply(record(None, json(DOC, Some(SCHEMA))))
        .unwrap()
        .unwrap();
    assert_eq!(shown(&r.value).0, format!(r#"{{"w":{DOC}}}"#));
}

#[test]
fn schemaless_data_has_no_defaults() {
    let doc = r#"{"n":null}"#;
    for rnwd in ["true", "false"] {
        let pairs = [("fields", "n"), ("replace.null.with.default", rnwd)];
        let settings = parse(&MaskField::definition(), &cfg(&pairs)).unwrap();
        let r = MaskField::configure(Side::Value, &settings)
            .unwrap()
            .apply(record(None, json(doc, None)))
            .unwrap()
            .unwrap();
        assert_eq!(shown(&r.value), (doc.to_string(), None));
    }
}
