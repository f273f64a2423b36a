#!/usr/bin/env bash
# Builds the Zig connectors into components:
#   bash guest-connectors/zig/build.sh OUT_DIR [DIR…]
# Without DIRs: the template and the example; with them, each DIR's Zig
# file becomes OUT_DIR/zig-<DIR name>.wasm.
# For each connector: C bindings for its world (wasmconnect-kit), the C
# kit's header translated into the Zig module `c` (zig translate-c), zig
# build-exe for wasm32-wasi (wasi-libc bundled with Zig), then
# wasmconnect-kit componentize.
#
# Needs: the ziglang wheel in the polyglot venv (scripts/setup-polyglot.sh) and the
# kit tool (WASMCONNECT_KIT, built by scripts/build-plugins.sh). The first
# build takes about 1.5 min while Zig builds wasi-libc into ~/.cache/zig.
source "$(dirname "$0")/../build-env.sh" zig "$@"
require_kit
ckit="$root/guest-connectors/c/kit"
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import ziglang' 2>/dev/null ||
  { echo "zig not found in $venv: run scripts/setup-polyglot.sh" >&2; exit 1; }
zig() { "$venv/bin/python" -m ziglang "$@"; }

# build NAME WORLD ZIG_SOURCE
build() {
  local name=$1 world=$2 source=$3
  local gen="$work/gen-$world" define="-DWC_${world^^}"
  mkdir -p "$gen"
  "$kit" bindings c --wit "$root/wit" --world "$world" --out-dir "$gen"
  zig translate-c -target wasm32-wasi -lc -I"$gen" -I"$ckit" "$define" \
    "$ckit/wasmconnect.h" >"$gen/c.zig"
  # C sources and flags come before the module they belong to (root).
  # --stack: Zig's default 16 MiB stack would count against every
  # instance's wasm.memory.bytes; 1 MiB is plenty for a connector.
  zig build-exe -target wasm32-wasi -O ReleaseSmall -fno-entry -rdynamic \
    -mexec-model=reactor --stack 1048576 -lc -I"$gen" -I"$ckit" "$define" \
    "$ckit/wasmconnect.c" "$gen/$world.c" "$gen/${world}_component_type.o" \
    --dep wasmconnect -Mroot="$source" \
    --dep c -Mwasmconnect="$here/kit/wasmconnect.zig" \
    -Mc="$gen/c.zig" \
    -femit-bin="$work/$name.core.wasm"
  "$kit" componentize "$work/$name.core.wasm" -o "$out/$name.wasm"
}

if [ $# -gt 1 ]; then
  # Your own connectors: the one .zig file of each DIR (or its main.zig), in
  # the world whose exports it defines.
  shift
  for dir in "$@"; do
    dir=$(cd "$dir" && pwd)
    sources=("$dir"/*.zig)
    source=${sources[0]}
    [ ${#sources[@]} -eq 1 ] || source="$dir/main.zig"
    [ -f "$source" ] || { echo "$dir: expected one .zig file, or a main.zig" >&2; exit 1; }
    if grep -q record_transform_apply "$source"; then world=transform
    elif grep -q sink_task_put "$source"; then world=sink
    elif grep -q source_task_poll "$source"; then world=source
    else echo "$source exports no apply, put or poll: which world is it?" >&2; exit 1
    fi
    build "zig-$(basename "$dir")" "$world" "$source"
  done
else
  build zig-template transform "$here/template/transform.zig"
  build zig-filter transform "$here/examples/filter/filter.zig"
fi
