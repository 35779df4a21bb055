"""The running parts a benchmark starts: an embedded broker with streamrec's topics, and a
worker on its own broker for the benchmarks that drive a worker over HTTP."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from cli.embedded_broker import EmbeddedBroker, free_port, start_broker
from streamrec.settings import Settings
from streamrec.topics import ensure_topics
from tests.conftest import FORWARD_SECRET, redis_url
from tests.integration.workers import Worker, start_worker


@contextmanager
def broker_with_topics(
    settings: Settings | None = None, log_file: Path | None = None
) -> Iterator[tuple[EmbeddedBroker, Settings]]:
    """A fresh broker with streamrec's topics, and `settings` (default: the defaults) that
    reach it; the broker is stopped on exit."""
    broker = start_broker(log_file=log_file)
    try:
        own = replace(settings or Settings(), broker=broker.url)
        asyncio.run(ensure_topics(own))
        yield broker, own
    finally:
        broker.stop()


@contextmanager
def bench_worker(prefix: str) -> Iterator[Worker]:
    """A ready worker (8 partitions, the Redis of STREAMREC_REDIS_URL, rate limits out of the
    way) on a fresh broker; both are stopped on exit."""
    with bench_stack(prefix) as (_broker, worker):
        yield worker


@contextmanager
def bench_stack(prefix: str, **overrides: Any) -> Iterator[tuple[EmbeddedBroker, Worker]]:
    """A fresh broker and a ready worker on it, as `bench_worker`, with `overrides` of its
    settings; both are stopped on exit."""
    broker = start_broker()
    worker = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                broker=broker.url,
                partitions=8,
                redis_url=redis_url(),
                forward_secret=FORWARD_SECRET,
                app_id=f"{prefix}-{uuid.uuid4().hex[:6]}",
                api_port=free_port(),
                registry=Path(tmp) / "registry",
                rate_limit_burst=100_000,
                rate_limit_per_s=100_000.0,
            )
            worker = start_worker(replace(settings, **overrides), Path(tmp) / "worker")
            worker.wait_ready()
            yield broker, worker
    finally:
        if worker is not None:
            worker.stop()
        broker.stop()
