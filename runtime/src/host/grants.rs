//! Capabilities: what a plugin instance may touch outside its sandbox.
//!
//! A plugin marks the configuration keys whose values name resources (a file
//! to read, a file to write, a directory, a `host:port`, a URL). When an
//! instance starts, the host grants exactly the resources those keys hold in
//! the instance's configuration, and nothing else: no environment, no
//! arguments, no other files, no other addresses. So Kafka's own
//! `connect-file-source.properties` works unchanged while the rest of the
//! disk stays invisible.
//!
//! Files are opened by the host on the plugin's behalf (`files.open`), and
//! always at the granted path itself, never at the string the guest sent:
//! a request is matched after lexical normalisation, so `..` segments or
//! symlinked directories in the request cannot reach anything else.
//! Directories are WASI preopens (cap-std refuses `..` and symlink escapes).
//! Network grants become a socket address check on resolved IP addresses.
//! What may be granted at all is the worker's [`GrantPolicy`].

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Component as PathPart, Path, PathBuf};
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use super::database::url::{self as database_url, DatabaseUrl, Target};
pub use super::grant_policy::{Beneath, GrantPolicy};
use super::http::HttpOrigin;
use crate::bindings::config_def::{ConfigKey, ResourceKind};

/// A configuration value the policy refuses, or that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRefusal {
    /// The configuration key.
    pub key: String,
    /// What is wrong, naming the key, the value and what would allow it.
    pub message: String,
}

impl std::fmt::Display for GrantRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn refusal(key: &str, message: String) -> GrantRefusal {
    GrantRefusal {
        key: key.to_string(),
        message,
    }
}

/// How a granted file may be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAccess {
    /// Read only.
    Read,
    /// Create and append (reading is allowed too).
    Append,
}

/// A granted file: how it may be opened, and the allowed directory it is
/// opened beneath (`None`: the worker sets no bounds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedFile {
    pub access: FileAccess,
    pub beneath: Option<Beneath>,
}

/// The resources one instance was granted.
#[derive(Debug, Default, Clone)]
pub struct Grants {
    /// Normalised absolute path → how it was granted.
    files: HashMap<PathBuf, GrantedFile>,
    /// Directories preopened at their own path; `true` when writable.
    dirs: Vec<(PathBuf, bool)>,
    /// Addresses the instance may connect to.
    endpoints: Vec<SocketAddr>,
    /// Databases the `database` capability may open.
    databases: Vec<DatabaseGrant>,
    /// Origins outbound HTTP requests may go to.
    http_origins: Vec<HttpOrigin>,
}

/// A database the configuration names (a `url` key holding a database
/// URL), as checked when the instance started.
#[derive(Debug, Clone)]
pub struct DatabaseGrant {
    /// The configuration value, trimmed: `database.open` must name it.
    pub value: String,
    /// What it says.
    pub url: DatabaseUrl,
    /// A server's addresses, each allowed; the host connects to these,
    /// never to a fresh lookup of the name.
    pub addrs: Vec<SocketAddr>,
    /// An SQLite file and the allowed directory it lies beneath.
    pub file: Option<(PathBuf, Option<Beneath>)>,
}

