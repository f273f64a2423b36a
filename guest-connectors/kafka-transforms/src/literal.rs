//! `Values.parseString` (how InsertHeader reads `value.literal`), ported
//! from Kafka 4.3.1's `Values.Parser` and `Values.ValueParser` step for
//! step, because its quirks decide what header bytes come out:
//!
//! * a top-level `true`, `false` or `null` must be the whole text
//!   (`true}` is a string), embedded ones need only be a token;
//! * `[…]` and `{…}` parse into arrays and maps whose elements are merged
//!   into one numeric schema (`[1, 2.5]` becomes FLOAT32 `[1.0,2.5]`);
//!   anything that fails inside, a null among typed elements included,
//!   leaves the whole text a STRING, and text after the closing bracket
//!   is ignored (`[1] x` is `[1]`);
//! * otherwise the first token decides: an ISO date/time, a number (the
//!   narrowest of INT8…INT64, then FLOAT32, FLOAT64, Decimal), or the
//!   whole text as a STRING (`12,34` is the INT8 12).
//!
//! Dates come back as [`Value::Date`] (a `java.util.Date`), so
//! `convert_to_string` prints them as Kafka does wherever they sit.

use crate::dates;
use crate::schema::{self, Schema, Type};
use crate::strings::{Number, big_decimal_text, parse_number_like};
use crate::value::Value;

/// Java's `String.trim()`: every char at or below U+0020 is whitespace.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `Utils.isBlank`.
fn is_blank(s: &str) -> bool {
    java_trim(s).is_empty()
}

/// Nesting deeper than this is refused (the text stays a STRING) instead
/// of risking the guest's stack; Java would only fail far deeper, with a
/// StackOverflowError, so no sane literal is affected.
const MAX_DEPTH: usize = 64;

/// `Values.Parser`: a tokenizer over the text's chars with one token of
/// look-ahead, marks and rewinds.
struct Parser {
    chars: Vec<char>,
    pos: usize,
    next_token: Option<String>,
    previous: Option<String>,
}

impl Parser {
    fn new(text: &str) -> Parser {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
            next_token: None,
            previous: None,
        }
    }

    fn original(&self) -> String {
        self.chars.iter().collect()
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars
            .get(from..to.min(self.chars.len()))
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    fn mark(&self) -> usize {
        let pending = self.next_token.as_ref().map_or(0, |t| t.chars().count());
        self.pos.saturating_sub(pending)
    }

    fn rewind_to(&mut self, position: usize) {
        self.pos = position;
        self.next_token = None;
        self.previous = None;
    }

    fn can_consume_next_token(&self) -> bool {
        self.pos < self.chars.len()
    }

    fn has_next(&self) -> bool {
        self.next_token.is_some() || self.can_consume_next_token()
    }

    fn next(&mut self) -> String {
        let token = match self.next_token.take() {
            Some(t) => t,
            None => self.consume_next_token(),
        };
        self.previous = Some(token.clone());
        token
    }

    /// The text of the next `n` tokens, or `None` (and nothing consumed).
    fn next_n(&mut self, n: usize) -> Option<String> {
        let start = self.mark();
        for _ in 0..n {
            if !self.has_next() {
                self.rewind_to(start);
                return None;
            }
            self.next();
        }
        Some(self.text(start, self.pos))
    }

    /// A delimiter (`: , { } [ ] "`, unless backslash-escaped) is a token
    /// of its own; the text between delimiters is another.
    fn consume_next_token(&mut self) -> String {
        let start = self.pos;
        let mut escaped = false;
        while let Some(&c) = self.chars.get(self.pos) {
            match c {
                '\\' => escaped = !escaped,
                ':' | ',' | '{' | '}' | '[' | ']' | '"' => {
                    if !escaped {
                        if start < self.pos {
                            return self.text(start, self.pos);
                        }
                        self.pos += 1;
                        return self.text(start, start + 1);
                    }
                    escaped = false;
                }
                _ => escaped = false,
            }
            self.pos += 1;
        }
        self.text(start, self.pos)
    }

    /// Consumes the next non-blank token if, trimmed, it is `expected`.
    fn can_consume(&mut self, expected: &str) -> bool {
        if self.next_token.is_none() {
            if !self.has_next() {
                return false;
            }
            self.next_token = Some(self.consume_next_token());
        }
        while self.next_token.as_deref().is_some_and(is_blank) && self.can_consume_next_token() {
            self.next_token = Some(self.consume_next_token());
        }
        if self.next_token.as_deref().map(java_trim) == Some(expected) {
            self.next_token = None;
            return true;
        }
        false
    }
}

