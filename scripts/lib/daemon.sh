# shellcheck shell=bash
# What scripts/opensearch.sh and scripts/hdfs.sh share: one Java process in
# the background, known by the pid file DIR/pid, from jars installed into a
# cache. Sourced, not run, after `set -euo pipefail`.
#
# It provides log, need_tools, installed, install_begin/install_commit (an
# install built beside the cache, then moved into place whole), maven_jars,
# port_open, pid/alive/running, start_checks, rotate_log, spawn and
# await_ready (start's steps), signal TERM|KILL (SIGKILL after 20 s), status,
# and daemon_main: the dispatch of install|start|stop|kill|status|url.
#
# The sourcing script sets, before sourcing:
#   DAEMON_SCRIPT  its name in messages (opensearch.sh)
#   DAEMON_WHAT    what it runs, in messages (node, cluster)
#   DAEMON_MARKER  an argument of the process's command line that names DIR:
#                  it tells the process from another one a stale pid file names
#   DIR, CACHE, URL, and pom (for maven_jars)
# and defines, before calling daemon_main "$@": install (silent when in
# place), start, and ready LOG (whether the process answers; LOG is its output).

: "${DAEMON_SCRIPT:?}" "${DAEMON_WHAT:?}" "${DAEMON_MARKER:?}" "${DIR:?}" "${CACHE:?}" "${URL:?}"

log() { echo "$DAEMON_SCRIPT: $*" >&2; }

need_tools() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { log "$tool is missing (apt-get install openjdk-17-jdk-headless maven curl)"; exit 1; }
  done
}

installed() { [ -f "$CACHE/.installed" ] && [ "$(cat "$CACHE/.installed")" = "$1" ]; }

# An install is built beside the cache and moved into place whole: nothing
# ever starts on half an install, and an interrupted install is redone.
install_begin() {
  install_tmp="$CACHE.tmp.$$"
  rm -rf "$install_tmp"
  trap 'rm -rf "$install_tmp"' EXIT
}

install_commit() { # stamp jar-directory
  local tmp=$install_tmp
  echo "$1" > "$tmp/.installed"
  if installed "$1"; then rm -rf "$tmp"; return 0; fi # another install finished first
  rm -rf "$CACHE"
  mv -T "$tmp" "$CACHE" 2>/dev/null || { rm -rf "$tmp"; installed "$1" || { log "could not install into $CACHE"; exit 1; }; }
  log "installed $(find "$2" -name '*.jar' | wc -l) jars"
}

# The runtime jars of the pom, or of one of its profiles, into a directory
# (Maven's output is shown only when it fails).
maven_jars() { # directory [profile]
  local out args=(-B -q -Dstyle.color=never -f "$pom")
  if [ $# -ge 2 ]; then args+=(-P "$2"); fi
  if ! out=$(mvn "${args[@]}" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$1" -Dmdep.useRepositoryLayout=false 2>&1); then
    log "resolving the jars${2:+ of $2} failed:"; echo "$out" >&2; exit 1
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid of this directory's process while it runs (a pid file left behind
# may name another process by now).
pid() {
  local p
  p=$(cat "$DIR/pid" 2>/dev/null) && [ -n "$p" ] || return 1
  tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qxF -- "$DAEMON_MARKER" || return 1
  echo "$p"
}

# Whether a process lives: a killed JVM stays a zombie until init reaps it
# (which may take a second or two), but once all its threads are gone, so
# are its sockets.
alive() {
  local state threads
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  threads=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && { [ "$state" != Z ] || [ "${threads:-1}" -gt 1 ]; }
}

running() { local p; p=$(pid) && [ -n "$p" ] && alive "$p"; }

# What `start` does first. A port of 0 (the system picks a free one) is not checked.
start_checks() { # port…
  install
  need_tools java curl
  if running; then log "a $DAEMON_WHAT is already running (pid $(pid), data in $DIR)"; exit 1; fi
  local p
  for p in "$@"; do
    if [ "$p" != 0 ] && port_open "$p"; then log "port $p is already in use"; exit 1; fi
  done
}

rotate_log() { # file
  if [ -f "$1" ]; then mv "$1" "$1.$(date +%s%N)"; fi
}

spawn() { # log command…
  local out=$1
  shift
  ( cd "$DIR" && exec "$@" ) </dev/null >"$out" 2>&1 &
  daemon_pid=$!
  echo "$daemon_pid" > "$DIR/pid"
}

await_ready() { # log seconds interval
  local deadline=$(( SECONDS + $2 ))
  until ready "$1"; do
    if ! alive "$daemon_pid" || [ $SECONDS -ge $deadline ]; then
      log "the $DAEMON_WHAT did not start; its log ($1):"; tail -n 60 "$1" >&2
      signal KILL; exit 1
    fi
    sleep "$3"
  done
}

signal() { # TERM|KILL
  local p
  p=$(pid) || { rm -f "$DIR/pid"; return 0; }
  kill "-$1" "$p" 2>/dev/null || true
  local deadline=$(( SECONDS + 20 ))
  while alive "$p" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if alive "$p"; then
    log "the $DAEMON_WHAT did not stop within 20 s: killing it"
    kill -KILL "$p" 2>/dev/null || true
    while alive "$p"; do sleep 0.1; done
  fi
  rm -f "$DIR/pid"
}

status() {
  if running; then echo "running: pid $(pid), $URL, data in $DIR"; else echo "not running"; return 1; fi
}

daemon_main() {
  case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) signal TERM ;;
    kill) signal KILL ;;
    status) status ;;
    url) echo "$URL" ;;
    *) echo "usage: $0 install|start|stop|kill|status|url" >&2; exit 2 ;;
  esac
}