impl Grants {
    /// Computes the grants for `config` from the resource marks in
    /// `definition`, relative paths resolving against `cwd`. Fails, naming
    /// the key, when a value is refused by `policy` or cannot be used.
    pub fn from_config(
        definition: &[ConfigKey],
        config: &[(String, String)],
        policy: &GrantPolicy,
        cwd: &Path,
    ) -> Result<Grants, GrantRefusal> {
        let mut grants = Grants::default();
        for key in definition {
            let Some(kind) = key.resource else { continue };
            let Some(value) = lookup(config, &key.name).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            match kind {
                ResourceKind::ReadFile | ResourceKind::WriteFile => {
                    let (path, beneath) = checked_path(&key.name, value, policy, cwd)?;
                    let access = if kind == ResourceKind::WriteFile {
                        FileAccess::Append
                    } else {
                        FileAccess::Read
                    };
                    let entry = grants
                        .files
                        .entry(path)
                        .or_insert(GrantedFile { access, beneath });
                    if access == FileAccess::Append {
                        entry.access = FileAccess::Append;
                    }
                }
                ResourceKind::ReadDirectory | ResourceKind::WriteDirectory => {
                    let (path, _) = checked_path(&key.name, value, policy, cwd)?;
                    if !path.is_dir() {
                        return Err(refusal(
                            &key.name,
                            format!(
                                "configuration {} names {}, which is not a directory",
                                key.name,
                                path.display()
                            ),
                        ));
                    }
                    grants
                        .dirs
                        .push((path, kind == ResourceKind::WriteDirectory));
                }
                ResourceKind::Url if database_url::parse(value).is_some() => {
                    let granted = grant_database(&key.name, value, policy, cwd)?;
                    grants.endpoints.extend(&granted.addrs);
                    if let Some((path, beneath)) = &granted.file {
                        grants.files.insert(
                            path.clone(),
                            GrantedFile {
                                access: FileAccess::Append,
                                beneath: beneath.clone(),
                            },
                        );
                    }
                    grants.databases.push(granted);
                }
                ResourceKind::NetworkEndpoint | ResourceKind::Url => {
                    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let target = if kind == ResourceKind::Url {
                            url_host_port(item).ok_or_else(|| {
                                refusal(
                                    &key.name,
                                    format!(
                                        "configuration {}: cannot find a host in URL {item}",
                                        key.name
                                    ),
                                )
                            })?
                        } else {
                            item.to_string()
                        };
                        let addrs = checked_addrs(&key.name, item, &target, policy)?;
                        if kind == ResourceKind::Url
                            && let Some((https, host, port)) = HttpOrigin::parse(item)
                        {
                            grants.http_origins.push(HttpOrigin {
                                https,
                                host,
                                port,
                                addrs: addrs.clone(),
                            });
                        }
                        grants.endpoints.extend(addrs);
                    }
                }
            }
        }
        Ok(grants)
    }

    /// The path to open and the access granted for a guest's request, or
    /// `None` when the request names nothing granted.
    pub fn file(&self, requested: &str, cwd: &Path) -> Option<(&Path, &GrantedFile)> {
        let wanted = normalize(Path::new(requested), cwd);
        self.files
            .get_key_value(&wanted)
            .map(|(p, g)| (p.as_path(), g))
    }

    /// The database a guest's `open` names, if the configuration grants it.
    pub fn database(&self, requested: &str) -> Option<&DatabaseGrant> {
        let requested = requested.trim();
        self.databases.iter().find(|d| d.value == requested)
    }

    /// The granted origin a request to `https`, `host` (lowercase) and
    /// `port` goes to, if any.
    pub fn http_origin(&self, https: bool, host: &str, port: u16) -> Option<&HttpOrigin> {
        self.http_origins
            .iter()
            .find(|o| o.https == https && o.port == port && o.host == host)
    }

    /// The granted network addresses.
    pub fn endpoints(&self) -> &[SocketAddr] {
        &self.endpoints
    }

    /// Adds the directory and network grants to a WASI context (files go
    /// through the `files` import instead).
    pub fn apply(&self, wasi: &mut WasiCtxBuilder) -> Result<(), String> {
        for (dir, writable) in &self.dirs {
            let perms = if *writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            let guest = dir.to_string_lossy().into_owned();
            wasi.preopened_dir(dir, &guest, perms)
                .map_err(|e| format!("cannot grant directory {}: {e}", dir.display()))?;
        }
        wasi.allow_udp(false);
        wasi.allow_tcp(!self.endpoints.is_empty());
        wasi.allow_ip_name_lookup(!self.endpoints.is_empty());
        if !self.endpoints.is_empty() {
            let allowed: Arc<[SocketAddr]> = self.endpoints.clone().into();
            wasi.socket_addr_check(move |addr, usage| {
                let ok = match usage {
                    // The OS binds a wildcard address before every connect.
                    SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                    SocketAddrUse::TcpConnect => allowed.contains(&addr),
                    _ => false,
                };
                Box::pin(async move { ok })
            });
        }
        Ok(())
    }
}

/// The addresses `target` (`host:port`, from the value `item` of `key`)
/// resolves to, every one of them allowed by `policy`: a public name
/// resolving to loopback is refused.
fn checked_addrs(
    key: &str,
    item: &str,
    target: &str,
    policy: &GrantPolicy,
) -> Result<Vec<SocketAddr>, GrantRefusal> {
    let addrs = target.to_socket_addrs().map_err(|e| {
        refusal(
            key,
            format!("configuration {key}: cannot resolve {target}: {e}"),
        )
    })?;
    let mut checked = Vec::new();
    for addr in addrs {
        if let Some(why) = policy.refuse_addr(&addr) {
            return Err(refusal(
                key,
                format!(
                    "configuration {key} names {item}, which this worker does not allow: {why}"
                ),
            ));
        }
        checked.push(addr);
    }
    Ok(checked)
}