/// A parsed value; `None` is Java's `null` SchemaAndValue.
type Parsed = Option<(Schema, Value)>;

/// Kafka's DataException inside the parser: the caller reverts to a string.
struct Refused;

/// `Values.parseString(text)`: the literal's schema and value.
pub fn parse_string(text: &str) -> (Option<Schema>, Value) {
    if text.is_empty() {
        return (Some(Schema::of(Type::String)), Value::Str(String::new()));
    }
    let mut parser = Parser::new(text);
    match parse(&mut parser, false, 0) {
        Ok(Some((s, v))) => (Some(s), v),
        // A top-level parse only refuses through an embedded value, which
        // `parse` already turned into a string; null is Java's null.
        Ok(None) | Err(Refused) => (None, Value::Null),
    }
}

fn string(text: String) -> Parsed {
    Some((Schema::of(Type::String), Value::Str(text)))
}

fn single_token_literal(p: &mut Parser, embedded: bool, literal: &str) -> bool {
    let start = p.mark();
    if p.can_consume(literal) && (embedded || !p.has_next()) {
        return true;
    }
    p.rewind_to(start);
    false
}

fn parse(p: &mut Parser, embedded: bool, depth: usize) -> Result<Parsed, Refused> {
    if !p.has_next() {
        return Ok(None);
    }
    if embedded && p.can_consume("\"") {
        return Ok(Some(parse_quoted(p)));
    }
    if single_token_literal(p, embedded, "null") {
        return Ok(None);
    }
    for (literal, b) in [("true", true), ("false", false)] {
        if single_token_literal(p, embedded, literal) {
            return Ok(Some((Schema::of(Type::Boolean), Value::Bool(b))));
        }
    }
    let start = p.mark();
    let nested = if p.can_consume("[") {
        Some(parse_array(p, depth + 1))
    } else if p.can_consume("{") {
        Some(parse_map(p, depth + 1))
    } else {
        None
    };
    match nested {
        Some(Ok(parsed)) => return Ok(parsed),
        Some(Err(Refused)) => p.rewind_to(start),
        None => {}
    }
    let token = p.next();
    if is_blank(&token) {
        return Ok(string(token));
    }
    parse_next_token(p, embedded, java_trim(&token))
}

fn parse_next_token(p: &mut Parser, embedded: bool, token: &str) -> Result<Parsed, Refused> {
    // `token` is trimmed and not blank, so it has a first char.
    let first = token.chars().next().unwrap_or(' ');
    // Java's Character.isDigit also takes non-ASCII digits; such literals
    // are STRINGs here.
    let digit = first.is_ascii_digit();
    if digit && let Some(t) = multiple_tokens_as_temporal(p, token) {
        return Ok(Some(t));
    }
    if (digit || first == '+' || first == '-')
        && let Some(n) = parse_number_like(token)
    {
        return Ok(Some(number_value(&n)));
    }
    if embedded {
        return Err(Refused);
    }
    Ok(string(p.original()))
}

/// A time or timestamp is split into several tokens at its colons.
fn multiple_tokens_as_temporal(p: &mut Parser, token: &str) -> Option<(Schema, Value)> {
    let position = p.mark();
    if let Some(rest) = p.next_n(4)
        && let Some(t) = temporal(&format!("{token}{rest}"))
    {
        return Some(t);
    }
    p.rewind_to(position);
    temporal(token)
}

/// `parseAsTemporal`: a date, time or timestamp as a `java.util.Date`.
fn temporal(token: &str) -> Option<(Schema, Value)> {
    let (schema, value) = dates::parse_iso_temporal(&token.replace("\\:", ":"))?;
    let schema = schema?;
    let millis = match (schema.name.as_deref(), value) {
        (Some(schema::DATE), Value::I32(days)) => i64::from(days) * 86_400_000,
        (_, Value::I32(ms)) => i64::from(ms),
        (_, Value::I64(ms)) => ms,
        _ => return None,
    };
    Some((schema, Value::Date(millis)))
}

