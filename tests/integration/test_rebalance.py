"""Two workers share the partitions: a rebalance mid-stream counts nothing twice."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from streamrec.settings import Settings
from tests.integration.events import (
    all_match,
    expected_users,
    make_events,
    publish_in_background,
    wait_for,
)
from tests.integration.workers import Worker, start_worker

pytestmark = pytest.mark.integration
MAX_REDELIVERED = 10


def metric(worker: Worker, name: str) -> float:
    """Sum of a Prometheus counter over its labels, from the worker's /metrics."""
    text = worker.get("/metrics").text
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def test_a_second_worker_joining_mid_stream_counts_nothing_twice(
    settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    own = replace(settings, app_id=f"rebalance-{run}")
    events = make_events(run, 4000, users=40)
    first = start_worker(own, tmp_path / "a")
    first.wait_ready()
    second: Worker | None = None
    try:
        feeder = publish_in_background(own, events, rate=800)
        time.sleep(2.0)
        second = start_worker(own, tmp_path / "b")
        second.wait_ready()
        feeder.join(60)
        expected = expected_users(events)
        for worker in (first, second):
            assert wait_for(lambda w=worker: all_match(w, expected), 60), worker.tail()
        applied = sum(metric(w, "streamrec_events_processed_total") for w in (first, second))
        duplicates = sum(metric(w, "streamrec_duplicate_events_total") for w in (first, second))
        # The gate drops redelivered events, so state is exact either way; committing before
        # revoke keeps redelivery rare (seen here: 1 with the fix, 42 without).
        assert duplicates <= MAX_REDELIVERED
        assert applied >= len(events)
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
