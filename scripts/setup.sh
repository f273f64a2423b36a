#!/usr/bin/env bash
# Installs what a fresh machine lacks, once: the wasm32-wasip2 target, a
# JDK and Maven (apt) with the pinned Apache Kafka jars the tests run
# (scripts/kafka.sh install), and the toolchains of the non-Rust guests.
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
bash "$root/scripts/setup-polyglot.sh"
