#!/usr/bin/env bash
# Builds the Zig connectors into components:
#   bash guest-connectors/zig/build.sh OUT_DIR [DIR…]
# Without DIRs: the three templates and the examples; with them, each DIR's
# Zig file becomes OUT_DIR/zig-<DIR name>.wasm.
# Per world, once: C bindings (wasmconnect-kit) translated into the Zig
# module `c` (zig translate-c). Per connector: zig build-exe for
# wasm32-wasi (wasi-libc bundled with Zig) with the kit, then
# wasmconnect-kit componentize.
#
# Needs: the ziglang wheel in the polyglot venv (scripts/setup-polyglot.sh) and the
# kit tool (WASMCONNECT_KIT, built by scripts/build-plugins.sh). The first
# build takes about 1.5 min while Zig builds wasi-libc into ~/.cache/zig.
source "$(dirname "$0")/../build-env.sh" zig "$@"
require_kit
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import ziglang' 2>/dev/null ||
  { echo "zig not found in $venv: run scripts/setup-polyglot.sh" >&2; exit 1; }
zig() { "$venv/bin/python" -m ziglang "$@"; }

# prepare WORLD: the generated bindings and their Zig translation, once
# per world and run.
declare -A prepared=()
prepare() {
  local world=$1 gen="$work/gen-$1"
  [ -n "${prepared[$world]:-}" ] && return
  mkdir -p "$gen"
  "$kit" bindings c --wit "$root/wit" --world "$world" --out-dir "$gen"
  zig translate-c -target wasm32-wasi -lc -I"$gen" "$gen/$world.h" >"$gen/c.zig"
  prepared[$world]=1
}

# build NAME WORLD ZIG_SOURCE
build() {
  local name=$1 world=$2 source=$3 gen="$work/gen-$2"
  prepare "$world"
  echo "zig: $name ($world)"
  # C sources come before the module they belong to (root). --stack: Zig's
  # default 16 MiB stack would count against every instance's
  # wasm.memory.bytes; 1 MiB is plenty for a connector.
  zig build-exe -target wasm32-wasi -O ReleaseSmall -fno-entry -rdynamic \
    -mexec-model=reactor --stack 1048576 -lc -I"$gen" \
    "$gen/$world.c" "$gen/${world}_component_type.o" \
    --dep wasmconnect -Mroot="$source" \
    --dep c -Mwasmconnect="$here/kit/wasmconnect.zig" \
    -Mc="$gen/c.zig" \
    -femit-bin="$work/$name.core.wasm"
  "$kit" componentize "$work/$name.core.wasm" -o "$out/$name.wasm"
}

# The world a connector's source file exports: the kit's export call, or
# (for connectors written over the raw bindings) the C export it defines.
world_of() {
  if grep -Eq 'exportTransform|record_transform_apply' "$1"; then echo transform
  elif grep -Eq 'exportSink|sink_task_put' "$1"; then echo sink
  elif grep -Eq 'exportSource|source_task_poll' "$1"; then echo source
  else echo "$1 exports no source, sink or transform (wc.exportSource, wc.exportSink, wc.exportTransform)" >&2; return 1
  fi
}

if [ $# -gt 1 ]; then
  # Your own connectors: the one .zig file of each DIR (or its main.zig).
  shift
  dirs=("$@")
else
  dirs=("$here"/template/{source,sink,transform} "$here"/examples/{filter,lines-source,file-sink})
fi
for dir in "${dirs[@]}"; do
  dir=$(cd "$dir" && pwd)
  sources=("$dir"/*.zig)
  source=${sources[0]}
  [ ${#sources[@]} -eq 1 ] || source="$dir/main.zig"
  [ -f "$source" ] || { echo "$dir: expected one .zig file, or a main.zig" >&2; exit 1; }
  world=$(world_of "$source")
  name=$(basename "$dir")
  # The bundled templates are zig-<role>-template.
  [ "$dir" = "$here/template/$name" ] && name="$name-template"
  build "zig-$name" "$world" "$source"
done
