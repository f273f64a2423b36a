//! On-disk cache of precompiled components.
//!
//! Compiling a component takes from tens of milliseconds (Rust, C) to
//! seconds (Python, JavaScript); loading its precompiled artifact takes well
//! under a millisecond. Artifacts are keyed by the SHA-256 of the component
//! bytes and by the engine's compatibility hash, so a wasmtime upgrade or a
//! changed engine setting never loads a stale artifact.
//!
//! An artifact is native code, so nothing but this worker may have written
//! it. The cache is used only in a directory this user owns and nobody else
//! may write (created `0700`); each artifact is stored beside the SHA-256 of
//! its bytes, read whole into memory, checked against that digest and only
//! then handed to wasmtime. A file that fails any check is discarded and
//! the component compiled again.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
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
        if let Err(e) = private_dir(dir) {
            tracing::warn!(dir = %dir.display(), "not caching precompiled artifacts: {e}");
            return Ok((compile(engine, bytes)?, sha));
        }
        let path = artifact_path(dir, engine, &sha);
        if let Some(component) = deserialize_verified(engine, &path) {
            return Ok((component, sha));
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

    /// The component whose bytes have SHA-256 `sha256` (hex), if its
    /// artifact is cached and passes every check [`ArtifactCache::load`]
    /// makes; `None` otherwise (no cache, a directory others may write, no
    /// artifact, or one that fails its check), and the caller must compile
    /// the bytes again. This is how a plugin's dropped code comes back
    /// without reading, hashing or compiling its source (see
    /// `crate::plugin::code`).
    pub fn cached(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let dir = self.dir.as_ref()?;
        // The digest names a file: refuse anything that is not hex.
        if sha256.is_empty() || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        if let Err(e) = private_dir(dir) {
            tracing::warn!(dir = %dir.display(), "not using cached artifacts: {e}");
            return None;
        }
        let path = artifact_path(dir, engine, sha256);
        if !path.exists() {
            return None;
        }
        deserialize_verified(engine, &path)
    }
}

/// Where the artifact of the component with `sha256` lives for `engine`.
fn artifact_path(dir: &Path, engine: &Engine, sha256: &str) -> PathBuf {
    dir.join(format!("{sha256}-{:016x}.cwasm", compat_hash(engine)))
}

/// The component in the artifact at `path`, if there is one and it passes
/// its digest check and wasmtime's; a failure is logged and gives `None`.
fn deserialize_verified(engine: &Engine, path: &Path) -> Option<Component> {
    if !path.exists() {
        return None;
    }
    match verified(path) {
        // SAFETY: the bytes are those this worker wrote (their digest
        // matches the one stored beside them, in a directory only this user
        // may write), produced by `Engine::precompile_component`; wasmtime
        // also checks the artifact header against this engine. A failure
        // is handled below.
        Ok(artifact) => match unsafe { Component::deserialize(engine, &artifact) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable cached artifact");
                None
            }
        },
        Err(e) => {
            tracing::warn!(path = %path.display(), "discarding a cached artifact that fails its check: {e}");
            None
        }
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

/// Creates `dir` (`0700`) if missing, then checks that this user owns it
/// and that nobody else may write to it.
fn private_dir(dir: &Path) -> Result<(), String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    let meta = std::fs::metadata(dir).map_err(|e| e.to_string())?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "it belongs to uid {}, not this worker's {me}",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "others may write to it (mode {:o}); it must be writable by this user only",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

/// Where the digest of the artifact at `path` is kept.
fn digest_path(path: &Path) -> PathBuf {
    path.with_extension("sha256")
}

/// The artifact at `path`, if its bytes match the digest stored beside it.
fn verified(path: &Path) -> Result<Vec<u8>, String> {
    let artifact = std::fs::read(path).map_err(|e| e.to_string())?;
    let digest = std::fs::read_to_string(digest_path(path))
        .map_err(|e| format!("no digest beside it: {e}"))?;
    if hex::encode(Sha256::digest(&artifact)) != digest.trim() {
        return Err("its bytes do not match the digest stored beside it".into());
    }
    Ok(artifact)
}

/// Writes the artifact and then its digest, each atomically: a crash
/// leaves no file, a whole artifact without a digest (discarded on load),
/// or both whole.
fn store(dir: &Path, path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    let tmp = tempfile_in(dir)?;
    std::fs::write(&tmp, artifact)?;
    std::fs::rename(&tmp, path)?;
    let tmp = tempfile_in(dir)?;
    std::fs::write(&tmp, hex::encode(Sha256::digest(artifact)))?;
    std::fs::rename(&tmp, digest_path(path))
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// The smallest component there is.
    const EMPTY: &[u8] = b"\0asm\x0d\0\x01\0";

    fn artifacts(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
            .collect()
    }

    #[test]
    fn a_tampered_artifact_is_discarded_and_compiled_again() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let cache = ArtifactCache::new(Some(dir.path().join("cache")));
        cache.load(&engine, EMPTY).unwrap();
        let stored = artifacts(&dir.path().join("cache"));
        assert_eq!(stored.len(), 1);
        let good = std::fs::read(&stored[0]).unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        std::fs::write(&stored[0], &bad).unwrap();
        assert!(verified(&stored[0]).is_err());
        cache.load(&engine, EMPTY).expect("compiled again");
        assert_eq!(std::fs::read(&stored[0]).unwrap(), good, "rewritten");
        assert!(verified(&stored[0]).is_ok());
    }

    #[test]
    fn an_artifact_is_found_by_digest_only_when_it_passes_its_check() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let cache = ArtifactCache::new(Some(dir.path().join("cache")));
        let sha = hex::encode(Sha256::digest(EMPTY));
        assert!(cache.cached(&engine, &sha).is_none(), "nothing cached yet");
        cache.load(&engine, EMPTY).unwrap();
        assert!(cache.cached(&engine, &sha).is_some());
        assert!(cache.cached(&engine, "../not-a-digest").is_none());
        assert!(ArtifactCache::new(None).cached(&engine, &sha).is_none());
        let stored = artifacts(&dir.path().join("cache"));
        let mut bad = std::fs::read(&stored[0]).unwrap();
        bad[0] ^= 0xff;
        std::fs::write(&stored[0], &bad).unwrap();
        assert!(cache.cached(&engine, &sha).is_none(), "tampered");
    }

    #[test]
    fn a_directory_others_may_write_is_not_used() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = private_dir(&shared).unwrap_err();
        assert!(err.contains("others may write to it"), "{err}");
        ArtifactCache::new(Some(shared.clone()))
            .load(&engine, EMPTY)
            .expect("compiled in memory");
        assert!(artifacts(&shared).is_empty());
        let fresh = dir.path().join("fresh");
        private_dir(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
