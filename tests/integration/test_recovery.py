"""A worker killed with -9 mid-stream that also loses its RocksDB recovers every event."""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from streamrec.settings import Settings
from tables.user import UserState
from tests.integration.events import (
    all_match,
    expected_users,
    make_events,
    mismatches,
    publish,
    publish_in_background,
    wait_for,
)
from tests.integration.workers import Worker, start_worker

pytestmark = pytest.mark.integration
COMMIT_WAIT_S = 5.0  # longer than Faust's 2.8 s commit interval


def crash_and_recover(
    settings: Settings, tmp_path: Path, fixes: str
) -> tuple[Worker, dict[str, UserState]]:
    """Apply phase one, let it commit, kill -9 during phase two, delete RocksDB, restart."""
    run = uuid.uuid4().hex[:8]
    own = replace(settings, app_id=f"recovery-{run}", broker_fixes=fixes)
    events = make_events(run, 6000, users=40)
    first, second = events[:4000], events[4000:]
    data = tmp_path / "worker"
    worker = start_worker(own, data)
    worker.wait_ready()
    publish(own, first)
    assert wait_for(lambda: all_match(worker, expected_users(first)), 60), mismatches(
        worker, expected_users(first)
    )
    time.sleep(COMMIT_WAIT_S)
    feeder = publish_in_background(own, second, rate=1000)
    time.sleep(0.8)
    worker.kill()
    shutil.rmtree(data)
    worker = start_worker(own, data, api_port=worker.settings.api_port)
    worker.wait_ready()
    feeder.join(60)
    return worker, expected_users(events)


def test_kill_9_and_lost_rocksdb_recover_every_event(settings: Settings, tmp_path: Path) -> None:
    worker, expected = crash_and_recover(settings, tmp_path, "all")
    try:
        assert wait_for(lambda: all_match(worker, expected), 60), mismatches(worker, expected)
    finally:
        worker.stop()
