//! Loading the contract: one WIT package directory, one world of it.

use std::path::Path;

use anyhow::{Context, Result};
use wit_parser::{Resolve, WorldId};

/// Parses the package in `dir` (with its `deps/`) and selects `world`.
pub fn load(dir: &Path, world: &str) -> Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(dir)
        .with_context(|| format!("cannot read the WIT package in {}", dir.display()))?;
    let world = resolve
        .select_world(&[package], Some(world))
        .with_context(|| format!("{} has no world `{world}`", dir.display()))?;
    Ok((resolve, world))
}
