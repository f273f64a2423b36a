//! `listeners` and the `host:port` a worker advertises as its `worker_id`.

use super::WorkerConfig;

/// A `listeners` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// `http` or `https`, lower-cased.
    pub scheme: String,
    /// Empty: all interfaces.
    pub host: String,
    pub port: u16,
}

/// A `listeners` entry: `http://host:port` or `https://host:port` (empty
/// host: all interfaces).
pub fn parse_listener(listener: &str) -> Result<Listener, String> {
    let (scheme, rest) = listener
        .split_once("://")
        .ok_or_else(|| format!("Invalid listener {listener}: expected scheme://host:port"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "Invalid listener {listener}: the scheme must be http or https"
        ));
    }
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("Invalid listener {listener}: no port"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = port
        .parse()
        .map_err(|_| format!("Invalid listener {listener}: bad port {port}"))?;
    Ok(Listener { scheme, host, port })
}

/// The listener other workers are told to use: the first whose scheme is
/// `rest.advertised.listener`, or, when that is unset, the first `http`
/// one, else the first `https` one (Kafka's `RestServer` rule).
pub fn advertised_listener(config: &WorkerConfig) -> Listener {
    let listeners: Vec<Listener> = config
        .listeners
        .iter()
        .filter_map(|l| parse_listener(l).ok())
        .collect();
    let wanted = config
        .get("rest.advertised.listener")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    let pick = |scheme: &str| listeners.iter().find(|l| l.scheme == scheme).cloned();
    let chosen = match wanted {
        Some(scheme) => pick(&scheme),
        None => pick("http").or_else(|| pick("https")),
    };
    chosen.unwrap_or_else(|| Listener {
        scheme: "http".into(),
        host: String::new(),
        port: 8083,
    })
}

/// `worker_id`: advertised host (else the listener's host, else the machine's
/// name) and advertised port (else the listener's).
pub fn advertised_worker_id(config: &WorkerConfig) -> String {
    let Listener {
        host: lhost,
        port: lport,
        ..
    } = advertised_listener(config);
    let host = config
        .get("rest.advertised.host.name")
        .map(str::to_string)
        .filter(|h| !h.is_empty())
        .or_else(|| (!lhost.is_empty() && lhost != "0.0.0.0").then_some(lhost))
        .unwrap_or_else(hostname);
    let port = config
        .get("rest.advertised.port")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(lport);
    format!("{host}:{port}")
}

/// This machine's name (`/etc/hostname`), else `localhost`.
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The addresses this worker's `listeners` answer on (a wildcard host
/// stands for this host's name), so plugins can be kept from calling the
/// worker itself.
pub fn listener_addrs(listeners: &[String]) -> Vec<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let mut out = Vec::new();
    for listener in listeners {
        let Ok(Listener { host, port, .. }) = parse_listener(listener) else {
            continue;
        };
        let host = match host.as_str() {
            "" | "0.0.0.0" | "::" | "[::]" => hostname(),
            _ => host,
        };
        if let Ok(addrs) = (host.as_str(), port).to_socket_addrs() {
            out.extend(addrs);
        }
    }
    out
}
