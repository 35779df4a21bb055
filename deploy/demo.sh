#!/usr/bin/env bash
# The local demo: embedded broker, one worker with its API and console, MovieLens 100K
# published, archived into the lake, a model trained from the lake and activated.
# `deploy/demo.sh stop` stops what it started and waits until it has exited.
set -euo pipefail
cd "$(dirname "$0")/.."

export STREAMREC_DATA_DIR="${STREAMREC_DATA_DIR:-$PWD/var}"
export STREAMREC_REGISTRY="${STREAMREC_REGISTRY:-$STREAMREC_DATA_DIR/registry}"
export STREAMREC_BROKER="${STREAMREC_BROKER:-kafka://127.0.0.1:9092}"
export STREAMREC_API_PORT="${STREAMREC_API_PORT:-8000}"
RUN="$STREAMREC_DATA_DIR/demo"
BIN="${VENV:-.venv}/bin"
API="http://127.0.0.1:$STREAMREC_API_PORT"
mkdir -p "$RUN"

say() { printf '\n==> %s\n' "$*"; }

BROKER_PORT="${STREAMREC_BROKER##*:}"
STOP_WAIT_S=30

alive() { kill -0 "$1" 2>/dev/null; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# SIGTERM, then wait for the process to exit (SIGKILL after STOP_WAIT_S): the broker stops
# its own child and frees its port only on the way out.
stop_one() {
  local name=$1 pid
  [ -f "$RUN/$name.pid" ] || return 0
  pid="$(cat "$RUN/$name.pid")"
  if alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_WAIT_S * 5))); do alive "$pid" || break; sleep 0.2; done
    if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$RUN/$name.pid"
}

wait_port_free() {
  for _ in $(seq 1 $((STOP_WAIT_S * 5))); do listening "$1" || return 0; sleep 0.2; done
  echo "port $1 is in use by another process; stop it or set $2 to another port" >&2
  return 1
}

stop() {
  stop_one worker
  stop_one broker
}

wait_http() {
  for _ in $(seq 1 120); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "no answer from $1; see $RUN/*.log" >&2
  return 1
}

wait_broker() {
  for _ in $(seq 1 120); do
    grep -q "broker ready" "$RUN/broker.log" && { grep "broker ready" "$RUN/broker.log"; return 0; }
    alive "$(cat "$RUN/broker.pid")" || break
    sleep 0.5
  done
  echo "the broker did not start; see $RUN/broker.log" >&2
  return 1
}

start() {
  local started=$SECONDS
  stop >/dev/null
  wait_port_free "$BROKER_PORT" STREAMREC_BROKER
  wait_port_free "$STREAMREC_API_PORT" STREAMREC_API_PORT
  # The broker keeps records in memory: a new one starts an empty log, so what was derived
  # from the previous log (worker tables, the lake) starts over with it.
  rm -rf "$STREAMREC_DATA_DIR/worker" "$STREAMREC_DATA_DIR/lake"
  say "starting the embedded broker on ${STREAMREC_BROKER#kafka://} (log: $RUN/broker.log)"
  "$BIN/streamrec" broker --port "$BROKER_PORT" >"$RUN/broker.log" 2>&1 &
  echo $! >"$RUN/broker.pid"
  wait_broker

  say "starting a worker with the API on $API (log: $RUN/worker.log)"
  "$BIN/streamrec" worker >"$RUN/worker.log" 2>&1 &
  echo $! >"$RUN/worker.pid"
  wait_http "$API/health"

  say "fetching MovieLens 100K"
  "$BIN/streamrec" datasets fetch ml-100k
  data="$STREAMREC_DATA_DIR/datasets/ml-100k"

  say "publishing the catalog and the ratings"
  "$BIN/streamrec" publish "$data/items.parquet" --topic items
  "$BIN/streamrec" publish "$data/events.parquet" --topic events

  say "archiving the topics into the lake ($STREAMREC_DATA_DIR/lake)"
  "$BIN/streamrec" lake export

  say "training a model from the lake and activating it"
  "$BIN/streamrec" train | tee "$RUN/train.log"
  version="$(sed -n 's/^version \([^ ]*\) written.*/\1/p' "$RUN/train.log" | tail -n 1)"
  "$BIN/streamrec" models activate "$version"
  serving() { curl -fsS "$API/v1/models" 2>/dev/null | grep -q "\"active\":\"$version\""; }
  for _ in $(seq 1 60); do serving && break; sleep 1; done
  serving || { echo "the worker did not load $version; see $RUN/worker.log" >&2; return 1; }
  echo "the worker serves $version"

  say "running (ready in $((SECONDS - started)) s)"
  cat <<MSG
broker   ${STREAMREC_BROKER}   (pid $(cat "$RUN/broker.pid"), memory storage)
worker   $API   (pid $(cat "$RUN/worker.pid"), data in $STREAMREC_DATA_DIR)
console  $API/   (API docs: $API/docs)

Try:
  curl -s '$API/v1/recommendations?user_id=196&count=5' | python3 -m json.tool
  curl -s '$API/v1/users/196/history' | python3 -m json.tool
  curl -s '$API/v1/items/242/similar?count=5' | python3 -m json.tool
  curl -s -X POST $API/v1/events -H 'content-type: application/json' \\
       -d '{"user_id": "196", "item_id": "50", "type": "purchase", "timestamp": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}'
  curl -s $API/ready; curl -s $API/metrics | grep streamrec_ | head

Stop everything with: make stop
MSG
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
