"""Every table can be rebuilt from the start of the log by a worker with a new consumer group."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from streamrec.settings import Settings
from tests.integration.events import all_match, expected_users, make_events, publish, wait_for
from tests.integration.workers import start_worker

pytestmark = pytest.mark.integration


def test_a_new_app_id_with_an_empty_data_dir_rebuilds_state_from_the_log(
    settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    events = make_events(run, 1500, users=15)
    publish(settings, events + events[:300])  # with client retries in the log
    expected = expected_users(events)
    first = start_worker(replace(settings, app_id=f"live-{run}"), tmp_path / "live")
    try:
        first.wait_ready()
        assert wait_for(lambda: all_match(first, expected), 60), first.tail()
    finally:
        first.stop()
    rebuilt = start_worker(replace(settings, app_id=f"rebuilt-{run}"), tmp_path / "rebuilt")
    try:
        rebuilt.wait_ready()
        assert wait_for(lambda: all_match(rebuilt, expected), 60), rebuilt.tail()
    finally:
        rebuilt.stop()
