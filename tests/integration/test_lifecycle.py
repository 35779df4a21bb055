"""Experiments and model activation end to end, through a worker on the real broker."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cli.embedded_broker import EmbeddedBroker
from offline.params import TrainParams
from offline.synthetic import blocks
from offline.train import train_and_register
from tests.conftest import with_env
from tests.integration.events import wait_for
from tests.integration.workers import Worker, module_worker, post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with its own consumer group, shared by the tests of this module."""
    running = module_worker(broker.url, tmp_path_factory.mktemp("life"), "life")
    yield running
    running.stop()


def recommend(worker: Worker, user: str, count: int = 5) -> dict[str, Any]:
    """One recommendation page."""
    body: dict[str, Any] = worker.get("/v1/recommendations", user_id=user, count=count).json()
    return body


def test_experiment_variants_tally_impressions_clicks_and_users(worker: Worker) -> None:
    run = uuid.uuid4().hex[:8]
    post(
        worker,
        "/v1/items",
        {"items": [{"item_id": f"{run}-i{n}", "title": f"T{n}"} for n in range(8)]},
    )
    post(
        worker,
        "/v1/events",
        {
            "events": [
                {
                    "user_id": f"{run}-crowd",
                    "item_id": f"{run}-i{n}",
                    "type": "view",
                    "timestamp": time.time(),
                }
                for n in range(8)
            ]
        },
    )
    assert wait_for(lambda: bool(recommend(worker, f"{run}-probe")["items"]), 20)
    created = post(
        worker,
        "/v1/experiments",
        {"id": f"exp-{run}", "variants": [{"name": "control"}, {"name": "treatment"}]},
    )
    assert created.status_code == 201
    users = [f"{run}-user{n}" for n in range(10)]
    clicks = 0
    for user in users:
        page = recommend(worker, user)
        assert page["experiment"]["id"] == f"exp-{run}"
        if page["items"]:
            clicks += 1
            post(
                worker,
                "/v1/events",
                {
                    "user_id": user,
                    "item_id": page["items"][0]["item_id"],
                    "type": "click",
                    "timestamp": time.time(),
                    "context": {"request_id": page["request_id"]},
                },
            )

    def tallied() -> list[dict[str, Any]]:
        body = worker.get(f"/v1/experiments/exp-{run}/metrics").json()
        return list(body["variants"])

    assert wait_for(lambda: sum(v["clicks"] for v in tallied()) == clicks, 30)
    variants = tallied()
    assert sum(v["users"] for v in variants) == len(users)
    assert sum(v["requests"] for v in variants) == len(users)
    assert all(v["impressions"] >= v["clicks"] for v in variants)


def test_activating_a_trained_version_swaps_the_model_without_restart(worker: Worker) -> None:
    events, items = blocks(groups=2, users_per_group=20, items_per_group=15, seed=3)
    data = worker.settings.data_dir / "train"
    data.mkdir(parents=True, exist_ok=True)
    events.write_parquet(data / "events.parquet")
    items.write_parquet(data / "items.parquet")
    post(worker, "/v1/items", {"items": items.to_dicts()})
    params = TrainParams(factors=8, iterations=5, ranker=False)
    version, _ = train_and_register(
        data / "events.parquet",
        worker.settings.registry,
        params,
        items_path=data / "items.parquet",
        progress=False,
    )
    before = recommend(worker, "u0-1")["model_version"]
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "models", "activate", version],
        env=with_env(worker.settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert wait_for(lambda: recommend(worker, "u0-1")["model_version"] == version, 30)
    assert before != version
    page = recommend(worker, "u0-1", count=10)
    assert all(entry["reason"]["text"] for entry in page["items"])


def similar(worker: Worker, item_id: str) -> list[dict[str, Any]]:
    """The similar items of one item; none while the worker does not know the item yet (404)."""
    answer = worker.get(f"/v1/items/{item_id}/similar")
    if answer.status_code == 404:
        return []
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_an_item_put_after_training_gets_content_neighbours_within_the_refresh_period(
    worker: Worker,
) -> None:
    """Runs after the activation above: the active version has a text model."""
    twin = worker.get("/v1/items/g0-i3").json()["catalog"]
    assert twin is not None, "the catalog of the activation test"
    body = {key: twin[key] for key in ("title", "category", "tags")}
    answer = httpx.put(f"{worker.url}/v1/items/late-twin", json=body, timeout=10)
    assert answer.status_code == 202
    period = worker.settings.content_refresh_s
    assert wait_for(
        lambda: [i["item_id"] for i in similar(worker, "late-twin")[:1]] == ["g0-i3"], 2 * period
    ), worker.tail()
    first = similar(worker, "late-twin")[0]
    assert first["score"] == pytest.approx(1.0, abs=1e-5), "a learned content neighbour"
