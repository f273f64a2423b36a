//! Source side: the SQL each mode issues (Confluent's
//! `TimestampIncrementingCriteria`), source partitions and offsets
//! (`OffsetProtocols`, `TimestampIncrementingOffset`), table selection and
//! the division of tables over tasks.

use crate::dialect::{Dialect, TableId};
use regex_lite::Regex;

/// `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bulk,
    Incrementing,
    Timestamp,
    TimestampIncrementing,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        match text.trim() {
            "bulk" => Some(Mode::Bulk),
            "incrementing" => Some(Mode::Incrementing),
            "timestamp" => Some(Mode::Timestamp),
            "timestamp+incrementing" => Some(Mode::TimestampIncrementing),
            _ => None,
        }
    }

    pub fn uses_incrementing(self) -> bool {
        matches!(self, Mode::Incrementing | Mode::TimestampIncrementing)
    }

    pub fn uses_timestamp(self) -> bool {
        matches!(self, Mode::Timestamp | Mode::TimestampIncrementing)
    }
}

/// What a querier reads: a table, or the user's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Table(TableId),
    Query(String),
}

/// The parameters of a mode's query, in placeholder order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// The end of the timestamp window (database now − delay).
    End,
    /// The stored timestamp offset.
    Begin,
    /// The stored incrementing offset.
    Incrementing,
}

/// The statement of a querier and the order its parameters bind in.
pub fn build_query(
    dialect: Dialect,
    source: &Source,
    mode: Mode,
    incrementing: Option<&str>,
    timestamps: &[String],
    suffix: &str,
) -> (String, Vec<Param>) {
    let mut sql = match source {
        Source::Table(t) => format!("SELECT * FROM {}", t.quoted(dialect)),
        Source::Query(q) => q.clone(),
    };
    // Table mode qualifies columns with the table; query mode cannot.
    let column = |name: &str| match source {
        Source::Table(t) => format!("{}.{}", t.quoted(dialect), dialect.quote(name)),
        Source::Query(_) => dialect.quote(name),
    };
    let inc = incrementing.map(column).unwrap_or_default();
    let ts = match timestamps {
        [one] => column(one),
        many => format!(
            "COALESCE({})",
            many.iter().map(|c| column(c)).collect::<Vec<_>>().join(",")
        ),
    };
    let ph = |n| dialect.placeholder(n);
    let params = match mode {
        Mode::Bulk => Vec::new(),
        Mode::Incrementing => {
            sql.push_str(&format!(" WHERE {inc} > {} ORDER BY {inc} ASC", ph(1)));
            vec![Param::Incrementing]
        }
        Mode::Timestamp => {
            sql.push_str(&format!(
                " WHERE {ts} > {} AND {ts} < {} ORDER BY {ts} ASC",
                ph(1),
                ph(2)
            ));
            vec![Param::Begin, Param::End]
        }
        Mode::TimestampIncrementing => {
            sql.push_str(&format!(
                " WHERE {ts} < {} AND (({ts} = {} AND {inc} > {}) OR {ts} > {}) ORDER BY {ts},{inc} ASC",
                ph(1),
                ph(2),
                ph(3),
                ph(4)
            ));
            vec![Param::End, Param::Begin, Param::Incrementing, Param::Begin]
        }
    };
    if !suffix.trim().is_empty() {
        sql.push(' ');
        sql.push_str(suffix.trim());
    }
    (sql, params)
}

/// The source partition of a querier.
pub fn partition_json(source: &Source, mode: Mode) -> String {
    match (source, mode) {
        (Source::Query(_), _) => "{\"query\":\"query\"}".into(),
        // Bulk keeps Confluent's legacy shape: the bare table name.
        (Source::Table(t), Mode::Bulk) => serde_json::json!({ "table": t.name }).to_string(),
        (Source::Table(t), _) => {
            serde_json::json!({ "protocol": "1", "table": t.unquoted() }).to_string()
        }
    }
}

/// Confluent's legacy (protocol 0) partition, looked up after the current one.
pub fn legacy_partition_json(table: &TableId) -> String {
    serde_json::json!({ "table": table.name }).to_string()
}

