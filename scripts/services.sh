#!/usr/bin/env bash
# services.sh - make sure PostgreSQL and Redis answer on loopback, for CI and local test runs.
#
# Reuses servers that already answer (CI machines start both beforehand: PostgreSQL with trust
# auth on 127.0.0.1:5432, Redis on 127.0.0.1:6379). Otherwise installs the Debian packages if
# missing, creates/starts a cluster, allows passwordless loopback logins (throwaway test servers
# only), creates the databases and starts Redis. Idempotent. Package installs never start
# services on these machines (policy-rc.d), so this script starts them itself.
#
# Env (defaults): PG_PORT (5432) PG_CLUSTER (main) PG_DBS ("test") REDIS_PORT (6379) WAIT_S (60)
#                 PG_CONFIGURE (auto; "never" = do not touch an existing server's auth)
# Prints DATABASE_URL=... and REDIS_URL=... on stdout; logs go to stderr.
set -euo pipefail

PG_PORT=${PG_PORT:-5432}
PG_CLUSTER=${PG_CLUSTER:-main}
PG_DBS=${PG_DBS:-test}
REDIS_PORT=${REDIS_PORT:-6379}
WAIT_S=${WAIT_S:-60}

log() { echo "[services $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Redis speaks RESP; bash's /dev/tcp is enough, no redis-cli needed.
redis_answers() {
  local reply
  reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && timeout 2 head -c 7 <&3) 2>/dev/null || true)
  [[ "$reply" == "+PONG"* ]]
}

pg_accepts() {
  if command -v pg_isready >/dev/null 2>&1; then pg_isready -q -h 127.0.0.1 -p "$1"; else port_open "$1"; fi
}

pg_sql() { psql -w -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc "$1"; }
pg_login_ok() { pg_sql 'select 1' >/dev/null 2>&1; }

wait_until() {  # wait_until LABEL COMMAND...
  local label=$1 start=$SECONDS
  shift
  until "$@"; do
    (( SECONDS - start < WAIT_S )) || die "$label not ready after ${WAIT_S}s"
    sleep 0.2
  done
  log "$label ready after $(( SECONDS - start ))s"
}

apt_ready=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "$* missing and no apt-get to install it"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_ready" ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_ready=1
  fi
  log "apt-get install $*"
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

cluster_on_port() {  # prints "VERSION CLUSTER" of the cluster configured for $PG_PORT
  pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }'
}

# ---- PostgreSQL ----
started_pg=""
if pg_accepts "$PG_PORT"; then
  log "PostgreSQL answers on 127.0.0.1:$PG_PORT, reusing it"
else
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
  fi
  read -r pg_ver pg_clu <<<"$(cluster_on_port)" || true
  if [ -z "${pg_ver:-}" ]; then
    pg_ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
    pg_clu=$PG_CLUSTER
    log "creating cluster $pg_ver/$pg_clu on port $PG_PORT"
    $SUDO pg_createcluster "$pg_ver" "$pg_clu" --port "$PG_PORT" >/dev/null
  fi
  if ! pg_accepts "$PG_PORT"; then
    log "starting PostgreSQL $pg_ver/$pg_clu"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$pg_ver" "$pg_clu" start
  fi
  started_pg=1
  wait_until "PostgreSQL :$PG_PORT" pg_accepts "$PG_PORT"
fi

command -v psql >/dev/null 2>&1 || apt_install postgresql-client
if ! pg_login_ok; then
  if [ -z "$started_pg" ] && [ "${PG_CONFIGURE:-auto}" = "never" ]; then
    die "passwordless login as postgres on :$PG_PORT fails and PG_CONFIGURE=never"
  fi
  read -r pg_ver pg_clu <<<"$(cluster_on_port)" || true
  [ -n "${pg_ver:-}" ] || die "passwordless login fails on :$PG_PORT and no local cluster owns that port"
  hba=/etc/postgresql/$pg_ver/$pg_clu/pg_hba.conf
  log "allowing passwordless loopback logins in $hba (test server only)"
  $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$pg_ver" "$pg_clu" reload
  wait_until "PostgreSQL passwordless login" pg_login_ok
fi

for db in $PG_DBS; do
  if [ "$(pg_sql "select 1 from pg_database where datname = '$db'")" != "1" ]; then
    log "creating database $db"
    pg_sql "create database \"$db\"" >/dev/null
  fi
done

# ---- Redis ----
if redis_answers "$REDIS_PORT"; then
  log "Redis answers on 127.0.0.1:$REDIS_PORT, reusing it"
else
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by something that is not Redis"
  log "starting redis-server on 127.0.0.1:$REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp --pidfile "/tmp/redis-$REDIS_PORT.pid" --logfile "/tmp/redis-$REDIS_PORT.log"
  wait_until "Redis :$REDIS_PORT" redis_answers "$REDIS_PORT"
fi

echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/${PG_DBS%% *}"
echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