/// A database URL the configuration names, checked: a server's addresses
/// against the network allow-list, an SQLite file against the directory
/// allow-list (read-write, as the database writes it).
fn grant_database(
    key: &str,
    value: &str,
    policy: &GrantPolicy,
    cwd: &Path,
) -> Result<DatabaseGrant, GrantRefusal> {
    let url = match database_url::parse(value) {
        Some(Ok(url)) => url,
        Some(Err(why)) => {
            return Err(refusal(
                key,
                format!("configuration {key}: cannot use database URL: {why}"),
            ));
        }
        None => {
            return Err(refusal(
                key,
                format!("configuration {key}: not a database URL"),
            ));
        }
    };
    let mut grant = DatabaseGrant {
        value: value.trim().to_string(),
        addrs: Vec::new(),
        file: None,
        url,
    };
    match &grant.url.target {
        Target::Network { host, port } => {
            let shown = redacted(value);
            let target = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            grant.addrs = checked_addrs(key, &shown, &target, policy)?;
        }
        Target::File(path) => grant.file = Some(checked_path(key, path, policy, cwd)?),
        Target::Memory => {}
    }
    Ok(grant)
}

/// `value` with any password in it replaced, for messages.
fn redacted(value: &str) -> String {
    let value = value.trim();
    match database_url::parse(value) {
        Some(Ok(url)) if url.password.is_some() => match &url.target {
            Target::Network { host, port } => format!(
                "{}://{host}:{port}/{} (password hidden)",
                value.split("://").next().unwrap_or(""),
                url.database.as_deref().unwrap_or("")
            ),
            _ => value.to_string(),
        },
        _ => value.to_string(),
    }
}

fn lookup<'a>(config: &'a [(String, String)], key: &str) -> Option<&'a str> {
    config
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Resolves `value` against `cwd` and checks it against the policy's
/// roots; returns the path and the root it lies beneath.
fn checked_path(
    key: &str,
    value: &str,
    policy: &GrantPolicy,
    cwd: &Path,
) -> Result<(PathBuf, Option<Beneath>), GrantRefusal> {
    let path = normalize(Path::new(value.trim()), cwd);
    let beneath = policy
        .root_of(&path)
        .map_err(|why| refusal(key, format!("configuration {key} names {why}")))?;
    Ok((path, beneath))
}

/// Lexical normalisation: absolute, no `.` and no `..` segments. Never
/// touches the filesystem, so it cannot be fooled by symlinks in `path`.
pub fn normalize(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::from("/");
    for part in joined.components() {
        match part {
            PathPart::Normal(p) => out.push(p),
            PathPart::ParentDir => {
                out.pop();
            }
            PathPart::RootDir | PathPart::CurDir | PathPart::Prefix(_) => {}
        }
    }
    out
}