/// A querier's position: the last timestamp (microseconds) and
/// incrementing value read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offset {
    pub timestamp_micros: Option<i64>,
    pub incrementing: Option<i64>,
}

impl Offset {
    /// The offset map for `mode`: `incrementing`, and `timestamp` (epoch
    /// milliseconds) with `timestamp_nanos` (nanoseconds of the second).
    /// Bulk mode has none (Confluent's is null): an empty object.
    pub fn to_json(&self, mode: Mode) -> String {
        let mut map = serde_json::Map::new();
        if mode.uses_timestamp()
            && let Some(us) = self.timestamp_micros
        {
            map.insert("timestamp".into(), us.div_euclid(1000).into());
            map.insert(
                "timestamp_nanos".into(),
                (us.rem_euclid(1_000_000) * 1000).into(),
            );
        }
        if mode.uses_incrementing()
            && let Some(inc) = self.incrementing
        {
            map.insert("incrementing".into(), inc.into());
        }
        serde_json::Value::Object(map).to_string()
    }

    /// Reads a stored offset map (Confluent's `fromMap`).
    pub fn from_json(text: &str) -> Result<Offset, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("Stored offset is not JSON: {e}"))?;
        let int = |key: &str| -> Result<Option<i64>, String> {
            match value.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| format!("Stored offset {key} is not an integer: {v}")),
            }
        };
        let millis = int("timestamp")?;
        let nanos = int("timestamp_nanos")?;
        let timestamp_micros = millis.map(|ms| match nanos {
            // The nanos carry the whole fraction of the second.
            Some(n) => ms.div_euclid(1000) * 1_000_000 + n.div_euclid(1000),
            None => ms * 1000,
        });
        Ok(Offset {
            timestamp_micros,
            incrementing: int("incrementing")?,
        })
    }
}

/// Which listed tables a source reads.
#[derive(Debug, Clone)]
pub enum TableFilter {
    All,
    Whitelist(Vec<String>),
    Blacklist(Vec<String>),
    /// `table.include.list` / `table.exclude.list`: whole-string regexes
    /// on the unquoted `schema.table`.
    Patterns {
        include: Vec<Regex>,
        exclude: Vec<Regex>,
    },
}

/// Splits a Kafka LIST value.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Compiles one pattern anchored at both ends (Java's `Pattern.matches`).
pub fn whole_match_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("Invalid regex {pattern}: {e}"))
}

impl TableFilter {
    /// Whether `table` is selected. White/blacklist entries match the
    /// unquoted qualified name, the quoted one, or the bare table name.
    pub fn selects(&self, dialect: Dialect, table: &TableId) -> bool {
        let names = [table.unquoted(), table.quoted(dialect), table.name.clone()];
        let listed = |list: &[String]| list.iter().any(|e| names.contains(e));
        match self {
            TableFilter::All => true,
            TableFilter::Whitelist(list) => listed(list),
            TableFilter::Blacklist(list) => !listed(list),
            TableFilter::Patterns { include, exclude } => {
                let name = table.unquoted();
                (include.is_empty() || include.iter().any(|r| r.is_match(&name)))
                    && !exclude.iter().any(|r| r.is_match(&name))
            }
        }
    }
}

/// Kafka's `ConnectorUtils.groupPartitions`: `groups` contiguous groups,
/// the first ones one larger.
pub fn group_partitions<T: Clone>(items: &[T], groups: usize) -> Vec<Vec<T>> {
    if groups == 0 {
        return Vec::new();
    }
    let per = items.len() / groups;
    let extra = items.len() % groups;
    let mut out = Vec::with_capacity(groups);
    let mut start = 0;
    for g in 0..groups {
        let len = per + usize::from(g < extra);
        out.push(items[start..start + len].to_vec());
        start += len;
    }
    out
}

/// `topic.prefix`'s rule: at most 249 characters of `[a-zA-Z0-9._-]`.
pub fn valid_topic_prefix(prefix: &str) -> bool {
    prefix.len() <= 249
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
#[path = "source_sql_tests.rs"]
mod tests;
