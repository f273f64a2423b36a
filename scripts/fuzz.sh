#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of what the worker reads
# from others: property files, the `connect` group's protocol, the internal
# topics' records and the JSON converter (targets in fuzz/fuzz_targets/).
#
#   bash scripts/fuzz.sh              # every target, 60 s each
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh group_protocol
#
# Each target runs for FUZZ_SECONDS; a crash stops the script and leaves the
# input in fuzz/artifacts/<target>/ (replay: cargo fuzz run --fuzz-dir fuzz
# <target> <file>). The corpus grows in fuzz/corpus/<target>/ between runs.
# tests/tests/hostile_input.rs runs a seeded, uninstrumented pass over the
# same decoders in every test run; this is the deeper, slower search.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds="${FUZZ_SECONDS:-60}"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/fuzz-target"
if ! cargo fuzz --version 2>/dev/null | grep -q '0.13.1'; then
  echo "fuzz: installing cargo-fuzz 0.13.1 (crates.io)"
  cargo install cargo-fuzz --version 0.13.1 --locked
fi
# cargo-fuzz hands rustc nightly-only flags (sanitizer coverage); the stable
# toolchain accepts them with RUSTC_BOOTSTRAP. No sanitizer: the targets are
# safe Rust, and uninstrumented memory checks would only slow the search.
export RUSTC_BOOTSTRAP=1
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(properties group_protocol internal_records json_converter)
echo "fuzz: building the targets (the first build compiles the worker with coverage; minutes)"
cargo fuzz build --fuzz-dir fuzz -s none
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  status=0
  cargo fuzz run --fuzz-dir fuzz -s none "$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::new_units_added|==[0-9]+==|SUMMARY|Test unit written)' "$log" || true
  if [ -n "$(ls -A "fuzz/artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz: $target crashed; inputs in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  if [ "$status" -ne 0 ]; then
    # Not a crash (that leaves an artifact): the target did not build or run.
    tail -n 30 "$log" >&2
    echo "fuzz: $target failed to run (exit $status)" >&2
    exit 1
  fi
done
echo "fuzz: no target crashed"
