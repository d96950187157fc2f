#!/usr/bin/env bash
# Benchmark Warden against MLflow's own tracking server on one machine and one PostgreSQL,
# with the MLflow-REST harness mlflow_compat_bench.py. See bench/RESULTS.md for what it measures.
#
# usage: bench/run_bench.sh SCRATCH_DIR [options]
#
#   SCRATCH_DIR          where venvs, databases' artifacts, logs and JSON results go (created)
#   --harness PATH       mlflow_compat_bench.py (default: $BENCH_HARNESS)
#   --size S             smoke | medium | full      (default medium, ~10 min for MLflow per mode)
#   --modes M            comma list of keepalive,fresh   (default keepalive,fresh)
#   --servers S          comma list of mlflow,warden     (default mlflow,warden)
#   --rounds N           repeat the whole comparison N times, alternating servers (default 1)
#   --warden-workers N   gunicorn workers for Warden (default 2)
#   --warden-threads N   gthread threads per worker (default 4)
#   --reset-db           drop and recreate both benchmark databases first
#   --warden-src DIR     Warden source tree to serve (default: this checkout). Useful to pin a
#                        commit while others edit the tree: git archive HEAD | tar -x -C DIR
#   --warden-venv DIR    Python environment with Warden's dependencies (default: <checkout>/.venv)
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres; needs CREATEDB, no password
# or a ~/.pgpass), MLFLOW_DB (mlflow_bench), WARDEN_DB (warden_bench), MLFLOW_PORT (5055),
# WARDEN_PORT (5056), PYTHON (python3, 3.11). Warden runs from this checkout's .venv
# (create it first: python3 -m venv .venv && .venv/bin/pip install -e .).
#
# Each (server, mode) gets two harness passes:
#   1. every phase at the chosen size, on the database as it is (its planner statistics are
#      whatever autovacuum left: with autovacuum off they are missing);
#   2. ANALYZE, then runs/search only, against the experiment pass 1 seeded
#      ("search with fresh statistics").
# Then bench/compare.py prints the MLflow-vs-Warden tables from the JSON files.
# Every server this script starts is stopped by its pid (process group) on exit.
set -euo pipefail

usage() { sed -n '2,30p' "$0"; exit 2; }
[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage ;; esac
SCRATCH=$(mkdir -p "$1" && cd "$1" && pwd); shift
REPO=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${BENCH_HARNESS:-}
SIZE=medium; MODES=keepalive,fresh; SERVERS=mlflow,warden; ROUNDS=1
W_WORKERS=2; W_THREADS=4; RESET=0; WARDEN_SRC=$REPO; WARDEN_VENV=$REPO/.venv
while [ $# -gt 0 ]; do
  case "$1" in
    --harness) HARNESS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warden-workers) W_WORKERS=$2; shift 2 ;;
    --warden-threads) W_THREADS=$2; shift 2 ;;
    --reset-db) RESET=1; shift ;;
    --warden-src) WARDEN_SRC=$2; shift 2 ;;
    --warden-venv) WARDEN_VENV=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; usage ;;
  esac
done
[ -n "$HARNESS" ] && [ -f "$HARNESS" ] || { echo "give --harness PATH to mlflow_compat_bench.py" >&2; exit 2; }
HARNESS=$(cd "$(dirname "$HARNESS")" && pwd)/$(basename "$HARNESS")

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
MLFLOW_DB=${MLFLOW_DB:-mlflow_bench}; WARDEN_DB=${WARDEN_DB:-warden_bench}
MLFLOW_PORT=${MLFLOW_PORT:-5055}; WARDEN_PORT=${WARDEN_PORT:-5056}
PYTHON=${PYTHON:-python3}
OUT=$SCRATCH/bench-out; mkdir -p "$OUT" "$SCRATCH/mlflow-artifacts" "$SCRATCH/warden-artifacts"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Harness sizes. "medium" = the BASELINE's "smaller comparison runs" (0.5 M metrics by
# log-batch, 500 log-metric calls, 500 experiments, 10 k history points) with 2000 runs seeded
# for runs/search, so that MLflow's side takes ~10 minutes on 2 cores.
case "$SIZE" in
  smoke) SIZE_ARGS=(--preset smoke) ;;
  medium) SIZE_ARGS=(--preset full --runs 500 --batch-runs 20 --batches-per-run 25 --single-metrics 500
                     --experiments 500 --history-points 10000 --search-seed-runs 2000) ;;
  full) SIZE_ARGS=(--preset full) ;;
  *) echo "unknown size $SIZE" >&2; exit 2 ;;
esac

# ---------------------------------------------------------------- software and databases
MLFLOW_VENV=$SCRATCH/venv-mlflow
if [ ! -x "$MLFLOW_VENV/bin/mlflow" ]; then
  log "creating $MLFLOW_VENV (mlflow 3.17.2)"
  "$PYTHON" -m venv "$MLFLOW_VENV"
  "$MLFLOW_VENV/bin/pip" install -q mlflow==3.17.2 psycopg2-binary requests
fi
WARDEN_SRC=$(cd "$WARDEN_SRC" && pwd); WARDEN_VENV=$(cd "$WARDEN_VENV" && pwd)
[ -x "$WARDEN_VENV/bin/gunicorn" ] || { echo "Warden's venv is missing: $WARDEN_VENV (pip install -e .)" >&2; exit 2; }