fn parse_quoted(p: &mut Parser) -> (Schema, Value) {
    let mut content = String::new();
    while p.has_next() {
        if p.can_consume("\"") {
            break;
        }
        content.push_str(&p.next());
    }
    temporal(&content).unwrap_or((Schema::of(Type::String), Value::Str(content)))
}

fn parse_array(p: &mut Parser, depth: usize) -> Result<Parsed, Refused> {
    if depth > MAX_DEPTH {
        return Err(Refused);
    }
    let mut items = Vec::new();
    let mut merger = Merger::default();
    while p.has_next() {
        if p.can_consume("]") {
            let mut schema = Schema::of(Type::Array);
            if let Some(common) = merger.common() {
                items = items
                    .into_iter()
                    .map(|v| align(&common, v))
                    .collect::<Result<_, _>>()?;
                schema.value = Some(Box::new(common));
            }
            return Ok(Some((schema, Value::Array(items))));
        }
        if p.can_consume(",") {
            return Err(Refused);
        }
        let element = parse(p, true, depth)?;
        merger.merge(element.as_ref().map(|(s, _)| s));
        items.push(element.map_or(Value::Null, |(_, v)| v));
        let current = p.mark();
        if p.can_consume("]") {
            p.rewind_to(current);
        } else if !p.can_consume(",") {
            return Err(Refused);
        }
    }
    Err(Refused)
}

/// `LinkedHashMap.put`: a repeated key keeps its place, takes the new value.
fn put(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => entries.push((key, value)),
    }
}

fn parse_map(p: &mut Parser, depth: usize) -> Result<Parsed, Refused> {
    if depth > MAX_DEPTH {
        return Err(Refused);
    }
    let mut entries = Vec::new();
    let (mut keys, mut values) = (Merger::default(), Merger::default());
    while p.has_next() {
        if p.can_consume("}") {
            let mut schema = Schema::of(Type::Map);
            if let Some(ks) = keys.common() {
                let vs = values.common();
                let mut aligned = Vec::new();
                for (k, v) in entries {
                    let v = match &vs {
                        Some(vs) => align(vs, v)?,
                        None => v,
                    };
                    put(&mut aligned, align(&ks, k)?, v);
                }
                entries = aligned;
                schema.key = Some(Box::new(ks));
                schema.value = vs.map(Box::new);
            }
            return Ok(Some((schema, Value::Map(entries))));
        }
        if p.can_consume(",") {
            return Err(Refused);
        }
        let Some((key_schema, key)) = parse(p, true, depth)?.filter(|(_, k)| !k.is_null()) else {
            return Err(Refused);
        };
        if !p.can_consume(":") {
            return Err(Refused);
        }
        let value = parse(p, true, depth)?;
        values.merge(value.as_ref().map(|(s, _)| s));
        put(&mut entries, key, value.map_or(Value::Null, |(_, v)| v));
        // Kafka takes the separating comma if there is one.
        p.can_consume(",");
        keys.merge(Some(&key_schema));
    }
    Err(Refused)
}

/// `Values.SchemaMerger`: the one schema every element fits, if any.
#[derive(Default)]
struct Merger {
    common: Option<Schema>,
    incompatible: bool,
}

impl Merger {
    fn merge(&mut self, latest: Option<&Schema>) {
        let Some(latest) = latest else { return };
        if self.incompatible {
            return;
        }
        self.common = match self.common.take() {
            None => Some(latest.clone()),
            Some(previous) => merge_schemas(previous, latest),
        };
        self.incompatible = self.common.is_none();
    }

    fn common(&self) -> Option<Schema> {
        self.common.clone()
    }
}

/// The rank of a numeric type in `mergeSchemas`' widening order.
fn numeric_rank(ty: Type) -> Option<u8> {
    [
        Type::Int8,
        Type::Int16,
        Type::Int32,
        Type::Int64,
        Type::Float32,
        Type::Float64,
    ]
    .iter()
    .position(|t| *t == ty)
    .and_then(|i| u8::try_from(i).ok())
}

