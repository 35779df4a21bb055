"""Every table can be rebuilt from the start of the log by a worker with a new consumer group."""

from __future__ import annotations

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
    wait_for,
)
from tests.integration.workers import start_worker

pytestmark = pytest.mark.integration


def assert_worker_holds(settings: Settings, data: Path, expected: dict[str, UserState]) -> None:
    """Start a worker with these settings, wait until every user matches, stop it."""
    worker = start_worker(settings, data)
    try:
        worker.wait_ready()
        assert wait_for(lambda: all_match(worker, expected), 60), mismatches(worker, expected)
    finally:
        worker.stop()


def test_a_new_app_id_with_an_empty_data_dir_rebuilds_state_from_the_log(
    settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    events = make_events(run, 1500, users=15)
    publish(settings, events + events[:300])  # with client retries in the log
    expected = expected_users(events)
    assert_worker_holds(replace(settings, app_id=f"live-{run}"), tmp_path / "live", expected)
    assert_worker_holds(replace(settings, app_id=f"rebuilt-{run}"), tmp_path / "rebuilt", expected)
