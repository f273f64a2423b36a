#!/usr/bin/env bash
# Builds JavaScript connectors and transforms into wasmconnect plugin components.
#
#   bash guest-connectors/javascript/build.sh OUT_DIR [APP_DIR …]
#
# Each APP_DIR holds an app.js exporting a role's interfaces (see
# templates/): it becomes OUT_DIR/js-<basename of APP_DIR>.wasm. Without
# APP_DIRs: the three templates and the examples.
#
# Two steps per app: rolldown bundles app.js with what it imports (the kit in
# lib/), leaving the WIT imports (wasmconnect:…, wasi:…) to the component;
# componentize-js then embeds the bundle in SpiderMonkey against the
# repository's wit/. The world comes from the bundle itself:
#   * its exports give the role: `sourceTask` → source, `sinkTask` → sink,
#     `recordTransform` → transform;
#   * importing lib/db.js (wasmconnect:database/sql) adds the database
#     capability: source-with-database, sink-with-database;
#   * a file named `world` in APP_DIR (one line, e.g. `sink-with-http`)
#     names the world instead; outbound `fetch` needs one, since fetch is a
#     global that no import reveals. Its role must match the exports.
# Sources and sinks are built against a world of their own that adds
# wasi:clocks/monotonic-clock (which componentize-js's runtime imports
# anyway) so that sleepUnlessStopped can wait. The http and fetch-event
# features are disabled except for the *-with-http worlds. Uses the tools in
# ${WASMCONNECT_POLYGLOT:-~/.cache/wasmconnect/polyglot}/node/node_modules/.bin;
# needs no network.
source "$(dirname "$0")/../build-env.sh" javascript "$@"
shift
apps=("$@")
if [ ${#apps[@]} -eq 0 ]; then
  apps=("$here"/templates/*-template "$here"/examples/*/)
fi

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

# The repository's WIT plus, in the same package, the worlds sources and
# sinks are built for: each base world and the monotonic clock.
mkdir -p "$stage/wit"
ln -s "$root/wit/connector.wit" "$stage/wit/connector.wit"
ln -s "$root/wit/deps" "$stage/wit/deps"
{
  echo 'package wasmconnect:connector@0.2.0;'
  for w in source sink source-with-database sink-with-database source-with-http sink-with-http; do
    echo "world js-$w { include $w; import wasi:clocks/monotonic-clock@0.2.12; }"
  done
} >"$stage/wit/javascript-worlds.wit"

# `wasmconnect` and `wasmconnect/…` name the kit wherever the app lives.
cat >"$stage/tsconfig.json" <<EOF
{ "compilerOptions": { "paths": {
  "wasmconnect": ["$here/lib/wasmconnect.js"], "wasmconnect/*": ["$here/lib/*"] } } }
EOF

# Imports the component itself satisfies; anything else must be bundled.
externals=()
for id in wasmconnect:connector/{logging,context,offsets,files,errant-records}@0.2.0 \
  wasmconnect:database/sql@0.1.0 wasi:io/{poll,streams,error}@0.2.12 wasi:clocks/monotonic-clock@0.2.12; do
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
  "$bin/rolldown" "$app/app.js" --format esm --platform neutral --tsconfig "$stage/tsconfig.json" \
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
  bundle="$stage/$name.js"
  exports=$(grep -E '^export \{' "$bundle" | tr -d '{},;' || true)
  role=""
  for candidate in sourceTask:source sinkTask:sink recordTransform:transform; do
    if [[ " $exports " == *" ${candidate%%:*} "* ]]; then
      [ -z "$role" ] || { echo "error: $app/app.js exports the interfaces of more than one role ($exports)" >&2; exit 1; }
      role=${candidate#*:}
    fi
  done
  [ -n "$role" ] || {
    echo "error: $app/app.js exports none of sourceTask, sinkTask, recordTransform (use defineSource, defineSink or defineTransform)" >&2
    exit 1
  }
  if [ -f "$app/world" ]; then
    world=$(tr -d '[:space:]' <"$app/world")
    case "$world" in
      "$role" | "$role-with-database" | "$role-with-http") ;;
      *) echo "error: $app/world says '$world', but app.js exports a $role ($role, $role-with-database or $role-with-http)" >&2; exit 1 ;;
    esac
  elif grep -Eq "from [\"']wasmconnect:database/sql@0.1.0[\"']" "$bundle"; then
    world="$role-with-database"
  else
    world="$role"
  fi
  [ "$role" = transform ] && [ "$world" != transform ] && {
    echo "error: a transform cannot use the $world world" >&2
    exit 1
  }
  disabled=(-d http fetch-event)
  [[ "$world" == *-with-http ]] && disabled=(-d fetch-event)
  built_world=$world
  [ "$role" = transform ] || built_world="js-$world"
  # componentize-js maps its working directory into the build sandbox:
  # run it in the stage, which holds only the bundle and the WIT.
  (cd "$stage" && "$bin/componentize-js" "$name.js" --wit "$stage/wit" --world-name "$built_world" \
    "${disabled[@]}" -o "$out/$name.wasm") >"$stage/log" 2>&1 || {
    cat "$stage/log" >&2
    echo "error: componentizing $app/app.js (world $world) failed" >&2
    exit 1
  }
  size=$(du -k "$out/$name.wasm" | cut -f1)
  secs=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "built $out/$name.wasm ($world, ${size} KiB, ${secs}s)"
done
