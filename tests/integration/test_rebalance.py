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
    mismatches,
    publish_in_background,
    wait_for,
)
from tests.integration.workers import Worker, start_worker

pytestmark = pytest.mark.integration


def metric(worker: Worker, name: str, labels: str = "") -> float:
    """Sum of a Prometheus counter over the series whose labels contain `labels`."""
    text = worker.get("/metrics").text
    series = re.findall(rf"^{name}(?:{{([^}}]*)}})? (\S+)$", text, re.M)
    return sum(float(value) for found, value in series if labels in found)


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
            assert wait_for(lambda w=worker: all_match(w, expected), 60), mismatches(
                worker, expected
            )
        # Item counters lose nothing across the move either: every signal reaches the item's
        # owner through item-signals (item states drop a repeated id).
        per_item = Counter(str(event["item_id"]) for event in events)
        assert wait_for(lambda: items_match((first, second), per_item), 60), second.tail()
        workers = (first, second)
        applied = sum(
            metric(w, "streamrec_events_processed_total", 'topic="events"') for w in workers
        )
        redelivered = sum(metric(w, "streamrec_duplicate_events_total") for w in workers)
        # At-least-once: a move may hand the next owner events the last one applied; its gate
        # drops them, so across the group each event is applied exactly once.
        assert applied == len(events), (applied, redelivered)
        # The commit before revoke (agents/runtime/patches/fixes.py) commits what was applied before
        # partitions move, so at most the events in flight during the move come again (0 to 30
        # seen here). Without it, two runs in four redelivered 499 and 918 events.
        assert redelivered < 150, redelivered
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
