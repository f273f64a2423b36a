#!/usr/bin/env bash
# A real HDFS on loopback, from Hadoop's published jars (Maven Central; no
# tarball, no container): Hadoop's MiniDFSCluster, one namenode and one
# datanode, with WebHDFS, which the HDFS sink's tests talk to over HTTP.
#
#   scripts/hdfs.sh install   # the pinned jars (scripts/hdfs/pom.xml) into the cache, and
#                             # the launcher (scripts/hdfs/MiniHdfs.java) compiled against them
#   scripts/hdfs.sh start     # the cluster in the background; waits until WebHDFS answers
#                             # and the namenode accepts writes, then prints its URLs
#   scripts/hdfs.sh stop      # graceful stop (SIGTERM, then SIGKILL after 20 s)
#   scripts/hdfs.sh kill      # SIGKILL (tests' clean-up, an outage); `start` again
#                             # reopens the same files
#   scripts/hdfs.sh status
#   scripts/hdfs.sh url       # prints the namenode's http://127.0.0.1:PORT (WebHDFS: URL/webhdfs/v1/…)
#
# Environment:
#   HDFS_HTTP_PORT           the namenode's HTTP port, where WebHDFS answers (default 9870)
#   HDFS_DATANODE_HTTP_PORT  the datanode's HTTP port, where the namenode redirects
#                            CREATE, APPEND and OPEN (default 9864)
#   HDFS_RPC_PORT            the namenode's RPC port, hdfs://127.0.0.1:PORT (default 8020)
#   HDFS_DATANODE_PORT       the datanode's data transfer port (default 0: a free one)
#   HDFS_DATANODE_IPC_PORT   the datanode's IPC port (default 0: a free one)
#   HDFS_DIR          the cluster's files, its log and pid file (default build/hdfs)
#   HDFS_HEAP         default -Xmx384m
#   HDFS_JVM_OPTS     JVM options (default: serial GC and C1 only, which start fastest)
#   HDFS_LOG_LEVEL    Hadoop's log level (default INFO), in DIR/hdfs.log
#   HDFS_CACHE        the jars and the compiled launcher (default
#                     ~/.cache/wasmconnect/hadoop-VERSION)
#
# Every socket is on 127.0.0.1, and the datanode registers as 127.0.0.1:
# WebHDFS's redirects name http://127.0.0.1:HDFS_DATANODE_HTTP_PORT/webhdfs/v1/…,
# whatever the machine's name. Permissions are off (any user.name may write
# anywhere) and files have one replica. The first start formats DIR/cluster;
# later ones reopen it as it is (delete DIR for an empty cluster).
#
# The pid file (DIR/pid), stop, kill and status are scripts/lib/daemon.sh's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/scripts/hdfs"
pom="$src/pom.xml"
launcher="$src/MiniHdfs.java"
VERSION=$(sed -n 's:.*<hadoop.version>\(.*\)</hadoop.version>.*:\1:p' "$pom")
CACHE="${HDFS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmconnect/hadoop-$VERSION}"
DIR=$(realpath -m "${HDFS_DIR:-$root/build/hdfs}")
HTTP_PORT="${HDFS_HTTP_PORT:-9870}"
DN_HTTP_PORT="${HDFS_DATANODE_HTTP_PORT:-9864}"
RPC_PORT="${HDFS_RPC_PORT:-8020}"
DN_PORT="${HDFS_DATANODE_PORT:-0}"
DN_IPC_PORT="${HDFS_DATANODE_IPC_PORT:-0}"
URL="http://127.0.0.1:$HTTP_PORT"

DAEMON_SCRIPT=hdfs.sh
DAEMON_WHAT=cluster
DAEMON_MARKER="$DIR/cluster"
# shellcheck source=lib/daemon.sh
source "$root/scripts/lib/daemon.sh"

# What marks a complete install: the pom and the launcher's source.
stamp() { cat "$pom" "$launcher" | sha256sum | cut -d' ' -f1; }

install() {
  local stamp
  stamp=$(stamp)
  if installed "$stamp"; then return 0; fi
  need_tools java javac mvn
  log "installing Hadoop $VERSION jars into $CACHE (Maven Central)"
  install_begin
  local tmp=$install_tmp out
  mkdir -p "$tmp/classes"
  maven_jars "$tmp/lib"
  # (javac's output is shown only when it fails)
  if ! out=$(javac -nowarn -d "$tmp/classes" -cp "$tmp/lib/*" "$launcher" 2>&1); then
    log "compiling $launcher failed:"; echo "$out" >&2; exit 1
  fi
  install_commit "$stamp" "$CACHE/lib"
}

# Ready once the launcher says so (the datanode has registered and the
# namenode is out of safe mode) and WebHDFS answers.
ready() { # log
  grep -q '^hdfs ready:' "$1" 2>/dev/null \
    && curl -fsS -o /dev/null --max-time 5 "$URL/webhdfs/v1/?op=GETFILESTATUS" 2>/dev/null
}

start() {
  start_checks "$RPC_PORT" "$HTTP_PORT" "$DN_HTTP_PORT" "$DN_PORT" "$DN_IPC_PORT"
  mkdir -p "$DIR/cluster" "$DIR/tmp"
  local out="$DIR/hdfs.log"
  rotate_log "$out"
  # (IPv4 only, as Hadoop's own scripts run it)
  # shellcheck disable=SC2086 # the option strings are word lists
  spawn "$out" java ${HDFS_HEAP:--Xmx384m} \
      ${HDFS_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1} \
      -XX:-UsePerfData -Djava.net.preferIPv4Stack=true -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
      -Djava.io.tmpdir="$DIR/tmp" -Dminihdfs.log.level="${HDFS_LOG_LEVEL:-INFO}" \
      -cp "$CACHE/lib/*:$CACHE/classes" MiniHdfs \
      "$DIR/cluster" "$RPC_PORT" "$HTTP_PORT" "$DN_HTTP_PORT" "$DN_PORT" "$DN_IPC_PORT"
  await_ready "$out" 120 0.2
  echo "hdfs $VERSION ready: namenode $URL (WebHDFS $URL/webhdfs/v1/), datanode http://127.0.0.1:$DN_HTTP_PORT, hdfs://127.0.0.1:$RPC_PORT (data in $DIR)"
}

daemon_main "$@"
