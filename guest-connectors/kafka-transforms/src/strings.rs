//! Kafka's text conversions of values: [`convert_to_string`] is
//! `Values.convertToString` (what SimpleHeaderConverter writes as a
//! header's bytes), [`parse_string`] is `Values.parseString` (how
//! InsertHeader reads `value.literal`; see [`crate::literal`]), [`Number`]
//! reads numbers as `new BigDecimal(text)` does and prints them as
//! `BigDecimal.toString`, and [`java_split`] is `String.split`.

use base64::Engine;

use crate::dates::Pattern;
use crate::json::{java_double, java_float};
pub use crate::literal::parse_string;
use crate::schema::{self, Schema};
use crate::value::Value;

/// `text.split(String.valueOf(sep))`: Java drops trailing empty parts.
pub fn java_split(text: &str, sep: char) -> Vec<String> {
    let mut parts: Vec<String> = text.split(sep).map(str::to_string).collect();
    while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].is_empty() && !text.is_empty() {
        parts.clear();
    }
    parts
}

/// A decimal number as `BigDecimal` holds it: sign, digits, scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    negative: bool,
    digits: String,
    scale: i32,
    text: String,
}

/// `new BigDecimal(text)`; `None` where Java throws NumberFormatException.
pub fn parse_number_like(text: &str) -> Option<Number> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{int}{frac}").trim_start_matches('0').to_string();
    Some(Number {
        negative,
        digits,
        scale: i32::try_from(frac.len()).ok()?.checked_sub(exp)?,
        text: text.to_string(),
    })
}

impl Number {
    /// `BigDecimal.longValue()`: truncated, low 64 bits.
    pub fn as_long(&self) -> i64 {
        let whole = if self.scale <= 0 {
            format!(
                "{}{}",
                self.digits,
                "0".repeat(self.scale.unsigned_abs().min(40) as usize)
            )
        } else {
            let keep = self.digits.len().saturating_sub(self.scale as usize);
            self.digits[..keep].to_string()
        };
        // Only the low 64 bits survive, so the last 20 digits decide.
        let tail = &whole[whole.len().saturating_sub(38)..];
        let v = tail.parse::<i128>().unwrap_or(0) as i64;
        if self.negative { v.wrapping_neg() } else { v }
    }

    /// `BigDecimal.doubleValue()`.
    pub fn as_double(&self) -> f64 {
        self.text.parse().unwrap_or(0.0)
    }

    /// `BigDecimal.floatValue()`: rounded once, from the decimal text.
    pub fn as_float(&self) -> f32 {
        self.text
            .parse()
            .unwrap_or_else(|_| self.as_double() as f32)
    }

    /// `BigDecimal.scale()`.
    pub fn scale(&self) -> i32 {
        self.scale
    }

    /// Whether the value is a whole number (`stripTrailingZeros().scale() <= 0`).
    fn is_whole(&self) -> bool {
        self.digits.is_empty()
            || self.scale <= 0
            || self.digits.len() > self.scale as usize
                && self.digits[self.digits.len() - self.scale as usize..]
                    .bytes()
                    .all(|b| b == b'0')
    }

    /// The value as a long when it is a whole number within a long's
    /// range (`Values.parseAsExactDecimal`'s test), else `None`.
    pub fn exact_long(&self) -> Option<i64> {
        if self.digits.is_empty() {
            return Some(0);
        }
        if !self.is_whole() {
            return None;
        }
        let whole = if self.scale <= 0 {
            let zeros = self.scale.unsigned_abs() as usize;
            // More than 20 digits cannot fit a long.
            if self.digits.len() + zeros > 20 {
                return None;
            }
            format!("{}{}", self.digits, "0".repeat(zeros))
        } else {
            let keep = self.digits.len().saturating_sub(self.scale as usize);
            self.digits.get(..keep)?.to_string()
        };
        if whole.len() > 20 {
            return None;
        }
        let v: i128 = whole.parse().ok()?;
        i64::try_from(if self.negative { -v } else { v }).ok()
    }

