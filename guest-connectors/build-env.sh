# Sourced by every guest-connectors/<language>/build.sh as
#   source "$(dirname "$0")/../build-env.sh" LANGUAGE OUT_DIR [DIR…]
# Sets what every build needs:
#   here  the language's directory      root  the repository
#   out   OUT_DIR, created, absolute    poly  the polyglot toolchains
#   venv  $poly/venv (PyPI toolchains)  work  scratch space for LANGUAGE
#   kit   the wasmconnect-kit binary, for the builds that call require_kit
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -n "${2:-}" ] || { echo "usage: $(basename "$here")/build.sh OUT_DIR [DIR…]" >&2; exit 2; }
out=$(mkdir -p "$2" && cd "$2" && pwd)
kit="${WASMCONNECT_KIT:-}"
poly="${WASMCONNECT_POLYGLOT:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot}"
venv="$poly/venv"
work="${WASMCONNECT_POLYGLOT_BUILD:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot-build}/$1"
mkdir -p "$work"

# C, Zig and Go need the kit tool for bindings and packaging.
require_kit() {
  [ -n "$kit" ] || {
    echo "set WASMCONNECT_KIT to the wasmconnect-kit binary (scripts/build-plugins.sh builds it)" >&2
    exit 1
  }
}
