//! The three databases and how their SQL differs: identifier quoting,
//! placeholders, table identifiers, and the metadata queries a connector
//! runs. Dialect names follow Confluent's `dialect.name` values.

/// A database the host reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

/// The `dialect.name` values we accept, besides the empty default.
pub const DIALECT_NAMES: [&str; 3] = [
    "PostgreSqlDatabaseDialect",
    "MySqlDatabaseDialect",
    "SqliteDatabaseDialect",
];

impl Dialect {
    /// The dialect a `dialect.name` value names: `Ok(None)` for the empty
    /// default (detect from the connection), `Err` for a dialect we lack.
    pub fn from_name(name: &str) -> Result<Option<Dialect>, String> {
        match name.trim() {
            "" => Ok(None),
            "PostgreSqlDatabaseDialect" => Ok(Some(Dialect::Postgres)),
            "MySqlDatabaseDialect" => Ok(Some(Dialect::MySql)),
            "SqliteDatabaseDialect" => Ok(Some(Dialect::Sqlite)),
            other => Err(format!(
                "Invalid value {other} for configuration dialect.name: the worker reaches \
                 PostgreSQL, MySQL/MariaDB and SQLite only; use one of {} or leave it empty",
                DIALECT_NAMES.join(", ")
            )),
        }
    }

    /// Confluent's name for this dialect.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => DIALECT_NAMES[0],
            Dialect::MySql => DIALECT_NAMES[1],
            Dialect::Sqlite => DIALECT_NAMES[2],
        }
    }

    /// `ident` quoted, with embedded quote characters doubled.
    pub fn quote(self, ident: &str) -> String {
        let q = match self {
            Dialect::MySql => '`',
            Dialect::Postgres | Dialect::Sqlite => '"',
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(q);
        for c in ident.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// The placeholder for the `n`th (1-based) parameter.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::MySql | Dialect::Sqlite => "?".into(),
        }
    }

    /// Lists the base tables a source may read: schema (or database) and
    /// name, ordered by name.
    pub fn list_tables_sql(self) -> &'static str {
        match self {
            Dialect::Postgres => {
                "SELECT table_schema, table_name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name"
            }
            Dialect::MySql => {
                "SELECT table_schema, table_name FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name"
            }
            Dialect::Sqlite => {
                "SELECT NULL, name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            }
        }
    }

    /// The database's current time. SQLite answers milliseconds since the
    /// epoch (its text form has only millisecond precision anyway).
    pub fn now_sql(self) -> &'static str {
        match self {
            Dialect::Postgres => "SELECT CURRENT_TIMESTAMP",
            Dialect::MySql => "SELECT CURRENT_TIMESTAMP(6)",
            Dialect::Sqlite => {
                "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"
            }
        }
    }
}

/// A table: its schema (PostgreSQL) or database (MySQL), when known, and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableId {
    pub schema: Option<String>,
    pub name: String,
}

impl TableId {
    /// `schema.table` unquoted (Confluent's `TableId.toUnquotedString`,
    /// the `table` of source partitions).
    pub fn unquoted(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The identifier quoted for `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", dialect.quote(s), dialect.quote(&self.name)),
            None => dialect.quote(&self.name),
        }
    }

    /// Parses `schema.table` or `table`, each part optionally quoted with
    /// `"` or `` ` `` (a quoted part may contain dots). `None` when empty
    /// or with more than two parts.
    pub fn parse(text: &str) -> Option<TableId> {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quote: Option<char> = None;
        let mut chars = text.trim().chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some(q) if c == q => {
                    if chars.peek() == Some(&q) {
                        current.push(q);
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                Some(_) => current.push(c),
                None if c == '"' || c == '`' => quote = Some(c),
                None if c == '.' => parts.push(std::mem::take(&mut current)),
                None => current.push(c),
            }
        }
        if quote.is_some() {
            return None;
        }
        parts.push(current);
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        let name = parts.pop()?;
        match parts.len() {
            0 => Some(TableId { schema: None, name }),
            1 => Some(TableId {
                schema: parts.pop(),
                name,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_placeholders() {
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote("t"), "\"t\"");
        assert_eq!(Dialect::Postgres.placeholder(3), "$3");
        assert_eq!(Dialect::MySql.placeholder(3), "?");
    }

    #[test]
    fn names() {
        assert_eq!(
            Dialect::from_name("PostgreSqlDatabaseDialect"),
            Ok(Some(Dialect::Postgres))
        );
        assert_eq!(Dialect::from_name(""), Ok(None));
        assert!(Dialect::from_name("OracleDatabaseDialect").is_err());
    }

    #[test]
    fn table_ids() {
        let t = TableId::parse("public.users").unwrap();
        assert_eq!(t.unquoted(), "public.users");
        assert_eq!(t.quoted(Dialect::Postgres), "\"public\".\"users\"");
        assert_eq!(t.quoted(Dialect::MySql), "`public`.`users`");
        let q = TableId::parse("\"my.schema\".\"a\"\"b\"").unwrap();
        assert_eq!(q.schema.as_deref(), Some("my.schema"));
        assert_eq!(q.name, "a\"b");
        assert_eq!(TableId::parse("t").unwrap().schema, None);
        assert!(TableId::parse("a.b.c").is_none());
        assert!(TableId::parse("").is_none());
        assert!(TableId::parse("\"open").is_none());
    }
}
