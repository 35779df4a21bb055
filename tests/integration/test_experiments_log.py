"""Experiments through the log with three workers in one group: created on one, served by all,
metrics identical from each, lifecycle changes visible everywhere."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.embedded_broker import EmbeddedBroker
from offline.params import TrainParams
from offline.synthetic import blocks
from offline.train import train_and_register
from streamrec.kafka import producer
from streamrec.settings import Settings
from tests.integration.events import wait_for
from tests.integration.workers import Worker, module_settings, post, start_worker

pytestmark = pytest.mark.integration

EXPERIMENT = "ranking-log"
USERS = [f"u{group}-{n}" for group in range(2) for n in range(20)]


@pytest.fixture(scope="module")
def trained(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Settings of one consumer group with a trained version in its registry, and its items."""
    root = tmp_path_factory.mktemp("explog")
    settings = module_settings(broker.url, root, "explog")
    events, items = blocks(groups=2, users_per_group=20, items_per_group=15, seed=5)
    events.write_parquet(root / "events.parquet")
    items.write_parquet(root / "items.parquet")
    params = TrainParams(factors=8, iterations=5, ranker=False)
    version, _ = train_and_register(
        root / "events.parquet",
        settings.registry,
        params,
        items_path=root / "items.parquet",
        progress=False,
    )
    yield settings, root, version, items.to_dicts()


@pytest.fixture(scope="module")
def workers(trained: Any) -> Iterator[tuple[Worker, Worker, Worker]]:
    """Three workers of one group, each with its own data dir and port."""
    settings, root, version, items = trained
    started: list[Worker] = []
    try:
        for name in ("a", "b", "c"):
            started.append(start_worker(settings, root / name))
        for worker in started:
            worker.wait_ready()
        a, b, c = started
        assert wait_for(lambda: all(_owns_some(w) for w in started), 120), a.tail()
        post(a, "/v1/items", {"items": items})
        assert httpx.post(f"{a.url}/v1/models/{version}/activate", timeout=10).status_code == 202
        assert wait_for(lambda: all(_model(w) == version for w in started), 60), b.tail()
        yield a, b, c
    finally:
        for worker in started:
            worker.stop()


def _owns_some(worker: Worker) -> bool:
    listed = worker.get("/stats").json().get("workers", [])
    return len(listed) == 3 and all(w["partitions"] for w in listed)


def _model(worker: Worker) -> str:
    return str(worker.get("/v1/models").json()["active"])


def _page(worker: Worker, user: str) -> dict[str, Any]:
    answer = worker.get("/v1/recommendations", user_id=user, count=5)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _experiment(worker: Worker) -> dict[str, Any] | None:
    answer = worker.get(f"/v1/experiments/{EXPERIMENT}")
    return None if answer.status_code == 404 else dict(answer.json())


def _metrics(worker: Worker) -> dict[str, Any] | None:
    answer = worker.get(f"/v1/experiments/{EXPERIMENT}/metrics")
    return dict(answer.json()) if answer.status_code == 200 else None


def test_an_experiment_created_through_one_worker_is_served_by_the_others(
    workers: tuple[Worker, Worker, Worker],
) -> None:
    a, b, c = workers
    body = {
        "id": EXPERIMENT,
        "variants": [
            {"name": "control"},
            {"name": "explore", "config": {"exploration_slots": 3}},
        ],
    }
    created = post(a, "/v1/experiments", body)
    assert created.status_code == 201, created.text
    assert _experiment(a) is not None, "read-your-writes on the worker that took the write"
    assert wait_for(lambda: _experiment(b) is not None and _experiment(c) is not None, 10)
    served = {w.url: [_page(w, user)["experiment"] for user in USERS[:12]] for w in (b, c)}
    for pages in served.values():
        assert all(p is not None and p["id"] == EXPERIMENT for p in pages)
        assert {p["variant"] for p in pages} == {"control", "explore"}


