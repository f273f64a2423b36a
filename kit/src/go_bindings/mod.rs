//! Go bindings for the contract, generated from wit-parser's resolved types.
//!
//! The Go connector kit builds with the standard Go toolchain for
//! `GOOS=wasip1`, whose `//go:wasmexport` and `//go:wasmimport` functions
//! take only numbers and whose pointers and `int`s are 64-bit Go values over
//! a 32-bit linear memory. wit-bindgen-go's output assumes TinyGo's 32-bit
//! layout (its `cm.List` is a Go pointer plus a `uintptr`, 16 bytes where
//! the canonical ABI has 8) and passes pointers to strings through exports,
//! which the Go compiler refuses. So this generator writes bindings that
//! keep every value in Go form and move it in and out of linear memory
//! explicitly, at the canonical ABI's offsets, which it computes here from
//! the WIT (never by hand):
//!
//! - package `cabi`: the memory primitives and the allocator arenas
//!   `componentize --go` looks for (see [`crate::go_adapter`]);
//! - one package per interface the worlds use: its types as Go types, with a
//!   `Lift<Type>`/`Lower<Type>` pair per named type; for an imported
//!   interface, a Go function per WIT function over a `//go:wasmimport`;
//!   for an exported one, an `Exports` struct of Go functions the kit fills
//!   in and one `//go:wasmexport` trampoline per WIT function. The
//!   `//go:wasmimport` declarations and the trampolines sit in
//!   `*_wasip1.go` files; elsewhere `imports_other.go` stubs panic, so that
//!   `go test` builds the kit on the host.
//!
//! Anonymous types (lists, options, results, tuples) get a helper per
//! package instead of inline closures, and addresses are `cabi.Off(base,
//! n)` calls rather than sums: both keep the output exactly as gofmt
//! writes it, which the test below compares byte for byte.
//!
//! Go's linker drops imports nobody calls, so one set of packages serves
//! every world; the exports a module carries are those of the packages it
//! links.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use wit_parser::abi::{AbiVariant, FlatTypes, WasmType};
use wit_parser::{
    Function, FunctionKind, Handle, Int, InterfaceId, Resolve, SizeAlign, Type, TypeDefKind,
    TypeId, TypeOwner, WorldItem,
};

/// Where the generated files go, relative to the output directory, and
/// what they hold.
pub type Files = BTreeMap<String, String>;

/// Generates bindings for the union of `worlds` of the package in `wit`,
/// as Go packages below the import path `root`.
pub fn generate(wit: &Path, worlds: &[String], root: &str) -> Result<Files> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit)
        .with_context(|| format!("cannot read the WIT package in {}", wit.display()))?;
    let mut imported = BTreeSet::new();
    let mut exported = BTreeSet::new();
    let mut order = Vec::new();
    for name in worlds {
        let world = resolve
            .select_world(&[package], Some(name))
            .with_context(|| format!("{} has no world `{name}`", wit.display()))?;
        let world = &resolve.worlds[world];
        for (items, set) in [
            (&world.imports, &mut imported),
            (&world.exports, &mut exported),
        ] {
            for item in items.values() {
                match item {
                    WorldItem::Interface { id, .. } => {
                        set.insert(*id);
                        if !order.contains(id) {
                            order.push(*id);
                        }
                    }
                    WorldItem::Type { .. } => {}
                    WorldItem::Function(f) => {
                        bail!("world `{name}` has a freestanding function `{}`", f.name)
                    }
                }
            }
        }
    }
    let mut sizes = SizeAlign::default();
    sizes.fill(&resolve);
    let generator = Generator {
        resolve: &resolve,
        sizes,
        root: root.to_string(),
    };
    let mut files = Files::new();
    files.insert("cabi/cabi.go".into(), CABI.into());
    for id in order {
        generator.interface(
            id,
            imported.contains(&id),
            exported.contains(&id),
            &mut files,
        )?;
    }
    Ok(files)
}

