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
        let inferred = infer_world(&module)?;
        let Some(world) = request.world.or(inferred.as_deref()) else {
            bail!(
                "{} carries no component type and exports no role's functions; name its world \
                 with --world source|sink|transform",
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

/// The world a module implements, from the functions it exports (a
/// role's task interface) and imports (the database interface adds
/// `-with-database`), for modules whose compiler cannot embed the world
/// (Go's).
fn infer_world(module: &[u8]) -> Result<Option<String>> {
    let mut role = None;
    let mut database = false;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload.context("malformed module")? {
            wasmparser::Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import.context("malformed import section")?;
                    database |= import.module.starts_with("wasmconnect:database/");
                }
            }
            wasmparser::Payload::ExportSection(exports) => {
                for export in exports {
                    let name = export.context("malformed export section")?.name;
                    for (interface, world) in [
                        ("wasmconnect:connector/source-task@", "source"),
                        ("wasmconnect:connector/sink-task@", "sink"),
                        ("wasmconnect:connector/record-transform@", "transform"),
                    ] {
                        if name.starts_with(interface) {
                            if role.is_some_and(|r| r != world) {
                                bail!(
                                    "the module exports functions of two roles ({} and {world})",
                                    role.unwrap_or_default()
                                );
                            }
                            role = Some(world);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(role.map(|role| {
        if database && role != "transform" {
            format!("{role}-with-database")
        } else {
            role.to_string()
        }
    }))
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
