//! Allocators for a Go module, written in wasm rather than in Go.
//!
//! A component needs two allocators from its main module, and neither can
//! be Go code:
//!
//! - `cabi_realloc_adapter`: the WASI preview 1 adapter keeps its state in
//!   memory it asks the main module for. Its first WASI call comes while
//!   Go's `_initialize` is still starting the runtime, so an allocator
//!   written in Go would re-enter a half-started runtime and trap; growing
//!   memory instead collides with Go's heap, which assumes it alone grows it.
//! - `cabi_realloc`: the host copies arguments and import results into
//!   guest memory through it, and the canonical ABI forbids an allocator
//!   from calling imports, which Go's allocator does (it reads the clock).
//!
//! The Go kit (package cabi, generated into
//! guest-connectors/go/wasmconnect/internal/wit/cabi by `bindings go`) reserves two
//! static arrays and describes them in a struct Go places in a data segment:
//! [`MARKER`], then the adapter arena's address and length, the argument
//! arena's address and length (each a little-endian u64), then the argument
//! arena's cursor, which Go resets to 0 when an export returns. This pass
//! finds the struct and appends two bump allocators over those arrays.
//! Running past an arena traps rather than corrupting Go's memory.

use std::borrow::Cow;

use anyhow::{Context, Result, bail};
use wasm_encoder::{
    CodeSection, ConstExpr, Encode, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, GlobalType, Instruction, MemArg, RawSection, TypeSection, ValType,
};
use wasmparser::{DataKind, Operator, Parser, Payload, TypeRef};

/// First bytes of the Go kit's arena descriptor.
pub const MARKER: &[u8; 32] = b"wasmconnect/go-abi-arenas/v1\0\0\0\0";

/// Where the descriptor says the arenas are.
#[derive(Debug, PartialEq)]
struct Arenas {
    adapter: Region,
    arguments: Region,
    /// Address of the u64 holding how much of `arguments` is in use.
    cursor: u32,
}

/// `[start, end)` in linear memory.
#[derive(Debug, PartialEq)]
struct Region {
    start: u32,
    end: u32,
}

/// Counts needed to give the new type, function and global their indices.
#[derive(Default)]
struct Layout {
    types: u32,
    imported_functions: u32,
    functions: u32,
    imported_globals: u32,
    globals: u32,
    arenas: Option<Arenas>,
}

/// Appends `cabi_realloc_adapter` and `cabi_realloc` to a Go module.
pub fn add_allocators(module: &[u8]) -> Result<Vec<u8>> {
    let layout = survey(module)?;
    let Some(arenas) = &layout.arenas else {
        bail!(
            "the module has no arena descriptor: a Go connector must import the wasmconnect Go \
             kit, which reserves its allocator arenas (no data segment holds {:?})",
            String::from_utf8_lossy(MARKER).trim_end_matches('\0')
        );
    };
    if layout.globals == 0 {
        bail!("the module defines no globals; it does not look like Go output");
    }
    let type_index = layout.types;
    let first_function = layout.imported_functions + layout.functions;
    let adapter_cursor = layout.imported_globals + layout.globals;

    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.context("malformed module")?;
        if let Payload::CustomSection(custom) = &payload {
            // Its range covers the contents after the name only.
            out.section(&wasm_encoder::CustomSection {
                name: custom.name().into(),
                data: custom.data().into(),
            });
            continue;
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let data = &module[range.start as usize..range.end as usize];
        let extra = match id {
            1 => {
                let mut types = TypeSection::new();
                types.ty().function([ValType::I32; 4], [ValType::I32]);
                Some(entries(&types, 1))
            }
            3 => {
                let mut functions = FunctionSection::new();
                functions.function(type_index);
                functions.function(type_index);
                Some(entries(&functions, 2))
            }
            6 => {
                let mut globals = GlobalSection::new();
                globals.global(
                    GlobalType {
                        val_type: ValType::I32,
                        mutable: true,
                        shared: false,
                    },
                    &ConstExpr::i32_const(arenas.adapter.start as i32),
                );
                Some(entries(&globals, 1))
            }
            7 => {
                let mut exports = ExportSection::new();
                exports.export("cabi_realloc_adapter", ExportKind::Func, first_function);
                exports.export("cabi_realloc", ExportKind::Func, first_function + 1);
                Some(entries(&exports, 2))
            }
            10 => {
                let mut code = CodeSection::new();
                code.function(&bump_allocator(
                    &arenas.adapter,
                    Cursor::Global(adapter_cursor),
                ));
                code.function(&bump_allocator(
                    &arenas.arguments,
                    Cursor::Memory(arenas.cursor),
                ));
                Some(entries(&code, 2))
            }
            _ => None,
        };
        let data: Cow<[u8]> = match extra {
            Some((count, extra)) => Cow::Owned(append_entries(data, count, &extra)?),
            None => Cow::Borrowed(data),
        };
        out.section(&RawSection { id, data: &data });
    }
    let out = out.finish();
    wasmparser::Validator::new()
        .validate_all(&out)
        .context("the module with the allocators does not validate")?;
    Ok(out)
}