/// Writes `files` below `out`.
pub fn write(files: &Files, out: &Path) -> Result<()> {
    for (name, contents) in files {
        let path = out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

struct Generator<'a> {
    resolve: &'a Resolve,
    sizes: SizeAlign,
    root: String,
}

/// One Go source file being written: its package's import path and the
/// packages its code refers to.
struct GoFile {
    path: String,
    imports: BTreeSet<String>,
    body: String,
    /// Helper functions for anonymous types, after the body.
    helpers: String,
    /// Helpers defined in the package so far, by any of its files.
    helper_names: BTreeSet<String>,
}

impl GoFile {
    fn new(path: &str) -> Self {
        GoFile {
            path: path.to_string(),
            imports: BTreeSet::new(),
            body: String::new(),
            helpers: String::new(),
            helper_names: BTreeSet::new(),
        }
    }

    /// The file with its header, package clause and imports.
    fn finish(mut self, package: &str, doc: &str) -> String {
        let helpers = std::mem::take(&mut self.helpers);
        self.body.push_str(&helpers);
        let mut out =
            String::from("// Code generated by wasmconnect-kit bindings go. DO NOT EDIT.\n\n");
        out.push_str(doc);
        let _ = writeln!(out, "package {package}\n");
        // Only the packages the code ended up naming.
        let imports: Vec<_> = self
            .imports
            .iter()
            .filter(|i| **i != self.path)
            .filter(|i| {
                let package = i.rsplit('/').next().unwrap_or(i);
                self.body.contains(&format!("{package}."))
            })
            .collect();
        match imports.len() {
            0 => {}
            1 => {
                let _ = writeln!(out, "import \"{}\"\n", imports[0]);
            }
            _ => {
                out.push_str("import (\n");
                for i in &imports {
                    let _ = writeln!(out, "\t\"{i}\"");
                }
                out.push_str(")\n\n");
            }
        }
        out.push_str(self.body.trim_end());
        out.push('\n');
        out
    }
}

/// A Go name from a WIT name: `config-key` is `ConfigKey`, and the usual
/// initialisms stay upper case.
fn exported_name(name: &str) -> String {
    name.split('-')
        .map(|word| match word {
            "id" | "json" | "url" | "sql" | "http" => word.to_uppercase(),
            _ => {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            }
        })
        .collect()
}

/// A Go identifier for a parameter.
fn local_name(name: &str) -> String {
    // The first word all lower case (`url`, `maxLen`), the rest as in
    // exported names.
    let (first, rest) = name.split_once('-').unwrap_or((name, ""));
    let local = format!(
        "{}{}",
        first.to_lowercase(),
        if rest.is_empty() {
            String::new()
        } else {
            exported_name(rest)
        }
    );
    const RESERVED: &[&str] = &[
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "fallthrough",
        "for",
        "func",
        "go",
        "goto",
        "if",
        "import",
        "interface",
        "map",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "type",
        "var",
        "len",
        "string",
        "error",
        "cap",
        "new",
        "make",
        "copy",
        "append",
        "pins",
        "ret",
        "result",
        "self",
        "bool",
        "rows",
    ];
    if RESERVED.contains(&local.as_str()) {
        format!("{local}_")
    } else {
        local
    }
}

/// The Go package name of an interface: its name without dashes.
fn package_name(name: &str) -> String {
    name.replace('-', "")
}

/// The address `off` bytes past `addr`, as `cabi.Off(base, n)`: a call
/// rather than a sum, because gofmt spaces sums differently by context.
fn offset(addr: &str, off: usize) -> String {
    if off == 0 {
        return addr.to_string();
    }
    if let Some(inner) = addr
        .strip_prefix("cabi.Off(")
        .and_then(|a| a.strip_suffix(')'))
        && let Some((base, n)) = inner.rsplit_once(", ")
        && let Ok(n) = n.parse::<usize>()
    {
        return format!("cabi.Off({base}, {})", n + off);
    }
    format!("cabi.Off({addr}, {off})")
}

/// The Go type holding one flat core value.
fn flat_go(ty: WasmType) -> &'static str {
    match ty {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => "uint32",
        WasmType::I64 | WasmType::PointerOrI64 => "uint64",
        WasmType::F32 => "float32",
        WasmType::F64 => "float64",
    }
}

fn normalize(ty: WasmType) -> WasmType {
    match ty {
        WasmType::Pointer | WasmType::Length => WasmType::I32,
        WasmType::PointerOrI64 => WasmType::I64,
        other => other,
    }
}

fn int_bits(int: Int) -> usize {
    match int {
        Int::U8 => 8,
        Int::U16 => 16,
        Int::U32 => 32,
        Int::U64 => 64,
    }
}

mod flat;
mod memory;
mod packages;
mod types;

/// The memory primitives every generated package uses.
const CABI: &str = include_str!("cabi.go.txt");

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The committed Go bindings are what the generator writes today.
    #[test]
    fn committed_go_bindings_match_the_generator() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let (worlds, package_root) = super::super::GO_BINDINGS;
        let worlds: Vec<String> = worlds.iter().map(|w| w.to_string()).collect();
        let files = super::generate(&root.join("wit"), &worlds, package_root).unwrap();
        let dir = root.join("guest-connectors/go/wasmconnect/internal/wit");
        let mut committed = Vec::new();
        collect(&dir, &dir, &mut committed);
        let generated: Vec<&String> = files.keys().collect();
        assert_eq!(
            committed.iter().collect::<Vec<_>>(),
            generated,
            "the files in {} differ from the generator's; run \
             `wasmconnect-kit bindings go` (guest-connectors/go/README.md)",
            dir.display()
        );
        for (name, contents) in &files {
            let on_disk = std::fs::read_to_string(dir.join(name)).unwrap();
            assert!(
                on_disk == *contents,
                "{name} differs from the generator's output; run `wasmconnect-kit bindings go` \
                 (guest-connectors/go/README.md)"
            );
        }
    }

    fn collect(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                collect(base, &path, out);
            } else {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
        out.sort();
    }
}
