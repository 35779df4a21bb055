"""Phase (r) of the stream benchmark: the broker's own publish-to-fetch latency, without Faust.

A bare aiokafka consumer in its own process reads `events` while the bench publishes at the
freshness rate, with the worker's fetch wait. Its lag is the floor under (d): the embedded
broker's fetches slow down as a partition gains record batches, and no worker can apply an
event before its fetch returns it.

Child mode: python -m bench.stream.raw BOOTSTRAP FETCH_WAIT_MS SKIP_SECONDS
prints READY once assigned, then one JSON line of lags when stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from bench.common.stats import percentile
from streamrec.settings import Settings
from streamrec.topics import EVENTS

Publish = Callable[[Settings, float, float, int], Coroutine[Any, Any, int]]
WARM_S = 3.0


async def _consume(bootstrap: str, fetch_wait_ms: int, skip_s: float) -> list[float]:
    client = AIOKafkaConsumer(
        EVENTS,
        bootstrap_servers=bootstrap,
        group_id="bench-raw",
        fetch_max_wait_ms=fetch_wait_ms,
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await client.start()
    try:
        while not client.assignment():
            await client.getmany(timeout_ms=100)
        print("READY", flush=True)
        closed = asyncio.ensure_future(asyncio.to_thread(sys.stdin.read))
        lags: list[float] = []
        first: float | None = None
        while not closed.done():
            batch = await client.getmany(timeout_ms=100)
            now = time.time()
            for records in batch.values():
                for record in records:
                    stamp = float(orjson.loads(record.value)["timestamp"])
                    first = stamp if first is None else first
                    if stamp - first >= skip_s:
                        lags.append(now - stamp)
        return lags
    finally:
        await client.stop()


def phase_raw(
    settings: Settings, rate: float, seconds: float, publish: Publish
) -> dict[str, float]:
    """(r) a bare consumer's publish-to-fetch lag, same rate, warm-up and length as (d)."""
    command = [
        sys.executable,
        "-m",
        "bench.stream.raw",
        ",".join(settings.bootstrap_servers),
        str(settings.fetch_wait_ms),
        str(WARM_S),
    ]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "READY":
            raise RuntimeError(f"raw consumer exited with {child.wait()}")
        asyncio.run(publish(settings, rate, WARM_S, 5000))
        sent = asyncio.run(publish(settings, rate, seconds, 5000))
        time.sleep(1.0)
        child.stdin.close()
        lags = json.loads(child.stdout.readline())
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
    return {"p50": percentile(lags, 0.5), "p99": percentile(lags, 0.99), "events": float(sent)}


def main(argv: list[str]) -> int:
    """Child mode: consume until stdin closes, then print the lags as JSON."""
    bootstrap, fetch_wait_ms, skip_s = argv[0], int(argv[1]), float(argv[2])
    lags = asyncio.run(_consume(bootstrap, fetch_wait_ms, skip_s))
    print(json.dumps(lags), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
