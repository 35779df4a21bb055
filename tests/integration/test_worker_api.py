"""One worker against the real broker: the HTTP API reflects the tables the actors keep."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agents.runtime.tables import MEMTABLES_PER_DATABASE, MIB
from cli.embedded_broker import EmbeddedBroker
from streamrec.kafka import producer
from streamrec.settings import Settings
from tests.integration.events import wait_for
from tests.integration.topic_reader import read_topic
from tests.integration.workers import Worker, module_worker, post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with its own consumer group, shared by the tests of this module."""
    running = module_worker(broker.url, tmp_path_factory.mktemp("api"), "api")
    yield running
    running.stop()


def put(worker: Worker, path: str, body: Any) -> httpx.Response:
    """PUT JSON to the worker."""
    return httpx.put(worker.url + path, json=body, timeout=10)


def event(user: str, item: str, kind: str = "view", **extra: Any) -> dict[str, Any]:
    """One event happening now."""
    return {"user_id": user, "item_id": item, "type": kind, "timestamp": time.time(), **extra}


def history(worker: Worker, user: str) -> dict[str, Any] | None:
    """The user's history body, None while unknown."""
    response = worker.get(f"/v1/users/{user}/history")
    return response.json() if response.status_code == 200 else None


def item_signals(worker: Worker, item: str) -> dict[str, Any]:
    """The item's live signals, empty while unknown (its events may land in several batches)."""
    response = worker.get(f"/v1/items/{item}")
    return response.json()["signals"] if response.status_code == 200 else {}


def test_posted_events_reach_user_history_and_item_counters(worker: Worker) -> None:
    run = uuid.uuid4().hex[:8]
    user, item = f"{run}-u", f"{run}-i"
    body = {"events": [event(user, item, event_id=f"{run}-{n}") for n in range(3)]}
    assert post(worker, "/v1/events", body).json() == {"accepted": 3}
    assert post(worker, "/v1/events", body).status_code == 202  # a client retry
    assert wait_for(lambda: (history(worker, user) or {}).get("version") == 3, 20)
    assert wait_for(lambda: item_signals(worker, item).get("events_all") == 3, 20)
    signals = item_signals(worker, item)
    assert signals["events_all"] == 3
    assert signals["views_24h"] == 3


def test_catalog_upsert_and_delete_are_seen_by_the_worker(worker: Worker) -> None:
    item = f"{uuid.uuid4().hex[:8]}-heat"
    body = {"title": "Heat", "category": "Crime", "tags": ["Crime", "Drama"], "price": 9.5}
    assert put(worker, f"/v1/items/{item}", body).status_code == 202
    assert wait_for(lambda: worker.get(f"/v1/items/{item}").status_code == 200, 20)
    assert worker.get(f"/v1/items/{item}").json()["catalog"]["title"] == "Heat"
    assert httpx.delete(f"{worker.url}/v1/items/{item}", timeout=10).status_code == 202
    assert wait_for(lambda: worker.get(f"/v1/items/{item}").status_code == 404, 20)


def test_patch_changes_one_field_of_a_catalog_item_and_keeps_the_rest(worker: Worker) -> None:
    item = f"{uuid.uuid4().hex[:8]}-heat"
    body = {"title": "Heat", "category": "Crime", "tags": ["Crime"], "price": 9.5}
    assert put(worker, f"/v1/items/{item}", body).status_code == 202
    assert wait_for(lambda: worker.get(f"/v1/items/{item}").status_code == 200, 20)
    patched = httpx.patch(f"{worker.url}/v1/items/{item}", json={"in_stock": False}, timeout=10)
    assert patched.status_code == 202

    def catalog() -> dict[str, Any]:
        row: dict[str, Any] = worker.get(f"/v1/items/{item}").json()["catalog"]
        return row

    assert wait_for(lambda: catalog()["in_stock"] is False, 20)
    assert (catalog()["title"], catalog()["category"], catalog()["price"]) == ("Heat", "Crime", 9.5)


def test_opt_out_stops_storing_and_erase_deletes_the_user(worker: Worker) -> None:
    run = uuid.uuid4().hex[:8]
    quiet, gone = f"{run}-quiet", f"{run}-gone"
    post(worker, "/v1/events", {"events": [event(quiet, "i1"), event(gone, "i1")]})
    assert wait_for(lambda: history(worker, quiet) and history(worker, gone), 20)
    assert put(worker, f"/v1/users/{quiet}/consent", {"opted_out": True}).status_code == 202
    assert wait_for(lambda: (history(worker, quiet) or {}).get("opted_out") is True, 20)
    post(worker, "/v1/events", {"events": [event(quiet, "i2")]})
    assert httpx.delete(f"{worker.url}/v1/users/{gone}", timeout=10).status_code == 202
    assert wait_for(lambda: history(worker, gone) is None, 20)
    time.sleep(1.0)
    assert (history(worker, quiet) or {}).get("items") == []
    # An erased user who comes back starts from nothing, not from a state kept in memory.
    post(worker, "/v1/events", {"events": [event(gone, "i3")]})
    assert wait_for(lambda: history(worker, gone) is not None, 20)
    assert [entry["item_id"] for entry in (history(worker, gone) or {})["items"]] == ["i3"]