db_exists() { [ "$(psql -d postgres -Atc "select 1 from pg_database where datname = '$1'")" = 1 ]; }
for db in "$MLFLOW_DB" "$WARDEN_DB"; do
  if [ "$RESET" = 1 ] && db_exists "$db"; then log "dropping $db"; dropdb "$db"; fi
  db_exists "$db" || { log "creating database $db"; createdb "$db"; }
done

WARDEN_ENV=(DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$WARDEN_DB" WARDEN_SECRET_KEY=bench
            WARDEN_ARTIFACT_ROOT="$SCRATCH/warden-artifacts")
TOKEN_FILE=$SCRATCH/warden-token.txt
(cd "$WARDEN_SRC" && env "${WARDEN_ENV[@]}" "$WARDEN_VENV/bin/python" manage.py migrate -v 0)
if [ ! -s "$TOKEN_FILE" ] || [ "$RESET" = 1 ]; then
  (cd "$WARDEN_SRC" && env "${WARDEN_ENV[@]}" "$WARDEN_VENV/bin/python" manage.py bootstrap --admin bench --print-token) > "$TOKEN_FILE"
fi

# ---------------------------------------------------------------- servers
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    log "stopping server (process group $SERVER_PID)"
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT INT TERM

wait_ready() {  # url
  for _ in $(seq 120); do curl -sf -m 2 "$1/version" >/dev/null && return 0; sleep 1; done
  echo "server at $1 did not come up" >&2; return 1
}

start_server() {  # mlflow|warden ; sets SERVER_PID and URL
  if [ "$1" = mlflow ]; then
    URL=http://127.0.0.1:$MLFLOW_PORT
    setsid "$MLFLOW_VENV/bin/mlflow" server \
      --backend-store-uri "postgresql+psycopg2://$PGUSER@$PGHOST:$PGPORT/$MLFLOW_DB" \
      --artifacts-destination "$SCRATCH/mlflow-artifacts" --host 127.0.0.1 --port "$MLFLOW_PORT" \
      --workers 2 >> "$OUT/server-mlflow.log" 2>&1 &
  else
    URL=http://127.0.0.1:$WARDEN_PORT
    setsid env -C "$WARDEN_SRC" "${WARDEN_ENV[@]}" WARDEN_BIND="127.0.0.1:$WARDEN_PORT" WARDEN_WORKERS="$W_WORKERS" \
      WARDEN_THREADS="$W_THREADS" "$WARDEN_VENV/bin/gunicorn" -c config/gunicorn.conf.py config.wsgi \
      >> "$OUT/server-warden.log" 2>&1 &
  fi
  SERVER_PID=$!  # setsid execs (no fork): this pid leads the server's own process group
  wait_ready "$URL"
  log "$1 up at $URL (pid $SERVER_PID)"
}

postmaster_pid() {  # the local PostgreSQL's postmaster, for --watch-pid (empty if not local)
  local dir; dir=$(psql -d postgres -Atc "show data_directory" 2>/dev/null || true)
  if [ -n "$dir" ] && [ -r "$dir/postmaster.pid" ]; then head -1 "$dir/postmaster.pid"; else pgrep -o -x postgres || true; fi
}

harness() {  # label server extra-args...
  local label=$1 server=$2; shift 2
  local watch=(--watch-pid "server=$SERVER_PID" --watch-pid machine=1)
  local pg; pg=$(postmaster_pid); [ -n "$pg" ] && watch+=(--watch-pid "postgres=$pg")
  local token=""; [ "$server" = warden ] && token=$(cat "$TOKEN_FILE")
  log "harness $label"
  MLFLOW_TRACKING_TOKEN=$token "$MLFLOW_VENV/bin/python" "$HARNESS" --url "$URL" --label "$label" \
    "${watch[@]}" --out "$OUT/$label.json" "$@" > /dev/null 2> "$OUT/$label.log"
}

run_server() {  # server round
  local server=$1 round=$2 db mode label fresh exp
  db=$MLFLOW_DB; [ "$server" = warden ] && db=$WARDEN_DB
  start_server "$server"
  for mode in ${MODES//,/ }; do
    fresh=(); [ "$mode" = fresh ] && fresh=(--fresh-connections)
    label=$server-$SIZE-$mode-r$round
    harness "$label" "$server" "${SIZE_ARGS[@]}" "${fresh[@]}"
    exp=$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['phases']['search_runs'].get('experiment_id',''))" "$OUT/$label.json")
    if [ -n "$exp" ]; then
      psql -d "$db" -qc ANALYZE
      harness "$label-analyzed" "$server" "${SIZE_ARGS[@]}" "${fresh[@]}" --phases search_runs --search-experiment-id "$exp"
    fi
  done
  stop_server
}

{ echo "date: $(date -u +%FT%TZ)"; echo "cpus: $(nproc)"; grep -m1 'model name' /proc/cpuinfo || true
  free -m | sed -n 2p; uname -sr
  psql -d postgres -Atc "select version()"; psql -d postgres -Atc "show autovacuum"
  echo "warden: source $(basename "$WARDEN_SRC"), checkout HEAD $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?'), workers=$W_WORKERS threads=$W_THREADS"
  "$MLFLOW_VENV/bin/python" -c "import mlflow, sys; print('mlflow', mlflow.__version__, 'python', sys.version.split()[0])"
} > "$OUT/machine.txt"

for round in $(seq "$ROUNDS"); do
  order=${SERVERS//,/ }
  # alternate which server goes first, so slow drift of background load hits both alike
  if [ $((round % 2)) = 0 ]; then order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' '); fi
  for server in $order; do run_server "$server" "$round"; done
done

"$PYTHON" "$REPO/bench/compare.py" "$OUT" | tee "$OUT/comparison.md"
