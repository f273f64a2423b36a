#!/usr/bin/env bash
# Builds the C connectors into components:
#   bash guest-connectors/c/build.sh OUT_DIR [DIR…]
# Without DIRs: the templates and the examples; with them, each DIR's .c
# files become OUT_DIR/c-<DIR name>.wasm.
# For each connector: C bindings for its world (wasmconnect-kit), clang for
# wasm32-wasi against Debian's wasi-libc, then wasmconnect-kit componentize
# (WASI preview 1 adapted to preview 2).
#
# Needs: clang, lld, wasi-libc, libclang-rt-14-dev-wasm32 (scripts/setup-polyglot.sh
# installs them) and the kit tool (WASMCONNECT_KIT, built by
# scripts/build-plugins.sh).
source "$(dirname "$0")/../build-env.sh" c "$@"
require_kit
command -v clang >/dev/null || { echo "clang not found: run scripts/setup-polyglot.sh" >&2; exit 1; }

# build NAME WORLD SOURCE...
build() {
  local name=$1 world=$2
  shift 2
  local gen="$work/gen-$world"
  mkdir -p "$gen"
  "$kit" bindings c --wit "$root/wit" --world "$world" --out-dir "$gen"
  local cc=(clang --target=wasm32-wasi --sysroot=/usr -O2 -I "$gen" -I "$here/kit")
  local strict=(-Wall -Wextra -Werror -Wno-unused-parameter)
  # Warnings are errors in our code, not in the generated bindings. The
  # connector defines its world itself (#define WC_SOURCE …); the kit's
  # helpers are compiled for the same world.
  "${cc[@]}" -c -o "$work/$name.bindings.o" "$gen/$world.c"
  local kit_objects=()
  for src in "$here"/kit/*.c; do
    local obj="$work/$name.$(basename "$src" .c).o"
    "${cc[@]}" "${strict[@]}" -DWC_"${world^^}" -c -o "$obj" "$src"
    kit_objects+=("$obj")
  done
  # --strip-debug: Debian's wasi-libc carries DWARF that would triple the size.
  "${cc[@]}" "${strict[@]}" -mexec-model=reactor -Wl,--strip-debug -o "$work/$name.core.wasm" "$@" \
    "${kit_objects[@]}" "$work/$name.bindings.o" "$gen/${world}_component_type.o"
  "$kit" componentize "$work/$name.core.wasm" -o "$out/$name.wasm"
}

if [ $# -gt 1 ]; then
  # Your own connectors: every .c file of each DIR, in the world its
  # sources name with #define WC_SOURCE / WC_SINK / WC_TRANSFORM.
  shift
  for dir in "$@"; do
    dir=$(cd "$dir" && pwd)
    world=$(grep -ho '^#define WC_\(SOURCE\|SINK\|TRANSFORM\)' "$dir"/*.c | head -n1 |
      sed 's/#define WC_//' | tr '[:upper:]' '[:lower:]')
    [ -n "$world" ] ||
      { echo "$dir: no .c file says #define WC_SOURCE, WC_SINK or WC_TRANSFORM" >&2; exit 1; }
    build "c-$(basename "$dir")" "$world" "$dir"/*.c
  done
else
  build c-source-template source "$here/template/source/connector.c"
  build c-sink-template sink "$here/template/sink/connector.c"
  build c-transform-template transform "$here/template/transform/connector.c"
  build c-csv-source source "$here/examples/csv-source/csv_source.c"
  build c-csv-sink sink "$here/examples/csv-sink/csv_sink.c"
  build c-redact transform "$here/examples/redact/redact.c"
fi
