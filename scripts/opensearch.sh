#!/usr/bin/env bash
# A real OpenSearch node on loopback, from its published jars (Maven Central;
# no tarball, no container): the Elasticsearch/OpenSearch sink's tests talk
# to its REST API.
#
#   scripts/opensearch.sh install   # the pinned jars (scripts/opensearch/pom.xml) into the
#                                   # cache, laid out as the node's home (lib/, modules/, plugins/)
#   scripts/opensearch.sh start     # one node in the background; waits until the cluster is
#                                   # yellow, then prints its URL
#   scripts/opensearch.sh stop      # graceful stop (SIGTERM, then SIGKILL after 20 s)
#   scripts/opensearch.sh kill      # SIGKILL (tests' clean-up, an outage); `start` again
#                                   # reopens the same data
#   scripts/opensearch.sh status
#   scripts/opensearch.sh url       # prints http://127.0.0.1:PORT
#
# Environment:
#   OPENSEARCH_PORT   HTTP port (default 9200)
#   OPENSEARCH_TRANSPORT_PORT  the node's transport port (default HTTP port + 100)
#   OPENSEARCH_DIR    config, data, logs and pid file (default build/opensearch)
#   OPENSEARCH_HEAP   default -Xms256m -Xmx256m
#   OPENSEARCH_JVM_OPTS  JVM options (default: serial GC and C1 only, which start fastest)
#   OPENSEARCH_CACHE  the node's home: jars and modules (default
#                     ~/.cache/wasmconnect/opensearch-VERSION)
#
# `java` is the one on PATH: Java 17 to 23 (the node installs a security
# manager, which Java 24 no longer has).
#
# The distribution's launcher is not used: this script runs the node's main
# class itself, with the system properties and JVM options the launcher
# would give it. The node binds 127.0.0.1 only, discovers no other node
# (discovery.type single-node), has no security plugin, and ignores disk
# watermarks (tests share a disk that may be nearly full). Its indices get
# no replica by default (a cluster setting `start` makes), so they are
# green. It runs without JNA's native library: the node refuses to run as
# root (as CI does) only where JNA can tell, and does without memory
# locking and the system call filter, which matter only in production.
#
# The pid file (DIR/pid), stop, kill and status are scripts/lib/daemon.sh's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/scripts/opensearch"
pom="$src/pom.xml"
VERSION=$(sed -n 's:.*<opensearch.version>\(.*\)</opensearch.version>.*:\1:p' "$pom")
CACHE="${OPENSEARCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/opensearch-$VERSION}"
DIR=$(realpath -m "${OPENSEARCH_DIR:-$root/build/opensearch}")
PORT="${OPENSEARCH_PORT:-9200}"
TRANSPORT_PORT="${OPENSEARCH_TRANSPORT_PORT:-$(( PORT + 100 ))}"
URL="http://127.0.0.1:$PORT"
CLUSTER=wasmconnect
# The modules, each a profile of the pom and a directory of scripts/opensearch/modules/.
MODULES=(transport-netty4 lang-painless analysis-common)

DAEMON_SCRIPT=opensearch.sh
DAEMON_WHAT=node
DAEMON_MARKER="-Dopensearch.path.conf=$DIR/config"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"

# What marks a complete home: the pom and the module files beside it.
stamp() {
  (cat "$pom"; for f in "$src"/modules/*/*; do echo "$f"; cat "$f"; done) | sha256sum | cut -d' ' -f1
}

install() {
  local stamp
  stamp=$(stamp)
  if installed "$stamp"; then return 0; fi
  need_tools java mvn
  log "installing OpenSearch $VERSION jars into $CACHE (Maven Central)"
  install_begin
  local tmp=$install_tmp
  mkdir -p "$tmp/plugins" "$tmp/bin"
  maven_jars "$tmp/lib" server
  local module
  for module in "${MODULES[@]}"; do
    local dest="$tmp/modules/$module"
    maven_jars "$dest" "$module"
    # A jar the server already has would be a duplicate to the jar hell check.
    local jar
    for jar in "$dest"/*.jar; do
      if [ -e "$tmp/lib/$(basename "$jar")" ]; then rm -f "$jar"; fi
    done
    sed "s/@VERSION@/$VERSION/g" "$src/modules/$module/plugin-descriptor.properties" > "$dest/plugin-descriptor.properties"
    if [ -f "$src/modules/$module/plugin-security.policy" ]; then
      cp "$src/modules/$module/plugin-security.policy" "$dest/"
    fi
  done
  install_commit "$stamp" "$CACHE"
}

write_config() {
  cat <<YAML
# Written by scripts/opensearch.sh at each start.
cluster.name: $CLUSTER
node.name: node-1
path.data: $DIR/data
path.logs: $DIR/logs
network.host: 127.0.0.1
http.port: $PORT
transport.port: $TRANSPORT_PORT
discovery.type: single-node
cluster.routing.allocation.disk.threshold_enabled: false
YAML
}

# A node answers once its cluster is yellow.
ready() {
  curl -fsS -o /dev/null --max-time 5 "$URL/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}

start() {
  start_checks "$PORT" "$TRANSPORT_PORT"
  mkdir -p "$DIR/config" "$DIR/data" "$DIR/logs" "$DIR/tmp"
  write_config > "$DIR/config/opensearch.yml"
  cp "$src/log4j2.properties" "$DIR/config/log4j2.properties"
  # The node's console: the log the node names when it fails (DIR/logs/CLUSTER.log).
  local out="$DIR/logs/$CLUSTER.log"
  rotate_log "$out"
  # The options of the distribution's launcher (its system JVM options and
  # jvm.options) that matter here, and the properties it passes the node.
  # shellcheck disable=SC2086 # the option strings are word lists
  spawn "$out" java ${OPENSEARCH_HEAP:--Xms256m -Xmx256m} \
      ${OPENSEARCH_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1} \
      -Djava.security.manager=allow -Xss1m -XX:-OmitStackTraceInFastThrow -XX:+ShowCodeDetailsInExceptionMessages -XX:-UsePerfData \
      -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true -Djna.nounpack=true \
      -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
      -Dio.netty.recycler.maxCapacityPerThread=0 -Dio.netty.allocator.numDirectArenas=0 \
      -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Djava.locale.providers=SPI,COMPAT \
      -Djava.io.tmpdir="$DIR/tmp" \
      -Dopensearch.path.home="$CACHE" -Dopensearch.path.conf="$DIR/config" \
      -Dopensearch.distribution.type=tar -Dopensearch.bundled_jdk=false \
      -cp "$CACHE/lib/*" org.opensearch.bootstrap.OpenSearch
  await_ready "$out" 90 0.25
  # A replica has no second node to go to: indices would stay yellow. (The
  # default replica count is read from the cluster's persistent settings,
  # not the node's.)
  curl -fsS -o /dev/null --max-time 30 -X PUT "$URL/_cluster/settings" -H 'content-type: application/json' \
    -d '{"persistent":{"cluster.default_number_of_replicas":0}}' \
    || { log "setting the default replica count failed"; signal KILL; exit 1; }
  echo "opensearch $VERSION ready: $URL (data in $DIR)"
}

daemon_main "$@"
