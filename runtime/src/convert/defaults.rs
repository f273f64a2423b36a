//! The JSON converter's `replace.null.with.default`: a JSON `null` whose
//! Connect schema has a `default` becomes that default, through struct
//! fields, array elements and map keys and values, as Kafka's
//! `JsonConverter.convertToConnect` (sink side) and `convertToJson`
//! (source side) do. A struct field absent from the document is null to
//! Kafka (`JsonNode.get` / `Struct.getWithoutDefault` return null), so it
//! is filled in too.
//!
//! The document is rewritten by splicing rather than re-serialising: only
//! the nulls are replaced (and absent fields appended), every other byte is
//! copied, so numbers keep the text they were written with. A default is
//! written as its text in the schema, the very text the envelope carries,
//! with its own nulls filled through the same schema, as Kafka converts a
//! default through its schema.
//!
//! Only the defaults are applied: like the rest of this converter, the walk
//! does not validate the document against the schema, and skips what does
//! not match it (a struct that is not an object, say).

use std::borrow::Cow;
use std::collections::HashMap;

/// Deepest nesting parsed. serde_json, which validated every text given
/// here, stops at 128; this guards the stack if that ever changes.
const MAX_DEPTH: usize = 256;

/// How many bytes filling may add to one record. Defaults nest (an array
/// default of nulls whose items default to arrays of nulls, …), so the
/// filled text can grow exponentially with the schema's depth; past this
/// the record is refused rather than exhausting memory.
const MAX_GROWTH: usize = 64 << 20;

/// `document` with its nulls replaced by `schema`'s defaults, or `None`
/// when nothing is replaced. Both must be JSON texts.
pub(crate) fn fill(document: &str, schema: &str) -> Result<Option<String>, String> {
    let schema_tree =
        parse(schema).map_err(|e| format!("the JSON schema is not valid JSON: {e}"))?;
    let document_tree =
        parse(document).map_err(|e| format!("the JSON value is not valid JSON: {e}"))?;
    let mut filler = Filler {
        schema_text: schema,
        defaults: HashMap::new(),
        budget: MAX_GROWTH,
    };
    let mut edits = Vec::new();
    filler.walk(&document_tree, &schema_tree, &mut edits)?;
    if edits.is_empty() {
        return Ok(None);
    }
    splice(document, 0, document.len(), edits).map(Some)
}

/// A JSON value with its byte span in the text it was parsed from.
struct Node {
    start: usize,
    end: usize,
    kind: Kind,
}

enum Kind {
    Null,
    /// A string; its text is read back from the span when needed.
    Str,
    /// A number, `true` or `false`.
    Scalar,
    Array(Vec<Node>),
    /// Members in document order, keys decoded.
    Object(Vec<(String, Node)>),
}

impl Node {
    /// The last member named `key`: Jackson and serde_json both keep the
    /// last of duplicate keys.
    fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

fn parse(text: &str) -> Result<Node, String> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    let node = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(node)
}

/// A recursive-descent reader of spans. The texts given to it were
/// validated by serde_json, so it checks only the structure it relies on,
/// and reports anything else as an error instead of panicking.
struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_whitespace();
        let start = self.pos;
        let kind = match self.peek() {
            None => return Err(self.error("expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => {
                self.string()?;
                Kind::Str
            }
            Some(_) => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b':' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                match self.bytes.get(start..self.pos) {
                    Some(b"null") => Kind::Null,
                    Some(token) if !token.is_empty() => Kind::Scalar,
                    _ => return Err(self.error("expected a value")),
                }
            }
        };
        Ok(Node {
            start,
            end: self.pos,
            kind,
        })
    }

    /// Skips a string, the cursor on its opening quote.
    fn string(&mut self) -> Result<(), String> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                // An escape's second byte is never the closing quote.
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind, String> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Kind::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            let start = self.pos;
            self.string()?;
            let key = string_at(self.text, start, self.pos)
                .ok_or_else(|| self.error("invalid key"))?
                .into_owned();
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            members.push((key, self.value(depth + 1)?));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Kind::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Kind::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Kind::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }
}