/// Reads the counts and finds the arena descriptor.
fn survey(module: &[u8]) -> Result<Layout> {
    let mut layout = Layout::default();
    let mut image = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        match payload.context("malformed module")? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    if group?.types().len() != 1 {
                        bail!(
                            "the module uses recursive type groups; it does not look like Go output"
                        );
                    }
                    layout.types += 1;
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import?.ty {
                        TypeRef::Func(_) => layout.imported_functions += 1,
                        TypeRef::Global(_) => layout.imported_globals += 1,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => layout.functions = reader.count(),
            Payload::GlobalSection(reader) => layout.globals = reader.count(),
            Payload::DataSection(reader) => {
                for segment in reader {
                    let segment = segment?;
                    let DataKind::Active { offset_expr, .. } = segment.kind else {
                        continue;
                    };
                    if let Some(Operator::I32Const { value }) = offset_expr
                        .get_operators_reader()
                        .into_iter()
                        .next()
                        .transpose()?
                    {
                        image.push((value as u32, segment.data));
                    }
                }
            }
            _ => {}
        }
    }
    layout.arenas = find_arenas(&MemoryImage(image));
    Ok(layout)
}

/// Linear memory as the active data segments initialise it: `(address,
/// bytes)` pairs. Go's linker leaves runs of zeros out of its segments, so a
/// value may span segments or fall in a gap (which reads as zero).
struct MemoryImage<'a>(Vec<(u32, &'a [u8])>);

impl MemoryImage<'_> {
    fn byte(&self, address: u32) -> u8 {
        self.0
            .iter()
            .find_map(|(base, data)| {
                let index = usize::try_from(address.checked_sub(*base)?).ok()?;
                data.get(index).copied()
            })
            .unwrap_or(0)
    }

    fn u64(&self, address: u32) -> Option<u64> {
        let mut bytes = [0u8; 8];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = self.byte(address.checked_add(i as u32)?);
        }
        Some(u64::from_le_bytes(bytes))
    }

    /// The address of the first occurrence of `needle` inside one segment.
    fn find(&self, needle: &[u8]) -> Option<u32> {
        self.0.iter().find_map(|(base, data)| {
            let at = data.windows(needle.len()).position(|w| w == needle)?;
            base.checked_add(u32::try_from(at).ok()?)
        })
    }
}

/// The arenas the Go kit's descriptor names, if the module has one.
fn find_arenas(image: &MemoryImage) -> Option<Arenas> {
    let descriptor = image.find(MARKER)?;
    let fields = descriptor.checked_add(MARKER.len() as u32)?;
    let word = |index: u32| -> Option<u32> { u32::try_from(image.u64(fields + index * 8)?).ok() };
    let region = |address: u32, length: u32| -> Option<Region> {
        if address == 0 || length == 0 {
            return None;
        }
        Some(Region {
            start: address,
            end: address.checked_add(length)?,
        })
    };
    Some(Arenas {
        adapter: region(word(0)?, word(1)?)?,
        arguments: region(word(2)?, word(3)?)?,
        cursor: fields.checked_add(4 * 8)?,
    })
}

/// Where a bump allocator keeps its next free address.
enum Cursor {
    /// A wasm global holding the address itself.
    Global(u32),
    /// A little-endian word at this address holding the bytes in use
    /// (so that Go can reset it).
    Memory(u32),
}