/// `host:port` of a URL, with the scheme's default port.
fn url_host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.is_empty() {
        return None;
    }
    let has_port = authority.rsplit_once(':').is_some_and(|(h, p)| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':')
    });
    if has_port {
        return Some(authority.to_string());
    }
    let port = match scheme.to_ascii_lowercase().as_str() {
        "https" => 443,
        _ => 80,
    };
    Some(format!("{authority}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::config_def::{ConfigType, Importance, Width};

    fn key(name: &str, resource: Option<ResourceKind>) -> ConfigKey {
        ConfigKey {
            name: name.into(),
            type_: ConfigType::String,
            required: false,
            default_value: None,
            importance: Importance::High,
            documentation: String::new(),
            group: None,
            order_in_group: -1,
            width: Width::None,
            display_name: String::new(),
            dependents: vec![],
            resource,
        }
    }

    fn cfg(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn grants_exactly_the_marked_file_and_matches_normalised_requests() {
        let def = [
            key("file", Some(ResourceKind::ReadFile)),
            key("topic", None),
        ];
        let cwd = Path::new("/work/dir");
        let g = Grants::from_config(
            &def,
            &cfg(&[("file", "in.txt"), ("topic", "/etc/passwd")]),
            &GrantPolicy::default(),
            cwd,
        )
        .unwrap();
        let read = GrantedFile {
            access: FileAccess::Read,
            beneath: None,
        };
        assert_eq!(
            g.file("in.txt", cwd),
            Some((Path::new("/work/dir/in.txt"), &read))
        );
        assert_eq!(
            g.file("/work/dir/./in.txt", cwd).map(|x| x.1.access),
            Some(FileAccess::Read)
        );
        assert_eq!(
            g.file("/etc/passwd", cwd),
            None,
            "unmarked keys grant nothing"
        );
        assert_eq!(g.file("../dir/../../etc/passwd", cwd), None);
        assert_eq!(g.file("in.txt/../../../etc/passwd", cwd), None);
    }

    #[test]
    fn policy_roots_refuse_paths_outside_and_name_the_key() {
        let def = [key("file", Some(ResourceKind::WriteFile))];
        let data = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(data.path()).unwrap();
        let policy = GrantPolicy {
            allowed_roots: Some(vec![root.clone()]),
            ..GrantPolicy::default()
        };
        let err = Grants::from_config(
            &def,
            &cfg(&[("file", &format!("{}/../etc/x", root.display()))]),
            &policy,
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(err.key, "file");
        let outside = root.parent().unwrap().join("etc/x");
        assert!(
            err.message.starts_with(&format!(
                "configuration file names {} is outside the directories",
                outside.display()
            )),
            "{err}"
        );
        let out = root.join("out.txt");
        let g = Grants::from_config(
            &def,
            &cfg(&[("file", &out.display().to_string())]),
            &policy,
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(
            g.file(&out.display().to_string(), Path::new("/")),
            Some((
                out.as_path(),
                &GrantedFile {
                    access: FileAccess::Append,
                    beneath: Some(Beneath {
                        root,
                        relative: "out.txt".into()
                    })
                }
            ))
        );
    }

    #[test]
    fn network_grants_resolve_and_respect_policy() {
        let def = [
            key("url", Some(ResourceKind::Url)),
            key("addr", Some(ResourceKind::NetworkEndpoint)),
        ];
        let g = Grants::from_config(
            &def,
            &cfg(&[
                ("url", "http://127.0.0.1:8080/x"),
                ("addr", "127.0.0.2:9092"),
            ]),
            &GrantPolicy::default(),
            Path::new("/"),
        )
        .unwrap();
        let want: Vec<SocketAddr> = vec![
            "127.0.0.1:8080".parse().unwrap(),
            "127.0.0.2:9092".parse().unwrap(),
        ];
        assert_eq!(g.endpoints(), want.as_slice());
        let policy = GrantPolicy {
            network: crate::host::grant_policy::NetworkPolicy::Public { own: vec![] },
            ..GrantPolicy::default()
        };
        let err = Grants::from_config(
            &def,
            &cfg(&[("url", "http://localhost:9200/")]),
            &policy,
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(err.key, "url");
        assert!(
            err.message.starts_with(
                "configuration url names http://localhost:9200/, which this worker does not allow:"
            ),
            "{err}"
        );
    }

    #[test]
    fn http_urls_grant_their_origins_only() {
        let def = [key("urls", Some(ResourceKind::Url))];
        let g = Grants::from_config(
            &def,
            &cfg(&[("urls", "http://127.0.0.1:9200/a, https://LOCALHOST:9443")]),
            &GrantPolicy::default(),
            Path::new("/"),
        )
        .unwrap();
        let origin = g.http_origin(false, "127.0.0.1", 9200).expect("granted");
        assert_eq!(
            origin.addrs,
            ["127.0.0.1:9200".parse::<SocketAddr>().unwrap()]
        );
        assert!(g.http_origin(true, "localhost", 9443).is_some());
        assert!(
            g.http_origin(true, "127.0.0.1", 9200).is_none(),
            "the scheme counts"
        );
        assert!(
            g.http_origin(false, "127.0.0.1", 9201).is_none(),
            "the port counts"
        );
        assert!(
            g.http_origin(false, "localhost", 9200).is_none(),
            "the host as named"
        );
    }

    #[test]
    fn url_ports_default_by_scheme() {
        assert_eq!(
            url_host_port("https://example.org/a").as_deref(),
            Some("example.org:443")
        );
        assert_eq!(url_host_port("http://u:p@h:81/").as_deref(), Some("h:81"));
        assert_eq!(url_host_port("not a url"), None);
    }
}
