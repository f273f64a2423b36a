#!/usr/bin/env bash
# Apache Kafka on loopback, from its published jars: the broker the tests,
# the benchmarks and a local quickstart use, and Kafka Connect itself, which
# the compatibility tests compare us with.
#
#   scripts/kafka.sh install   # the pinned jars (scripts/kafka/pom.xml) and the reference
#                              # plugins (below) into the cache, once
#   scripts/kafka.sh start     # a KRaft cluster (broker+controller per node); waits until it answers
#   scripts/kafka.sh stop      # graceful stop (SIGTERM, then SIGKILL after 20 s)
#   scripts/kafka.sh kill      # SIGKILL: no controlled shutdown (tests' clean-up, fault tests)
#   scripts/kafka.sh start-node N [N…]   # starts killed nodes of a cluster again, together
#   scripts/kafka.sh status
#   scripts/kafka.sh java CLASS ARGS…   # runs a Kafka main class on the jars, in the foreground
#                                        # (Kafka Connect: org.apache.kafka.connect.cli.ConnectStandalone …)
#   scripts/kafka.sh lib       # prints the directory holding the jars
#   scripts/kafka.sh test-plugins   # prints the directory with Kafka's connect-test-plugins
#                                   # jar (Verifiable source and sink), kept off the default
#                                   # classpath so Kafka Connect lists them only where added
#   scripts/kafka.sh reference-plugins   # prints a plugin.path directory holding Debezium's
#                                   # JDBC sink (its plugin archive, unpacked), the reference
#                                   # tests/tests/jdbc_reference.rs runs inside Kafka Connect
#
# Environment:
#   KAFKA_PORT        first client port (default 9092); node i listens on KAFKA_PORT+i-1
#   KAFKA_PORTS       or the client ports, comma-separated (one node each)
#   KAFKA_CONTROLLER_PORTS  the controller ports, comma-separated (default: client port + 100)
#   KAFKA_NODES       node count when KAFKA_PORTS is unset (default 1)
#   KAFKA_DIR         data, logs and pid files (default build/kafka)
#   KAFKA_HEAP_OPTS   default -Xms64m -Xmx512m
#   KAFKA_JVM_OPTS    JVM options (default -XX:+UseG1GC; the tests use C1 and the serial GC to start faster)
#   KAFKA_CACHE       where the jars go (default ~/.cache/wasmconnect/apache-kafka-VERSION)
#   KAFKA_EXTRA_CLASSPATH  more classpath entries for `java` (the chaos suite adds the test plugins)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pom="$root/scripts/kafka/pom.xml"
VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
CACHE="${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/apache-kafka-$VERSION}"
LIB="$CACHE/lib"
TEST_PLUGINS="$CACHE/test-plugins"
# Debezium's JDBC sink, pinned here rather than in the pom: the pom's digest
# stamps the Kafka jars, which a change of this version need not reinstall.
DEBEZIUM_JDBC_VERSION=3.6.0.Final
REFERENCE_PLUGINS="$CACHE/reference-plugins"
DIR="${KAFKA_DIR:-$root/build/kafka}"

log() { echo "kafka.sh: $*" >&2; }

# Everything `setup.sh` installs. The other commands install only what they
# use: a broker or a Kafka Connect worker never waits on (or races another
# test over) Debezium's archive.
install() {
  install_kafka
  install_reference_plugins
}

need_tools() {
  for tool in java mvn; do
    command -v "$tool" >/dev/null || { log "$tool is missing (apt-get install openjdk-17-jdk-headless maven)"; exit 1; }
  done
}

install_kafka() {
  # The pom's digest marks a complete copy: an interrupted install is redone.
  # (and of what is installed beside the jars: a cache from before the
  # test plugins were added is installed again)
  stamp=$( (cat "$pom"; echo "with test-plugins") | sha256sum | cut -d' ' -f1)
  if [ -f "$LIB/.installed" ] && [ "$(cat "$LIB/.installed")" = "$stamp" ]; then return 0; fi
  need_tools
  log "installing Apache Kafka $VERSION jars into $LIB (Maven Central)"
  rm -rf "$LIB"
  mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$LIB" -Dmdep.useRepositoryLayout=false
  cp "$root/scripts/kafka/log4j2.properties" "$LIB/"
  rm -rf "$TEST_PLUGINS"
  mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy \
    -Dartifact="org.apache.kafka:connect-test-plugins:$VERSION" -DoutputDirectory="$TEST_PLUGINS/connect-test-plugins"
  echo "$stamp" > "$LIB/.installed"
  log "installed $(find "$LIB" -name '*.jar' | wc -l) jars"
}

