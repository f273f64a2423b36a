//! Guest bindings generated from the contract.

use std::path::Path;

use anyhow::{Context, Result};

/// Writes wit-bindgen's C bindings for `world` into `out_dir`.
pub fn c(wit: &Path, world: &str, out_dir: &Path) -> Result<()> {
    let (mut resolve, world) = crate::wit::load(wit, world)?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .context("generating C bindings")?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    for (name, contents) in files.iter() {
        let path = out_dir.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
