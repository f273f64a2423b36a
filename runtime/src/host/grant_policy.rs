//! What an operator lets connector configurations be granted: the worker
//! file's allow-lists, checked when a configuration is validated and again
//! when an instance starts ([`super::grants`]).
//!
//! * `sandbox.allowed.dirs`: directories that files and directories named
//!   in configurations must lie beneath. Default: the worker's working
//!   directory (the quickstart's `test.txt` works; `/etc/shadow` does not).
//!   A path is checked after `..` and symlinks are resolved, and granted
//!   files are opened beneath their allowed directory with cap-std, so a
//!   symlink placed there later cannot lead out either.
//! * `sandbox.allowed.hosts`: network destinations, each `host`,
//!   `host:port` or a CIDR block (`10.0.0.0/8`); `*` allows every address.
//!   Default: every public address. Loopback, link-local (cloud metadata),
//!   unspecified and multicast addresses and the worker's own listeners are
//!   refused unless listed.
//!
//! Refusals name the configuration key, the value and the worker setting
//! that would allow it.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use crate::config::worker::{list, lookup};

/// The worker key listing allowed directories.
pub const DIRS_KEY: &str = "sandbox.allowed.dirs";
/// The worker key listing allowed network destinations.
pub const HOSTS_KEY: &str = "sandbox.allowed.hosts";

/// Worker-level bounds on what connector configurations may be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantPolicy {
    /// Canonical directories that grants must lie beneath; `None`: any
    /// path the worker process can reach (tools and tests only).
    pub allowed_roots: Option<Vec<PathBuf>>,
    /// Network destinations.
    pub network: NetworkPolicy,
}

impl Default for GrantPolicy {
    /// No bounds: what an embedding program or a test gets unless it says
    /// otherwise. The worker binary builds its policy with
    /// [`GrantPolicy::from_worker`].
    fn default() -> Self {
        GrantPolicy {
            allowed_roots: None,
            network: NetworkPolicy::Any,
        }
    }
}

/// Which addresses a grant may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkPolicy {
    /// Every address.
    Any,
    /// Public addresses only, and none of `own` (this worker's listeners).
    Public { own: Vec<SocketAddr> },
    /// Exactly what matches one of the rules.
    Listed(Vec<NetRule>),
    /// Nothing.
    None,
}

/// One entry of `sandbox.allowed.hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetRule {
    /// A CIDR block, any port.
    Block { net: IpAddr, prefix: u8 },
    /// A host (its addresses when the worker started), on one port or any.
    Host {
        addrs: Vec<IpAddr>,
        port: Option<u16>,
    },
}

impl NetRule {
    fn parse(entry: &str) -> Result<NetRule, String> {
        if let Some((net, prefix)) = entry.split_once('/') {
            let net: IpAddr = net
                .parse()
                .map_err(|_| format!("{entry}: {net} is not an IP address"))?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = prefix
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{entry}: the prefix must be 0 to {max}"))?;
            return Ok(NetRule::Block { net, prefix });
        }
        let (host, port) = split_port(entry);
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("{entry}: {p} is not a port"))?,
            ),
            None => None,
        };
        let addrs = (host, port.unwrap_or(0))
            .to_socket_addrs()
            .map_err(|e| format!("{entry}: cannot resolve {host}: {e}"))?
            .map(|a| a.ip())
            .collect();
        Ok(NetRule::Host { addrs, port })
    }

    fn allows(&self, addr: &SocketAddr) -> bool {
        match self {
            NetRule::Block { net, prefix } => in_block(addr.ip(), *net, *prefix),
            NetRule::Host { addrs, port } => {
                addrs.contains(&addr.ip()) && port.is_none_or(|p| p == addr.port())
            }
        }
    }
}

