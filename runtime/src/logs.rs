//! The worker's log and its levels, changeable at run time through
//! `/admin/loggers` (spec §2.23).
//!
//! Loggers are `tracing` targets (`wasmconnect::worker`, `wasmconnect::guest`,
//! `rdkafka`, …). Kafka's levels map onto tracing's: OFF, FATAL→ERROR, ERROR,
//! WARN, INFO, DEBUG, TRACE and ALL→TRACE. Levels set over REST live as
//! long as the process, as in Kafka.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Kafka's valid level names.
pub const LEVELS: [&str; 8] = [
    "OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL",
];

/// A logger's level and when REST last changed it (epoch ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerLevel {
    /// Kafka level name.
    pub level: String,
    /// Last change over REST on this worker, if any.
    pub last_modified: Option<i64>,
}

/// Run-time control of the log filter.
pub struct LogControl {
    handle: reload::Handle<EnvFilter, Registry>,
    base: String,
    state: Mutex<BTreeMap<String, LoggerLevel>>,
}

static CONTROL: OnceLock<LogControl> = OnceLock::new();

/// Installs the global subscriber (stderr, `RUST_LOG` or INFO); a second
/// call does nothing.
pub fn init() {
    use std::io::IsTerminal;
    if CONTROL.get().is_some() {
        return;
    }
    let base = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_string());
    let filter = EnvFilter::try_new(&base).unwrap_or_else(|_| EnvFilter::new("info"));
    let (layer, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if tracing_subscriber::registry()
        .with(layer)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        let root = root_level(&base);
        let mut state = BTreeMap::new();
        state.insert(
            "root".to_string(),
            LoggerLevel {
                level: root,
                last_modified: None,
            },
        );
        let _ = CONTROL.set(LogControl {
            handle,
            base,
            state: Mutex::new(state),
        });
    }
}

/// The control, when [`init`] installed the subscriber.
pub fn control() -> Option<&'static LogControl> {
    CONTROL.get()
}

fn root_level(base: &str) -> String {
    base.split(',')
        .find(|d| !d.contains('='))
        .map(|d| d.trim().to_ascii_uppercase())
        .filter(|d| LEVELS.contains(&d.as_str()))
        .unwrap_or_else(|| "INFO".to_string())
}

fn directive(level: &str) -> &'static str {
    match level {
        "OFF" => "off",
        "FATAL" | "ERROR" => "error",
        "WARN" => "warn",
        "INFO" => "info",
        "DEBUG" => "debug",
        _ => "trace",
    }
}

impl LogControl {
    /// `root` plus every logger with an explicitly set level, sorted.
    pub fn all(&self) -> BTreeMap<String, LoggerLevel> {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A logger's level: its own, else its nearest parent's, else root's.
    pub fn get(&self, name: &str) -> LoggerLevel {
        let state = self.all();
        let name = if name.eq_ignore_ascii_case("root") {
            "root"
        } else {
            name
        };
        if let Some(l) = state.get(name) {
            return l.clone();
        }
        let parent = state
            .iter()
            .filter(|(k, _)| *k != "root" && name.starts_with(k.as_str()))
            .max_by_key(|(k, _)| k.len());
        match parent.or_else(|| state.get_key_value("root")) {
            Some((_, l)) => LoggerLevel {
                level: l.level.clone(),
                last_modified: None,
            },
            None => LoggerLevel {
                level: "INFO".into(),
                last_modified: None,
            },
        }
    }

    /// Sets `namespace` (and every set logger under it; `root` sets all) to
    /// `level`; returns the affected logger names, sorted. Nothing changes
    /// unless the new filter applies, so a bad name cannot wedge the API.
    pub fn set(&self, namespace: &str, level: &str, now_ms: i64) -> Result<Vec<String>, LogError> {
        let level = level.to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(LogError::Level(format!("invalid log level '{level}'.")));
        }
        let namespace = if namespace.eq_ignore_ascii_case("root") {
            "root"
        } else {
            namespace
        };
        if namespace != "root" && EnvFilter::try_new(format!("{namespace}=info")).is_err() {
            return Err(LogError::Name(format!(
                "Invalid logger name '{namespace}': it must be a module path or target such as wasmconnect::worker"
            )));
        }
        let mut guard = self
            .state
            .lock()
            .map_err(|_| LogError::Internal("logger state poisoned".to_string()))?;
        let mut state = guard.clone();
        let mut affected: Vec<String> = state
            .keys()
            .filter(|k| namespace == "root" || k.starts_with(namespace))
            .cloned()
            .collect();
        if !affected.iter().any(|k| k == namespace) {
            affected.push(namespace.to_string());
        }
        affected.sort();
        for name in &affected {
            let entry = state.entry(name.clone()).or_insert(LoggerLevel {
                level: String::new(),
                last_modified: None,
            });
            if entry.level != level {
                entry.level = level.clone();
                entry.last_modified = Some(now_ms);
            }
        }
        let mut directives = vec![self.base.clone()];
        for (name, l) in state.iter() {
            if name == "root" {
                directives.push(directive(&l.level).to_string());
            } else {
                directives.push(format!("{name}={}", directive(&l.level)));
            }
        }
        let filter = EnvFilter::try_new(directives.join(","))
            .map_err(|e| LogError::Name(format!("Invalid logger name '{namespace}': {e}")))?;
        self.handle
            .reload(filter)
            .map_err(|e| LogError::Internal(e.to_string()))?;
        *guard = state;
        Ok(affected)
    }
}

/// Why a logger update was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogError {
    /// Not one of Kafka's levels (Kafka answers 404).
    Level(String),
    /// A name the filter cannot take (400).
    Name(String),
    /// The log itself failed (500).
    Internal(String),
}
