//! On-disk cache of precompiled components.
//!
//! Compiling a component takes from tens of milliseconds (Rust, C) to
//! seconds (Python, JavaScript); loading its precompiled artifact takes well
//! under a millisecond. Artifacts are keyed by the SHA-256 of the component
//! bytes and by the engine's compatibility hash, so a wasmtime upgrade or a
//! changed engine setting never loads a stale artifact.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where precompiled artifacts live (`None`: compile in memory every time).
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: Option<PathBuf>,
}

impl ArtifactCache {
    /// A cache in `dir`, created on first use.
    pub fn new(dir: Option<PathBuf>) -> Self {
        ArtifactCache { dir }
    }

    /// Returns the compiled component and the SHA-256 (hex) of `bytes`.
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> anyhow::Result<(Component, String)> {
        let sha = hex::encode(Sha256::digest(bytes));
        let Some(dir) = &self.dir else {
            return Ok((compile(engine, bytes)?, sha));
        };
        let path = dir.join(format!("{sha}-{:016x}.cwasm", compat_hash(engine)));
        if path.exists() {
            // SAFETY: files in the cache directory are only ever written by
            // `store` below from `Engine::precompile_component` output, and
            // wasmtime checks the artifact header against this engine before
            // using it. A corrupt or foreign file is an error, handled below.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, sha)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unusable cached artifact")
                }
            }
        }
        let artifact = engine
            .precompile_component(bytes)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        if let Err(e) = store(dir, &path, &artifact) {
            tracing::warn!(path = %path.display(), error = %e, "cannot cache precompiled artifact");
        }
        // SAFETY: `artifact` was produced by `precompile_component` on this
        // very engine just above.
        let component = unsafe { Component::deserialize(engine, &artifact) }
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        Ok((component, sha))
    }
}

fn compile(engine: &Engine, bytes: &[u8]) -> anyhow::Result<Component> {
    Component::new(engine, bytes).map_err(|e| anyhow::anyhow!("{e:#}"))
}

fn compat_hash(engine: &Engine) -> u64 {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    h.finish()
}

/// Writes atomically: a crash leaves either no file or a whole one.
fn store(dir: &Path, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile_in(dir)?;
    std::fs::write(&tmp, artifact)?;
    std::fs::rename(&tmp, path)
}

fn tempfile_in(dir: &Path) -> std::io::Result<PathBuf> {
    let unique = format!(
        ".tmp-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    );
    Ok(dir.join(unique))
}