def test_metrics_are_identical_from_every_worker_and_count_each_page_once(
    workers: tuple[Worker, Worker, Worker],
) -> None:
    a, b, c = workers
    run = uuid.uuid4().hex[:6]
    pages = [(_page(w, user), user) for w, user in zip((a, b, c) * 14, USERS, strict=False)]
    clicks = [
        {
            "event_id": f"{run}-click-{n}",
            "user_id": user,
            "item_id": page["items"][0]["item_id"],
            "type": "click",
            "context": {"request_id": page["request_id"]},
        }
        for n, (page, user) in enumerate(pages)
        if page["items"] and n % 3 == 0
    ]
    assert post(c, "/v1/events", {"events": clicks}).status_code == 202

    def settled() -> bool:
        found = [_metrics(w) for w in (a, b, c)]
        if any(m is None for m in found):
            return False
        first = found[0]
        assert first is not None
        return sum(v["clicks"] for v in first["variants"]) == len(clicks) and all(
            m == first for m in found
        )

    assert wait_for(settled, 60), json.dumps(_metrics(a), indent=1)
    before = _metrics(b)
    assert before is not None
    served = len({user for _, user in pages}) + 12  # this test's users and the first test's
    assert sum(v["requests"] for v in before["variants"]) == len(pages) + 24
    assert sum(v["users"] for v in before["variants"]) <= served
    # The same impressions and clicks delivered again count nothing (client retries, replays).
    replayed = _impressions_again(a.settings, [page for page, _ in pages[:5]])
    assert post(a, "/v1/events", {"events": clicks[:3]}).status_code == 202
    time.sleep(3)
    assert replayed == 5
    assert all(_metrics(w) == before for w in (a, b, c))
    control = before["variants"][0]
    assert control["ctr_ci"] is not None and "small_sample" in {
        n["code"] for n in before["notices"]
    }


def _impressions_again(settings: Settings, pages: list[dict[str, Any]]) -> int:
    """Publish impression records for pages already served, as a retried producer would."""

    async def send() -> int:
        async with producer(settings) as client:
            for page in pages:
                record = {
                    "request_id": page["request_id"],
                    "user_id": page["user_id"],
                    "items": [],
                    "model_version": page["model_version"],
                    "timestamp": time.time(),
                    "experiment_id": page["experiment"]["id"],
                    "variant": page["experiment"]["variant"],
                    "experiments": [
                        {
                            "experiment_id": page["experiment"]["id"],
                            "variant": page["experiment"]["variant"],
                            "run_id": _experiment_run(settings),
                            "layer": "default",
                        }
                    ],
                }
                key = page["user_id"].encode()
                await client.send_and_wait("impressions", json.dumps(record).encode(), key=key)
        return len(pages)

    return asyncio.run(send())


def _experiment_run(settings: Settings) -> str:
    url = f"http://127.0.0.1:{settings.api_port}/v1/experiments/{EXPERIMENT}"
    return str(httpx.get(url, timeout=10).json()["run_id"])


def test_stop_promote_and_delete_are_visible_on_every_worker(
    workers: tuple[Worker, Worker, Worker], tmp_path: Path
) -> None:
    a, b, c = workers
    every = (a, b, c)
    stopped = post(b, f"/v1/experiments/{EXPERIMENT}/stop", {})
    assert stopped.status_code == 200 and _experiment(b)["status"] == "stopped"  # type: ignore[index]
    assert wait_for(lambda: all(_experiment(w)["status"] == "stopped" for w in every), 10)  # type: ignore[index]
    assert all(_page(w, USERS[0])["experiment"] is None for w in every)
    promoted = post(a, f"/v1/experiments/{EXPERIMENT}/promote", {"variant": "explore"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["activation"]["config"] == {"exploration_slots": 3}
    assert promoted.json()["activation"]["applied"] is True
    assert a.get("/v1/models").json()["config"] == {"exploration_slots": 3}
    assert wait_for(lambda: all(_experiment(w)["status"] == "promoted" for w in every), 10)  # type: ignore[index]

    def defaults(worker: Worker) -> dict[str, Any]:
        return dict(worker.get("/v1/models").json()["config"])

    assert wait_for(lambda: all(defaults(w) == {"exploration_slots": 3} for w in every), 30)
    deleted = httpx.delete(f"{c.url}/v1/experiments/{EXPERIMENT}", timeout=10)
    assert deleted.status_code == 200 and _experiment(c) is None
    assert wait_for(lambda: all(_experiment(w) is None for w in every), 10)
    assert all(w.get(f"/v1/experiments/{EXPERIMENT}/metrics").status_code == 404 for w in every)
