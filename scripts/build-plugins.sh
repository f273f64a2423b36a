#!/usr/bin/env bash
# Builds every bundled plugin (each cdylib crate under guest-connectors/
# for wasm32-wasip2, then, without --rust-only, the C, Zig, Go, Python and
# JavaScript connectors) and puts the components into:
#   build/plugins/<crate-name>.wasm   (override with WASMCONNECT_PLUGIN_DIR)
#   build/polyglot/<language>-<name>.wasm   (WASMCONNECT_POLYGLOT_PLUGIN_DIR)
#   build/test-connectors/<crate-name>.wasm for the test-only connectors
#     under guest-connectors/testing/ (WASMCONNECT_TEST_CONNECTOR_DIR), so a
#     user's `GET /connector-plugins` never lists them
# Each crate is built on its own so that it gets exactly one WIT world.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${WASMCONNECT_PLUGIN_DIR:-$root/build/plugins}"
# Keep build output outside the clone so repeated runs reuse it.
export CARGO_TARGET_DIR="${WASMCONNECT_GUEST_TARGET:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/guest-target}"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi

test_connectors="${WASMCONNECT_TEST_CONNECTOR_DIR:-$root/build/test-connectors}"
mkdir -p "$out" "$test_connectors"
# Earlier builds put the test-only connectors beside the bundled ones.
rm -f "$out"/misbehaving-*.wasm
cd "$root/guest-connectors"
mapfile -t crates < <(grep -l 'crate-type = \["cdylib"\]' -r --include=Cargo.toml . | xargs -n1 dirname | sort)
for dir in "${crates[@]}"; do
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n1)
  dest="$out"
  case "$dir" in ./testing/*) dest="$test_connectors" ;; esac
  echo "building plugin $name ($dir)"
  cargo build --quiet --release -p "$name"
  cp "$CARGO_TARGET_DIR/wasm32-wasip2/release/${name//-/_}.wasm" "$dest/$name.wasm"
done

# Connectors in other languages (see each guest-connectors/<language>/README.md),
# unless only the Rust ones are wanted (the quickstart needs nothing else,
# and their toolchains come from scripts/setup-polyglot.sh).
# C, Zig and Go need the kit tool for bindings and component packaging.
if [ "${1:-}" != "--rust-only" ]; then
  host_target="${CARGO_TARGET_DIR_HOST:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/target}"
  (cd "$root" && CARGO_TARGET_DIR="$host_target" cargo build --quiet --locked -p wasmconnect-kit)
  export WASMCONNECT_KIT="$host_target/debug/wasmconnect-kit"
  # They go to a directory of their own: the Python and JavaScript components
  # embed an interpreter (12-18 MB) and take seconds to compile the first
  # time, which a worker that does not use them should not pay at start-up.
  polyglot_out="${WASMCONNECT_POLYGLOT_PLUGIN_DIR:-$root/build/polyglot}"
  mkdir -p "$polyglot_out"
  for language in c zig go python javascript; do
    echo "building $language plugins"
    bash "$root/guest-connectors/$language/build.sh" "$polyglot_out"
  done
fi

# Test-only artifacts, kept out of the plugin directory: a higher-version
# build of file-source (for upgrade tests) and a component of the wrong
# world (for upload refusals).
test_out="${WASMCONNECT_TEST_PLUGIN_DIR:-$root/build/test-plugins}"
mkdir -p "$test_out"
echo "building test artifacts into $test_out"
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-v2" WASMCONNECT_PLUGIN_VERSION=2.0.0 \
  cargo build --quiet --release -p file-source
cp "$CARGO_TARGET_DIR-v2/wasm32-wasip2/release/file_source.wasm" "$test_out/file-source-2.0.0.wasm"
cargo build --quiet --release -p not-a-plugin
cp "$CARGO_TARGET_DIR/wasm32-wasip2/release/not-a-plugin.wasm" "$test_out/not-a-plugin.wasm"
ls -l "$out" ${polyglot_out:+"$polyglot_out"} "$test_connectors" "$test_out"
