#!/usr/bin/env bash
# The benchmark (docs/benchmarks.md): installs what is missing, starts an
# Apache Kafka broker on its own port, builds the plugins and a release worker, and runs
# `wasmconnect bench`. Extra arguments go to the bench command, e.g.
#   bash scripts/bench.sh --repeats 5 --tasks 1,100,1000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/target}"
export PATH="$HOME/.cargo/bin:$PATH"
port="${BENCH_KAFKA_PORT:-19092}"

bash scripts/setup.sh
bash scripts/build-plugins.sh >/dev/null
cargo build --quiet --release --locked -p wasmconnect --bin wasmconnect --features bench
export KAFKA_PORT="$port" KAFKA_DIR="$root/build/bench-kafka"
rm -rf "$KAFKA_DIR"  # a fresh single-node cluster each run
bash scripts/kafka.sh start
trap 'bash scripts/kafka.sh stop' EXIT
RUST_LOG="${RUST_LOG:-warn}" "$CARGO_TARGET_DIR/release/wasmconnect" bench --bootstrap "127.0.0.1:$port" \
  --plugin-dir "$root/build/plugins" --polyglot-dir "$root/build/polyglot" "$@"
