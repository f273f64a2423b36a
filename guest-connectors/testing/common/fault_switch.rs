//! The `fault.switch` setting shared by the misbehaving test plugins.
//!
//! When set, it names a file the host grants for reading; the configured
//! fault happens only while that file says `on`. A test turns the cause off
//! by rewriting the file, then restarts the task through REST, without
//! changing the connector's configuration.

use wasmconnect_sdk::{Config, ConfigExt, ConfigType, Key, OpenMode, ResourceKind, open_file};

/// The config key, for the plugin's definition.
pub fn key() -> Key {
    Key::new("fault.switch", ConfigType::String)
        .doc("A file: the fault happens only while it says `on` (unset: always)")
        .resource(ResourceKind::ReadFile)
}

/// The mode to act on now: the configured one while the switch is on,
/// else `healthy`.
pub fn mode(config: &Config) -> String {
    let configured = config.value("mode").unwrap_or("healthy");
    let on = match config.value("fault.switch") {
        None => true,
        Some(path) => open_file(path, OpenMode::Read)
            .and_then(|f| f.read(0, 16))
            .map(|b| b.starts_with(b"on"))
            .unwrap_or(false),
    };
    if on { configured } else { "healthy" }.to_string()
}
