#!/usr/bin/env bash
# Builds Python connectors into wasmconnect plugin components.
#
#   bash guest-connectors/python/build.sh OUT_DIR [APP_DIR …]
#
# Each APP_DIR holds an app.py ending in one of
#   Plugin, Connector, SinkTask = wc.export_sink(...)         (world sink)
#   Plugin, Connector, SourceTask = wc.export_source(...)     (world source)
#   Plugin, RecordTransform = wc.export_transform(...)        (world transform)
# and becomes OUT_DIR/python-<basename of APP_DIR>.wasm (templates/<role>
# becomes python-<role>-template.wasm). A file `world` in APP_DIR names
# another world of wit/connector.wit, e.g. `sink-with-database` to reach
# databases or `source-with-http` for outbound HTTP.
# Without APP_DIRs: the three templates and every example. Uses
# componentize-py from the venv at
# ${WASMCONNECT_POLYGLOT:-~/.cache/wasmconnect/polyglot}/venv and the
# repository's wit/; needs no network.
source "$(dirname "$0")/../build-env.sh" python "$@"
shift
apps=("$@")
if [ ${#apps[@]} -eq 0 ]; then
  apps=("$here"/templates/*/ "$here"/examples/*/)
fi

cpy="$venv/bin/componentize-py"
if [ ! -x "$cpy" ]; then
  echo "error: componentize-py not found at $cpy: run scripts/setup-polyglot.sh" >&2
  echo "  (or set WASMCONNECT_POLYGLOT to the directory holding a venv with componentize-py 0.25)" >&2
  exit 1
fi

# Only the kit goes on the Python path beside the app: componentize-py
# bundles what it finds there, so stage a clean copy (no caches, no tests).
stage=$(mktemp -d "${TMPDIR:-/tmp}/wasmconnect-python.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/kit/wasmconnect_kit"
cp "$here"/wasmconnect_kit/*.py "$stage/kit/wasmconnect_kit/"

for app in "${apps[@]}"; do
  app=$(cd "$app" && pwd)
  if [ ! -f "$app/app.py" ]; then
    echo "error: $app has no app.py" >&2
    exit 1
  fi
  name="python-$(basename "$app")"
  if [ "$(basename "$(dirname "$app")")" = templates ]; then
    name="$name-template"
  fi
  # The role's plain world, from the export call the app ends with.
  if grep -q 'export_source(' "$app/app.py"; then
    world=source
  elif grep -q 'export_transform(' "$app/app.py"; then
    world=transform
  elif grep -q 'export_sink(' "$app/app.py"; then
    world=sink
  else
    echo "error: $app/app.py calls none of wc.export_sink, wc.export_source, wc.export_transform" >&2
    exit 1
  fi
  if [ -f "$app/world" ]; then
    world=$(tr -d '[:space:]' <"$app/world")
    # A name, not options or paths: the file's content reaches the command line.
    if ! [[ "$world" =~ ^[a-z][a-z0-9-]*$ ]]; then
      echo "error: $app/world must hold a world name such as sink-with-database, not '$world'" >&2
      exit 1
    fi
  fi
  echo "building $name (world $world)…"
  started=$(date +%s)
  "$cpy" -d "$root/wit" -w "$world" componentize app \
    -p "$app" -p "$stage/kit" -o "$out/$name.wasm" >"$stage/log" 2>&1 || {
    cat "$stage/log" >&2
    echo "error: building $app failed" >&2
    exit 1
  }
  size=$(du -k "$out/$name.wasm" | cut -f1)
  echo "built $out/$name.wasm (${size} KiB, $(( $(date +%s) - started ))s)"
done
