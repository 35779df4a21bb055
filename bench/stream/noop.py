"""Child process of `bench/stream/throughput.py`: a Faust agent that only counts `events`.

It runs with the worker's settings and batching (`agents.batching`) and the broker fixes that
STREAMREC_BROKER_FIXES names: all of them for (n), so the worker's rate divided by its rate is
the cost of the worker's own work; all but `direct_delivery` for (a), Faust's own delivery.
Run: python -m bench.stream.noop EXPECTED_EVENTS OUT_JSON
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import faust

from agents.runtime.batching import BatchWindow, take_batches
from agents.runtime.heap import settle
from agents.runtime.patches import fixes as workarounds
from streamrec.settings import Settings

BATCH = 1000


def run_noop_agent(expected: int, out: Path) -> None:
    """Child process: a Faust agent that only counts `events`, with the worker's settings."""
    settings = Settings.from_env()
    workarounds.apply(settings)
    # The same consumer and producer knobs as agents/app.py: create_app, without tables.
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        store="memory://",
        topic_partitions=settings.partitions,
        broker_session_timeout=2.0,
        broker_heartbeat_interval=0.3,
        broker_rebalance_timeout=2.0,
        broker_request_timeout=30.0,
        consumer_auto_offset_reset="earliest",
        producer_linger=0.005,
        stream_buffer_maxsize=8192,
        web_enabled=False,
        autodiscover=False,
    )
    topic = app.topic("events", key_type=str, value_serializer="raw")
    seen = {"count": 0, "first": 0.0, "first_batch": 0}

    @app.task  # type: ignore[untyped-decorator]
    async def settle_heap() -> None:
        settle()  # the worker's collector policy, applied as the worker applies it once up

    @app.agent(topic)
    async def do_nothing(stream: Any) -> None:
        async for batch in take_batches(stream, BATCH, BatchWindow()):
            if not seen["count"]:
                seen["first"], seen["first_batch"] = time.monotonic(), len(batch)
            seen["count"] += len(batch)
            if seen["count"] >= expected:
                elapsed = time.monotonic() - seen["first"]
                rate = (seen["count"] - seen["first_batch"]) / elapsed
                out.write_text(json.dumps({"events_per_s": rate, "seconds": elapsed}))
                os._exit(0)

    sys.argv = ["noop", "worker", "-l", "info", "--without-web"]
    app.main()


if __name__ == "__main__":
    run_noop_agent(int(sys.argv[1]), Path(sys.argv[2]))
