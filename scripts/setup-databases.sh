#!/usr/bin/env bash
# Installs the database servers the end-to-end tests start on their own
# (tests/src/databases.rs): PostgreSQL's server programs, MariaDB's server
# and client, and the sqlite3 program, from Debian's packages. Installs
# only: the tests run each server from a throwaway directory, so no system
# service is started and no system cluster is used.
# Safe to run again: each part is skipped when it is in place.
set -euo pipefail
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
updated=""
apt_install() {
  if [ -z "$updated" ]; then
    $sudo apt-get update -qq
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || ! command -v psql >/dev/null; then
  echo "setup: installing PostgreSQL (apt: postgresql)"
  # The package's scripts create and start a system cluster; a
  # policy-rc.d that answers 101 ("not allowed") keeps them from starting
  # it. Docker images ship one already; only ours is removed afterwards.
  own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install postgresql
  if [ -n "$own_policy" ]; then
    $sudo rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi

# The -core packages hold mariadbd, mariadb-install-db and the mariadb
# client without the mariadb-server package's service and system
# database, so installing them starts nothing.
if ! { command -v mariadbd || [ -x /usr/sbin/mariadbd ]; } >/dev/null \
  || ! command -v mariadb-install-db >/dev/null || ! command -v mariadb >/dev/null; then
  echo "setup: installing MariaDB (apt: mariadb-server-core mariadb-client-core)"
  apt_install mariadb-server-core mariadb-client-core
fi

# The sqlite3 program, which the tests use to read and write SQLite files.
if ! command -v sqlite3 >/dev/null; then
  echo "setup: installing SQLite's command-line program (apt: sqlite3)"
  apt_install sqlite3
fi