# Debezium's JDBC sink as Kafka Connect plugins come: its `plugin` archive
# (the connector with its drivers and Hibernate), unpacked into a directory
# of its own that a worker's plugin.path names. The version marks a complete
# copy, as the pom's digest does for the jars.
install_reference_plugins() {
  local stamp="debezium-connector-jdbc $DEBEZIUM_JDBC_VERSION"
  if [ -f "$REFERENCE_PLUGINS/.installed" ] && [ "$(cat "$REFERENCE_PLUGINS/.installed")" = "$stamp" ]; then return 0; fi
  need_tools
  log "installing Debezium's JDBC sink $DEBEZIUM_JDBC_VERSION into $REFERENCE_PLUGINS (Maven Central)"
  rm -rf "$REFERENCE_PLUGINS"
  local download="$REFERENCE_PLUGINS.download"
  rm -rf "$download"
  mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy \
    -Dartifact="io.debezium:debezium-connector-jdbc:$DEBEZIUM_JDBC_VERSION:tar.gz:plugin" \
    -DoutputDirectory="$download"
  mkdir -p "$REFERENCE_PLUGINS"
  tar -xzf "$download"/debezium-connector-jdbc-*-plugin.tar.gz -C "$REFERENCE_PLUGINS"
  rm -rf "$download"
  echo "$stamp" > "$REFERENCE_PLUGINS/.installed"
  log "installed $(find "$REFERENCE_PLUGINS" -name '*.jar' | wc -l) jars of Debezium's JDBC sink"
}

jvm() {
  # shellcheck disable=SC2086 # the option strings are word lists
  exec java ${KAFKA_HEAP_OPTS:--Xms64m -Xmx512m} ${KAFKA_JVM_OPTS:--XX:+UseG1GC} -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    -cp "$LIB/*${KAFKA_EXTRA_CLASSPATH:+:$KAFKA_EXTRA_CLASSPATH}" "$@"
}

ports() {
  if [ -n "${KAFKA_PORTS:-}" ]; then
    tr ',' '\n' <<<"$KAFKA_PORTS"
  else
    local first="${KAFKA_PORT:-9092}"
    seq "$first" $(( first + ${KAFKA_NODES:-1} - 1 ))
  fi
}

