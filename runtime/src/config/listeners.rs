//! `listeners` and the `host:port` a worker advertises as its `worker_id`.

use super::WorkerConfig;

/// A `listeners` entry: `http://host:port` (empty host: all interfaces).
pub fn parse_listener(listener: &str) -> Result<(String, u16), String> {
    let (scheme, rest) = listener
        .split_once("://")
        .ok_or_else(|| format!("Invalid listener {listener}: expected scheme://host:port"))?;
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "Invalid listener {listener}: only http listeners are supported"
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
    Ok((host, port))
}

/// `worker_id`: advertised host (else the listener's host, else the machine's
/// name) and advertised port (else the listener's).
pub fn advertised_worker_id(config: &WorkerConfig) -> String {
    let (lhost, lport) = config
        .listeners
        .first()
        .and_then(|l| parse_listener(l).ok())
        .unwrap_or_else(|| (String::new(), 8083));
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
        let Ok((host, port)) = parse_listener(listener) else {
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
