//! Core module in, connector component out.

use std::path::Path;

use anyhow::{Context, Result, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};

/// What `componentize` was asked to do.
pub struct Request<'a> {
    pub module: &'a Path,
    pub wit: &'a Path,
    pub world: Option<&'a str>,
    pub go: bool,
    pub output: &'a Path,
}

pub fn run(request: &Request<'_>) -> Result<()> {
    let mut module = std::fs::read(request.module)
        .with_context(|| format!("cannot read {}", request.module.display()))?;
    if wasmparser::Parser::is_component(&module) {
        bail!("{} is already a component", request.module.display());
    }
    if !carries_component_type(&module)? {
        let Some(world) = request.world else {
            bail!(
                "{} carries no component type; name its world with --world source|sink|transform",
                request.module.display()
            );
        };
        let (resolve, world) = crate::wit::load(request.wit, world)?;
        wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
            .context("embedding the world's type")?;
    }
    if request.go {
        module = crate::go_adapter::add_allocators(&module)?;
    }
    let component = ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .context("reading the module's component type")?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .context("loading the WASI preview 1 adapter")?
        .encode()
        .context("encoding the component")?;
    std::fs::write(request.output, &component)
        .with_context(|| format!("cannot write {}", request.output.display()))?;
    println!("{}: {} bytes", request.output.display(), component.len());
    Ok(())
}

/// Whether a linker already embedded a world (wit-bindgen's C object file
/// does), in which case embedding another would only duplicate it.
fn carries_component_type(module: &[u8]) -> Result<bool> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::CustomSection(section) = payload.context("malformed module")?
            && section.name().starts_with("component-type")
        {
            return Ok(true);
        }
    }
    Ok(false)
}
