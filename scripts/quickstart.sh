#!/usr/bin/env bash
# The quickstart: builds the worker and the file connectors, starts a
# standalone worker on the embedded dev broker with Kafka's sample configs
# (config/), feeds lines into test.txt and shows test.sink.txt growing.
# Set QUICKSTART_SECONDS to run longer (default 20).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/target}"
seconds="${QUICKSTART_SECONDS:-20}"

bash scripts/build-plugins.sh --rust-only >/dev/null
cargo build --quiet -p wasmconnect --bin wasmconnect
rm -f test.txt test.sink.txt /tmp/connect.offsets
touch test.txt

"$CARGO_TARGET_DIR/debug/wasmconnect" standalone config/connect-standalone.properties \
  config/connect-file-source.properties config/connect-file-sink.properties \
  2> quickstart-worker.log &
worker=$!
trap 'kill -TERM $worker 2>/dev/null; wait $worker 2>/dev/null || true' EXIT
echo "worker started (pid $worker, log: quickstart-worker.log); appending to test.txt for ${seconds}s"

for i in $(seq 1 "$seconds"); do
  for j in $(seq 1 100); do echo "line $i.$j from the quickstart"; done >> test.txt
  sleep 1
  printf 'second %3d: test.txt has %6d lines, test.sink.txt has %6d lines\n' \
    "$i" "$(wc -l < test.txt)" "$( [ -f test.sink.txt ] && wc -l < test.sink.txt || echo 0)"
done

# Let the sink catch up with the last lines, then stop gracefully.
for _ in $(seq 1 60); do
  [ -f test.sink.txt ] && [ "$(wc -l < test.sink.txt)" -ge "$(wc -l < test.txt)" ] && break
  sleep 0.5
done
kill -TERM "$worker"; wait "$worker" || true
trap - EXIT
if cmp -s test.txt test.sink.txt; then
  echo "done: test.sink.txt is identical to test.txt ($(wc -l < test.sink.txt) lines)"
else
  echo "test.sink.txt differs from test.txt; see quickstart-worker.log" >&2
  exit 1
fi
