#!/usr/bin/env bash
# A real Kafka-protocol broker on loopback for tests and the quickstart:
# Nisshi (the successor of Tansu), installed once into ~/.cargo/bin.
#
#   scripts/broker.sh install   # build and install nisshi (about 20 minutes, once)
#   scripts/broker.sh start     # start on 127.0.0.1:$KAFKA_PORT, wait until it answers
#   scripts/broker.sh stop      # stop it
#   scripts/broker.sh status
#
# KAFKA_PORT (default 9092), KAFKA_STORAGE (memory | sqlite; sqlite keeps
# data across restarts), KAFKA_DIR (default build/kafka: pid, log, database).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
NISSHI_VERSION=0.8.1
PORT="${KAFKA_PORT:-9092}"
STORAGE="${KAFKA_STORAGE:-memory}"
DIR="${KAFKA_DIR:-$root/build/kafka}"
export PATH="$HOME/.cargo/bin:$PATH"

installed() { nisshi --version 2>/dev/null | grep -qx "nisshi $NISSHI_VERSION"; }

install() {
  if installed; then return 0; fi
  echo "installing nisshi $NISSHI_VERSION (a Kafka-protocol broker); this takes about 20 minutes once" >&2
  # Every nisshi release locks rama 0.4, which declares rust-version 1.96 but
  # builds and runs on 1.95, hence --ignore-rust-version.
  cargo install "nisshi@$NISSHI_VERSION" --locked --ignore-rust-version \
    --no-default-features --features dynostore,libsql
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start() {
  install
  case "$STORAGE" in
    memory) engine="memory://nisshi/" ;;
    sqlite) engine="sqlite://nisshi.db" ;;  # relative to $DIR
    *) echo "KAFKA_STORAGE must be memory or sqlite" >&2; exit 2 ;;
  esac
  mkdir -p "$DIR"
  if port_open; then echo "port $PORT is already in use" >&2; exit 1; fi
  # The advertised listener must name the same port, or clients are sent to 9092.
  ( cd "$DIR" && exec nisshi broker \
      --listener-url "tcp://127.0.0.1:$PORT" \
      --advertised-listener-url "tcp://127.0.0.1:$PORT" \
      --storage-engine "$engine" >broker.log 2>&1 ) &
  echo $! > "$DIR/broker.pid"
  for _ in $(seq 1 60); do
    # A metadata round trip, not just an open port. The CLI can hang on a
    # closed port, hence the timeout.
    if timeout 3 nisshi topic list --broker "tcp://127.0.0.1:$PORT" >/dev/null 2>&1; then
      echo "kafka broker ready: 127.0.0.1:$PORT ($engine)"; return 0
    fi
    kill -0 "$(cat "$DIR/broker.pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "kafka broker did not become ready; its log:" >&2
  cat "$DIR/broker.log" >&2
  exit 1
}

stop() {
  [ -f "$DIR/broker.pid" ] || return 0
  pid=$(cat "$DIR/broker.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$DIR/broker.pid"
}

status() {
  if [ -f "$DIR/broker.pid" ] && kill -0 "$(cat "$DIR/broker.pid")" 2>/dev/null; then
    echo "running (pid $(cat "$DIR/broker.pid"), port $PORT)"
  else
    echo "not running"; return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