def _dead_letters(broker_url: str, marker: str) -> list[dict[str, Any]]:
    records = read_topic(broker_url, "dead-letters")
    return [json.loads(r.value) for r in records if marker.encode() in r.value]


async def _produce(url: str, records: list[tuple[bytes, bytes]]) -> None:
    async with producer(Settings(broker=url)) as out:
        for key, value in records:
            await (await out.send("events", key=key, value=value))


def test_poison_messages_go_to_dead_letters_and_the_worker_carries_on(
    worker: Worker, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex[:8]
    user = f"{run}-u"
    bad_type = json.dumps(event(user, "i1", "like")).encode()
    good = json.dumps(event(user, "i1")).encode()
    asyncio.run(
        _produce(
            broker.url,
            [
                (user.encode(), f"not json {run}".encode()),
                (user.encode(), bad_type),
                (user.encode(), good),
            ],
        )
    )
    assert wait_for(lambda: (history(worker, user) or {}).get("version") == 1, 20)
    letters = _dead_letters(broker.url, run)
    reasons = sorted(letter["reason"] for letter in letters)
    assert len(reasons) == 2
    assert reasons[1] == "type: must be one of view, click, add_to_cart, purchase, rating"
    assert all(letter["source_topic"] == "events" for letter in letters)


def test_a_purchase_removes_the_item_from_the_next_recommendations(worker: Worker) -> None:
    run = uuid.uuid4().hex[:8]
    items = [f"{run}-i{n}" for n in range(6)]
    post(
        worker,
        "/v1/items",
        {
            "items": [
                {"item_id": i, "title": f"Film {n}", "category": f"c{n % 3}"}
                for n, i in enumerate(items)
            ]
        },
    )
    crowd = [event(f"{run}-crowd{n}", i) for n in range(3) for i in items]
    post(worker, "/v1/events", {"events": crowd})
    user = f"{run}-buyer"

    def recommended() -> list[str]:
        body = worker.get("/v1/recommendations", user_id=user, count=20).json()
        return [entry["item_id"] for entry in body["items"]]

    assert wait_for(lambda: items[0] in recommended(), 20)
    assert post(worker, "/v1/events", event(user, items[0], "purchase")).status_code == 202
    assert items[0] not in recommended()  # the very next page, before the state folds it
    assert wait_for(lambda: (history(worker, user) or {}).get("counts", {}).get("purchase"), 20)
    assert items[0] not in recommended()  # and once the state holds it


def test_every_recommendation_has_a_reason_and_the_page_names_its_model(worker: Worker) -> None:
    body = worker.get("/v1/recommendations", user_id=f"{uuid.uuid4().hex}-new", count=5).json()
    assert body["model_version"] == "none"
    assert body["items"], "cold start answers from live counters"
    for entry in body["items"]:
        assert entry["reason"]["type"] and entry["reason"]["text"]


def test_worker_exposes_actor_metrics_and_table_sizes(worker: Worker) -> None:
    post(worker, "/v1/events", event(f"{uuid.uuid4().hex[:8]}-u", "i1"))

    def sized() -> bool:
        text = worker.get("/metrics").text
        found = re.search(r'^streamrec_table_keys\{table="user_state"\} (\S+)$', text, re.M)
        return found is not None and float(found.group(1)) > 0

    assert wait_for(sized, 40)
    text = worker.get("/metrics").text
    for name in (
        "streamrec_events_processed_total",
        "streamrec_dead_letters_total",
        "streamrec_event_apply_lag_seconds_bucket",
        "streamrec_consumer_lag{",
    ):
        assert name in text


def test_table_databases_open_with_the_configured_memory_limits(worker: Worker) -> None:
    options = sorted((worker.settings.data_dir / "worker").glob("**/user_state-*.db/OPTIONS-*"))
    assert options, "the worker opened no user_state database"
    text = options[-1].read_text()
    write_buffer = worker.settings.rocksdb_write_buffer_mb * MIB
    assert re.search(rf"^\s*write_buffer_size={write_buffer}$", text, re.M)
    assert re.search(rf"^\s*max_write_buffer_number={MEMTABLES_PER_DATABASE}$", text, re.M)