controller_ports() {
  if [ -n "${KAFKA_CONTROLLER_PORTS:-}" ]; then
    tr ',' '\n' <<<"$KAFKA_CONTROLLER_PORTS"
  else
    for p in $(ports); do echo $(( p + 100 )); done
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A Kafka cluster id: 16 random bytes in URL-safe base64 without padding
# (it may begin with "-", so it is passed as --cluster-id=ID)
# (what `StorageTool random-uuid` prints), made here to save a JVM start.
cluster_id() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

write_properties() { # node port cport voters count
  local node=$1 port=$2 cport=$3 voters=$4 count=$5
  local rf=$(( count < 3 ? count : 3 )) isr=$(( count < 3 ? 1 : 2 ))
  cat <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/node-$node/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=1
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
log.segment.bytes=67108864
PROPS
}

start() {
  install_kafka
  mapfile -t client < <(ports)
  mapfile -t control < <(controller_ports)
  local count=${#client[@]}
  if [ "$count" -ne "${#control[@]}" ]; then log "KAFKA_PORTS and KAFKA_CONTROLLER_PORTS differ in length"; exit 2; fi
  local voters="" i
  for i in $(seq 1 "$count"); do
    voters+="${voters:+,}$i@127.0.0.1:${control[$((i-1))]}"
  done
  local id
  id=$(cluster_id)
  mkdir -p "$DIR"
  for i in $(seq 1 "$count"); do
    local port=${client[$((i-1))]} cport=${control[$((i-1))]} node="$DIR/node-$i"
    for p in "$port" "$cport"; do
      if port_open "$p"; then log "port $p is already in use"; exit 1; fi
    done
    mkdir -p "$node"
    write_properties "$i" "$port" "$cport" "$voters" "$count" > "$node/server.properties"
    if [ ! -f "$node/data/meta.properties" ]; then
      ( jvm kafka.tools.StorageTool format --cluster-id="$id" -c "$node/server.properties" --ignore-formatted ) \
        >"$node/format.log" 2>&1 || { log "formatting node $i failed:"; cat "$node/format.log" >&2; exit 1; }
    fi
  done
  # Formatting is done before any node starts: the quorum needs a majority.
  for i in $(seq 1 "$count"); do
    local node="$DIR/node-$i"
    ( jvm kafka.Kafka "$node/server.properties" ) >"$node/server.log" 2>&1 &
    echo $! > "$node/pid"
  done
  for i in $(seq 1 "$count"); do
    local node="$DIR/node-$i" deadline=$(( SECONDS + 90 ))
    until grep -q "Kafka Server started" "$node/server.log" 2>/dev/null; do
      if ! kill -0 "$(cat "$node/pid")" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        log "node $i did not start; its log:"; tail -n 60 "$node/server.log" >&2; signal KILL; exit 1
      fi
      sleep 0.2
    done
  done
  echo "kafka $VERSION ready: $(for p in "${client[@]}"; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//') (data in $DIR)"
}

# Starts the given nodes again from their configuration and data (after
# they were killed), all at once (a quorum needs a majority to start), and
# waits for each; earlier logs are kept beside the new ones.
start_nodes() {
  local n node
  for n in "$@"; do
    node="$DIR/node-$n"
    [ -f "$node/server.properties" ] || { log "node $n was never started in $DIR"; exit 2; }
    if [ -f "$node/pid" ] && kill -0 "$(cat "$node/pid")" 2>/dev/null; then
      log "node $n is running"; exit 1
    fi
    [ -f "$node/server.log" ] && mv "$node/server.log" "$node/server.log.$(date +%s%N)"
    ( jvm kafka.Kafka "$node/server.properties" ) >"$node/server.log" 2>&1 &
    echo $! > "$node/pid"
  done
  for n in "$@"; do
    node="$DIR/node-$n"
    local deadline=$(( SECONDS + 90 ))
    until grep -q "Kafka Server started" "$node/server.log" 2>/dev/null; do
      if ! kill -0 "$(cat "$node/pid")" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        log "node $n did not start again; its log:"; tail -n 60 "$node/server.log" >&2; exit 1
      fi
      sleep 0.2
    done
    echo "kafka node $n started again"
  done
}

pids() { for f in "$DIR"/node-*/pid; do [ -f "$f" ] && cat "$f"; done; return 0; }

signal() { # TERM|KILL
  local pid
  for pid in $(pids); do kill "-$1" "$pid" 2>/dev/null || true; done
  local deadline=$(( SECONDS + 20 ))
  for pid in $(pids); do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$DIR"/node-*/pid
}

status() {
  local up=0 pid
  for pid in $(pids); do kill -0 "$pid" 2>/dev/null && up=$((up+1)); done
  if [ "$up" -gt 0 ]; then echo "running: $up node(s), data in $DIR"; else echo "not running"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) signal TERM ;;
  kill) signal KILL ;;
  start-node) shift; [ $# -gt 0 ] || { echo "usage: $0 start-node N [N…]" >&2; exit 2; }; start_nodes "$@" ;;
  status) status ;;
  java) shift; install_kafka; jvm "$@" ;;
  lib) install_kafka; echo "$LIB" ;;
  test-plugins) install_kafka; echo "$TEST_PLUGINS" ;;
  reference-plugins) install_reference_plugins; echo "$REFERENCE_PLUGINS" ;;
  *) echo "usage: $0 install|start|start-node N [N…]|stop|kill|status|java CLASS ARGS…|lib|test-plugins|reference-plugins" >&2; exit 2 ;;
esac
