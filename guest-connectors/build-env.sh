# Sourced by guest-connectors/{c,zig,go}/build.sh as
#   source "$(dirname "$0")/../build-env.sh" LANGUAGE OUT_DIR
# Sets what every build needs:
#   here  the language's directory      root  the repository
#   out   OUT_DIR, created, absolute    kit   the wasmconnect-kit binary
#   venv  the polyglot toolchain venv   work  scratch space for LANGUAGE
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -n "${2:-}" ] || { echo "usage: $(basename "$here")/build.sh OUT_DIR" >&2; exit 2; }
out=$(mkdir -p "$2" && cd "$2" && pwd)
kit="${WASMCONNECT_KIT:?set WASMCONNECT_KIT to the wasmconnect-kit binary (scripts/build-plugins.sh builds it)}"
venv="${WASMCONNECT_POLYGLOT:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot}/venv"
work="${WASMCONNECT_POLYGLOT_BUILD:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot-build}/$1"
mkdir -p "$work"
