#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond npm ci, so `bash scripts/run.sh test` works on a
# fresh machine: Debian's chromium (the editor test drives it; nothing downloads a browser), a real n8n
# 2.40.7 in the cache (the n8n end-to-end test), a PostgreSQL server at 127.0.0.1:5432 with a database
# `test` that user `postgres` reaches over TCP without a password (the PostgreSQL store tests; each test
# makes and drops its own schema there), and Redis at 127.0.0.1:6379. Each step is skipped when already
# done; nothing that already runs is restarted.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=no
# apt_install <what needs it> <package>...: as root only; the package lists are fetched once per run.
apt_install() {
  local needed_by="$1"
  shift
  if [ "$(id -u)" -ne 0 ]; then
    echo "$needed_by needs Debian's $*: run 'sudo apt-get install -y $*' once." >&2
    exit 1
  fi
  if [ "$apt_updated" = no ]; then
    apt-get update -qq
    apt_updated=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# wait_for <seconds> <command>...: until the command succeeds, or fails after that long.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# Root only: runs a command as the postgres OS user (peer auth on the local socket), from a folder it can read.
as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

# --- chromium -------------------------------------------------------------------------------------------
if ! [ -x /usr/bin/chromium ]; then
  apt_install "The editor test" chromium
fi

# --- PostgreSQL -----------------------------------------------------------------------------------------
pg_answers() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    # No client tools: a server elsewhere (a container) may still listen.
    (: <>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}
pg_test_reachable() {
  psql -w -h 127.0.0.1 -p 5432 -U postgres -d test -Atqc 'SELECT 1' >/dev/null 2>&1
}

if ! pg_answers; then
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install "The PostgreSQL store tests" postgresql
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "The PostgreSQL store tests need a server at 127.0.0.1:5432: run 'sudo pg_ctlcluster <version> main start' once." >&2
    exit 1
  fi
  # Debian's package creates a cluster "main"; one may have been dropped since.
  if [ -z "$(pg_lsclusters -h)" ]; then
    pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main >/dev/null
  fi
  # Start the cluster(s) configured for port 5432 that are down (a container has no init system to do it).
  pg_lsclusters -h | while read -r version cluster port status _; do
    if [ "$port" = 5432 ] && [ "$status" != online ]; then pg_ctlcluster "$version" "$cluster" start; fi
  done
  if ! wait_for 30 pg_answers; then
    echo "PostgreSQL does not answer at 127.0.0.1:5432 (see pg_lsclusters and /var/log/postgresql/)." >&2
    exit 1
  fi
fi

if ! command -v psql >/dev/null; then
  apt_install "The PostgreSQL store tests" postgresql-client
fi

if ! pg_test_reachable; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The PostgreSQL store tests need database 'test' reachable as user 'postgres' over TCP without a password (trust for 127.0.0.1 in pg_hba.conf), or WAHOOK_TEST_PG_URL set." >&2
    exit 1
  fi
  # A missing database and a refused password both fail the check above: the database first.
  if [ "$(as_postgres psql -p 5432 -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    as_postgres createdb -p 5432 test
  fi
  if ! pg_test_reachable; then
    hba="$(as_postgres psql -p 5432 -Atqc 'SHOW hba_file')"
    rule='host test postgres 127.0.0.1/32 trust'
    if ! grep -qF "$rule" "$hba"; then
      # First: pg_hba.conf takes the first matching line. `cat >` keeps the file's owner and mode.
      updated="$({ printf '%s\n' '# The wahook test suite (scripts/test-deps.sh): its throwaway schemas in database test.' "$rule"; cat "$hba"; })"
      printf '%s\n' "$updated" >"$hba"
    fi
    as_postgres psql -p 5432 -Atqc 'SELECT pg_reload_conf()' >/dev/null
    if ! wait_for 10 pg_test_reachable; then
      echo "Database 'test' still refuses user 'postgres' over TCP after adding '$rule' to $hba." >&2
      exit 1
    fi
  fi
fi

# --- Redis ----------------------------------------------------------------------------------------------
redis_answers() {
  [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
}

if ! command -v redis-cli >/dev/null || ! redis_answers; then
  if ! command -v redis-server >/dev/null; then
    apt_install "The Redis tests" redis-server
  fi
  # Debian's package may have started it already. Otherwise a daemon that keeps nothing on disk (and so
  # writes no dump.rdb into the working folder).
  if ! redis_answers; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir "${TMPDIR:-/tmp}" >/dev/null
  fi
  if ! wait_for 10 redis_answers; then
    echo "Redis does not answer at 127.0.0.1:6379." >&2
    exit 1
  fi
fi

# --- n8n ------------------------------------------------------------------------------------------------
bash scripts/n8n-install.sh >/dev/null
