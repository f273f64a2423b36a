//! `wasmconnect-kit`: the build steps that connector authors outside Rust
//! need between their compiler and a component the worker loads.
//!
//! Rust guests come out of `cargo build --target wasm32-wasip2` as
//! components. C, Zig and Go produce a core module for WASI preview 1; this
//! tool supplies what `wit-bindgen` and `wasm-tools` would, pinned to the
//! same wasmtime release as the worker and built with the workspace, so a
//! fresh machine needs no separate 20-minute `cargo install`:
//!
//! - `bindings c`: C bindings for one world of `wit/` (header, glue, and the
//!   object file carrying the component type).
//! - `bindings go`: Go bindings for the worlds the Go kit serves (see
//!   [`go_bindings`]), written below `guest-connectors/go/wasmconnect/internal/wit`.
//! - `componentize`: embeds the world's type if the module lacks it (the
//!   world named, or the one its exports show), adapts
//!   WASI preview 1 imports with wasmtime's reactor adapter, and writes the
//!   component. `--go` first gives Go modules the two allocators they
//!   cannot write in Go (see [`go_adapter`]).

mod bindings;
mod componentize;
mod go_adapter;
mod go_bindings;
mod wit;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The worlds the Go kit's bindings cover, and the Go import path they
/// are generated under.
const GO_BINDINGS: (&[&str], &str) = (
    &[
        "source",
        "sink",
        "transform",
        "source-with-database",
        "sink-with-database",
    ],
    "wasmconnect/go/wasmconnect/internal/wit",
);

#[derive(Parser)]
#[command(name = "wasmconnect-kit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate guest bindings for one world.
    Bindings {
        #[command(subcommand)]
        language: Language,
    },
    /// Turn a core wasm module into a connector component.
    Componentize {
        /// The core module (wasm32-wasi / wasip1 output of the compiler).
        module: PathBuf,
        /// Directory of the WIT package (the repository's `wit/`).
        #[arg(long, default_value = "wit")]
        wit: PathBuf,
        /// World to embed when the module does not carry its type already:
        /// source, sink or transform (or a `-with-…` world). Without it, the
        /// world the module's exports and imports show.
        #[arg(long)]
        world: Option<String>,
        /// Give a Go module the allocators it cannot write in Go.
        #[arg(long)]
        go: bool,
        /// Where to write the component.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum Language {
    /// C (also used by Zig, through `zig translate-c`).
    C {
        /// Directory of the WIT package.
        #[arg(long, default_value = "wit")]
        wit: PathBuf,
        /// source, sink or transform.
        #[arg(long)]
        world: String,
        /// Directory to write `<world>.h`, `<world>.c` and
        /// `<world>_component_type.o` into.
        #[arg(long)]
        out_dir: PathBuf,
    },
    /// Go, for the standard toolchain's GOOS=wasip1 (the Go kit's
    /// `internal/wit` packages, for every world the kit serves).
    Go {
        /// Directory of the WIT package.
        #[arg(long, default_value = "wit")]
        wit: PathBuf,
        /// Directory to write the packages into (the kit's `internal/wit`).
        #[arg(long)]
        out_dir: PathBuf,
    },
}

fn main() {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Bindings {
            language:
                Language::C {
                    wit,
                    world,
                    out_dir,
                },
        } => bindings::c(&wit, &world, &out_dir),
        Command::Bindings {
            language: Language::Go { wit, out_dir },
        } => {
            let (worlds, root) = GO_BINDINGS;
            let worlds: Vec<String> = worlds.iter().map(|w| w.to_string()).collect();
            go_bindings::generate(&wit, &worlds, root).and_then(|files| {
                go_bindings::write(&files, &out_dir)?;
                println!("{}: {} files", out_dir.display(), files.len());
                Ok(())
            })
        }
        Command::Componentize {
            module,
            wit,
            world,
            go,
            output,
        } => componentize::run(&componentize::Request {
            module: &module,
            wit: &wit,
            world: world.as_deref(),
            go,
            output: &output,
        }),
    };
    if let Err(error) = outcome {
        eprintln!("wasmconnect-kit: {error:#}");
        std::process::exit(1);
    }
}