    /// The Decimal (of schema scale `scale`) JsonConverter writes: the
    /// unscaled value's two's-complement bytes.
    pub fn to_decimal_bytes(&self, scale: i32) -> Result<Value, String> {
        if self.scale != scale {
            return Err("BigDecimal has mismatching scale value for given Decimal schema".into());
        }
        let unscaled: i128 = self
            .digits
            .parse::<i128>()
            .or_else(|e| {
                if self.digits.is_empty() {
                    Ok(0)
                } else {
                    Err(e)
                }
            })
            .map_err(|_| "Decimal value too large".to_string())?;
        let unscaled = if self.negative { -unscaled } else { unscaled };
        Ok(Value::Bytes(twos_complement(unscaled)))
    }
}

/// `BigInteger.toByteArray()` of a value.
pub fn twos_complement(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// `BigDecimal.toString()` of unscaled two's-complement bytes and a scale.
pub fn decimal_to_string(bytes: &[u8], scale: i32) -> String {
    if bytes.is_empty() || bytes.len() > 16 {
        return "0".into();
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xFF } else { 0 };
    let mut buf = [fill; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    let v = i128::from_be_bytes(buf);
    big_decimal_layout(v < 0, &v.unsigned_abs().to_string(), scale)
}

/// `BigDecimal.toString()` of a number read by [`parse_number_like`].
pub fn big_decimal_text(n: &Number) -> String {
    big_decimal_layout(n.negative, &n.digits, n.scale)
}

/// `BigDecimal.toString()`: plain when the scale is 0, or positive with
/// an adjusted exponent of at least -6; otherwise scientific (`1E+3`,
/// `1.5E-7`). `digits` is the unscaled magnitude.
fn big_decimal_layout(negative: bool, digits: &str, scale: i32) -> String {
    let trimmed = digits.trim_start_matches('0');
    let coeff = if trimmed.is_empty() { "0" } else { trimmed };
    let sign = if negative && coeff != "0" { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{coeff}");
    }
    let len = i64::try_from(coeff.len()).unwrap_or(i64::MAX);
    let adjusted = -i64::from(scale) + (len - 1);
    if scale > 0 && adjusted >= -6 {
        let scale = scale as usize;
        return if scale >= coeff.len() {
            format!("{sign}0.{}{coeff}", "0".repeat(scale - coeff.len()))
        } else {
            let (int, frac) = coeff.split_at(coeff.len() - scale);
            format!("{sign}{int}.{frac}")
        };
    }
    // `coeff` is never empty, so splitting after its first digit is safe.
    let (first, rest) = coeff.split_at(1);
    let mut out = format!("{sign}{first}");
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    if adjusted != 0 {
        out.push('E');
        if adjusted > 0 {
            out.push('+');
        }
        out.push_str(&adjusted.to_string());
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn date_text(millis: i64) -> String {
    // Values.dateFormatFor, in the worker's time zone (UTC).
    const DAY: i64 = 86_400_000;
    let pattern = if millis < DAY {
        "HH:mm:ss.SSS'Z'"
    } else if millis % DAY == 0 {
        "yyyy-MM-dd"
    } else {
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    };
    Pattern::compile(pattern)
        .map(|p| p.format(millis))
        .unwrap_or_default()
}

/// `Values.convertToString(schema, value)`; `None` for null.
pub fn convert_to_string(schema: Option<&Schema>, value: &Value) -> Option<String> {
    if value.is_null() {
        return None;
    }
    let mut out = String::new();
    append(&mut out, schema, value, false);
    Some(out)
}

fn append(out: &mut String, schema: Option<&Schema>, value: &Value, embedded: bool) {
    if let Some(s) = schema {
        let logical_millis = match (s.name.as_deref(), value) {
            (Some(schema::DATE), Value::I32(days)) => Some(i64::from(*days) * 86_400_000),
            (Some(schema::TIME), Value::I32(ms)) => Some(i64::from(*ms)),
            (Some(schema::TIMESTAMP), Value::I64(ms)) => Some(*ms),
            _ => None,
        };
        if let Some(ms) = logical_millis {
            out.push_str(&date_text(ms));
            return;
        }
        if let (Some(schema::DECIMAL), Value::Bytes(b)) = (s.name.as_deref(), value) {
            let scale = s
                .parameters
                .as_ref()
                .and_then(|p| p.iter().find(|(k, _)| k == "scale"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            out.push_str(&decimal_to_string(b, scale));
            return;
        }
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::I8(v) => out.push_str(&v.to_string()),
        Value::I16(v) => out.push_str(&v.to_string()),
        Value::I32(v) => out.push_str(&v.to_string()),
        Value::I64(v) => out.push_str(&v.to_string()),
        Value::F32(v) => out.push_str(&java_float(*v)),
        Value::F64(v) => out.push_str(&java_double(*v)),
        // A BigDecimal prints as BigDecimal.toString (`1E+3` for `1e3`).
        Value::DecimalText(t) => match parse_number_like(t) {
            Some(n) => out.push_str(&big_decimal_text(&n)),
            None => out.push_str(t),
        },
        Value::Date(ms) => out.push_str(&date_text(*ms)),
        Value::Str(s) if embedded => {
            out.push('"');
            out.push_str(&escape(s));
            out.push('"');
        }
        Value::Str(s) => out.push_str(s),
        Value::Bytes(b) => {
            let text = base64::engine::general_purpose::STANDARD.encode(b);
            if embedded {
                out.push('"');
                out.push_str(&text);
                out.push('"');
            } else {
                out.push_str(&text);
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.value.as_deref());
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, item_schema, item, true);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let (ks, vs) = (
                schema.and_then(|s| s.key.as_deref()),
                schema.and_then(|s| s.value.as_deref()),
            );
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, ks, k, true);
                out.push(':');
                append(out, vs, v, true);
            }
            out.push('}');
        }
        Value::Struct(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, None, &Value::Str(k.clone()), true);
                out.push(':');
                let fs = schema.and_then(|s| s.field(k)).map(|f| &f.schema);
                append(out, fs, v, true);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::header;

    #[test]
    fn literals_become_header_text_as_kafka_writes_it() {
        assert_eq!(header("hello world").as_deref(), Some("hello world"));
        assert_eq!(header("42").as_deref(), Some("42"));
        assert_eq!(header("007").as_deref(), Some("7"));
        assert_eq!(header("5.0").as_deref(), Some("5"));
        assert_eq!(header("3.14").as_deref(), Some("3.14"));
        assert_eq!(header("true").as_deref(), Some("true"));
        assert_eq!(header("null"), None);
        assert_eq!(parse_string("300").1, Value::I16(300));
        assert_eq!(parse_string("-5000000000").1, Value::I64(-5_000_000_000));
    }

    #[test]
    fn structs_and_lists_print_as_values_does() {
        let v = Value::Struct(vec![
            ("a".into(), Value::Str("x\"y".into())),
            ("b".into(), Value::Array(vec![Value::I32(1), Value::Null])),
        ]);
        assert_eq!(
            convert_to_string(None, &v).unwrap(),
            r#"{"a":"x\"y","b":[1,null]}"#
        );
        assert_eq!(java_split("a:b", ':'), vec!["a", "b"]);
        assert_eq!(java_split("a:", ':'), vec!["a"]);
        assert_eq!(java_split(":b", ':'), vec!["", "b"]);
    }

    #[test]
    fn numbers_read_as_big_decimal() {
        let n = parse_number_like("3.7").unwrap();
        assert_eq!(n.as_long(), 3);
        assert_eq!(parse_number_like("-12").unwrap().as_long(), -12);
        assert!(parse_number_like("abc").is_none());
        assert_eq!(twos_complement(255), vec![0, 255]);
        assert_eq!(twos_complement(-1), vec![255]);
        assert_eq!(decimal_to_string(&[4, 210], 2), "12.34");
        // BigDecimal.toString goes scientific for negative scales and
        // very small values.
        assert_eq!(decimal_to_string(&[1], -3), "1E+3");
        assert_eq!(decimal_to_string(&[15], 8), "1.5E-7");
        assert_eq!(decimal_to_string(&[15], 7), "0.0000015");
        assert_eq!(decimal_to_string(&[0xFF], 0), "-1");
        assert_eq!(decimal_to_string(&[0], 2), "0.00");
        assert_eq!(parse_number_like("1e3").unwrap().exact_long(), Some(1000));
        assert_eq!(parse_number_like("5.00").unwrap().exact_long(), Some(5));
        assert_eq!(parse_number_like("5.01").unwrap().exact_long(), None);
        assert_eq!(parse_number_like("1e19").unwrap().exact_long(), None);
    }
}
