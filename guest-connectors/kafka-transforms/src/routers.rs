//! Topic routers: `RegexRouter` (`Matcher.matches()` then `replaceFirst`,
//! with Java's `$1` group references) and `TimestampRouter`
//! (`${topic}` and `${timestamp}` in a format, the timestamp printed with
//! a SimpleDateFormat pattern in UTC).

use regex::Regex;
use wasmconnect_sdk::{Importance, TransformRecord};

use crate::config::{Check, Def, Default, Kind, Setting, Settings, invalid};
use crate::dates::Pattern;
use crate::{KafkaTransform, Side};

/// `org.apache.kafka.connect.transforms.RegexRouter`.
pub struct RegexRouter {
    /// The pattern anchored at both ends: Kafka's `matches()` test.
    whole: Regex,
    /// The pattern as given: Kafka's `replaceFirst`, which searches again
    /// and can match less than the whole topic (`a|ab` on `ab` finds `a`).
    first: Regex,
    replacement: String,
}

fn compile(pattern: &str) -> Result<(Regex, Regex), String> {
    let refuse = |e: regex::Error| invalid("regex", pattern, &format!("Invalid regex: {e}"));
    let whole = Regex::new(&format!("^(?:{pattern})$")).map_err(refuse)?;
    let first = Regex::new(pattern).map_err(refuse)?;
    Ok((whole, first))
}

fn check_regex(_name: &str, value: &Setting) -> Result<(), String> {
    match value {
        Setting::Str(s) => compile(s).map(|_| ()),
        _ => Ok(()),
    }
}

/// Java's replacement syntax: `$n` / `${name}` are groups, `\x` is `x`.
fn expand(caps: &regex::Captures<'_>, replacement: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.push(n),
                None => return Err("character to be escaped is missing".into()),
            },
            '$' => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let m = caps
                        .name(&name)
                        .ok_or_else(|| format!("No group with name {{{name}}}"))?;
                    out.push_str(m.as_str());
                } else {
                    let mut digits = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        let candidate = format!("{digits}{d}");
                        if !digits.is_empty()
                            && candidate.parse::<usize>().map_or(true, |n| n >= caps.len())
                        {
                            break;
                        }
                        digits = candidate;
                        chars.next();
                    }
                    let n: usize = digits
                        .parse()
                        .map_err(|_| "Illegal group reference".to_string())?;
                    if n >= caps.len() {
                        return Err(format!("No group {n}"));
                    }
                    out.push_str(caps.get(n).map_or("", |m| m.as_str()));
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

impl KafkaTransform for RegexRouter {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.RegexRouter";
    const DOC: &'static str =
        "Update the record topic using the configured regular expression and replacement string.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "regex",
                kind: Kind::Str,
                default: Default::Required,
                importance: Importance::High,
                doc: "Regular expression to use for matching.",
                check: Check::Custom(check_regex),
            },
            Def {
                name: "replacement",
                kind: Kind::Str,
                default: Default::Required,
                importance: Importance::High,
                doc: "Replacement string.",
                check: Check::None,
            },
        ]
    }

    fn configure(_side: Side, s: &Settings) -> Result<Self, String> {
        let (whole, first) = compile(&s.string("regex").unwrap_or_default())?;
        Ok(RegexRouter {
            whole,
            first,
            replacement: s.string("replacement").unwrap_or_default(),
        })
    }

    fn apply(&self, mut record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        if !self.whole.is_match(&record.topic) {
            return Ok(Some(record));
        }
        if let Some(caps) = self.first.captures(&record.topic) {
            // `caps` comes from searching `record.topic`, so its whole match
            // (group 0) is always present and lies on char boundaries.
            let span = caps.get(0).map_or(0..0, |m| m.range());
            let replaced = expand(&caps, &self.replacement)?;
            record.topic = format!(
                "{}{replaced}{}",
                &record.topic[..span.start],
                &record.topic[span.end..]
            );
        }
        Ok(Some(record))
    }
}

/// `org.apache.kafka.connect.transforms.TimestampRouter`.
pub struct TimestampRouter {
    topic_format: String,
    format: Pattern,
}

impl KafkaTransform for TimestampRouter {
    const CLASS: &'static str = "org.apache.kafka.connect.transforms.TimestampRouter";
    const DOC: &'static str = "Update the record's topic field as a function of the original topic value and the record timestamp.";

    fn definition() -> Vec<Def> {
        vec![
            Def {
                name: "topic.format",
                kind: Kind::Str,
                default: Default::Value("${topic}-${timestamp}"),
                importance: Importance::High,
                doc: "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively.",
                check: Check::None,
            },
            Def {
                name: "timestamp.format",
                kind: Kind::Str,
                default: Default::Value("yyyyMMdd"),
                importance: Importance::High,
                doc: "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.",
                check: Check::Custom(|name, v| match v {
                    Setting::Str(s) => Pattern::compile(s)
                        .map(|_| ())
                        .map_err(|e| invalid(name, s, &e)),
                    _ => Ok(()),
                }),
            },
        ]
    }

    fn configure(_side: Side, s: &Settings) -> Result<Self, String> {
        let fmt = s.string("timestamp.format").unwrap_or_default();
        Ok(TimestampRouter {
            topic_format: s.string("topic.format").unwrap_or_default(),
            format: Pattern::compile(&fmt)?,
        })
    }

    fn apply(&self, mut record: TransformRecord) -> Result<Option<TransformRecord>, String> {
        let Some(ts) = record.timestamp else {
            return Err(format!(
                "Timestamp missing on record: ConnectRecord{{topic='{}', kafkaPartition={}, timestamp=null}}",
                record.topic,
                record
                    .partition
                    .map_or("null".to_string(), |p| p.to_string())
            ));
        };
        let stamp = self.format.format(ts);
        record.topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &stamp);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::testing::{cfg, record};

    #[test]
    fn regex_router_replaces_whole_matches() {
        let r = RegexRouter::configure(
            Side::Value,
            &parse(
                &RegexRouter::definition(),
                &cfg(&[("regex", "(.*)ders"), ("replacement", "x-$1")]),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(r.apply(record(None, None)).unwrap().unwrap().topic, "x-or");
        let r = RegexRouter::configure(
            Side::Value,
            &parse(
                &RegexRouter::definition(),
                &cfg(&[("regex", "ord"), ("replacement", "x")]),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.apply(record(None, None)).unwrap().unwrap().topic,
            "orders"
        );
        // `matches()` takes the whole topic through the second alternative,
        // then `replaceFirst` searches again and finds the first one.
        let r = RegexRouter::configure(
            Side::Value,
            &parse(
                &RegexRouter::definition(),
                &cfg(&[("regex", "o|orders"), ("replacement", "X")]),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.apply(record(None, None)).unwrap().unwrap().topic,
            "Xrders"
        );
        assert!(
            parse(
                &RegexRouter::definition(),
                &cfg(&[("regex", "("), ("replacement", "x")])
            )
            .unwrap_err()
            .starts_with("Invalid value ( for configuration regex: Invalid regex: ")
        );
    }

    #[test]
    fn timestamp_router_formats_topic() {
        let t = TimestampRouter::configure(
            Side::Value,
            &parse(&TimestampRouter::definition(), &cfg(&[])).unwrap(),
        )
        .unwrap();
        assert_eq!(
            t.apply(record(None, None)).unwrap().unwrap().topic,
            "orders-20231114"
        );
    }
}
