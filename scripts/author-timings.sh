#!/usr/bin/env bash
# Times docs/authoring.md's path for each language, from a copied template
# to a RUNNING connector on a worker that has never seen it:
#   bash scripts/author-timings.sh [c zig go python javascript]
# For each language: copy the source template out of the repository (and,
# for Go, make it a module of its own), build it with the language's
# build.sh, upload the component over REST to a standalone worker with an
# empty plugin.path (the upload compiles it), create a connector and wait
# until the connector and its task are RUNNING. Prints one row per language.
#
# Needs what scripts/setup.sh and scripts/build-plugins.sh install and build
# (the toolchains, wasmconnect and wasmconnect-kit); the worker runs on the
# embedded dev broker, so no Kafka is needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/target}"
export WASMCONNECT_KIT="$target/debug/wasmconnect-kit"
worker="$target/debug/wasmconnect"
poly="${WASMCONNECT_POLYGLOT:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot}"
for tool in "$worker" "$WASMCONNECT_KIT"; do
  [ -x "$tool" ] || { echo "$tool is missing: run scripts/build-plugins.sh" >&2; exit 1; }
done
languages=("$@")
[ ${#languages[@]} -gt 0 ] || languages=(c zig go python javascript)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/wasmconnect-authoring.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$scratch/plugins" "$scratch/out"
cat > "$scratch/worker.properties" <<EOF
bootstrap.servers=embedded
listeners=http://127.0.0.1:$port
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=false
offset.storage.file.filename=$scratch/connect.offsets
plugin.path=$scratch/plugins
EOF
# A fresh artifact cache: every upload compiles, as on a worker that never
# saw the component.
XDG_CACHE_HOME="$scratch/cache" "$worker" standalone "$scratch/worker.properties" \
  > "$scratch/worker.log" 2>&1 &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null; rm -rf "$scratch"' EXIT
api="http://127.0.0.1:$port"

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

# waits up to $2 seconds for `curl $1` to print something containing $3
wait_for() {
  local deadline=$(( $(date +%s) + $2 ))
  until curl -sf "$1" 2>/dev/null | grep -q "$3"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "timed out waiting for $3 at $1; worker log:" >&2
      tail -n 30 "$scratch/worker.log" >&2
      exit 1
    fi
    sleep 0.05
  done
}
wait_for "$api/" 60 version

# The source template of each language, as docs/authoring.md copies it.
template() {
  case $1 in
    c | zig) echo "guest-connectors/$1/template/source" ;;
    python) echo "guest-connectors/python/templates/source" ;;
    go | javascript) echo "guest-connectors/$1/templates/source-template" ;;
  esac
}

rows=()
for lang in "${languages[@]}"; do
  app="$scratch/my-$lang-source"
  echo "[authoring] $lang: copy, build, upload, create, RUNNING" >&2
  t=$(now)
  cp -r "$(template "$lang")" "$app"
  if [ "$lang" = go ]; then
    export PATH="$poly/venv/bin:$PATH"
    go -C "$app" mod init example.com/my-source 2> "$scratch/go-mod.log" ||
      { cat "$scratch/go-mod.log" >&2; exit 1; }
    go -C "$app" mod edit -require=wasmconnect/go@v0.0.0 -replace="wasmconnect/go=$root/guest-connectors/go"
  fi
  copy=$(since "$t")
  t=$(now)
  bash "guest-connectors/$lang/build.sh" "$scratch/out" "$app" > "$scratch/build-$lang.log" 2>&1 ||
    { cat "$scratch/build-$lang.log" >&2; exit 1; }
  build=$(since "$t")
  component=$(ls -t "$scratch"/out/*.wasm | head -n1)
  size=$(( $(stat -c %s "$component") / 1024 ))
  t=$(now)
  code=$(curl -s -o "$scratch/upload-$lang.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/wasm' --data-binary "@$component" "$api/wasmconnect/plugins")
  [ "$code" = 201 ] || { echo "upload of $component answered $code: $(cat "$scratch/upload-$lang.json")" >&2; exit 1; }
  upload=$(since "$t")
  class=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["class"])' "$scratch/upload-$lang.json")
  t=$(now)
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' "$api/connectors/my-$lang/config" \
    -d "{\"connector.class\": \"$class\", \"topic\": \"my-$lang\", \"tasks.max\": \"1\"}"
  wait_for "$api/connectors/my-$lang/status" 120 '"tasks":\[{[^]]*"state":"RUNNING"'
  curl -sf "$api/connectors/my-$lang/status" | python3 -c '
import json, sys
status = json.load(sys.stdin)
sys.exit(status["connector"]["state"] != "RUNNING")' ||
    { echo "connector my-$lang is not RUNNING though its task is" >&2; exit 1; }
  running=$(since "$t")
  total=$(python3 -c 'import sys; print(f"{sum(map(float, sys.argv[1:])):.1f}")' "$copy" "$build" "$upload" "$running")
  rows+=("| $lang | $copy s | $build s | $size KB | $upload s | $running s | $total s |")
done

echo
echo "From a copied source template to a RUNNING connector (the upload compiles the component):"
echo "| language | copy | build | component | upload | create → RUNNING | total |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
