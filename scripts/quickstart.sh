#!/usr/bin/env bash
# The quickstart: builds the worker and the two file connectors (nothing
# else), starts a standalone worker on the embedded dev broker with Kafka's
# sample configs (config/), feeds lines into test.txt while test.sink.txt
# grows beside it, then leaves the worker running with its REST API and
# console to try until Ctrl-C.
#   QUICKSTART_SECONDS   how long to feed test.txt (default 10)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${QUICKSTART_SECONDS:-10}"
case "$seconds" in '' | *[!0-9]*) echo "QUICKSTART_SECONDS must be a whole number of seconds, not '$seconds'" >&2; exit 2 ;; esac
port=8083
started=$(date +%s)
step() { printf '\n==> [%3ds] %s\n' "$(( $(date +%s) - started ))" "$*"; }

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  step "adding the wasm32-wasip2 target (rustup, about 30 s)"
  rustup target add wasm32-wasip2
fi

# A first build compiles a few hundred crates; cargo prints each one (with a
# progress bar on a terminal), so the wait is never silent.
if [ -x "$CARGO_TARGET_DIR/debug/wasmconnect" ]; then
  step "1/3 building the worker (up to date in seconds; after a change, a minute or two)"
else
  step "1/3 building the worker (first build: about 8 minutes on 2 cores; later builds take seconds)"
fi
cargo build --locked -p wasmconnect --bin wasmconnect

# Only the two connectors the sample configs name: each is its own
# component, built on its own so that it gets exactly one WIT world.
step "2/3 building the FileStream connectors (first build: about 1 minute; later builds take seconds)"
mkdir -p build/plugins
for crate in file-source file-sink; do
  echo "    $crate"
  (cd guest-connectors && CARGO_TARGET_DIR="${WASMCONNECT_GUEST_TARGET:-$cache/guest-target}" \
    cargo build --locked --release -p "$crate")
  cp "${WASMCONNECT_GUEST_TARGET:-$cache/guest-target}/wasm32-wasip2/release/${crate//-/_}.wasm" \
    "build/plugins/$crate.wasm"
done

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is in use (another worker or Kafka Connect?); stop it and run the quickstart again" >&2
  exit 1
fi

step "3/3 starting the worker: wasmconnect standalone config/connect-standalone.properties config/connect-file-source.properties config/connect-file-sink.properties"
rm -f test.txt test.sink.txt /tmp/connect.offsets
touch test.txt
"$CARGO_TARGET_DIR/debug/wasmconnect" standalone config/connect-standalone.properties \
  config/connect-file-source.properties config/connect-file-sink.properties \
  2> quickstart-worker.log &
worker=$!
stop_worker() {
  trap - INT TERM EXIT
  if kill -0 "$worker" 2>/dev/null; then
    echo
    echo "stopping the worker (pid $worker)"
    kill -TERM "$worker" 2>/dev/null || true
    wait "$worker" 2>/dev/null || true
  fi
  echo "test.txt has $(wc -l < test.txt) lines, test.sink.txt has $( [ -f test.sink.txt ] && wc -l < test.sink.txt || echo 0); the worker's log is quickstart-worker.log"
}
trap stop_worker INT TERM EXIT

# Ready once both connectors report RUNNING (first start compiles the two
# components: a second or two).
deadline=$(( $(date +%s) + 60 ))
until curl -fsS "http://localhost:$port/connectors?expand=status" 2>/dev/null \
  | grep -o '"state":"RUNNING"' | wc -l | grep -qx '[4-9]'; do
  if ! kill -0 "$worker" 2>/dev/null; then
    echo "the worker stopped; the end of quickstart-worker.log:" >&2
    tail -n 20 quickstart-worker.log >&2
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "the connectors are not RUNNING after 60 s; see quickstart-worker.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "    worker pid $worker, REST on http://localhost:$port, log in quickstart-worker.log"

echo "    appending 100 lines a second to test.txt for ${seconds}s:"
for i in $(seq 1 "$seconds"); do
  for j in $(seq 1 100); do echo "line $i.$j from the quickstart"; done >> test.txt
  sleep 1
  printf '    second %3d: test.txt has %6d lines, test.sink.txt has %6d lines\n' \
    "$i" "$(wc -l < test.txt)" "$( [ -f test.sink.txt ] && wc -l < test.sink.txt || echo 0)"
done
# The sink writes what the source read within a second or two.
for _ in $(seq 1 50); do
  [ -f test.sink.txt ] && [ "$(wc -l < test.sink.txt)" -ge "$(wc -l < test.txt)" ] && break
  sleep 0.2
done
if cmp -s test.txt test.sink.txt; then
  echo "    test.sink.txt is identical to test.txt ($(wc -l < test.sink.txt) lines)"
else
  echo "    test.sink.txt does not match test.txt yet; see quickstart-worker.log" >&2
fi

cat <<EOF

The worker keeps running. Try:
  echo "hello from me" >> test.txt && sleep 1 && tail -n 1 test.sink.txt
  curl -s 'localhost:$port/connectors?expand=status'
  curl -s localhost:$port/connector-plugins
  curl -s -X PUT localhost:$port/connectors/local-file-source/pause
  curl -s localhost:$port/metrics | grep source_record
  the console: http://localhost:$port/ui/
Press Ctrl-C to stop it.
EOF
wait "$worker" || true
