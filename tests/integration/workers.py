"""Worker processes for integration tests: start, wait until serving, kill -9, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from cli.embedded_broker import free_port
from streamrec.settings import Settings
from tests.conftest import with_env


@dataclass
class Worker:
    """One `streamrec worker` child process with its own port and data dir."""

    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        """Base URL of the worker's API."""
        return f"http://127.0.0.1:{self.settings.api_port}"

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET one route of this worker."""
        return httpx.get(self.url + path, params=params, timeout=10)

    def wait_ready(self, timeout: float = 300.0) -> None:
        """Block until /ready answers 200, or fail with the worker's log tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.tail()}")
            try:
                if self.get("/ready").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()  # a worker that never got ready must not outlive the test that started it
        raise AssertionError(f"worker not ready after {timeout} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        """The end of the worker's log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """kill -9, no chance to flush or commit."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(settings: Settings, data_dir: Path, **overrides: Any) -> Worker:
    """Start a worker on a free port with its own data dir."""
    own = replace(settings, data_dir=data_dir, **{"api_port": free_port(), **overrides})
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"{data_dir.name}-{own.api_port}.log"  # a restart appends
    env = with_env(own)
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker", "-l", "info"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=os.getcwd(),
    )
    return Worker(own, process, log)


def module_settings(broker_url: str, root: Path, prefix: str) -> Settings:
    """Settings of a worker with its own consumer group and registry under `root`."""
    from tests.conftest import FORWARD_SECRET, TEST_PARTITIONS, redis_url

    return Settings(
        broker=broker_url,
        forward_secret=FORWARD_SECRET,
        partitions=TEST_PARTITIONS,
        redis_url=redis_url(),
        app_id=f"{prefix}-{os.urandom(4).hex()}",
        registry=root / "registry",
    )


def module_worker(broker_url: str, root: Path, prefix: str) -> Worker:
    """A ready worker with its own consumer group, registry and data dir under `root`."""
    running = start_worker(module_settings(broker_url, root, prefix), root / "data")
    running.wait_ready()
    return running


def post(worker: Worker, path: str, body: Any) -> httpx.Response:
    """POST JSON to the worker."""
    return httpx.post(worker.url + path, json=body, timeout=10)


def group_formed(workers: list[Worker]) -> bool:
    """Whether every worker's last assignment lists all of them, each holding partitions."""
    for worker in workers:
        listed = worker.get("/stats").json().get("workers", [])
        if len(listed) != len(workers) or not all(w["partitions"] for w in listed):
            return False
    return True


def train_blocks(root: Path, registry: Path, seed: int) -> tuple[str, list[dict[str, Any]]]:
    """A version trained on two blocks of 20 users and 15 items (no ranker), registered in
    `registry`; returns it with the catalog it was trained on."""
    from offline.params import TrainParams
    from offline.synthetic import blocks
    from offline.train import train_and_register

    events, items = blocks(groups=2, users_per_group=20, items_per_group=15, seed=seed)
    events.write_parquet(root / "events.parquet")
    items.write_parquet(root / "items.parquet")
    version, _ = train_and_register(
        root / "events.parquet",
        registry,
        TrainParams(factors=8, iterations=5, ranker=False),
        items_path=root / "items.parquet",
        progress=False,
    )
    return version, items.to_dicts()
