#!/usr/bin/env bash
# Builds JavaScript transforms into wasmconnect plugin components.
#
#   bash guest-connectors/javascript/build.sh OUT_DIR [APP_DIR …]
#
# Each APP_DIR holds an app.js exporting `plugin` and `recordTransform`
# (see template/app.js); it becomes OUT_DIR/js-<basename of APP_DIR>.wasm.
# Without APP_DIRs: the template and the examples (js-template.wasm,
# js-mask-field.wasm).
#
# Two steps per app: rolldown bundles app.js with what it imports (the kit in
# lib/), leaving the WIT imports (wasmconnect:…, wasi:…) to the component;
# componentize-js then embeds the bundle in SpiderMonkey against the
# repository's wit/, world `transform`. The http and fetch-event features
# are disabled: the worker does not provide wasi:http. Uses the tools in
# ${WASMCONNECT_POLYGLOT:-~/.cache/wasmconnect/polyglot}/node/node_modules/.bin;
# needs no network.
source "$(dirname "$0")/../build-env.sh" javascript "$@"
shift
apps=("$@")
if [ ${#apps[@]} -eq 0 ]; then
  apps=("$here/template" "$here/examples/mask-field")
fi
world="${WASMCONNECT_JS_WORLD:-transform}"

bin="$poly/node/node_modules/.bin"
for tool in componentize-js rolldown; do
  if [ ! -x "$bin/$tool" ]; then
    echo "error: $tool not found at $bin/$tool: run scripts/setup-polyglot.sh" >&2
    echo "  (or set WASMCONNECT_POLYGLOT to the directory holding node/ with componentize-js 0.23 and rolldown)" >&2
    exit 1
  fi
done
if ! command -v node >/dev/null; then
  echo "error: node (Node.js 18 or later) is not on PATH" >&2
  exit 1
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/wasmconnect-js.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Imports the component itself satisfies; anything else must be bundled.
externals=()
for id in wasmconnect:connector/{logging,context,offsets,files}@0.2.0 wasi:io/{poll,streams,error}@0.2.12; do
  externals+=(--external "$id")
done

for app in "${apps[@]}"; do
  app=$(cd "$app" && pwd)
  if [ ! -f "$app/app.js" ]; then
    echo "error: $app has no app.js" >&2
    exit 1
  fi
  name="js-$(basename "$app")"
  started=$(date +%s.%N)
  # The bundle is named after the plugin: stack traces then read
  # `js-mask-field.js:LINE`.
  "$bin/rolldown" "$app/app.js" --format esm --platform neutral \
    "${externals[@]}" --file "$stage/$name.js" >"$stage/log" 2>&1 || {
    cat "$stage/log" >&2
    echo "error: bundling $app/app.js failed" >&2
    exit 1
  }
  if grep -q UNRESOLVED_IMPORT "$stage/log"; then
    cat "$stage/log" >&2
    echo "error: $app/app.js imports something that is neither a file nor a WIT interface" >&2
    exit 1
  fi
  # componentize-js maps its working directory into the build sandbox:
  # run it in the stage, which holds only the bundle.
  (cd "$stage" && "$bin/componentize-js" "$name.js" --wit "$root/wit" --world-name "$world" \
    -d http fetch-event -o "$out/$name.wasm") >"$stage/log" 2>&1 || {
    cat "$stage/log" >&2
    echo "error: componentizing $app/app.js failed" >&2
    exit 1
  }
  size=$(du -k "$out/$name.wasm" | cut -f1)
  secs=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "built $out/$name.wasm (${size} KiB, ${secs}s)"
done