/// The decoded string whose quoted text spans `start..end` of `text`;
/// borrowed when it has no escapes, which is the common case.
fn string_at(text: &str, start: usize, end: usize) -> Option<Cow<'_, str>> {
    let quoted = text.get(start..end)?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// A replacement of `start..end` of a text by `text` (an insertion when
/// the range is empty).
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// `text[start..end]` with `edits` applied. The edits are disjoint (they
/// replace nulls, leaves of the tree, or insert before a closing brace).
fn splice(text: &str, start: usize, end: usize, mut edits: Vec<Edit>) -> Result<String, String> {
    // Stable, so insertions at one brace keep the schema's field order.
    edits.sort_by_key(|e| e.start);
    let added: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity((end - start.min(end)).saturating_add(added));
    let mut pos = start;
    for edit in edits {
        out.push_str(text.get(pos..edit.start).ok_or(SPLICE_ERROR)?);
        out.push_str(&edit.text);
        pos = edit.end;
    }
    out.push_str(text.get(pos..end).ok_or(SPLICE_ERROR)?);
    Ok(out)
}

/// Spans come from the parser and split the text at ASCII delimiters, so
/// this would mean a bug in the walk; it is reported, not panicked on.
const SPLICE_ERROR: &str = "filling in schema defaults produced overlapping edits";

/// The walk's state: the schema's text, the defaults already filled (by
/// the offset of their node in the schema), and how many bytes may still
/// be added.
struct Filler<'a> {
    schema_text: &'a str,
    defaults: HashMap<usize, String>,
    budget: usize,
}

impl<'a> Filler<'a> {
    /// Records in `edits` the replacements `value` (described by `schema`)
    /// needs.
    fn walk(&mut self, value: &Node, schema: &Node, edits: &mut Vec<Edit>) -> Result<(), String> {
        if let Kind::Null = value.kind {
            if let Some(text) = self.default_of(schema)? {
                self.spend(text.len())?;
                edits.push(Edit {
                    start: value.start,
                    end: value.end,
                    text,
                });
            }
            return Ok(());
        }
        let Some(ty) = schema.get("type") else {
            return Ok(());
        };
        match (self.string(ty).as_deref(), &value.kind) {
            (Some("struct"), Kind::Object(members)) => {
                self.walk_struct(value, members, schema, edits)
            }
            (Some("array"), Kind::Array(items)) => {
                if let Some(item_schema) = schema.get("items") {
                    for item in items {
                        self.walk(item, item_schema, edits)?;
                    }
                }
                Ok(())
            }
            (Some("map"), _) => self.walk_map(value, schema, edits),
            _ => Ok(()),
        }
    }