/// `host` and `port` of `host:port`, `[v6]:port`, `host` or `v6`.
fn split_port(entry: &str) -> (&str, Option<&str>) {
    if let Some(rest) = entry.strip_prefix('[')
        && let Some((host, tail)) = rest.split_once(']')
    {
        return (host, tail.strip_prefix(':'));
    }
    match entry.rsplit_once(':') {
        // More than one colon and no brackets: a bare IPv6 address.
        Some((host, _)) if host.contains(':') => (entry, None),
        Some((host, port)) => (host, Some(port)),
        None => (entry, None),
    }
}

fn in_block(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Addresses no default lets a plugin reach: this host (loopback), the
/// link (including 169.254.169.254, cloud metadata), nowhere, everywhere.
fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_special(IpAddr::V4(v4)))
        }
    }
}

impl GrantPolicy {
    /// The policy a worker file sets. `cwd` is the default allowed
    /// directory; `own` are the worker's listener addresses.
    pub fn from_worker(
        raw: &[(String, String)],
        cwd: &Path,
        own: Vec<SocketAddr>,
    ) -> Result<GrantPolicy, String> {
        let dirs = match lookup(raw, DIRS_KEY) {
            Some(v) => list(Some(v)).into_iter().map(PathBuf::from).collect(),
            None => vec![cwd.to_path_buf()],
        };
        let mut roots = Vec::new();
        for dir in dirs {
            let dir = if dir.is_absolute() {
                dir
            } else {
                cwd.join(dir)
            };
            let canonical = std::fs::canonicalize(&dir)
                .map_err(|e| format!("{DIRS_KEY}: {}: {e}", dir.display()))?;
            if !canonical.is_dir() {
                return Err(format!("{DIRS_KEY}: {} is not a directory", dir.display()));
            }
            roots.push(canonical);
        }
        let network = match lookup(raw, HOSTS_KEY).map(str::trim) {
            None => NetworkPolicy::Public { own },
            Some("*") => NetworkPolicy::Any,
            Some("") => NetworkPolicy::None,
            Some(v) => NetworkPolicy::Listed(
                list(Some(v))
                    .iter()
                    .map(|e| NetRule::parse(e).map_err(|m| format!("{HOSTS_KEY}: {m}")))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(GrantPolicy {
            allowed_roots: Some(roots),
            network,
        })
    }

    /// Why `addr` may not be granted, if it may not.
    pub fn refuse_addr(&self, addr: &SocketAddr) -> Option<String> {
        match &self.network {
            NetworkPolicy::Any => None,
            NetworkPolicy::None => Some(format!(
                "this worker grants no network access ({HOSTS_KEY} is empty)"
            )),
            NetworkPolicy::Listed(rules) => (!rules.iter().any(|r| r.allows(addr)))
                .then(|| format!("{addr} is not in {HOSTS_KEY}")),
            NetworkPolicy::Public { own } => {
                if own.contains(addr) {
                    Some(format!(
                        "{addr} is this worker's own listener; list it in {HOSTS_KEY} to allow it"
                    ))
                } else if is_special(addr.ip()) {
                    Some(format!(
                        "{addr} is a loopback, link-local or otherwise local address; list it in {HOSTS_KEY} to allow it"
                    ))
                } else {
                    None
                }
            }
        }
    }

    /// The allowed directory `path` lies beneath once `..` and symlinks
    /// are resolved, and where beneath it (`Ok(None)`: no bounds), or why
    /// it does not lie beneath any.
    pub fn root_of(&self, path: &Path) -> Result<Option<Beneath>, String> {
        let Some(roots) = &self.allowed_roots else {
            return Ok(None);
        };
        let resolved = resolve_existing(path);
        roots
            .iter()
            .find_map(|root| {
                let relative = resolved.strip_prefix(root).ok()?;
                Some(Some(Beneath {
                    root: root.clone(),
                    relative: relative.to_path_buf(),
                }))
            })
            .ok_or_else(|| {
                let shown = if resolved == path {
                    String::new()
                } else {
                    format!(" (which leads to {})", resolved.display())
                };
                format!(
                    "{}{shown} is outside the directories this worker allows ({}); {DIRS_KEY} can allow it",
                    path.display(),
                    roots
                        .iter()
                        .map(|r| r.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// Where a granted path lies: an allowed directory, and the path beneath
/// it once symlinks are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneath {
    pub root: PathBuf,
    pub relative: PathBuf,
}

/// `path` with its longest existing ancestor canonicalised (symlinks and
/// `..` resolved) and the rest appended: where opening it would land.
fn resolve_existing(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut at = path.to_path_buf();
    loop {
        if let Ok(real) = std::fs::canonicalize(&at) {
            return missing.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (at.file_name().map(|n| n.to_os_string()), at.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name);
                at = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pairs;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn by_default_public_addresses_pass_and_local_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let own = vec![addr("10.1.2.3:8083")];
        let p = GrantPolicy::from_worker(&[], dir.path(), own).unwrap();
        assert_eq!(p.refuse_addr(&addr("93.184.216.34:443")), None);
        assert_eq!(p.refuse_addr(&addr("10.1.2.3:9092")), None);
        for refused in [
            "127.0.0.1:80",
            "169.254.169.254:80",
            "0.0.0.0:80",
            "[::1]:80",
            "[fe80::1]:80",
            "[::ffff:127.0.0.1]:80",
            "10.1.2.3:8083",
        ] {
            let why = p.refuse_addr(&addr(refused)).unwrap();
            assert!(why.contains(HOSTS_KEY), "{refused}: {why}");
        }
    }

    #[test]
    fn listed_hosts_ports_and_blocks_are_exactly_what_passes() {
        let dir = tempfile::tempdir().unwrap();
        let p = GrantPolicy::from_worker(
            &pairs(&[(HOSTS_KEY, "127.0.0.1:9200, 10.0.0.0/8, [::1]")]),
            dir.path(),
            vec![],
        )
        .unwrap();
        assert_eq!(p.refuse_addr(&addr("127.0.0.1:9200")), None);
        assert!(p.refuse_addr(&addr("127.0.0.1:9201")).is_some());
        assert_eq!(p.refuse_addr(&addr("10.200.0.1:1")), None);
        assert!(p.refuse_addr(&addr("11.0.0.1:1")).is_some());
        assert_eq!(p.refuse_addr(&addr("[::1]:5")), None);
        let bad =
            GrantPolicy::from_worker(&pairs(&[(HOSTS_KEY, "10.0.0.0/40")]), dir.path(), vec![])
                .unwrap_err();
        assert!(bad.contains("the prefix must be 0 to 32"), "{bad}");
        let none =
            GrantPolicy::from_worker(&pairs(&[(HOSTS_KEY, "")]), dir.path(), vec![]).unwrap();
        assert!(none.refuse_addr(&addr("93.184.216.34:443")).is_some());
    }

    #[test]
    fn paths_are_checked_after_dotdot_and_symlinks_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("work");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
        let p = GrantPolicy::from_worker(&[], &root, vec![]).unwrap();
        let canonical_root = std::fs::canonicalize(&root).unwrap();
        assert_eq!(
            p.root_of(&root.join("new/out.txt")).unwrap(),
            Some(Beneath {
                root: canonical_root.clone(),
                relative: "new/out.txt".into()
            })
        );
        assert!(p.root_of(Path::new("/etc/passwd")).is_err());
        let why = p.root_of(&root.join("etc/passwd")).unwrap_err();
        assert!(why.contains("which leads to /etc/passwd"), "{why}");
        assert!(why.ends_with(&format!("{DIRS_KEY} can allow it")), "{why}");
        let missing =
            GrantPolicy::from_worker(&pairs(&[(DIRS_KEY, "/no/such/dir")]), &root, vec![])
                .unwrap_err();
        assert!(missing.starts_with(DIRS_KEY), "{missing}");
    }
}
