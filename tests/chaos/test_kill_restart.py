"""One worker killed with -9 at 5 random points while it applies 100,000 events, restarted each
time: every user and every item ends as a clean replay of the events has it (0 lost, 0 doubled).
"""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamrec.settings import Settings
from tests.integration import events as stream
from tests.integration.events import wait_for
from tests.integration.workers import Worker, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.chaos]
SEED = 4
"""Seeds the kill points: each life of the worker applies 2,000 to 12,000 events, then dies."""
EVENTS, USERS, ITEMS, KILLS = 100_000, 400, 250, 5
APPLIED = re.compile(r'^streamrec_events_processed_total\{topic="events",[^}]*\} (\S+)$', re.M)


def applied_this_life(worker: Worker) -> float:
    """Events the worker applied since it started (its own counter), 0 while it cannot say."""
    try:
        text = worker.get("/metrics").text
    except httpx.HTTPError:
        return 0.0
    return sum(float(found) for found in APPLIED.findall(text))


def expected_items(events: list[dict[str, Any]]) -> Counter[str]:
    """Events per item in a clean replay (every event id is distinct)."""
    return Counter(event["item_id"] for event in events)


def item_counts(worker: Worker, items: Counter[str]) -> dict[str, Any]:
    """The worker's events_all of each item (None while unknown)."""
    counts = {}
    for item in items:
        response = worker.get(f"/v1/items/{item}")
        signals = response.json().get("signals") if response.status_code == 200 else None
        counts[item] = (signals or {}).get("events_all")
    return counts


def kill_and_restart(worker: Worker, applied: int) -> Worker:
    """Wait until this life of the worker applied `applied` events, kill -9 it, restart it."""
    assert wait_for(lambda: applied_this_life(worker) >= applied, 120, 0.05), worker.tail()
    worker.kill()
    restarted = start_worker(worker.settings, worker.settings.data_dir)
    restarted.wait_ready()
    return restarted


def test_kill_9_at_random_points_loses_and_doubles_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    run, rng = uuid.uuid4().hex[:8], random.Random(SEED)
    events = stream.make_events(run, EVENTS, users=USERS, items=ITEMS)
    stream.publish(replace(settings, app_id=f"kill-{run}"), events)
    worker = start_worker(replace(settings, app_id=f"kill-{run}"), tmp_path / "worker")
    worker.wait_ready()
    try:
        for applied in [rng.randrange(2_000, 12_000) for _ in range(KILLS)]:
            worker = kill_and_restart(worker, applied)
        users, items = stream.expected_users(events), expected_items(events)
        assert wait_for(lambda: stream.all_match(worker, users), 120), stream.mismatches(
            worker, users
        )
        assert wait_for(lambda: item_counts(worker, items) == dict(items), 60), {
            item: (count, items[item])
            for item, count in item_counts(worker, items).items()
            if count != items[item]
        }
    finally:
        worker.stop()