/// `Values.mergeSchemas`: numbers widen, equal types keep the first schema.
fn merge_schemas(previous: Schema, new: &Schema) -> Option<Schema> {
    if previous.ty != new.ty {
        let (a, b) = (numeric_rank(previous.ty)?, numeric_rank(new.ty)?);
        return Some(if b > a { new.clone() } else { previous });
    }
    if previous.optional == new.optional {
        return Some(if previous.optional {
            previous
        } else {
            new.clone()
        });
    }
    // Parsed schemas are never optional, so this is Java's unequal case.
    None
}

fn as_long(v: &Value) -> Option<i64> {
    Some(match v {
        Value::I8(n) => i64::from(*n),
        Value::I16(n) => i64::from(*n),
        Value::I32(n) => i64::from(*n),
        Value::I64(n) => *n,
        Value::F32(f) => *f as i64,
        Value::F64(f) => *f as i64,
        _ => return None,
    })
}

fn as_double(v: &Value) -> Option<f64> {
    Some(match v {
        Value::F32(f) => f64::from(*f),
        Value::F64(f) => *f,
        other => as_long(other)? as f64,
    })
}

/// `Values.convertTo(schema, null, value)` for the schemas merging yields:
/// numbers widen (an INT8 among FLOAT32s becomes `1.0`), numbers among
/// dates become dates, and a null under a (required) common schema is
/// refused, as Kafka refuses it.
fn align(schema: &Schema, value: Value) -> Result<Value, Refused> {
    if value.is_null() {
        return Err(Refused);
    }
    if matches!(value, Value::Date(_)) {
        return Ok(value);
    }
    let named = schema.name.as_deref();
    Ok(match (schema.ty, named) {
        (Type::Int32, Some(schema::DATE)) => {
            Value::Date(i64::from(as_long(&value).ok_or(Refused)? as i32) * 86_400_000)
        }
        (Type::Int32, Some(schema::TIME)) => {
            Value::Date(i64::from(as_long(&value).ok_or(Refused)? as i32))
        }
        (Type::Int64, Some(schema::TIMESTAMP)) => Value::Date(as_long(&value).ok_or(Refused)?),
        (Type::Int8, _) => Value::I8(as_long(&value).ok_or(Refused)? as i8),
        (Type::Int16, _) => Value::I16(as_long(&value).ok_or(Refused)? as i16),
        (Type::Int32, _) => Value::I32(as_long(&value).ok_or(Refused)? as i32),
        (Type::Int64, _) => Value::I64(as_long(&value).ok_or(Refused)?),
        (Type::Float32, _) => match value {
            Value::F32(_) => value,
            other => Value::F32(as_double(&other).ok_or(Refused)? as f32),
        },
        (Type::Float64, _) => Value::F64(as_double(&value).ok_or(Refused)?),
        _ => value,
    })
}