    fn walk_struct(
        &mut self,
        value: &Node,
        members: &[(String, Node)],
        schema: &Node,
        edits: &mut Vec<Edit>,
    ) -> Result<(), String> {
        let Some(Node {
            kind: Kind::Array(fields),
            ..
        }) = schema.get("fields")
        else {
            return Ok(());
        };
        // Wide structs get an index, so the walk stays linear; inserting in
        // order keeps the last of duplicate keys, as Jackson does.
        let index: Option<HashMap<&str, &Node>> =
            (members.len() > 16).then(|| members.iter().map(|(k, v)| (k.as_str(), v)).collect());
        let mut separator = !members.is_empty();
        for field in fields {
            let Some(name) = field.get("field").and_then(|n| self.string(n)) else {
                continue;
            };
            let member = match &index {
                Some(index) => index.get(name.as_ref()).copied(),
                None => members
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v),
            };
            if let Some(member) = member {
                self.walk(member, field, edits)?;
                continue;
            }
            let Some(default) = self.default_of(field)? else {
                continue;
            };
            let key = serde_json::to_string(name.as_ref()).map_err(|e| e.to_string())?;
            let mut text = String::with_capacity(key.len() + default.len() + 2);
            if separator {
                text.push(',');
            }
            text.push_str(&key);
            text.push(':');
            text.push_str(&default);
            separator = true;
            self.spend(text.len())?;
            // Before the closing brace: an object's span ends just after it.
            let brace = value.end.saturating_sub(1);
            edits.push(Edit {
                start: brace,
                end: brace,
                text,
            });
        }
        Ok(())
    }

    /// A map with string keys is a JSON object, any other an array of
    /// `[key, value]` pairs (Kafka's `convertToJson` object mode).
    fn walk_map(
        &mut self,
        value: &Node,
        schema: &Node,
        edits: &mut Vec<Edit>,
    ) -> Result<(), String> {
        let (Some(key_schema), Some(value_schema)) = (schema.get("keys"), schema.get("values"))
        else {
            return Ok(());
        };
        let string_keys = key_schema
            .get("type")
            .and_then(|t| self.string(t))
            .is_some_and(|t| t == "string");
        match &value.kind {
            Kind::Object(members) if string_keys => {
                for (_, member) in members {
                    self.walk(member, value_schema, edits)?;
                }
            }
            Kind::Array(pairs) if !string_keys => {
                for pair in pairs {
                    if let Kind::Array(entry) = &pair.kind
                        && let [k, v] = entry.as_slice()
                    {
                        self.walk(k, key_schema, edits)?;
                        self.walk(v, value_schema, edits)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The text `schema`'s default is written as, if it has one. A `null`
    /// default is none: Kafka's `Schema.defaultValue()` is then null.
    fn default_of(&mut self, schema: &Node) -> Result<Option<String>, String> {
        let Some(default) = schema.get("default") else {
            return Ok(None);
        };
        if let Kind::Null = default.kind {
            return Ok(None);
        }
        if let Some(text) = self.defaults.get(&default.start) {
            return Ok(Some(text.clone()));
        }
        // The default is not null, so this walks only into its children,
        // with the schema's children: the recursion ends with the schema.
        let mut edits = Vec::new();
        self.walk(default, schema, &mut edits)?;
        let text = splice(self.schema_text, default.start, default.end, edits)?;
        self.spend(text.len())?;
        self.defaults.insert(default.start, text.clone());
        Ok(Some(text))
    }

    /// A string node of the schema, decoded; `None` if it is no string.
    fn string(&self, node: &Node) -> Option<Cow<'a, str>> {
        match node.kind {
            Kind::Str => string_at(self.schema_text, node.start, node.end),
            _ => None,
        }
    }

    fn spend(&mut self, bytes: usize) -> Result<(), String> {
        self.budget = self.budget.checked_sub(bytes).ok_or_else(|| {
            format!("filling in the schema's defaults would add more than {MAX_GROWTH} bytes to the record")
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(document: &str, schema: &str) -> String {
        fill(document, schema)
            .unwrap()
            .unwrap_or_else(|| document.to_string())
    }

    const POINT: &str = r#"{"type":"struct","optional":false,"fields":[
        {"field":"x","type":"int32","optional":true,"default":7},
        {"field":"y","type":"double","optional":true,"default":1.0},
        {"field":"z","type":"string","optional":true}]}"#;

    #[test]
    fn struct_fields_take_their_defaults_and_keep_other_text() {
        assert_eq!(
            filled(r#"{"x":null,"y":null,"z":null}"#, POINT),
            r#"{"x":7,"y":1.0,"z":null}"#
        );
        // Numbers outside the replaced nulls are copied byte for byte.
        assert_eq!(
            filled(r#"{ "x" : 1.50e2 , "y":null }"#, POINT),
            r#"{ "x" : 1.50e2 , "y":1.0 }"#
        );
        assert_eq!(fill(r#"{"x":1,"y":2.0,"z":"a"}"#, POINT).unwrap(), None);
    }

    #[test]
    fn absent_fields_are_null_to_kafka() {
        assert_eq!(filled("{}", POINT), r#"{"x":7,"y":1.0}"#);
        assert_eq!(filled(r#"{"z":"a"}"#, POINT), r#"{"z":"a","x":7,"y":1.0}"#);
        assert_eq!(filled(r#"{"x":2 }"#, POINT), r#"{"x":2 ,"y":1.0}"#);
    }

    #[test]
    fn top_level_null_takes_the_schema_default() {
        assert_eq!(
            filled("null", r#"{"type":"int64","optional":true,"default":42}"#),
            "42"
        );
        // A null default is no default.
        assert_eq!(
            fill("null", r#"{"type":"int64","optional":true,"default":null}"#).unwrap(),
            None
        );
    }

    #[test]
    fn arrays_maps_and_nested_structs() {
        let schema = format!(
            r#"{{"type":"struct","fields":[
                {{"field":"list","type":"array","items":{{"type":"string","default":"d"}}}},
                {{"field":"map","type":"map","keys":{{"type":"string"}},"values":{{"type":"boolean","default":true}}}},
                {{"field":"pairs","type":"map","keys":{{"type":"int32","default":0}},"values":{{"type":"int8","default":5}}}},
                {{"field":"inner","type":"struct","fields":[{{"field":"p","type":"struct","fields":{}}}]}}]}}"#,
            r#"[{"field":"x","type":"int32","optional":true,"default":7}]"#
        );
        assert_eq!(
            filled(
                r#"{"list":["a",null],"map":{"k":null,"l":false},"pairs":[[null,null],[1,2]],"inner":{"p":{"x":null}}}"#,
                &schema
            ),
            r#"{"list":["a","d"],"map":{"k":true,"l":false},"pairs":[[0,5],[1,2]],"inner":{"p":{"x":7}}}"#
        );
    }

    #[test]
    fn defaults_are_filled_through_their_schema() {
        let schema = r#"{"type":"struct","optional":true,"default":{"a":null},
            "fields":[{"field":"a","type":"string","default":"in"}]}"#;
        assert_eq!(filled("null", schema), r#"{"a":"in"}"#);
        assert_eq!(filled("{}", schema), r#"{"a":"in"}"#);
    }

    #[test]
    fn escaped_names_and_duplicate_keys() {
        let schema = r#"{"type":"struct","fields":[{"field":"a\"b","type":"int8","default":1}]}"#;
        assert_eq!(filled(r#"{"a\"b":null}"#, schema), r#"{"a\"b":1}"#);
        assert_eq!(filled("{}", schema), r#"{"a\"b":1}"#);
        // The last of duplicate keys is the value, as in Jackson.
        let schema = r#"{"type":"struct","fields":[{"field":"a","type":"int8","default":1}]}"#;
        assert_eq!(filled(r#"{"a":null,"a":2}"#, schema), r#"{"a":null,"a":2}"#);
    }

    #[test]
    fn wide_structs_use_an_index() {
        let fields: Vec<String> = (0..40)
            .map(|i| format!(r#"{{"field":"f{i}","type":"int32","default":{i}}}"#))
            .collect();
        let schema = format!(r#"{{"type":"struct","fields":[{}]}}"#, fields.join(","));
        let members: Vec<String> = (0..40).map(|i| format!(r#""f{i}":null"#)).collect();
        let expected: Vec<String> = (0..40).map(|i| format!(r#""f{i}":{i}"#)).collect();
        assert_eq!(
            filled(&format!("{{{}}}", members.join(",")), &schema),
            format!("{{{}}}", expected.join(","))
        );
    }

    #[test]
    fn mismatched_documents_are_left_alone() {
        assert_eq!(fill(r#"[null]"#, POINT).unwrap(), None);
        assert_eq!(fill(r#""text""#, POINT).unwrap(), None);
        assert_eq!(fill(r#"{"x":null}"#, "[1]").unwrap(), None);
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        // Structure only: serde_json checked the scalars beforehand.
        for bad in [
            "",
            "{",
            "[1,",
            r#"{"a" 1}"#,
            r#""abc"#,
            "nul l",
            "1 2",
            r#"{"a":1,}"#,
            "}",
            ",",
        ] {
            assert!(fill(bad, POINT).is_err(), "{bad:?}");
            assert!(fill("null", bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2);
        assert!(
            fill(&deep, POINT)
                .unwrap_err()
                .contains("nested too deeply")
        );
    }

    #[test]
    fn exponential_defaults_are_refused() {
        // Each level's default is an array of 16 of the level below's
        // nulls: 16^8 copies of the innermost default.
        let mut schema = r#"{"type":"string","default":"0123456789"}"#.to_string();
        for _ in 0..8 {
            let nulls = vec!["null"; 16].join(",");
            schema = format!(r#"{{"type":"array","items":{schema},"default":[{nulls}]}}"#);
        }
        let err = fill("null", &schema).unwrap_err();
        assert!(err.contains("would add more than"), "{err}");
    }
}
