//! `SingleFieldPath` (KIP-821): a field path, one step in syntax `V1`,
//! dotted steps with backtick quoting in `V2`, and reading a value at it.

use crate::schema::{Field, Schema};
use crate::value::{Value, java_class};

/// `field.syntax.version`'s key definition values.
pub const VERSIONS: &[&str] = &["V1", "V2"];

/// Kafka's documentation of `field.syntax.version`.
pub const VERSION_DOC: &str = "Defines the version of the syntax to access fields. If set to <code>V1</code>, then the field paths are limited to access the elements at the root level of the struct or map. If set to <code>V2</code>, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield <code>baz</code> from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"<code>foo.bar</code>.baz\".";

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath(pub Vec<String>);

fn incomplete(path: &str, at: usize) -> String {
    format!(
        "Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it"
    )
}

impl FieldPath {
    /// Parses `path` in syntax `version` (`V1` or `V2`, any case).
    pub fn new(path: &str, version: &str) -> Result<FieldPath, String> {
        if !version.eq_ignore_ascii_case("V2") {
            return Ok(FieldPath(vec![path.to_string()]));
        }
        let p: Vec<char> = path.chars().collect();
        let find =
            |from: usize, c: char| p.iter().skip(from).position(|&x| x == c).map(|i| i + from);
        let text = |a: usize, b: usize| p[a..b].iter().collect::<String>();
        let mut steps = Vec::new();
        let mut idx = 0;
        while idx < p.len() {
            if p[idx] != '`' {
                let start = idx;
                match find(idx, '.') {
                    Some(dot) => {
                        steps.push(text(start, dot));
                        idx = dot + 1;
                    }
                    None => {
                        steps.push(text(start, p.len()));
                        idx = p.len();
                    }
                }
            } else {
                let at = idx;
                idx += 1;
                let mut field = String::new();
                let mut start = idx;
                loop {
                    let Some(close) = find(idx, '`') else {
                        return Err(incomplete(path, at));
                    };
                    idx = close;
                    let escaped = p[idx - 1] == '\\';
                    if idx + 1 >= p.len() {
                        if escaped {
                            return Err(incomplete(path, at));
                        }
                        field.push_str(&text(start, idx));
                        steps.push(std::mem::take(&mut field));
                        idx += 1;
                        break;
                    }
                    if p[idx + 1] != '.' {
                        idx += 1;
                        continue;
                    }
                    if escaped {
                        field.push_str(&text(start, idx - 1));
                        field.push('`');
                        idx += 1;
                        start = idx;
                        continue;
                    }
                    field.push_str(&text(start, idx));
                    steps.push(std::mem::take(&mut field));
                    idx += 2;
                    break;
                }
            }
        }
        if path.ends_with('.') {
            steps.push(String::new());
        }
        Ok(FieldPath(steps))
    }

    fn split(&self) -> (&[String], &str) {
        match self.0.split_last() {
            Some((last, init)) => (init, last),
            None => (&[], ""),
        }
    }

    /// `fieldFrom(schema)`.
    pub fn field_from<'a>(&self, schema: &'a Schema) -> Option<&'a Field> {
        let (init, last) = self.split();
        let mut current = schema;
        for step in init {
            current = &current.field(step)?.schema;
        }
        current.field(last)
    }

    /// `valueFrom(struct, withDefault)`: the steps on the way read with
    /// `Struct.get` (a null takes its default), the last one with `get`
    /// only when `with_default` (`replace.null.with.default`).
    pub fn value_from_struct(
        &self,
        schema: &Schema,
        value: &Value,
        with_default: bool,
    ) -> Result<Value, String> {
        let (init, last) = self.split();
        let (mut s, mut v) = (schema, value);
        for step in init {
            let Some(f) = s.field(step) else {
                return Ok(Value::Null);
            };
            let sub = field_of(v, f, true);
            match sub {
                Value::Null => return Ok(Value::Null),
                Value::Struct(_) => {
                    s = &f.schema;
                    v = sub;
                }
                other => {
                    return Err(format!(
                        "Only Struct objects supported for [nested field access], found: {}",
                        java_class(Some(&f.schema), other)
                    ));
                }
            }
        }
        Ok(match s.field(last) {
            Some(f) => field_of(v, f, with_default).clone(),
            None => Value::Null,
        })
    }

    /// `valueFrom(map)`.
    pub fn value_from_map(&self, value: &Value) -> Result<Value, String> {
        let (init, last) = self.split();
        let mut v = value;
        for step in init {
            match v.get(step) {
                None | Some(Value::Null) => return Ok(Value::Null),
                Some(m @ Value::Map(_)) => v = m,
                Some(other) => {
                    return Err(format!(
                        "Only Map objects supported in absence of schema for [nested field access], found: {}",
                        java_class(None, other)
                    ));
                }
            }
        }
        Ok(v.get(last).cloned().unwrap_or(Value::Null))
    }
}

/// Field `f` of struct `v` (`Struct.get` or `getWithoutDefault`); `v` is
/// a struct here, anything else has no fields and reads as null.
fn field_of<'a>(v: &'a Value, f: &'a Field, with_default: bool) -> &'a Value {
    match v {
        Value::Struct(members) => crate::field_value(members, f, with_default),
        _ => &Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_paths_split_on_dots_with_backticks() {
        assert_eq!(FieldPath::new("a.b", "V1").unwrap().0, vec!["a.b"]);
        assert_eq!(FieldPath::new("a.b", "v2").unwrap().0, vec!["a", "b"]);
        assert_eq!(
            FieldPath::new("`foo.bar`.baz", "V2").unwrap().0,
            vec!["foo.bar", "baz"]
        );
        assert_eq!(FieldPath::new("a.", "V2").unwrap().0, vec!["a", ""]);
        assert_eq!(
            FieldPath::new("`a", "V2").unwrap_err(),
            "Incomplete backtick pair in path: [`a], consider adding a backslash before backtick at position 0 to escape it"
        );
    }
}
