#!/usr/bin/env bash
# The local demo: embedded broker, one worker with its API, MovieLens 100K published,
# a model trained and activated. `deploy/demo.sh stop` stops what it started.
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

stop() {
  for name in worker broker; do
    if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
      kill "$(cat "$RUN/$name.pid")" && echo "stopped $name (pid $(cat "$RUN/$name.pid"))"
    fi
    rm -f "$RUN/$name.pid"
  done
}

wait_http() {
  for _ in $(seq 1 120); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "no answer from $1; see $RUN/*.log" >&2
  return 1
}

start() {
  stop >/dev/null
  say "starting the embedded broker on ${STREAMREC_BROKER#kafka://} (log: $RUN/broker.log)"
  "$BIN/streamrec" broker --port "${STREAMREC_BROKER##*:}" >"$RUN/broker.log" 2>&1 &
  echo $! >"$RUN/broker.pid"
  for _ in $(seq 1 30); do grep -q "broker ready" "$RUN/broker.log" && break; sleep 0.5; done
  grep "broker ready" "$RUN/broker.log"

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

  say "training a model and activating it"
  "$BIN/streamrec" train --events "$data/events.parquet" --items "$data/items.parquet" \
    | tee "$RUN/train.log"
  version="$(sed -n 's/^version \([^ ]*\) written.*/\1/p' "$RUN/train.log" | tail -n 1)"
  "$BIN/streamrec" models activate "$version"
  serving() { curl -fsS "$API/v1/models" 2>/dev/null | grep -q "\"active\":\"$version\""; }
  for _ in $(seq 1 60); do serving && break; sleep 1; done
  serving || { echo "the worker did not load $version; see $RUN/worker.log" >&2; return 1; }
  echo "the worker serves $version"

  say "running"
  cat <<MSG
broker  ${STREAMREC_BROKER}   (pid $(cat "$RUN/broker.pid"), memory storage)
worker  $API   (pid $(cat "$RUN/worker.pid"), data in $STREAMREC_DATA_DIR)

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
