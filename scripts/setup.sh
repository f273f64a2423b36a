#!/usr/bin/env bash
# Installs what a fresh machine lacks, once: the wasm32-wasip2 target, the
# Kafka-protocol broker used by the tests, and the toolchains of the
# non-Rust guests. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
bash "$root/scripts/setup-polyglot.sh"
bash "$root/scripts/broker.sh" install
