"""Two workers share the partitions: a rebalance mid-stream counts nothing twice."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
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


def events_all(worker: Worker, item: str) -> int:
    """The item's all-time event count in the worker's local table (0 when it holds none)."""
    response = worker.get(f"/v1/items/{item}")
    return int(response.json()["signals"]["events_all"]) if response.status_code == 200 else 0


def items_match(workers: tuple[Worker, ...], expected: Counter[str]) -> bool:
    """Whether every item's owner counts exactly its events (a copy left behind by a move
    can only hold fewer)."""
    return all(max(events_all(w, item) for w in workers) == n for item, n in expected.items())


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
        # Item counters lose nothing across the move either: each worker folds the signals of
        # the item partitions it owns and forwards the rest (item states drop a repeated id).
        per_item = Counter(str(event["item_id"]) for event in events)
        assert wait_for(lambda: items_match((first, second), per_item), 60), second.tail()
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
