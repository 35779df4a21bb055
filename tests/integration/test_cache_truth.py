"""Through a worker with Redis: a cached page never outlives an item change or an erasure."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from cli.embedded_broker import EmbeddedBroker
from tests.integration.events import wait_for
from tests.integration.test_worker_api import event
from tests.integration.workers import Worker, module_worker, post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with its own consumer group and the local Redis."""
    running = module_worker(broker.url, tmp_path_factory.mktemp("truth"), "truth")
    yield running
    running.stop()


def test_out_of_stock_and_erasure_beat_the_cache(worker: Worker) -> None:
    run = uuid.uuid4().hex[:8]
    items = [f"{run}-i{n}" for n in range(6)]
    rows = [
        {"item_id": i, "title": f"Film {n}", "category": f"c{n % 3}"} for n, i in enumerate(items)
    ]
    post(worker, "/v1/items", {"items": rows})
    post(
        worker, "/v1/events", {"events": [event(f"{run}-c{n}", i) for n in range(3) for i in items]}
    )
    user = f"{run}-fan"

    def page() -> dict[str, object]:
        answer: dict[str, object] = worker.get("/v1/recommendations", user_id=user, count=20).json()
        return answer

    def ids() -> list[str]:
        return [entry["item_id"] for entry in page()["items"]]  # type: ignore[union-attr]

    assert wait_for(lambda: items[0] in ids(), 20)
    assert items[0] in ids()  # served from the cache now
    patched = httpx.patch(f"{worker.url}/v1/items/{items[0]}", json={"in_stock": False}, timeout=10)
    assert patched.status_code == 202
    assert wait_for(
        lambda: worker.get(f"/v1/items/{items[0]}").json()["catalog"]["in_stock"] is False, 20
    )
    assert items[0] not in ids()  # the next page once the catalog holds it, not 30 s later

    post(worker, "/v1/events", event(user, items[1], "view"))
    assert wait_for(
        lambda: any(e["reason"]["anchor_item_id"] for e in page()["items"]),  # type: ignore[union-attr]
        20,
    )
    assert httpx.delete(f"{worker.url}/v1/users/{user}", timeout=10).status_code == 202
    erased = page()
    assert all(e["reason"]["anchor_item_id"] is None for e in erased["items"])  # type: ignore[union-attr]
    assert wait_for(lambda: worker.get(f"/v1/users/{user}/history").status_code == 404, 20)
    assert all(e["reason"]["anchor_item_id"] is None for e in page()["items"])  # type: ignore[union-attr]