/// `(old_ptr, old_size, align, new_size) -> ptr` over `region`. Traps on
/// a reallocation (neither the adapter nor the host's lowering asks for
/// one) and when the region is full.
fn bump_allocator(region: &Region, cursor: Cursor) -> Function {
    use Instruction as I;
    let (old_ptr, align, new_size, ptr) = (0, 2, 3, 4);
    let word = MemArg {
        offset: 0,
        align: 2,
        memory_index: 0,
    };
    let mut f = Function::new([(1, ValType::I32)]);
    let mut emit = |instructions: &[I]| {
        for instruction in instructions {
            f.instruction(instruction);
        }
    };
    emit(&[
        I::LocalGet(old_ptr),
        I::If(wasm_encoder::BlockType::Empty),
        I::Unreachable,
        I::End,
    ]);
    // next free address
    match cursor {
        Cursor::Global(global) => emit(&[I::GlobalGet(global)]),
        Cursor::Memory(address) => emit(&[
            I::I32Const(region.start as i32),
            I::I32Const(address as i32),
            I::I32Load(word),
            I::I32Add,
        ]),
    }
    // ptr = (next + align - 1) & -align
    emit(&[
        I::LocalGet(align),
        I::I32Add,
        I::I32Const(1),
        I::I32Sub,
        I::I32Const(0),
        I::LocalGet(align),
        I::I32Sub,
        I::I32And,
        I::LocalSet(ptr),
        // trap when ptr + new_size runs past the region (unsigned)
        I::LocalGet(ptr),
        I::LocalGet(new_size),
        I::I32Add,
        I::I32Const(region.end as i32),
        I::I32GtU,
        I::If(wasm_encoder::BlockType::Empty),
        I::Unreachable,
        I::End,
    ]);
    match cursor {
        Cursor::Global(global) => emit(&[
            I::LocalGet(ptr),
            I::LocalGet(new_size),
            I::I32Add,
            I::GlobalSet(global),
        ]),
        Cursor::Memory(address) => emit(&[
            I::I32Const(address as i32),
            I::LocalGet(ptr),
            I::LocalGet(new_size),
            I::I32Add,
            I::I32Const(region.start as i32),
            I::I32Sub,
            I::I32Store(word),
        ]),
    }
    emit(&[I::LocalGet(ptr), I::End]);
    f
}

/// The entry bytes of a section holding `count` new entries, without its
/// size and count prefixes.
fn entries(section: &impl Encode, count: u32) -> (u32, Vec<u8>) {
    let mut bytes = Vec::new();
    section.encode(&mut bytes);
    let mut reader = wasmparser::BinaryReader::new(&bytes, 0);
    // Both prefixes were just written by wasm-encoder, so they parse.
    let _size = reader.read_var_u32().expect("section size");
    let _count = reader.read_var_u32().expect("section count");
    (count, bytes[reader.current_position()..].to_vec())
}

/// A section's contents with its count raised by `added` and `entries`
/// appended.
fn append_entries(section: &[u8], added: u32, entries: &[u8]) -> Result<Vec<u8>> {
    let mut reader = wasmparser::BinaryReader::new(section, 0);
    let count = reader.read_var_u32().context("malformed section count")?;
    let mut out = Vec::with_capacity(section.len() + entries.len() + 5);
    (count + added).encode(&mut out);
    out.extend_from_slice(&section[reader.current_position()..]);
    out.extend_from_slice(entries);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(words: [u64; 4]) -> Vec<u8> {
        let mut data = vec![7u8; 8];
        data.extend_from_slice(MARKER);
        for word in words {
            data.extend_from_slice(&word.to_le_bytes());
        }
        data
    }

    #[test]
    fn finds_the_arenas_inside_a_segment() {
        let data = descriptor([5000, 64, 9000, 128]);
        let arenas = find_arenas(&MemoryImage(vec![(1000, &data)])).unwrap();
        assert_eq!(
            arenas,
            Arenas {
                adapter: Region {
                    start: 5000,
                    end: 5064
                },
                arguments: Region {
                    start: 9000,
                    end: 9128
                },
                cursor: 1000 + 8 + 32 + 32,
            }
        );
    }

    #[test]
    fn reads_a_descriptor_split_across_segments_with_a_gap() {
        // As Go's linker emits it: the zeros inside a length are left out.
        let data = descriptor([5000, 1 << 24, 9000, 1 << 24]);
        let split = 8 + 32 + 8 + 4;
        let (head, tail) = data.split_at(split);
        let tail = &tail[4..];
        let image = MemoryImage(vec![(1000, head), (1000 + split as u32 + 4, tail)]);
        let arenas = find_arenas(&image).unwrap();
        assert_eq!(
            arenas.adapter,
            Region {
                start: 5000,
                end: 5000 + (1 << 24)
            }
        );
        assert_eq!(
            arenas.arguments,
            Region {
                start: 9000,
                end: 9000 + (1 << 24)
            }
        );
    }

    #[test]
    fn a_module_without_the_descriptor_has_no_arenas() {
        assert_eq!(
            find_arenas(&MemoryImage(vec![(0, b"just some go data")])),
            None
        );
        // A descriptor whose addresses are missing or do not fit in 32 bits
        // is not one either.
        assert_eq!(find_arenas(&MemoryImage(vec![(0, MARKER)])), None);
        let data = descriptor([1 << 40, 1, 2, 3]);
        assert_eq!(find_arenas(&MemoryImage(vec![(0, &data)])), None);
    }

    #[test]
    fn appending_raises_the_count() {
        let section = [2u8, 0xaa, 0xbb];
        assert_eq!(
            append_entries(&section, 2, &[0xcc, 0xdd]).unwrap(),
            [4, 0xaa, 0xbb, 0xcc, 0xdd]
        );
    }
}