/// `parseAsNumber`: the narrowest integer type for a whole number that
/// fits a long, else FLOAT32, FLOAT64 (when not written as an integer),
/// else a Decimal.
pub(crate) fn number_value(n: &Number) -> (Schema, Value) {
    if let Some(v) = n.exact_long() {
        return if let Ok(v) = i8::try_from(v) {
            (Schema::of(Type::Int8), Value::I8(v))
        } else if let Ok(v) = i16::try_from(v) {
            (Schema::of(Type::Int16), Value::I16(v))
        } else if let Ok(v) = i32::try_from(v) {
            (Schema::of(Type::Int32), Value::I32(v))
        } else {
            (Schema::of(Type::Int64), Value::I64(v))
        };
    }
    let scale = n.scale();
    let f = n.as_float();
    if scale != 0 && f.is_finite() {
        return (Schema::of(Type::Float32), Value::F32(f));
    }
    let d = n.as_double();
    if scale != 0 && d.is_finite() {
        return (Schema::of(Type::Float64), Value::F64(d));
    }
    let mut s = Schema::of(Type::Bytes).named(schema::DECIMAL);
    s.version = Some(1);
    s.parameters = Some(vec![("scale".into(), scale.to_string())]);
    (s, Value::DecimalText(big_decimal_text(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::convert_to_string;
    use crate::testing::header;

    #[test]
    fn arrays_and_maps_parse_and_print_normalised() {
        assert_eq!(header("[1, 2, 3]").as_deref(), Some("[1,2,3]"));
        assert_eq!(header("[1, 2.5]").as_deref(), Some("[1.0,2.5]"));
        assert_eq!(header("[1, 300]").as_deref(), Some("[1,300]"));
        assert_eq!(header(r#"[ "a" , "b" ]"#).as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(
            header(r#"{"a": 1, "b": 2}"#).as_deref(),
            Some(r#"{"a":1,"b":2}"#)
        );
        assert_eq!(header(r#"{"a": true}"#).as_deref(), Some(r#"{"a":true}"#));
        assert_eq!(header("[]").as_deref(), Some("[]"));
        assert_eq!(header("{}").as_deref(), Some("{}"));
        assert_eq!(header("[[1,2],[3]]").as_deref(), Some("[[1,2],[3]]"));
        assert_eq!(header("[1,2] trailing").as_deref(), Some("[1,2]"));
        assert_eq!(header(r#"["2024-01-02"]"#).as_deref(), Some("[2024-01-02]"));
        // Commas between map entries are optional in Kafka's parser.
        assert_eq!(
            header(r#"{"a":1 "b":2}"#).as_deref(),
            Some(r#"{"a":1,"b":2}"#)
        );
    }

    #[test]
    fn unparseable_arrays_and_maps_stay_strings() {
        for text in [
            "[a, b]",
            "[1, null]",
            "[1,,2]",
            "[1, 2",
            "{a}",
            r#"{"a" 1}"#,
            r#"{null: 1}"#,
            "{",
            "]",
        ] {
            assert_eq!(header(text).as_deref(), Some(text), "{text}");
        }
        let deep = "[".repeat(10_000);
        assert_eq!(header(&deep), Some(deep));
    }

    #[test]
    fn top_level_tokens_decide() {
        assert_eq!(header("true}").as_deref(), Some("true}"));
        assert_eq!(header("null"), None);
        assert_eq!(header(" true ").as_deref(), Some("true"));
        assert_eq!(header("12,34").as_deref(), Some("12"));
        assert_eq!(header("abc,def").as_deref(), Some("abc,def"));
        assert_eq!(header("   ").as_deref(), Some("   "));
        assert_eq!(header("2024-01-02").as_deref(), Some("2024-01-02"));
        assert_eq!(header("10:15:30.000Z").as_deref(), Some("10:15:30.000Z"));
        assert_eq!(
            header("2024-01-02T10:15:30.123Z").as_deref(),
            Some("2024-01-02T10:15:30.123Z")
        );
        assert_eq!(header("1e400").as_deref(), Some("1E+400"));
        assert_eq!(
            header("0012345678901234567890123").as_deref(),
            Some("12345678901234567890123")
        );
        assert_eq!(header("1e300").as_deref(), Some("1.0E300"));
        assert_eq!(header("0.5").as_deref(), Some("0.5"));
        assert_eq!(parse_string("9223372036854775807").1, Value::I64(i64::MAX));
        assert_eq!(
            parse_string("9223372036854775808").0.map(|s| s.ty),
            Some(Type::Bytes)
        );
    }

    #[test]
    fn never_panics_on_short_texts_of_delimiters() {
        // Every text of up to 4 chars over the parser's delimiters, escapes,
        // blanks, digits and letters: the parser only ever returns.
        let alphabet: Vec<char> = "[]{}\",:\\ 1a.-e".chars().collect();
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let mut longer = Vec::new();
            for t in &texts {
                for c in &alphabet {
                    longer.push(format!("{t}{c}"));
                }
            }
            texts.extend(longer.iter().cloned());
            texts.dedup();
            if texts.len() > 40_000 {
                break;
            }
        }
        for t in &texts {
            let (s, v) = parse_string(t);
            let _ = convert_to_string(s.as_ref(), &v);
        }
    }
}
