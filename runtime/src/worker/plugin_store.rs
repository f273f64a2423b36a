//! Uploaded plugins on disk: one `<sha256>.wasm` per component, in
//! `plugin.store.dir` (default: `<offsets file>.plugins`, beside the offsets
//! file). Content-addressed, so uploading the same bytes twice stores them
//! once; written atomically, so a crash never leaves half a component. The
//! worker loads the directory at start like a `plugin.path` entry, and a
//! plugin's compiled code is loaded again from its file here when the
//! artifact cache cannot provide it (see [`crate::plugin::code`]).

use std::path::{Path, PathBuf};

use super::offset_file::write_atomically;

/// The plugin store directory.
#[derive(Debug, Clone)]
pub struct PluginStore {
    dir: PathBuf,
}

impl PluginStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: PathBuf) -> PluginStore {
        PluginStore { dir }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the component with `sha256` is (or would be) stored.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.wasm"))
    }

    /// Stores `bytes` under their hash.
    pub fn save(&self, sha256: &str, bytes: &[u8]) -> Result<(), String> {
        let path = self.path(sha256);
        if path.exists() {
            return Ok(());
        }
        write_atomically(&path, bytes)
            .map_err(|e| format!("cannot store the plugin in {}: {e}", self.dir.display()))
    }

    /// Removes the component with `sha256`, if stored here.
    pub fn remove(&self, sha256: &str) -> Result<(), String> {
        match std::fs::remove_file(self.dir.join(format!("{sha256}.wasm"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!(
                "cannot remove the plugin from {}: {e}",
                self.dir.display()
            )),
            _ => Ok(()),
        }
    }

    /// Whether the component with `sha256` is stored here.
    pub fn contains(&self, sha256: &str) -> bool {
        self.dir.join(format!("{sha256}.wasm")).exists()
    }
}
