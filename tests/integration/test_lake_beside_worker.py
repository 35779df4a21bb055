"""`streamrec lake export` run again and again beside a worker that applies and serves events."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest

from cli.embedded_broker import EmbeddedBroker
from tests.conftest import with_env
from tests.integration.workers import Worker, module_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUNS = 10
START = 1_700_000_000


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    running = module_worker(broker.url, tmp_path_factory.mktemp("lake-worker"), "lake")
    yield running
    running.stop()


def _event(n: int) -> dict[str, object]:
    return {
        "event_id": f"lw{n}",
        "user_id": f"u{n % 23}",
        "item_id": f"i{n % 31}",
        "type": "click",
        "timestamp": START + n,
    }


class Traffic:
    """Posts events in batches and asks for pages (impressions) until stopped."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.sent = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        """The traffic loop (bounded by the test's runs)."""
        with httpx.Client(base_url=self.worker.url, timeout=10) as client:
            while not self.stopped.is_set():
                batch = [_event(n) for n in range(self.sent, self.sent + 50)]
                if client.post("/v1/events", json={"events": batch}).status_code == 202:
                    self.sent += len(batch)
                client.get("/v1/recommendations", params={"user_id": f"u{self.sent % 23}"})
                time.sleep(0.05)


def _export(worker: Worker, lake: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "lake", "export", "--lake", str(lake)],
        env=with_env(worker.settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ten_exports_beside_a_busy_worker_all_succeed_and_keep_every_event_once(
    worker: Worker, tmp_path: Path
) -> None:
    traffic = Traffic(worker)
    traffic.thread.start()
    try:
        runs = [_export(worker, tmp_path) for _ in range(RUNS)]
    finally:
        traffic.stopped.set()
        traffic.thread.join(30)
    failed = [(run.returncode, run.stderr[-2000:]) for run in runs if run.returncode != 0]
    assert not failed, failed
    final = _export(worker, tmp_path)
    assert final.returncode == 0, final.stderr
    events = pl.read_parquet(sorted((tmp_path / "events").glob("part-*.parquet")))
    ids = events["event_id"].to_list()
    assert len(ids) == len(set(ids)) == traffic.sent
    assert len(list((tmp_path / "events").glob("part-*.parquet"))) <= 8 * 4  # compacted at 8
