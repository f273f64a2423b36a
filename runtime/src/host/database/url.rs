//! Database URLs as connectors' property files write them: JDBC form
//! (`jdbc:postgresql://host:5432/db?user=u`, `jdbc:mysql://…`,
//! `jdbc:mariadb://…`, `jdbc:sqlite:/path/file.db`) and the drivers'
//! native form (`postgres://u:p@host/db`, `mysql://…`, `sqlite:/path`).
//!
//! [`crate::host::grants`] parses a `url` configuration value with
//! [`parse`] to learn what to check against the worker's allow-lists; the
//! capability parses it again to connect. Nothing here touches the
//! network or the disk.

use percent_encoding::percent_decode_str;

/// The databases the worker has drivers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB (one wire protocol).
    Mysql,
    /// SQLite, a file on the worker's disk.
    Sqlite,
}

/// Where a database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A server at `host:port`.
    Network { host: String, port: u16 },
    /// An SQLite file (as written: relative paths resolve against the
    /// worker's directory).
    File(String),
    /// SQLite's private in-memory database (`:memory:`): reaches nothing.
    Memory,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub dialect: Dialect,
    pub target: Target,
    /// The database (PostgreSQL, MySQL); `None` for SQLite or when unset.
    pub database: Option<String>,
    /// From the user-info part or a `user` parameter.
    pub user: Option<String>,
    /// From the user-info part or a `password` parameter. Never logged.
    pub password: Option<String>,
}

/// `Some` when `value` is a database URL (by its scheme), with what is
/// wrong with it if it cannot be used; `None` for any other URL.
pub fn parse(value: &str) -> Option<Result<DatabaseUrl, String>> {
    let value = value.trim();
    let rest = strip_prefix_ci(value, "jdbc:").unwrap_or(value);
    let (scheme, after) = rest.split_once(':')?;
    let dialect = match scheme.to_ascii_lowercase().as_str() {
        "postgresql" | "postgres" => Dialect::Postgres,
        "mysql" | "mariadb" => Dialect::Mysql,
        "sqlite" | "sqlite3" => Dialect::Sqlite,
        _ => return None,
    };
    Some(match dialect {
        Dialect::Sqlite => sqlite(after),
        _ => network(dialect, after),
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn sqlite(after: &str) -> Result<DatabaseUrl, String> {
    // `sqlite:///abs/path` (URL style) and `sqlite:/abs/path` (JDBC style)
    // both name /abs/path; a query string carries driver options we do not
    // take, so it is refused rather than silently dropped.
    let path = after.strip_prefix("//").unwrap_or(after);
    if path.contains('?') {
        return Err(format!(
            "SQLite URL options are not supported: remove `{}`",
            &path[path.find('?').unwrap_or(0)..]
        ));
    }
    let target = match path {
        "" => return Err("an SQLite URL needs a file path, as in jdbc:sqlite:/data/app.db".into()),
        ":memory:" => Target::Memory,
        p => Target::File(decode(p)),
    };
    Ok(DatabaseUrl {
        dialect: Dialect::Sqlite,
        target,
        database: None,
        user: None,
        password: None,
    })
}

fn network(dialect: Dialect, after: &str) -> Result<DatabaseUrl, String> {
    let Some(rest) = after.strip_prefix("//") else {
        return Err(
            "expected `//host` after the scheme, as in jdbc:postgresql://127.0.0.1:5432/db".into(),
        );
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((a, p)) => (a, p),
        None => (before_query, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if hostport.contains(',') {
        return Err(format!(
            "several hosts ({hostport}) are not supported: name one host"
        ));
    }
    let (host, port) = host_port(hostport, default_port(dialect))?;
    let mut url = DatabaseUrl {
        dialect,
        target: Target::Network { host, port },
        database: (!path.is_empty()).then(|| decode(path)),
        user: None,
        password: None,
    };
    if let Some(info) = userinfo {
        let (user, password) = match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        };
        url.user = (!user.is_empty()).then(|| decode(user));
        url.password = password.map(decode);
    }
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "user" => url.user = Some(decode(value)),
            "password" => url.password = Some(decode(value)),
            "" => {}
            // Driver options (sslmode, useSSL, …) would change how the
            // connection behaves; refusing them beats ignoring them.
            other => {
                return Err(format!(
                    "URL option `{other}` is not supported (only user and password are)"
                ));
            }
        }
    }
    Ok(url)
}

fn default_port(dialect: Dialect) -> u16 {
    match dialect {
        Dialect::Postgres => 5432,
        Dialect::Mysql | Dialect::Sqlite => 3306,
    }
}

fn host_port(s: &str, default: u16) -> Result<(String, u16), String> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (host, tail) = v6
            .split_once(']')
            .ok_or_else(|| format!("unclosed `[` in host {s}"))?;
        (host, tail.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("the URL names no host".into());
    }
    let port = match port {
        None | Some("") => default,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("`{p}` is not a port number"))?,
    };
    Ok((host.to_string(), port))
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> DatabaseUrl {
        match parse(url) {
            Some(Ok(u)) => u,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn jdbc_and_native_forms() {
        let pg = ok("jdbc:postgresql://127.0.0.1:5433/shop?user=app&password=s%3Fcret");
        assert_eq!(pg.dialect, Dialect::Postgres);
        assert_eq!(
            pg.target,
            Target::Network {
                host: "127.0.0.1".into(),
                port: 5433
            }
        );
        assert_eq!(pg.database.as_deref(), Some("shop"));
        assert_eq!(pg.user.as_deref(), Some("app"));
        assert_eq!(pg.password.as_deref(), Some("s?cret"));

        let native = ok("postgres://u:p@db.example/x");
        assert_eq!(
            native.target,
            Target::Network {
                host: "db.example".into(),
                port: 5432
            }
        );
        assert_eq!(
            (native.user.as_deref(), native.password.as_deref()),
            (Some("u"), Some("p"))
        );

        let maria = ok("jdbc:mariadb://[::1]/inv");
        assert_eq!(maria.dialect, Dialect::Mysql);
        assert_eq!(
            maria.target,
            Target::Network {
                host: "::1".into(),
                port: 3306
            }
        );
        assert_eq!(ok("JDBC:MySQL://h:1/d").dialect, Dialect::Mysql);
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            ok("jdbc:sqlite:/data/a.db").target,
            Target::File("/data/a.db".into())
        );
        assert_eq!(
            ok("sqlite:///data/a.db").target,
            Target::File("/data/a.db".into())
        );
        assert_eq!(
            ok("jdbc:sqlite:rel/a.db").target,
            Target::File("rel/a.db".into())
        );
        assert_eq!(ok("jdbc:sqlite::memory:").target, Target::Memory);
        assert!(matches!(parse("jdbc:sqlite:"), Some(Err(_))));
        assert!(matches!(parse("jdbc:sqlite:/a.db?mode=ro"), Some(Err(_))));
    }

    #[test]
    fn other_urls_and_bad_ones() {
        assert_eq!(parse("http://localhost:9200/"), None);
        assert_eq!(parse("not a url"), None);
        let refused = |u: &str| match parse(u) {
            Some(Err(e)) => e,
            other => panic!("{u}: {other:?}"),
        };
        assert!(refused("jdbc:postgresql:db").contains("//host"));
        assert!(refused("jdbc:postgresql://a,b/db").contains("several hosts"));
        assert!(refused("jdbc:postgresql://h:99999/db").contains("port"));
        assert!(refused("jdbc:postgresql://h/db?sslmode=require").contains("sslmode"));
        assert!(refused("jdbc:mysql:///db").contains("no host"));
    }
}
