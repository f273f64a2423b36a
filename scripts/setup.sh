#!/usr/bin/env bash
# Installs what a fresh machine lacks, once: the wasm32-wasip2 target, a
# JDK and Maven (apt) with the pinned Apache Kafka jars the tests run
# (scripts/kafka.sh install), OpenSearch and HDFS (scripts/opensearch.sh,
# scripts/hdfs.sh), s3s-fs, the toolchains of the non-Rust guests, the
# web console's npm packages and Chromium, and the test tools from PyPI
# (tests/requirements-tools.txt).
# Safe to run again: each part is skipped when it is in place.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "setup: adding the wasm32-wasip2 target (rustup)"
  rustup target add wasm32-wasip2
fi
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  echo "setup: installing a JDK and Maven (apt)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
fi
bash "$root/scripts/kafka.sh" install
bash "$root/scripts/opensearch.sh" install
bash "$root/scripts/hdfs.sh" install
bash "$root/scripts/setup-polyglot.sh"
# The S3-compatible server the S3 sink's tests run: s3s-fs from crates.io
# (0.14.1 is the newest that builds on Rust 1.95), into the cache.
s3s="${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/s3s"
if ! "$s3s/bin/s3s-fs" --version 2>/dev/null | grep -q ' 0.14.1'; then
  echo "setup: building s3s-fs 0.14.1 (crates.io; about 3 minutes on 2 cores)"
  cargo install --locked s3s-fs@0.14.1 --features binary --root "$s3s"
fi
bash "$root/scripts/setup-databases.sh"
# The web console's build and browser test (console/): its npm packages,
# pinned in console/package-lock.json, into console/node_modules (install
# scripts off: esbuild ships its binary as a package of its own); and
# Debian's Chromium, which the test drives through playwright-core
# (Playwright's own browser download does not work everywhere).
if ! cmp -s "$root/console/package-lock.json" "$root/console/node_modules/.installed-lock" 2>/dev/null; then
  echo "setup: installing the console's npm packages (npm ci in console/)"
  (cd "$root/console" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$root/console/package-lock.json" "$root/console/node_modules/.installed-lock"
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Chromium (apt) for the console's browser test"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
fi
# Test tools from PyPI (schemathesis), in a venv of their own.
tools="${WASMCONNECT_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/test-tools}"
requirements="$root/tests/requirements-tools.txt"
if ! cmp -s "$requirements" "$tools/venv/.installed" 2>/dev/null; then
  echo "setup: installing the test tools (PyPI: $(grep -o '^[a-z-]*==[0-9.]*' "$requirements" | tr '\n' ' '))"
  rm -rf "$tools/venv"
  mkdir -p "$tools"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$tools/venv/.installed"
fi
