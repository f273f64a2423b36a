#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what is missing,
# builds the bundled plugins, then runs every test (the tests start their
# own brokers and workers).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/target}"
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/build-plugins.sh
# The console's sources type-check and build to the committed assets.
bash scripts/check-console.sh
cargo build --locked -p wasmconnect --bin wasmconnect --features bench
# Every test binary, two at a time (most of them wait on brokers and
# deadlines rather than the CPU); WASMCONNECT_TEST_JOBS=1 runs one at a time.
python3 scripts/lib/run_tests.py --locked
# The Python, JavaScript, Zig and Go kits' own tests (host-side, on generated
# bindings and the built components).
poly="${WASMCONNECT_POLYGLOT:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot}"
"$poly/venv/bin/python" -m unittest discover -s guest-connectors/python/tests
node guest-connectors/javascript/test/check.mjs "${WASMCONNECT_POLYGLOT_PLUGIN_DIR:-$root/build/polyglot}"
node guest-connectors/zig/test/check.mjs "${WASMCONNECT_POLYGLOT_PLUGIN_DIR:-$root/build/polyglot}"
# The Go kit's packing and the Go examples' logic, on the host (the
# generated host calls are stubs there).
(cd guest-connectors/go && PATH="$poly/venv/bin:$PATH" GOTOOLCHAIN=local GOPROXY=off \
  GOFLAGS=-mod=mod GOCACHE="${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/polyglot-build/go-host" go test ./...)
# The guests' host-testable code (the generator shared by datagen, the null
# sink and the benchmark; configuration checks; the JDBC connectors' SQL and
# schema logic; the storage sinks' partitioners, formats and rotation; the
# HTTP sinks' requests, answers and signing; Kafka's transforms). Kafka's
# transforms build the SDK with its `transform` feature alone, which a run
# together with the sinks would unify away, so they run on their own.
host=$(rustc -vV | sed -n 's/^host: //p')
(cd guest-connectors && export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/guest-target" &&
  cargo test --locked --target "$host" -p datagen-core -p config-checks \
    -p jdbc-common -p storage-common -p elasticsearch-sink -p s3-sink -p hdfs-sink &&
  cargo test --locked --target "$host" -p kafka-transforms)
